/**
 * The plain forward pass (PlainMoodModel, src/model/macro-micro.ts: each fusion / personalisation
 * method's plain twin) against the tfjs model it stands in for. Tiny models covering every fusion,
 * every personalisation and every multitask weighting (single-task and seed ensembles included),
 * the person-mean anchor and the history modality are trained on a synthetic study and saved as
 * model folders; every instance (with missing modalities, trained and unseen participants, and a
 * participant personalised after training) must give the same outputs to ~1e-5.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeStudy } from '../../src/synth/index.js';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { loadDataset, makeSplit } from '../../src/train/study-node.js';
import { presetConfig } from '../../src/train/presets.js';
import { fitModel } from '../../src/train/fit.js';
import { loadModel } from '../../src/train/model-folder.js';
import { readModelFolder } from '../../src/model/folder-node.js';
import { PlainMoodModel, type PersonalLayer } from '../../src/model/macro-micro.js';
import { predict } from '../../src/model/predict.js';
import { historyOf, prepare } from '../../src/model/inputs.js';
import { personalizeParticipant } from '../../src/model/personalize.js';
import { FUSIONS, MULTITASKS, PERSONALIZATIONS } from '../../src/model/config.js';
import type { TrainedModel } from '../../src/train/trainer.js';
import type { Dataset } from '../../src/data/dataset.js';

const ARCHS: { name: string; fusion: string; personalization: string; multitask: string; extra?: object; top?: object; train?: object }[] = [
  { name: 'paper', fusion: 'druw', personalization: 'macro-micro', multitask: 'druw' },
  { name: 'baseline', fusion: 'concat', personalization: 'ffnn', multitask: 'equal' },
  { name: 'max/none/multi-output', fusion: 'max', personalization: 'none', multitask: 'multi-output' },
  { name: 'attention/λ per user', fusion: 'attention', personalization: 'macro-micro', multitask: 'uncertainty', extra: { learnLambda: 'per-user' } },
  { name: 'pure-weighted/λ global/towers', fusion: 'pure-weighted', personalization: 'macro-micro', multitask: 'multi-output', extra: { learnLambda: 'global' } },
  // Issue 16: heads residual to the person-mean anchor (own row / shared row for the unseen), dropout in training only.
  { name: 'paper + person-mean anchor + dropout', fusion: 'druw', personalization: 'macro-micro', multitask: 'druw', top: { anchor: 'person-mean', dropout: 0.2 } },
  { name: 'concat/ffnn/towers + anchor', fusion: 'concat', personalization: 'ffnn', multitask: 'multi-output', top: { anchor: 'person-mean' } },
  { name: 'gated/transformer/dwa', fusion: 'gated', personalization: 'transformer', multitask: 'dwa' },
  { name: 'solo-attention/adapter/fixed', fusion: 'solo-attention', personalization: 'adapter', multitask: 'fixed' },
  { name: 'post-concat-attention/macro-micro/single-task', fusion: 'post-concat-attention', personalization: 'macro-micro', multitask: 'single-task' },
  { name: 'cross-modal-attention/adapter + anchor', fusion: 'cross-modal-attention', personalization: 'adapter', multitask: 'equal', top: { anchor: 'person-mean' } },
  { name: 'separate-transformer/ffnn', fusion: 'separate-transformer', personalization: 'ffnn', multitask: 'druw' },
  // The history modality (issue 16), as the `monitor` preset, in a seed ensemble of two.
  { name: 'history + anchor, ensemble', fusion: 'druw', personalization: 'macro-micro', multitask: 'druw', top: { anchor: 'person-mean', history: true }, train: { ensemble: 2 } },
];

function plainAll(f: PlainMoodModel, ds: Dataset, personal?: Map<string, PersonalLayer>): Float32Array {
  const K = ds.items.length, out = new Float32Array(ds.n * K), hist = historyOf(ds, f.mods);
  for (let i = 0; i < ds.n; i++) out.set(f.forward(ds, i, personal?.get(ds.participantIds[ds.participant[i]]), hist), i * K);
  return out;
}
const tfjsAll = (m: TrainedModel, ds: Dataset) => predict(m.model, prepare(ds, m.mods, m.norm, m.participants), Int32Array.from({ length: ds.n }, (_, i) => i));

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('plain forward pass = tfjs forward pass', () => {
  const root = mkdtempSync(join(tmpdir(), 'moodlens-plain-'));
  let ds: Dataset;
  beforeAll(async () => {
    await synthesizeStudy({ out: join(root, 'study'), participants: 4, days: 3, seed: 5, speech: 'features' });
    await initNodeBackend();
    ds = await loadDataset(join(root, 'study'), 'masked');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('covers every fusion, personalisation and multitask method', () => {
    for (const f of FUSIONS) expect(ARCHS.some((a) => a.fusion === f), f).toBe(true);
    for (const p of PERSONALIZATIONS) expect(ARCHS.some((a) => a.personalization === p), p).toBe(true);
    for (const m of MULTITASKS) expect(ARCHS.some((a) => a.multitask === m), m).toBe(true);
  });

  for (const a of ARCHS) {
    it(`${a.name}: trained, unseen and newly personalised participants`, async () => {
      const dir = join(root, a.name.replace(/[^a-z]/g, '_'));
      const config = presetConfig('paper-original', {
        model: { fusion: { name: a.fusion }, personalization: { name: a.personalization, ...a.extra }, multitask: { name: a.multitask }, ...a.top },
        train: { epochs: 2, ...a.train },
      } as any);
      await fitModel(ds, makeSplit(ds, 'chronological', 1), config, { out: dir, quiet: true });
      const tf = loadModel(dir).members, plain = readModelFolder(dir).members.map((m) => new PlainMoodModel(m));
      expect(plain.length).toBe(tf.length);
      // Some instances lack a modality: the comparison must cover masked inputs.
      const M = ds.channels.length + 1;
      let masked = 0; for (let i = 0; i < ds.n * M; i++) if (!ds.modalityMask[i]) masked++;
      expect(masked).toBeGreaterThan(0);
      const unseen: Dataset = { ...ds, participantIds: ds.participantIds.map((p) => `new-${p}`) };
      tf.forEach((t, j) => {
        const ref = tfjsAll(t, ds);
        let lo = Infinity, hi = -Infinity; for (const v of ref) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        expect(hi - lo).toBeGreaterThan(1e-3); // the outputs vary: a meaningful comparison
        const diff = maxDiff(plainAll(plain[j], ds), ref);
        console.log(`${a.name} (member ${j}): max abs diff ${diff.toExponential(2)} over ${ref.length} outputs in [${lo.toFixed(3)}, ${hi.toFixed(3)}]`);
        expect(diff).toBeLessThan(2e-5);
        // The same instances as an unseen participant's (macro path / mean user).
        expect(maxDiff(plainAll(plain[j], unseen), tfjsAll(t, unseen))).toBeLessThan(2e-5);
      });

      // Personalise one unseen participant in tfjs; the plain pass given those rows must agree.
      const t0 = tf[0];
      if (t0.model.tables.length > 0) {
        const pid = unseen.participantIds[0];
        const mine = Int32Array.from({ length: ds.n }, (_, i) => i).filter((i) => unseen.participant[i] === 0);
        personalizeParticipant(t0, unseen, pid, mine.slice(0, 6), { epochs: 5 });
        const slot = t0.participants.indexOf(pid);
        const rows = new Map(t0.model.tables.map((t) => [t.name, t.data.slice(slot * t.size, (slot + 1) * t.size)]));
        const personal = new Map([[pid, { rows, activityNorm: t0.norm.activity[pid] }]]);
        const f = plainAll(plain[0], unseen, personal), t = tfjsAll(t0, unseen);
        const K = ds.items.length;
        let m = 0;
        for (const i of mine) for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(f[i * K + k] - t[i * K + k]));
        expect(m).toBeLessThan(2e-5);
      }
    }, 120_000);
  }
});
