/**
 * Live predictions of a model with the history modality (issue 16): the server's predictor reads
 * the participant's earlier reports and gives (with the plain forward pass) the value the tfjs
 * `predictMembers` gives for the same report when it follows those reports in a dataset; without
 * them the history token is masked and the value differs.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeStudy } from '../../src/synth/index.js';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { loadDataset, makeSplit } from '../../src/train/study-node.js';
import { presetConfig } from '../../src/train/presets.js';
import { fitModel, predictMembers } from '../../src/train/fit.js';
import { ModelPredictor } from '../../src/server/monitoring/predictor-model.js';
import { instancesDataset } from '../../src/data/instances.js';

describe('live prediction with the history modality', () => {
  const root = mkdtempSync(join(tmpdir(), 'moodlens-hist-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('uses the earlier reports, as the offline prediction does', async () => {
    await synthesizeStudy({ out: join(root, 'study'), participants: 4, days: 3, seed: 5, speech: 'features' });
    await initNodeBackend();
    const ds = await loadDataset(join(root, 'study'), 'masked');
    const dir = join(root, 'model');
    const f = await fitModel(ds, makeSplit(ds, 'chronological', 1), presetConfig('monitor', { train: { epochs: 2, ensemble: 2 } }), { out: dir, quiet: true });
    const p = await ModelPredictor.load(dir, { channels: ds.channels, windowEpochs: ds.windowEpochs, items: ds.items, speechKind: 'none' });
    try {
      expect(p.engine).toBe('plain'); // the plain pass reads the history token too
      const pid = ds.participantIds[0], C = ds.channels.length, W = ds.windowEpochs, K = ds.items.length;
      const mine = Array.from({ length: ds.n }, (_, i) => i).filter((i) => ds.participant[i] === 0);
      const target = mine[6], earlier = mine.slice(0, 6);
      const values = (i: number) => Object.fromEntries(ds.items.map((it, k) => [it.id, it.min + ds.labels[i * K + k] * (it.max - it.min)]).filter(([, v]) => Number.isFinite(v)));
      const activity = ds.activity.slice(target * C * W, (target + 1) * C * W);
      const input = (hist: number[]) => ({
        participantId: pid, timeMs: ds.time[target], localHour: ds.localHour[target], activity, speech: null,
        historyCount: async () => hist.length, history: async () => hist.map((i) => ({ timeMs: ds.time[i], values: values(i) })),
      });
      const live = await p.predict(input(earlier));
      const rows = [...earlier.map((i) => ({ timeMs: ds.time[i], localHour: 0, values: values(i), activity: new Float32Array(C * W).fill(NaN), speech: null })),
        { timeMs: ds.time[target], localHour: ds.localHour[target], values: {}, activity, speech: null }];
      const offline = predictMembers(f.members, instancesDataset(pid, rows, ds), Int32Array.of(6));
      ds.items.forEach((it, k) => expect(live.items[it.id].value).toBeCloseTo(it.min + offline[k] * (it.max - it.min), 4));
      const none = await p.predict(input([]));
      expect(ds.items.some((it) => Math.abs(none.items[it.id].value - live.items[it.id].value) > 1e-4)).toBe(true);
    } finally { await p.close(); }
  }, 120_000);
});
