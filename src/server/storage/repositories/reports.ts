/**
 * EMA reports: the ingest write (idempotent by the app's id), a participant's and a study's
 * reports. Text answers are sealed as they are written and opened as they are read.
 */
import { CompiledQuery, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import type { DB, ReportsTable } from '../schema.js';
import { decodeReport, encodeReport, type Report } from '../rows.js';
import { columnContext } from '../data-key.js';

/** One report with what became of its speech task (the dashboard's data quality). */
export interface ReportSpeechRow {
  participant_id: string; client_id: string; time: string; time_ms: number; late: boolean;
  speech_bytes: number | null; features: boolean; failure: string | null;
}

export class ReportsRepository {
  /** Fixed SQL of the hottest paths (prepared once; no query building per report or prediction). */
  private fixed: { insert: string; byId: string; countBefore: string; countBeforeExcept: string };

  constructor(private d: Database) {
    const n = (i: number) => d.param(i);
    this.fixed = {
      insert: `insert into reports (id, study_id, participant_id, client_id, time, time_ms, server_ms, trigger, answers, item_order, prompt_time, late, instrument, prompt_id, scores, band, texts) values (${d.placeholders(17)}) on conflict (participant_id, client_id) do nothing`,
      byId: `select * from reports where id = ${n(1)}`,
      countBefore: `select count(*) as n from reports where participant_id = ${n(1)} and time_ms < ${n(2)}`,
      countBeforeExcept: `select count(*) as n from reports where participant_id = ${n(1)} and (time_ms < ${n(2)} or (time_ms = ${n(3)} and id != ${n(4)}))`,
    };
  }

  /** A report row as stored (its texts sealed). */
  private encode(report: Report): ReportsTable {
    return encodeReport(report, (json) => this.d.keys.sealValue(json, columnContext('reports', 'texts', report.id)));
  }

  /** A stored row opened (its texts) and decoded. */
  private decode(r: ReportsTable): Report {
    return decodeReport(r, r.texts ? this.d.keys.openValue(r.texts, columnContext('reports', 'texts', r.id)) : null);
  }

  /**
   * Insert a report unless the participant already sent one with this client id (a retry):
   * then the stored one is returned with `created: false`. `then` runs in the same transaction when
   * the report was created (its follow-up jobs are enqueued with it: jobs/queue.ts).
   */
  insertReport(report: Report, then?: (trx: Transaction<DB>) => Promise<void>): Promise<{ report: Report; created: boolean }> {
    const r = this.encode(report);
    return this.d.writeForParticipant(r.participant_id, async (trx) => {
      // The hottest write: fixed SQL text (prepared once), no query building per report.
      const res = await trx.executeQuery(CompiledQuery.raw(this.fixed.insert, [
        r.id, r.study_id, r.participant_id, r.client_id, r.time, r.time_ms, r.server_ms, r.trigger, r.answers, r.item_order, r.prompt_time, r.late, r.instrument ?? null, r.prompt_id ?? null, r.scores ?? null, r.band ?? null, r.texts ?? null]));
      if (Number(res.numAffectedRows ?? 0n) === 1) {
        await this.d.insertAudit(trx, { actor_kind: 'participant', actor_id: r.participant_id, action: 'write', study_id: r.study_id, participant_id: r.participant_id, resource: 'report', detail: r.id });
        await then?.(trx);
        return { report, created: true };
      }
      const existing = await trx.selectFrom('reports').selectAll().where('participant_id', '=', r.participant_id).where('client_id', '=', r.client_id).executeTakeFirstOrThrow();
      return { report: this.decode(existing), created: false };
    });
  }

  async reportByClientId(participantId: string, clientId: string): Promise<Report | undefined> {
    const r = await this.d.db.selectFrom('reports').selectAll().where('participant_id', '=', participantId).where('client_id', '=', clientId).executeTakeFirst();
    return r && this.decode(r);
  }

  /** A report by its server id (fixed SQL: every report's follow-up job reads its report). */
  async reportById(id: string): Promise<Report | undefined> {
    const r = (await this.d.db.executeQuery<ReportsTable>(CompiledQuery.raw(this.fixed.byId, [id]))).rows[0];
    return r && this.decode(r);
  }

  /** Reports of a participant before `timeMs` (and those at `timeMs` other than `exceptId`). */
  async countReportsBefore(participantId: string, timeMs: number, exceptId: string | null): Promise<number> {
    const r = exceptId === null
      ? await this.d.db.executeQuery<{ n: number }>(CompiledQuery.raw(this.fixed.countBefore, [participantId, timeMs]))
      : await this.d.db.executeQuery<{ n: number }>(CompiledQuery.raw(this.fixed.countBeforeExcept, [participantId, timeMs, timeMs, exceptId]));
    return Number(r.rows[0].n);
  }

  /** A participant's reports by time (`sinceMs`: only those made at or after it). */
  async reportsOf(participantId: string, sinceMs?: number): Promise<Report[]> {
    let q = this.d.db.selectFrom('reports').selectAll().where('participant_id', '=', participantId);
    if (sinceMs !== undefined) q = q.where('time_ms', '>=', sinceMs);
    return (await q.orderBy('time_ms').orderBy('id').execute()).map((r) => this.decode(r));
  }

  /** Reports of a study in pages (keyset on id), for export. */
  async *studyReports(studyId: string, page = 5000): AsyncGenerator<Report[]> {
    let after = '';
    for (;;) {
      const rows: ReportsTable[] = await this.d.db.selectFrom('reports').selectAll().where('study_id', '=', studyId).where('id', '>', after).orderBy('id').limit(page).execute();
      if (rows.length === 0) return;
      after = rows[rows.length - 1].id;
      yield rows.map((r) => this.decode(r));
    }
  }

  /** Client (app-chosen) ids and times of the given server report ids. */
  async clientIds(reportIds: string[]): Promise<Map<string, { client_id: string; time: string }>> {
    const out = new Map<string, { client_id: string; time: string }>();
    for (let i = 0; i < reportIds.length; i += 500) {
      const chunk = reportIds.slice(i, i + 500);
      if (chunk.length === 0) break;
      for (const r of await this.d.db.selectFrom('reports').select(['id', 'client_id', 'time']).where('id', 'in', chunk).execute()) out.set(r.id, { client_id: r.client_id, time: r.time });
    }
    return out;
  }

  /** The prompt ids the participant has answered among `ids` (reports naming them as their promptId). */
  async answeredPromptIds(participantId: string, ids: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      if (chunk.length === 0) break;
      for (const r of await this.d.db.selectFrom('reports').select('prompt_id').where('participant_id', '=', participantId).where('prompt_id', 'in', chunk).execute()) if (r.prompt_id) out.add(r.prompt_id);
    }
    return out;
  }

  /** Has the participant already answered this prompt (a report naming it as its promptTime)? */
  async answeredPrompt(participantId: string, promptTime: string): Promise<boolean> {
    return !!(await this.d.db.selectFrom('reports').select('id').where('participant_id', '=', participantId).where('prompt_time', '=', promptTime).limit(1).executeTakeFirst());
  }

  /** Every report of a study (or one participant) with its speech upload, features or reported failure. */
  async reportSpeech(studyId: string, participantId?: string): Promise<ReportSpeechRow[]> {
    let q = this.d.db.selectFrom('reports')
      .leftJoin('speech', 'speech.report_id', 'reports.id')
      .leftJoin('speech_features', 'speech_features.report_id', 'reports.id')
      .leftJoin('web_speech_failures', 'web_speech_failures.report_id', 'reports.id')
      .select(['reports.participant_id', 'reports.client_id', 'reports.time', 'reports.time_ms', 'reports.late', 'speech.bytes as speech_bytes', 'web_speech_failures.reason as failure'])
      .select((eb) => eb.case().when('speech_features.report_id', 'is not', null).then(1).else(0).end().as('features'))
      .where('reports.study_id', '=', studyId);
    if (participantId) q = q.where('reports.participant_id', '=', participantId);
    const rows = await q.orderBy('reports.time_ms').execute();
    return rows.map((r) => ({ ...r, time_ms: Number(r.time_ms), late: Number(r.late) === 1, speech_bytes: r.speech_bytes === null ? null : Number(r.speech_bytes), features: Number(r.features) === 1 }));
  }
}
