/**
 * The study folder (SPEC §7): `study.json` and the CSV files beside it.
 * One zod schema per file gives both the TypeScript type and the validation.
 * This module is pure (no I/O) so the browser app and the server can use it too.
 */
import { z } from 'zod';

/** The 9 DAMS items of the paper, in the paper's order, on a 0–100 slider. */
export const DAMS_ITEMS = [
  'vigorous', 'gloomy', 'concerned', 'happy', 'unpleasant', 'anxious', 'cheerful', 'depressed', 'worried',
] as const;

export function isValidTimeZone(tz: string): boolean {
  try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); return true; } catch { return false; }
}

/**
 * Bounds of a study configuration (docs/security.md, "Limits"): a study is created by a
 * researcher over the network, and every number here sizes work the server does per request
 * (schedules are computed on each call and by the push scheduler, windows are read per
 * prediction, reports are checked item by item). Generous for real studies, small enough that no
 * configuration makes one request expensive.
 */
export const STUDY_LIMITS = {
  /** Study days of the EMA schedule (about 10 years). */
  scheduleDays: 3660,
  /** Scheduled prompts per day. */
  timesPerDay: 48,
  /** Items of a study. */
  items: 200,
  /** Activity channels of a study. */
  channels: 32,
  /** Epochs of the activity window a prediction reads. */
  windowEpochs: 10_080,
  /** Length of an id (item, channel). */
  idLength: 64,
  /** Length of a study name or an item label. */
  nameLength: 200,
  /** Length of a study description. */
  descriptionLength: 10_000,
} as const;

export const ItemSchema = z.object({
  id: z.string().max(STUDY_LIMITS.idLength).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an item id is a column name: letters, digits, _'),
  label: z.string().max(STUDY_LIMITS.nameLength).optional(),
  min: z.number(),
  max: z.number(),
}).strict().refine((i) => i.max > i.min, { message: 'max must be greater than min', path: ['max'] });
export type Item = z.infer<typeof ItemSchema>;

/**
 * Decimals that suit an item's scale for a predicted value: 3 on 0–1, 2 on 1–7 or 0–10, 1 on
 * 0–100 (about a thousandth of the range).
 */
export function itemDecimals(item: Pick<Item, 'min' | 'max'>): number {
  return Math.min(6, Math.max(0, 3 - Math.ceil(Math.log10(item.max - item.min))));
}

export const TimeZoneSchema = z.string().refine(isValidTimeZone, { message: 'not an IANA time zone (e.g. Europe/Berlin)' });

export const ScheduleSchema = z.object({
  /** Local clock times of the scheduled prompts, "HH:MM". */
  times: z.array(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/)).max(STUDY_LIMITS.timesPerDay).default(['11:00', '15:00', '19:00']),
  /** Each prompt is moved by a uniform random offset in [−jitter, +jitter] minutes. */
  jitterMinutes: z.number().min(0).max(120).default(10),
  /** Voluntary wake and bed reports. */
  wakeAndBed: z.boolean().default(true),
  days: z.number().int().positive().max(STUDY_LIMITS.scheduleDays).default(14),
}).strict();
export type Schedule = z.infer<typeof ScheduleSchema>;

export const StudyConfigSchema = z.object({
  name: z.string().min(1).max(STUDY_LIMITS.nameLength),
  items: z.array(ItemSchema).min(1).max(STUDY_LIMITS.items)
    .default(DAMS_ITEMS.map((id) => ({ id, label: id, min: 0, max: 100 })))
    .refine((items) => new Set(items.map((i) => i.id)).size === items.length, { message: 'item ids must be unique' }),
  activity: z.object({
    epochSeconds: z.number().positive().max(86_400).default(60),
    channels: z.array(z.string().max(STUDY_LIMITS.idLength).regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).min(1).max(STUDY_LIMITS.channels).default(['zcm', 'pim']),
    /** Optional plausible range per channel (e.g. {"zcm": {"min": 0}}); values outside are input errors. */
    ranges: z.record(z.string().max(STUDY_LIMITS.idLength), z.object({ min: z.number().optional(), max: z.number().optional() }).strict())
      .refine((r) => Object.keys(r).length <= STUDY_LIMITS.channels, { message: `at most ${STUDY_LIMITS.channels} channel ranges` }).optional(),
  }).strict().default({ epochSeconds: 60, channels: ['zcm', 'pim'] }),
  window: z.object({ epochs: z.number().int().positive().max(STUDY_LIMITS.windowEpochs).default(60) }).strict().default({ epochs: 60 }),
  speech: z.object({ kind: z.enum(['audio', 'features', 'none']).default('audio') }).strict().default({ kind: 'audio' }),
  timezone: TimeZoneSchema.default('UTC'),
  schedule: ScheduleSchema.optional(),
  /** Study information the participant app shows before the first report (plain text; blank lines separate paragraphs). */
  information: z.string().max(STUDY_LIMITS.descriptionLength).optional(),
  /** Consent statement the participant accepts once before the first report; the server records when (and refuses reports before). */
  consent: z.string().max(STUDY_LIMITS.descriptionLength).optional(),
  description: z.string().max(STUDY_LIMITS.descriptionLength).optional(),
}).strict();
/** Parsed study.json with defaults filled in (strict: an unknown key is an error, not dropped). */
export type StudyConfig = z.infer<typeof StudyConfigSchema>;

export const TRIGGERS = ['scheduled', 'wake', 'bed', 'voluntary'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** File names inside a study folder. */
export const STUDY_FILES = {
  config: 'study.json',
  participants: 'participants.csv',
  reports: 'reports.csv',
  activity: 'activity.csv',
  speech: 'speech.csv',
  speechFeatures: 'speech_features.csv',
  /** Written by the synthetic generator only: latent states and couplings. */
  groundTruth: 'ground_truth',
} as const;
