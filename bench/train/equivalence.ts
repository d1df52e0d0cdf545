/**
 * Numerical equivalence check for engine/step changes: 12 training steps of five model variants
 * (paper preset, per-user λ, adapter + gated fusion, per-user FFNN + concat + uncertainty weighting,
 * transformer + attention fusion; B = 32, 20 users, missing modalities, unknown users, unlabelled
 * items) → losses and all weights, compared with a dump saved before the change.
 *
 *   npx tsx bench/train/equivalence.ts --save     # before the change (writes /tmp/moodlens-ref.json)
 *   npx tsx bench/train/equivalence.ts            # after: identical values and max abs difference
 */
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tf } from '../../src/model/backend.js';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { MoodModel } from '../../src/model/macro-micro.js';
import { presetConfig, merge } from '../../src/train/presets.js';
import { newMomentum, trainStep } from '../../src/train/trainer.js';
import { exportWeights } from '../../src/model/serialize.js';
import { makeConfig } from '../../src/model/config.js';
import { Rng } from '../../src/util/random.js';
await initNodeBackend();
const B = 32, U = 20, K = 9, F = 21; const rng = new Rng(1);
const r = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
const batches = Array.from({ length: 4 }, () => ({ inputs: [tf.tensor2d(r(B * 60), [B, 60]), tf.tensor2d(r(B * 60), [B, 60]), tf.tensor2d(r(B * F), [B, F])], mask: tf.tensor2d(Float32Array.from({ length: B * 3 }, (_, i) => (i % 7 === 2 ? 0 : 1)), [B, 3]), labels: tf.tensor2d(Float32Array.from({ length: B * K }, () => rng.next()), [B, K]), labelMask: tf.tensor2d(Float32Array.from({ length: B * K }, (_, i) => (i % 5 === 1 ? 0 : 1)), [B, K]), known: tf.tensor2d(Float32Array.from({ length: B }, (_, i) => (i % 9 === 0 ? 0 : 1)), [B, 1]), user: Int32Array.from({ length: B }, (_, i) => (i % 11 === 3 ? -1 : rng.int(U))) } as any));
const h = { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 };
const variants: Record<string, object> = { paper: {}, lambdaUser: { model: { personalization: { learnLambda: 'per-user' } } }, adapter: { model: { personalization: { name: 'adapter' }, fusion: { name: 'gated' } } }, ffnn: { model: { personalization: { name: 'ffnn' }, fusion: { name: 'concat' }, multitask: { name: 'uncertainty' } } }, transformer: { model: { personalization: { name: 'transformer' }, fusion: { name: 'attention' } } } };
const out: Record<string, number[]> = {};
for (const [name, over] of Object.entries(variants)) {
  const cfg = makeConfig(merge(presetConfig('paper') as any, over));
  const m = new MoodModel(cfg.model, { modalities: [{ name: 'zcm', dim: 60 }, { name: 'pim', dim: 60 }, { name: 'speech', dim: F }], K, users: U }, 1);
  const mom = newMomentum(m); const losses: number[] = [];
  for (let s = 0; s < 12; s++) { const o = trainStep(m, mom, batches[s % 4], h); o.L.dispose(); losses.push(o.total); }
  out[name] = [...losses, ...exportWeights(m).data];
  m.dispose();
}
const file = '/tmp/moodlens-ref.json';
if (process.argv.includes('--save') || !existsSync(file)) { writeFileSync(file, JSON.stringify(out)); console.log('saved reference'); }
else {
  const ref = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number[]>;
  for (const k of Object.keys(out)) {
    const a = ref[k], b = out[k]; let maxd = 0, maxrel = 0, same = 0;
    for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (d === 0) same++; maxd = Math.max(maxd, d); maxrel = Math.max(maxrel, d / (Math.abs(a[i]) + 1e-3)); }
    console.log(k.padEnd(12), 'values', a.length, 'identical', same, 'max abs diff', maxd.toExponential(2), 'loss ref', a[11].toFixed(6), 'now', b[11].toFixed(6));
  }
}
