/**
 * Predictions from a real trained model folder (`moodlens train`'s format): a tiny model is
 * trained on a synthetic study, attached to a server study, and every report then gets a
 * per-item prediction with a split-conformal interval — macro for a new participant, then
 * personalised once they have 5 reports.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeStudy } from '../../src/synth/index.js';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { loadDataset, makeSplit } from '../../src/train/study-node.js';
import { presetConfig } from '../../src/train/presets.js';
import { fitModel } from '../../src/train/fit.js';
import { readCsv } from '../../src/util/csv.js';
import { DAMS, reportBody, setupStudy, startHarness, type Harness } from './helpers.js';

describe('predictions from a trained model folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moodlens-model-'));
  let h: Harness | undefined;
  afterAll(async () => { await h?.close(); rmSync(dir, { recursive: true, force: true }); });

  it('predicts with intervals, macro for new participants, personalised after their first reports', async () => {
    const study = join(dir, 'study'), model = join(dir, 'model');
    await synthesizeStudy({ out: study, participants: 4, days: 3, seed: 3, speech: 'features' });
    await initNodeBackend();
    const ds = await loadDataset(study, 'masked');
    const config = presetConfig('paper', { train: { epochs: 2 } });
    await fitModel(ds, makeSplit(ds, 'chronological', 1), config, { out: model, quiet: true });

    h = await startHarness('sqlite');
    const s = await setupStudy(h, JSON.parse(readFileSync(join(study, 'study.json'), 'utf8')));
    const att = await h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model } });
    expect(att.status, att.body).toBe(200);
    expect(att.json.predictor).toMatch(/^model:druw\/macro-micro\/druw/);

    // A participant the model was trained on, and a new one.
    const first = (await (async () => { for await (const r of readCsv(join(study, 'participants.csv'))) return r.values.participant_id; })())!;
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
    expect(np[5].kind).toBe('personalised'); // fitted from its first 5 reports
    for (const p of [...kp, ...np]) {
      for (const d of DAMS) {
        const it = p.items[d];
        expect(it.value).toBeGreaterThanOrEqual(-1e-6); expect(it.value).toBeLessThanOrEqual(100 + 1e-6);
        expect(it.lo).toBeLessThanOrEqual(it.value + 1e-6); expect(it.hi).toBeGreaterThanOrEqual(it.value - 1e-6);
      }
    }
    // On demand, too.
    const now = await h.req('POST', `/studies/${s.studyId}/participants/NEW1/predict`, { token: s.researcher });
    expect(now.status).toBe(200);
    expect(now.json.kind).toBe('personalised');
  });
});
