/**
 * LifeSnaps → study folder (SPEC §7). LifeSnaps (Yfantidou et al., Sci. Data 2023) has one row per
 * person-day: Fitbit daily measures and, on answered days, 7 multi-hot mood labels (SEMA).
 *
 * Mapping (the choices are documented in docs/data.md):
 * - items: the 7 mood labels as 0–1 items (alert, happy, neutral, rested_relaxed, sad,
 *   tense_anxious, tired); an empty label is unanswered, never 0.
 * - activity: one epoch per person-day (epochSeconds = 86400) starting at local midnight, channels
 *   from the daily measures (DEFAULT_LIFESNAPS_CHANNELS); window = 7 days by default.
 * - one report per answered day at a fixed local time (default 22:00), trigger "scheduled". The
 *   report's own day has not ended at 22:00, so its window is the 7 days BEFORE it (no leakage of
 *   the day's still-incomplete summary; the previous night's sleep is in the previous day's row
 *   only if Fitbit dated it so).
 * - time zone: the table has dates only and no zone, so the study is in UTC (local hour = 22).
 * - participants.csv: the demographics (age, gender, bmi bands) as covariates.
 * - speech: none.
 */
import { z } from 'zod';
import { readCsv } from '../util/csv.js';
import { InputError } from '../util/errors.js';
import { IssueList } from './issues.js';
import { IdCell, numberCell } from './rows.js';
import { StudyWriter } from './writer.js';
import type { StudyConfigSchema } from './study.js';

/** LifeSnaps mood column → item id. */
export const LIFESNAPS_MOODS: Array<[string, string]> = [
  ['ALERT', 'alert'], ['HAPPY', 'happy'], ['NEUTRAL', 'neutral'], ['RESTED/RELAXED', 'rested_relaxed'],
  ['SAD', 'sad'], ['TENSE/ANXIOUS', 'tense_anxious'], ['TIRED', 'tired'],
];

/**
 * Daily measures used as activity channels by default: movement (steps, minutes by intensity),
 * heart (mean bpm, resting HR, HRV rmssd), sleep (minutes asleep, efficiency) and Fitbit's stress
 * score. Sparse columns (scl_avg is 95 % empty, spo2, skin temperature) are left out by default
 * because they would make almost every 7-day window incomplete; `channels` can add them.
 */
export const DEFAULT_LIFESNAPS_CHANNELS = [
  'steps', 'sedentary_minutes', 'lightly_active_minutes', 'moderately_active_minutes', 'very_active_minutes',
  'bpm', 'resting_hr', 'rmssd', 'minutesAsleep', 'sleep_efficiency',
] as const;

/** Numeric daily columns that may be chosen as channels (all ≥ 0 in the data, except temperature variation). */
export const LIFESNAPS_NUMERIC = [
  ...DEFAULT_LIFESNAPS_CHANNELS, 'stress_score', 'scl_avg', 'nightly_temperature', 'nremhr', 'spo2',
  'full_sleep_breathing_rate', 'calories', 'distance', 'sleep_duration', 'minutesAwake', 'sleep_deep_ratio',
  'sleep_light_ratio', 'sleep_rem_ratio', 'sleep_wake_ratio', 'sleep_points_percentage',
] as const;

export const LifeSnapsOptionsSchema = z.object({
  input: z.string().min(1),
  out: z.string().min(1),
  channels: z.array(z.enum(LIFESNAPS_NUMERIC)).min(1).default([...DEFAULT_LIFESNAPS_CHANNELS]),
  windowDays: z.number().int().positive().max(60).default(7),
  /** Local clock time of the one report per answered day, "HH:MM". */
  reportTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM').default('22:00'),
});
export type LifeSnapsOptions = z.input<typeof LifeSnapsOptionsSchema>;

export interface LifeSnapsResult {
  participants: number;
  reports: number;
  epochs: number;
  rowsRead: number;
}

const DateCell = z.string().trim().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

function rowSchema(channels: readonly string[]) {
  const shape: Record<string, z.ZodType> = { id: IdCell, date: DateCell };
  for (const c of channels) shape[c] = numberCell(c === 'nightly_temperature' ? undefined : { min: 0 });
  for (const [col] of LIFESNAPS_MOODS) shape[col] = numberCell({ min: 0, max: 1 });
  return z.object(shape);
}

interface Day { date: string; t: number; values: number[]; mood: number[] | null }

/** Convert LifeSnaps' daily.csv into a study folder. Throws InputError listing every bad cell. */
export async function convertLifeSnaps(opts: LifeSnapsOptions): Promise<LifeSnapsResult> {
  const o = LifeSnapsOptionsSchema.parse(opts);
  const file = o.input;
  const schema = rowSchema(o.channels);
  const issues = new IssueList();
  const people = new Map<string, { days: Day[]; demo: Record<string, string> }>();
  let rowsRead = 0;
  const required = ['id', 'date', ...o.channels, ...LIFESNAPS_MOODS.map(([c]) => c)];
  for await (const row of readCsv(file)) {
    if (rowsRead === 0) {
      const missing = required.filter((c) => !row.header.includes(c));
      if (missing.length) throw new InputError(missing.map((c) => ({ file, line: 1, field: c, message: `missing column "${c}"` })));
    }
    rowsRead++;
    const r = schema.safeParse(row.values);
    if (!r.success) { issues.addZod(file, row.line, row.header, r.error); continue; }
    const d = r.data as Record<string, string | number>;
    const id = d.id as string;
    let p = people.get(id);
    if (!p) { p = { days: [], demo: {} }; people.set(id, p); }
    for (const k of ['age', 'gender', 'bmi']) if (!p.demo[k] && row.values[k]) p.demo[k] = row.values[k].trim();
    const mood = LIFESNAPS_MOODS.map(([c]) => d[c] as number);
    p.days.push({
      date: d.date as string, t: Date.parse(`${d.date as string}T00:00:00Z`),
      values: o.channels.map((c) => d[c] as number),
      mood: mood.some((v) => !Number.isNaN(v)) ? mood : null,
    });
  }
  if (issues.total > 0) throw new InputError(issues.issues);

  const [hh, mm] = o.reportTime.split(':').map(Number);
  const config: z.input<typeof StudyConfigSchema> = {
    name: 'LifeSnaps (daily Fitbit + SEMA mood)',
    description: `Converted from ${file} by \`moodlens convert lifesnaps\`: one report per answered day at ${o.reportTime} UTC; ` +
      `daily epochs; window ${o.windowDays} days before the report day.`,
    items: LIFESNAPS_MOODS.map(([label, id]) => ({ id, label, min: 0, max: 1 })),
    activity: { epochSeconds: 86400, channels: [...o.channels],
      ranges: Object.fromEntries(o.channels.filter((c) => c !== 'nightly_temperature').map((c) => [c, { min: 0 }])) },
    window: { epochs: o.windowDays },
    speech: { kind: 'none' },
    timezone: 'UTC',
  };
  const w = await StudyWriter.open(o.out, config, { participantColumns: ['age', 'gender', 'bmi'], itemOrder: false });
  let reports = 0, epochs = 0;
  const ids = [...people.keys()].sort();
  for (const id of ids) await w.writeParticipant({ participantId: id, extra: people.get(id)!.demo });
  for (const id of ids) {
    const days = people.get(id)!.days.sort((a, b) => a.t - b.t);
    for (const day of days) {
      if (day.values.some((v) => !Number.isNaN(v))) { await w.writeActivityRow(id, day.t, day.values); epochs++; }
      if (day.mood) {
        await w.writeReport({ reportId: `${id}_${day.date}`, participantId: id, time: day.t + (hh * 60 + mm) * 60_000,
          trigger: 'scheduled', items: day.mood });
        reports++;
      }
    }
  }
  await w.close();
  return { participants: ids.length, reports, epochs, rowsRead };
}
