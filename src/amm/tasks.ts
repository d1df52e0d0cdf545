/**
 * Classification tasks defined from a study's items in a config (zod), e.g. the papers' main
 * task "depressed mood" (binary) and secondary task "dominant emotion" (which group of items is
 * highest). Item values are on [0, 1] (Dataset.labels scaling); NaN = not answered. Pure.
 */
import { z } from 'zod';
import type { SeqTask } from './data.js';

export const BinaryTaskSchema = z.object({
  name: z.string().min(1),
  kind: z.literal('binary'),
  /** Items combined into one score (mean of the answered ones). */
  items: z.array(z.string()).min(1),
  /** threshold: score ≥ threshold; person-median: score above the participant's own median. */
  rule: z.enum(['threshold', 'person-median']).default('threshold'),
  /** On the [0, 1] item scale. */
  threshold: z.number().default(0.5),
  classes: z.tuple([z.string(), z.string()]).default(['no', 'yes']),
}).strict();

export const DominantTaskSchema = z.object({
  name: z.string().min(1),
  kind: z.literal('dominant'),
  /** Class name → items; the class is the group with the highest mean (ties: the first group). */
  groups: z.record(z.string(), z.array(z.string()).min(1)),
  /** With `minimum` > 0, a report whose highest group mean is below it gets class `none`. */
  minimum: z.number().default(0),
  /**
   * person: compare groups on item values minus the participant's own item means (over the
   * median/training rows), i.e. which feeling is highest *for this person*; none: raw values
   * (on most people's reports the positive items are simply higher).
   */
  centre: z.enum(['person', 'none']).default('person'),
}).strict();

export const TaskSpecSchema = z.discriminatedUnion('kind', [BinaryTaskSchema, DominantTaskSchema]);
export type TaskSpec = z.infer<typeof TaskSpecSchema>;

/** The tasks of an experiment, main task first. */
export const TasksConfigSchema = z.object({ tasks: z.array(TaskSpecSchema).min(1).max(4) }).strict();
export type TasksConfig = z.infer<typeof TasksConfigSchema>;

/** Defaults for the 9 DAMS items: the papers' depression (main) and emotion (secondary) tasks. */
export const DAMS_TASKS: TasksConfig = {
  tasks: [
    { name: 'depressed', kind: 'binary', items: ['depressed', 'gloomy'], rule: 'person-median', threshold: 0.5, classes: ['no', 'yes'] },
    { name: 'emotion', kind: 'dominant', minimum: 0, centre: 'person', groups: { negative: ['gloomy', 'depressed', 'unpleasant'], anxious: ['anxious', 'worried', 'concerned'], positive: ['happy', 'cheerful', 'vigorous'] } },
  ],
};

export interface ItemTable {
  items: string[];
  /** n × K values on [0, 1], NaN = not answered. */
  values: Float32Array;
  participant: Int32Array;
}

/** Mean of the answered items of row i (NaN when none is answered). */
function meanOf(t: ItemTable, cols: number[], i: number): number {
  const K = t.items.length;
  let s = 0, n = 0;
  for (const c of cols) { const v = t.values[i * K + c]; if (!Number.isNaN(v)) { s += v; n++; } }
  return n ? s / n : NaN;
}

function columns(t: ItemTable, items: string[], task: string): number[] {
  return items.map((id) => {
    const c = t.items.indexOf(id);
    if (c < 0) throw new Error(`task "${task}": unknown item "${id}" (the study has: ${t.items.join(', ')})`);
    return c;
  });
}

/**
 * Labels of each task. `medianRows`: the rows whose scores define each participant's median for
 * the person-median rule (pass the training rows so test labels do not shape the cut).
 */
export function buildTasks(t: ItemTable, config: TasksConfig, medianRows?: ArrayLike<number>): SeqTask[] {
  const n = t.participant.length;
  return config.tasks.map((spec) => {
    const y = new Int32Array(n).fill(-1);
    if (spec.kind === 'binary') {
      const cols = columns(t, spec.items, spec.name);
      const score = Float64Array.from({ length: n }, (_, i) => meanOf(t, cols, i));
      let cut: (i: number) => number = () => spec.threshold;
      if (spec.rule === 'person-median') {
        const by = new Map<number, number[]>();
        const rows = medianRows ?? Int32Array.from({ length: n }, (_, i) => i);
        for (let j = 0; j < rows.length; j++) {
          const i = rows[j];
          if (Number.isNaN(score[i])) continue;
          const p = t.participant[i];
          if (!by.has(p)) by.set(p, []);
          by.get(p)!.push(score[i]);
        }
        const median = new Map<number, number>();
        for (const [p, v] of by) { v.sort((a, b) => a - b); const m = v.length; median.set(p, m % 2 ? v[(m - 1) / 2] : (v[m / 2 - 1] + v[m / 2]) / 2); }
        cut = (i) => median.get(t.participant[i]) ?? NaN;
      }
      for (let i = 0; i < n; i++) {
        const c = cut(i);
        if (Number.isNaN(score[i]) || Number.isNaN(c)) continue;
        y[i] = spec.rule === 'person-median' ? (score[i] > c ? 1 : 0) : (score[i] >= c ? 1 : 0);
      }
      return { name: spec.name, classes: [...spec.classes], y };
    }
    const names = Object.keys(spec.groups);
    const cols = names.map((g) => columns(t, spec.groups[g], spec.name));
    const classes = spec.minimum > 0 ? [...names, 'none'] : names;
    const K = t.items.length;
    let table = t;
    if (spec.centre === 'person') {
      // Subtract each participant's mean of each item (over medianRows).
      const sum = new Map<number, Float64Array>(), cnt = new Map<number, Float64Array>();
      const rows = medianRows ?? Int32Array.from({ length: n }, (_, i) => i);
      for (let j = 0; j < rows.length; j++) {
        const i = rows[j], p = t.participant[i];
        if (!sum.has(p)) { sum.set(p, new Float64Array(K)); cnt.set(p, new Float64Array(K)); }
        for (let k = 0; k < K; k++) { const v = t.values[i * K + k]; if (!Number.isNaN(v)) { sum.get(p)![k] += v; cnt.get(p)![k]++; } }
      }
      const values = new Float32Array(t.values.length).fill(NaN);
      for (let i = 0; i < n; i++) {
        const s = sum.get(t.participant[i]), c = cnt.get(t.participant[i]);
        if (!s || !c) continue;
        for (let k = 0; k < K; k++) if (c[k] > 0) values[i * K + k] = t.values[i * K + k] - s[k] / c[k];
      }
      table = { ...t, values };
    }
    for (let i = 0; i < n; i++) {
      let best = -1, bestV = -Infinity;
      cols.forEach((cs, g) => { const v = meanOf(table, cs, i); if (!Number.isNaN(v) && v > bestV) { bestV = v; best = g; } });
      if (best < 0) continue;
      y[i] = spec.minimum > 0 && bestV < spec.minimum ? names.length : best;
    }
    return { name: spec.name, classes, y };
  });
}
