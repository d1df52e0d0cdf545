/**
 * One interface for background jobs, two engines:
 *
 * - `LocalEngine` (the embedded default, SQLite, one process): jobs run in this process, on an
 *   in-memory queue per kind with the kind's concurrency — what the server always did. Work a
 *   crash interrupts is found again at the next start by the owner of each kind (recordings
 *   without features, reports without predictions), so nothing here needs to be durable.
 * - `PgBossEngine` (queue.ts, PostgreSQL): jobs are rows of pg-boss in the same database, so a
 *   job is enqueued in the transaction of the write that causes it, any instance or worker
 *   machine may take it, a stalled one is retried elsewhere and one that keeps failing lands in
 *   its kind's dead-letter queue.
 *
 * Every job is a named kind with a zod payload (checked when sent and when taken). Delivery is at
 * least once on pg-boss, so every handler is idempotent: its effects are keyed (report id, prompt
 * time × participant, export job id) and a second run finds them done. A `key` on `send` also
 * deduplicates while the first job is still known to the engine.
 */
import type { z } from 'zod';
import { createHash } from 'node:crypto';

export interface JobKind<P> {
  /** Queue name: lower case, digits and dashes (pg-boss queue names). */
  readonly name: string;
  readonly payload: z.ZodType<P>;
  /** A run taking longer than this (s) counts as lost and is retried (pg-boss expiry). */
  readonly expireInSeconds: number;
  /** Retries after a failed or lost run before the job goes to the dead-letter queue. */
  readonly retryLimit: number;
  readonly retryDelaySeconds?: number;
  /** Runs of this kind one process takes at a time (default 1). */
  readonly concurrency?: number;
  /**
   * Heartbeats for its runs (default true). A kind whose runs take milliseconds (per-report
   * bookkeeping) can do without: a run held by a killed process is then retried after its expiry
   * (keep `expireInSeconds` short), and it costs two commits less per job.
   */
  readonly heartbeat?: boolean;
}

export function defineJob<P>(kind: JobKind<P>): JobKind<P> {
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(kind.name)) throw new Error(`job kind "${kind.name}": expected lower case letters, digits and dashes`);
  return kind;
}

/** Runs SQL inside a caller's transaction (pg-boss's `db` option: a job enqueued with the write that causes it). */
export interface SqlExecutor { executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }> }

export interface SendOptions {
  /** Idempotency key: a second send with the same kind and key is dropped while the first is known. */
  key?: string;
  /** The transaction of the write that causes the job (PostgreSQL); the local engine runs the job after the caller's commit instead. */
  tx?: SqlExecutor;
  /** Do not start before this many seconds from now. */
  startAfterSeconds?: number;
}

export interface JobRun {
  id: string;
  /** 0 on the first run, 1 on the first retry, … */
  retryCount: number;
  /** Tells the engine the run is alive (pg-boss: a heartbeat, so a stalled run is retried elsewhere quickly). */
  beat(): Promise<void>;
}

export type Handler<P, R = unknown> = (payload: P, run: JobRun) => Promise<R>;

export interface KindStats {
  kind: string;
  /** Created or waiting for a retry. */
  waiting: number;
  active: number;
  /** Failed for good (in the dead-letter queue, or failed without one). */
  failed: number;
  completed: number;
  /** Age of the oldest waiting job (ms), or null. */
  oldestWaitingMs: number | null;
}

export interface JobEngine {
  readonly engine: 'local' | 'pg-boss';
  /** Enqueue a job; returns its id, or null when a job with the same key is already known. */
  send<P>(kind: JobKind<P>, payload: P, opts?: SendOptions): Promise<string | null>;
  /** Enqueue several jobs (of any kinds) in a caller's transaction with one statement (pg-boss); keyed ones already known are skipped. */
  sendMany?(jobs: Array<{ kind: JobKind<unknown>; payload: unknown; key?: string }>, tx: SqlExecutor): Promise<void>;
  /** Take jobs of this kind in this process. */
  work<P, R>(kind: JobKind<P>, handler: Handler<P, R>): Promise<void>;
  /** Run a payload-less kind on a cron schedule (pg-boss: once per slot across all instances). */
  schedule(kind: JobKind<Record<string, never>>, cron: string): Promise<void>;
  /** Run a job that failed for good once more. */
  retry(kind: JobKind<unknown>, id: string): Promise<void>;
  /** The result of a finished job, or its state. */
  result(kind: JobKind<unknown>, id: string): Promise<{ state: 'waiting' | 'active' | 'completed' | 'failed'; output?: unknown }>;
  stats(): Promise<KindStats[]>;
  /** Resolves when no job of the kinds this process takes is waiting or running (tests, the bench). */
  idle(): Promise<void>;
  /** Jobs of this kind were committed by this process (in a caller's transaction): fetch now rather than at the next poll. */
  nudge?(name: string): void;
  stop(): Promise<void>;
}

/** A UUID made from a name (SHA-1, version 5 layout): the same kind and key give the same job id. */
/** The idempotency key of a job whose payload names everything it depends on: the sha-256 of the payload's JSON (the same payload is the same job). */
export function payloadKey(payload: unknown): string {
  return createHash('sha256').update(JSON.stringify(payload)).digest('hex');
}

export function keyId(kind: string, key: string): string {
  const h = createHash('sha1').update('moodlens-job\n').update(kind).update('\n').update(key).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export class JobPayloadError extends Error {}

export function parsePayload<P>(kind: JobKind<P>, payload: unknown): P {
  const r = kind.payload.safeParse(payload);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new JobPayloadError(`job ${kind.name}: payload${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`);
  }
  return r.data;
}

/** Set an entry, dropping the oldest (insertion order) beyond 100,000: what a long-running process remembers stays bounded. */
function keep<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > 100_000) map.delete(map.keys().next().value as K);
}

interface LocalJob { id: string; kind: string; payload: unknown; createdMs: number; retryCount: number }

/**
 * In-process engine: a FIFO per kind, `concurrency` runs at a time, a failed run is retried up to
 * the kind's limit (after its delay), then counted failed. `send` with `tx` is accepted and the job
 * queued at once: on SQLite the callers send after their commit.
 */
export class LocalEngine implements JobEngine {
  readonly engine = 'local' as const;
  private kinds = new Map<string, { kind: JobKind<unknown>; handler?: Handler<unknown>; queue: LocalJob[]; running: number; failed: number; completed: number }>();
  /** Keys of jobs sent (so a repeated send stays a no-op), finished jobs' results and jobs failed for good: the newest 100,000 of each, like pg-boss's job table keeps them for a while. */
  private keys = new Map<string, true>();
  private failedJobs = new Map<string, LocalJob>();
  private results = new Map<string, { state: 'completed' | 'failed'; output?: unknown }>();
  private inflight = new Set<Promise<void>>();
  private timers = new Set<NodeJS.Timeout>();
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  private seq = 0;
  /** Jobs waiting for their start time or their retry delay. */
  private delayed = 0;

  private entry(kind: JobKind<unknown>) {
    let e = this.kinds.get(kind.name);
    if (!e) { e = { kind, queue: [], running: 0, failed: 0, completed: 0 }; this.kinds.set(kind.name, e); }
    return e;
  }

  async send<P>(kind: JobKind<P>, payload: P, opts: SendOptions = {}): Promise<string | null> {
    if (this.stopped) return null;
    const data = parsePayload(kind, payload);
    const dedup = opts.key !== undefined ? `${kind.name}\n${opts.key}` : undefined;
    if (dedup && this.keys.has(dedup)) return null;
    const job: LocalJob = { id: `local-${++this.seq}`, kind: kind.name, payload: data, createdMs: Date.now(), retryCount: 0 };
    if (dedup) keep(this.keys, dedup, true);
    const e = this.entry(kind as JobKind<unknown>);
    if (opts.startAfterSeconds) this.later(opts.startAfterSeconds * 1000, () => { e.queue.push(job); this.pump(e); });
    else { e.queue.push(job); this.pump(e); }
    return job.id;
  }

  async work<P, R>(kind: JobKind<P>, handler: Handler<P, R>): Promise<void> {
    const e = this.entry(kind as JobKind<unknown>);
    e.handler = handler as Handler<unknown>;
    this.pump(e);
  }

  async schedule(kind: JobKind<Record<string, never>>, cron: string): Promise<void> {
    // Local: a fixed interval from the cron's minute field ("*/N * * * *" → N minutes; "* * * * *" → 1).
    const m = /^(\*|\*\/(\d+))\s+\*\s+\*\s+\*\s+\*$/.exec(cron.trim());
    if (!m) throw new Error(`schedule ${kind.name}: the local engine supports "* * * * *" and "*/N * * * *", got "${cron}"`);
    const every = (m[2] ? Number(m[2]) : 1) * 60_000;
    const t = setInterval(() => { void this.send(kind, {}, { key: `cron:${Math.floor(Date.now() / every)}` }); }, every);
    t.unref();
    this.timers.add(t);
  }

  async retry(kind: JobKind<unknown>, id: string): Promise<void> {
    const job = this.failedJobs.get(id);
    if (!job) return;
    this.failedJobs.delete(id); this.results.delete(id);
    const e = this.entry(kind);
    e.failed--; job.retryCount = 0; e.queue.push(job); this.pump(e);
  }

  async result(_kind: JobKind<unknown>, id: string) {
    const r = this.results.get(id);
    if (r) return r;
    for (const e of this.kinds.values()) if (e.queue.some((j) => j.id === id)) return { state: 'waiting' as const };
    return { state: 'active' as const };
  }

  async stats(): Promise<KindStats[]> {
    const now = Date.now();
    return [...this.kinds.values()].map((e) => ({
      kind: e.kind.name, waiting: e.queue.length, active: e.running, failed: e.failed, completed: e.completed,
      oldestWaitingMs: e.queue.length ? now - Math.min(...e.queue.map((j) => j.createdMs)) : null,
    }));
  }

  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) { clearTimeout(t); clearInterval(t); }
    this.timers.clear();
    this.delayed = 0;
    for (const e of this.kinds.values()) e.queue = [];
    await Promise.all(this.inflight);
    this.wake();
  }

  private isIdle(): boolean {
    return this.inflight.size === 0 && this.delayed === 0 && [...this.kinds.values()].every((e) => !e.handler || e.queue.length === 0);
  }

  private wake(): void { if (this.isIdle()) for (const r of this.idleWaiters.splice(0)) r(); }

  private later(ms: number, fn: () => void): void {
    this.delayed++;
    const t = setTimeout(() => { this.timers.delete(t); this.delayed--; if (!this.stopped) fn(); this.wake(); }, ms);
    t.unref();
    this.timers.add(t);
  }

  private pump(e: ReturnType<LocalEngine['entry']>): void {
    while (!this.stopped && e.handler && e.queue.length > 0 && e.running < (e.kind.concurrency ?? 1)) {
      const job = e.queue.shift()!;
      e.running++;
      const handler = e.handler;
      const run = (async () => {
        try {
          const output = await handler(job.payload, { id: job.id, retryCount: job.retryCount, beat: async () => {} });
          e.completed++;
          keep(this.results, job.id, { state: 'completed', output });
        } catch (err) {
          if (job.retryCount < e.kind.retryLimit && !this.stopped) {
            job.retryCount++;
            this.later((e.kind.retryDelaySeconds ?? 0) * 1000, () => { e.queue.push(job); this.pump(e); });
          } else {
            e.failed++;
            keep(this.failedJobs, job.id, job);
            keep(this.results, job.id, { state: 'failed', output: { message: err instanceof Error ? err.message : String(err) } });
            console.error(`job ${e.kind.name} ${job.id} failed: ${err instanceof Error ? err.message : err}`);
          }
        }
      })().finally(() => {
        e.running--;
        this.inflight.delete(run);
        this.pump(e);
        this.wake();
      });
      this.inflight.add(run);
    }
  }
}
