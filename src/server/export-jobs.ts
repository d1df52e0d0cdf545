/**
 * Exports as background jobs: `start` records a queued job and returns at once; jobs run one at a
 * time after the response, writing the study folder through exportStudy with their progress
 * (phase, rows written, rows in all) stored on the job row, which GET …/exports/:jobId reads.
 * A finished job's folder can be downloaded as a tar stream. Jobs a restart interrupted are
 * marked failed when the server starts.
 */
import { resolve } from 'node:path';
import type { Store } from './store.js';
import type { ServerContext, StudyInfo } from './context.js';
import { exportStudy, type ExportProgress } from './export.js';
import { newId } from './auth.js';
import type { DB } from './db/schema.js';

export type ExportJob = DB['export_jobs'];

export class ExportJobs {
  private queue: Array<{ job: ExportJob; info: StudyInfo }> = [];
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private store: Store, private ctx: ServerContext) {}

  /** Folder of a job's export. */
  dir(job: ExportJob): string { return resolve(this.ctx.exportDir, job.name); }

  /** Queue an export; resolves with the job row (status "queued") without waiting for it. */
  async start(info: StudyInfo, userId: string, name: string): Promise<ExportJob> {
    const job: ExportJob = {
      id: newId('x_'), study_id: info.study.id, user_id: userId, name, status: 'queued', phase: 'queued', done: 0, total: 0,
      summary: null, error: null, created_ms: this.ctx.now(), started_ms: null, finished_ms: null,
    };
    await this.store.createExportJob(job);
    this.queue.push({ job, info });
    if (!this.running) this.running = this.drain().finally(() => { this.running = null; });
    return job;
  }

  /** Is a job with this folder name queued or running? */
  busy(name: string): boolean { return this.queue.some((q) => q.job.name === name) || this.current === name; }
  private current: string | null = null;

  /** Resolves when no job is queued or running (tests, shutdown). */
  async idle(): Promise<void> { while (this.running) await this.running; }

  async stop(): Promise<void> { this.stopped = true; this.queue.length = 0; await this.idle(); }

  private async drain(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    while (this.queue.length > 0 && !this.stopped) {
      const { job, info } = this.queue.shift()!;
      this.current = job.name;
      const started = this.ctx.now();
      try {
        await this.store.updateExportJob(job.id, { status: 'running', phase: 'participants', started_ms: started });
        const progress = async (p: ExportProgress) => { await this.store.updateExportJob(job.id, { phase: p.phase, done: p.done, total: p.total }); };
        const summary = await exportStudy(this.store, info, this.ctx.dataDir, this.dir(job), progress);
        await this.store.updateExportJob(job.id, { status: 'done', phase: 'done', summary: JSON.stringify(summary), finished_ms: this.ctx.now() });
        await this.store.audit({ actor_kind: 'researcher', actor_id: job.user_id, action: 'read', study_id: job.study_id, participant_id: null, resource: 'export', detail: JSON.stringify({ job: job.id, ...summary }) });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        console.error(`export job ${job.id} failed: ${msg}`);
        await this.store.updateExportJob(job.id, { status: 'failed', error: msg, finished_ms: this.ctx.now() }).catch(() => {});
      } finally {
        this.current = null;
      }
    }
  }
}
