/**
 * The server's behaviour through its HTTP API, run against BOTH storage back ends
 * (SQLite, and PostgreSQL in a fresh database when one is reachable).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { encodeWav16 } from '../../src/signal/wav.js';
import { validateStudy } from '../../src/data/index.js';
import { BACKENDS, DAMS, downloadExport, exportAndWait, reportBody, restartHarness, setupStudy, startHarness, type Harness } from './helpers.js';

function tone(seconds: number, rate = 16000): Buffer {
  const x = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate);
  return Buffer.from(encodeWav16(x, rate));
}

const iso = (ms: number) => new Date(ms).toISOString();

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`server API on ${b.name}`, () => {
    let h: Harness;
    let s: Awaited<ReturnType<typeof setupStudy>>;
    beforeAll(async () => {
      h = await startHarness(b.name);
      s = await setupStudy(h);
    });
    afterAll(async () => { await h?.close(); });

    it('serves its OpenAPI document and a docs page', async () => {
      const doc = await h.req('GET', '/openapi.json');
      expect(doc.status).toBe(200);
      expect(doc.json.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(['/me/reports', '/enrol', '/studies/{studyId}/export']));
      expect(doc.json.paths['/me/reports'].post.requestBody.content['application/json'].schema.properties.answers).toBeDefined();
      const ui = await h.req('GET', '/docs/');
      expect(ui.status).toBe(200);
      expect(ui.body).toMatch(/swagger/i);
      // Liveness for anyone (a load balancer's probe); the queue's counts only for an admin.
      for (const token of [undefined, s.researcher, 'r_forged']) expect((await h.req('GET', '/health', { token })).json).toEqual({ ok: true, db: b.name });
      const health = await h.req('GET', '/health', { token: s.admin });
      expect(health.json).toMatchObject({ ok: true, db: b.name, queue: { engine: b.name === 'postgres' ? 'pg-boss' : 'local' } });
      // On PostgreSQL the push reminders' passes are jobs too (one per tick across the instances); in process a timer.
      expect(health.json.queue.kinds.map((k: { kind: string }) => k.kind).sort()).toEqual(
        ['export', 'notify-alert', 'notify-report', ...(b.name === 'postgres' ? ['push-pass'] : []), 'report-follow-up', 'speech-features', 'speech-follow-up']);
    });

    it('authenticates researchers and keeps studies apart', async () => {
      expect((await h.req('POST', '/auth/login', { body: { email: s.researcherEmail, password: 'wrong' } })).status).toBe(401);
      expect((await h.req('GET', '/studies')).status).toBe(401);
      expect((await h.req('GET', '/studies', { token: 'r_forged' })).status).toBe(401);
      // A second researcher does not see the first one's study.
      const other = await setupStudy(h, { name: 'other study' });
      expect((await h.req('GET', `/studies/${s.studyId}`, { token: other.researcher })).status).toBe(404);
      expect((await h.req('GET', `/studies/${s.studyId}/participants`, { token: other.researcher })).status).toBe(404);
      const mine = await h.req('GET', '/studies', { token: s.researcher });
      expect(mine.json.map((x: any) => x.id)).toEqual([s.studyId]);
      // The admin sees both; a non-admin cannot create accounts.
      expect((await h.req('GET', '/studies', { token: s.admin })).json.length).toBeGreaterThanOrEqual(2);
      expect((await h.req('POST', '/admin/researchers', { token: s.researcher, body: { email: 'x@example.org', password: 'long enough pw' } })).status).toBe(403);
      // Sharing the study makes it visible.
      expect((await h.req('POST', `/studies/${s.studyId}/members`, { token: s.researcher, body: { email: other.researcherEmail } })).status).toBe(200);
      expect((await h.req('GET', `/studies/${s.studyId}`, { token: other.researcher })).status).toBe(200);
      // Logout ends the session.
      const t = await h.login(other.researcherEmail, 'researcher-pass-1');
      expect((await h.req('POST', '/auth/logout', { token: t })).status).toBe(200);
      expect((await h.req('GET', '/studies', { token: t })).status).toBe(401);
    });

    it('enrols with a one-time code that yields a device token', async () => {
      const inv = await h.req('POST', `/studies/${s.studyId}/participants`, { token: s.researcher, body: { participantId: 'E01', timezone: 'America/New_York', covariates: { sex: 'f', age: 33 } } });
      expect(inv.status).toBe(201);
      // The code rides in the fragment (never sent to a server, so in no log).
      expect(inv.json.enrolUrl).toMatch(new RegExp(`/app/#code=${inv.json.enrolCode}$`));
      const first = await h.req('POST', '/enrol', { body: { code: inv.json.enrolCode.toLowerCase() } });
      expect(first.status).toBe(200);
      expect(first.json.token).toMatch(/^p_/);
      expect(first.json.participantId).toBe('E01');
      const again = await h.req('POST', '/enrol', { body: { code: inv.json.enrolCode } });
      expect(again.status).toBe(400);
      expect(again.json.message).toContain('body.code');
      const me = await h.req('GET', '/me', { token: first.json.token });
      expect(me.json.timezone).toBe('America/New_York');
      expect(me.json.items.map((i: any) => i.id)).toEqual(DAMS);
      // A device token opens no researcher route, a session token no participant route.
      expect((await h.req('GET', '/studies', { token: first.json.token })).status).toBe(401);
      expect((await h.req('GET', '/me', { token: s.researcher })).status).toBe(401);
      // A new code revokes the old device token.
      const code = await h.req('POST', `/studies/${s.studyId}/participants/E01/code`, { token: s.researcher });
      expect(code.status).toBe(200);
      expect((await h.req('GET', '/me', { token: first.json.token })).status).toBe(401);
      const re = await h.req('POST', '/enrol', { body: { code: code.json.enrolCode } });
      expect((await h.req('GET', '/me', { token: re.json.token })).status).toBe(200);
    });

    it('tells the app when the next prompt is, items in a fresh order', async () => {
      const tok = await s.enrol('N01', 'Asia/Tokyo');
      const a = await h.req('GET', '/me/next', { token: tok });
      expect(a.status).toBe(200);
      const t = Date.parse(a.json.prompt.time);
      expect(t).toBeGreaterThan(Date.now());
      expect(a.json.prompt.time).toMatch(/\+09:00$/);
      const [hh, mm] = a.json.prompt.time.slice(11, 16).split(':').map(Number);
      const minutes = hh * 60 + mm;
      expect([11 * 60, 15 * 60, 19 * 60].some((m) => Math.abs(minutes - m) <= 10)).toBe(true);
      expect([...a.json.items.map((i: any) => i.id)].sort()).toEqual([...DAMS].sort());
      // The same prompt on every call; the item order is drawn afresh.
      const orders = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const r = await h.req('GET', '/me/next', { token: tok });
        expect(r.json.prompt.time).toBe(a.json.prompt.time);
        orders.add(r.json.items.map((x: any) => x.id).join(','));
      }
      expect(orders.size).toBeGreaterThan(1);
      const sched = await h.req('GET', '/me/schedule', { token: tok });
      expect(sched.json.prompts.length).toBeGreaterThanOrEqual(13 * 3);
      expect(sched.json.prompts.length).toBeLessThanOrEqual(14 * 3);
    });

    it('ingests reports idempotently, keeps order, client and server time, marks late ones', async () => {
      const tok = await s.enrol('R01');
      const now = Date.now();
      const body = reportBody('rep-1', iso(now - 60_000), 42);
      const r1 = await h.req('POST', '/me/reports', { token: tok, body });
      expect(r1.status).toBe(201);
      expect(r1.json).toMatchObject({ id: 'rep-1', trigger: 'scheduled', late: false, duplicate: false, itemOrder: [...DAMS].reverse() });
      expect(Math.abs(Date.parse(r1.json.serverTime) - now)).toBeLessThan(10_000);
      const r2 = await h.req('POST', '/me/reports', { token: tok, body });
      expect(r2.status).toBe(200);
      expect(r2.json.duplicate).toBe(true);
      expect(r2.json.serverTime).toBe(r1.json.serverTime);
      const conflict = await h.req('POST', '/me/reports', { token: tok, body: { ...body, answers: { ...body.answers, happy: 1 } } });
      expect(conflict.status).toBe(409);
      const late = await h.req('POST', '/me/reports', { token: tok, body: reportBody('rep-2', iso(now - 3 * 3_600_000)) });
      expect(late.json.late).toBe(true);
      const partial = await h.req('POST', '/me/reports', { token: tok, body: { id: 'rep-3', time: iso(now), trigger: 'wake', answers: { happy: 70 }, itemOrder: ['happy'] } });
      expect(partial.status).toBe(201);
      const mine = await h.req('GET', '/me/reports', { token: tok });
      expect(mine.json.map((r: any) => r.id)).toEqual(['rep-2', 'rep-1', 'rep-3']);
      // The researcher reads them too; both reads are in the audit log.
      const theirs = await h.req('GET', `/studies/${s.studyId}/participants/R01/reports`, { token: s.researcher });
      expect(theirs.json).toHaveLength(3);
      const audit = await h.req('GET', `/studies/${s.studyId}/audit`, { token: s.researcher });
      const kinds = audit.json.map((e: any) => `${e.actor.split(':')[0]} ${e.action} ${e.resource}`);
      expect(kinds).toEqual(expect.arrayContaining(['participant write report', 'participant read reports', 'researcher read reports']));
      expect(audit.json.filter((e: any) => e.resource === 'report' && e.action === 'write')).toHaveLength(3 + 0 /* retries are not new writes */);
    });

    it('accepts speech uploads, checks them, stores a checksum', async () => {
      const tok = await s.enrol('S01');
      await h.req('POST', '/me/reports', { token: tok, body: reportBody('sp-1', iso(Date.now() - 1000)) });
      const wav = tone(1.5);
      const put = (reportId: string, payload: Buffer, ctype = 'audio/wav', token = tok) => h.req('PUT', `/me/reports/${reportId}/speech`, { token, payload, headers: { 'content-type': ctype } });
      const ok = await put('sp-1', wav);
      expect(ok.status).toBe(201);
      expect(ok.json.sha256).toBe(createHash('sha256').update(wav).digest('hex'));
      expect(ok.json.durationS).toBeCloseTo(1.5, 3);
      expect((await put('sp-1', wav)).json.duplicate).toBe(true);
      expect((await put('sp-1', tone(1.0))).status).toBe(409);
      // Another participant cannot attach audio to this report: it is not theirs.
      const other = await s.enrol('S02');
      expect((await put('sp-1', wav, 'audio/wav', other)).status).toBe(404);
      await h.req('POST', '/me/reports', { token: tok, body: reportBody('sp-2', iso(Date.now() - 1000)) });
      const truncated = await put('sp-2', wav.subarray(0, wav.length - 1000));
      expect(truncated.status).toBe(400);
      expect(truncated.json.message).toMatch(/truncated/);
      expect((await put('sp-2', Buffer.from('ID3 this is an mp3, honestly'))).json.message).toMatch(/not .*WAV/i);
      expect((await put('sp-2', wav, 'text/plain')).status).toBe(415);
      const holdings = await h.server.store.holdings((await h.server.store.participant(s.studyId, 'S01'))!.id);
      expect(holdings.speech).toBe(1);
    });

    it('ingests wristband epochs in overlapping, out-of-order batches', async () => {
      const tok = await s.enrol('A01');
      const t0 = Date.UTC(2026, 0, 10, 8, 0);
      const run = (startMs: number, n: number) => ({ start: iso(startMs), values: { zcm: Array.from({ length: n }, (_, i) => i), pim: Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : 10 * i)) } });
      const a = await h.req('POST', '/me/activity', { token: tok, body: run(t0 + 60 * 60_000, 60) });
      expect(a.json).toEqual({ received: 60, stored: 60, inserted: 60, duplicates: 0 });
      const b = await h.req('POST', '/me/activity', { token: tok, body: run(t0, 90) }); // earlier, overlaps 30
      expect(b.json).toMatchObject({ inserted: 60, duplicates: 30 });
      const c = await h.req('POST', '/me/activity', { token: tok, body: run(t0, 90) }); // a retry
      expect(c.json).toMatchObject({ inserted: 0, duplicates: 90 });
      const pid = (await h.server.store.participant(s.studyId, 'A01'))!.id;
      expect(await h.server.store.countActivity(pid)).toBe(120);
    });

    it('converts raw accelerometer uploads into epochs with the signal code', async () => {
      const tok = await s.enrol('RAW1');
      // 20 minutes at 25 Hz: gravity on z plus a 1.5 Hz movement (walking-like) in the second half.
      const rate = 25, t0 = Date.UTC(2026, 0, 5, 9, 0);
      const lines = ['time,x,y,z'];
      for (let i = 0; i < 20 * 60 * rate; i++) {
        const t = i / rate, moving = t >= 600 ? 0.3 * Math.sin(2 * Math.PI * 1.5 * t) : 0;
        lines.push(`${new Date(t0 + Math.round(t * 1000)).toISOString()},${(0.01 * Math.sin(i)).toFixed(4)},${moving.toFixed(4)},${(1 + moving).toFixed(4)}`);
      }
      const csv = lines.join('\n') + '\n';
      const up = await h.req('PUT', '/me/activity/raw', { token: tok, payload: csv, headers: { 'content-type': 'text/csv' } });
      expect(up.status, up.body).toBe(200);
      expect(up.json.epochs).toBeGreaterThanOrEqual(19);
      expect(up.json.inserted).toBe(up.json.epochs);
      expect(up.json.first).toBe(new Date(t0).toISOString());
      const pid = (await h.server.store.participant(s.studyId, 'RAW1'))!.id;
      const rows = await h.server.store.activityBetween(pid, t0, t0 + 20 * 60_000);
      const pim = rows.map((r) => r.vals[1] as number);
      // Moving minutes have far more activity than still ones.
      expect(Math.min(...pim.slice(11, 19))).toBeGreaterThan(10 * Math.max(...pim.slice(1, 9)));
      const again = await h.req('PUT', '/me/activity/raw', { token: tok, payload: csv, headers: { 'content-type': 'text/csv' } });
      expect(again.json.duplicates).toBe(up.json.epochs);
      const junk = await h.req('PUT', '/me/activity/raw', { token: tok, payload: 'hello,world\nthis is,not accelerometer data\n', headers: { 'content-type': 'text/csv' } });
      expect(junk.status).toBe(400);
      expect(junk.json.message).toMatch(/^body: /);
    });

    it('withdraws a participant: deletes all their data and says what it deleted', async () => {
      const tok = await s.enrol('W01');
      await h.req('POST', '/me/reports', { token: tok, body: reportBody('w-1', iso(Date.now() - 5000)) });
      await h.req('POST', '/me/reports', { token: tok, body: reportBody('w-2', iso(Date.now() - 4000)) });
      await h.req('PUT', '/me/reports/w-1/speech', { token: tok, payload: tone(0.5), headers: { 'content-type': 'audio/wav' } });
      await h.req('POST', '/me/activity', { token: tok, body: { start: iso(Date.now() - 3_600_000), values: { zcm: [1, 2, 3], pim: [4, 5, 6] } } });
      const pid = (await h.server.store.participant(s.studyId, 'W01'))!.id;
      const file = (await h.server.store.db.selectFrom('speech').select('file').where('participant_id', '=', pid).executeTakeFirstOrThrow()).file;
      expect(existsSync(join(h.backend.dataDir, file))).toBe(true);
      await h.server.monitor.idle();
      // The server has computed the recording's features, or noted why not (audio study).
      await h.server.speech.idle();
      const held = await h.server.store.holdings(pid);
      const notes = async () => Number((await (h.server.store.db as any).selectFrom('web_speech_failures').select((eb: any) => eb.fn.countAll().as('n')).where('participant_id', '=', pid).executeTakeFirstOrThrow()).n);
      expect(held.speech + (await notes())).toBe(2);
      const del = await h.req('DELETE', '/me', { token: tok });
      expect(del.status).toBe(200);
      expect(del.json).toMatchObject({ participantId: 'W01', reports: 2, speechRecordings: held.speech, activityEpochs: 3, deletedFiles: 1 });
      expect(await notes()).toBe(0);
      expect(existsSync(join(h.backend.dataDir, file))).toBe(false);
      expect(await h.server.store.holdings(pid)).toEqual({ reports: 0, speech: 0, activity: 0, predictions: 0, alerts: 0 });
      expect((await h.req('GET', '/me', { token: tok })).status).toBe(401);
      // Withdrawing while the server computes a recording's features leaves nothing behind either.
      const tok2 = await s.enrol('W03');
      await h.req('POST', '/me/reports', { token: tok2, body: reportBody('w2-1', iso(Date.now() - 5000)) });
      expect((await h.req('PUT', '/me/reports/w2-1/speech', { token: tok2, payload: tone(2), headers: { 'content-type': 'audio/wav' } })).status).toBe(201);
      const pid2 = (await h.server.store.participant(s.studyId, 'W03'))!.id;
      await new Promise((r) => setTimeout(r, 50));
      expect((await h.req('DELETE', '/me', { token: tok2 })).status).toBe(200);
      await h.server.speech.idle();
      expect(await h.server.store.holdings(pid2)).toEqual({ reports: 0, speech: 0, activity: 0, predictions: 0, alerts: 0 });
      expect((await (h.server.store.db as any).selectFrom('web_speech_failures').selectAll().where('participant_id', '=', pid2).execute())).toHaveLength(0);
      const list = await h.req('GET', `/studies/${s.studyId}/participants`, { token: s.researcher });
      expect(list.json.find((p: any) => p.participantId === 'W01').status).toBe('withdrawn');
      // The researcher can withdraw someone too.
      await s.enrol('W02');
      const d2 = await h.req('DELETE', `/studies/${s.studyId}/participants/W02`, { token: s.researcher });
      expect(d2.json).toMatchObject({ participantId: 'W02', reports: 0 });
    });

    it('predicts with intervals (macro first, then personalised) and raises alerts the researcher can acknowledge', async () => {
      const st = await setupStudy(h, { name: 'alerts', timezone: 'UTC' }, { alerts: { baselineReports: 5, k: 2, minDurationHours: 24, minReports: 3, sources: ['reported'] } });
      expect((await h.req('POST', `/studies/${st.studyId}/participants/nobody/predict`, { token: st.researcher })).status).toBe(404);
      const tok = await st.enrol('M01');
      expect((await h.req('POST', `/studies/${st.studyId}/participants/M01/predict`, { token: st.researcher })).status).toBe(409);
      expect((await h.req('PUT', `/studies/${st.studyId}/model`, { token: st.researcher, body: { model: '/no/such/folder' } })).status).toBe(400);
      const att = await h.req('PUT', `/studies/${st.studyId}/model`, { token: st.researcher, body: { model: 'builtin:baseline' } });
      expect(att.status).toBe(200);
      // Another participant's reports give the macro level.
      const tokB = await st.enrol('M02');
      const day = 86_400_000, t0 = Date.now() - 10 * day;
      for (let i = 0; i < 6; i++) await h.req('POST', '/me/reports', { token: tokB, body: reportBody(`b${i}`, iso(t0 + i * day / 3), 30) });
      await h.server.monitor.idle();
      const macro = await h.req('POST', `/studies/${st.studyId}/participants/M01/predict`, { token: st.researcher });
      expect(macro.status).toBe(200);
      expect(macro.json.kind).toBe('macro');
      expect(macro.json.items.gloomy.value).toBeCloseTo(30, 5);
      for (const d of DAMS) expect(macro.json.items[d].lo).toBeLessThanOrEqual(macro.json.items[d].hi);
      // Re-attaching drops the cached macro level, so M01's first report is predicted from a fresh read
      // of the database, which by then holds that report.
      expect((await h.req('PUT', `/studies/${st.studyId}/model`, { token: st.researcher, body: { model: 'builtin:baseline' } })).status).toBe(200);
      // M01: a calm baseline, then gloomy and worried stay high for two days.
      const vals = [20, 22, 18, 21, 19, 80, 85, 82, 90];
      for (let i = 0; i < vals.length; i++) {
        const b = reportBody(`m${i}`, iso(t0 + i * day / 3), 20);
        b.answers.gloomy = vals[i]; b.answers.worried = vals[i];
        expect((await h.req('POST', '/me/reports', { token: tok, body: b })).status).toBe(201);
      }
      await h.server.monitor.idle();
      const preds = await h.req('GET', `/studies/${st.studyId}/participants/M01/predictions`, { token: st.researcher });
      expect(preds.json.length).toBeGreaterThanOrEqual(vals.length);
      const afterReports = preds.json.filter((p: any) => p.reportId !== null);
      expect(afterReports).toHaveLength(vals.length);
      expect(afterReports[0].kind).toBe('macro'); // no own report before the first one
      // The report being predicted (gloomy 20) never informs its own prediction: the macro level is
      // the other participants' mean (M02: 30), whatever the cache held.
      expect(afterReports[0].items.gloomy.value).toBeCloseTo(30, 5);
      expect(afterReports.at(-1).kind).toBe('personalised');
      expect(afterReports.at(-1).items.gloomy.value).toBeGreaterThan(30);
      const alerts = await h.req('GET', `/studies/${st.studyId}/alerts`, { token: st.researcher });
      expect(alerts.json.map((a: any) => `${a.participantId}:${a.item}:${a.source}`).sort()).toEqual(['M01:gloomy:reported', 'M01:worried:reported']);
      expect(alerts.json[0].reports).toBe(4);
      const ack = await h.req('POST', `/studies/${st.studyId}/alerts/${alerts.json[0].id}/ack`, { token: st.researcher });
      expect(ack.json.acknowledgedBy).toBeTruthy();
      expect((await h.req('GET', `/studies/${st.studyId}/alerts`, { token: st.researcher })).json).toHaveLength(1);
      expect((await h.req('GET', `/studies/${st.studyId}/alerts?status=all`, { token: st.researcher })).json).toHaveLength(2);
      // Re-evaluating does not duplicate an episode.
      expect((await h.req('POST', `/studies/${st.studyId}/participants/M01/alerts/evaluate`, { token: st.researcher })).json.created).toBe(0);
      // Another study's researcher cannot acknowledge it.
      expect((await h.req('POST', `/studies/${st.studyId}/alerts/${alerts.json[1].id}/ack`, { token: s.researcher })).status).toBe(404);
    });

    it('exports the study folder, which the data library validates', async () => {
      const tok = await s.enrol('X01', 'Europe/London');
      await h.req('POST', '/me/reports', { token: tok, body: reportBody('x-1', iso(Date.now() - 90_000), 33) });
      await h.req('PUT', '/me/reports/x-1/speech', { token: tok, payload: tone(0.8), headers: { 'content-type': 'audio/wav' } });
      const { job } = await exportAndWait(h, s.researcher, s.studyId, { name: 'exp1' });
      expect(job.status, job.error).toBe('done');
      const exp = { json: job.summary };
      expect(exp.json.reports).toBeGreaterThanOrEqual(1);
      expect(exp.json.speechFiles).toBeGreaterThanOrEqual(1);
      // Sealed at rest on the server: the download is the study folder. A few uploaded epochs fill no
      // activity window, which validate reports unless allowed.
      const v = await validateStudy(await downloadExport(h, s.researcher, job), { allowMissingModality: true });
      expect(v.issues).toEqual([]);
      expect(v.ok).toBe(true);
      expect(v.study!.reports.n).toBe(exp.json.reports);
      // Listed, audited, and another study's researcher cannot see or download it.
      expect((await h.req('GET', `/studies/${s.studyId}/exports`, { token: s.researcher })).json.map((j: any) => j.id)).toContain(job.id);
      const st = await setupStudy(h);
      expect((await h.req('GET', `/studies/${s.studyId}/exports/${job.id}`, { token: st.researcher })).status).toBe(404);
      expect((await h.req('GET', `/studies/${s.studyId}/exports/${job.id}/download`, { token: st.researcher })).status).toBe(404);
      expect((await h.req('GET', `/studies/${st.studyId}/exports/${job.id}`, { token: st.researcher })).status).toBe(404);
      const dl = await h.req('GET', job.downloadUrl, { token: s.researcher });
      expect(dl.status).toBe(200);
      const audit = (await h.req('GET', `/studies/${s.studyId}/audit`, { token: s.researcher })).json;
      expect(audit.some((a: any) => a.resource === 'export_download' && a.detail === job.id)).toBe(true);
      expect(audit.some((a: any) => a.resource === 'export' && JSON.parse(a.detail).job === job.id)).toBe(true);
    });

    it('marks export jobs a restart interrupted as failed; a running job cannot be downloaded', async () => {
      const row = { id: 'x_interrupted', study_id: s.studyId, user_id: 'u', name: 'halfway', status: 'running', phase: 'reports', done: 5, total: 10, summary: null, error: null, created_ms: Date.now(), started_ms: Date.now(), finished_ms: null, deleted_ms: null, deleted_by: null };
      await h.server.store.createExportJob(row);
      const running = await h.req('GET', `/studies/${s.studyId}/exports/x_interrupted/download`, { token: s.researcher });
      expect(running.status).toBe(409);
      expect(running.json.message).toMatch(/is running/);
      expect((await h.req('GET', `/studies/${s.studyId}/exports/x_interrupted`, { token: s.researcher })).json).toMatchObject({ status: 'running', progress: 0.5 });
      expect(await h.server.store.failInterruptedExports(Date.now())).toBe(1);
      const j = (await h.req('GET', `/studies/${s.studyId}/exports/x_interrupted`, { token: s.researcher })).json;
      expect(j).toMatchObject({ status: 'failed', error: expect.stringMatching(/restart/) });
    });

    it('deletes an export\'s folder on request, never a newer export\'s of the same name', async () => {
      const first = (await exportAndWait(h, s.researcher, s.studyId, { name: 'reused' })).job;
      const second = (await exportAndWait(h, s.researcher, s.studyId, { name: 'reused' })).job;
      expect([first.status, second.status]).toEqual(['done', 'done']);
      const url = (j: any) => `/studies/${s.studyId}/exports/${j.id}`;
      const other = await setupStudy(h);
      expect((await h.req('DELETE', url(first), { token: other.researcher })).status).toBe(404);
      const del = await h.req('DELETE', url(first), { token: s.researcher });
      expect(del.status).toBe(200);
      expect(del.json).toMatchObject({ status: 'deleted', downloadUrl: null, deletedBy: expect.stringMatching(/^researcher:/) });
      expect(existsSync(join(second.dir, 'study.json'))).toBe(true); // the newer job's folder stays
      expect((await h.req('GET', `${url(first)}/download`, { token: s.researcher })).json.message).toMatch(/is deleted/);
      expect((await h.req('GET', `${url(second)}/download`, { token: s.researcher })).status).toBe(200);
      expect((await h.req('DELETE', url(second), { token: s.researcher })).status).toBe(200);
      expect(existsSync(second.dir)).toBe(false);
      expect((await h.req('DELETE', url(second), { token: s.researcher })).json.status).toBe('deleted'); // again: nothing to do
      const running = { id: 'x_busy', study_id: s.studyId, user_id: 'u', name: 'busy', status: 'running', phase: 'reports', done: 1, total: 2, summary: null, error: null, created_ms: Date.now(), started_ms: Date.now(), finished_ms: null, deleted_ms: null, deleted_by: null };
      await h.server.store.createExportJob(running);
      expect((await h.req('DELETE', `/studies/${s.studyId}/exports/x_busy`, { token: s.researcher })).status).toBe(409);
      await h.server.store.updateExportJob('x_busy', { status: 'failed' });
      const audit = (await h.req('GET', `/studies/${s.studyId}/audit`, { token: s.researcher })).json;
      expect(audit.filter((a: any) => a.action === 'delete' && a.resource === 'export').map((a: any) => JSON.parse(a.detail).job)).toEqual([second.id, first.id]);
    });

    it('removes finished exports after the retention period (after each job and at start)', async () => {
      let clock = Date.now();
      const r = await startHarness(b.name, { now: () => clock, exportRetentionDays: 2 });
      let cur = r;
      try {
        const st = await setupStudy(r);
        const old = (await exportAndWait(r, st.researcher, st.studyId, { name: 'old' })).job;
        expect(existsSync(join(old.dir, 'study.json'))).toBe(true);
        clock += 1 * 86_400_000; // one day on: kept
        const mid = (await exportAndWait(r, st.researcher, st.studyId, { name: 'mid' })).job;
        await r.server.exportJobs.idle();
        expect(existsSync(old.dir)).toBe(true);
        clock += 1.5 * 86_400_000; // 2.5 days after the first: it goes when the next job finishes
        await exportAndWait(r, st.researcher, st.studyId, { name: 'new' });
        await r.server.exportJobs.idle();
        const view = (await r.req('GET', `/studies/${st.studyId}/exports/${old.id}`, { token: st.researcher })).json;
        expect(view).toMatchObject({ status: 'deleted', deletedBy: 'retention' });
        expect(existsSync(old.dir)).toBe(false);
        expect(existsSync(join(mid.dir, 'study.json'))).toBe(true);
        // A server started after the period removes what expired while it was down.
        clock += 3 * 86_400_000;
        const r2 = cur = await restartHarness(r, { now: () => clock, exportRetentionDays: 2 });
        expect(existsSync(mid.dir)).toBe(false);
        const audit = (await r2.req('GET', `/studies/${st.studyId}/audit`, { token: await r2.login(st.researcherEmail, 'researcher-pass-1') })).json;
        expect(audit.filter((a: any) => a.action === 'delete' && a.resource === 'export' && a.actor === 'system:retention')).toHaveLength(3);
      } finally {
        await cur.close();
      }
    });
  });
}
