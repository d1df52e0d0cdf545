/**
 * One instance builder: for every report of a participant uploaded through the API as the apps
 * would (wristband epochs in runs, reports, speech features), the inputs the server hands its
 * predictor — activity window, modality masks, speech features, local hour, the earlier reports'
 * scaled labels and the history features built from them — are bit for bit the instance
 * `moodlens train` / `moodlens predict` build from the study folder.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeStudy } from '../../src/synth/index.js';
import { buildDataset } from '../../src/data/index.js';
import { reportWithHistory } from '../../src/data/instances.js';
import { historyFeatures } from '../../src/data/history.js';
import { readCsv } from '../../src/util/csv.js';
import type { Predictor, PredictionInput } from '../../src/server/monitoring/predictor.js';
import { startHarness, setupStudy, type Harness } from './helpers.js';

async function rowsOf(path: string): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  for await (const r of readCsv(path)) out.push(r.values as Record<string, string>);
  return out;
}

/** Row i of an n × w column. */
const row = (a: ArrayLike<number>, i: number, w: number) => Array.from({ length: w }, (_, j) => a[i * w + j]);

describe('the CLI and the server build the same instance', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moodlens-inst-'));
  let h: Harness | undefined;
  afterAll(async () => { await h?.close(); rmSync(dir, { recursive: true, force: true }); });

  it('bit for bit: window, masks, speech, local hour, labels and history features', async () => {
    const study = join(dir, 'study');
    await synthesizeStudy({ out: study, participants: 2, days: 3, seed: 7, speech: 'features' });
    const { dataset: ds } = await buildDataset(study, { policy: 'masked' });
    const config = JSON.parse(readFileSync(join(study, 'study.json'), 'utf8'));
    const featNames = readFileSync(join(study, 'speech_features.csv'), 'utf8').split('\n')[0].split(',').slice(1);

    // A predictor that records what the monitor gives it (the last input per report time).
    const seen = new Map<number, PredictionInput>();
    const recorder = async (): Promise<Predictor> => ({
      name: 'recorder', speechFeatures: featNames,
      predict: async (input) => { seen.set(input.timeMs, input); return { kind: 'macro', items: {} }; },
    });
    h = await startHarness('sqlite', { loadPredictor: recorder });
    mkdirSync(join(h.server.ctx.modelsDir, 'recorder'));
    writeFileSync(join(h.server.ctx.modelsDir, 'recorder', 'config.json'), '{}');
    const s = await setupStudy(h, config);
    expect((await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model: 'recorder' } })).status).toBe(200);

    const p = 0, pid = ds.participantIds[p];
    const tz = (await rowsOf(join(study, 'participants.csv'))).find((r) => r.participant_id === pid)!.timezone;
    const tok = await s.enrol(pid, tz);
    const channels: string[] = ds.channels;
    const num = (v: string) => (v === '' ? null : Number(v));
    const act = (await rowsOf(join(study, 'activity.csv'))).filter((a) => a.participant_id === pid);
    for (let i = 0; i < act.length;) { // each run of consecutive epochs on its own
      let j = i + 1;
      while (j < act.length && Date.parse(act[j].time) - Date.parse(act[j - 1].time) === 60_000) j++;
      const run = act.slice(i, j);
      const r = await h.req('POST', '/me/activity', { token: tok, body: { start: run[0].time, values: Object.fromEntries(channels.map((c) => [c, run.map((a) => num(a[c]))])) } });
      expect(r.status, r.body).toBe(200);
      i = j;
    }
    // The participant's reports that are instances (at least one item answered), oldest first.
    const mine = Array.from({ length: ds.n }, (_, i) => i).filter((i) => ds.participant[i] === p);
    const reports = new Map((await rowsOf(join(study, 'reports.csv'))).map((r) => [r.report_id, r]));
    const feats = new Map((await rowsOf(join(study, 'speech_features.csv'))).map((f) => [f.report_id, f]));
    for (const i of mine) {
      const rep = reports.get(ds.reportIds[i])!;
      const answers = Object.fromEntries(ds.items.filter((it) => rep[it.id] !== '').map((it) => [it.id, Number(rep[it.id])]));
      const r = await h.req('POST', '/me/reports', { token: tok, body: { id: rep.report_id, time: rep.time, trigger: rep.trigger, answers, itemOrder: rep.item_order.split(';') } });
      expect(r.status, r.body).toBe(201);
      const f = feats.get(rep.report_id);
      if (f) {
        const up = await h.req('PUT', `/me/reports/${rep.report_id}/speech-features`, { token: tok, body: { features: Object.fromEntries(featNames.map((n) => [n, num(f[n])])) } });
        expect(up.status, up.body).toBe(201);
      }
    }
    await h.server.monitor.idle();

    const C = channels.length, W = ds.windowEpochs, F = ds.speechFeatures.length, K = ds.items.length, M = C + 1;
    const cli = historyFeatures(ds), H = cli.names.length;
    let maskedModalities = 0, withHistory = 0;
    for (const [r, i] of mine.entries()) {
      const input = seen.get(ds.time[i]);
      expect(input, ds.reportIds[i]).toBeDefined();
      // The server's path: the predictor's instance after the participant's earlier reports.
      const srv = reportWithHistory(input!.participantId, { timeMs: input!.timeMs, localHour: input!.localHour, values: {}, activity: input!.activity, speech: input!.speech },
        await input!.history(), ds);
      const j = srv.n - 1;
      expect(j, ds.reportIds[i]).toBe(r); // every earlier report, none later
      expect(srv.time[j]).toBe(ds.time[i]);
      expect(srv.localHour[j]).toBe(ds.localHour[i]);
      expect(row(srv.activity, j, C * W)).toEqual(row(ds.activity, i, C * W));
      expect(row(srv.modalityMask, j, M)).toEqual(row(ds.modalityMask, i, M));
      expect(row(srv.speech, j, F)).toEqual(row(ds.speech, i, F));
      mine.slice(0, r).forEach((e, q) => expect(row(srv.labels, q, K)).toEqual(row(ds.labels, e, K)));
      const hs = historyFeatures(srv);
      expect(row(hs.values, j, H)).toEqual(row(cli.values, i, H));
      expect(hs.mask[j]).toBe(cli.mask[i]);
      maskedModalities += row(ds.modalityMask, i, M).filter((m) => m === 0).length;
      withHistory += cli.mask[i];
    }
    // The comparison covered missing modalities and both masked and present history.
    expect(maskedModalities).toBeGreaterThan(0);
    expect(withHistory).toBeGreaterThan(0);
    expect(withHistory).toBeLessThan(mine.length);
  }, 120_000);
});
