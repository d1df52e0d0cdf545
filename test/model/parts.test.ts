import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src/model/backend.js';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { FUSIONS, PERSONALIZATIONS, MULTITASKS, makeConfig, type ConfigInput } from '../../src/model/config.js';
import { train } from '../../src/train/trainer.js';
import { fitModel, predictMembers } from '../../src/train/fit.js';
import { tinyDataset, tinySplit } from './helpers.js';

const ds = tinyDataset({ users: 4, perUser: 20, missingSpeech: 0.2 });
const split = tinySplit(ds);
const small = (m: ConfigInput['model'], epochs = 1): ConfigInput => ({ model: { width: 8, heads: 2, ...m }, train: { epochs, batchSize: 8, lr: 0.01 } });

beforeAll(async () => { await initNodeBackend(); });

async function runsFinite(input: ConfigInput): Promise<void> {
  const fitted = await fitModel(ds, split, makeConfig(input), { quiet: true });
  const p = predictMembers(fitted.members, ds, split.test);
  expect(p.length).toBe(split.test.length * ds.items.length);
  for (const v of p) { expect(Number.isFinite(v)).toBe(true); expect(v).toBeGreaterThan(0); expect(v).toBeLessThan(1); }
  for (const m of fitted.members) m.model.dispose();
}

describe('every part trains and predicts (also with a missing modality)', () => {
  for (const f of FUSIONS) it(`fusion ${f}`, async () => { await runsFinite(small({ fusion: { name: f } }, 2)); });
  for (const p of PERSONALIZATIONS) it(`personalisation ${p}`, async () => { await runsFinite(small({ personalization: { name: p } }, 2)); });
  for (const m of MULTITASKS) it(`multitask ${m}`, async () => { await runsFinite(small({ multitask: { name: m } }, 2)); });
  for (const l of ['fixed', 'global', 'per-user'] as const) it(`macro-micro λ ${l}`, async () => { await runsFinite(small({ personalization: { name: 'macro-micro', learnLambda: l } }, 2)); });
  it('task loss MSE', async () => { await runsFinite(small({ multitask: { name: 'equal', taskLoss: 'mse' } }, 2)); });
  it('single modalities', async () => {
    for (const m of ['zcm', 'pim', 'speech']) await runsFinite(small({ modalities: [m] }, 1));
  });
});

describe('full grid fusion × personalisation × multitask (one step each)', () => {
  it('all combinations run a training step with finite loss', async () => {
    const one = tinyDataset({ users: 3, perUser: 12, K: 2, W: 6, F: 3, missingSpeech: 0.3 });
    const sp = tinySplit(one);
    const tiny = { ...sp, train: sp.train.slice(0, 8) };
    let combos = 0;
    for (const f of FUSIONS) for (const p of PERSONALIZATIONS) for (const m of MULTITASKS) {
      if (m === 'single-task') continue; // = 'equal' per item, covered above
      const tm = await train(one, tiny, { config: makeConfig({ model: { width: 4, heads: 1, fusion: { name: f, chunks: 2 }, personalization: { name: p, microHidden: 2, adapterBottleneck: 2 }, multitask: { name: m } }, train: { epochs: 1, batchSize: 8 } }), quiet: true });
      expect(Number.isFinite(tm.history[0].trainLoss)).toBe(true);
      tm.model.dispose(); combos++;
    }
    expect(combos).toBe(FUSIONS.length * PERSONALIZATIONS.length * (MULTITASKS.length - 1));
    expect(tf.memory().numTensors).toBeLessThan(2000);
  }, 120_000);
});
