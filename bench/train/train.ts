/**
 * Training speed of the `paper` preset (DRUW fusion, macro-micro, DRUW loss; d = 64, 298 users,
 * ZCM 60 + PIM 60 + speech features) in samples/s at batch 16 and 256 — the trainer's own step
 * (src/train/trainer.ts trainStep) — and, in the same run, the same model in PyTorch
 * (bench/reference/train_reference.py) when a python3 with torch is found, with the ratio.
 *
 *   npx tsx bench/train/train.ts [--seconds 5] [--rounds 3]
 * Each round measures tfjs, then PyTorch (1 thread; 1 thread with the same pooled-token arithmetic;
 * 2 threads) back to back; the table shows medians over rounds and the median of the per-round
 * ratios, which is steadier than one pass on a shared machine. tfjs runs one thread.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { tf } from '../../src/model/backend.js';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { MoodModel } from '../../src/model/macro-micro.js';
import { presetConfig } from '../../src/train/presets.js';
import { newMomentum, trainStep } from '../../src/train/trainer.js';
import { disposeBatch, type BatchTensors } from '../../src/model/inputs.js';
import { SPEECH_FEATURES } from '../../src/synth/index.js';
import { Rng } from '../../src/util/random.js';

const arg = (name: string, d: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : d; };
const SECONDS = arg('--seconds', 5), ROUNDS = arg('--rounds', 3);
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

interface Speed { mean: number; p10: number }
interface TfjsRun { measure(seconds: number): Speed; dispose(): void }
function tfjsRun(B: number): TfjsRun {
  const config = presetConfig('paper');
  const model = new MoodModel(config.model, { modalities: [{ name: 'zcm', dim: 60 }, { name: 'pim', dim: 60 }, { name: 'speech', dim: F }], K, users: U }, 1);
  const momentum = newMomentum(model);
  const rng = new Rng(1);
  const pool = Array.from({ length: 16 }, () => randomBatch(rng, B));
  const h = { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 };
  for (let i = 0; i < 30; i++) trainStep(model, momentum, pool[i % pool.length], h).L.dispose(); // warm-up (JIT, XNNPACK)
  return {
    measure(seconds) {
      let n = 0; const t0 = performance.now(), each: number[] = [];
      while (performance.now() - t0 < seconds * 1000) {
        const s = performance.now(); trainStep(model, momentum, pool[n % pool.length], h).L.dispose(); each.push(performance.now() - s); n++;
      }
      each.sort((a, b) => a - b);
      return { mean: (n * B) / ((performance.now() - t0) / 1000), p10: B / (each[Math.floor(each.length / 10)] / 1000) };
    },
    dispose() { pool.forEach(disposeBatch); model.dispose(); },
  };
}

/** PyTorch variants: nn.TransformerEncoderLayer as written, 1 and 2 threads; pooled-token arithmetic (as tfjs), 1 thread. */
const TORCH = [
  { key: 'pt1', label: 'PyTorch 1 thr', args: ['--threads', '1'] },
  { key: 'pt1p', label: 'PyTorch 1 thr pooled', args: ['--threads', '1', '--pooled'] },
  { key: 'pt2', label: 'PyTorch 2 thr', args: ['--threads', '2'] },
] as const;

let python: string | null | undefined;
function torchSamplesPerSecond(B: number, args: readonly string[]): Speed | null {
  for (const py of python === undefined ? ['/usr/bin/python3', 'python3'] : python ? [python] : []) {
    const r = spawnSync(py, ['bench/reference/train_reference.py', '--batch', String(B), '--seconds', String(SECONDS), '--speech', String(F), ...args], { encoding: 'utf8' });
    if (r.status === 0) { python = py; const j = JSON.parse(r.stdout.trim().split('\n').pop()!); return { mean: j.samples_per_s, p10: j.p10_samples_per_s }; }
  }
  python = null;
  return null;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(0));

await initNodeBackend();
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`paper preset, ${U} users, speech ${F} features; ${ROUNDS} round(s) of ${SECONDS} s per engine, medians; tfjs backend ${tf.getBackend()} (1 thread)`);
console.log(`load average before: ${load()} (${cpus().length} cores, ${cpus()[0]?.model.trim() ?? "unknown CPU"})`);
const header = 'batch | tfjs-wasm | ' + TORCH.map((t) => t.label).join(' | ') + ' | ratio tfjs/' + TORCH.map((t) => t.key).join(', tfjs/');
const rows: Record<'mean' | 'p10', string[]> = { mean: [], p10: [] };
for (const B of [16, 256]) {
  const run = tfjsRun(B);
  const tfs: Record<'mean' | 'p10', number[]> = { mean: [], p10: [] };
  const pt: Record<string, Record<'mean' | 'p10', number[]>> = {};
  const ratios: Record<string, Record<'mean' | 'p10', number[]>> = {};
  for (let r = 0; r < ROUNDS; r++) {
    const t = run.measure(SECONDS); tfs.mean.push(t.mean); tfs.p10.push(t.p10);
    for (const v of TORCH) {
      const p = torchSamplesPerSecond(B, v.args);
      if (p === null) continue;
      for (const k of ['mean', 'p10'] as const) {
        ((pt[v.key] ??= { mean: [], p10: [] })[k]).push(p[k]);
        ((ratios[v.key] ??= { mean: [], p10: [] })[k]).push(t[k] / p[k]);
      }
    }
  }
  run.dispose();
  for (const k of ['mean', 'p10'] as const) {
    const cols = TORCH.map((v) => fmt(pt[v.key] ? median(pt[v.key][k]) : null));
    const rats = TORCH.map((v) => (ratios[v.key] ? median(ratios[v.key][k]).toFixed(2) : '—'));
    rows[k].push(`${String(B).padStart(5)} | ${fmt(median(tfs[k]))} | ${cols.join(' | ')} | ${rats.join(', ')}`);
  }
}
console.log('\nsamples/s over the whole measurement (steps × batch / wall time):');
console.log(header); rows.mean.forEach((r) => console.log(r));
console.log('\nsamples/s from the 10th-percentile step time (batch / p10 step; less disturbed by other jobs):');
console.log(header); rows.p10.forEach((r) => console.log(r));
console.log(`load average after: ${load()}`);
if (python === null) console.log('(no python3 with torch: install Debian python3-torch and libopenblas0-pthread)');
