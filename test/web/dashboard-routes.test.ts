/**
 * The dashboard's server routes (src/server/http/routes/dashboard.ts) on SQLite and PostgreSQL:
 * activity per local day × hour in the participant's time zone (across a daylight-saving
 * change), data quality per participant and day (wear minutes, recordings received / rejected /
 * skipped / missing, late reports), the attached model's evaluation (online CCC of the server's
 * predictions against the answers, recomputed here by hand; a trained model folder's stored
 * `evaluate --json`), predictions named by the app's report id, access control and audit rows.
 * Expected values are computed in the test from the data it sent, with Intl (not luxon).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav16 } from '../../src/signal/wav.js';
import { BACKENDS, DAMS, installModel, reportBody, setupStudy, startHarness, type Harness } from '../server/helpers.js';

const ZONE = 'America/New_York';
/** Local "YYYY-MM-DD" and hour of an instant in ZONE, by Intl. */
function local(tMs: number): { day: string; hour: number } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' }).formatToParts(tMs).map((p) => [p.type, p.value]));
  return { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) };
}
/** Lin's CCC with divide-by-n moments. */
function cccByHand(x: number[], y: number[]): number {
  const n = x.length, mx = x.reduce((s, v) => s + v, 0) / n, my = y.reduce((s, v) => s + v, 0) / n;
  let vx = 0, vy = 0, c = 0;
  for (let i = 0; i < n; i++) { vx += (x[i] - mx) ** 2; vy += (y[i] - my) ** 2; c += (x[i] - mx) * (y[i] - my); }
  return (2 * c / n) / (vx / n + vy / n + (mx - my) ** 2);
}
const tone = (seconds: number) => { const sr = 16000, x = new Float32Array(seconds * sr); for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin(2 * Math.PI * 150 * i / sr); return Buffer.from(encodeWav16(x, sr)); };

describe.each(BACKENDS)('dashboard routes ($name)', ({ name, skip }) => {
  let h: Harness | undefined;
  afterAll(async () => { await h?.close(); });

  it.skipIf(skip)('activity heat map, data quality, evaluation and predictions by report', async () => {
    // No server-side speech extraction here (speechWorkers 0): this test's recordings are tones
    // whose fate (rejected or not) is test/server/model.test.ts's concern; the counts below are the
    // app's own notes.
    h = await startHarness(name, { speechWorkers: 0 });
    const s = await setupStudy(h, { name: 'dash study', timezone: ZONE });
    const dev = await s.enrol('P1');
    const base = `/studies/${s.studyId}/participants/P1`;

    // Four hours of epochs from local midnight of 1 Nov 2026, the night New York leaves daylight
    // saving time (01:00–02:00 happens twice), with gaps: epoch i has zcm = i % 7 except every
    // 10th (null); epochs 100–119 have no channel at all (not worn: not stored).
    const start = Date.parse('2026-11-01T04:00:00Z'); // 00:00 EDT
    const n = 240, zcm: (number | null)[] = [], pim: (number | null)[] = [];
    for (let i = 0; i < n; i++) {
      const off = i >= 100 && i < 120;
      zcm.push(off || i % 10 === 0 ? null : i % 7);
      pim.push(off ? null : 100 + i);
    }
    const up = await h.req('POST', '/me/activity', { token: dev, body: { start: '2026-11-01T00:00:00-04:00', values: { zcm, pim } } });
    expect(up.status, up.body).toBe(200);
    expect(up.json.stored).toBe(220);

    const heat = await h.req('GET', `${base}/activity/day-hour`, { token: s.researcher });
    expect(heat.status, heat.body).toBe(200);
    expect(heat.json).toMatchObject({ participantId: 'P1', timezone: ZONE, channel: 'zcm', epochSeconds: 60, epochs: 220 });
    const want = new Map<string, { day: string; hour: number; sum: number; valid: number; epochs: number }>();
    for (let i = 0; i < n; i++) {
      if (pim[i] === null) continue;
      const { day, hour } = local(start + i * 60_000);
      const c = want.get(`${day} ${hour}`) ?? want.set(`${day} ${hour}`, { day, hour, sum: 0, valid: 0, epochs: 0 }).get(`${day} ${hour}`)!;
      c.epochs++; if (zcm[i] !== null) { c.sum += zcm[i]!; c.valid++; }
    }
    expect(heat.json.cells).toEqual([...want.values()].map((c) => ({ day: c.day, hour: c.hour, mean: Math.round(c.sum / c.valid * 1000) / 1000, minutes: c.valid, epochs: c.epochs })));
    expect(heat.json.cells.find((c: any) => c.hour === 1).epochs).toBe(100); // the repeated hour: 120 epochs less the 20 unworn
    const pimHeat = await h.req('GET', `${base}/activity/day-hour?channel=pim&from=2026-11-01&to=2026-11-01`, { token: s.researcher });
    expect(pimHeat.json.cells.reduce((a: number, c: any) => a + c.minutes, 0)).toBe(220);
    expect((await h.req('GET', `${base}/activity/day-hour?from=2026-11-02`, { token: s.researcher })).json.cells).toEqual([]);
    const badChannel = await h.req('GET', `${base}/activity/day-hour?channel=steps`, { token: s.researcher });
    expect(badChannel.status).toBe(400);
    expect(badChannel.json.message).toMatch(/querystring\.channel/);
    expect((await h.req('GET', `${base}/activity/day-hour?from=yesterday`, { token: s.researcher })).status).toBe(400);

    // Reports on 1 Nov (late: sent days later) with: a recording, a rejected one, a skipped one,
    // none; and one now (not late) with a recording.
    const times = ['2026-11-01T09:00:00-05:00', '2026-11-01T13:00:00-05:00', '2026-11-01T17:00:00-05:00', '2026-11-01T20:00:00-05:00'];
    for (const [k, t] of times.entries()) expect((await h.req('POST', '/me/reports', { token: dev, body: reportBody(`a-${k}`, t, 20 + 15 * k) })).status).toBe(201);
    const nowIso = new Date().toISOString();
    expect((await h.req('POST', '/me/reports', { token: dev, body: reportBody('a-now', nowIso, 70) })).status).toBe(201);
    for (const id of ['a-0', 'a-now']) expect((await h.req('PUT', `/me/reports/${id}/speech`, { token: dev, headers: { 'content-type': 'audio/wav' }, payload: tone(1) })).status).toBe(201);
    expect((await h.req('PUT', '/me/reports/a-1/speech-failure', { token: dev, body: { reason: 'rejected', detail: '400 truncated' } })).status).toBe(201);
    expect((await h.req('PUT', '/me/reports/a-1/speech-failure', { token: dev, body: { reason: 'rejected' } })).json.duplicate).toBe(true);
    expect((await h.req('PUT', '/me/reports/a-2/speech-failure', { token: dev, body: { reason: 'skipped' } })).status).toBe(201);
    expect((await h.req('PUT', '/me/reports/nope/speech-failure', { token: dev, body: { reason: 'skipped' } })).status).toBe(404);
    expect((await h.req('PUT', '/me/reports/a-3/speech-failure', { token: dev, body: { reason: 'lost' } })).status).toBe(400);

    const q = await h.req('GET', `/studies/${s.studyId}/quality`, { token: s.researcher });
    expect(q.status, q.body).toBe(200);
    const nov1 = q.json.rows.find((r: any) => r.day === '2026-11-01');
    expect(nov1).toEqual({
      participantId: 'P1', day: '2026-11-01', minutesInDay: 1500, wearMinutes: 220, wearFraction: Math.round(220 / 1500 * 1000) / 1000, epochs: 220,
      reports: 4, late: 4, recordings: 1, failedRecordings: 1, skippedRecordings: 1, missingRecordings: 0 + 1,
    });
    const today = q.json.rows.find((r: any) => r.day === local(Date.now()).day);
    expect(today).toMatchObject({ participantId: 'P1', wearMinutes: 0, reports: 1, late: 0, recordings: 1, missingRecordings: 0 });
    expect(q.json.rows.filter((r: any) => r.day !== '2026-11-01' && r.day !== today.day)).toEqual([]); // enrolled today
    expect((await h.req('GET', `/studies/${s.studyId}/quality?participantId=P9`, { token: s.researcher })).status).toBe(404);

    // Evaluation: none before a model is attached; then the baseline's prediction for each report
    // against its answer.
    expect((await h.req('GET', `/studies/${s.studyId}/model/evaluation`, { token: s.researcher })).status).toBe(409);
    expect((await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: 'builtin:baseline' } })).status).toBe(200);
    const more = ['2026-11-02T10:00:00-05:00', '2026-11-02T15:00:00-05:00', '2026-11-03T10:00:00-05:00'];
    for (const [k, t] of more.entries()) {
      const body = reportBody(`b-${k}`, t, 0);
      body.answers = Object.fromEntries(DAMS.map((d, j) => [d, (13 * (k + 1) + 7 * j) % 101]));
      expect((await h.req('POST', '/me/reports', { token: dev, body })).status).toBe(201);
    }
    await h.server.monitor.idle();
    const byReport = await h.req('GET', `${base}/predictions/by-report`, { token: s.researcher });
    expect(byReport.status).toBe(200);
    expect(byReport.json.map((p: any) => p.reportId).sort()).toEqual(['b-0', 'b-1', 'b-2']); // the app's ids, not the server's
    expect(byReport.json.find((p: any) => p.reportId === 'b-0').reportTime).toBe(more[0]);
    const ev = await h.req('GET', `/studies/${s.studyId}/model/evaluation`, { token: s.researcher });
    expect(ev.status, ev.body).toBe(200);
    expect(ev.json.model).toBe('builtin:baseline');
    expect(ev.json.stored).toBeNull();
    expect(ev.json.online.reports).toBe(3);
    const reports = (await h.req('GET', `${base}/reports`, { token: s.researcher })).json as any[];
    for (const it of ev.json.online.items) {
      const x: number[] = [], y: number[] = [];
      for (const p of byReport.json) { x.push(reports.find((r) => r.id === p.reportId).answers[it.item]); y.push(p.items[it.item].value); }
      expect(it.n).toBe(3);
      expect(it.ccc).toBeCloseTo(cccByHand(x, y), 3);
    }

    // Access: another researcher (not a member) gets 404; no token 401; every read was audited.
    const admin = s.admin;
    const other = `o${Date.now()}@example.org`;
    expect((await h.req('POST', '/admin/researchers', { token: admin, body: { email: other, password: 'researcher-pass-2' } })).status).toBe(201);
    const stranger = await h.login(other, 'researcher-pass-2');
    for (const url of [`${base}/activity/day-hour`, `/studies/${s.studyId}/quality`, `/studies/${s.studyId}/model/evaluation`, `${base}/predictions/by-report`]) {
      expect((await h.req('GET', url, { token: stranger })).status).toBe(404);
      expect((await h.req('GET', url)).status).toBe(401);
      expect((await h.req('GET', url, { token: dev })).status).toBe(401);
    }
    const audit = (await h.req('GET', `/studies/${s.studyId}/audit?limit=1000`, { token: s.researcher })).json as { resource: string; action: string }[];
    const reads = (r: string) => audit.filter((a) => a.action === 'read' && a.resource === r).length;
    expect(reads('activity')).toBeGreaterThanOrEqual(3);
    expect(reads('quality')).toBe(1);
    expect(reads('evaluation')).toBe(1);
    expect(audit.filter((a) => a.resource === 'speech_failure')).toHaveLength(2);
  }, 60_000);
});

describe('evaluation stored in a trained model folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moodlens-eval-'));
  let h: Harness | undefined;
  afterAll(async () => { await h?.close(); rmSync(dir, { recursive: true, force: true }); });

  it('shows the per-item CCC that `moodlens evaluate --json` wrote into the model folder', async () => {
    const { synthesizeStudy } = await import('../../src/synth/index.js');
    const { initNodeBackend } = await import('../../src/train/backend-node.js');
    const { loadDataset, makeSplit, modelSplit, pick } = await import('../../src/train/study-node.js');
    const { presetConfig } = await import('../../src/train/presets.js');
    const { fitModel, predictMembers } = await import('../../src/train/fit.js');
    const { loadModel } = await import('../../src/train/model-folder.js');
    const { evaluateWithBaselines } = await import('../../src/eval/evaluate.js');
    const study = join(dir, 'study'), model = join(dir, 'model');
    await synthesizeStudy({ out: study, participants: 4, days: 3, seed: 5, speech: 'features' });
    await initNodeBackend();
    const ds = await loadDataset(study, 'masked');
    await fitModel(ds, makeSplit(ds, 'chronological', 1), presetConfig('paper-original', { train: { epochs: 1 } }), { out: model, quiet: true });
    // What `moodlens evaluate --model M --study S --json > M/evaluation.json` writes.
    const m = loadModel(model);
    const idx = pick(modelSplit(ds, m), 'test');
    const e = evaluateWithBaselines(ds, modelSplit(ds, m), idx, predictMembers(m.members, ds, idx), { B: 50 });
    writeFileSync(join(model, 'evaluation.json'), JSON.stringify({ split: 'test', ...e }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));

    h = await startHarness('sqlite');
    const s = await setupStudy(h, JSON.parse(readFileSync(join(study, 'study.json'), 'utf8')));
    const name = installModel(h, model); // copied under the server's --models-dir, attached by name
    const att = await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: name } });
    expect(att.status, att.body).toBe(200);
    const ev = await h.req('GET', `/studies/${s.studyId}/model/evaluation`, { token: s.researcher });
    expect(ev.status, ev.body).toBe(200);
    expect(ev.json.stored.split).toBe('test');
    expect(ev.json.stored.n).toBe(e.n);
    expect(ev.json.stored.items.map((r: any) => r.item)).toEqual(Object.keys(e.items));
    for (const r of ev.json.stored.items) expect(r.ccc).toBe(Number.isFinite(e.items[r.item].ccc) ? e.items[r.item].ccc : null);
    expect(ev.json.training).toMatchObject({ kind: 'model', epochs: 1 });
    // The reference predictors and the paired difference to the best of them come along (issue 16).
    expect(ev.json.stored.baselines.map((b: any) => b.name)).toEqual(['globalMean', 'personMean', 'lastReport', 'personMeanRidge']);
    expect(ev.json.stored.baselines[1].meanCCC).toBe(e.baselines.personMean.meanCCC);
    expect(ev.json.stored.vsBestBaseline).toEqual({ baseline: e.vsBestBaseline.baseline, diff: e.vsBestBaseline.mean.diff, ciLow: e.vsBestBaseline.mean.ciLow, ciHigh: e.vsBestBaseline.mean.ciHigh });
    expect(ev.json.online.reports).toBe(0);

    // A damaged evaluation.json is an error naming the file and field.
    const installed = join(h.server.ctx.modelsDir, name, 'evaluation.json');
    writeFileSync(installed, JSON.stringify({ n: 'many', items: {} }));
    const bad = await h.req('GET', `/studies/${s.studyId}/model/evaluation`, { token: s.researcher });
    expect(bad.status).toBe(500);
    expect(bad.json.message).toMatch(/evaluation\.json: n:/);
    // Not JSON at all: the error names the file but never quotes its bytes.
    writeFileSync(installed, 'SECRET-7f3a not json');
    const raw = await h.req('GET', `/studies/${s.studyId}/model/evaluation`, { token: s.researcher });
    expect(raw.status).toBe(500);
    expect(raw.json.message).toMatch(/evaluation\.json is not valid JSON/);
    expect(raw.body).not.toContain('SECRET');
  }, 90_000);
});
