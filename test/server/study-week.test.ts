/**
 * The study-design issue's week, through the server's API on a clock the test moves (the same
 * study runs in Chromium in test/web/study-week-e2e.test.ts): two slider items at random times in
 * two daily windows with a 90-minute expiry, a weekly PHQ-9 and GAD-7, Europe/Berlin across the
 * end of summer time. Every prompt appears at its time and expires on time; answers are scored as
 * worked out by hand; the prompt log, prompts.csv and describe show every prompt's fate; a PHQ-9
 * item 9 answer of 2 sends exactly one e-mail to a local SMTP server and one signed webhook call,
 * and nothing else in the week sends any. On SQLite and PostgreSQL.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server as HttpServer } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { DateTime } from 'luxon';
import { BACKENDS, downloadExport, exportAndWait, setupStudy, startHarness } from './helpers.js';
import { verifyWebhook } from '../../src/server/services/webhook.js';
import { studyPromptsBetween, type Prompt } from '../../src/data/schedule.js';
import { loadStudy } from '../../src/data/load.js';
import { describeStudy } from '../../src/data/describe.js';
import {
  GAD7_DAY0, GAD7_DAY0_BAND, GAD7_DAY0_TOTAL, PHQ9_DAY0, PHQ9_DAY0_BAND, PHQ9_DAY0_TOTAL, PHQ9_DAY7, PHQ9_DAY7_TOTAL,
  WEEK_CONFIG, WEEK_START, WINDOWS, sliderPlan,
} from '../support/study-week.js';

const MIN = 60_000;

describe.each(BACKENDS)('a simulated week of the study design ($name)', ({ name, skip }) => {
  const mails: string[] = [];
  const hooks: { signature: string; id: string; body: string }[] = [];
  let smtp: SMTPServer, hook: HttpServer, smtpPort = 0, hookUrl = '';
  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
      onData(stream, _session, cb) { const c: Buffer[] = []; stream.on('data', (b: Buffer) => c.push(b)); stream.on('end', () => { mails.push(Buffer.concat(c).toString('utf8')); cb(); }); },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    smtpPort = (smtp.server.address() as { port: number }).port;
    hook = createServer((req, res) => {
      const c: Buffer[] = [];
      req.on('data', (b) => c.push(b));
      req.on('end', () => { hooks.push({ signature: String(req.headers['moodlens-signature']), id: String(req.headers['moodlens-notification-id']), body: Buffer.concat(c).toString('utf8') }); res.writeHead(204).end(); });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => smtp.close(() => r()));
    await new Promise((r) => hook.close(r));
  });

  it.skipIf(skip)('prompts appear and expire on time across the DST change; answers scored; every fate logged and exported; one e-mail and one webhook for PHQ-9 item 9', async () => {
    mails.length = 0; hooks.length = 0;
    let clock = Date.parse(WEEK_START);
    const h = await startHarness(name, {
      now: () => clock, publicUrl: 'https://moodlens.example.org',
      notify: { smtp: { url: `smtp://127.0.0.1:${smtpPort}`, from: 'Moodlens <moodlens@example.org>' }, allowHttp: true, tickMs: 0 },
    });
    try {
      const s = await setupStudy(h, WEEK_CONFIG);
      const settings = await h.req('PUT', `/studies/${s.studyId}/notify-settings`, { token: s.researcher, body: { email: true, webhookUrl: hookUrl } });
      expect(settings.status, settings.body).toBe(200);
      const device = await s.enrol('P1');
      const p = (await h.server.store.participant(s.studyId, 'P1'))!;
      expect(p.enrolled_ms).toBe(clock);
      const config = (await h.server.ctx.studyInfo(s.studyId)).config;
      const weekEnd = Date.parse('2026-10-30T12:00:00+01:00');
      const all = studyPromptsBetween(config, { zone: p.timezone, seed: p.seed, enrolledMs: p.enrolled_ms! }, p.enrolled_ms! - 1, weekEnd);

      // The schedule, checked against the study's words: two slider prompts a day, each inside
      // its local window, 90 minutes open; the questionnaires at 18:00 local on days 0 and 7.
      const sliders = all.filter((x) => x.instrument === 'ema');
      expect(sliders).toHaveLength(16);
      sliders.forEach((x, k) => {
        const local = DateTime.fromMillis(x.timeMs, { zone: 'Europe/Berlin' });
        const minute = local.hour * 60 + local.minute, [from, to] = WINDOWS[k % 2];
        expect(minute, x.time).toBeGreaterThanOrEqual(from);
        expect(minute, x.time).toBeLessThan(to);
        expect(x.day).toBe(Math.floor(k / 2));
        expect(local.toISODate()).toBe(DateTime.fromISO('2026-10-22', { zone: 'Europe/Berlin' }).plus({ days: x.day }).toISODate());
        expect(x.time.slice(-6)).toBe(x.day < 3 ? '+02:00' : '+01:00'); // summer time ends on day 3 (Sunday)
        expect(x.expiresMs - x.timeMs).toBe(90 * MIN);
      });
      const forms = all.filter((x) => x.instrument !== 'ema');
      expect(forms.map((x) => [x.id, x.time])).toEqual([
        ['gad7:0:0', '2026-10-22T18:00:00+02:00'], ['phq9:0:0', '2026-10-22T18:00:00+02:00'],
        ['gad7:7:0', '2026-10-29T18:00:00+01:00'], ['phq9:7:0', '2026-10-29T18:00:00+01:00'],
      ]);
      expect(forms.every((x) => x.expiresMs - x.timeMs === 720 * MIN)).toBe(true);

      // The week, event by event.
      const log = async () => (await h.req('GET', `/studies/${s.studyId}/prompts?participant=P1`, { token: s.researcher })).json.entries as any[];
      const fate = async (id: string) => (await log()).find((e) => e.promptId === id)?.fate ?? 'not shown';
      // What the participant's app is told: the prompts open now.
      const open = async () => ((await h.req('GET', '/me/next', { token: device })).json.open as any[]).map((x) => x.id);
      const iso = () => new Date(clock).toISOString();
      const post = (id: string, prompt: Prompt, answers: Record<string, number>) => h.req('POST', '/me/reports', {
        token: device, body: { id, time: iso(), trigger: 'scheduled', answers, itemOrder: Object.keys(answers), promptId: prompt.id, ...(prompt.instrument === 'ema' ? {} : { instrument: prompt.instrument }) },
      });
      const items = (ins: string, values: number[]) => Object.fromEntries(values.map((v, j) => [`${ins}_${j + 1}`, v]));
      type Step = { at: number; run: () => Promise<void> };
      const steps: Step[] = [];
      const expected = new Map<string, { fate: string; report: string | null }>();
      sliders.forEach((x, k) => {
        const plan = sliderPlan(k);
        // It appears at its time, not before; it is open until its expiry, then gone.
        steps.push({ at: x.timeMs - MIN, run: async () => { expect(await fate(x.id)).toBe('not shown'); expect(await open()).not.toContain(x.id); } });
        steps.push({ at: x.timeMs, run: async () => { expect(await fate(x.id)).toBe('open'); expect(await open()).toContain(x.id); } });
        if (plan === 'answer') steps.push({ at: x.timeMs + 10 * MIN, run: async () => { expect((await post(`s${k}`, x, { mood: 10 + k, energy: 60 - k })).status).toBe(201); } });
        steps.push({ at: x.expiresMs - 1000, run: async () => { expect(await fate(x.id)).toBe(plan === 'answer' ? 'answered' : 'open'); expect(await open()).toEqual(plan === 'answer' ? expect.not.arrayContaining([x.id]) : expect.arrayContaining([x.id])); } });
        steps.push({ at: x.expiresMs, run: async () => { expect(await fate(x.id)).toBe(plan === 'answer' ? 'answered' : 'expired'); expect(await open()).not.toContain(x.id); } });
        if (plan === 'late') steps.push({ at: x.expiresMs + 5 * MIN, run: async () => { expect((await post(`s${k}`, x, { mood: 10 + k, energy: 60 - k })).status).toBe(201); } });
        expected.set(x.id, { fate: plan === 'answer' ? 'answered' : 'expired', report: plan === 'ignore' ? null : `s${k}` });
      });
      const phq0 = forms.find((x) => x.id === 'phq9:0:0')!, gad0 = forms.find((x) => x.id === 'gad7:0:0')!, phq7 = forms.find((x) => x.id === 'phq9:7:0')!, gad7 = forms.find((x) => x.id === 'gad7:7:0')!;
      steps.push({ at: phq0.timeMs + 30 * MIN, run: async () => {
        expect((await post('phq-0', phq0, items('phq9', PHQ9_DAY0))).status).toBe(201);
        await h.server.monitor.idle(); await h.server.notify.idle();
        expect(mails).toHaveLength(1);
        expect(hooks).toHaveLength(1);
      } });
      steps.push({ at: gad0.timeMs + 40 * MIN, run: async () => { expect((await post('gad-0', gad0, items('gad7', GAD7_DAY0))).status).toBe(201); } });
      steps.push({ at: phq7.timeMs + 30 * MIN, run: async () => { expect((await post('phq-7', phq7, items('phq9', PHQ9_DAY7))).status).toBe(201); } });
      steps.push({ at: gad7.expiresMs, run: async () => { expect(await fate('gad7:7:0')).toBe('expired'); } });
      expected.set('phq9:0:0', { fate: 'answered', report: 'phq-0' }); expected.set('gad7:0:0', { fate: 'answered', report: 'gad-0' });
      expected.set('phq9:7:0', { fate: 'answered', report: 'phq-7' }); expected.set('gad7:7:0', { fate: 'expired', report: null });
      steps.sort((a, b) => a.at - b.at);
      for (const step of steps) { clock = step.at; await step.run(); }
      clock = weekEnd;
      await h.server.monitor.idle(); await h.server.notify.idle();
      await h.server.notify.tick();

      // Every prompt's fate, in the prompt log.
      const entries = await log();
      expect(entries.map((e) => e.promptId)).toEqual(all.map((x) => x.id));
      expect(Object.fromEntries(entries.map((e) => [e.promptId, { fate: e.fate, report: e.reportId }]))).toEqual(Object.fromEntries(expected));

      // Scored as worked out by hand: what the server stored with each report.
      const stored = new Map((await h.server.store.reportsOf(p.id)).map((r) => [r.client_id, r]));
      expect(stored.get('phq-0')).toMatchObject({ instrument: 'phq9', prompt_id: 'phq9:0:0', scores: { phq9_total: PHQ9_DAY0_TOTAL }, band: PHQ9_DAY0_BAND });
      expect(stored.get('phq-7')).toMatchObject({ instrument: 'phq9', scores: { phq9_total: PHQ9_DAY7_TOTAL }, band: 'minimal' });
      expect(stored.get('gad-0')).toMatchObject({ instrument: 'gad7', scores: { gad7_total: GAD7_DAY0_TOTAL }, band: GAD7_DAY0_BAND });

      // Exactly one e-mail and one webhook call in the week: PHQ-9 item 9 = 2 on day 0 (not day 7's 0).
      expect(mails).toHaveLength(1);
      expect(hooks).toHaveLength(1);
      expect(mails[0]).toContain('Subject: Moodlens: participant P1 needs attention (Week study)');
      expect(verifyWebhook(settings.json.webhookSecret, hooks[0].signature, hooks[0].body, Date.now())).toMatchObject({ ok: true });
      expect(JSON.parse(hooks[0].body)).toMatchObject({ type: 'participant.attention', participant: 'P1', id: hooks[0].id });
      const notes = (await h.req('GET', `/studies/${s.studyId}/notifications`, { token: s.researcher })).json;
      expect(notes.map((n: any) => [n.rule, n.source, n.deliveries.map((d: any) => `${d.channel}:${d.status}`).join(',')])).toEqual([['phq9-item9', 'report', 'email:sent,webhook:sent']]);

      // prompts.csv in the export, read back by the data library; describe's compliance from it.
      const { job } = await exportAndWait(h, s.researcher, s.studyId);
      expect(job.status, JSON.stringify(job)).toBe('done');
      const dir = await downloadExport(h, s.researcher, job);
      const rows = readFileSync(join(dir, 'prompts.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
      expect(rows.map((r) => [r[1], r[9], r[8] || null])).toEqual(all.map((x) => [x.id, expected.get(x.id)!.fate, expected.get(x.id)!.report]));
      expect(rows.filter((r) => r[1].startsWith('ema:3:')).map((r) => r[3].slice(-6))).toEqual(['+01:00', '+01:00']);
      const loaded = await loadStudy(dir);
      expect(loaded.issues).toEqual([]);
      const d = describeStudy(loaded.study!);
      const answered = [...expected.values()].filter((e) => e.fate === 'answered').length;
      expect(d.complianceMode).toBe('prompt-log');
      expect(d.compliance[0]).toMatchObject({ scheduledAnswered: answered, scheduledExpected: 20, prompts: { prompts: 20, answered, expired: 20 - answered, open: 0 } });
    } finally {
      await h.close();
    }
  }, 120_000);
});
