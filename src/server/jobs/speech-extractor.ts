/**
 * Speech features computed on the server (studies with speech.kind = "audio"): after an upload
 * has been acknowledged (the file is durable and its `speech` row committed), the recording is
 * queued here; a small pool of worker threads (speech-worker.ts) computes its eGeMAPS v02
 * functionals with the project's signal code, off the event loop. The result is stored as the
 * report's speech features (table speech_features, source "server") and the report is predicted
 * again (the path uploaded features take); a recording the cleansing rejects gets a failure note
 * in web_speech_failures (reason "rejected", detail "server: <reason>: <message>"), which the
 * dashboard's data quality counts as failed. Both writes check, in their transaction, that the
 * recording is still stored, so a withdrawal that ran meanwhile leaves nothing behind.
 * On start, recordings with neither features nor a failure note are queued again (idempotent:
 * first result wins).
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
import type { Monitor } from '../monitoring/monitor.js';
import type { ExtractRequest, ExtractResult } from './speech-worker.js';
import { openFile } from '../storage/sealed-files.js';

export interface SpeechExtractionStatus { queued: number; running: number; done: number; rejected: number; failed: number; lastMs: number | null; meanMs: number | null }

interface Slot { worker: Worker; ready: Promise<void>; busy: { id: number; reportId: string } | null; timeout?: (id: number) => void }

export class SpeechExtractor {
  private queue: string[] = [];
  private queued = new Set<string>();
  private slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private counts = { done: 0, rejected: 0, failed: 0, totalMs: 0, lastMs: null as number | null };
  private inflight = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private pending = new Map<number, (r: ExtractResult) => void>();

  constructor(private ctx: ServerContext, private monitor: Monitor, private workers = 1,
    private limits: Pick<ServerLimits, 'speechMaxSeconds' | 'speechMaxSamples' | 'speechTimeoutS' | 'speechWorkerMemoryMb'> = DEFAULT_LIMITS) {}

  status(): SpeechExtractionStatus {
    const n = this.counts.done + this.counts.rejected;
    return {
      queued: this.queue.length, running: this.slots.filter((s) => s.busy).length,
      done: this.counts.done, rejected: this.counts.rejected, failed: this.counts.failed,
      lastMs: this.counts.lastMs, meanMs: n ? this.counts.totalMs / n : null,
    };
  }

  /** Queue the recording of a report; returns at once. */
  enqueue(reportId: string): void {
    if (this.closed || this.queued.has(reportId)) return;
    this.queued.add(reportId);
    this.queue.push(reportId);
    this.pump();
  }

  /** Queue every stored recording of an audio study that has neither features nor a failure note. */
  async resume(): Promise<number> {
    const pending = await this.ctx.store.speechWithoutFeatures();
    let n = 0;
    for (const r of pending) {
      const info = await this.ctx.studyInfo(r.study_id).catch(() => null);
      if (info?.config.speech.kind !== 'audio') continue;
      this.enqueue(r.report_id); n++;
    }
    return n;
  }

  /** Resolves when nothing is queued, running or being stored (tests, the bench). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue = []; this.queued.clear();
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
      const reportId = this.queue.shift()!;
      this.queued.delete(reportId);
      const id = this.nextId++;
      slot.busy = { id, reportId };
      const s = slot;
      const run = this.extractOne(s, id, reportId)
        .catch((e) => { this.counts.failed++; console.error(`speech extraction of report ${reportId} failed: ${e instanceof Error ? e.message : e}`); })
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
    if (this.closed) return;
    if (!result.ok && result.reason === 'crash') { this.counts.failed++; return; } // retried on the next start
    const now = this.ctx.now();
    if (result.ok) {
      const stored = await this.ctx.store.storeComputedSpeechFeatures(speech, result.functionals, now);
      this.counts.done++; this.counts.totalMs += result.ms; this.counts.lastMs = result.ms;
      if (!stored) return;
      const info = await this.ctx.studyInfo(speech.study_id);
      const participant = await this.ctx.store.participantById(speech.participant_id);
      const report = await this.ctx.store.reportById(reportId);
      if (participant && participant.status !== 'withdrawn' && report) await this.monitor.afterSpeechFeatures(info, participant, report);
    } else {
      await this.ctx.store.storeSpeechRejection(speech, result.reason, result.message, now);
      this.counts.rejected++; this.counts.totalMs += result.ms; this.counts.lastMs = result.ms;
    }
  }
}
