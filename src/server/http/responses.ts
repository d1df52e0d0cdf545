/**
 * Every answer the server gives, as zod schemas: the routes declare them (so the OpenAPI document
 * at /openapi.json has its responses and each handler's return type is checked against them), and
 * the browser apps import their types (`import type`, erased from the bundle). Each schema is the
 * JSON on the wire: a number the server computed may be null there (JSON has no NaN).
 *
 * The bytes sent are the handler's value through JSON.stringify, as with no schema; a server
 * started with `checkResponses` (the test suite) also checks every answer against its schema and
 * fails one that does not match it exactly (a field missing, undeclared or of another type).
 */
import { z } from 'zod';
import { isDeepStrictEqual } from 'node:util';
import { InstrumentSchema, ItemSchema, ScheduleOverridesSchema, ScheduleSchema, StudyConfigSchema, StudyItemSchema, TRIGGERS } from '../../data/study.js';
import {
  ALERT_DIRECTIONS, ALERT_SOURCES, EXPORT_PHASES, EXPORT_STATUSES, PARTICIPANT_STATUSES, PREDICTION_KINDS, ROLES,
  AUDIT_ACTIONS, Covariates, ExportSummarySchema, ServerSettingsSchema, SPEECH_FAILURE_REASONS,
} from '../storage/columns.js';

const Iso = z.string().describe('ISO 8601 date-time');
/** A number the server computed: null where it is not finite (JSON has no NaN). */
const Computed = z.number().nullable();

export const ErrorResponse = z.object({
  statusCode: z.number(),
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/** Every route's error answers: a 4xx naming the field, or a 500 that says nothing internal. */
const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse } as const;
/** The `response` of a route schema: its success answers by status code, and the error answers. */
export function answers<R extends Record<number, z.ZodType>>(ok: R): R & typeof errors { return { ...ok, ...errors }; }

// ---------- meta ----------

/** One job kind's queue (jobs/queue.ts): on pg-boss across every instance of the database, in process this instance's. */
export const QueueKindStats = z.object({
  kind: z.string(),
  waiting: z.number().int().describe('Jobs queued or waiting for a retry'),
  active: z.number().int().describe('Jobs running now'),
  failed: z.number().int().describe('Jobs failed for good (their dead-letter queue on pg-boss)'),
  oldestWaitingS: z.number().nullable().describe('Age of the oldest waiting job (seconds), or null'),
});
export const Health = z.object({
  ok: z.boolean(), db: z.enum(['sqlite', 'postgres']),
  /** Only for an admin's token. */
  queue: z.object({ engine: z.enum(['local', 'pg-boss']), kinds: z.array(QueueKindStats) }).optional(),
});

// ---------- accounts ----------

export const Account = z.object({ id: z.string(), email: z.string(), isAdmin: z.boolean() });
export const LoginResponse = z.object({ token: z.string(), expiresAt: Iso, user: Account });
export const Ok = z.object({ ok: z.boolean() });
export const Me = Account.extend({ studies: z.array(z.string()) });
export const AccountRow = Account.extend({ disabled: z.boolean(), lockedUntil: Iso.nullable() });
export const AccountDisabled = z.object({ userId: z.string(), disabled: z.boolean(), sessionsEnded: z.number() });
export const AccountEnabled = z.object({ userId: z.string(), disabled: z.boolean() });
export const AccountUnlocked = z.object({ userId: z.string(), unlocked: z.boolean() });
export const PasswordChanged = z.object({ ok: z.boolean(), otherSessionsEnded: z.number() });
export const ResetIssued = z.object({ userId: z.string(), email: z.string(), resetToken: z.string(), expiresAt: Iso, resetUrl: z.string() });
export const ResetUsed = z.object({ ok: z.boolean(), email: z.string(), sessionsEnded: z.number() });
export const AdminAuditRow = z.object({
  time: Iso, actor: z.string().describe('"researcher:<id>", "participant:<id>" or "system:<name>"'), action: z.enum(AUDIT_ACTIONS),
  study: z.string().nullable(), participant: z.string().nullable(), resource: z.string(), detail: z.string().nullable(),
});

// ---------- studies, members, participants ----------

export const StudySummary = z.object({ id: z.string(), name: z.string() });
export const StudyView = z.object({
  id: z.string(), name: z.string(), config: StudyConfigSchema, settings: ServerSettingsSchema, model: z.string().nullable(), createdAt: Iso,
  /** The caller's own role ("admin" for admins), so a front end shows only what it may do. */
  role: z.enum([...ROLES, 'admin']).nullable(),
});
export const MemberView = z.object({ userId: z.string(), email: z.string(), role: z.enum(ROLES), creator: z.boolean(), disabled: z.boolean() });
export const MemberChanged = z.object({ ok: z.boolean(), userId: z.string(), email: z.string().optional(), role: z.enum(ROLES).optional(), previousRole: z.enum(ROLES).nullable() });
export const Invitation = z.object({ participantId: z.string(), enrolCode: z.string(), enrolUrl: z.string(), enrolQrSvg: z.string().describe('the enrolment link as a QR code (SVG)'), expiresAt: Iso });
export const NewCode = Invitation.extend({ removedPushSubscriptions: z.number() });
export const ParticipantView = z.object({
  participantId: z.string(), timezone: z.string(), status: z.enum(PARTICIPANT_STATUSES), covariates: Covariates, enrolledAt: Iso.nullable(),
  displayName: z.string().nullable(), consentedAt: Iso.nullable(),
});
export const ReportView = z.object({
  id: z.string().describe('the id the app chose'), time: z.string(), serverTime: Iso, trigger: z.enum(TRIGGERS),
  answers: z.record(z.string(), z.number()), itemOrder: z.array(z.string()), promptTime: z.string().nullable(), late: z.boolean(),
  /** The instrument answered ("ema": the main items), the prompt answered, scores and severity band (docs/study-design.md). */
  instrument: z.string(), promptId: z.string().nullable(), scores: z.record(z.string(), z.number()), band: z.string().nullable(),
  /** Text answers (opened from their sealed column). */
  texts: z.record(z.string(), z.string()),
});
export const ReportStored = ReportView.extend({ duplicate: z.boolean() });
/** A scheduled prompt: its stable id (`<instrument>:<day>:<slot>`), instrument, local time and expiry (docs/study-design.md). */
const SchedulePrompt = z.object({ id: z.string(), instrument: z.string(), time: z.string(), day: z.number(), slot: z.number(), expires: z.string() });
const SchedulePage = z.object({ days: z.number(), fromDay: z.number(), toDay: z.number(), nextFromDay: z.number().nullable() });
export const ParticipantSchedule = z.object({ participantId: z.string(), timezone: z.string().optional(), prompts: z.array(SchedulePrompt) }).extend(SchedulePage.partial().shape);
export const WithdrawalReceipt = z.object({
  participantId: z.string(), reports: z.number(), speechRecordings: z.number(), activityEpochs: z.number(), predictions: z.number(), alerts: z.number(),
  pushSubscriptions: z.number(), reminders: z.number(), speechFailures: z.number(), promptEvents: z.number(), notifications: z.number(),
  files: z.array(z.string()).describe('speech files removed (relative to the data directory)'), deletedFiles: z.number(),
  exports: z.array(z.object({ id: z.string(), name: z.string() })),
});
export const ExportJobView = z.object({
  id: z.string(), name: z.string(), status: z.enum(EXPORT_STATUSES), phase: z.enum(EXPORT_PHASES), done: z.number(), total: z.number(), progress: z.number(),
  dir: z.string(), summary: ExportSummarySchema.nullable(), error: z.string().nullable(),
  createdAt: Iso.nullable(), startedAt: Iso.nullable(), finishedAt: Iso.nullable(), deletedAt: Iso.nullable(), deletedBy: z.string().nullable(),
  statusUrl: z.string(), downloadUrl: z.string().nullable(),
});
export const TarArchive = z.any().describe('a tar archive of the study folder (application/x-tar)');
export const StudyAuditRow = AdminAuditRow.omit({ study: true });

// ---------- the participant app ----------

/** What the app shows before the first report and how it greets: the study's texts, their sha256 (what is accepted), when accepted, the name to greet. */
export const Intro = z.object({
  displayName: z.string().nullable(), information: z.string().nullable(), consent: z.string().nullable(), textSha256: z.string(), consentedAt: Iso.nullable(),
});
export const Enrolled = z.object({ token: z.string(), participantId: z.string(), study: StudySummary, timezone: z.string() }).extend(Intro.shape);
const SpeechKind = z.enum(['audio', 'features', 'none']);
export const MeView = z.object({ participantId: z.string(), timezone: z.string(), study: StudySummary, items: z.array(StudyItemSchema), speech: SpeechKind }).extend(Intro.shape);
export const ConsentAccepted = z.object({ consentedAt: Iso, textSha256: z.string() });
export const NextPrompt = z.object({
  /** The next prompt of any instrument after now. */
  prompt: SchedulePrompt.extend({ trigger: z.literal('scheduled') }).nullable(),
  studyOver: z.boolean(), wakeAndBed: z.boolean(), timezone: z.string(),
  /** The study's items in a fresh random order. */
  items: z.array(StudyItemSchema), speech: SpeechKind,
  /** The server's clock (ISO): the app counts its own clock's difference to it. */
  now: Iso,
  /** The prompts open now (time ≤ now < expires) and not answered, oldest first. */
  open: z.array(SchedulePrompt),
  /** What the app needs to compute the same prompts offline: the study's items, schedule and instruments (study.json's). */
  design: z.object({ items: z.array(StudyItemSchema), schedule: ScheduleSchema.nullable(), instruments: z.array(InstrumentSchema) }),
  /** The participant's seed, enrolment and own wake/bed times (src/data/schedule.ts ParticipantClock). */
  clock: z.object({ zone: z.string(), seed: z.number(), enrolledMs: z.number(), overrides: ScheduleOverridesSchema.optional() }),
  /** Prompt ids answered among the last day's prompts (so an offline app does not show them again). */
  answered: z.array(z.string()),
}).extend(Intro.shape);
export const MySchedule = z.object({ timezone: z.string(), prompts: z.array(SchedulePrompt) }).extend(SchedulePage.shape);
export const SpeechStored = z.object({ reportId: z.string(), sha256: z.string(), bytes: z.number(), durationS: z.number(), duplicate: z.boolean() });
export const SpeechFeaturesStored = z.object({ reportId: z.string(), features: z.number().describe('how many features'), duplicate: z.boolean() });
export const ActivityStored = z.object({ received: z.number(), stored: z.number(), inserted: z.number(), duplicates: z.number() });
export const RawActivityStored = z.object({ bytes: z.number(), format: z.string().describe('the file format read'), epochs: z.number(), inserted: z.number(), duplicates: z.number(), first: Iso, last: Iso });
export const SpeechFailureNoted = z.object({ reportId: z.string(), reason: z.enum(SPEECH_FAILURE_REASONS), duplicate: z.boolean() });
export const PushKey = z.object({ publicKey: z.string() });
export const PushSubscribed = z.object({ ok: z.boolean(), created: z.boolean() });
export const PushUnsubscribed = z.object({ deleted: z.number() });

// ---------- models, predictions, alerts ----------

const PredictedItem = z.object({ value: Computed, lo: Computed, hi: Computed });
export const PredictionView = z.object({
  id: z.string(), time: Iso, reportId: z.string().nullable(), kind: z.enum(PREDICTION_KINDS),
  items: z.record(z.string(), PredictedItem), inputs: z.object({ activity: z.array(z.string()), speech: z.boolean() }).nullable(),
});
const PredictorView = z.object({
  predictor: z.string(), engine: z.enum(['plain', 'baseline']),
  speechFeatures: z.object({ used: z.boolean(), count: z.number(), note: z.string().nullable() }),
  /** The predictor's micro-layer fits, or null when it has none. */
  personalisation: z.object({
    queued: z.number(), running: z.string().nullable().describe('the participant being fitted now'), done: z.number(), failed: z.number(), lastError: z.string().nullable(),
    personalised: z.number().describe('participants with their own micro layer'),
  }).nullable(),
});
export const ModelAttached = PredictorView.extend({ model: z.string() });
export const ModelView = PredictorView.partial().extend({
  model: z.string().nullable(), predictor: z.string().nullable(), loadError: z.string().nullable(),
  /** The server's speech feature extraction (audio studies; server-wide counts). */
  speechExtraction: z.object({ queued: z.number(), running: z.number(), done: z.number(), rejected: z.number(), failed: z.number(), lastMs: z.number().nullable(), meanMs: z.number().nullable() }).optional(),
});
export const ModelDetached = z.object({ model: z.null() });
export const ModelChoice = z.object({
  builtin: z.array(z.string()), attached: z.string().nullable(),
  models: z.array(z.object({
    name: z.string(), kind: z.string().nullable(), items: z.array(z.string()), fits: z.boolean(), misfit: z.string().nullable(), bestDevCCC: z.number().nullable(),
    evaluation: z.object({ meanCCC: Computed, n: z.number(), split: z.string().nullable() }).nullable(), note: z.string().nullable(),
  })),
});
export const AlertsCreated = z.object({ created: z.number() });
export const AlertView = z.object({
  id: z.string(), participantId: z.string(), item: z.string(), source: z.enum(ALERT_SOURCES), direction: z.enum(ALERT_DIRECTIONS),
  startedAt: Iso, lastAt: Iso, detectedAt: Iso, reports: z.number(), baseline: z.object({ mean: Computed, sd: Computed }),
  acknowledgedBy: z.string().nullable(), acknowledgedAt: Iso.nullable(),
});

// ---------- the dashboard's panels ----------

export const DayHourActivity = z.object({
  participantId: z.string(), timezone: z.string(), channel: z.string(), channels: z.array(z.string()), epochSeconds: z.number(), epochs: z.number(),
  cells: z.array(z.object({ day: z.string(), hour: z.number(), mean: z.number().nullable(), minutes: z.number(), epochs: z.number() })),
});
export const QualityRow = z.object({
  participantId: z.string(), day: z.string(), minutesInDay: z.number(), wearMinutes: z.number(), wearFraction: z.number(), epochs: z.number(),
  reports: z.number(), late: z.number(), recordings: z.number(), failedRecordings: z.number(), skippedRecordings: z.number(), missingRecordings: z.number(),
});
export const Quality = z.object({ channels: z.array(z.string()), epochSeconds: z.number(), speech: SpeechKind, rows: z.array(QualityRow) });
const Ccc = Computed;
export const StoredEvaluation = z.object({
  source: z.string().describe('"evaluation.json"'), split: z.string().nullable(), n: z.number(), participants: z.number().nullable(),
  meanCCC: Ccc, meanCiLow: Ccc, meanCiHigh: Ccc,
  items: z.array(z.object({ item: z.string(), ccc: Ccc, ciLow: Ccc, ciHigh: Ccc, n: z.number() })),
  baselines: z.array(z.object({ name: z.string(), meanCCC: Ccc, ciLow: Ccc, ciHigh: Ccc })).nullable(),
  vsBestBaseline: z.object({ baseline: z.string(), diff: Ccc, ciLow: Ccc, ciHigh: Ccc }).nullable(),
});
export const TrainingSummary = z.object({ kind: z.string().nullable(), bestEpoch: z.number().nullable(), devMeanCCC: z.number().nullable(), epochs: z.number().nullable() });
export const ModelEvaluation = z.object({
  model: z.string(), stored: StoredEvaluation.nullable(), training: TrainingSummary.nullable(),
  online: z.object({
    source: z.string(), reports: z.number(), participants: z.number(), meanCCC: Ccc,
    items: z.array(z.object({ item: z.string(), label: z.string().optional(), ccc: Ccc, n: z.number() })),
  }),
});
export const PredictionByReport = z.object({ time: Iso, reportId: z.string().nullable(), reportTime: z.string().nullable(), kind: z.enum(PREDICTION_KINDS), items: z.record(z.string(), PredictedItem) });

/** The types the browser apps read (src/web imports them with `import type`). */
export type NextPromptBody = z.infer<typeof NextPrompt>;
export type MemberViewBody = z.infer<typeof MemberView>;
export type QualityRowBody = z.infer<typeof QualityRow>;
export type DayHourActivityBody = z.infer<typeof DayHourActivity>;
export type ModelEvaluationBody = z.infer<typeof ModelEvaluation>;
export type StoredEvaluationBody = z.infer<typeof StoredEvaluation>;
export type TrainingSummaryBody = z.infer<typeof TrainingSummary>;

// ---------- the check ----------

/**
 * The serializer of every route with a response schema: JSON.stringify of the handler's value (the
 * same bytes as without a schema). With `check`, the answer as the client will read it (JSON
 * round trip) must parse with the schema to exactly itself, or the request fails naming the route.
 */
export function responseSerializer(check: boolean) {
  return ({ schema, method, url }: { schema: unknown; method: string; url: string }) => (data: unknown): string => {
    const text = JSON.stringify(data);
    if (check && text !== undefined) {
      const wire: unknown = JSON.parse(text);
      const r = (schema as z.ZodType).safeParse(wire);
      if (!r.success) throw new Error(`response of ${method} ${url} does not match its schema: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      if (!isDeepStrictEqual(JSON.parse(JSON.stringify(r.data)), wire)) throw new Error(`response of ${method} ${url} has fields its schema does not declare: ${text.slice(0, 300)}`);
    }
    return text;
  };
}

/** A participant's own wake and bed times for the schedule. */
export const ScheduleOverridesView = z.object({ participantId: z.string(), overrides: ScheduleOverridesSchema });

// ---------- the prompt log and threshold notifications ----------

export const PROMPT_FATES = ['upcoming', 'open', 'answered', 'expired'] as const;
export const PromptLogEntryView = z.object({
  participantId: z.string(),
  promptId: z.string().describe('"<instrument>:<day>:<slot>"'),
  instrument: z.string(),
  promptTime: z.string().describe('intended time, local with offset'),
  day: z.number(), slot: z.number(),
  expiresAt: Iso,
  pushSentAt: Iso.nullable(), openedAt: Iso.nullable(), answeredAt: Iso.nullable(),
  reportId: z.string().nullable(),
  fate: z.enum(PROMPT_FATES),
});
export const PromptLogView = z.object({
  /** The days (UTC) the entries' prompt times fall in. */
  from: z.string(), to: z.string(),
  entries: z.array(PromptLogEntryView),
  /** More participants follow: ask again with `cursor` set to this. Null on the last page. */
  nextCursor: z.string().nullable(),
  /** True when `nextCursor` is set. */
  truncated: z.boolean(),
});
export const PromptOpened = z.object({ promptId: z.string(), promptTime: z.string(), openedAt: Iso, first: z.boolean() });
export const NotifySettingsView = z.object({
  email: z.boolean(), webhookUrl: z.string().nullable(), webhookSecretSet: z.boolean(), smtpConfigured: z.boolean(),
  webhookSecret: z.string().optional().describe('the new webhook secret: answered once, when it is made'),
  signatureHeader: z.string(), updatedAt: Iso.nullable(),
});
export const NotificationView = z.object({
  id: z.string(), participantId: z.string(), rule: z.string(), source: z.string(), createdAt: Iso,
  /** Matches of the rule for this participant folded into this notification by its cooldown (not sent), and the latest one's time. */
  alsoMatched: z.number(), lastMatchedAt: Iso.nullable(),
  acknowledgedAt: Iso.nullable(), acknowledgedBy: z.string().nullable(),
  deliveries: z.array(z.object({ channel: z.string(), status: z.string(), attempts: z.number(), sentAt: Iso.nullable(), nextTryAt: Iso.nullable(), lastError: z.string().nullable() })),
});
export type PromptLogEntryBody = z.infer<typeof PromptLogEntryView>;
export type NotificationBody = z.infer<typeof NotificationView>;
export type NotifySettingsBody = z.infer<typeof NotifySettingsView>;
