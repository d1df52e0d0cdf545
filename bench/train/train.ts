/**
 * Training speed of the `paper` preset (DRUW fusion, macro-micro, DRUW loss; d = 64, 298 users,
 * ZCM 60 + PIM 60 + speech features) in samples/s at batch 16 and 256 — the trainer's own step
 * (src/train/trainer.ts trainStep) — and, in the same run, the same model in PyTorch
 * (bench/reference/train_reference.py) when a python3 with torch is found, with the ratio.
 *
 *   npx tsx bench/train/train.ts [--seconds 8]
 * The machine is shared (2 cores): figures are noisy; both engines run one thread, back to back.
 */
import { spawnSync } from 'node:child_process';
import { tf } from '../../src/model/backend.js';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { MoodModel } from '../../src/model/macro-micro.js';
import { presetConfig } from '../../src/train/presets.js';
import { newMomentum, trainStep } from '../../src/train/trainer.js';
import { disposeBatch, type BatchTensors } from '../../src/model/inputs.js';
import { SPEECH_FEATURES } from '../../src/synth/index.js';
import { Rng } from '../../src/util/random.js';

const secIdx = process.argv.indexOf('--seconds');
const SECONDS = secIdx > 0 ? Number(process.argv[secIdx + 1]) : 8;
const U = 298, K = 9, F = SPEECH_FEATURES.length;

function randomBatch(rng: Rng, B: number): BatchTensors {
  const r = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  return {
    inputs: [tf.tensor2d(r(B * 60), [B, 60]), tf.tensor2d(r(B * 60), [B, 60]), tf.tensor2d(r(B * F), [B, F])],
    mask: tf.ones([B, 3]) as tf.Tensor2D, labels: tf.tensor2d(Float32Array.from({ length: B * K }, () => rng.next()), [B, K]),
    labelMask: tf.ones([B, K]) as tf.Tensor2D, known: tf.ones([B, 1]) as tf.Tensor2D,
    user: Int32Array.from({ length: B }, () => rng.int(U)),
  };
}

function tfjsSamplesPerSecond(B: number): { samplesPerS: number; steps: number } {
  const config = presetConfig('paper');
  const model = new MoodModel(config.model, { modalities: [{ name: 'zcm', dim: 60 }, { name: 'pim', dim: 60 }, { name: 'speech', dim: F }], K, users: U }, 1);
  const momentum = newMomentum(model);
  const rng = new Rng(1);
  const pool = Array.from({ length: 16 }, () => randomBatch(rng, B));
  const h = { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 };
  for (let i = 0; i < 5; i++) trainStep(model, momentum, pool[i % pool.length], h).L.dispose();
  let n = 0; const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) { trainStep(model, momentum, pool[n % pool.length], h).L.dispose(); n++; }
  const dt = (performance.now() - t0) / 1000;
  pool.forEach(disposeBatch); model.dispose();
  return { samplesPerS: (n * B) / dt, steps: n };
}

function torchSamplesPerSecond(B: number): number | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['bench/reference/train_reference.py', '--batch', String(B), '--seconds', String(SECONDS), '--speech', String(F)], { encoding: 'utf8' });
    if (r.status === 0) {
      const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
      return j.samples_per_s;
    }
  }
  return null;
}

await initNodeBackend();
console.log(`paper preset, ${U} users, speech ${F} features; ${SECONDS} s per measurement; backend ${tf.getBackend()} (1 thread)`);
console.log('batch | tfjs-wasm samples/s | PyTorch (1 thread) samples/s | ratio tfjs/PyTorch');
for (const B of [16, 256]) {
  const t = tfjsSamplesPerSecond(B);
  const p = torchSamplesPerSecond(B);
  console.log(`${String(B).padStart(5)} | ${t.samplesPerS.toFixed(0).padStart(19)} | ${(p === null ? 'n/a (no python3 torch)' : p.toFixed(0)).padStart(28)} | ${p === null ? '—' : (t.samplesPerS / p).toFixed(2)}`);
}
