/**
 * A study's `Dataset` (src/data) as sequence-classifier input:
 *   activity — the minute epochs before each report (window.epochs of study.json; ask for a long
 *     window there for long sequences), averaged over `pool` epochs per step, log1p, z-scored
 *     per channel on the training rows; missing epochs count as the training mean (0);
 *   speech — frame-level descriptors when given (e.g. the eGeMAPS LLDs that
 *     `moodlens features --lld` writes), pooled likewise and z-scored; otherwise a FALLBACK
 *     sequence made from the report's speech feature vector: one step per descriptor family
 *     (feature names grouped by their prefix before the last "_"; chunks of 4 columns when that
 *     gives mostly single features), its functionals as the step's features. The fallback is recorded in `notes`.
 * Tasks come from the items through a TasksConfig (tasks.ts). Pure (no I/O).
 */
import type { Dataset, Split } from '../data/dataset.js';
import type { SeqData, SeqModality } from './data.js';
import { buildTasks, type TasksConfig } from './tasks.js';

export interface FrameSequences {
  names: string[];
  /** Per report id: frames × names values (row-major); absent = no recording. */
  byReport: Map<string, Float32Array>;
}

export interface SeqFromDatasetOptions {
  split: Split;
  tasks: TasksConfig;
  /** Activity epochs averaged per sequence step (default 5: 60 min → 12 steps). */
  pool?: number;
  /** Frame-level speech descriptors; without them the fallback sequence is used. */
  frames?: FrameSequences;
  /** Frames averaged per step (default 10: 10 ms frames → 100 ms steps) and the most steps kept. */
  framePool?: number;
  maxFrameSteps?: number;
}

/** z-score columns of an (n·T) × F table in place using the statistics of the rows `fit` (0 stays for missing). */
function standardise(x: Float32Array, F: number, T: number, fitRows: ArrayLike<number>, valid: (i: number, t: number) => boolean): void {
  const mean = new Float64Array(F), sq = new Float64Array(F), cnt = new Float64Array(F);
  for (let j = 0; j < fitRows.length; j++) {
    const i = fitRows[j];
    for (let t = 0; t < T; t++) if (valid(i, t)) for (let f = 0; f < F; f++) {
      const v = x[(i * T + t) * F + f];
      if (Number.isNaN(v)) continue;
      mean[f] += v; sq[f] += v * v; cnt[f]++;
    }
  }
  for (let f = 0; f < F; f++) { mean[f] /= Math.max(1, cnt[f]); sq[f] = Math.sqrt(Math.max(1e-12, sq[f] / Math.max(1, cnt[f]) - mean[f] ** 2)); }
  const n = x.length / (T * F);
  for (let i = 0; i < n; i++) for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) {
    const k = (i * T + t) * F + f;
    x[k] = !valid(i, t) || Number.isNaN(x[k]) ? 0 : (x[k] - mean[f]) / sq[f];
  }
}

export function activitySequence(d: Dataset, split: Split, pool = 5): SeqModality {
  const C = d.channels.length, W = d.windowEpochs;
  const T = Math.ceil(W / pool);
  const x = new Float32Array(d.n * T * C).fill(NaN);
  const length = new Int32Array(d.n);
  for (let i = 0; i < d.n; i++) {
    let any = false;
    for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) {
      let s = 0, m = 0;
      for (let e = t * pool; e < Math.min(W, (t + 1) * pool); e++) {
        const v = d.activity[(i * C + c) * W + e];
        if (!Number.isNaN(v)) { s += Math.log1p(Math.max(0, v)); m++; }
      }
      if (m) { x[(i * T + t) * C + c] = s / m; any = true; }
    }
    length[i] = any ? T : 0;
  }
  standardise(x, C, T, split.train, (i, t) => t < length[i]);
  return { name: 'activity', steps: T, features: C, featureNames: [...d.channels], x, length };
}

/** Fallback: the functionals vector as a sequence over descriptor families. */
export function speechFallbackSequence(d: Dataset, split: Split): SeqModality {
  const names = d.speechFeatures, F = names.length;
  const fam = new Map<string, number[]>();
  names.forEach((nm, j) => {
    const cut = nm.lastIndexOf('_');
    const key = cut > 0 ? nm.slice(0, cut) : nm;
    if (!fam.has(key)) fam.set(key, []);
    fam.get(key)!.push(j);
  });
  // Too few families, or mostly one feature each: chunks of 4 features in column order instead.
  let groups = [...fam.values()];
  if (groups.length < 2 || groups.length > F / 2) groups = Array.from({ length: Math.ceil(F / 4) }, (_, g) => Array.from({ length: Math.min(4, F - 4 * g) }, (_, k) => 4 * g + k));
  const T = groups.length, G = Math.max(...groups.map((g) => g.length));
  const x = new Float32Array(d.n * T * G).fill(NaN);
  const length = new Int32Array(d.n);
  const M = d.channels.length + 1;
  for (let i = 0; i < d.n; i++) {
    if (!d.modalityMask[i * M + M - 1]) continue;
    length[i] = T;
    groups.forEach((g, t) => g.forEach((j, k) => { x[(i * T + t) * G + k] = d.speech[i * F + j]; }));
  }
  // z-score per feature (not per slot): standardise the raw vectors first.
  const raw = new Float32Array(d.n * F);
  raw.set(d.speech);
  standardise(raw, F, 1, split.train, (i) => length[i] > 0);
  for (let i = 0; i < d.n; i++) if (length[i]) groups.forEach((g, t) => g.forEach((j, k) => { x[(i * T + t) * G + k] = raw[i * F + j]; }));
  for (let k = 0; k < x.length; k++) if (Number.isNaN(x[k])) x[k] = 0;
  return { name: 'speech', steps: T, features: G, x, length };
}

export function frameSequence(d: Dataset, split: Split, frames: FrameSequences, pool = 10, maxSteps = 40): SeqModality {
  const F = frames.names.length;
  let T = 1;
  for (const v of frames.byReport.values()) T = Math.max(T, Math.min(maxSteps, Math.ceil(v.length / F / pool)));
  const x = new Float32Array(d.n * T * F).fill(NaN);
  const length = new Int32Array(d.n);
  for (let i = 0; i < d.n; i++) {
    const v = frames.byReport.get(d.reportIds[i]);
    if (!v) continue;
    const nf = v.length / F;
    const L = Math.min(T, Math.ceil(nf / pool));
    length[i] = L;
    for (let t = 0; t < L; t++) for (let f = 0; f < F; f++) {
      let s = 0, m = 0;
      for (let e = t * pool; e < Math.min(nf, (t + 1) * pool); e++) { const u = v[e * F + f]; if (Number.isFinite(u)) { s += u; m++; } }
      if (m) x[(i * T + t) * F + f] = s / m;
    }
  }
  standardise(x, F, T, split.train, (i, t) => t < length[i]);
  return { name: 'speech', steps: T, features: F, featureNames: [...frames.names], x, length };
}

export function seqFromDataset(d: Dataset, o: SeqFromDatasetOptions): SeqData {
  const notes: string[] = [];
  const modalities: SeqModality[] = [activitySequence(d, o.split, o.pool ?? 5)];
  notes.push(`activity: ${d.windowEpochs} epochs × ${d.channels.join('+')}, ${o.pool ?? 5} epochs per step`);
  if (o.frames && o.frames.byReport.size > 0) {
    modalities.push(frameSequence(d, o.split, o.frames, o.framePool ?? 10, o.maxFrameSteps ?? 40));
    notes.push(`speech: frame-level descriptors (${o.frames.names.length}) of ${o.frames.byReport.size} reports, ${o.framePool ?? 10} frames per step`);
  } else if (d.speechFeatures.length > 0) {
    const s = speechFallbackSequence(d, o.split);
    modalities.push(s);
    notes.push(`speech: FALLBACK sequence from the ${d.speechFeatures.length} speech features (${s.steps} steps of ${s.features}), no frame-level descriptors given`);
  } else notes.push('speech: the study has no speech features; activity only');
  const tasks = buildTasks({ items: d.items.map((it) => it.id), values: d.labels, participant: d.participant }, o.tasks, o.split.train);
  return { n: d.n, participantIds: d.participantIds, participant: d.participant, modalities, tasks, split: o.split, notes };
}
