/**
 * Speech: recordings (the row and its file committed together), their features (uploaded by the
 * app or computed on the server) and the notes of recordings that never came (sealed at rest).
 */
import type { Transaction } from 'kysely';
import { inserted, type Database, type AuditEntry } from '../database.js';
import type { DB, WebSpeechFailuresTable } from '../schema.js';
import { decodeSpeechFeatures, encodeSpeechFeatures, type Speech, type SpeechFailure, type SpeechFeatures } from '../rows.js';
import type { SpeechFeatureValues } from '../columns.js';
import { columnContext } from '../data-key.js';

export class SpeechRepository {
  constructor(private d: Database) {}

  private sealNote(reportId: string, detail: string | null): string | null {
    return detail === null ? null : this.d.keys.sealValue(detail, columnContext('web_speech_failures', 'detail', reportId));
  }

  /**
   * Store a recording's row; when it is new, `place` (moving the file into place) runs inside the
   * same transaction before it commits, so a committed row always has its file. A crash between
   * the move and the commit leaves a file without a row, which the start-up sweep removes.
   * `place` must be idempotent (a shared group that rolls back runs the write again).
   */
  insertSpeech(s: Speech, place?: () => Promise<void>, then?: (trx: Transaction<DB>) => Promise<void>): Promise<{ speech: Speech; created: boolean }> {
    return this.d.writeForParticipant(s.participant_id, async (trx) => {
      if (inserted(await trx.insertInto('speech').values(s).onConflict((oc) => oc.column('report_id').doNothing()).executeTakeFirst()) === 1) {
        await place?.();
        await trx.insertInto('audit').values(this.d.auditRow({ actor_kind: 'participant', actor_id: s.participant_id, action: 'write', study_id: s.study_id, participant_id: s.participant_id, resource: 'speech', detail: s.report_id })).execute();
        await then?.(trx);
        return { speech: s, created: true };
      }
      return { speech: await trx.selectFrom('speech').selectAll().where('report_id', '=', s.report_id).executeTakeFirstOrThrow(), created: false };
    });
  }

  /** The file of every stored recording (relative to the data directory). */
  async speechFiles(): Promise<Set<string>> {
    return new Set((await this.d.db.selectFrom('speech').select('file').execute()).map((r) => r.file));
  }

  speechOf(reportId: string): Promise<Speech | undefined> {
    return this.d.db.selectFrom('speech').selectAll().where('report_id', '=', reportId).executeTakeFirst();
  }

  studySpeech(studyId: string): Promise<Speech[]> {
    return this.d.db.selectFrom('speech').selectAll().where('study_id', '=', studyId).orderBy('report_id').execute();
  }

  /**
   * Features computed on the server from a stored recording (source "server"). Stored only while
   * the recording still is (a withdrawal may have run while they were computed; writes are
   * serialised, so the check and the insert see one state). False when nothing was stored.
   */
  storeComputedSpeechFeatures(s: Speech, features: SpeechFeatureValues, now: number, then?: (trx: Transaction<DB>) => Promise<void>): Promise<boolean> {
    const row = encodeSpeechFeatures({ report_id: s.report_id, study_id: s.study_id, participant_id: s.participant_id, features, created_ms: now, source: 'server' });
    return this.writeForStoredRecording(s, now, 'speech_features', s.report_id, (trx) =>
      trx.insertInto('speech_features').values(row).onConflict((oc) => oc.column('report_id').doNothing()).executeTakeFirst(), then);
  }

  /** A recording the server's feature extraction rejected: a failure note (web_speech_failures, first note wins), while the recording is stored. */
  storeSpeechRejection(s: Speech, reason: string, message: string, now: number): Promise<boolean> {
    return this.writeForStoredRecording(s, now, 'speech_failure', `${s.report_id}: server: ${reason}`, (trx) =>
      trx.insertInto('web_speech_failures').values({ report_id: s.report_id, study_id: s.study_id, participant_id: s.participant_id, reason: 'rejected', detail: this.sealNote(s.report_id, `server: ${reason}: ${message}`), created_ms: now })
        .onConflict((oc) => oc.column('report_id').doNothing()).executeTakeFirst());
  }

  /**
   * The speech extractor's writes: in one transaction, only while the recording is still stored,
   * `insert` (first result wins) and, when it inserted a row, the audit record. True when stored.
   */
  private writeForStoredRecording(s: Speech, now: number, resource: string, detail: string,
    insert: (trx: Transaction<DB>) => Promise<{ numInsertedOrUpdatedRows?: bigint }>, then?: (trx: Transaction<DB>) => Promise<void>): Promise<boolean> {
    return this.d.write(async (trx) => {
      if (!(await trx.selectFrom('speech').select('report_id').where('report_id', '=', s.report_id).executeTakeFirst())) return false;
      if (inserted(await insert(trx)) !== 1) return false;
      await trx.insertInto('audit').values(this.d.auditRow({ actor_kind: 'system', actor_id: 'speech-extractor', action: 'write', study_id: s.study_id, participant_id: s.participant_id, resource, detail }, now)).execute();
      await then?.(trx);
      return true;
    });
  }

  /** Whether a recording's features, or a failure note, are stored (its extraction is done). */
  async speechSettled(reportId: string): Promise<boolean> {
    const f = await this.d.db.selectFrom('speech_features').select('report_id').where('report_id', '=', reportId).executeTakeFirst();
    if (f) return true;
    return (await this.d.db.selectFrom('web_speech_failures').select('report_id').where('report_id', '=', reportId).executeTakeFirst()) !== undefined;
  }

  /** Stored recordings with neither features nor a failure note (server extraction still owed). */
  async speechWithoutFeatures(): Promise<{ report_id: string; study_id: string }[]> {
    return this.d.db.selectFrom('speech')
      .leftJoin('speech_features', 'speech_features.report_id', 'speech.report_id')
      .leftJoin('web_speech_failures', 'web_speech_failures.report_id', 'speech.report_id')
      .select(['speech.report_id', 'speech.study_id'])
      .where('speech_features.report_id', 'is', null).where('web_speech_failures.report_id', 'is', null)
      .orderBy('speech.created_ms').execute();
  }

  /** Store the speech features of a report (first upload wins; returns what is stored). */
  insertSpeechFeatures(f: SpeechFeatures, then?: (trx: Transaction<DB>) => Promise<void>): Promise<{ stored: SpeechFeatures; created: boolean }> {
    return this.d.writeForParticipant(f.participant_id, async (trx) => {
      if (inserted(await trx.insertInto('speech_features').values(encodeSpeechFeatures(f)).onConflict((oc) => oc.column('report_id').doNothing()).executeTakeFirst()) === 1) {
        await trx.insertInto('audit').values(this.d.auditRow({ actor_kind: 'participant', actor_id: f.participant_id, action: 'write', study_id: f.study_id, participant_id: f.participant_id, resource: 'speech_features', detail: f.report_id })).execute();
        await then?.(trx);
        return { stored: f, created: true };
      }
      return { stored: decodeSpeechFeatures(await trx.selectFrom('speech_features').selectAll().where('report_id', '=', f.report_id).executeTakeFirstOrThrow()), created: false };
    });
  }

  async speechFeaturesOf(reportId: string): Promise<SpeechFeatures | undefined> {
    const r = await this.d.db.selectFrom('speech_features').selectAll().where('report_id', '=', reportId).executeTakeFirst();
    return r && decodeSpeechFeatures(r);
  }

  /** report id → features of one participant. */
  async participantSpeechFeatures(participantId: string): Promise<Map<string, SpeechFeatureValues>> {
    const rows = await this.d.db.selectFrom('speech_features').selectAll().where('participant_id', '=', participantId).execute();
    return new Map(rows.map((r) => [r.report_id, decodeSpeechFeatures(r).features]));
  }

  /** Every feature name uploaded to the study so far (in the order first sent). */
  async studySpeechFeatureNames(studyId: string): Promise<string[]> {
    const names = new Set<string>();
    for (const f of await this.studySpeechFeatures(studyId, 'created_ms')) for (const k of Object.keys(f.features)) names.add(k);
    return [...names];
  }

  async studySpeechFeatures(studyId: string, order: 'report_id' | 'created_ms' = 'report_id'): Promise<SpeechFeatures[]> {
    return (await this.d.db.selectFrom('speech_features').selectAll().where('study_id', '=', studyId).orderBy(order).execute()).map(decodeSpeechFeatures);
  }

  /** Record that the app could not deliver a report's recording (first note wins; the note is free text from the device: sealed at rest). */
  noteSpeechFailure(f: SpeechFailure, audit: AuditEntry): Promise<boolean> {
    return this.d.writeForParticipant(f.participant_id, async (trx) => {
      const sealed: WebSpeechFailuresTable = { ...f, detail: this.sealNote(f.report_id, f.detail) };
      const created = inserted(await trx.insertInto('web_speech_failures').values(sealed).onConflict((oc) => oc.column('report_id').doNothing()).executeTakeFirst()) === 1;
      if (created) await trx.insertInto('audit').values({ time_ms: Date.now(), ...audit, detail: audit.detail ?? null }).execute();
      return created;
    });
  }
}
