/**
 * Server side of activity-worker.ts: small POST /me/activity bodies are parsed on the event loop
 * (the worker round trip would cost more than the parse); bodies over `workerBytes` go to one
 * worker thread, started on first use, one batch at a time. A worker that dies (out of memory)
 * or takes longer than `timeoutMs` is replaced, and that batch answers 413/503.
 */
import type { Worker } from 'node:worker_threads';
import type { IncomingMessage } from 'node:http';
import { parseActivity, type ActivityParsed } from './activity-body.js';
import type { ActivityWorkerResult } from './activity-worker.js';
import { HttpError } from '../errors.js';
import { spawnWorker } from '../../../util/spawn-worker.js';

/** Batches waiting for the worker at most (each holds its body): more answer 503. */
const MAX_QUEUED = 16;

/**
 * Read a request body into one buffer of its own, a network chunk at a time (Fastify's parser
 * concatenates the chunks at the end: one 30 MB copy that holds the event loop), sized from
 * Content-Length when given; over `limit` bytes is a 413.
 */
export async function collectBody(raw: IncomingMessage, payload: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `body: larger than this server's limit of ${limit} bytes for this route`, 'body');
  const declared = Number(raw.headers['content-length'] ?? NaN);
  if (declared > limit) throw tooLarge();
  let buf = Buffer.allocUnsafeSlow(Number.isFinite(declared) ? declared : 64 * 1024);
  let len = 0;
  for await (const chunk of payload) {
    if (len + chunk.length > limit) throw tooLarge();
    if (len + chunk.length > buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.min(limit, Math.max(buf.length * 2, len + chunk.length)));
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
    }
    chunk.copy(buf, len);
    len += chunk.length;
  }
  return len === buf.length ? buf : buf.subarray(0, len);
}
const WORKER_HEAP_MB = 1024;

interface Job { id: number; bytes: Uint8Array; channels: string[]; epochSeconds: number; resolve: (r: ActivityParsed) => void; reject: (e: unknown) => void }

export class ActivityParser {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private queue: Job[] = [];
  private current: { job: Job; timer: NodeJS.Timeout } | null = null;
  private nextId = 1;
  private closed = false;

  constructor(private workerBytes: number, private timeoutMs = 60_000) {}

  /** Parse and check a batch (throws HttpError 400/413/503; the parse's own errors come back as {ok: false}). */
  parse(body: Buffer, channels: string[], epochSeconds: number): ActivityParsed | Promise<ActivityParsed> {
    if (body.length <= this.workerBytes) return parseActivity({ text: body.toString('utf8'), channels, epochSeconds });
    if (this.queue.length >= MAX_QUEUED) throw new HttpError(503, 'server busy parsing other large activity batches; retry in a minute');
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), channels, epochSeconds, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new HttpError(503, 'server shutting down'));
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private spawn(): Worker {
    const w = spawnWorker(import.meta.url, 'activity-worker', { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    w.unref();
    this.ready = new Promise<void>((resolve) => {
      w.on('message', (m: ActivityWorkerResult | { ready: true }) => {
        if ('ready' in m) { resolve(); return; }
        const cur = this.current;
        if (!cur || cur.job.id !== m.id) return;
        clearTimeout(cur.timer);
        this.current = null;
        cur.job.resolve(m.result);
        this.pump();
      });
    });
    const lost = (why: HttpError) => {
      if (this.worker !== w) return;
      this.worker = null;
      const cur = this.current;
      this.current = null;
      if (cur) { clearTimeout(cur.timer); cur.job.reject(why); }
      this.pump();
    };
    w.on('error', (e) => lost(new HttpError(413, `body: the activity batch could not be parsed within the server's memory (${e.message}); send smaller batches`, 'body')));
    w.on('exit', () => lost(new HttpError(503, 'the activity parser stopped; retry')));
    this.worker = w;
    return w;
  }

  private pump(): void {
    if (this.closed || this.current || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    const w = this.worker ?? this.spawn();
    const timer = setTimeout(() => {
      if (this.current?.job !== job) return;
      this.current = null;
      this.worker = null;
      void w.terminate();
      job.reject(new HttpError(413, `body: parsing the activity batch took longer than ${this.timeoutMs / 1000} s; send smaller batches`, 'body'));
      this.pump();
    }, this.timeoutMs);
    this.current = { job, timer };
    void this.ready!.then(() => {
      if (this.current?.job !== job) return;
      // The body's memory moves to the worker (a body that is part of a larger buffer is copied to one of its own first).
      let bytes = job.bytes;
      if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) bytes = Uint8Array.prototype.slice.call(bytes);
      w.postMessage({ id: job.id, bytes, channels: job.channels, epochSeconds: job.epochSeconds }, [bytes.buffer as ArrayBuffer]);
    });
  }
}
