/**
 * Every table of the server, as Kysely types: the one schema of the database, for both back ends
 * (SQLite and PostgreSQL). Times are integer milliseconds since the Unix epoch (bigint, parsed to
 * number), booleans are 0/1 integers, per-study shapes (item answers, activity channels,
 * predictions) are JSON text so that a study with 7 items or one activity channel needs no
 * migration. These are the columns as stored; what the storage layer hands out are the decoded rows.
 */
import type { Generated } from 'kysely';

/** The two back ends the one schema runs on. */
export type DbKind = 'sqlite' | 'postgres';

export interface UsersTable {
  id: string;
  email: string;
  /** "scrypt$N$r$p$salt$hash" (base64url parts). */
  password_hash: string;
  is_admin: number;
  created_ms: number;
  /** When an admin disabled the account (no sign-in, every session ended), or null; since 0040. */
  disabled_ms?: number | null;
}

export interface SessionsTable {
  /** sha256 of the bearer token: a stolen database does not yield usable tokens. */
  token_hash: string;
  user_id: string;
  created_ms: number;
  expires_ms: number;
}

export interface StudiesTable {
  id: string;
  name: string;
  /** study.json (StudyConfig) as JSON. */
  config: string;
  /** Server settings (alerts, lateness) as JSON (ServerSettingsSchema). */
  settings: string;
  /** Folder of the attached trained model, or null. */
  model_dir: string | null;
  created_ms: number;
  /** The account that created the study (a co-owner cannot demote or remove it); null for studies older than 0040 with several owners. */
  created_by?: string | null;
}

export interface StudyMembersTable {
  study_id: string;
  user_id: string;
  /** "owner", "researcher" or "viewer" (ROLES, columns.ts). */
  role: string;
}

/** Failed sign-ins per account name (sha256 of the lower-cased email, whether or not it has an account). */
export interface LoginFailuresTable {
  email_hash: string;
  /** Consecutive failures since the last successful sign-in or unlock. */
  failures: number;
  last_ms: number;
  /** Sign-in refused until then (0 = not locked). */
  locked_until_ms: number;
}

export interface ParticipantsTable {
  id: string;
  study_id: string;
  /** The participant_id of the study folder (chosen by the researcher, unique per study). */
  label: string;
  timezone: string;
  /** Extra participants.csv columns (sex, age, …) as JSON object of strings. */
  covariates: string;
  enrol_code_hash: string | null;
  enrol_expires_ms: number | null;
  token_hash: string | null;
  /** "invited" → "active" → "withdrawn". */
  status: string;
  /** Seeds the participant's schedule jitter (so /me/next is stable between calls). */
  seed: number;
  created_ms: number;
  enrolled_ms: number | null;
  /** When the participant accepted the study's consent text, and that text's sha256; since 0050. */
  consented_ms?: number | null;
  consent_sha256?: string | null;
  /** The name the app greets the participant with (sealed at rest), or null: "Hello"; since 0050. */
  display_name?: string | null;
  /** JSON {wake?, bed?}: the participant's own wake and bed times for the schedule, or null; since 0070. */
  schedule_overrides?: string | null;
}

export interface ReportsTable {
  id: string;
  study_id: string;
  participant_id: string;
  /** The id the app chose: a retry with the same id is the same report. */
  client_id: string;
  /** Client time as sent, ISO 8601 with offset (exported as reports.csv `time`). */
  time: string;
  time_ms: number;
  server_ms: number;
  trigger: string;
  /** JSON object item id → integer answer (absent = not answered). */
  answers: string;
  /** JSON array of item ids in the order shown. */
  item_order: string;
  /** Scheduled prompt time (ISO) the report answers, when the app says so. */
  prompt_time: string | null;
  late: number;
  /** The instrument answered (null = the main items, "ema"); since 0070. */
  instrument?: string | null;
  /** The scheduled prompt answered, `<instrument>:<day>:<slot>`; since 0070. */
  prompt_id?: string | null;
  /** JSON object score column → value (scored instruments), or null; since 0070. */
  scores?: string | null;
  /** The severity band of the instrument's total, or null; since 0070. */
  band?: string | null;
  /** JSON object text item → text, sealed at rest, or null; since 0070. */
  texts?: string | null;
}

export interface SpeechTable {
  report_id: string;
  study_id: string;
  participant_id: string;
  /** Path relative to the server's data directory. */
  file: string;
  bytes: number;
  sha256: string;
  sample_rate: number;
  channels: number;
  duration_s: number;
  created_ms: number;
}

export interface SpeechFeaturesTable {
  report_id: string;
  study_id: string;
  participant_id: string;
  /** JSON object feature name → value (null = could not be computed). */
  features: string;
  created_ms: number;
  /** "app" (uploaded, privacy mode) or "server" (computed from the uploaded recording); since 0005. */
  source?: string;
}

export interface ActivityTable {
  participant_id: string;
  /** Epoch start, ms since the Unix epoch. */
  t_ms: number;
  /** JSON array of channel values in the study's channel order (null = missing). */
  vals: string;
}

export interface PredictionsTable {
  id: string;
  study_id: string;
  participant_id: string;
  report_id: string | null;
  created_ms: number;
  /** "macro" (no personal data yet) or "personalised". */
  kind: string;
  /** JSON object item id → {value, lo, hi} in item units. */
  items: string;
  /** JSON {activity: [channels present], speech: boolean}: what the prediction used (null before 0004). */
  inputs?: string | null;
}

export interface PasswordResetsTable {
  /** sha256 of the one-time reset token. */
  token_hash: string;
  user_id: string;
  /** The admin who issued it. */
  created_by: string;
  created_ms: number;
  expires_ms: number;
  used_ms: number | null;
}

export interface ExportJobsTable {
  id: string;
  study_id: string;
  user_id: string;
  /** Folder name under <data-dir>/exports. */
  name: string;
  /** "queued" | "running" | "done" | "failed" | "deleted" (folder removed; the row stays as a record). */
  status: string;
  /** What the job is writing now (participants, reports, activity, speech, done). */
  phase: string;
  /** Rows written so far and rows to write in all (progress = done / total). */
  done: number;
  total: number;
  /** JSON ExportSummary once done. */
  summary: string | null;
  error: string | null;
  created_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
  /** When the folder was removed, and by whom ("researcher:<id>" or "retention"). */
  deleted_ms: number | null;
  deleted_by: string | null;
}

export interface AlertsTable {
  id: string;
  study_id: string;
  participant_id: string;
  item: string;
  /** "reported" or "predicted". */
  source: string;
  direction: string;
  started_ms: number;
  last_ms: number;
  detected_ms: number;
  n_reports: number;
  baseline_mean: number;
  baseline_sd: number;
  acknowledged_by: string | null;
  acknowledged_ms: number | null;
}

export interface AuditTable {
  id: Generated<number>;
  time_ms: number;
  /** "researcher" | "participant" | "system". */
  actor_kind: string;
  actor_id: string;
  /** "read" | "write" | "delete". */
  action: string;
  study_id: string | null;
  participant_id: string | null;
  resource: string;
  detail: string | null;
  /** sha256 of the previous row's hash and this row (audit-chain.ts); null only before sealing. */
  hash: Generated<string | null>;
}

/** The server's VAPID key pair for Web Push (one row, id "vapid"; the private key sealed at rest). */
export interface WebPushKeysTable {
  id: string;
  public_key: string;
  private_key: string;
  subject: string;
  created_ms: number;
}

/** A browser's push subscription (its keys sealed at rest). */
export interface WebPushSubscriptionsTable {
  endpoint: string;
  participant_id: string;
  study_id: string;
  p256dh: string;
  auth: string;
  created_ms: number;
  last_ok_ms: number | null;
  failures: number;
}

/** One reminder per (participant, prompt): the row is the claim, so it goes out once across restarts and processes. */
export interface WebPushSentTable {
  participant_id: string;
  prompt_ms: number;
  claimed_ms: number;
  /** How many of the participant's subscriptions took it. */
  delivered: number;
  detail: string | null;
}

/** Why a report has no recording: the app's note, or the server's rejection of the upload (first note wins). */
export interface WebSpeechFailuresTable {
  report_id: string;
  study_id: string;
  participant_id: string;
  /** "rejected" | "microphone" | "skipped". */
  reason: string;
  /** Free text, sealed at rest. */
  detail: string | null;
  created_ms: number;
}

/** The data key's canary, a key rotation in progress, and whether older plaintext was sealed (data-key.ts). */
export interface CryptoMetaTable {
  name: string;
  value: string;
  updated_ms: number;
}

/**
 * What happened to each prompt beyond its schedule and its answer (since 0080): when its reminder
 * was pushed and when the app was opened for it. The prompt itself comes from the schedule
 * (data/schedule.ts, one id per prompt), its answer from the reports (reports.prompt_id);
 * services/prompt-log.ts joins the three into the prompt log.
 */
export interface PromptLogTable {
  participant_id: string;
  /** The schedule's prompt id, `<instrument>:<day>:<slot>`. */
  prompt_id: string;
  study_id: string;
  /** The prompt's intended time (ms) and as local ISO 8601 with offset. */
  prompt_ms: number;
  prompt_time: string;
  /** When a reminder reached at least one of the participant's push subscriptions. */
  sent_ms: number | null;
  /** When the app was first opened for it. */
  opened_ms: number | null;
}

/** A study's notification channels (since 0080), set by an owner: the webhook and whether e-mail goes out. */
export interface NotifySettingsTable {
  study_id: string;
  /** https URL the signed webhook is posted to, or null. */
  webhook_url: string | null;
  /** HMAC-SHA256 key of the webhook's signature (base64url), sealed at rest. */
  webhook_secret: string | null;
  /** 1: e-mail the study's owners and researchers. */
  email: number;
  updated_ms: number;
  updated_by: string;
}

/** One notification (since 0080): a rule met by a report or an alert, keyed so it is made once. */
export interface NotificationsTable {
  id: string;
  study_id: string;
  participant_id: string;
  rule_id: string;
  /** What met the rule: "report:<id>" or "alert:<id>" (unique with study and rule: the claim). */
  source_key: string;
  created_ms: number;
  acknowledged_ms: number | null;
  acknowledged_by: string | null;
  /**
   * Since 0090: a match made while an unacknowledged notification of the same rule and
   * participant was within the rule's `cooldownHours` — that notification's id; recorded and
   * audited, counted on it ("also matched N times since"), never delivered. Null otherwise.
   */
  cooldown_of: string | null;
}

/** One channel's delivery of a notification: retried with backoff until sent or given up. */
export interface NotificationDeliveriesTable {
  notification_id: string;
  /** "email" | "webhook". */
  channel: string;
  /** "pending" | "sending" | "sent" | "failed" (NOTIFY_DELIVERY_STATUSES). */
  status: string;
  attempts: number;
  /** Pending: not before this time; sending: the claim lapses then (a crashed sender's delivery is retried). */
  next_ms: number;
  sent_ms: number | null;
  last_error: string | null;
}

/** Rate-limit counters shared by instances (PostgreSQL; since 0060): a fixed window per limiter key. */
export interface RateLimitsTable {
  key: string;
  count: number;
  reset_ms: number;
}

export interface DB {
  users: UsersTable;
  sessions: SessionsTable;
  studies: StudiesTable;
  study_members: StudyMembersTable;
  participants: ParticipantsTable;
  reports: ReportsTable;
  speech: SpeechTable;
  speech_features: SpeechFeaturesTable;
  activity: ActivityTable;
  predictions: PredictionsTable;
  alerts: AlertsTable;
  audit: AuditTable;
  password_resets: PasswordResetsTable;
  export_jobs: ExportJobsTable;
  login_failures: LoginFailuresTable;
  web_push_keys: WebPushKeysTable;
  web_push_subscriptions: WebPushSubscriptionsTable;
  web_push_sent: WebPushSentTable;
  web_speech_failures: WebSpeechFailuresTable;
  crypto_meta: CryptoMetaTable;
  prompt_log: PromptLogTable;
  notify_settings: NotifySettingsTable;
  notifications: NotificationsTable;
  notification_deliveries: NotificationDeliveriesTable;
  rate_limits: RateLimitsTable;
}
