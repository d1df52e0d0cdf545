/**
 * Exports as background jobs: `start` records a queued export and, in the same transaction,
 * enqueues its "export" job (jobs/queue.ts) and returns at once; the job (`run`, one at a time
 * per process) writes the study folder through exportStudy with its progress (phase, rows
 * written, rows in all) stored on the export's row, which GET …/exports/:jobId reads. A finished
 * export's folder can be downloaded as a tar stream.
 * Idempotent per export: a run finds a finished export done; a run of an export left "running"
 * (its instance died; pg-boss noticed the missing heartbeat and retried it here) removes the half
 * folder and writes it again. In process (SQLite) a restart cannot resume a job, so exports it
 * interrupted are marked failed when the server starts; on pg-boss they are not (another instance
 * finishes them).
 *
 * Exports hold personal data, so they do not stay for ever: a researcher deletes one (`remove`),
 * and with a retention period the server removes every finished export older than that — at
 * start, after each job and every hour (`prune`). The folder goes; the job row stays with status
 * "deleted", when and by whom.
 *
 * The server chooses every folder: `<data-dir>/exports/<studyId>/<jobId>/`. The name a researcher
 * gives is only a label (the download's file name and the archive's top folder), so no name can
 * reach another study's export or anything outside the exports folder, and every path that is
 * deleted, written, tarred or served is checked to lie inside its study's export folder.
 *
 * Encryption at rest (docs/security.md): when a job has written its folder, every file in it is
 * sealed with the data key before the job is "done" (recordings are copied sealed as stored);
 * the download opens them as it streams (tar.ts).
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { ExportJob, Store } from '../storage/store.js';
import type { ServerContext, StudyInfo } from '../http/context.js';
import { exportStudy, type ExportProgress } from './export.js';
import { newId } from '../storage/ids.js';
import { HttpError } from '../http/errors.js';
import { insideFolder } from '../storage/paths.js';
import { mkdirPrivate, sealTree } from '../storage/sealed-files.js';
import type { ServerJobs } from './queue.js';

export class ExportJobs {
  private running: Promise<void> | null = null;
  private stopped = false;
  /** The job being written, and whether a participant of its study withdrew meanwhile. */
  private current: { job: ExportJob; tainted: boolean } | null = null;
  private timer: NodeJS.Timeout | null = null;

  /** `jobs`: where a requested export is queued; `retentionDays`: remove finished exports this many days after they finished (undefined: keep). */
  constructor(private store: Store, private ctx: ServerContext, private jobs: ServerJobs, readonly retentionDays?: number) {
    if (retentionDays !== undefined) {
      this.timer = setInterval(() => void this.pruneLogged(), 3600_000);
      this.timer.unref();
    }
  }

  /** Folder of a job's export: `<exports>/<studyId>/<jobId>`, checked to lie inside the study's export folder. */
  dir(job: Pick<ExportJob, 'study_id' | 'id'>): string { return insideFolder(this.studyDir(job.study_id), job.id); }

  /** A study's export folder, `<exports>/<studyId>`. */
  studyDir(studyId: string): string { return insideFolder(this.ctx.exportDir, studyId); }

  /**
   * At start: in process, exports a previous process left queued or running are failed (they can
   * never finish; on pg-boss their jobs are still queued and finish on some instance); folders of the first, name-keyed layout are removed and their finished jobs marked deleted
   * ("layout"); exports past the retention period go.
   */
  async startUp(): Promise<void> {
    if (!this.jobs.durable) await this.store.failInterruptedExports(this.ctx.now());
    else await this.failAbandoned();
    const legacy = await removeLegacyExports(this.ctx.exportDir, (id) => this.store.studyExists(id));
    if (legacy.length > 0) {
      console.error(`exports: removed ${legacy.length} export folder(s) of the old shared-name layout (${legacy.slice(0, 5).join(', ')}${legacy.length > 5 ? ', …' : ''}); export again to get them back`);
      for (const job of await this.store.finishedExportsBefore(Number.MAX_SAFE_INTEGER)) {
        if (job.status === 'done' && !existsSync(this.dir(job))) await this.remove(job, 'layout');
      }
    }
    await this.prune();
  }

  /**
   * On pg-boss: exports whose job failed for good (its instances died in every run it was given,
   * so pg-boss moved it to the dead-letter queue) are marked failed, so they can be deleted and
   * started again rather than stay "running" for ever.
   */
  private async failAbandoned(): Promise<void> {
    for (const job of await this.store.unfinishedExports()) {
      if (await this.jobs.failedForGood('export', { exportJobId: job.id })) {
        await this.store.updateExportJob(job.id, { status: 'failed', error: 'its job failed in every run it was given (an instance stopped each time); start the export again', finished_ms: this.ctx.now() });
      }
    }
  }

  /** Queue an export; resolves with the job row (status "queued") without waiting for it. */
  async start(info: StudyInfo, userId: string, name: string): Promise<ExportJob> {
    const job: ExportJob = {
      id: newId('x_'), study_id: info.study.id, user_id: userId, name, status: 'queued', phase: 'queued', done: 0, total: 0,
      summary: null, error: null, created_ms: this.ctx.now(), started_ms: null, finished_ms: null, deleted_ms: null, deleted_by: null,
    };
    const batch = this.jobs.batch();
    await this.store.createExportJob(job, (trx) => batch.add(trx, 'export', { exportJobId: job.id }));
    batch.committed();
    return job;
  }

  /** The "export" job: write the export, unless it is finished already (a repeated delivery). */
  async run(exportJobId: string): Promise<void> {
    if (this.stopped) throw new Error('the server is stopping'); // retried (pg-boss: by another instance)
    const job = await this.store.exportJobById(exportJobId);
    if (!job || (job.status !== 'queued' && job.status !== 'running')) return;
    const info = await this.ctx.studyInfo(job.study_id);
    while (this.running) await this.running.catch(() => {});
    this.running = this.write(job, info).finally(() => { this.running = null; });
    await this.running;
    await this.failAbandoned().catch((e) => console.error(`exports: ${e instanceof Error ? e.message : e}`));
    await this.pruneLogged();
  }

  /** Resolves when no export job is queued or running (tests, shutdown). */
  async idle(): Promise<void> {
    await this.jobs.idle();
    while (this.running) await this.running.catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    while (this.running) await this.running.catch(() => {});
  }

  /**
   * Delete a finished export: its folder, then mark the row deleted, by a researcher (their user id) or by the retention period. A queued or
   * running job: 409.
   */
  async remove(job: ExportJob, by: { researcher: string } | 'retention' | 'layout' | 'withdrawal', why?: string): Promise<ExportJob> {
    if (job.status === 'queued' || job.status === 'running') {
      throw new HttpError(409, `export job ${job.id} is ${job.status}; delete it when it has finished`);
    }
    if (job.status === 'deleted') return job;
    await removeFolder(this.dir(job));
    const set = { status: 'deleted' as const, deleted_ms: this.ctx.now(), deleted_by: typeof by === 'string' ? by : `researcher:${by.researcher}` };
    // Claimed once: several instances pruning (or a researcher and the retention) record one deletion.
    if (!(await this.store.markExportDeleted(job.id, { deleted_ms: set.deleted_ms, deleted_by: set.deleted_by }))) return { ...job, ...set };
    const actor = typeof by === 'string' ? { actor_kind: 'system' as const, actor_id: by } : { actor_kind: 'researcher' as const, actor_id: by.researcher };
    await this.store.audit({ ...actor, action: 'delete', study_id: job.study_id, participant_id: null, resource: 'export', detail: JSON.stringify({ job: job.id, name: job.name, ...(why ? { why } : {}) }) });
    return { ...job, ...set };
  }

  /**
   * A participant withdrew: every finished export of the study that can hold them (made after they
   * were added) is deleted, and the job being written now, if it is the study's, is thrown away
   * when it ends. Returns the exports deleted (for the withdrawal receipt).
   */
  async forgetParticipant(studyId: string, participantCreatedMs: number, label: string): Promise<{ id: string; name: string }[]> {
    if (this.current && this.current.job.study_id === studyId) this.current.tainted = true;
    const gone: { id: string; name: string }[] = [];
    for (const job of await this.store.exportJobs(studyId)) {
      if (job.status !== 'done' || job.created_ms < participantCreatedMs) continue;
      await this.remove(job, 'withdrawal', `participant ${label} withdrew`);
      gone.push({ id: job.id, name: job.name });
    }
    return gone;
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

  /** Write one export's folder, seal it, mark it done (or failed, with the reason); a half folder of an earlier run is removed first. */
  private async write(job: ExportJob, info: StudyInfo): Promise<void> {
    const started = this.ctx.now();
    this.current = { job, tainted: false };
    try {
      await removeFolder(this.dir(job)); // what a run that died left (a retried job)
      await this.store.updateExportJob(job.id, { status: 'running', phase: 'participants', started_ms: started });
      const progress = async (p: ExportProgress) => { await this.store.updateExportJob(job.id, { phase: p.phase, done: p.done, total: p.total }); };
      await mkdirPrivate(dirname(this.dir(job))); // exports/ 0700 whatever the umask
      const summary = await exportStudy(this.store, info, this.ctx.dataDir, this.dir(job), progress, undefined, this.ctx.now());
      await sealTree(this.ctx.keys, this.dir(job)); // the CSV files, sealed before anyone can read "done"
      // A participant withdrew while this was written (through this instance or another): it may hold some of their data.
      const withdrew = () => this.current!.tainted || this.store.withdrawalSince(job.study_id, started);
      if (await withdrew()) throw new Error('a participant withdrew while the export was being written; start it again');
      const finished = { status: 'done' as const, phase: 'done' as const, summary, finished_ms: this.ctx.now() };
      await this.store.updateExportJob(job.id, finished);
      // A withdrawal between the check above and "done" (it saw the job still running).
      if (await withdrew()) await this.remove({ ...job, ...finished }, 'withdrawal', 'a participant withdrew while the export was being written');
      await this.store.audit({ actor_kind: 'researcher', actor_id: job.user_id, action: 'read', study_id: job.study_id, participant_id: null, resource: 'export', detail: JSON.stringify({ job: job.id, ...summary }) });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      console.error(`export job ${job.id} failed: ${msg}`);
      await removeFolder(this.dir(job)).catch(() => {});
      await this.store.updateExportJob(job.id, { status: 'failed', error: msg, finished_ms: this.ctx.now() }).catch(() => {});
    } finally {
      this.current = null;
    }
  }
}

/** Remove an export folder; a symbolic link in its place is removed as a link, never followed. */
async function removeFolder(dir: string): Promise<void> {
  const st = await lstat(dir).catch(() => null);
  if (!st) return;
  await rm(dir, { recursive: st.isDirectory(), force: true });
}

/**
 * Folders of the first export layout (`<exports>/<name>`, shared by every study — the name decided
 * the folder, so one study could read or overwrite another's export): they cannot be told apart by
 * study, so they are removed at start. Returns the names removed. Study folders are kept.
 */
export async function removeLegacyExports(exportDir: string, isStudy: (id: string) => Promise<boolean>): Promise<string[]> {
  const entries = await readdir(exportDir, { withFileTypes: true }).catch(() => []);
  const gone: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && await isStudy(e.name)) continue;
    await rm(join(exportDir, e.name), { recursive: e.isDirectory(), force: true });
    gone.push(e.name);
  }
  return gone;
}
