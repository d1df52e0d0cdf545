/**
 * Predictions from a real trained model folder (`moodlens train`'s format): a tiny model is
 * trained on a synthetic study (speech as uploaded features), attached to a server study, and
 * every report then gets a per-item prediction with a split-conformal interval — macro for a new
 * participant, personalised once a micro layer fitted on the worker thread has finished. Ingest
 * stays responsive while a fit runs; uploaded speech features reach the model and give the value
 * the offline `moodlens predict` gives for the same instance.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeStudy } from '../../src/synth/index.js';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { loadDataset, makeSplit } from '../../src/train/study-node.js';
import { presetConfig } from '../../src/train/presets.js';
import { fitModel } from '../../src/train/fit.js';
import { run as runCli } from '../../src/cli/main.js';
import { readCsv } from '../../src/util/csv.js';
import type { ModelPredictor } from '../../src/server/monitoring/predictor-model.js';
import { speechFeaturesFromWav } from '../../src/signal/speech/pipeline.js';
import { EGEMAPS_NAMES } from '../../src/signal/speech/egemaps.js';
import { encodeWav16 } from '../../src/signal/wav.js';
import { BACKENDS, DAMS, installModel, reportBody, restartHarness, setupStudy, startHarness, type Harness } from './helpers.js';

async function rowsOf(path: string): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  for await (const r of readCsv(path)) out.push(r.values as Record<string, string>);
  return out;
}

describe('predictions from a trained model folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moodlens-model-'));
  const study = join(dir, 'study'), model = join(dir, 'model');
  let studyJson: any;
  let voiced: Buffer, silent: Buffer;
  let h: Harness | undefined;
  beforeAll(async () => {
    await synthesizeStudy({ out: study, participants: 4, days: 3, seed: 3, speech: 'features' });
    await initNodeBackend();
    const ds = await loadDataset(study, 'masked');
    await fitModel(ds, makeSplit(ds, 'chronological', 1), presetConfig('paper', { train: { epochs: 2 } }), { out: model, quiet: true });
    studyJson = JSON.parse(readFileSync(join(study, 'study.json'), 'utf8'));
    // A synthetic voiced utterance (the synthesizer's audio study) and a silent recording.
    await synthesizeStudy({ out: join(dir, 'audio'), participants: 1, days: 1, seed: 4, speech: 'audio' });
    voiced = readFileSync(join(dir, 'audio', 'speech', 'P001-001.wav'));
    silent = Buffer.from(encodeWav16(new Float32Array(32_000), 16_000));
  });
  afterEach(async () => { await h?.close(); h = undefined; });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records the speech feature names in the model folder', () => {
    const cfg = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
    const header = readFileSync(join(study, 'speech_features.csv'), 'utf8').split('\n')[0].split(',').slice(1);
    expect(cfg.speechFeatures).toEqual(header);
  });

  it('predicts with intervals, macro for new participants, personalised once their fit has finished', async () => {
    h = await startHarness('sqlite');
    const s = await setupStudy(h, studyJson);
    const att = await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: installModel(h, model) } });
    expect(att.status, att.body).toBe(200);
    expect(att.json.predictor).toMatch(/^model:druw\/macro-micro\/druw/);
    expect(att.json.engine).toBe('plain');
    expect(att.json.speechFeatures.used).toBe(true);

    const first = (await rowsOf(join(study, 'participants.csv')))[0].participant_id;
    const known = await s.enrol(first);
    const fresh = await s.enrol('NEW1');
    const t0 = Date.now() - 3 * 86_400_000;
    for (let i = 0; i < 6; i++) {
      for (const [tok, tag] of [[known, 'k'], [fresh, 'n']] as const) {
        const r = await h.req('POST', '/me/reports', { token: tok, body: reportBody(`${tag}${i}`, new Date(t0 + i * 4 * 3_600_000).toISOString(), 20 + 10 * i) });
        expect(r.status).toBe(201);
      }
    }
    await h.server.monitor.idle();
    const kp = (await h.req('GET', `/studies/${s.studyId}/participants/${first}/predictions`, { token: s.researcher })).json;
    const np = (await h.req('GET', `/studies/${s.studyId}/participants/NEW1/predictions`, { token: s.researcher })).json;
    expect(kp).toHaveLength(6);
    expect(np).toHaveLength(6);
    expect(kp.every((p: any) => p.kind === 'personalised')).toBe(true);
    expect(np.slice(0, 5).map((p: any) => p.kind)).toEqual(['macro', 'macro', 'macro', 'macro', 'macro']);
    for (const p of [...kp, ...np]) {
      expect(p.inputs).toEqual({ activity: [], speech: false });
      for (const d of DAMS) {
        const it = p.items[d];
        expect(it.value).toBeGreaterThanOrEqual(-1e-6); expect(it.value).toBeLessThanOrEqual(100 + 1e-6);
        expect(it.lo).toBeLessThanOrEqual(it.value + 1e-6); expect(it.hi).toBeGreaterThanOrEqual(it.value - 1e-6);
      }
    }
    // The 6th report (5 before it) queued a fit on the worker; once it has finished, predictions are personalised.
    const info = await h.server.ctx.studyInfo(s.studyId);
    await h.server.monitor.personalisationIdle(info);
    const st = (await h.req('GET', `/studies/${s.studyId}/model`, { token: s.researcher })).json;
    expect(st.personalisation).toMatchObject({ queued: 0, running: null, done: 1, failed: 0, personalised: 1 });
    const now = await h.req('POST', `/studies/${s.studyId}/participants/NEW1/predict`, { token: s.researcher });
    expect(now.status).toBe(200);
    expect(now.json.kind).toBe('personalised');
  });

  it('keeps ingest responsive while a micro-layer fit runs on the worker thread', async () => {
    // A long fit (400 passes) so that it is certainly still running while the requests below are served.
    h = await startHarness('sqlite', { predictorOptions: { fitEpochs: 400 } });
    const s = await setupStudy(h, studyJson);
    expect((await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: installModel(h, model) } })).status).toBe(200);
    const info = await h.server.ctx.studyInfo(s.studyId);
    const predictor = (await h.server.monitor.predictor(info)) as ModelPredictor;
    const tok = await s.enrol('NEW2');
    const t0 = Date.now() - 2 * 86_400_000;
    for (let i = 0; i < 6; i++) expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody(`a${i}`, new Date(t0 + i * 3_600_000).toISOString(), 30 + i) })).status).toBe(201);
    await predictor.personalisationStarted();
    expect(predictor.personalisation().running).toBe('NEW2');
    // While the fit runs: reports, activity and the schedule are all served.
    for (let i = 6; i < 16; i++) {
      const r = await h.req('POST', '/me/reports', { token: tok, body: reportBody(`a${i}`, new Date(t0 + i * 3_600_000).toISOString(), 30 + i) });
      expect(r.status).toBe(201);
    }
    expect((await h.req('POST', '/me/activity', { token: tok, body: { start: new Date(t0).toISOString(), values: { zcm: [1, 2, 3], pim: [4, 5, 6] } } })).status).toBe(200);
    expect((await h.req('GET', '/me/next', { token: tok })).status).toBe(200);
    await h.server.monitor.idle();
    expect(predictor.personalisation().running).toBe('NEW2'); // the same fit is still in progress
    // Predictions made meanwhile used the latest finished fit: none yet, so macro.
    const during = (await h.req('GET', `/studies/${s.studyId}/participants/NEW2/predictions`, { token: s.researcher })).json;
    expect(during).toHaveLength(16);
    expect(during.every((p: any) => p.kind === 'macro')).toBe(true);
    await predictor.personalisationIdle();
    expect(predictor.personalisation()).toMatchObject({ failed: 0, personalised: 1 });
    expect((await h.req('POST', `/studies/${s.studyId}/participants/NEW2/predict`, { token: s.researcher })).json.kind).toBe('personalised');
  }, 120_000);

  for (const b of BACKENDS) {
    it.skipIf(b.skip)(`${b.name}: uploaded speech features feed the prediction, which equals \`moodlens predict\``, async () => {
      h = await startHarness(b.name);
      const s = await setupStudy(h, studyJson);
      expect((await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: installModel(h, model) } })).status).toBe(200);
      // A report of a participant the model was trained on, with a whole activity window and speech features.
      const reports = await rowsOf(join(study, 'reports.csv'));
      const feats = await rowsOf(join(study, 'speech_features.csv'));
      const featNames = readFileSync(join(study, 'speech_features.csv'), 'utf8').split('\n')[0].split(',').slice(1);
      const rep = reports.filter((r) => feats.some((f) => f.report_id === r.report_id))[8];
      const pid = rep.participant_id;
      const tz = (await rowsOf(join(study, 'participants.csv'))).find((p) => p.participant_id === pid)!.timezone;
      const tok = await s.enrol(pid, tz);
      const act = (await rowsOf(join(study, 'activity.csv'))).filter((a) => a.participant_id === pid);
      const num = (v: string) => (v === '' ? null : Number(v));
      // activity.csv has gaps (no rows): upload each run of consecutive epochs on its own.
      for (let i = 0; i < act.length;) {
        let j = i + 1;
        while (j < act.length && Date.parse(act[j].time) - Date.parse(act[j - 1].time) === 60_000) j++;
        const run = act.slice(i, j);
        expect((await h.req('POST', '/me/activity', { token: tok, body: { start: run[0].time, values: { zcm: run.map((a) => num(a.zcm)), pim: run.map((a) => num(a.pim)) } } })).status).toBe(200);
        i = j;
      }
      const answers = Object.fromEntries(DAMS.filter((d) => rep[d] !== '').map((d) => [d, Number(rep[d])]));
      const r = await h.req('POST', '/me/reports', { token: tok, body: { id: rep.report_id, time: rep.time, trigger: rep.trigger, answers, itemOrder: rep.item_order.split(';') } });
      expect(r.status, r.body).toBe(201);
      await h.server.monitor.idle();
      const f = feats.find((x) => x.report_id === rep.report_id)!;
      const up = await h.req('PUT', `/me/reports/${rep.report_id}/speech-features`, { token: tok, body: { features: Object.fromEntries(featNames.map((n) => [n, num(f[n])])) } });
      expect(up.status, up.body).toBe(201);
      await h.server.monitor.idle();
      const preds = (await h.req('GET', `/studies/${s.studyId}/participants/${pid}/predictions`, { token: s.researcher })).json;
      expect(preds).toHaveLength(2);
      const [masked, withSpeech] = preds;
      expect(masked.inputs).toEqual({ activity: ['zcm', 'pim'], speech: false });
      expect(withSpeech.inputs).toEqual({ activity: ['zcm', 'pim'], speech: true });
      expect(Math.max(...DAMS.map((d) => Math.abs(masked.items[d].value - withSpeech.items[d].value)))).toBeGreaterThan(1e-3);
      // The offline command on the study folder, for the same report.
      const out = join(dir, `predict-${b.name}.csv`);
      expect(await runCli(['predict', '--model', model, '--study', study, '--split', 'all', '--out', out])).toBe(0);
      const offline = (await rowsOf(out)).filter((x) => x.report_id === rep.report_id);
      expect(offline).toHaveLength(DAMS.length);
      // `moodlens predict` rounds to the item's scale (one decimal on 0–100): equal up to that rounding.
      const same = (server: number, csv: string) => expect(Math.abs(server - Number(csv))).toBeLessThanOrEqual(0.05 + 1e-6);
      for (const o of offline) {
        same(withSpeech.items[o.item].value, o.predicted);
        same(withSpeech.items[o.item].lo, o.lower);
        same(withSpeech.items[o.item].hi, o.upper);
      }
    }, 60_000);
  }

  it('checks on attach that the uploaded speech features are the model\'s', async () => {
    h = await startHarness('sqlite');
    const s = await setupStudy(h, studyJson);
    const tok = await s.enrol('F1');
    expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody('x1', new Date(Date.now() - 3_600_000).toISOString()) })).status).toBe(201);
    expect((await h.req('PUT', '/me/reports/x1/speech-features', { token: tok, body: { features: { pitch_mean: 120, loudness: 0.4 } } })).status).toBe(201);
    const att = await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: installModel(h, model) } });
    expect(att.status).toBe(400);
    expect(att.json.issues[0].field).toBe('body.model');
    expect(att.json.message).toMatch(/speech features do not match.*not uploaded: F0semitone.*unknown to the model: pitch_mean/);
    // A study that receives audio: the server computes eGeMAPS, the model's features, so speech is used.
    const s2 = await setupStudy(h, { ...studyJson, speech: { kind: 'audio' } });
    const att2 = await h.req('PUT', `/studies/${s2.studyId}/model`, { token: s2.researcher, body: { model: installModel(h, model) } });
    expect(att2.status, att2.body).toBe(200);
    expect(att2.json.speechFeatures).toMatchObject({ used: true });
    // A study that collects no speech: attached, speech masked out, and it says so.
    const s3 = await setupStudy(h, { ...studyJson, speech: { kind: 'none' } });
    const att3 = await h.req('PUT', `/studies/${s3.studyId}/model`, { token: s3.researcher, body: { model: installModel(h, model) } });
    expect(att3.status, att3.body).toBe(200);
    expect(att3.json.speechFeatures).toMatchObject({ used: false, note: expect.stringMatching(/no speech.*masked out/) });
  });

  for (const b of BACKENDS) {
    it.skipIf(b.skip)(`${b.name}: features computed on the server from uploaded audio (worker thread, after a restart too) feed the prediction; a silent recording is rejected`, async () => {
      // First server: no extraction worker, so the uploads are acknowledged and their features still owed at shutdown.
      h = await startHarness(b.name, { speechWorkers: 0 });
      const s = await setupStudy(h, { ...studyJson, speech: { kind: 'audio' } });
      expect((await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: installModel(h, model) } })).status).toBe(200);
      const tok = await s.enrol('AUD1');
      const t0 = Date.now() - 86_400_000;
      for (const [i, id] of ['v1', 's1', 'v2'].entries()) {
        expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody(id, new Date(t0 + i * 3_600_000).toISOString(), 40 + i) })).status).toBe(201);
      }
      await h.server.monitor.idle();
      const put = (id: string, wav: Buffer) => h!.req('PUT', `/me/reports/${id}/speech`, { token: tok, payload: wav, headers: { 'content-type': 'audio/wav' } });
      expect((await put('v1', voiced)).status).toBe(201);
      expect((await put('s1', silent)).status).toBe(201);
      // Owed: no worker in this process takes their jobs (--speech-workers 0).
      expect(h.server.speech.status()).toMatchObject({ running: 0, done: 0 });
      expect(await h.server.store.speechWithoutFeatures()).toHaveLength(2);

      // Restart: the owed recordings are picked up again and computed on the worker.
      h = await restartHarness(h);
      const db = h.server.store.db as any;
      const ids = Object.fromEntries((await db.selectFrom('reports').select(['id', 'client_id']).execute()).map((r: any) => [r.client_id, r.id]));
      // A fresh upload while the picked-up ones run: queued behind them; requests stay answered meanwhile.
      expect((await put('v2', voiced)).status).toBe(201);
      let answeredDuring = 0;
      for (let i = 0; i < 10; i++) {
        const busy = h.server.speech.status();
        expect((await h.req('GET', '/me/next', { token: tok })).status).toBe(200);
        expect((await h.req('POST', '/me/reports', { token: tok, body: reportBody(`x${i}`, new Date(t0 + (5 + i) * 3_600_000).toISOString()) })).status).toBe(201);
        if (busy.queued + busy.running > 0 && h.server.speech.status().done + h.server.speech.status().rejected < 3) answeredDuring++;
      }
      expect(answeredDuring).toBeGreaterThan(0);
      await h.server.speech.idle();
      await h.server.monitor.idle();
      expect(h.server.speech.status()).toMatchObject({ done: 2, rejected: 1, failed: 0 });
      expect((await h.req('GET', `/studies/${s.studyId}/model`, { token: s.researcher })).json.speechExtraction).toMatchObject({ queued: 0, running: 0, done: 2, rejected: 1 });

      // Features equal what the signal code computes offline for the same bytes, marked as computed on the server.
      const offline = speechFeaturesFromWav(new Uint8Array(voiced.buffer, voiced.byteOffset, voiced.byteLength));
      expect(offline.ok).toBe(true);
      const want = offline.ok ? offline.features.functionals : {};
      for (const id of ['v1', 'v2']) {
        const row = await db.selectFrom('speech_features').selectAll().where('report_id', '=', ids[id]).executeTakeFirstOrThrow();
        expect(row.source).toBe('server');
        const got = JSON.parse(row.features) as Record<string, number | null>;
        expect(Object.keys(got)).toEqual(EGEMAPS_NAMES);
        for (const n of EGEMAPS_NAMES) {
          if (Number.isFinite(want[n])) expect(got[n]).toBeCloseTo(want[n], 9);
          else expect(got[n]).toBeNull();
        }
      }
      // The silent one: no features, a rejection note the dashboard counts as failed.
      expect(await db.selectFrom('speech_features').selectAll().where('report_id', '=', ids.s1).executeTakeFirst()).toBeUndefined();
      const note = await db.selectFrom('web_speech_failures').selectAll().where('report_id', '=', ids.s1).executeTakeFirstOrThrow();
      expect(note.reason).toBe('rejected');
      expect(h.server.store.keys.openValue(note.detail!, `web_speech_failures.detail:${note.report_id}`)).toMatch(/^server: silent: /); // sealed at rest
      const quality = await h.server.store.reportSpeech(s.studyId);
      expect(quality.filter((r) => r.failure === 'rejected').map((r) => r.client_id)).toEqual(['s1']);
      expect(quality.filter((r) => r.features).map((r) => r.client_id)).toEqual(['v1', 'v2']);

      // Predictions: the voiced reports were predicted again with speech; the silent one stays masked.
      const preds = async (id: string) => (await db.selectFrom('predictions').selectAll().where('report_id', '=', ids[id]).orderBy('id').execute())
        .map((p: any) => ({ inputs: JSON.parse(p.inputs), items: JSON.parse(p.items) }));
      for (const id of ['v1', 'v2']) {
        const ps = await preds(id);
        expect(ps.map((p: any) => p.inputs.speech).sort()).toEqual([false, true]);
        const masked = ps.find((p: any) => !p.inputs.speech)!, withSpeech = ps.find((p: any) => p.inputs.speech)!;
        expect(Math.max(...DAMS.map((d) => Math.abs(masked.items[d].value - withSpeech.items[d].value)))).toBeGreaterThan(1e-3);
      }
      expect((await preds('s1')).map((p: any) => p.inputs.speech)).toEqual([false]);

      // Idempotent: nothing is owed any more, so a further restart queues nothing.
      expect(await h.server.speech.resume()).toBe(0);
      // Withdrawal leaves nothing behind (features, rejection notes, files).
      const del = await h.req('DELETE', `/studies/${s.studyId}/participants/AUD1`, { token: s.researcher });
      expect(del.status, del.body).toBe(200);
      expect(await db.selectFrom('speech_features').selectAll().where('study_id', '=', s.studyId).execute()).toHaveLength(0);
      expect(await db.selectFrom('web_speech_failures').selectAll().where('study_id', '=', s.studyId).execute()).toHaveLength(0);
    }, 60_000);
  }
});
