/**
 * Threshold notifications for real: a local SMTP server (smtp-server) receives the e-mails and a
 * local HTTP server the webhooks. A report that meets a study's rule sends exactly one e-mail and
 * one signed webhook (verified here with the study's secret), saying only who needs attention;
 * the same report checked again, or retried, sends nothing more; a webhook that fails is retried
 * with backoff (the server's clock is injected) and, after a restart, by the new process; a
 * researcher acknowledges the notification; every step is in the audit log. The webhook URL
 * checks, the signature check a receiver makes, the rules and the SMTP settings are tested on
 * their own. On SQLite and PostgreSQL.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server as HttpServer } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { BACKENDS, reportBody, restartHarness, setupStudy, startHarness } from './helpers.js';
import { buildServer } from '../../src/server/server.js';
import { checkWebhookTarget, isPublicAddress, signWebhook, verifyWebhook, webhookUrlProblem } from '../../src/server/services/webhook.js';
import { notifyOptionsFromEnv, type NotifyOptions } from '../../src/server/jobs/notify.js';
import { NotifyRulesSchema, reportRuleHits, alertRuleHits } from '../../src/data/notify.js';
import { StudyConfigSchema } from '../../src/data/study.js';
import { schemaIssues } from '../../src/util/schema-issues.js';

interface Mail { from: string; to: string[]; raw: string }
/** The body of a text/plain e-mail, quoted-printable decoded. */
const mailBody = (raw: string) => raw.slice(raw.indexOf('\r\n\r\n') + 4).replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))).replace(/\r\n/g, '\n');

interface Hook { headers: Record<string, string | string[] | undefined>; body: string }

describe('webhook signatures and addresses', () => {
  it('verifies a signature and refuses a changed body, another secret, an old or malformed header', () => {
    const now = Date.UTC(2026, 9, 25, 12);
    const body = '{"id":"n_1"}';
    const h = signWebhook('s3cret', body, now);
    expect(h).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook('s3cret', h, body, now + 10_000)).toMatchObject({ ok: true, t: Math.floor(now / 1000) });
    expect(verifyWebhook('s3cret', h, body + ' ', now)).toEqual({ ok: false, reason: 'signature does not match' });
    expect(verifyWebhook('other', h, body, now)).toEqual({ ok: false, reason: 'signature does not match' });
    expect(verifyWebhook('s3cret', h, body, now + 301_000)).toMatchObject({ ok: false, reason: expect.stringContaining('replay window') });
    expect(verifyWebhook('s3cret', 't=1,v1=zz', body, now)).toMatchObject({ ok: false, reason: expect.stringContaining('malformed') });
    expect(verifyWebhook('s3cret', undefined, body, now)).toMatchObject({ ok: false });
  });

  it('classifies addresses and refuses non-https, credentials and private targets', async () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a00:5', '::7f00:1', '::']) expect(isPublicAddress(ip), ip).toBe(false);
    for (const ip of ['93.184.216.34', '8.8.8.8', '::ffff:808:808', '2606:4700:4700::1111']) expect(isPublicAddress(ip), ip).toBe(true);
    expect(webhookUrlProblem('http://example.org/hook', false)).toBe('must be an https URL');
    expect(webhookUrlProblem('https://u:p@example.org/hook', false)).toMatch(/user name or password/);
    expect(webhookUrlProblem('https://127.0.0.1/hook', false)).toMatch(/loopback or private/);
    expect(webhookUrlProblem('https://[::1]/hook', false)).toMatch(/loopback or private/);
    expect(webhookUrlProblem('https://[::ffff:127.0.0.1]/hook', false)).toMatch(/loopback or private/); // the URL spells it ::ffff:7f00:1
    expect(webhookUrlProblem('https://2130706433/hook', false)).toMatch(/loopback or private/); // 127.0.0.1 as one number
    expect(webhookUrlProblem('https://localhost:8443/hook', false)).toMatch(/loopback or private/);
    expect(webhookUrlProblem('https://10.0.0.5/hook', false)).toMatch(/loopback or private/);
    expect(webhookUrlProblem('https://example.org/hook', false)).toBeNull();
    expect(webhookUrlProblem('http://127.0.0.1:9/hook', true)).toBeNull(); // the tests' allow setting
    // A name is resolved: localhost.localdomain-style names that resolve to loopback are refused too.
    expect(await checkWebhookTarget('https://localhost/hook', false)).toMatch(/loopback or private/);
  });
});

describe('notification rules and settings', () => {
  it('rules are strict, with did-you-mean keys, unique ids and bounds', () => {
    expect(NotifyRulesSchema.safeParse([{ id: 'a', when: { item: 'x', atLeast: 1 } }]).success).toBe(true);
    expect(NotifyRulesSchema.safeParse([{ id: 'a', when: { item: 'x' } }]).success).toBe(false); // no bound
    expect(NotifyRulesSchema.safeParse([{ id: 'a', when: { item: 'x', atleast: 1 } }]).success).toBe(false); // unknown key
    expect(NotifyRulesSchema.safeParse([{ id: 'a', when: { alert: true } }, { id: 'a', when: { alert: true } }]).success).toBe(false);
    expect(StudyConfigSchema.safeParse({ name: 's', notifications: [{ id: 'r', when: { item: 'x', atLeast: 1 }, channels: ['sms'] }] }).success).toBe(false);
    const rules = NotifyRulesSchema.parse([
      { id: 'hi', when: { item: 'sad', atLeast: 80 } }, { id: 'band', when: { item: 'sad', atLeast: 10, atMost: 20 } },
      { id: 'score', when: { instrument: 'phq9', atLeast: 20 }, channels: ['email'] }, { id: 'warn', when: { alert: true, items: ['gloomy'] } },
    ]);
    expect(rules[0].channels).toEqual(['email', 'webhook']);
    expect(reportRuleHits(rules, { sad: 80 }, {}).map((r) => r.id)).toEqual(['hi']);
    expect(reportRuleHits(rules, { sad: 79 }, {}).map((r) => r.id)).toEqual([]);
    expect(reportRuleHits(rules, { sad: 15 }, { phq9_total: 21 }).map((r) => r.id)).toEqual(['band', 'score']);
    expect(reportRuleHits(rules, {}, { phq9_total: 19 })).toEqual([]);
    // Rules name what the study has: items (an instrument's too), scored instruments and their subscales.
    const study = (notifications: unknown[]) => StudyConfigSchema.safeParse({ name: 's', items: [{ id: 'sad', min: 0, max: 100 }], instruments: [{ id: 'phq9', builtin: 'phq9' }], notifications });
    expect(study([{ id: 'a', when: { item: 'phq9_9', atLeast: 1 } }, { id: 'b', when: { instrument: 'phq9', atLeast: 20 } }, { id: 'c', when: { item: 'sad', atLeast: 90 } }]).success).toBe(true);
    const bad = study([{ id: 'a', when: { item: 'phq9_10', atLeast: 1 } }, { id: 'b', when: { instrument: 'gad7', atLeast: 10 } }, { id: 'c', when: { instrument: 'phq9', subscale: 'x', atLeast: 1 } }]);
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'notifications.0.when.item: "phq9_10" is not a numeric item of this study (e.g. sad, phq9_1, phq9_2, phq9_3, phq9_4)',
      'notifications.1.when.instrument: "gad7" is not a scored instrument of this study (scored: phq9)',
      'notifications.2.when.subscale: "x" is not a subscale of "phq9"',
    ]);
    // A cooldown: 0–720 hours, strict like the other fields (a misspelt key gets a did-you-mean).
    expect(NotifyRulesSchema.parse([{ id: 'a', when: { item: 'x', atLeast: 1 }, cooldownHours: 24 }])[0].cooldownHours).toBe(24);
    for (const h of [-1, 721, '24']) expect(NotifyRulesSchema.safeParse([{ id: 'a', when: { item: 'x', atLeast: 1 }, cooldownHours: h }]).success, String(h)).toBe(false);
    const typo = StudyConfigSchema.safeParse({ name: 's', items: [{ id: 'sad', min: 0, max: 100 }], notifications: [{ id: 'a', when: { item: 'sad', atLeast: 1 }, cooldownHour: 24 }] });
    expect(schemaIssues(StudyConfigSchema, typo.error!, 'study.json').map((i) => i.message)).toEqual(['unknown key "cooldownHour" at notifications.0 — did you mean "cooldownHours"?']);
    expect(alertRuleHits(rules, 'gloomy').map((r) => r.id)).toEqual(['warn']);
    expect(alertRuleHits(rules, 'happy')).toEqual([]);
  });

  it('SMTP settings come from the environment, checked, one line per mistake', () => {
    expect(notifyOptionsFromEnv({}).smtp).toBeNull();
    expect(notifyOptionsFromEnv({ MOODLENS_SMTP_URL: 'smtp://mail.example.org:587', MOODLENS_SMTP_FROM: 'Moodlens <m@example.org>' }).smtp)
      .toEqual({ url: 'smtp://mail.example.org:587', from: 'Moodlens <m@example.org>' });
    expect(() => notifyOptionsFromEnv({ MOODLENS_SMTP_URL: 'http://mail.example.org', MOODLENS_SMTP_FROM: 'm@example.org' })).toThrow(/^MOODLENS_SMTP_URL: expected smtp:\/\//);
    expect(() => notifyOptionsFromEnv({ MOODLENS_SMTP_URL: 'smtp://mail.example.org' })).toThrow(/^MOODLENS_SMTP_FROM: MOODLENS_SMTP_FROM is needed/);
    expect(() => notifyOptionsFromEnv({ MOODLENS_SMTP_URL: 'smtp://m', MOODLENS_SMTP_FROM: 'nobody' })).toThrow(/^MOODLENS_SMTP_FROM: expected an address/);
    expect(() => notifyOptionsFromEnv({ MOODLENS_NOTIFY_TICK_S: '-1' })).toThrow(/^MOODLENS_NOTIFY_TICK_S:/);
    expect(notifyOptionsFromEnv({ MOODLENS_NOTIFY_ALLOW_HTTP: '1', MOODLENS_NOTIFY_TICK_S: '5' })).toMatchObject({ allowHttp: true, tickMs: 5000 });
  });
});

describe.each(BACKENDS)('threshold notifications ($name)', ({ name, skip }) => {
  const mails: Mail[] = [];
  const hooks: Hook[] = [];
  let hookAnswer = 200;
  let smtp: SMTPServer, hook: HttpServer, smtpPort = 0, hookUrl = '';

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => { mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') }); cb(); });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    smtpPort = (smtp.server.address() as { port: number }).port;
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => { hooks.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }); res.writeHead(hookAnswer).end(); });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/moodlens`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => smtp.close(() => r()));
    await new Promise((r) => hook.close(r));
  });

  it.skipIf(skip)('a rule met sends one e-mail and one signed webhook, once; failures are retried with backoff and after a restart; acknowledged and audited', async () => {
    mails.length = 0; hooks.length = 0; hookAnswer = 200;
    let clock = Date.now();
    const notify: Partial<NotifyOptions> = { smtp: { url: `smtp://127.0.0.1:${smtpPort}`, from: 'Moodlens <moodlens@example.org>' }, allowHttp: true, tickMs: 0, backoffMs: 60_000, maxAttempts: 3 };
    let h = await startHarness(name, { now: () => clock, notify, publicUrl: 'https://moodlens.example.org' });
    try {
      const config = { name: 'Mood study', timezone: 'Europe/Berlin', notifications: [{ id: 'depressed-high', when: { item: 'depressed', atLeast: 90 } }] };
      const s = await setupStudy(h, config);
      const url = `/studies/${s.studyId}`;
      // Only an owner sets the channels; the URL is checked (no http without the allow setting: see above).
      const set = await h.req('PUT', `${url}/notify-settings`, { token: s.researcher, body: { email: true, webhookUrl: hookUrl } });
      expect(set.status, set.body).toBe(200);
      const secret: string = set.json.webhookSecret;
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await h.req('GET', `${url}/notify-settings`, { token: s.researcher })).json).toMatchObject({ email: true, webhookUrl: hookUrl, webhookSecretSet: true, smtpConfigured: true });
      expect((await h.req('GET', `${url}/notify-settings`, { token: s.researcher })).json.webhookSecret).toBeUndefined();
      expect((await h.req('PUT', `${url}/notify-settings`, { token: s.researcher, body: { email: true, webhookUrl: 'ftp://example.org/x' } })).status).toBe(400);
      expect((await h.req('PUT', `${url}/notify-settings`, { token: s.researcher, body: { email: true, webhookUrl: hookUrl, extra: 1 } })).status).toBe(400);

      const p = await s.enrol('P1');
      const at = (ms: number) => new Date(ms).toISOString();
      // Below the line: nothing.
      expect((await h.req('POST', '/me/reports', { token: p, body: reportBody('r-low', at(clock), 50) })).status).toBe(201);
      await h.server.notify.idle();
      expect(mails.length + hooks.length).toBe(0);
      // Over the line: one e-mail, one webhook.
      const high = reportBody('r-high', at(clock), 95);
      expect((await h.req('POST', '/me/reports', { token: p, body: high })).status).toBe(201);
      await h.server.monitor.idle();
      await h.server.notify.idle();
      expect(mails).toHaveLength(1);
      expect(hooks).toHaveLength(1);
      const mail = mails[0];
      expect(mail.to).toEqual([s.researcherEmail]);
      expect(mail.raw).toMatch(/Message-ID: <n_[^@]+@moodlens>/i);
      expect(mail.raw).toContain('Subject: Moodlens: participant P1 needs attention (Mood study)');
      // The whole text: who, which study, a link — no item, answer or rule.
      expect(mailBody(mail.raw).replace(/#study=[^&]+&notification=\S+/, '#LINK').trim())
        .toBe('Participant P1 needs attention in study "Mood study".\n\nOpen the dashboard to see and acknowledge it: https://moodlens.example.org/dashboard/#LINK');
      const wh = hooks[0];
      expect(verifyWebhook(secret, String(wh.headers['moodlens-signature']), wh.body, Date.now())).toMatchObject({ ok: true });
      expect(verifyWebhook('wrong', String(wh.headers['moodlens-signature']), wh.body, Date.now()).ok).toBe(false);
      const body = JSON.parse(wh.body);
      expect(body).toMatchObject({ type: 'participant.attention', participant: 'P1', study: { id: s.studyId, name: 'Mood study' } });
      expect(wh.headers['moodlens-notification-id']).toBe(body.id);
      expect(Object.keys(body).sort()).toEqual(['createdAt', 'id', 'participant', 'study', 'text', 'type', 'url']);
      expect(body.text).toBe('Participant P1 needs attention in study "Mood study".');

      // The same report again (a retry of the upload), and the same check run again: nothing more.
      expect((await h.req('POST', '/me/reports', { token: p, body: high })).status).toBe(200);
      const stored = (await h.server.store.reportsOf((await h.server.store.participant(s.studyId, 'P1'))!.id)).find((r) => r.client_id === 'r-high')!;
      expect(await h.server.notify.checkReport(stored.id)).toBe(0);
      await h.server.notify.tick();
      await h.server.notify.idle();
      expect(mails).toHaveLength(1);
      expect(hooks).toHaveLength(1);

      let list = await h.req('GET', `${url}/notifications`, { token: s.researcher });
      expect(list.json).toHaveLength(1);
      expect(list.json[0]).toMatchObject({ participantId: 'P1', rule: 'depressed-high', source: 'report', acknowledgedAt: null });
      expect(list.json[0].deliveries.map((d: any) => [d.channel, d.status, d.attempts])).toEqual([['email', 'sent', 1], ['webhook', 'sent', 1]]);

      // A webhook that fails is retried with backoff: not before its time, then once it is due.
      hookAnswer = 500;
      expect((await h.req('POST', '/me/reports', { token: p, body: reportBody('r-high-2', at(clock + 1000), 99) })).status).toBe(201);
      await h.server.monitor.idle();
      await h.server.notify.idle();
      expect(mails).toHaveLength(2);
      expect(hooks).toHaveLength(2);
      list = await h.req('GET', `${url}/notifications`, { token: s.researcher });
      const second = list.json.find((n: any) => n.id !== body.id);
      const wd = second.deliveries.find((d: any) => d.channel === 'webhook');
      expect(wd).toMatchObject({ status: 'pending', attempts: 1, lastError: 'webhook answered HTTP 500' });
      expect(Date.parse(wd.nextTryAt) - clock).toBeGreaterThanOrEqual(60_000);
      clock += 30_000;
      expect(await h.server.notify.tick()).toMatchObject({ claimed: 0 });
      expect(hooks).toHaveLength(2);
      clock += 31_000;
      expect(await h.server.notify.tick()).toMatchObject({ claimed: 1, retrying: 1 }); // second try, still 500: next in 2 min
      expect(hooks).toHaveLength(3);
      expect(hooks[2].headers['moodlens-notification-id']).toBe(second.id); // the same id on every try

      // Restart: the new process finds the delivery due and sends it.
      hookAnswer = 200;
      clock += 121_000;
      h = await restartHarness(h, { now: () => clock, notify, publicUrl: 'https://moodlens.example.org' });
      await new Promise((r) => setImmediate(r));
      await h.server.notify.idle();
      expect(hooks).toHaveLength(4);
      expect(hooks[3].headers['moodlens-notification-id']).toBe(second.id);
      expect(mails).toHaveLength(2); // the e-mail had gone out: not again
      list = await h.req('GET', `${url}/notifications`, { token: s.researcher });
      expect(list.json.find((n: any) => n.id === second.id).deliveries.find((d: any) => d.channel === 'webhook')).toMatchObject({ status: 'sent', attempts: 3 });

      // Acknowledged in the dashboard (a viewer may not); once.
      const ack = await h.req('POST', `${url}/notifications/${body.id}/ack`, { token: s.researcher });
      expect(ack.status, ack.body).toBe(200);
      expect(ack.json.acknowledgedAt).not.toBeNull();
      expect((await h.req('POST', `${url}/notifications/n_nope/ack`, { token: s.researcher })).status).toBe(404);
      expect((await h.req('GET', `${url}/notifications`, { token: s.researcher })).json.map((n: any) => n.id)).toEqual([second.id]);
      expect((await h.req('GET', `${url}/notifications?status=all`, { token: s.researcher })).json).toHaveLength(2);

      // Audited: made, each try, the acknowledgement, the settings.
      const audit = (await h.server.store.auditLog(s.studyId, 1000)).filter((a) => a.resource === 'notification').map((a) => a.detail ?? '');
      expect(audit.filter((d) => /^rule depressed-high met by report:/.test(d))).toHaveLength(2);
      expect(audit.filter((d) => d.includes('webhook try') && d.includes('failed'))).toHaveLength(2);
      expect(audit.filter((d) => d.includes('webhook sent'))).toHaveLength(2);
      expect(audit.filter((d) => d.startsWith('acknowledged '))).toHaveLength(1);
      expect((await h.server.store.auditLog(s.studyId, 1000, { resource: 'notify-settings' }))).toHaveLength(1);

      // A channel that cannot work is given up at once, with the reason.
      const off = await h.req('PUT', `${url}/notify-settings`, { token: s.researcher, body: { email: false, webhookUrl: null } });
      expect(off.json).toMatchObject({ email: false, webhookUrl: null, webhookSecretSet: false });
      expect((await h.req('POST', '/me/reports', { token: p, body: reportBody('r-high-3', at(clock), 100) })).status).toBe(201);
      await h.server.monitor.idle();
      await h.server.notify.idle();
      expect(mails).toHaveLength(2);
      expect(hooks).toHaveLength(4);
      const third = (await h.req('GET', `${url}/notifications`, { token: s.researcher })).json.find((n: any) => n.id !== second.id);
      expect(third.deliveries.map((d: any) => [d.channel, d.status, d.lastError])).toEqual([['email', 'failed', 'e-mail is switched off for this study'], ['webhook', 'failed', 'no webhook set for this study']]);

      // Withdrawal takes the notifications with the participant's data.
      const w = await h.req('DELETE', '/me', { token: p });
      expect(w.status, w.body).toBe(200);
      expect(w.json.notifications).toBe(3);
      expect((await h.req('GET', `${url}/notifications?status=all`, { token: s.researcher })).json).toHaveLength(0);
    } finally {
      await h.close();
    }
  });

  it.skipIf(skip)('a rule with a cooldown: matches within it while unacknowledged are recorded and audited but not sent; acknowledging ends it', async () => {
    mails.length = 0; hooks.length = 0; hookAnswer = 200;
    let clock = Date.now();
    const notify: Partial<NotifyOptions> = { smtp: { url: `smtp://127.0.0.1:${smtpPort}`, from: 'Moodlens <moodlens@example.org>' }, allowHttp: true, tickMs: 0 };
    const h = await startHarness(name, { now: () => clock, notify, publicUrl: 'https://moodlens.example.org' });
    try {
      const config = { name: 'Cooldown study', timezone: 'Europe/Berlin', notifications: [{ id: 'high', when: { item: 'depressed', atLeast: 90 }, cooldownHours: 24 }] };
      const s = await setupStudy(h, config);
      const url = `/studies/${s.studyId}`;
      expect((await h.req('PUT', `${url}/notify-settings`, { token: s.researcher, body: { email: true, webhookUrl: hookUrl } })).status).toBe(200);
      const p = await s.enrol('P1');
      const at = (ms: number) => new Date(ms).toISOString();
      const send = async (id: string, value: number) => {
        expect((await h.req('POST', '/me/reports', { token: p, body: reportBody(id, at(clock), value) })).status).toBe(201);
        await h.server.monitor.idle();
        await h.server.notify.idle();
      };
      // Three matching reports within the cooldown: one e-mail, one webhook.
      await send('c-1', 95);
      clock += 3_600_000; await send('c-2', 96);
      clock += 3_600_000; await send('c-3', 97);
      expect(mails).toHaveLength(1);
      expect(hooks).toHaveLength(1);
      let list = await h.req('GET', `${url}/notifications?status=all`, { token: s.researcher });
      expect(list.json).toHaveLength(1);
      const first = list.json[0];
      expect(first).toMatchObject({ rule: 'high', alsoMatched: 2, lastMatchedAt: at(clock), acknowledgedAt: null });
      expect(first.deliveries.map((d: any) => [d.channel, d.status])).toEqual([['email', 'sent'], ['webhook', 'sent']]);
      // Each match is audited; the folded ones say they were not sent.
      let audit = (await h.server.store.auditLog(s.studyId, 1000)).filter((a) => a.resource === 'notification').map((a) => a.detail ?? '');
      expect(audit.filter((d) => /^rule high met by report:/.test(d))).toHaveLength(3);
      expect(audit.filter((d) => d.includes(`within the rule's cooldown of ${first.id}: not sent`))).toHaveLength(2);
      // The same report checked again: still one match each (the claim).
      const stored = (await h.server.store.reportsOf((await h.server.store.participant(s.studyId, 'P1'))!.id)).find((r) => r.client_id === 'c-3')!;
      expect(await h.server.notify.checkReport(stored.id)).toBe(0);

      // Acknowledging ends the cooldown: the next match is sent.
      expect((await h.req('POST', `${url}/notifications/${first.id}/ack`, { token: s.researcher })).status).toBe(200);
      clock += 3_600_000; await send('c-4', 98);
      expect(mails).toHaveLength(2);
      expect(hooks).toHaveLength(2);
      expect(mailBody(mails[1].raw)).toContain('Participant P1 needs attention in study "Cooldown study".');
      expect(mails[1].raw).not.toMatch(/depressed|98|high/);
      list = await h.req('GET', `${url}/notifications?status=all`, { token: s.researcher });
      expect(list.json.map((n: any) => [n.alsoMatched, n.acknowledgedAt === null])).toEqual([[0, true], [2, false]]);

      // Past the cooldown (unacknowledged for 25 h): sent again.
      clock += 25 * 3_600_000; await send('c-5', 99);
      expect(mails).toHaveLength(3);
      expect(hooks).toHaveLength(3);
      audit = (await h.server.store.auditLog(s.studyId, 1000)).filter((a) => a.resource === 'notification').map((a) => a.detail ?? '');
      expect(audit.filter((d) => /^rule high met by report:/.test(d))).toHaveLength(5);
      // Withdrawal takes the folded matches too.
      expect((await h.req('DELETE', '/me', { token: p })).json.notifications).toBe(5);
    } finally {
      await h.close();
    }
  });

  it.skipIf(skip)('two server processes on one database: a due retry is sent by one of them, once', async () => {
    hooks.length = 0; hookAnswer = 500;
    let clock = Date.now();
    const notify: Partial<NotifyOptions> = { smtp: null, allowHttp: true, tickMs: 0, backoffMs: 60_000 };
    const h = await startHarness(name, { now: () => clock, notify });
    // A second server on the same database and data folder (its own delivery passes).
    const other = await buildServer({ db: h.backend.url, dataDir: h.backend.dataDir, now: () => clock, notify, keyLog: () => {}, authRateLimit: 1000 });
    try {
      const s = await setupStudy(h, { name: 'Two', timezone: 'UTC', notifications: [{ id: 'hi', when: { item: 'depressed', atLeast: 90 }, channels: ['webhook'] }] });
      expect((await h.req('PUT', `/studies/${s.studyId}/notify-settings`, { token: s.researcher, body: { email: false, webhookUrl: hookUrl } })).status).toBe(200);
      const p = await s.enrol('P1');
      expect((await h.req('POST', '/me/reports', { token: p, body: reportBody('r1', new Date(clock).toISOString(), 95) })).status).toBe(201);
      await h.server.monitor.idle(); await h.server.notify.idle(); await other.notify.idle();
      expect(hooks).toHaveLength(1); // first try, answered 500
      hookAnswer = 200;
      clock += 61_000;
      // Both passes at once, several times: the claim lets one sender take the delivery.
      const passes = await Promise.all([h.server.notify.tick(), other.notify.tick(), h.server.notify.tick(), other.notify.tick()]);
      expect(passes.reduce((n, r) => n + r.claimed, 0)).toBe(1);
      expect(passes.reduce((n, r) => n + r.sent, 0)).toBe(1);
      expect(hooks).toHaveLength(2);
      expect(new Set(hooks.map((x) => x.headers['moodlens-notification-id'])).size).toBe(1);
      clock += 3_600_000;
      expect((await other.notify.tick()).claimed).toBe(0); // sent: nothing more, ever
      expect(hooks).toHaveLength(2);
    } finally {
      await other.close();
      await h.close();
    }
  });

  it.skipIf(skip)('a check a crash interrupted (the report stored, its job lost) is made at the next start, once', async () => {
    hooks.length = 0; hookAnswer = 200;
    const notify: Partial<NotifyOptions> = { smtp: null, allowHttp: true, tickMs: 0 };
    let h = await startHarness(name, { notify });
    try {
      const s = await setupStudy(h, { name: 'Crash', timezone: 'UTC', notifications: [{ id: 'hi', when: { item: 'depressed', atLeast: 90 }, channels: ['webhook'] }] });
      expect((await h.req('PUT', `/studies/${s.studyId}/notify-settings`, { token: s.researcher, body: { email: false, webhookUrl: hookUrl } })).status).toBe(200);
      await s.enrol('P1');
      const p = (await h.server.store.participant(s.studyId, 'P1'))!;
      // Stored as the route stores it, but the process "died" before the follow-up job ran.
      const now = Date.now();
      await h.server.store.insertReport({
        id: 'r_crash', study_id: s.studyId, participant_id: p.id, client_id: 'c1', time: new Date(now).toISOString(), time_ms: now, server_ms: now,
        trigger: 'voluntary', answers: { depressed: 97 }, item_order: ['depressed'], prompt_time: null, late: false,
      });
      await h.server.notify.idle();
      expect(hooks).toHaveLength(0);
      h = await restartHarness(h, { notify });
      await new Promise((r) => setImmediate(r));
      await h.server.notify.idle();
      expect(hooks).toHaveLength(1);
      expect((await h.server.store.auditLog(s.studyId, 100, { resource: 'notification' })).some((a) => a.detail?.startsWith('rule hi met by report:r_crash'))).toBe(true);
      h = await restartHarness(h, { notify });
      await new Promise((r) => setImmediate(r));
      await h.server.notify.idle();
      expect(hooks).toHaveLength(1); // made once: not again at the next start
    } finally {
      await h.close();
    }
  });

  it.skipIf(skip)('a new early-warning alert episode meets an alert rule: one webhook, not again when the alerts are evaluated again', async () => {
    hooks.length = 0; hookAnswer = 200;
    let clock = Date.now() - 10 * 3_600_000;
    const h = await startHarness(name, { now: () => clock, notify: { smtp: null, allowHttp: true, tickMs: 0 } });
    try {
      const config = { name: 'Alert study', timezone: 'UTC', notifications: [{ id: 'low-mood', when: { alert: true, items: ['depressed'] }, channels: ['webhook'] }] };
      const s = await setupStudy(h, config, { alerts: { items: ['depressed'], baselineReports: 3, minReports: 1, minDurationHours: 0, sources: ['reported'] } });
      expect((await h.req('PUT', `/studies/${s.studyId}/notify-settings`, { token: s.researcher, body: { email: false, webhookUrl: hookUrl } })).status).toBe(200);
      const p = await s.enrol('P1');
      for (const [k, v] of [10, 12, 11, 95].entries()) {
        clock += 3_600_000;
        expect((await h.req('POST', '/me/reports', { token: p, body: reportBody(`r${k}`, new Date(clock).toISOString(), v) })).status).toBe(201);
        await h.server.monitor.idle();
      }
      await h.server.notify.idle();
      const alerts = (await h.req('GET', `/studies/${s.studyId}/alerts`, { token: s.researcher })).json;
      expect(alerts.map((a: any) => a.item)).toEqual(['depressed']);
      expect(hooks).toHaveLength(1);
      const list = (await h.req('GET', `/studies/${s.studyId}/notifications`, { token: s.researcher })).json;
      expect(list.map((n: any) => [n.rule, n.source, n.deliveries.map((d: any) => `${d.channel}:${d.status}`)])).toEqual([['low-mood', 'alert', ['webhook:sent']]]);
      // Evaluated again (the same episode): no new notification.
      expect((await h.req('POST', `/studies/${s.studyId}/participants/P1/alerts/evaluate`, { token: s.researcher })).json.created).toBe(0);
      await h.server.notify.idle();
      expect(hooks).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it.skipIf(skip)('refuses a private webhook address without the allow setting, and says when no SMTP server is configured', async () => {
    const h = await startHarness(name, { notify: { smtp: null, allowHttp: false, tickMs: 0 } });
    try {
      const s = await setupStudy(h);
      const put = (webhookUrl: string | null, token = s.researcher) => h.req('PUT', `/studies/${s.studyId}/notify-settings`, { token, body: { email: true, webhookUrl } });
      expect((await put(hookUrl)).json.message).toMatch(/must be an https URL/);
      expect((await put('https://127.0.0.1/hook')).json.message).toMatch(/loopback or private/);
      expect((await put('https://192.168.0.10/hook')).json.message).toMatch(/loopback or private/);
      expect((await h.req('GET', `/studies/${s.studyId}/notify-settings`, { token: s.researcher })).json).toMatchObject({ smtpConfigured: false, webhookUrl: null });
    } finally {
      await h.close();
    }
  });
});
