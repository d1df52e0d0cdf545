/**
 * The study folder (SPEC §7): `study.json` and the CSV files beside it.
 * One zod schema per file gives both the TypeScript type and the validation.
 * This module is pure (no I/O) so the browser app and the server can use it too.
 */
import { z } from 'zod';
import { BUILTIN_INSTRUMENTS, BUILTIN_ITEM_COUNT, MAIN_INSTRUMENT, itemKind, itemRange, optionColumn, type BuiltinInstrument } from './design.js';

// The zod-free part of the study design (also bundled into the participant app), re-exported.
export { BUILTIN_INSTRUMENTS, BUILTIN_ITEM_COUNT, ITEM_KINDS, MAIN_INSTRUMENT, itemKind, itemRange, optionColumn, type BuiltinInstrument, type ItemKind, type ItemShape } from './design.js';

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

const ItemId = z.string().max(STUDY_LIMITS.idLength).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an item id is a column name: letters, digits, _');
const ItemLabel = z.string().max(STUDY_LIMITS.nameLength);

/** A slider from min to max (the paper's 0–100 DAMS items): `kind` may be left out. */
export const SliderItemSchema = z.object({
  id: ItemId,
  kind: z.literal('slider').optional(),
  label: ItemLabel.optional(),
  min: z.number(),
  max: z.number(),
}).strict().refine((i) => i.max > i.min, { message: 'max must be greater than min', path: ['max'] });

/** A Likert item: one label per point; the points are the integers min, min + 1, …, min + labels.length − 1. */
export const LikertItemSchema = z.object({
  id: ItemId,
  kind: z.literal('likert'),
  label: ItemLabel.optional(),
  labels: z.array(ItemLabel.min(1)).min(2).max(11),
  /** Value of the first point (default 0). */
  min: z.number().int().default(0),
}).strict();

/** An option of a choice item: the value stored (an integer ≥ 0) and the label shown. */
export const ChoiceOptionSchema = z.object({ value: z.number().int().min(0).max(1_000_000), label: ItemLabel.min(1) }).strict();

/**
 * A choice item: single (the chosen option's value is the answer) or multiple (one 0/1 column
 * per option, `<id>_<value>`, in reports.csv; the API takes the chosen values as an array).
 */
export const ChoiceItemSchema = z.object({
  id: ItemId,
  kind: z.literal('choice'),
  label: ItemLabel.optional(),
  multiple: z.boolean().default(false),
  options: z.array(ChoiceOptionSchema).min(2).max(50)
    .refine((o) => new Set(o.map((x) => x.value)).size === o.length, { message: 'option values must be unique' }),
}).strict();

/** A yes/no item, stored as 1 (yes) or 0 (no). */
export const BooleanItemSchema = z.object({
  id: ItemId,
  kind: z.literal('boolean'),
  label: ItemLabel.optional(),
}).strict();

/** Free text: sealed at rest like notes, written to texts.csv, never a model input. */
export const TextItemSchema = z.object({
  id: ItemId,
  kind: z.literal('text'),
  label: ItemLabel.optional(),
  maxLength: z.number().int().positive().max(10_000).default(1000),
}).strict();

/** One item of study.json, any kind; an item without `kind` is a slider (the format before kinds). */
export const StudyItemSchema = z.discriminatedUnion('kind', [SliderItemSchema, LikertItemSchema, ChoiceItemSchema, BooleanItemSchema, TextItemSchema]);
export type StudyItem = z.infer<typeof StudyItemSchema>;
export type SliderItem = z.infer<typeof SliderItemSchema>;
export type LikertItem = z.infer<typeof LikertItemSchema>;
export type ChoiceItem = z.infer<typeof ChoiceItemSchema>;
export type BooleanItem = z.infer<typeof BooleanItemSchema>;
export type TextItem = z.infer<typeof TextItemSchema>;

/**
 * A numeric target as models, reports.csv columns and metrics see it: an id and a range. Every
 * item with one numeric answer (slider, likert, single choice, boolean) and every questionnaire
 * score is one (`numericItems`).
 */
export const ItemSchema = z.object({
  id: ItemId,
  label: ItemLabel.optional(),
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

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local clock time "HH:MM"');
/** A window bound: a clock time, or the participant's wake or bed time (per-participant overrides), optionally ± minutes ("wake+30", "bed-60"). */
const WindowBound = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|(wake|bed)([+-]\d{1,3})?)$/, 'expected "HH:MM", "wake", "bed", "wake+MIN" or "bed-MIN"');

/** Random prompt times within a window of the day: `count` prompts, at least the schedule's `minGapMinutes` apart. */
export const ScheduleWindowSchema = z.object({
  start: WindowBound,
  end: WindowBound,
  count: z.number().int().positive().max(STUDY_LIMITS.timesPerDay).default(1),
}).strict();
export type ScheduleWindow = z.infer<typeof ScheduleWindowSchema>;

export const ScheduleSchema = z.object({
  /**
   * Local clock times of the scheduled prompts, "HH:MM" (default 11:00, 15:00, 19:00 when the
   * schedule has no `windows`; with windows, none unless given).
   */
  times: z.array(ClockTime).max(STUDY_LIMITS.timesPerDay).optional(),
  /** Each fixed-time prompt is moved by a uniform random offset in [−jitter, +jitter] minutes. */
  jitterMinutes: z.number().min(0).max(120).default(10),
  /** Random times within windows of the day (after the fixed times in slot order). */
  windows: z.array(ScheduleWindowSchema).max(STUDY_LIMITS.timesPerDay).optional(),
  /** Least real minutes between two prompts of one window. */
  minGapMinutes: z.number().min(0).max(720).optional(),
  /** Prompts every N-th study day (0, N, 2N, …; default 1 = every day). */
  everyDays: z.number().int().positive().max(365).optional(),
  /** ISO weekdays with prompts (1 = Monday … 7 = Sunday); [1,2,3,4,5] = weekdays only. Default: every day. */
  weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7).optional(),
  /**
   * A prompt is open from its time until this many minutes later, then gone (recorded as
   * missed). Without it a prompt stays open until the next prompt of the same instrument.
   */
  expiryMinutes: z.number().int().positive().max(7 * 24 * 60).optional(),
  /** The participant may start a report of this instrument at any time (event-contingent reports). */
  eventContingent: z.boolean().optional(),
  /** Default wake and bed times (08:00, 22:00) for windows bounded by "wake"/"bed" (each participant may override them). */
  wake: ClockTime.optional(),
  bed: ClockTime.optional(),
  /** Voluntary wake and bed reports. */
  wakeAndBed: z.boolean().default(true),
  days: z.number().int().positive().max(STUDY_LIMITS.scheduleDays).default(14),
}).strict()
  .refine((s) => (s.times?.length ?? 0) + (s.windows ?? []).reduce((n, w) => n + w.count, 0) <= STUDY_LIMITS.timesPerDay,
    { message: `at most ${STUDY_LIMITS.timesPerDay} prompts a day`, path: ['windows'] });
/** A parsed schedule (the fields added with instruments are optional, so a study.json from before reads back as it was). */
export type Schedule = z.infer<typeof ScheduleSchema>;

/** A participant's own wake and bed times (they replace the schedule's for "wake"/"bed" window bounds). */
export const ScheduleOverridesSchema = z.object({ wake: ClockTime.optional(), bed: ClockTime.optional() }).strict();
export type ScheduleOverrides = z.infer<typeof ScheduleOverridesSchema>;

/** A subscale: the sum of some of the instrument's items. */
export const SubscaleSchema = z.object({
  id: ItemId, label: ItemLabel.optional(), items: z.array(ItemId).min(1).max(STUDY_LIMITS.items),
}).strict();

/** A severity band of the total: [min, max] inclusive, with its label (e.g. 5–9 "mild"). */
export const SeverityBandSchema = z.object({ min: z.number(), max: z.number(), label: ItemLabel.min(1) }).strict()
  .refine((b) => b.max >= b.min, { message: 'max must be at least min', path: ['max'] });

/**
 * How an instrument is scored (docs/study-design.md): the total is the sum (or mean) of its
 * numeric items, reverse-scored items counted as min + max − answer; optional subscales and
 * severity bands of the total. With more than `maxMissing` items unanswered there is no score;
 * with fewer, a sum is prorated (sum × items ÷ answered, rounded).
 */
export const ScoringSchema = z.object({
  method: z.enum(['sum', 'mean']).default('sum'),
  /** Items counted reversed. */
  reverse: z.array(ItemId).max(STUDY_LIMITS.items).default([]),
  subscales: z.array(SubscaleSchema).max(20).default([]),
  bands: z.array(SeverityBandSchema).max(20).default([]),
  maxMissing: z.number().int().min(0).default(0),
}).strict();
export type Scoring = z.infer<typeof ScoringSchema>;

/**
 * A questionnaire of the study beside the main items: its own items (ids unique across the
 * whole study), schedule and optional scoring; or a built-in (`builtin: "phq9"`), whose items are
 * `<id>_1` … and whose scoring is the published one.
 */
export const InstrumentSchema = z.object({
  id: ItemId,
  label: ItemLabel.optional(),
  /** Shown above the items (e.g. "Over the last 2 weeks, how often have you been bothered by …"). */
  instructions: z.string().max(STUDY_LIMITS.descriptionLength).optional(),
  builtin: z.enum(BUILTIN_INSTRUMENTS).optional(),
  items: z.array(StudyItemSchema).min(1).max(STUDY_LIMITS.items).optional(),
  scoring: ScoringSchema.optional(),
  schedule: ScheduleSchema.optional(),
}).strict()
  .refine((i) => (i.builtin === undefined) !== (i.items === undefined), { message: 'give either builtin or items', path: ['items'] })
  .refine((i) => i.builtin === undefined || i.scoring === undefined, { message: 'a built-in instrument has its published scoring', path: ['scoring'] });
export type Instrument = z.infer<typeof InstrumentSchema>;

/** Columns of reports.csv that are not items (no item, option or score may take their names). */
export const REPORT_FIXED_COLUMNS = ['report_id', 'participant_id', 'time', 'trigger', 'item_order', 'answered_at', 'instrument', 'prompt_id'] as const;



export const StudyConfigSchema = z.object({
  name: z.string().min(1).max(STUDY_LIMITS.nameLength),
  items: z.array(StudyItemSchema).min(1).max(STUDY_LIMITS.items)
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
  /** Questionnaires beside the main items, each with its own schedule and scoring (docs/study-design.md). */
  instruments: z.array(InstrumentSchema).max(20).optional(),
  /** Study information the participant app shows before the first report (plain text; blank lines separate paragraphs). */
  information: z.string().max(STUDY_LIMITS.descriptionLength).optional(),
  /** Consent statement the participant accepts once before the first report; the server records when (and refuses reports before). */
  consent: z.string().max(STUDY_LIMITS.descriptionLength).optional(),
  description: z.string().max(STUDY_LIMITS.descriptionLength).optional(),
}).strict().superRefine((c, ctx) => {
  // Every reports.csv column (items, option columns, scores) once across the study, none a fixed column's name.
  const seen = new Map<string, string>();
  const claim = (col: string, what: string, path: PropertyKey[]) => {
    const first = seen.get(col) ?? (REPORT_FIXED_COLUMNS.includes(col as never) ? `a fixed column of reports.csv` : undefined);
    if (first) ctx.addIssue({ code: 'custom', path, message: `column "${col}" of ${what} is already ${first}` });
    else seen.set(col, what);
  };
  const items = (list: StudyItem[], path: PropertyKey[]) => list.forEach((it, k) => {
    if (it.kind === 'choice' && it.multiple) for (const o of it.options) claim(optionColumn(it, o.value), `option ${o.value} of item "${it.id}"`, [...path, k]);
    else claim(it.id, `item "${it.id}"`, [...path, k, 'id']);
  });
  items(c.items, ['items']);
  const ids = new Set<string>([MAIN_INSTRUMENT]);
  (c.instruments ?? []).forEach((ins, k) => {
    if (ids.has(ins.id)) ctx.addIssue({ code: 'custom', path: ['instruments', k, 'id'], message: `instrument id "${ins.id}" is used twice (or is "${MAIN_INSTRUMENT}", the main items)` });
    ids.add(ins.id);
    if (ins.builtin) for (let j = 1; j <= BUILTIN_ITEM_COUNT[ins.builtin]; j++) claim(`${ins.id}_${j}`, `item ${j} of ${ins.builtin}`, ['instruments', k, 'id']);
    else items(ins.items ?? [], ['instruments', k, 'items']);
    if (ins.builtin || ins.scoring) {
      claim(`${ins.id}_total`, `the total of "${ins.id}"`, ['instruments', k, 'id']);
      for (const sub of ins.scoring?.subscales ?? []) claim(`${ins.id}_${sub.id}`, `subscale "${sub.id}" of "${ins.id}"`, ['instruments', k, 'scoring', 'subscales']);
    }
    if (ins.scoring && ins.items) {
      const own = new Map(ins.items.map((it) => [it.id, it]));
      const numeric = (id: string, path: PropertyKey[]) => {
        const it = own.get(id);
        if (!it) ctx.addIssue({ code: 'custom', path, message: `"${id}" is not an item of instrument "${ins.id}"` });
        else if (!itemRange(it)) ctx.addIssue({ code: 'custom', path, message: `"${id}" has no single numeric answer (${itemKind(it)}${it.kind === 'choice' ? ', multiple' : ''}) and cannot be scored` });
      };
      ins.scoring.reverse.forEach((id, j) => numeric(id, ['instruments', k, 'scoring', 'reverse', j]));
      ins.scoring.subscales.forEach((sub, j) => sub.items.forEach((id, m) => numeric(id, ['instruments', k, 'scoring', 'subscales', j, 'items', m])));
      if (!ins.items.some((it) => itemRange(it))) ctx.addIssue({ code: 'custom', path: ['instruments', k, 'scoring'], message: `instrument "${ins.id}" has no numeric item to score` });
    }
  });
});
/** Parsed study.json with defaults filled in (strict: an unknown key is an error, not dropped). */
export type StudyConfig = z.infer<typeof StudyConfigSchema>;

/** Why a report was made: a scheduled prompt, a wake or bed report, on the participant's own (voluntary), or an event-contingent report of an instrument. */
export const TRIGGERS = ['scheduled', 'wake', 'bed', 'voluntary', 'event'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** File names inside a study folder. */
export const STUDY_FILES = {
  config: 'study.json',
  participants: 'participants.csv',
  reports: 'reports.csv',
  activity: 'activity.csv',
  speech: 'speech.csv',
  speechFeatures: 'speech_features.csv',
  /** Answers to text items: report_id, item, text (never a model input). */
  texts: 'texts.csv',
  /** Written by the synthetic generator only: latent states and couplings. */
  groundTruth: 'ground_truth',
} as const;
