/**
 * A tiny in-memory study with per-user structure, for fast model tests: each participant has
 * their own mood offsets (what personalisation can learn) and a shared mapping from activity
 * level and speech features to mood (what the macro path can learn).
 */
import type { Dataset, Split } from '../../src/data/dataset.js';
import { Rng } from '../../src/util/random.js';

export interface TinyOptions { users?: number; perUser?: number; K?: number; W?: number; F?: number; seed?: number; missingSpeech?: number; userEffect?: number }

export function tinyDataset(o: TinyOptions = {}): Dataset {
  const U = o.users ?? 6, per = o.perUser ?? 30, K = o.K ?? 3, W = o.W ?? 12, F = o.F ?? 5, C = 2;
  const rng = new Rng(o.seed ?? 7), n = U * per, ue = o.userEffect ?? 1.5;
  const labels = new Float32Array(n * K), activity = new Float32Array(n * C * W), speech = new Float32Array(n * F);
  const mask = new Uint8Array(n * (C + 1)), participant = new Int32Array(n), time = new Float64Array(n);
  const offsets = Array.from({ length: U }, () => Array.from({ length: K }, () => rng.normal(0, ue)));
  const level = Array.from({ length: U }, () => rng.uniform(1, 4));
  for (let i = 0; i < n; i++) {
    const u = Math.floor(i / per); participant[i] = u; time[i] = 1.7e12 + i * 3.6e6;
    const act = rng.normal(0, 1), voice = rng.normal(0, 1);
    for (let c = 0; c < C; c++) for (let t = 0; t < W; t++) activity[(i * C + c) * W + t] = Math.max(0, Math.exp(level[u] + 0.5 * act + rng.normal(0, 0.3)) - 1);
    for (let f = 0; f < F; f++) speech[i * F + f] = voice * (f % 2 ? 1 : -1) + rng.normal(0, 0.5);
    const hasSpeech = !(o.missingSpeech && rng.bernoulli(o.missingSpeech));
    if (!hasSpeech) for (let f = 0; f < F; f++) speech[i * F + f] = NaN;
    mask[i * (C + 1)] = 1; mask[i * (C + 1) + 1] = 1; mask[i * (C + 1) + 2] = hasSpeech ? 1 : 0;
    for (let k = 0; k < K; k++) {
      const z = offsets[u][k] + (k % 2 ? 1 : -1) * act + 0.8 * voice + rng.normal(0, 0.3);
      labels[i * K + k] = 1 / (1 + Math.exp(-z));
    }
  }
  return {
    items: Array.from({ length: K }, (_, k) => ({ id: `item${k}`, label: `item ${k}`, min: 0, max: 100 })),
    channels: ['zcm', 'pim'], windowEpochs: W, speechFeatures: Array.from({ length: F }, (_, f) => `f${f}`),
    participantIds: Array.from({ length: U }, (_, u) => `P${String(u).padStart(3, '0')}`), n, participant,
    reportIds: Array.from({ length: n }, (_, i) => `R${i}`), time, localHour: new Float32Array(n).fill(12), trigger: Array(n).fill('scheduled'),
    labels, activity, speech, modalityMask: mask,
  };
}

/** Per participant chronologically: 70 % train, 15 % dev, 15 % test. */
export function tinySplit(ds: Dataset): Split {
  const train: number[] = [], dev: number[] = [], test: number[] = [];
  const by = new Map<number, number[]>();
  for (let i = 0; i < ds.n; i++) { const p = ds.participant[i]; if (!by.has(p)) by.set(p, []); by.get(p)!.push(i); }
  for (const idx of by.values()) {
    const nT = Math.round(idx.length * 0.7), nD = Math.round(idx.length * 0.15);
    train.push(...idx.slice(0, nT)); dev.push(...idx.slice(nT, nT + nD)); test.push(...idx.slice(nT + nD));
  }
  return { kind: 'chronological', train: Int32Array.from(train), dev: Int32Array.from(dev), test: Int32Array.from(test) };
}
