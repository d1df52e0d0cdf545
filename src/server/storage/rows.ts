/**
 * The rows the storage layer hands out, decoded: JSON columns as their values (answers as
 * `Record<string, number>`, activity values as arrays, predictions as items), 0/1 columns as
 * booleans, enumerated columns as unions — each table's `decodeX` (row as stored → row) and, for
 * what is written, `encodeX` (row → row as stored). The repositories are the only callers; sealed
 * columns are opened before they are decoded (the repositories hold the keys).
 */
import { z } from 'zod';
import type { Selectable } from 'kysely';
import type { ScheduleOverrides, StudyConfig, Trigger as TriggerName } from '../../data/study.js';
import type * as T from './schema.js';
import {
  ACTOR_KINDS, ALERT_DIRECTIONS, ALERT_SOURCES, AUDIT_ACTIONS, EXPORT_PHASES, EXPORT_STATUSES, PARTICIPANT_STATUSES, PREDICTION_KINDS, ROLES,
  SPEECH_FAILURE_REASONS, SPEECH_SOURCES, Trigger,
  AnswersColumn, CovariatesColumn, ScheduleOverridesColumn, ScoresColumn, TextsColumn, type Texts, EpochValuesColumn, ExportSummaryColumn, ItemOrderColumn, PredictedItemsColumn, PredictionInputsColumn, SettingsColumn, SpeechFeaturesColumn, StudyConfigColumn,
  type ActorKind, type AlertDirection, type AlertSource, type Answers, type AuditAction, type Covariates, type EpochValues, type ExportPhase, type ExportStatus,
  type ExportSummary, type ParticipantStatus, type PredictedItems, type PredictionInputs, type PredictionKind, type Role, type ServerSettings,
  type SpeechFailureReason, type SpeechFeatureValues, type SpeechSource,
} from './columns.js';

const enumOf = <const V extends readonly [string, ...string[]]>(values: V) => { const e = z.enum(values); return (s: string) => e.parse(s); };
const role = enumOf(ROLES), participantStatus = enumOf(PARTICIPANT_STATUSES), exportStatus = enumOf(EXPORT_STATUSES), exportPhase = enumOf(EXPORT_PHASES);
const predictionKind = enumOf(PREDICTION_KINDS), alertSource = enumOf(ALERT_SOURCES), alertDirection = enumOf(ALERT_DIRECTIONS);
const speechSource = enumOf(SPEECH_SOURCES), speechFailureReason = enumOf(SPEECH_FAILURE_REASONS), actorKind = enumOf(ACTOR_KINDS), auditAction = enumOf(AUDIT_ACTIONS);
const trigger = (s: string) => Trigger.parse(s);

// ---------- accounts ----------

export interface User { id: string; email: string; password_hash: string; is_admin: boolean; created_ms: number; disabled_ms: number | null }
export const decodeUser = (r: T.UsersTable): User =>
  ({ id: r.id, email: r.email, password_hash: r.password_hash, is_admin: r.is_admin === 1, created_ms: r.created_ms, disabled_ms: r.disabled_ms ?? null });
export const encodeUser = (u: User): T.UsersTable => ({ ...u, is_admin: u.is_admin ? 1 : 0 });

// ---------- studies ----------

export interface Study {
  id: string; name: string; config: StudyConfig; settings: ServerSettings;
  /** The attached model: a name under --models-dir, "builtin:baseline", or null. */
  model_dir: string | null;
  created_ms: number;
  /** The account that created the study (null for studies older than 0040 with several owners). */
  created_by: string | null;
}
export const decodeStudy = (r: T.StudiesTable): Study => ({
  id: r.id, name: r.name, config: StudyConfigColumn.decode(r.config), settings: SettingsColumn.decode(r.settings),
  model_dir: r.model_dir, created_ms: r.created_ms, created_by: r.created_by ?? null,
});
export const encodeStudy = (s: Study): T.StudiesTable =>
  ({ ...s, config: StudyConfigColumn.encode(s.config), settings: SettingsColumn.encode(s.settings) });

export interface Member { user_id: string; email: string; role: Role; disabled_ms: number | null }
export const decodeMember = (r: { user_id: string; email: string; role: string; disabled_ms?: number | null }): Member =>
  ({ user_id: r.user_id, email: r.email, role: role(r.role), disabled_ms: r.disabled_ms ?? null });
export const decodeRole = role;

// ---------- participants ----------

export interface Participant extends Omit<T.ParticipantsTable, 'covariates' | 'status' | 'schedule_overrides'> {
  covariates: Covariates; status: ParticipantStatus;
  /** The participant's own wake and bed times (null: the schedule's); since 0070. */
  schedule_overrides?: ScheduleOverrides | null;
}
/** `covariates`, `displayName`: the columns opened (they are sealed at rest). */
export const decodeParticipant = (r: T.ParticipantsTable, covariates: string, displayName: string | null): Participant =>
  ({ ...r, covariates: CovariatesColumn.decode(covariates), display_name: displayName, status: participantStatus(r.status),
    schedule_overrides: r.schedule_overrides ? ScheduleOverridesColumn.decode(r.schedule_overrides) : null });
export const encodeScheduleOverrides = (o: ScheduleOverrides | null | undefined): string | null => (o && Object.keys(o).length ? ScheduleOverridesColumn.encode(o) : null);
export const encodeCovariates = (c: Covariates): string => CovariatesColumn.encode(c);

// ---------- reports ----------

export interface Report extends Omit<T.ReportsTable, 'answers' | 'item_order' | 'late' | 'trigger' | 'instrument' | 'prompt_id' | 'scores' | 'band' | 'texts'> {
  trigger: TriggerName;
  /** Numeric answers by column (multiple choice as 0/1 option columns `<item>_<value>`). */
  answers: Answers;
  /** Item ids in the order the app showed them. */
  item_order: string[];
  late: boolean;
  /** The instrument answered (null or absent: the main items, "ema"). */
  instrument?: string | null;
  /** The scheduled prompt answered, `<instrument>:<day>:<slot>`. */
  prompt_id?: string | null;
  /** Score column → value (scored instruments). */
  scores?: Record<string, number> | null;
  /** Severity band of the total. */
  band?: string | null;
  /** Text item → text (opened; sealed at rest). */
  texts?: Texts | null;
}
/** `texts`: the column opened (sealed at rest). */
export const decodeReport = (r: T.ReportsTable, texts: string | null = null): Report => ({
  id: r.id, study_id: r.study_id, participant_id: r.participant_id, client_id: r.client_id, time: r.time, time_ms: r.time_ms, server_ms: r.server_ms,
  trigger: trigger(r.trigger), answers: AnswersColumn.decode(r.answers), item_order: ItemOrderColumn.decode(r.item_order), prompt_time: r.prompt_time, late: r.late === 1,
  instrument: r.instrument ?? null, prompt_id: r.prompt_id ?? null, scores: r.scores ? ScoresColumn.decode(r.scores) : null, band: r.band ?? null,
  texts: texts ? TextsColumn.decode(texts) : null,
});
/** `sealTexts`: seals the texts' JSON (the repository holds the keys). */
export const encodeReport = (r: Report, sealTexts: (json: string) => string = (j) => j): T.ReportsTable => ({
  id: r.id, study_id: r.study_id, participant_id: r.participant_id, client_id: r.client_id, time: r.time, time_ms: r.time_ms, server_ms: r.server_ms,
  trigger: r.trigger, answers: AnswersColumn.encode(r.answers), item_order: ItemOrderColumn.encode(r.item_order), prompt_time: r.prompt_time, late: r.late ? 1 : 0,
  instrument: r.instrument ?? null, prompt_id: r.prompt_id ?? null, scores: r.scores && Object.keys(r.scores).length ? ScoresColumn.encode(r.scores) : null,
  band: r.band ?? null, texts: r.texts && Object.keys(r.texts).length ? sealTexts(TextsColumn.encode(r.texts)) : null,
});

// ---------- speech ----------

export type Speech = T.SpeechTable;

export interface SpeechFeatures { report_id: string; study_id: string; participant_id: string; features: SpeechFeatureValues; created_ms: number; source: SpeechSource }
export const decodeSpeechFeatures = (r: T.SpeechFeaturesTable): SpeechFeatures =>
  ({ report_id: r.report_id, study_id: r.study_id, participant_id: r.participant_id, features: SpeechFeaturesColumn.decode(r.features), created_ms: r.created_ms, source: speechSource(r.source ?? 'app') });
export const encodeSpeechFeatures = (f: SpeechFeatures): T.SpeechFeaturesTable => ({ ...f, features: SpeechFeaturesColumn.encode(f.features) });

export interface SpeechFailure extends Omit<T.WebSpeechFailuresTable, 'reason'> { reason: SpeechFailureReason }
export const decodeSpeechFailureReason = speechFailureReason;

// ---------- activity ----------

/** One wristband epoch of a participant: its start and one value per study channel. */
export interface Epoch { participant_id: string; t_ms: number; vals: EpochValues }
/** An epoch as stored: ingest formats the values' JSON itself (on a worker thread for large batches: activity-body.ts). */
export type StoredEpoch = Pick<T.ActivityTable, 't_ms' | 'vals'>;
export const decodeEpoch = (r: T.ActivityTable): Epoch => ({ participant_id: r.participant_id, t_ms: Number(r.t_ms), vals: EpochValuesColumn.decode(r.vals) });
export const encodeEpochValues = (v: EpochValues): string => EpochValuesColumn.encode(v);

// ---------- predictions and alerts ----------

export interface Prediction extends Omit<T.PredictionsTable, 'kind' | 'items' | 'inputs'> { kind: PredictionKind; items: PredictedItems; inputs: PredictionInputs | null }
export const decodePrediction = (r: T.PredictionsTable): Prediction => ({
  id: r.id, study_id: r.study_id, participant_id: r.participant_id, report_id: r.report_id, created_ms: Number(r.created_ms),
  kind: predictionKind(r.kind), items: PredictedItemsColumn.decode(r.items), inputs: r.inputs ? PredictionInputsColumn.decode(r.inputs) : null,
});
export const encodePrediction = (p: Prediction): T.PredictionsTable =>
  ({ ...p, items: PredictedItemsColumn.encode(p.items), inputs: p.inputs === null ? null : PredictionInputsColumn.encode(p.inputs) });

export interface Alert extends Omit<T.AlertsTable, 'source' | 'direction'> { source: AlertSource; direction: AlertDirection }
export const decodeAlert = (r: T.AlertsTable): Alert => ({ ...r, source: alertSource(r.source), direction: alertDirection(r.direction) });

// ---------- export jobs ----------

export interface ExportJob extends Omit<T.ExportJobsTable, 'status' | 'phase' | 'summary'> { status: ExportStatus; phase: ExportPhase; summary: ExportSummary | null }
export const decodeExportJob = (r: T.ExportJobsTable): ExportJob => ({
  ...r, done: Number(r.done), total: Number(r.total), status: exportStatus(r.status), phase: exportPhase(r.phase), summary: r.summary === null ? null : ExportSummaryColumn.decode(r.summary),
});
/** A job, or the fields of one being updated, as stored. */
export function encodeExportJob(j: ExportJob): T.ExportJobsTable;
export function encodeExportJob(j: Partial<ExportJob>): Partial<T.ExportJobsTable>;
export function encodeExportJob(j: Partial<ExportJob>): Partial<T.ExportJobsTable> {
  const { summary, ...rest } = j;
  return summary === undefined ? rest : { ...rest, summary: summary === null ? null : ExportSummaryColumn.encode(summary) };
}

// ---------- audit ----------

export interface AuditRow extends Omit<Selectable<T.AuditTable>, 'actor_kind' | 'action'> { actor_kind: ActorKind; action: AuditAction }
export const decodeAuditRow = (r: Selectable<T.AuditTable>): AuditRow => ({ ...r, id: Number(r.id), time_ms: Number(r.time_ms), actor_kind: actorKind(r.actor_kind), action: auditAction(r.action) });
