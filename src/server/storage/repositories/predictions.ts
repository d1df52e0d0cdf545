/** Predictions (per report or on demand) and early-warning alert episodes. */
import { CompiledQuery } from 'kysely';
import type { Database, AuditEntry } from '../database.js';
import { decodeAlert, decodePrediction, encodePrediction, type Alert, type Prediction } from '../rows.js';
import { AnswersColumn, PredictedItemsColumn, PredictionInputsColumn, type Answers, type PredictedItems } from '../columns.js';

export class PredictionsRepository {
  /** Fixed SQL of the prediction write (prepared once; no query building per prediction). */
  private insert: string;

  constructor(private d: Database) {
    this.insert = `insert into predictions (id, study_id, participant_id, report_id, created_ms, kind, items, inputs) values (${d.placeholders(8)})`;
  }

  /** Store a prediction (with the audit row of whoever asked for it, in the same commit). */
  insertPrediction(prediction: Prediction, audit?: AuditEntry): Promise<void> {
    const p = encodePrediction(prediction);
    return this.d.write(async (trx) => {
      await trx.executeQuery(CompiledQuery.raw(this.insert, [p.id, p.study_id, p.participant_id, p.report_id, p.created_ms, p.kind, p.items, p.inputs ?? null]));
      if (audit) await this.d.insertAudit(trx, { ...audit, detail: p.id });
    });
  }

  /** Whether the report has a stored prediction (`withSpeech`: one that used its speech features). */
  async hasPrediction(reportId: string, withSpeech: boolean): Promise<boolean> {
    const rows = await this.d.db.selectFrom('predictions').select('inputs').where('report_id', '=', reportId).execute();
    return rows.some((r) => !withSpeech || (r.inputs !== null && r.inputs !== undefined && PredictionInputsColumn.decode(r.inputs).speech));
  }

  async predictionsOf(participantId: string): Promise<Prediction[]> {
    return (await this.d.db.selectFrom('predictions').selectAll().where('participant_id', '=', participantId).orderBy('created_ms').execute()).map(decodePrediction);
  }

  /** Predictions made for a report of the study, with that report's answers (the latest prediction per report). */
  async predictedReports(studyId: string): Promise<{ participant_id: string; report_id: string; created_ms: number; items: PredictedItems; answers: Answers }[]> {
    const rows = await this.d.db.selectFrom('predictions').innerJoin('reports', 'reports.id', 'predictions.report_id')
      .select(['predictions.participant_id', 'predictions.report_id', 'predictions.created_ms', 'predictions.items', 'reports.answers'])
      .where('predictions.study_id', '=', studyId).orderBy('predictions.created_ms').execute();
    const last = new Map<string, (typeof rows)[number]>();
    for (const r of rows) last.set(r.report_id!, r); // ordered by time: the latest wins
    return [...last.values()].map((r) => ({
      participant_id: r.participant_id, report_id: r.report_id!, created_ms: Number(r.created_ms),
      items: PredictedItemsColumn.decode(r.items), answers: AnswersColumn.decode(r.answers),
    }));
  }

  /** Record an alert episode, or extend the one already recorded for the same run. */
  upsertAlert(a: Alert): Promise<{ created: boolean }> {
    return this.d.write(async (trx) => {
      await trx.insertInto('alerts').values(a).onConflict((oc) => oc.columns(['participant_id', 'item', 'source', 'started_ms'])
        .doUpdateSet({ last_ms: a.last_ms, n_reports: a.n_reports })).executeTakeFirst();
      const existing = await trx.selectFrom('alerts').select('id').where('participant_id', '=', a.participant_id).where('item', '=', a.item)
        .where('source', '=', a.source).where('started_ms', '=', a.started_ms).executeTakeFirstOrThrow();
      return { created: existing.id === a.id };
    });
  }

  async alert(id: string): Promise<Alert | undefined> {
    const a = await this.d.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return a && decodeAlert(a);
  }

  async alerts(studyId: string, status: 'open' | 'acknowledged' | 'all'): Promise<Alert[]> {
    let q = this.d.db.selectFrom('alerts').selectAll().where('study_id', '=', studyId);
    if (status === 'open') q = q.where('acknowledged_ms', 'is', null);
    if (status === 'acknowledged') q = q.where('acknowledged_ms', 'is not', null);
    return (await q.orderBy('detected_ms', 'desc').execute()).map(decodeAlert);
  }

  async acknowledgeAlert(studyId: string, alertId: string, userId: string): Promise<Alert | undefined> {
    return this.d.write(async (trx) => {
      await trx.updateTable('alerts').set({ acknowledged_by: userId, acknowledged_ms: Date.now() })
        .where('id', '=', alertId).where('study_id', '=', studyId).where('acknowledged_ms', 'is', null).execute();
      const a = await trx.selectFrom('alerts').selectAll().where('id', '=', alertId).where('study_id', '=', studyId).executeTakeFirst();
      if (a) await trx.insertInto('audit').values(this.d.auditRow({ actor_kind: 'researcher', actor_id: userId, action: 'write', study_id: studyId, participant_id: a.participant_id, resource: 'alert', detail: `acknowledged ${alertId}` })).execute();
      return a && decodeAlert(a);
    });
  }
}
