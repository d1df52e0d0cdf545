import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { makeConfig } from '../../src/model/config.js';
import { train, type TrainState } from '../../src/train/trainer.js';
import { fitModel, labelsOf, predictMembers } from '../../src/train/fit.js';
import { loadModel, saveState } from '../../src/train/model-folder.js';
import { exportWeights } from '../../src/model/serialize.js';
import { personalizeParticipant } from '../../src/model/personalize.js';
import { meanCCC } from '../../src/eval/evaluate.js';
import { fitConformal, conformalQuantile } from '../../src/eval/conformal.js';
import { tinyDataset, tinySplit } from '../model/helpers.js';
import type { Split } from '../../src/data/dataset.js';
import { Rng } from '../../src/util/random.js';

await initNodeBackend();
const ds = tinyDataset({ users: 5, perUser: 24 });
const split = tinySplit(ds);
const cfg = (epochs: number, extra = {}) => makeConfig({ model: { width: 8, heads: 2, ...extra }, train: { epochs, batchSize: 8, lr: 0.01, seed: 4 } });

describe('trainer', () => {
  it('is deterministic for a seed, and the DRUW s_k (task) and s_m (fusion) move', async () => {
    const a = await train(ds, split, { config: cfg(2), quiet: true });
    const b = await train(ds, split, { config: cfg(2), quiet: true });
    expect(Array.from(exportWeights(a.model).data)).toEqual(Array.from(exportWeights(b.model).data));
    const sk = Array.from(a.model.ps.get('multitask.druw.s').dataSync());
    expect(sk.some((s) => Math.abs(s - 0.33) > 1e-3)).toBe(true);
    const sm = Array.from(a.model.ps.get('fusion.druw.s').dataSync());
    expect(sm.some((s) => Math.abs(s - Math.sqrt(1 / 3)) > 1e-3)).toBe(true);
    a.model.dispose(); b.model.dispose();
  });

  it('resumes after a kill to exactly the uninterrupted result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-resume-'));
    try {
      const full = await train(ds, split, { config: cfg(3), quiet: true });
      // "Kill" after epoch 2: the state saved by the epoch hook is all that survives.
      let saved: TrainState | null = null;
      await expect(train(ds, split, { config: cfg(3), quiet: true, onEpoch: (info, state) => {
        if (info.epoch === 2) { saved = state(); throw new Error('killed'); }
      } })).rejects.toThrow('killed');
      expect(saved).not.toBeNull();
      const resumed = await train(ds, split, { config: cfg(3), quiet: true, resume: saved! });
      expect(Array.from(exportWeights(resumed.model).data)).toEqual(Array.from(exportWeights(full.model).data));
      expect(resumed.history.length).toBe(3);
      // Through the model folder: fitModel picks up a state/ with a matching fingerprint.
      saveState(dir, saved!, 'mismatch');
      const fitted = await fitModel(ds, split, cfg(3), { out: dir, quiet: true });
      expect(existsSync(join(dir, 'state'))).toBe(false);
      const loaded = loadModel(dir);
      const p1 = predictMembers(fitted.members, ds, split.test), p2 = predictMembers(loaded.members, ds, split.test);
      expect(Array.from(p2)).toEqual(Array.from(p1));
      expect(loaded.conformal!.halfWidth.every((q) => q > 0)).toBe(true);
      for (const m of [full, resumed, ...fitted.members, ...loaded.members]) m.model.dispose();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('new participants', () => {
  it('get macro-only predictions, and personalising on their first 10 reports raises CCC on later ones', async () => {
    const big = tinyDataset({ users: 14, perUser: 40, userEffect: 2, seed: 11 });
    const heldOut = [11, 12, 13];
    const trainIdx: number[] = [], devIdx: number[] = [];
    for (let i = 0; i < big.n; i++) {
      if (heldOut.includes(big.participant[i])) continue;
      (i % 40 < 32 ? trainIdx : devIdx).push(i);
    }
    const sp: Split = { kind: 'participant-held-out', train: Int32Array.from(trainIdx), dev: Int32Array.from(devIdx), test: new Int32Array(0) };
    const fitted = await fitModel(big, sp, makeConfig({ model: { width: 16, heads: 2 }, train: { epochs: 8, batchSize: 16, lr: 0.01 } }), { quiet: true });
    const tm = fitted.members[0];
    expect(tm.participants).not.toContain(big.participantIds[11]);
    let before = 0, after = 0;
    for (const u of heldOut) {
      const mine = Array.from({ length: big.n }, (_, i) => i).filter((i) => big.participant[i] === u);
      const first = Int32Array.from(mine.slice(0, 10)), later = Int32Array.from(mine.slice(10));
      const b = meanCCC(labelsOf(big, later), predictMembers([tm], big, later), 3).mean;
      const secs = personalizeParticipant(tm, big, big.participantIds[u], first);
      expect(secs).toBeLessThan(30);
      const a = meanCCC(labelsOf(big, later), predictMembers([tm], big, later), 3).mean;
      before += b / heldOut.length; after += a / heldOut.length;
    }
    expect(after).toBeGreaterThan(before + 0.05);
    tm.model.dispose();
  }, 120_000);
});

describe('split-conformal', () => {
  it('covers ≈ 1 − α of exchangeable new residuals', () => {
    const rng = new Rng(5), K = 1, n = 400;
    const a = Float32Array.from({ length: n }, () => rng.normal()), p = new Float32Array(n);
    const c = fitConformal(a, p, ['x'], 0.1);
    let hit = 0; for (let i = 0; i < 4000; i++) if (Math.abs(rng.normal()) <= c.halfWidth[0]) hit++;
    expect(hit / 4000).toBeGreaterThan(0.87); expect(hit / 4000).toBeLessThan(0.94);
    expect(conformalQuantile([1, 2, 3], 0.1)).toBe(Infinity); // rank 4 > n
    expect(K).toBe(1);
  });
});
