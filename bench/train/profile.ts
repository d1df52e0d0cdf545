/**
 * Where a training step's time goes (paper preset): kernel count and time per kernel name
 * (tf.profile), and wall time of the step's phases.
 *
 *   npx tsx bench/train/profile.ts [--batch 256] [--steps 20]
 */
import { tf } from '../../src/model/backend.js';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { MoodModel } from '../../src/model/macro-micro.js';
import { presetConfig } from '../../src/train/presets.js';
import { newMomentum, trainStep, type StepTiming } from '../../src/train/trainer.js';
import { type BatchTensors } from '../../src/model/inputs.js';
import { SPEECH_FEATURES } from '../../src/synth/index.js';
import { Rng } from '../../src/util/random.js';

const arg = (n: string, d: number) => { const i = process.argv.indexOf(n); return i > 0 ? Number(process.argv[i + 1]) : d; };
const B = arg('--batch', 256), STEPS = arg('--steps', 20);
const U = 298, K = 9, F = SPEECH_FEATURES.length;

await initNodeBackend();
const rng = new Rng(1);
const r = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
const b: BatchTensors = {
  inputs: [tf.tensor2d(r(B * 60), [B, 60]), tf.tensor2d(r(B * 60), [B, 60]), tf.tensor2d(r(B * F), [B, F])],
  mask: tf.ones([B, 3]) as tf.Tensor2D, labels: tf.tensor2d(Float32Array.from({ length: B * K }, () => rng.next()), [B, K]),
  labelMask: tf.ones([B, K]) as tf.Tensor2D, known: tf.ones([B, 1]) as tf.Tensor2D,
  user: Int32Array.from({ length: B }, () => rng.int(U)),
};
const config = presetConfig('paper');
const model = new MoodModel(config.model, { modalities: [{ name: 'zcm', dim: 60 }, { name: 'pim', dim: 60 }, { name: 'speech', dim: F }], K, users: U }, 1);
const momentum = newMomentum(model);
const h = { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 };
for (let i = 0; i < 5; i++) trainStep(model, momentum, b, h).L.dispose();

const t0 = performance.now(), c0 = process.cpuUsage(), each: number[] = [];
for (let i = 0; i < STEPS; i++) { const s = performance.now(); trainStep(model, momentum, b, h).L.dispose(); each.push(performance.now() - s); }
const stepMs = (performance.now() - t0) / STEPS, cpu = process.cpuUsage(c0), cpuMs = (cpu.user + cpu.system) / 1000 / STEPS;
each.sort((x, y) => x - y);
const p10 = each[Math.floor(STEPS / 10)];
console.log(`batch ${B}: ${stepMs.toFixed(2)} ms/step wall (fastest ${each[0].toFixed(2)}, 10th percentile ${p10.toFixed(2)} → ${(B / p10 * 1000).toFixed(0)} samples/s), ${cpuMs.toFixed(2)} ms/step CPU`);
if (process.argv.includes('--quick')) process.exit(0);

const REPS = 5;
const by = new Map<string, { n: number; ms: number }>();
const byShape = new Map<string, { n: number; ms: number }>();
let total = 0, count = 0;
for (let rep = 0; rep < REPS; rep++) {
  const prof = await tf.profile(() => { trainStep(model, momentum, b, h).L.dispose(); });
  count += prof.kernels.length;
  for (const k of prof.kernels) {
    if (k.name.endsWith('__op')) continue; // op wrappers around kernels (counted inside)
    const ms = k.kernelTimeMs as number;
    const e = by.get(k.name) ?? { n: 0, ms: 0 }; e.n++; e.ms += ms; by.set(k.name, e); total += ms;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const f = byShape.get(key) ?? { n: 0, ms: 0 }; f.n++; f.ms += ms; byShape.set(key, f);
  }
}
console.log(`kernels per step: ${count / REPS}, summed kernel time ${(total / REPS).toFixed(2)} ms per profiled step`);
for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.log(`${name.padEnd(28)} ${String(e.n / REPS).padStart(5)} ${(e.ms / REPS).toFixed(2).padStart(8)} ms`);
if (process.argv.includes('--shapes')) {
  for (const [key, e] of [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40)) console.log(`${(e.ms / REPS).toFixed(2).padStart(7)} ms  x${e.n / REPS}  ${key}`);
}

// Phases of one step (trainStep's own timing).
if (process.argv.includes('--phases')) {
  const timing: StepTiming = { rows: 0, forward: 0, backward: 0, shared: 0, tables: 0, rest: 0 };
  for (let i = 0; i < STEPS; i++) trainStep(model, momentum, b, h, timing).L.dispose();
  console.log('phase ms/step: ' + Object.entries(timing).map(([k, v]) => `${k} ${(v / STEPS).toFixed(2)}`).join(', '));
}
