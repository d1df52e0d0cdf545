/** Export jobs: their rows (status, progress, summary) outlive their folders as the record of what existed. */
import type { Transaction } from 'kysely';
import type { Database } from '../database.js';
import type { DB } from '../schema.js';
import { decodeExportJob, encodeExportJob, type ExportJob } from '../rows.js';

export class ExportsRepository {
  constructor(private d: Database) {}

  /** Record a requested export; `then` runs in the same transaction (the job that writes it is enqueued with it). */
  async createExportJob(j: ExportJob, then?: (trx: Transaction<DB>) => Promise<void>): Promise<void> {
    await this.d.write(async (trx) => { await trx.insertInto('export_jobs').values(encodeExportJob(j)).execute(); await then?.(trx); });
  }

  /** Mark a finished export deleted, once: false when another process (or call) already did. */
  async markExportDeleted(id: string, set: { deleted_ms: number; deleted_by: string }): Promise<boolean> {
    const r = await this.d.db.updateTable('export_jobs').set({ status: 'deleted', ...set }).where('id', '=', id).where('status', 'in', ['done', 'failed']).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Whether a participant of the study withdrew at or after `sinceMs` (their audit row: an export written meanwhile may hold their data). */
  async withdrawalSince(studyId: string, sinceMs: number): Promise<boolean> {
    const r = await this.d.db.selectFrom('audit').select('id').where('study_id', '=', studyId).where('resource', '=', 'participant')
      .where('action', '=', 'delete').where('time_ms', '>=', sinceMs).limit(1).executeTakeFirst();
    return r !== undefined;
  }

  async updateExportJob(id: string, set: Partial<ExportJob>): Promise<void> {
    await this.d.db.updateTable('export_jobs').set(encodeExportJob(set)).where('id', '=', id).execute();
  }

  async exportJob(studyId: string, id: string): Promise<ExportJob | undefined> {
    const r = await this.d.db.selectFrom('export_jobs').selectAll().where('study_id', '=', studyId).where('id', '=', id).executeTakeFirst();
    return r && decodeExportJob(r);
  }

  async exportJobById(id: string): Promise<ExportJob | undefined> {
    const r = await this.d.db.selectFrom('export_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return r && decodeExportJob(r);
  }

  async exportJobs(studyId: string): Promise<ExportJob[]> {
    return (await this.d.db.selectFrom('export_jobs').selectAll().where('study_id', '=', studyId).orderBy('created_ms', 'desc').execute()).map(decodeExportJob);
  }

  /** Finished (done or failed) exports of every study that finished before `beforeMs`. */
  async finishedExportsBefore(beforeMs: number): Promise<ExportJob[]> {
    return (await this.d.db.selectFrom('export_jobs').selectAll().where('status', 'in', ['done', 'failed']).where('finished_ms', '<', beforeMs).execute()).map(decodeExportJob);
  }

  /** Exports queued or running now (on pg-boss: their jobs are somewhere in the queue). */
  async unfinishedExports(): Promise<ExportJob[]> {
    return (await this.d.db.selectFrom('export_jobs').selectAll().where('status', 'in', ['queued', 'running']).execute()).map(decodeExportJob);
  }

  /** Jobs a previous process left queued or running can never finish: mark them failed. */
  async failInterruptedExports(now: number): Promise<number> {
    const r = await this.d.db.updateTable('export_jobs').set({ status: 'failed', error: 'interrupted by a server restart; start the export again', finished_ms: now })
      .where('status', 'in', ['queued', 'running']).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
