/**
 * The papers' experiment designs as lists of "arms" (one model configuration each), run over
 * several seeds and scored on one common test set with participant × seed bootstrap intervals.
 *
 *   AMM (seed 002): Table IV — single-task (STL) vs multi-task (MTL) × each modality alone vs all;
 *                   Table V — ablations of the full model: no I_e, no I_t, neither.
 *   MIMML (seed 003): each modality alone vs all; ablations: no MI term, no auxiliary heads, neither.
 *
 * Metrics (AMM §IV-A): precision and recall (macro over classes), micro-F1, accuracy, balanced
 * accuracy. Micro-F1 equals accuracy for single-label classification; both are reported as the
 * paper does. Intervals: percentile bootstrap resampling (seed, participant) clusters of the
 * pooled test predictions (src/eval/bootstrap.ts); comparisons are paired (same resamples).
 */
import { accuracy, balancedAccuracy, f1, precision, recall } from '../eval/metrics.js';
import { bootstrapByGroupVector, type BootstrapInterval } from '../eval/bootstrap.js';
import type { AmmConfig, MimmlConfig, TrainConfig } from './config.js';
import type { SeqData } from './data.js';
import { createAmm } from './amm.js';
import { createMimml } from './mimml.js';
import type { SeqModel } from './model.js';
import { trainSeqModel, usableRows, type EpochLog } from './train.js';

export interface Arm {
  id: string;
  /** Table group, e.g. "STL vs MTL" or "ablation". */
  group: string;
  label: string;
  system: 'amm' | 'mimml';
  modalities: string[];
  tasks: string[];
  /** Switches and settings on top of the system's defaults. */
  options: Partial<AmmConfig> | Partial<MimmlConfig>;
}

export interface DesignInput { modalities: string[]; main: string; secondary?: string }

/** AMM Tables IV and V. */
export function ammDesign(d: DesignInput, parts: Array<'stl-mtl' | 'ablation'> = ['stl-mtl', 'ablation'], secondaryStl = true): Arm[] {
  const arms: Arm[] = [];
  const sets = [...(d.modalities.length > 1 ? d.modalities.map((m) => [m]) : []), d.modalities];
  const tag = (ms: string[]) => (ms.length === d.modalities.length && ms.length > 1 ? 'all' : ms.join('+'));
  if (parts.includes('stl-mtl')) {
    for (const ms of sets) {
      arms.push({ id: `stl-${tag(ms)}`, group: 'STL vs MTL', label: `STL ${ms.join('+')}`, system: 'amm', modalities: ms, tasks: [d.main], options: {} });
      if (d.secondary && secondaryStl) arms.push({ id: `stl-emo-${tag(ms)}`, group: 'STL vs MTL', label: `STL ${ms.join('+')} (secondary)`, system: 'amm', modalities: ms, tasks: [d.secondary], options: {} });
      if (d.secondary) arms.push({ id: `mtl-${tag(ms)}`, group: 'STL vs MTL', label: `MTL ${ms.join('+')}`, system: 'amm', modalities: ms, tasks: [d.main, d.secondary], options: {} });
    }
  }
  if (parts.includes('ablation') && d.secondary && d.modalities.length > 1) {
    const base = { system: 'amm' as const, modalities: d.modalities, tasks: [d.main, d.secondary], group: 'ablation' };
    arms.push({ ...base, id: 'no-ie', label: 'No I_e attention', options: { interModal: false } });
    arms.push({ ...base, id: 'no-it', label: 'No I_t attention', options: { interTask: false } });
    arms.push({ ...base, id: 'no-att', label: 'No attention', options: { interModal: false, interTask: false } });
    if (!parts.includes('stl-mtl')) arms.push({ ...base, id: 'mtl-all', label: 'AMM', options: {} });
  }
  return arms;
}

/** MIMML: modalities alone vs all, and the ablations of the full model. */
export function mimmlDesign(d: DesignInput, parts: Array<'modalities' | 'ablation'> = ['modalities', 'ablation']): Arm[] {
  const tasks = d.secondary ? [d.main, d.secondary] : [d.main];
  const arms: Arm[] = [];
  const base = { system: 'mimml' as const, tasks };
  if (parts.includes('modalities')) {
    if (d.modalities.length > 1) for (const m of d.modalities) arms.push({ ...base, id: `uni-${m}`, group: 'modalities', label: `${m} only`, modalities: [m], options: {} });
    arms.push({ ...base, id: 'full', group: 'modalities', label: 'MIMML (all modalities)', modalities: d.modalities, options: {} });
  }
  if (parts.includes('ablation') && d.modalities.length > 1) {
    if (!parts.includes('modalities')) arms.push({ ...base, id: 'full', group: 'ablation', label: 'MIMML', modalities: d.modalities, options: {} });
    arms.push({ ...base, id: 'no-mi', group: 'ablation', label: 'No MI term', modalities: d.modalities, options: { mi: false } });
    arms.push({ ...base, id: 'no-aux', group: 'ablation', label: 'No auxiliary heads', modalities: d.modalities, options: { aux: false } });
    arms.push({ ...base, id: 'no-mi-aux', group: 'ablation', label: 'No MI, no auxiliary', modalities: d.modalities, options: { mi: false, aux: false } });
  }
  return arms;
}

export function buildModel(data: SeqData, arm: Arm, seed: number, overrides: Record<string, unknown> = {}): SeqModel {
  const cfg = { ...overrides, ...arm.options, modalities: arm.modalities, tasks: arm.tasks };
  return arm.system === 'amm' ? createAmm(data, cfg as AmmConfig, seed) : createMimml(data, cfg as MimmlConfig, seed);
}

export const METRICS = ['precision', 'recall', 'microF1', 'accuracy', 'balancedAccuracy'] as const;
export type MetricName = (typeof METRICS)[number];

/** The five scores of one set of (actual, predicted) labels. */
export function scores(actual: number[], predicted: number[]): number[] {
  return [
    precision(actual, predicted, { average: 'macro' }),
    recall(actual, predicted, { average: 'macro' }),
    f1(actual, predicted, { average: 'micro' }),
    accuracy(actual, predicted),
    balancedAccuracy(actual, predicted),
  ];
}

/** Test predictions of one arm: per seed, per task of the arm, predicted class per common test row. */
export interface ArmRun { arm: Arm; predicted: Map<string, Int32Array[]>; seconds: number[]; bestEpochs: number[] }

export interface ExperimentOptions {
  seeds: number[];
  train?: Partial<TrainConfig>;
  /** Model settings applied to every arm (e.g. smaller widths). */
  model?: Record<string, unknown>;
  bootstrap?: number;
  onRun?: (info: { arm: Arm; seed: number; index: number; total: number }) => void;
  onEpoch?: (info: { arm: Arm; seed: number; log: EpochLog }) => void;
  /**
   * Score multimodal arms also on test reports that lack some of their modalities (masked fusion;
   * a single-modality arm still needs its one). Default: only reports with every modality.
   */
  masked?: boolean;
}

export interface MetricRow {
  armId: string; group: string; label: string; task: string; modalities: string;
  n: number; seeds: number;
  metrics: Record<MetricName, BootstrapInterval>;
}

export interface Comparison {
  claim: string; better: string; worse: string; task: string;
  metric: MetricName;
  delta: BootstrapInterval;
  /** The paired interval of better − worse lies above 0. */
  beyondCI: boolean;
}

/** The main task's test predictions of every arm, for pooling several runs (`pooledComparison`). */
export interface RunPredictions {
  /** Main task (the first arm's first task), its labels and the participant of each common test row. */
  task: string;
  labels: number[];
  participant: string[];
  /** Arm id → seed → predicted class per common test row. */
  arms: Record<string, Record<string, number[]>>;
  /** The seeds in run order (object keys would list them sorted); absent in files written before. */
  seeds?: string[];
}

export interface ExperimentResult {
  rows: MetricRow[];
  comparisons: Comparison[];
  testRows: Int32Array;
  notes: string[];
  predictions: RunPredictions;
}

/**
 * Test rows every arm can score: labelled for each arm's main task and with each arm's modalities
 * present (`masked`: at least one of them).
 */
export function commonTestRows(data: SeqData, arms: Arm[], masked = false): Int32Array {
  let rows = data.split.test;
  for (const arm of arms) {
    const modalities = arm.modalities.map((m) => data.modalities.findIndex((x) => x.name === m));
    const has = (r: number, mi: number) => data.modalities[mi].length[r] > 0;
    const present = rows.filter((r) => (masked ? modalities.some((mi) => has(r, mi)) : modalities.every((mi) => has(r, mi))));
    rows = usableRows(data, { modalities, tasks: [data.tasks.findIndex((t) => t.name === arm.tasks[0])] }, present);
  }
  return rows;
}

export async function runExperiment(data: SeqData, arms: Arm[], opts: ExperimentOptions): Promise<ExperimentResult> {
  const testRows = commonTestRows(data, arms, opts.masked);
  if (testRows.length === 0) throw new Error(`no test instance has ${opts.masked ? 'a modality' : 'every modality'} and the main label`);
  const runs: ArmRun[] = [];
  const total = arms.length * opts.seeds.length;
  let index = 0;
  for (const arm of arms) {
    const run: ArmRun = { arm, predicted: new Map(), seconds: [], bestEpochs: [] };
    for (const seed of opts.seeds) {
      opts.onRun?.({ arm, seed, index: index++, total });
      const res = await trainArm(data, arm, seed, opts, testRows, (log) => opts.onEpoch?.({ arm, seed, log }));
      run.predicted.set(String(seed), res.predicted);
      run.seconds.push(res.seconds); run.bestEpochs.push(res.bestEpoch);
    }
    runs.push(run);
  }
  return scoreExperiment(data, runs, testRows, opts);
}

/** One arm × seed: what a run of `runExperiment` and a queued row (experiment-queue.ts) train. */
export interface ArmSeedResult { predicted: Int32Array[]; seconds: number; bestEpoch: number }

/** Train one arm with one seed and predict the given test rows (per task of the arm, a class per row). */
export async function trainArm(data: SeqData, arm: Arm, seed: number, opts: Pick<ExperimentOptions, 'train' | 'model'>, testRows: Int32Array,
  onEpoch?: (log: EpochLog) => void): Promise<ArmSeedResult> {
  const model = buildModel(data, arm, seed, opts.model);
  try {
    const res = await trainSeqModel(data, model, { ...opts.train, seed }, onEpoch, testRows);
    return { predicted: res.test.predicted, seconds: res.seconds, bestEpoch: res.bestEpoch };
  } finally { model.store.dispose(); }
}

/** Rows of the pooled (seed × test row) table; the resampling cluster is (seed, participant). */
function pooled(data: SeqData, seeds: number[], testRows: Int32Array) {
  const groups: string[] = [];
  for (const s of seeds) for (const r of testRows) groups.push(`${s}:${data.participant[r]}`);
  return groups;
}

/** The tables of an experiment from its runs (arms in design order, each with every seed of `opts.seeds`). */
export function scoreExperiment(data: SeqData, runs: ArmRun[], testRows: Int32Array, opts: Pick<ExperimentOptions, 'seeds' | 'bootstrap'>): ExperimentResult {
  const seeds = opts.seeds;
  const groups = pooled(data, seeds, testRows);
  const nT = testRows.length;
  const B = opts.bootstrap ?? 1000;
  // Labels and predictions of arm/task over pooled rows (seed-major).
  const labelsOf = (task: string): Int32Array => {
    const t = data.tasks.find((x) => x.name === task)!;
    const out = new Int32Array(seeds.length * nT);
    seeds.forEach((_, si) => testRows.forEach((r, i) => { out[si * nT + i] = t.y[r]; }));
    return out;
  };
  const predsOf = (run: ArmRun, k: number): Int32Array => {
    const out = new Int32Array(seeds.length * nT);
    seeds.forEach((s, si) => out.set(run.predicted.get(String(s))![k], si * nT));
    return out;
  };
  const pick = (rows: Int32Array, y: Int32Array, p: Int32Array) => {
    const a: number[] = [], q: number[] = [];
    for (const r of rows) if (y[r] >= 0) { a.push(y[r]); q.push(p[r]); }
    return [a, q] as const;
  };
  const rows: MetricRow[] = [];
  for (const run of runs) {
    run.arm.tasks.forEach((task, k) => {
      const y = labelsOf(task), p = predsOf(run, k);
      const ci = bootstrapByGroupVector(groups, (rs) => scores(...pick(rs, y, p)), { B, seed: 7 });
      let n = 0; for (let i = 0; i < nT; i++) if (y[i] >= 0) n++;
      rows.push({
        armId: run.arm.id, group: run.arm.group, label: run.arm.label, task, modalities: run.arm.modalities.join('+'),
        n, seeds: seeds.length,
        metrics: Object.fromEntries(METRICS.map((m, j) => [m, ci[j]])) as Record<MetricName, BootstrapInterval>,
      });
    });
  }
  // Paired comparisons on the main task: what the papers claim.
  const byId = new Map(runs.map((r) => [r.arm.id, r]));
  const claims: Array<[string, string, string]> = [];
  const sys = runs[0]?.arm.system;
  if (sys === 'amm') {
    const full = byId.has('mtl-all') ? 'mtl-all' : 'stl-all';
    for (const r of runs) if (r.arm.group === 'STL vs MTL' && r.arm.modalities.length === 1 && r.arm.tasks.length === (byId.get(full)?.arm.tasks.length ?? 0)) claims.push(['bimodal beats single modality', full, r.arm.id]);
    for (const r of runs) if (r.arm.id.startsWith('stl-') && !r.arm.id.startsWith('stl-emo') && byId.has('mtl-' + r.arm.id.slice(4))) claims.push(['MTL beats STL', 'mtl-' + r.arm.id.slice(4), r.arm.id]);
    for (const id of ['no-ie', 'no-it', 'no-att']) if (byId.has(id) && byId.has(full)) claims.push(['full AMM beats ablation', full, id]);
  } else {
    for (const r of runs) if (r.arm.id.startsWith('uni-')) claims.push(['all modalities beat one', 'full', r.arm.id]);
    for (const id of ['no-mi', 'no-aux', 'no-mi-aux']) if (byId.has(id)) claims.push(['full MIMML beats ablation', 'full', id]);
  }
  const predictions = mainTaskPredictions(data, runs, seeds, testRows);
  const comparisons: Comparison[] = [];
  for (const [claim, better, worse] of claims) {
    if (!byId.has(better) || !byId.has(worse)) continue;
    // One run, clustered by (seed, participant): the same clusters as the intervals above.
    const ci = pairedDelta(pairedRows([{ name: '', predictions }], better, worse), B);
    for (const metric of ['microF1', 'balancedAccuracy'] as const) {
      const delta = ci[metric];
      comparisons.push({ claim, better, worse, task: predictions.task, metric, delta, beyondCI: delta.lower > 0 });
    }
  }
  const notes = [
    ...data.notes,
    `${nT} common test instances × ${seeds.length} seeds; 95 % percentile bootstrap over (seed, participant) clusters, B = ${B}`,
    ...runs.map((r) => `${r.arm.id}: ${(r.seconds.reduce((a, b) => a + b, 0) / r.seconds.length).toFixed(1)} s per run, best epochs ${r.bestEpochs.join(', ')}`),
  ];
  return { rows, comparisons, testRows, notes, predictions };
}

/**
 * The main task's (the first arm's first task) test predictions of every arm that has it, per seed,
 * with the labels and participants of the common test rows.
 */
function mainTaskPredictions(data: SeqData, runs: ArmRun[], seeds: number[], testRows: Int32Array): RunPredictions {
  const task = runs[0]?.arm.tasks[0] ?? '';
  const t = data.tasks.find((x) => x.name === task);
  return {
    task,
    seeds: seeds.map(String),
    labels: Array.from(testRows, (r) => (t ? t.y[r] : -1)),
    participant: Array.from(testRows, (r) => data.participantIds[data.participant[r]] ?? String(data.participant[r])),
    arms: Object.fromEntries(runs.filter((r) => r.arm.tasks.includes(task)).map((r) => [r.arm.id,
      Object.fromEntries(seeds.map((s) => [String(s), Array.from(r.predicted.get(String(s))![r.arm.tasks.indexOf(task)])]))])),
  };
}

type Resampling = 'participant' | 'run';
interface PairedRows { groups: string[]; y: number[]; better: number[]; worse: number[] }

/** The labelled rows of two arms over runs × seeds, with their resampling cluster. */
function pairedRows(runs: Array<{ name: string; predictions: RunPredictions }>, better: string, worse: string, unit: Resampling = 'participant'): PairedRows {
  const out: PairedRows = { groups: [], y: [], better: [], worse: [] };
  for (const run of runs) {
    const p = run.predictions, a = p.arms[better], b = p.arms[worse];
    if (!a || !b) throw new Error(`${run.name}: arms ${better} and ${worse} are not both in it (have: ${Object.keys(p.arms).join(', ')})`);
    for (const seed of p.seeds ?? Object.keys(a)) {
      if (!a[seed] || !b[seed]) throw new Error(`${run.name}: seed ${seed} is missing for ${a[seed] ? worse : better}`);
      p.labels.forEach((label, i) => {
        if (label < 0) return;
        out.groups.push(unit === 'run' ? run.name : `${run.name}:${seed}:${p.participant[i]}`);
        out.y.push(label); out.better.push(a[seed][i]); out.worse.push(b[seed][i]);
      });
    }
  }
  if (!out.y.length) throw new Error('no labelled test rows to pool');
  return out;
}

const scoresOf = (p: PairedRows, rs: Int32Array, pred: number[]) => scores(Array.from(rs, (r) => p.y[r]), Array.from(rs, (r) => pred[r]));
const byMetric = (ci: BootstrapInterval[]) => Object.fromEntries(METRICS.map((m, j) => [m, ci[j]])) as Record<MetricName, BootstrapInterval>;

/** Paired Δ (better − worse) of the five scores, percentile bootstrap over the rows' clusters. */
function pairedDelta(p: PairedRows, B: number): Record<MetricName, BootstrapInterval> {
  return byMetric(bootstrapByGroupVector(p.groups, (rs) => { const u = scoresOf(p, rs, p.better), v = scoresOf(p, rs, p.worse); return u.map((x, j) => x - v[j]); }, { B, seed: 11 }));
}

/**
 * Pool the main-task predictions of several runs of the same arms — e.g. the same design on
 * independently generated studies — and compare two arms: the paired Δ (better − worse) of the
 * five scores with a percentile bootstrap over (run, seed, participant) clusters (or over whole
 * runs), and each arm's pooled scores. A replication across studies, not only across test
 * participants and seeds.
 */
export function pooledComparison(runs: Array<{ name: string; predictions: RunPredictions }>, better: string, worse: string, B = 1000,
  /** Resampling unit: (run, seed, participant) clusters, or whole runs (a study-level interval; coarse with few runs). */
  unit: Resampling = 'participant'):
  { delta: Record<MetricName, BootstrapInterval>; better: Record<MetricName, BootstrapInterval>; worse: Record<MetricName, BootstrapInterval>; n: number } {
  const p = pairedRows(runs, better, worse, unit);
  return {
    delta: pairedDelta(p, B),
    better: byMetric(bootstrapByGroupVector(p.groups, (rs) => scoresOf(p, rs, p.better), { B, seed: 7 })),
    worse: byMetric(bootstrapByGroupVector(p.groups, (rs) => scoresOf(p, rs, p.worse), { B, seed: 7 })),
    n: p.y.length,
  };
}

/** Only the paired Δ of `pooledComparison` (no per-arm intervals): per-run and study-level deltas. */
export function pooledDelta(runs: Array<{ name: string; predictions: RunPredictions }>, better: string, worse: string, B = 1000, unit: Resampling = 'participant'): Record<MetricName, BootstrapInterval> {
  return pairedDelta(pairedRows(runs, better, worse, unit), B);
}

const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : '–');
const cell = (ci: BootstrapInterval) => `${pct(ci.estimate)} [${pct(ci.lower)}, ${pct(ci.upper)}]`;

/** The result as markdown tables (percent, 95 % CI in brackets). */
export function experimentMarkdown(title: string, r: ExperimentResult): string {
  const out: string[] = [`## ${title}`, ''];
  const groups = [...new Set(r.rows.map((x) => x.group))];
  for (const g of groups) {
    out.push(`### ${g}`, '', '| arm | task | modalities | P | R | micro-F1 | Acc | BAcc |', '|---|---|---|---|---|---|---|---|');
    for (const x of r.rows.filter((y) => y.group === g)) {
      out.push(`| ${x.label} | ${x.task} | ${x.modalities} | ${METRICS.map((m) => cell(x.metrics[m])).join(' | ')} |`);
    }
    out.push('');
  }
  if (r.comparisons.length) {
    out.push('### Paired comparisons (main task; Δ = better − worse, percentage points)', '', '| claim | better | worse | metric | Δ [95 % CI] | beyond CI |', '|---|---|---|---|---|---|');
    for (const c of r.comparisons) out.push(`| ${c.claim} | ${c.better} | ${c.worse} | ${c.metric} | ${cell(c.delta)} | ${c.beyondCI ? 'yes' : 'no'} |`);
    out.push('');
  }
  out.push(...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

export const CSV_HEADER = ['arm', 'group', 'label', 'task', 'modalities', 'n', 'seeds',
  ...METRICS.flatMap((m) => [m, `${m}_lower`, `${m}_upper`])];

export function experimentCsvRows(r: ExperimentResult): unknown[][] {
  return r.rows.map((x) => [x.armId, x.group, x.label, x.task, x.modalities, x.n, x.seeds,
    ...METRICS.flatMap((m) => [x.metrics[m].estimate, x.metrics[m].lower, x.metrics[m].upper])]);
}
