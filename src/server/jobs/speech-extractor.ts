/**
 * Speech features computed on the server (studies with speech.kind = "audio"): the upload's
 * transaction enqueues a "speech-features" job (jobs/queue.ts), whose run (`extract`) hands the
 * recording to a small pool of worker threads (speech-worker.ts) that compute its eGeMAPS v02
 * functionals with the project's signal code, off the event loop (the instance keeps answering,
 * and on pg-boss keeps beating for the job). The result is stored as the report's speech features
 * (table speech_features, source "server") and, in the same transaction, a "speech-follow-up" job
 * is enqueued (the report is predicted again: the path uploaded features take); a recording the
 * cleansing rejects gets a failure note in web_speech_failures (reason "rejected", detail
 * "server: <reason>: <message>"), which the dashboard's data quality counts as failed. Both
 * writes check, in their transaction, that the recording is still stored, so a withdrawal that
 * ran meanwhile leaves nothing behind.
 * Idempotent per report: a run finds a recording with features or a failure note done and
 * computes nothing (a job delivered twice, or retried after its instance died, stores one
 * result). On start, recordings with neither are queued again (keyed by report: once).
 * The recording is sealed at rest (docs/security.md): this thread opens it (every chunk
 * authenticated) and hands the plaintext to the worker, which never sees the data key.
 *
 * Limits (docs/security.md): the worker checks a recording's duration and sample count from its
 * header before decoding it (reason "too-long"); each worker has a heap cap
 * (`speechWorkerMemoryMb`, reason "out-of-memory") and each recording a time limit
 * (`speechTimeoutS`, reason "timeout"): the worker is stopped and replaced, and the recording gets
 * a failure note, so it is not tried again on every start.
 */
import type { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { ServerContext } from '../http/context.js';
import { DEFAULT_LIMITS, type ServerLimits } from '../http/limits.js';
import { spawnWorker } from '../../util/spawn-worker.js';
import type { ServerJobs } from './queue.js';
import type { ExtractRequest, ExtractResult } from './speech-worker.js';
import { openFile } from '../storage/sealed-files.js';

export interface SpeechExtractionStatus { queued: number; running: number; done: number; rejected: number; failed: number; lastMs: number | null; meanMs: number | null }

interface Slot { worker: Worker; ready: Promise<void>; busy: { id: number; reportId: string } | null; timeout?: (id: number) => void }

export class SpeechExtractor {
  private queue: Array<{ reportId: string; done: (e?: unknown) => void }> = [];
  private slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private counts = { done: 0, rejected: 0, failed: 0, totalMs: 0, lastMs: null as number | null };
  private inflight = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private pending = new Map<number, (r: ExtractResult) => void>();

  constructor(private ctx: ServerContext, private jobs: ServerJobs, private workers = 1,
    private limits: Pick<ServerLimits, 'speechMaxSeconds' | 'speechMaxSamples' | 'speechTimeoutS' | 'speechWorkerMemoryMb'> = DEFAULT_LIMITS) {}

  status(): SpeechExtractionStatus {
    const n = this.counts.done + this.counts.rejected;
    return {
      queued: this.queue.length, running: this.slots.filter((s) => s.busy).length,
      done: this.counts.done, rejected: this.counts.rejected, failed: this.counts.failed,
      lastMs: this.counts.lastMs, meanMs: n ? this.counts.totalMs / n : null,
    };
  }

  /**
   * The "speech-features" job of a report: compute and store its recording's features on a worker
   * thread; resolves when they (or the failure note) are stored, or when there is nothing to do
   * (done already, withdrawn). Rejects when the worker crashed: the job engine retries it.
   */
  extract(reportId: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ reportId, done: (e) => (e === undefined ? resolve() : reject(e)) });
      this.pump();
    });
  }

  /** Queue a job for every stored recording of an audio study that has neither features nor a failure note (keyed: queued once). */
  async resume(): Promise<number> {
    const pending = await this.ctx.store.speechWithoutFeatures();
    let n = 0;
    for (const r of pending) {
      const info = await this.ctx.studyInfo(r.study_id).catch(() => null);
      if (info?.config.speech.kind !== 'audio') continue;
      await this.jobs.send('speech-features', { reportId: r.report_id }); n++;
    }
    return n;
  }

  /** Resolves when no job is queued and nothing is running or being stored (tests, the bench). */
  async idle(): Promise<void> {
    await this.jobs.idle();
    if (this.isIdle()) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.done(new Error('the server is stopping')); // the job is retried (pg-boss: by another instance; in process: at the next start)
    await Promise.all(this.inflight);
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const r of this.idleWaiters.splice(0)) r();
  }

  private isIdle(): boolean { return this.queue.length === 0 && this.inflight.size === 0; }

  private spawn(): Slot {
    const worker = spawnWorker(import.meta.url, 'speech-worker', { resourceLimits: { maxOldGenerationSizeMb: this.limits.speechWorkerMemoryMb } });
    worker.unref();
    const slot: Slot = { worker, ready: Promise.resolve(), busy: null };
    slot.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: ExtractResult | { ready: true }) => {
        if ('ready' in m) { resolve(); return; }
        const done = this.pending.get(m.id);
        this.pending.delete(m.id);
        done?.(m);
      });
      // A worker that dies (error, or exit outside close()) is dropped; its recording is left
      // owed (picked up on the next start) and the next one gets a fresh worker.
      const lost = (message: string, reason = 'crash') => {
        reject(new Error(message));
        if (!this.slots.includes(slot)) return;
        this.slots = this.slots.filter((s) => s !== slot);
        if (slot.busy) {
          const done = this.pending.get(slot.busy.id);
          this.pending.delete(slot.busy.id);
          done?.({ id: slot.busy.id, ok: false, reason, message, ms: 0 });
        }
      };
      worker.on('error', (e) => {
        if ((e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
          lost(`analysis needed more than the worker's ${this.limits.speechWorkerMemoryMb} MiB heap (--speech-worker-memory-mb)`, 'out-of-memory');
        } else {
          console.error(`speech extraction worker failed: ${e.stack ?? e}`);
          lost(e.message);
        }
      });
      worker.on('exit', (code) => { if (!this.closed) lost(`speech extraction worker exited (code ${code})`); });
      slot.timeout = (id: number) => {
        if (slot.busy?.id !== id) return;
        lost(`analysis took longer than ${this.limits.speechTimeoutS} s (--speech-timeout-s)`, 'timeout');
        void worker.terminate();
      };
    });
    slot.ready.catch(() => {});
    this.slots.push(slot);
    return slot;
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.workers) slot = this.spawn();
      if (!slot) return;
      const { reportId, done } = this.queue.shift()!;
      const id = this.nextId++;
      slot.busy = { id, reportId };
      const s = slot;
      const run = this.extractOne(s, id, reportId)
        .then(() => done(), (e) => { this.counts.failed++; if (!this.closed) console.error(`speech extraction of report ${reportId} failed: ${e instanceof Error ? e.message : e}`); done(e); })
        .finally(() => {
          s.busy = null;
          this.inflight.delete(run);
          this.pump();
          if (this.isIdle()) for (const r of this.idleWaiters.splice(0)) r();
        });
      this.inflight.add(run);
    }
  }

  private async extractOne(slot: Slot, id: number, reportId: string): Promise<void> {
    const speech = await this.ctx.store.speechOf(reportId);
    if (!speech) return; // withdrawn meanwhile
    if (await this.ctx.store.speechSettled(reportId)) return; // done by an earlier run of this job
    let wav: Buffer | null;
    try { wav = await openFile(this.ctx.keys, join(this.ctx.dataDir, speech.file)); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // altered, or another key: logged, counted failed, retried on the next start
      wav = null;
    }
    await slot.ready;
    const { speechMaxSeconds: maxSeconds, speechMaxSamples: maxSamples, speechTimeoutS } = this.limits;
    const result = await new Promise<ExtractResult>((resolve) => {
      const timer = setTimeout(() => slot.timeout?.(id), speechTimeoutS * 1000);
      this.pending.set(id, (r) => { clearTimeout(timer); resolve(r); });
      if (wav) slot.worker.postMessage({ id, wav: wav.buffer as ArrayBuffer, maxSeconds, maxSamples } satisfies ExtractRequest, [wav.buffer as ArrayBuffer]);
      else slot.worker.postMessage({ id, path: join(this.ctx.dataDir, speech.file) } satisfies ExtractRequest); // gone: the worker answers "missing"
    });
    if (this.closed) throw new Error('the server is stopping'); // the job is retried (pg-boss: by another instance)
    if (!result.ok && result.reason === 'crash') throw new Error(`the worker crashed: ${result.message}`); // retried by the job engine
    const now = this.ctx.now();
    if (result.ok) {
      // The re-prediction with the new features is enqueued with them (one transaction).
      const batch = this.jobs.batch();
      await this.ctx.store.storeComputedSpeechFeatures(speech, result.functionals, now, (trx) => batch.add(trx, 'speech-follow-up', { reportId }));
      batch.committed();
      this.counts.done++; this.counts.totalMs += result.ms; this.counts.lastMs = result.ms;
    } else {
      await this.ctx.store.storeSpeechRejection(speech, result.reason, result.message, now);
      this.counts.rejected++; this.counts.totalMs += result.ms; this.counts.lastMs = result.ms;
    }
  }
}
