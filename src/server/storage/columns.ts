/**
 * What the server's columns may hold, as zod schemas: the words of its enumerated columns (roles,
 * statuses, kinds) and the shape of each JSON text column, with its codec (JSON text ⇄ checked
 * value). The repositories decode every row they read through these and encode every row they
 * write, so nothing above the storage layer parses a column.
 */
import { z } from 'zod';
import { ScheduleOverridesSchema, StudyConfigSchema, TRIGGERS } from '../../data/study.js';

// ---------- enumerated columns ----------

/** A study member's role (study_members.role), ordered viewer < researcher < owner. */
export const ROLES = ['viewer', 'researcher', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** Is `role` at least `min`? (An unknown role is below every role.) */
export function roleAtLeast(role: string, min: Role): boolean {
  return ROLES.indexOf(role as Role) >= ROLES.indexOf(min);
}

/** participants.status: "invited" → "active" → "withdrawn" (the row stays as a tombstone). */
export const PARTICIPANT_STATUSES = ['invited', 'active', 'withdrawn'] as const;
export type ParticipantStatus = (typeof PARTICIPANT_STATUSES)[number];

/** export_jobs.status; "deleted": the folder was removed, the row stays as the record. */
export const EXPORT_STATUSES = ['queued', 'running', 'done', 'failed', 'deleted'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** export_jobs.phase: what the job is writing now. */
export const EXPORT_PHASES = ['queued', 'participants', 'reports', 'activity', 'speech', 'done'] as const;
export type ExportPhase = (typeof EXPORT_PHASES)[number];

/** predictions.kind: "macro" (no personal data yet) or "personalised". */
export const PREDICTION_KINDS = ['macro', 'personalised'] as const;
export type PredictionKind = (typeof PREDICTION_KINDS)[number];

/** alerts.source and alerts.direction. */
export const ALERT_SOURCES = ['reported', 'predicted'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];
export const ALERT_DIRECTIONS = ['above', 'below'] as const;
export type AlertDirection = (typeof ALERT_DIRECTIONS)[number];

/** speech_features.source: uploaded by the app (privacy mode) or computed on the server from the recording. */
export const SPEECH_SOURCES = ['app', 'server'] as const;
export type SpeechSource = (typeof SPEECH_SOURCES)[number];

/** web_speech_failures.reason: why a report has no recording. */
export const SPEECH_FAILURE_REASONS = ['rejected', 'microphone', 'skipped'] as const;
export type SpeechFailureReason = (typeof SPEECH_FAILURE_REASONS)[number];

/** audit.actor_kind and audit.action. */
export const ACTOR_KINDS = ['researcher', 'participant', 'system'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];
export const AUDIT_ACTIONS = ['read', 'write', 'delete'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const Trigger = z.enum(TRIGGERS);

// ---------- a study's server settings (studies.settings) ----------

/** Early warning: a participant's item beyond their own baseline band for a while. */
export const AlertSettingsSchema = z.object({
  /** Items watched (negative affect in the paper's DAMS set). */
  items: z.array(z.string()).default(['gloomy', 'depressed', 'anxious', 'worried']),
  /** The baseline is the participant's first N answers of the item. */
  baselineReports: z.number().int().min(3).max(500).default(10),
  /** Band = baseline mean ± k · baseline SD. */
  k: z.number().positive().max(10).default(2),
  /** SD floor as a fraction of the item's range, so a flat baseline does not flag every change. */
  sdFloorFraction: z.number().min(0).max(1).default(0.05),
  /** The run of answers beyond the band must last at least this long… */
  minDurationHours: z.number().min(0).max(24 * 365).default(24),
  /** …and hold at least this many consecutive answers. */
  minReports: z.number().int().min(1).max(1000).default(3),
  directions: z.enum(['above', 'below', 'both']).default('above'),
  sources: z.array(z.enum(ALERT_SOURCES)).default(['reported', 'predicted']),
}).strict();
export type AlertSettings = z.infer<typeof AlertSettingsSchema>;

export const ServerSettingsSchema = z.object({
  /** A report that reaches the server this long after its client time (or its prompt) is marked late. */
  lateAfterMinutes: z.number().positive().max(7 * 24 * 60).default(60),
  /** How long an enrolment code stays valid. */
  enrolCodeHours: z.number().positive().max(24 * 90).default(24 * 7),
  /** Largest accepted speech upload. */
  speechMaxBytes: z.number().int().positive().max(512 * 1024 * 1024).default(20 * 1024 * 1024),
  alerts: AlertSettingsSchema.prefault({}),
}).strict();
export type ServerSettings = z.infer<typeof ServerSettingsSchema>;

// ---------- JSON text columns ----------

/**
 * A JSON text column: decoded with JSON.parse and checked against `schema` (a row that does not
 * hold what its column says fails here, not in a handler); encoded with JSON.stringify, as every
 * value written was checked on its way in (request schemas, the server's own computations).
 */
export interface JsonColumn<T> { decode(text: string): T; encode(value: T): string }
export function jsonColumn<S extends z.ZodType>(schema: S): JsonColumn<z.output<S>> {
  return { decode: (text) => schema.parse(JSON.parse(text)), encode: (value) => JSON.stringify(value) };
}

/** A number written from a computation: JSON has no NaN or infinity, so null stands for a non-finite number, decoded as NaN. */
const ComputedNumber = z.number().nullable().transform((v) => v ?? NaN);

/** reports.answers: item id → integer answer (an item left out was not answered). */
export const Answers = z.record(z.string(), z.number());
export type Answers = z.infer<typeof Answers>;

/** participants.covariates: extra participants.csv columns (sex, age, …). */
export const Covariates = z.record(z.string(), z.union([z.string(), z.number()]));
export type Covariates = z.infer<typeof Covariates>;

/** activity.vals: one value per study channel, in the study's channel order (null = missing). */
export const EpochValues = z.array(z.number().nullable());
export type EpochValues = z.infer<typeof EpochValues>;

/** speech_features.features: feature name → value (null = could not be computed), in the order sent. */
export const SpeechFeatureValues = z.record(z.string(), z.number().nullable());
export type SpeechFeatureValues = z.infer<typeof SpeechFeatureValues>;

/** predictions.items: item id → predicted value and interval, in item units. */
export const PredictedItems = z.record(z.string(), z.object({ value: ComputedNumber, lo: ComputedNumber, hi: ComputedNumber }));
export type PredictedItems = z.infer<typeof PredictedItems>;

/** predictions.inputs: what a prediction used (activity channels present, speech features). */
export const PredictionInputs = z.object({ activity: z.array(z.string()), speech: z.boolean() });
export type PredictionInputs = z.infer<typeof PredictionInputs>;

/** export_jobs.summary: what a finished export wrote. */
export const ExportSummarySchema = z.looseObject({
  dir: z.string(),
  participants: z.number(),
  reports: z.number(),
  activityEpochs: z.number(),
  /** Speech recordings copied (speech.kind = audio) or feature rows written (features). */
  speechFiles: z.number(),
});
export type ExportSummary = z.infer<typeof ExportSummarySchema>;

export const AnswersColumn = jsonColumn(Answers);
export const ItemOrderColumn = jsonColumn(z.array(z.string()));
/** reports.texts (sealed at rest): text item → the participant's words. */
export const Texts = z.record(z.string(), z.string());
export type Texts = z.infer<typeof Texts>;
export const TextsColumn = jsonColumn(Texts);
/** reports.scores: score column (`phq9_total`, …) → value. */
export const ScoresColumn = jsonColumn(z.record(z.string(), z.number()));
/** participants.schedule_overrides: the participant's own wake and bed times. */
export const ScheduleOverridesColumn = jsonColumn(ScheduleOverridesSchema);
export const CovariatesColumn = jsonColumn(Covariates);
export const EpochValuesColumn = jsonColumn(EpochValues);
export const SpeechFeaturesColumn = jsonColumn(SpeechFeatureValues);
export const PredictedItemsColumn = jsonColumn(PredictedItems);
export const PredictionInputsColumn = jsonColumn(PredictionInputs);
export const ExportSummaryColumn = jsonColumn(ExportSummarySchema);
export const SettingsColumn = jsonColumn(ServerSettingsSchema);
export const StudyConfigColumn = jsonColumn(StudyConfigSchema);
