/**
 * Node-side loaders for the sequence experiments (file I/O through the shared CSV reader):
 *   - frame-level speech descriptors written by `moodlens features --lld <dir>` (one CSV per report);
 *   - LifeSnaps' daily Fitbit + mood table (../shared/data/lifesnaps/daily.csv) as daily sequences.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readCsv, readCsvHeader } from '../util/csv.js';
import { InputError, type InputIssue } from '../util/errors.js';
import { parseNumberCell } from '../data/rows.js';
import { chronologicalSplit } from '../data/split.js';
import type { FrameSequences } from './from-dataset.js';
import type { SeqData, SeqModality } from './data.js';
import { buildTasks, type TasksConfig } from './tasks.js';

/** Read `<dir>/<report id>.csv` (frameTime, then one column per descriptor) for each report that has one. */
export async function loadFrameSequences(dir: string, reportIds: string[]): Promise<FrameSequences> {
  const byReport = new Map<string, Float32Array>();
  let names: string[] | null = null;
  const issues: InputIssue[] = [];
  for (const id of reportIds) {
    const file = join(dir, `${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv`);
    if (!existsSync(file)) continue;
    const header = await readCsvHeader(file);
    const cols = header.filter((h) => h !== 'frameTime');
    if (names === null) names = cols;
    else if (cols.join(',') !== names.join(',')) { issues.push({ file, line: 1, message: `descriptor columns differ from the first file (${names.length} expected)` }); continue; }
    const vals: number[] = [];
    for await (const row of readCsv(file)) {
      names.forEach((nm, j) => {
        const v = parseNumberCell(row.values[nm] ?? '');
        if (v === undefined) issues.push({ file, line: row.line, column: header.indexOf(nm) + 1, field: nm, message: `expected a number, got "${row.values[nm]}"` });
        vals.push(v ?? NaN);
      });
    }
    byReport.set(id, Float32Array.from(vals));
  }
  if (issues.length) throw new InputError(issues);
  return { names: names ?? [], byReport };
}

export const LIFESNAPS_MOODS = ['ALERT', 'HAPPY', 'NEUTRAL', 'RESTED/RELAXED', 'SAD', 'TENSE/ANXIOUS', 'TIRED'];

/** LifeSnaps' real multi-hot moods as tasks: negative mood (main) and the dominant mood group. */
export const LIFESNAPS_TASKS: TasksConfig = {
  tasks: [
    { name: 'negative', kind: 'binary', items: ['SAD', 'TENSE/ANXIOUS'], rule: 'threshold', threshold: 0.5, classes: ['no', 'yes'] },
    { name: 'mood', kind: 'dominant', minimum: 0, centre: 'none', groups: { negative: ['SAD', 'TENSE/ANXIOUS'], tired: ['TIRED'], positive: ['HAPPY', 'ALERT', 'RESTED/RELAXED'], neutral: ['NEUTRAL'] } },
  ],
};

export const LifesnapsOptionsSchema = z.object({
  /** Days per sequence, ending on the report day. */
  days: z.number().int().min(1).max(60).default(7),
  activity: z.array(z.string()).default(['steps', 'lightly_active_minutes', 'moderately_active_minutes', 'very_active_minutes', 'sedentary_minutes', 'calories', 'distance']),
  physiology: z.array(z.string()).default(['resting_hr', 'bpm', 'rmssd', 'nremhr', 'stress_score', 'sleep_efficiency', 'minutesAsleep', 'nightly_temperature', 'daily_temperature_variation', 'full_sleep_breathing_rate']),
  /** Side knowledge (AMM §III-C) concatenated to the activity vector: one-hot demographics. */
  side: z.array(z.string()).default(['gender', 'age']),
  /**
   * Also put the participant's rate of each main-task class over their TRAINING reports into the
   * side knowledge (a person-level prior, the "macro" part of the MM paper's macro-micro
   * personalisation; not in AMM). The sequences are z-scored per participant, so without it the
   * models see no between-person differences beyond gender and age.
   */
  personPrior: z.boolean().default(false),
});
export type LifesnapsOptions = z.infer<typeof LifesnapsOptionsSchema>;

const DAY = 86_400_000;

/**
 * Daily sequences of LifeSnaps: one instance per answered mood report (person-day); two
 * modalities over the `days` days ending that day — "activity" (steps, active minutes …) and
 * "physiology" (heart rate, HRV, sleep, skin temperature …) — each z-scored per participant,
 * missing days/values as 0 (the participant's mean). Chronological 70/15/15 split per person.
 */
export async function loadLifesnaps(file: string, options: Partial<LifesnapsOptions> = {}, tasks: TasksConfig = LIFESNAPS_TASKS): Promise<SeqData> {
  const o = LifesnapsOptionsSchema.parse(options);
  const header = await readCsvHeader(file);
  const issues: InputIssue[] = [];
  for (const c of ['id', 'date', ...o.activity, ...o.physiology, ...o.side, ...LIFESNAPS_MOODS]) {
    if (!header.includes(c)) issues.push({ file, line: 1, field: c, message: 'column missing' });
  }
  if (issues.length) throw new InputError(issues);
  const chans = [...o.activity, ...o.physiology];
  interface Day { p: number; t: number; v: Float64Array; mood: Float32Array; side: string[] }
  const pIndex = new Map<string, number>();
  const days: Day[] = [];
  for await (const row of readCsv(file)) {
    const id = row.values.id.trim();
    const t = Date.parse(row.values.date.trim() + 'T00:00:00Z');
    if (!id || Number.isNaN(t)) { issues.push({ file, line: row.line, field: Number.isNaN(t) ? 'date' : 'id', message: 'expected a participant id and a YYYY-MM-DD date' }); continue; }
    if (!pIndex.has(id)) pIndex.set(id, pIndex.size);
    const num = (c: string) => {
      const v = parseNumberCell(row.values[c] ?? '');
      if (v === undefined) { issues.push({ file, line: row.line, column: header.indexOf(c) + 1, field: c, message: `expected a number, got "${row.values[c]}"` }); return NaN; }
      return v;
    };
    const v = Float64Array.from(chans, (c) => { const x = num(c); return o.activity.includes(c) ? Math.log1p(Math.max(0, x)) : x; });
    const mood = Float32Array.from(LIFESNAPS_MOODS, num);
    days.push({ p: pIndex.get(id)!, t, v, mood, side: o.side.map((c) => row.values[c].trim()) });
    if (issues.length > 50) break;
  }
  if (issues.length) throw new InputError(issues);
  const P = pIndex.size, C = chans.length;
  // Per-participant z-scores of each channel (SPEC §1: standardise per participant).
  const mean = new Float64Array(P * C), sd = new Float64Array(P * C), cnt = new Float64Array(P * C);
  for (const d of days) for (let c = 0; c < C; c++) if (!Number.isNaN(d.v[c])) { mean[d.p * C + c] += d.v[c]; sd[d.p * C + c] += d.v[c] ** 2; cnt[d.p * C + c]++; }
  for (let k = 0; k < P * C; k++) { mean[k] /= Math.max(1, cnt[k]); sd[k] = Math.sqrt(Math.max(1e-9, sd[k] / Math.max(1, cnt[k]) - mean[k] ** 2)); }
  const byDay = new Map<string, Day>();
  for (const d of days) byDay.set(`${d.p}:${d.t}`, d);
  const reports = days.filter((d) => d.mood.some((m) => !Number.isNaN(m))).sort((a, b) => a.p - b.p || a.t - b.t);
  const n = reports.length, T = o.days;
  const nA = o.activity.length, nP = o.physiology.length;
  const xa = new Float32Array(n * T * nA), xp = new Float32Array(n * T * nP);
  const la = new Int32Array(n), lp = new Int32Array(n);
  const sideValues = o.side.map((_, s) => [...new Set(days.map((d) => d.side[s]).filter((v) => v !== ''))].sort());
  const sideNames = o.side.flatMap((c, s) => sideValues[s].map((v) => `${c}=${v}`));
  const side = new Float32Array(n * sideNames.length);
  reports.forEach((r, i) => {
    let anyA = false, anyP = false;
    for (let t = 0; t < T; t++) {
      const d = byDay.get(`${r.p}:${r.t - (T - 1 - t) * DAY}`);
      if (!d) continue;
      for (let c = 0; c < C; c++) {
        if (Number.isNaN(d.v[c])) continue;
        const z = (d.v[c] - mean[r.p * C + c]) / sd[r.p * C + c];
        if (c < nA) { xa[(i * T + t) * nA + c] = z; anyA = true; } else { xp[(i * T + t) * nP + c - nA] = z; anyP = true; }
      }
    }
    la[i] = anyA ? T : 0; lp[i] = anyP ? T : 0;
    let off = 0;
    o.side.forEach((_, s) => { const j = sideValues[s].indexOf(r.side[s]); if (j >= 0) side[i * sideNames.length + off + j] = 1; off += sideValues[s].length; });
  });
  const participant = Int32Array.from(reports, (r) => r.p);
  const time = Float64Array.from(reports, (r) => r.t);
  const reportIds = reports.map((r, i) => `${r.p}-${i}`);
  const split = chronologicalSplit({ n, participant, time, reportIds });
  const values = new Float32Array(n * LIFESNAPS_MOODS.length);
  reports.forEach((r, i) => values.set(r.mood, i * LIFESNAPS_MOODS.length));
  const taskList = buildTasks({ items: LIFESNAPS_MOODS, values, participant }, tasks, split.train);
  let sideAll = { names: sideNames, x: side };
  if (o.personPrior) {
    // Per participant: share of each main-task class among their labelled training reports
    // (the training-set rate over everyone for a participant without any).
    const main = taskList[0], K = main.classes.length;
    const count = new Float64Array(P * K), total = new Float64Array(P), all = new Float64Array(K);
    for (const r of split.train) { const y = main.y[r]; if (y >= 0) { count[participant[r] * K + y]++; total[participant[r]]++; all[y]++; } }
    const nAll = all.reduce((a, b) => a + b, 0);
    const S0 = sideNames.length, S = S0 + K;
    const x = new Float32Array(n * S);
    for (let i = 0; i < n; i++) {
      x.set(side.subarray(i * S0, (i + 1) * S0), i * S);
      const p = participant[i];
      for (let k = 0; k < K; k++) x[i * S + S0 + k] = total[p] > 0 ? count[p * K + k] / total[p] : all[k] / Math.max(1, nAll);
    }
    sideAll = { names: [...sideNames, ...main.classes.map((c) => `prior:${main.name}=${c}`)], x };
  }
  const modalities: SeqModality[] = [
    { name: 'activity', steps: T, features: nA, featureNames: o.activity, x: xa, length: la, side: sideAll.names.length ? sideAll : undefined },
    { name: 'physiology', steps: T, features: nP, featureNames: o.physiology, x: xp, length: lp },
  ];
  const participantIds = [...pIndex.keys()];
  const pos = taskList[0].y.filter((v) => v === 1).length;
  return {
    n, participantIds, participant, modalities, tasks: taskList, split,
    notes: [`LifeSnaps ${file}: ${n} answered mood reports of ${new Set(participant).size} people; ${T}-day sequences; main task "${taskList[0].name}" positive in ${pos}/${n}${o.personPrior ? '; side knowledge includes each person\'s training-set rate of the main task\'s classes' : ''}`],
  };
}
