/**
 * Participants: invitation, enrolment with a one-time code, device tokens, a new code for a lost
 * phone, consent, and withdrawal (every row of their data deleted in one transaction). Covariates
 * and display names are sealed as they are written and opened as they are read: everything above
 * sees plaintext.
 */
import { CompiledQuery } from 'kysely';
import type { Database, AuditEntry } from '../database.js';
import type { ParticipantsTable } from '../schema.js';
import type { ScheduleOverrides } from '../../../data/study.js';
import { decodeParticipant, encodeCovariates, encodeScheduleOverrides, type Participant } from '../rows.js';
import { columnContext } from '../data-key.js';
import { newId } from '../ids.js';

export type NewParticipant = Omit<Participant, 'id' | 'created_ms' | 'enrolled_ms' | 'token_hash' | 'status'>;

export interface WithdrawalSummary {
  participantId: string;
  reports: number;
  speechRecordings: number;
  activityEpochs: number;
  predictions: number;
  alerts: number;
  /** Web Push subscriptions, reminders sent, and notes of recordings the app could not deliver. */
  pushSubscriptions: number;
  reminders: number;
  speechFailures: number;
  /** Speech files to remove from disk (relative to the data directory). */
  files: string[];
}

export class ParticipantsRepository {
  /** Fixed SQL of the hottest read (every prediction and report route finds a participant by label). */
  private byLabel: string;

  constructor(private d: Database) {
    this.byLabel = `select * from participants where study_id = ${d.param(1)} and label = ${d.param(2)}`;
  }

  /** A participant row as stored: its covariates and display name sealed. */
  private sealed(p: Participant): ParticipantsTable {
    const k = this.d.keys;
    return { ...p, schedule_overrides: encodeScheduleOverrides(p.schedule_overrides), covariates: k.sealValue(encodeCovariates(p.covariates), columnContext('participants', 'covariates', p.id)),
      display_name: p.display_name ? k.sealValue(p.display_name, columnContext('participants', 'display_name', p.id)) : null };
  }

  /** A participant row with its covariates and display name opened (sealed at rest; plaintext from an older version is read as it is) and decoded. */
  private opened(p: ParticipantsTable | undefined): Participant | undefined {
    const k = this.d.keys;
    return p && decodeParticipant(p, k.openValue(p.covariates, columnContext('participants', 'covariates', p.id)),
      p.display_name ? k.openValue(p.display_name, columnContext('participants', 'display_name', p.id)) : null);
  }

  async createParticipant(p: NewParticipant, actor: AuditEntry): Promise<Participant> {
    const row: Participant = { ...p, id: newId('p_'), status: 'invited', token_hash: null, created_ms: Date.now(), enrolled_ms: null };
    await this.d.write(async (trx) => {
      await trx.insertInto('participants').values(this.sealed(row)).execute();
      await trx.insertInto('audit').values(this.d.auditRow({ ...actor, participant_id: row.id })).execute();
    });
    return row;
  }

  async participant(studyId: string, label: string): Promise<Participant | undefined> {
    const r = await this.d.db.executeQuery<ParticipantsTable>(CompiledQuery.raw(this.byLabel, [studyId, label]));
    return this.opened(r.rows[0]);
  }

  async participantById(id: string): Promise<Participant | undefined> {
    return this.opened(await this.d.db.selectFrom('participants').selectAll().where('id', '=', id).executeTakeFirst());
  }

  async participants(studyId: string): Promise<Participant[]> {
    return (await this.d.db.selectFrom('participants').selectAll().where('study_id', '=', studyId).orderBy('label').execute()).map((p) => this.opened(p)!);
  }

  async participantByToken(tokenHash: string): Promise<Participant | undefined> {
    return this.opened(await this.d.db.selectFrom('participants').selectAll().where('token_hash', '=', tokenHash).where('status', '=', 'active').executeTakeFirst());
  }

  /** The participant accepted the study's consent text (its sha256) now: recorded and audited, once (a repeat keeps the first time). */
  recordConsent(p: Participant, textSha256: string, now: number): Promise<number> {
    return this.d.writeForParticipant(p.id, async (trx) => {
      const had = await trx.selectFrom('participants').select(['consented_ms', 'consent_sha256']).where('id', '=', p.id).executeTakeFirstOrThrow();
      if (had.consented_ms != null && had.consent_sha256 === textSha256) return Number(had.consented_ms);
      await trx.updateTable('participants').set({ consented_ms: now, consent_sha256: textSha256 }).where('id', '=', p.id).execute();
      await trx.insertInto('audit').values(this.d.auditRow({ actor_kind: 'participant', actor_id: p.id, action: 'write', study_id: p.study_id, participant_id: p.id, resource: 'consent', detail: `sha256 ${textSha256}` }, now)).execute();
      return now;
    });
  }

  /** Set (or clear, with null) the participant's own wake and bed times for the schedule; audited. */
  setScheduleOverrides(p: Participant, overrides: ScheduleOverrides | null, actor: Pick<AuditEntry, 'actor_kind' | 'actor_id'>): Promise<void> {
    return this.d.writeForParticipant(p.id, async (trx) => {
      await trx.updateTable('participants').set({ schedule_overrides: encodeScheduleOverrides(overrides) }).where('id', '=', p.id).execute();
      await trx.insertInto('audit').values(this.d.auditRow({ ...actor, action: 'write', study_id: p.study_id, participant_id: p.id, resource: 'schedule-overrides', detail: JSON.stringify(overrides ?? {}) })).execute();
    });
  }

  /**
   * Exchange a one-time enrolment code for a device token: the code is cleared in the same
   * statement that checks it, so it works once even under concurrent attempts.
   */
  /** `now`: the server's clock (ServerContext.now, injectable in tests), which also set the code's expiry. */
  async enrol(codeHash: string, tokenHash: string, now = Date.now()): Promise<Participant | undefined> {
    return this.d.write(async (trx) => {
      const p = await trx.selectFrom('participants').selectAll().where('enrol_code_hash', '=', codeHash).executeTakeFirst();
      if (!p || p.status !== 'invited' || (p.enrol_expires_ms !== null && p.enrol_expires_ms < now)) return undefined;
      const r = await trx.updateTable('participants')
        .set({ enrol_code_hash: null, enrol_expires_ms: null, token_hash: tokenHash, status: 'active', enrolled_ms: now })
        .where('id', '=', p.id).where('enrol_code_hash', '=', codeHash).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return undefined;
      await trx.insertInto('audit').values(this.d.auditRow({ actor_kind: 'participant', actor_id: p.id, action: 'write', study_id: p.study_id, participant_id: p.id, resource: 'enrolment' }, now)).execute();
      return { ...this.opened(p)!, token_hash: tokenHash, status: 'active', enrolled_ms: now, enrol_code_hash: null, enrol_expires_ms: null };
    });
  }

  /**
   * A new enrolment code (a lost or replaced phone): the old device token stops working and the
   * old device's push subscriptions go, in the same transaction, so reminders never reach the
   * lost phone. Returns how many subscriptions were dropped.
   */
  async reissueCode(participantId: string, codeHash: string, expiresMs: number, actor: AuditEntry): Promise<{ pushSubscriptions: number }> {
    return this.d.write(async (trx) => {
      await trx.updateTable('participants').set({ enrol_code_hash: codeHash, enrol_expires_ms: expiresMs, token_hash: null, status: 'invited' })
        .where('id', '=', participantId).where('status', '!=', 'withdrawn').execute();
      const dropped = Number((await trx.deleteFrom('web_push_subscriptions').where('participant_id', '=', participantId).executeTakeFirst()).numDeletedRows);
      await trx.insertInto('audit').values(this.d.auditRow({ ...actor, detail: `${actor.detail ?? 'new code'}; ${dropped} push subscription(s) of the old device removed` })).execute();
      return { pushSubscriptions: dropped };
    });
  }

  /**
   * Delete every piece of a participant's data (reports, speech records, activity, predictions,
   * alerts, push subscriptions and reminders, notes of failed recordings) in one transaction; the
   * participant row stays as a tombstone ("withdrawn", no token, no covariates) so the id is not
   * reused and the audit log keeps its meaning.
   */
  withdraw(participant: Participant, actor: AuditEntry): Promise<WithdrawalSummary> {
    return this.d.write(async (trx) => {
      const pid = participant.id;
      const files = (await trx.selectFrom('speech').select('file').where('participant_id', '=', pid).execute()).map((r) => r.file);
      const n = (r: { numDeletedRows: bigint }[]) => r.reduce((s, x) => s + Number(x.numDeletedRows), 0);
      const speech = n(await trx.deleteFrom('speech').where('participant_id', '=', pid).execute())
        + n(await trx.deleteFrom('speech_features').where('participant_id', '=', pid).execute());
      const predictions = n(await trx.deleteFrom('predictions').where('participant_id', '=', pid).execute());
      const alerts = n(await trx.deleteFrom('alerts').where('participant_id', '=', pid).execute());
      const reports = n(await trx.deleteFrom('reports').where('participant_id', '=', pid).execute());
      const activity = n(await trx.deleteFrom('activity').where('participant_id', '=', pid).execute());
      const pushSubscriptions = n(await trx.deleteFrom('web_push_subscriptions').where('participant_id', '=', pid).execute());
      const reminders = n(await trx.deleteFrom('web_push_sent').where('participant_id', '=', pid).execute());
      const speechFailures = n(await trx.deleteFrom('web_speech_failures').where('participant_id', '=', pid).execute());
      await trx.updateTable('participants').set({ status: 'withdrawn', token_hash: null, enrol_code_hash: null, enrol_expires_ms: null, covariates: '{}', display_name: null, schedule_overrides: null })
        .where('id', '=', pid).execute();
      const summary: WithdrawalSummary = { participantId: participant.label, reports, speechRecordings: speech, activityEpochs: activity, predictions, alerts, pushSubscriptions, reminders, speechFailures, files };
      await trx.insertInto('audit').values(this.d.auditRow({ ...actor, action: 'delete', resource: 'participant', detail: JSON.stringify({ ...summary, files: files.length }) })).execute();
      return summary;
    });
  }

  /** Number of rows of each kind held for a participant (tests, withdrawal checks). */
  async holdings(participantId: string): Promise<Record<string, number>> {
    const count = async (t: 'reports' | 'speech' | 'speech_features' | 'activity' | 'predictions' | 'alerts') => Number((await this.d.db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).where('participant_id', '=', participantId).executeTakeFirstOrThrow()).n);
    return { reports: await count('reports'), speech: (await count('speech')) + (await count('speech_features')), activity: await count('activity'), predictions: await count('predictions'), alerts: await count('alerts') };
  }
}
