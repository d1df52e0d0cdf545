/**
 * Exports as background jobs: `start` records a queued job and returns at once; jobs run one at a
 * time after the response, writing the study folder through exportStudy with their progress
 * (phase, rows written, rows in all) stored on the job row, which GET …/exports/:jobId reads.
 * A finished job's folder can be downloaded as a tar stream. Jobs a restart interrupted are
 * marked failed when the server starts.
 *
 * Exports hold personal data, so they do not stay for ever: a researcher deletes one (`remove`),
 * and with a retention period the server removes every finished export older than that — at
 * start, after each job and every hour (`prune`). The folder goes; the job row stays with status
 * "deleted", when and by whom. A folder name can be reused by a later export: the folder belongs
 * to the newest job of that name, so deleting an older job never removes a newer job's folder.
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Store } from './store.js';
import type { ServerContext, StudyInfo } from './context.js';
import { exportStudy, type ExportProgress } from './export.js';
import { newId } from './auth.js';
import type { DB } from './db/schema.js';
import { HttpError } from './http-error.js';

export type ExportJob = DB['export_jobs'];

export class ExportJobs {
  private queue: Array<{ job: ExportJob; info: StudyInfo }> = [];
  private running: Promise<void> | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  /** `retentionDays`: remove finished exports this many days after they finished (undefined: keep). */
  constructor(private store: Store, private ctx: ServerContext, readonly retentionDays?: number) {
    if (retentionDays !== undefined) {
      this.timer = setInterval(() => void this.pruneLogged(), 3600_000);
      this.timer.unref();
    }
  }

  /** Folder of a job's export. */
  dir(job: ExportJob): string { return resolve(this.ctx.exportDir, job.name); }

  /** Queue an export; resolves with the job row (status "queued") without waiting for it. */
  async start(info: StudyInfo, userId: string, name: string): Promise<ExportJob> {
    const job: ExportJob = {
      id: newId('x_'), study_id: info.study.id, user_id: userId, name, status: 'queued', phase: 'queued', done: 0, total: 0,
      summary: null, error: null, created_ms: this.ctx.now(), started_ms: null, finished_ms: null, deleted_ms: null, deleted_by: null,
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

  async stop(): Promise<void> {
    this.stopped = true; this.queue.length = 0;
    if (this.timer) clearInterval(this.timer);
    await this.idle();
  }

  /**
   * Delete a finished export: its folder (unless a newer job of the same name owns it), then mark
   * the row deleted, by a researcher (their user id) or by the retention period. A queued or
   * running job: 409.
   */
  async remove(job: ExportJob, by: { researcher: string } | 'retention'): Promise<ExportJob> {
    if (job.status === 'queued' || job.status === 'running') {
      throw new HttpError(409, `export job ${job.id} is ${job.status}; delete it when it has finished`);
    }
    if (job.status === 'deleted') return job;
    // A newer job of the same name owns the folder (or is writing it right now).
    if (!(await this.store.newerExportNamed(job.name, job.created_ms))) await rm(this.dir(job), { recursive: true, force: true });
    const set = { status: 'deleted', deleted_ms: this.ctx.now(), deleted_by: by === 'retention' ? by : `researcher:${by.researcher}` };
    await this.store.updateExportJob(job.id, set);
    const actor = by === 'retention' ? { actor_kind: 'system' as const, actor_id: 'retention' } : { actor_kind: 'researcher' as const, actor_id: by.researcher };
    await this.store.audit({ ...actor, action: 'delete', study_id: job.study_id, participant_id: null, resource: 'export', detail: JSON.stringify({ job: job.id, name: job.name }) });
    return { ...job, ...set };
  }

  /** prune in the background (timer, after jobs): a failure is logged, not thrown. */
  private pruneLogged(): Promise<unknown> {
    return this.prune().catch((e) => console.error(`export retention: ${e instanceof Error ? e.message : e}`));
  }

  /** Remove every finished export older than the retention period; returns how many. */
  async prune(): Promise<number> {
    if (this.retentionDays === undefined) return 0;
    const old = await this.store.finishedExportsBefore(this.ctx.now() - this.retentionDays * 86_400_000);
    for (const job of old) await this.remove(job, 'retention');
    return old.length;
  }

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
        // The folder is complete: the name is free again before anyone can read "done".
        this.current = null;
        await this.store.updateExportJob(job.id, { status: 'done', phase: 'done', summary: JSON.stringify(summary), finished_ms: this.ctx.now() });
        await this.store.audit({ actor_kind: 'researcher', actor_id: job.user_id, action: 'read', study_id: job.study_id, participant_id: null, resource: 'export', detail: JSON.stringify({ job: job.id, ...summary }) });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        console.error(`export job ${job.id} failed: ${msg}`);
        this.current = null;
        await this.store.updateExportJob(job.id, { status: 'failed', error: msg, finished_ms: this.ctx.now() }).catch(() => {});
      }
    }
    await this.pruneLogged();
  }
}
