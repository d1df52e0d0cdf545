/**
 * Every HTTP body, query and parameter the server accepts, as zod schemas. Each one is at once
 * the runtime check (fastify-type-provider-zod), the handler's TypeScript type and the OpenAPI
 * document served at /openapi.json. Study-dependent checks (item ranges, channel names) are made
 * in the handlers against the study's own StudyConfigSchema.
 */
import { z } from 'zod';
import { STUDY_LIMITS, StudyConfigSchema, TimeZoneSchema, TRIGGERS } from '../../data/study.js';
import { parseIsoTime } from '../../data/rows.js';
import { ROLES, ServerSettingsSchema } from '../storage/columns.js';

/** ISO 8601 date-time WITH an offset ("2022-09-05T10:23:00+09:00" or "…Z"). */
export const IsoTimeWithOffset = z.string().max(40).refine(
  (s) => /(Z|[+-]\d{2}(:?\d{2})?)$/.test(s.trim()) && Number.isFinite(parseIsoTime(s)),
  { message: 'expected an ISO 8601 date-time with offset, e.g. 2022-09-05T10:23:00+09:00' },
);

/** A calendar day, YYYY-MM-DD (a real date). */
const IsoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a day, YYYY-MM-DD')
  .refine((d) => { const ms = Date.parse(`${d}T00:00:00Z`); return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === d; }, { message: 'not a calendar day' });
const Id = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

// ---------- accounts ----------

export const LoginBody = z.object({
  email: z.string().min(3).max(320),
  password: z.string().min(1).max(1024),
}).strict();

export const CreateResearcherBody = z.object({
  email: z.email().max(320),
  password: z.string().min(10, 'at least 10 characters').max(1024),
  isAdmin: z.boolean().default(false),
}).strict();

const NewPassword = z.string().min(10, 'at least 10 characters').max(1024);

export const ChangePasswordBody = z.object({
  currentPassword: z.string().min(1).max(1024),
  newPassword: NewPassword,
}).strict();

export const IssueResetBody = z.object({
  /** How long the reset token stays valid (default 24 h, at most 7 days). */
  expiresHours: z.number().positive().max(168).default(24),
}).strict().default({ expiresHours: 24 });

export const UseResetBody = z.object({
  token: z.string().min(10).max(200),
  newPassword: NewPassword,
}).strict();

export const UserParams = z.object({ userId: Id });

export const AddMemberBody = z.object({
  email: z.email().max(320),
  /** The role in this study (ROLES, src/server/storage/columns.ts): viewer < researcher < owner. */
  role: z.enum(ROLES).default('researcher'),
}).strict();

export const MemberParams = z.object({ studyId: Id, userId: Id });

// ---------- studies and participants ----------

export const CreateStudyBody = z.object({
  config: StudyConfigSchema,
  settings: ServerSettingsSchema.prefault({}),
}).strict();

export const StudyParams = z.object({ studyId: Id });
export const ParticipantParams = z.object({ studyId: Id, participantId: Id });
export const AlertParams = z.object({ studyId: Id, alertId: Id });
export const ExportJobParams = z.object({ studyId: Id, jobId: Id });

/** Extra participants.csv columns per participant at most. */
export const MAX_COVARIATES = 100;

export const CreateParticipantBody = z.object({
  /** participant_id in the exported study folder; generated when absent. */
  participantId: Id.optional(),
  timezone: TimeZoneSchema.optional(),
  /** The name the participant app greets them with (never exported; sealed at rest); without it the app says "Hello". */
  displayName: z.string().trim().min(1).max(60).optional(),
  /** Extra participants.csv columns (sex, age, …). */
  covariates: z.record(z.string().max(STUDY_LIMITS.idLength).regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string().max(200), z.number()]))
    .refine((c) => Object.keys(c).length <= MAX_COVARIATES, { message: `at most ${MAX_COVARIATES} covariates` }).default({}),
}).strict();

export const EnrolBody = z.object({ code: z.string().min(4).max(40) }).strict();

/** The participant accepts the study's consent text as shown (its sha256 from GET /me, so an edited text is not accepted unseen). */
export const ConsentBody = z.object({
  accepted: z.literal(true),
  textSha256: z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 (hex) of the consent text GET /me returned'),
}).strict();

// ---------- ingest ----------

export const ReportBody = z.object({
  /** Chosen by the app; sending the same id again is a retry of the same report. */
  id: Id,
  /** When the participant submitted, client clock, with offset. */
  time: IsoTimeWithOffset,
  trigger: z.enum(TRIGGERS),
  /**
   * Item id → answer; an item left out is "not answered". By kind: slider, likert, boolean and
   * single choice an integer in the item's range (boolean 0/1, a choice one of its option
   * values); multiple choice the chosen option values (array); text a string.
   */
  answers: z.record(z.string().max(100), z.union([z.number().int(), z.array(z.number().int()).max(50), z.string().max(10_000)]))
    .refine((a) => Object.keys(a).length <= STUDY_LIMITS.items, { message: `at most ${STUDY_LIMITS.items} answers (a study has at most ${STUDY_LIMITS.items} items)` }),
  /** The item ids in the order the app showed them. */
  itemOrder: z.array(z.string().max(100)).max(STUDY_LIMITS.items),
  /** The scheduled prompt this report answers (from GET /me/next). */
  promptTime: IsoTimeWithOffset.optional(),
  /** The instrument answered (default "ema", the study's main items). */
  instrument: z.string().max(64).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an instrument id').optional(),
  /** The id of the scheduled prompt answered (`<instrument>:<day>:<slot>`, from GET /me/prompts). */
  promptId: z.string().max(100).regex(/^[A-Za-z_][A-Za-z0-9_]*:\d{1,5}:\d{1,3}$/, 'a prompt id "<instrument>:<day>:<slot>"').optional(),
}).strict();
export type ReportInput = z.infer<typeof ReportBody>;

/** Speech features computed on the phone (speech.kind = "features"): name → value, null = not computable. */
export const SpeechFeaturesBody = z.object({
  features: z.record(z.string().min(1).max(100).regex(/^[^\s,"]+$/, 'a feature name is a CSV column name: no spaces, commas or quotes'), z.number().nullable())
    .refine((f) => Object.keys(f).length >= 1 && Object.keys(f).length <= 10_000, { message: 'expected 1 to 10,000 features' }),
}).strict();

export const ReportIdParams = z.object({ reportId: Id });

/** A page of a schedule: study days [fromDay, fromDay + days) (the server caps a page's prompts). */
export const ScheduleQuery = z.object({
  fromDay: z.coerce.number().int().min(0).max(1_000_000).default(0),
  days: z.coerce.number().int().min(1).max(1_000_000).optional(),
}).strict();

/**
 * A run of consecutive wristband epochs: epoch i starts at `start + i · epochSeconds`.
 * One array per channel (null = no value for that epoch). Runs may overlap and arrive in any order.
 */
export const ActivityBody = z.object({
  start: IsoTimeWithOffset,
  values: z.record(z.string().max(100), z.array(z.number().nullable()).max(200_000)),
}).strict();

export const ExportBody = z.object({
  /**
   * A label: the download's file name and the archive's top folder (default: study id and time).
   * The server chooses the folder (<data-dir>/exports/<studyId>/<jobId>); the name never decides it.
   */
  name: z.string().max(100).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a letter or digit, then letters, digits and _ . - only').optional(),
}).strict().default({});

export const AlertListQuery = z.object({ status: z.enum(['open', 'acknowledged', 'all']).default('open') });

// ---------- the prompt log and threshold notifications (docs/study-design.md) ----------

export const PromptOpenedBody = z.object({
  /** The prompt's id, `<instrument>:<day>:<slot>` (GET /me/next, /me/prompts). */
  promptId: z.string().max(100).regex(/^[A-Za-z_][A-Za-z0-9_]*:\d{1,5}:\d{1,3}$/, 'a prompt id "<instrument>:<day>:<slot>"').optional(),
  /** Or its intended time (a prompt of the main items), as the schedule gave it. */
  promptTime: IsoTimeWithOffset.optional(),
}).strict().refine((b) => (b.promptId === undefined) !== (b.promptTime === undefined), { message: 'give promptId or promptTime (one of them)' });
export const PromptLogQuery = z.object({
  /** One participant's prompts (label); all the study's when left out. */
  participant: Id.optional(),
  /** First day (UTC, YYYY-MM-DD) of the prompts; default 13 days before `to`. */
  from: IsoDay.optional(),
  /** Last day (UTC, YYYY-MM-DD), included; default today. At most 366 days from `from`. */
  to: IsoDay.optional(),
  /** The `nextCursor` of the previous page. */
  cursor: Id.optional(),
  /** Entries per page (whole participants: a page ends after the participant that reaches it). */
  limit: z.coerce.number().int().min(1).max(20_000).default(5_000),
}).strict();
export const NotifySettingsBody = z.object({
  /** E-mail the study's owners and researchers (through the server's SMTP server). */
  email: z.boolean(),
  /** https URL the signed webhook is posted to; null: no webhook. */
  webhookUrl: z.url().max(2000).nullable(),
  /** Make a new webhook secret (answered once; the old one stops working). */
  rotateSecret: z.boolean().default(false),
}).strict();
export const NotificationParams = z.object({ studyId: Id, notificationId: Id });
export const NotificationListQuery = z.object({ status: z.enum(['open', 'acknowledged', 'all']).default('open') }).strict();
