/** Export jobs: their rows (status, progress, summary) outlive their folders as the record of what existed. */
import type { Database } from '../database.js';
import { decodeExportJob, encodeExportJob, type ExportJob } from '../rows.js';

export class ExportsRepository {
  constructor(private d: Database) {}

  async createExportJob(j: ExportJob): Promise<void> { await this.d.db.insertInto('export_jobs').values(encodeExportJob(j)).execute(); }

  async updateExportJob(id: string, set: Partial<ExportJob>): Promise<void> {
    await this.d.db.updateTable('export_jobs').set(encodeExportJob(set)).where('id', '=', id).execute();
  }

  async exportJob(studyId: string, id: string): Promise<ExportJob | undefined> {
    const r = await this.d.db.selectFrom('export_jobs').selectAll().where('study_id', '=', studyId).where('id', '=', id).executeTakeFirst();
    return r && decodeExportJob(r);
  }

  async exportJobs(studyId: string): Promise<ExportJob[]> {
    return (await this.d.db.selectFrom('export_jobs').selectAll().where('study_id', '=', studyId).orderBy('created_ms', 'desc').execute()).map(decodeExportJob);
  }

  /** Finished (done or failed) exports of every study that finished before `beforeMs`. */
  async finishedExportsBefore(beforeMs: number): Promise<ExportJob[]> {
    return (await this.d.db.selectFrom('export_jobs').selectAll().where('status', 'in', ['done', 'failed']).where('finished_ms', '<', beforeMs).execute()).map(decodeExportJob);
  }

  /** Jobs a previous process left queued or running can never finish: mark them failed. */
  async failInterruptedExports(now: number): Promise<number> {
    const r = await this.d.db.updateTable('export_jobs').set({ status: 'failed', error: 'interrupted by a server restart; start the export again', finished_ms: now })
      .where('status', 'in', ['queued', 'running']).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
