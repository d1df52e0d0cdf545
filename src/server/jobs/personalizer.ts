/**
 * The server side of the personalisation worker (personalize-worker.ts): one worker thread per
 * model, fits queued first-in first-out, one queued fit per participant (a newer request replaces
 * the queued one's data), results handed to `onDone`. The request path never waits for a fit:
 * `request` returns at once, and predictions use the latest finished fit.
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../../util/spawn-worker.js';
import type { FitRequest, FittedLayers } from './personalize-worker.js';
import type { ReportInstance } from '../../data/instances.js';

export interface PersonalisationStatus {
  /** Participants waiting for a fit. */
  queued: number;
  /** The participant being fitted now, or null. */
  running: string | null;
  done: number;
  failed: number;
  lastError: string | null;
}

interface Job { participantId: string; load: () => Promise<ReportInstance[]>; onDone: (layers: FittedLayers) => void; onFail: (e: string) => void }

export class Personalizer {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private queue = new Map<string, Job>();
  private running: { id: number; job: Job } | null = null;
  private nextId = 1;
  private counts = { done: 0, failed: 0 };
  private lastError: string | null = null;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private startedWaiters: Array<() => void> = [];

  constructor(private modelDir: string, private opts: { channels: string[]; windowEpochs: number; speechFeatures: string[]; epochs?: number }) {}

  status(): PersonalisationStatus {
    return { queued: this.queue.size, running: this.running?.job.participantId ?? null, ...this.counts, lastError: this.lastError };
  }

  /** Queue a fit; returns at once. `load` reads the participant's instances when the fit starts. */
  request(participantId: string, load: Job['load'], onDone: Job['onDone'], onFail: Job['onFail']): void {
    if (this.closed) return;
    this.queue.set(participantId, { participantId, load, onDone, onFail });
    void this.pump();
  }

  /** Resolves when nothing is queued or running (tests, the bench). */
  idle(): Promise<void> {
    if (!this.running && this.queue.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Resolves once the worker has started a fit (tests: "a fit is in progress"). */
  fitStarted(): Promise<void> {
    if (this.running?.id && this.runningStarted) return Promise.resolve();
    return new Promise((r) => this.startedWaiters.push(r));
  }
  private runningStarted = false;

  async close(): Promise<void> {
    this.closed = true;
    this.queue.clear();
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    if (this.running) { this.running.job.onFail('server closing'); this.running = null; }
    for (const r of this.idleWaiters.splice(0)) r();
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const w = spawnWorker(import.meta.url, 'personalize-worker', { workerData: { modelDir: this.modelDir } });
    w.unref(); // a pending fit never keeps the process alive
    this.worker = w;
    this.ready = new Promise<void>((resolve, reject) => {
      w.on('message', (m: { ready?: boolean; type?: string; id?: number; layers?: FittedLayers; error?: string }) => {
        if (m.ready) { resolve(); return; }
        const run = this.running;
        if (!run || run.id !== m.id) return;
        if (m.type === 'started') { this.runningStarted = true; for (const r of this.startedWaiters.splice(0)) r(); return; }
        this.running = null; this.runningStarted = false;
        if (m.type === 'done') { this.counts.done++; try { run.job.onDone(m.layers!); } catch (e) { console.error(`personalisation: applying the fit of ${run.job.participantId} failed: ${e}`); } }
        else { this.counts.failed++; this.lastError = m.error ?? 'unknown'; run.job.onFail(this.lastError); }
        void this.pump();
      });
      w.on('error', (e) => {
        this.lastError = e.message;
        console.error(`personalisation worker failed: ${e.stack ?? e}`);
        reject(e);
        const run = this.running;
        this.running = null; this.ready = null; this.worker = null;
        if (run) { this.counts.failed++; run.job.onFail(e.message); }
        void this.pump();
      });
    });
    this.ready.catch(() => {});
    return this.ready;
  }

  private async pump(): Promise<void> {
    if (this.running || this.closed) return;
    const next = this.queue.entries().next();
    if (next.done) { for (const r of this.idleWaiters.splice(0)) r(); return; }
    const [pid, job] = next.value;
    this.queue.delete(pid);
    const id = this.nextId++;
    this.running = { id, job };
    try {
      const rows = await job.load();
      await this.start();
      if (this.closed || !this.worker) return;
      const req: FitRequest = { type: 'fit', id, participantId: pid, rows, ...this.opts };
      this.worker.postMessage(req, [...new Set(rows.flatMap((r) => [r.activity.buffer as ArrayBuffer, ...(r.speech ? [r.speech.buffer as ArrayBuffer] : [])]))]);
    } catch (e) {
      this.running = null;
      this.counts.failed++; this.lastError = e instanceof Error ? e.message : String(e);
      job.onFail(this.lastError);
      void this.pump();
    }
  }
}
