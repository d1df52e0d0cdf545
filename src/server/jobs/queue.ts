/**
 * The server's background jobs: this file is the one place their kinds are declared — a name, a
 * strict zod payload of plain ids (a job is a row of a durable queue on PostgreSQL; its handler
 * loads what the ids name, so a job never carries a stale copy of data or any personal data) and
 * the engine's terms (expiry, retries, concurrency per process).
 *
 * Two engines behind `ServerJobs` (src/queue/engine.ts):
 * - SQLite (the embedded default, one process): `LocalEngine`, in memory, in this process — what the
 *   server always did; work a crash interrupts is found again at the next start by its owner
 *   (recordings without features, exports left running).
 * - PostgreSQL: `PgBossEngine` in the same database, so any number of `moodlens serve` instances
 *   share the jobs, a job held by a killed instance is retried by another (heartbeats), and a job
 *   is enqueued **in the transaction of the write that causes it** (`JobBatch`): a committed
 *   report always has its follow-up job, a rolled-back one never does.
 *
 * Delivery is at least once, so every handler is idempotent, keyed by the id in its payload (a
 * report is predicted once, a recording's features are stored once, an export folder is written
 * by one run and marked done once); sends are keyed by the same id, so a repeated send is dropped.
 */
import { z } from 'zod';
import { CompiledQuery, type Transaction } from 'kysely';
import type { DB } from '../storage/schema.js';
import { defineJob, keyId, LocalEngine, type JobEngine, type JobKind as EngineKind, type JobRun, type KindStats, type SqlExecutor } from '../../queue/engine.js';

const Id = z.string().min(1).max(100);

/** Payloads of the server's job kinds (plain ids only). */
export interface JobPayloads {
  /** A report was stored: predict it (once) and re-evaluate the participant's alerts (monitoring/monitor.ts). */
  'report-follow-up': { reportId: string };
  /** Speech features of a stored report arrived: predict it again with them, when the model reads speech (monitoring/monitor.ts). */
  'speech-follow-up': { reportId: string };
  /** A recording was stored: compute its eGeMAPS features on a worker thread (jobs/speech-extractor.ts). */
  'speech-features': { reportId: string };
  /** An export was requested: write the study folder (jobs/export-jobs.ts). */
  'export': { exportJobId: string };
  /**
   * The push reminders' pass of one tick slot (`floor(time / tick)`), PostgreSQL only: every
   * instance sends the slot's job, the first send inserts it (keyed by the slot), one instance runs
   * the pass (jobs/push.ts). The per-prompt claim stays what makes each reminder go out once.
   */
  'push-pass': { slot: number };
  /** A report was stored: raise the study's notification rules it meets (jobs/notify.ts). */
  'notify-report': { reportId: string };
  /** A new early-warning alert episode was recorded: raise the rules it meets (jobs/notify.ts). */
  'notify-alert': { alertId: string };
}
export type JobKind = keyof JobPayloads;

const PAYLOADS: { [K in JobKind]: z.ZodType<JobPayloads[K]> } = {
  'report-follow-up': z.object({ reportId: Id }).strict(),
  'speech-follow-up': z.object({ reportId: Id }).strict(),
  'speech-features': z.object({ reportId: Id }).strict(),
  'export': z.object({ exportJobId: Id }).strict(),
  'push-pass': z.object({ slot: z.number().int().min(0) }).strict(),
  'notify-report': z.object({ reportId: Id }).strict(),
  'notify-alert': z.object({ alertId: Id }).strict(),
};

/** The idempotency key of a job: the id its effect is keyed by. */
const KEY: { [K in JobKind]: (p: JobPayloads[K]) => string } = {
  'report-follow-up': (p) => p.reportId,
  'speech-follow-up': (p) => p.reportId,
  'speech-features': (p) => p.reportId,
  'export': (p) => p.exportJobId,
  'push-pass': (p) => String(p.slot),
  'notify-report': (p) => p.reportId,
  'notify-alert': (p) => p.alertId,
};

/**
 * The engine's terms per kind. Expiry is a backstop only: a run held by a killed process is
 * noticed by its missing heartbeat within seconds (src/queue/pgboss.ts).
 */
function kinds(o: { speechWorkers: number; followUps: number }): { [K in JobKind]: EngineKind<JobPayloads[K]> } {
  return {
    // Milliseconds each: no heartbeat rows (two commits less per report); a run held by a killed
    // instance is retried after its one-minute expiry.
    'report-follow-up': defineJob({ name: 'report-follow-up', payload: PAYLOADS['report-follow-up'], expireInSeconds: 60, retryLimit: 3, retryDelaySeconds: 5, concurrency: o.followUps, heartbeat: false }),
    'speech-follow-up': defineJob({ name: 'speech-follow-up', payload: PAYLOADS['speech-follow-up'], expireInSeconds: 60, retryLimit: 3, retryDelaySeconds: 5, concurrency: o.followUps, heartbeat: false }),
    'speech-features': defineJob({ name: 'speech-features', payload: PAYLOADS['speech-features'], expireInSeconds: 3600, retryLimit: 3, retryDelaySeconds: 5, concurrency: o.speechWorkers }),
    'export': defineJob({ name: 'export', payload: PAYLOADS['export'], expireInSeconds: 6 * 3600, retryLimit: 2, retryDelaySeconds: 5, concurrency: 1 }),
    // A pass takes seconds; a failed or lost one is not retried: the next slot's pass does its work.
    'push-pass': defineJob({ name: 'push-pass', payload: PAYLOADS['push-pass'], expireInSeconds: 300, retryLimit: 0, concurrency: 1, heartbeat: false }),
    // Threshold notifications (jobs/notify.ts): the check makes each notification once (its key) and tries its deliveries; retries of deliveries are the service's own.
    'notify-report': defineJob({ name: 'notify-report', payload: PAYLOADS['notify-report'], expireInSeconds: 300, retryLimit: 3, retryDelaySeconds: 5, concurrency: o.followUps, heartbeat: false }),
    'notify-alert': defineJob({ name: 'notify-alert', payload: PAYLOADS['notify-alert'], expireInSeconds: 300, retryLimit: 3, retryDelaySeconds: 5, concurrency: o.followUps, heartbeat: false }),
  };
}

export type JobHandlers = { [K in JobKind]: (payload: JobPayloads[K], run: JobRun) => Promise<void> };

/** SQL inside a Kysely transaction, as pg-boss's `db` option runs it. */
function executorOf(trx: Transaction<DB>): SqlExecutor {
  return { executeSql: async (text, values) => ({ rows: [...(await trx.executeQuery(CompiledQuery.raw(text, values))).rows] }) };
}

export interface ServerJobsOptions {
  /** Speech feature extractions one process runs at a time (its worker threads; default 1; 0: none in this process). */
  speechWorkers?: number;
  /** The storage's end-of-transaction hook (Store.beforeCommit): the jobs of a commit group's writes are inserted by one statement. */
  beforeCommit?: (trx: Transaction<DB>, fn: (trx: Transaction<DB>) => Promise<void>) => void;
}

/** The engine a server uses: the in-process one on SQLite, pg-boss on PostgreSQL (`engine` given). */
export class ServerJobs {
  readonly kinds: ReturnType<typeof kinds>;
  private stopped = false;
  /** Jobs added in each open transaction, inserted together at its end. */
  private pending = new WeakMap<Transaction<DB>, Array<{ kind: EngineKind<unknown>; payload: unknown; key: string }>>();
  private readonly beforeCommit?: ServerJobsOptions['beforeCommit'];

  constructor(readonly engine: JobEngine = new LocalEngine(), o: ServerJobsOptions = {}) {
    this.beforeCommit = o.beforeCommit;
    // In process the follow-ups run one at a time (what the monitor always did: SQLite has one
    // writer); on pg-boss each instance fetches and runs up to 16 at once.
    this.kinds = kinds({ speechWorkers: Math.max(0, o.speechWorkers ?? 1), followUps: engine.engine === 'pg-boss' ? 16 : 1 });
  }

  get durable(): boolean { return this.engine.engine === 'pg-boss'; }

  /** Take every kind in this process (but speech features with `speechWorkers: 0`: this instance leaves them to others, or to its next start; and push passes only on PostgreSQL). */
  async work(handlers: JobHandlers): Promise<void> {
    for (const k of Object.keys(this.kinds) as JobKind[]) {
      if (this.kinds[k].concurrency === 0) continue;
      if (k === 'push-pass' && !this.durable) continue; // in process the push timer passes itself (jobs/push.ts)
      await this.engine.work(this.kinds[k] as EngineKind<unknown>, (p, run) => (handlers[k] as (p: unknown, run: JobRun) => Promise<void>)(p, run));
    }
  }

  /** Enqueue a job no write causes (keyed: a repeat is dropped while the first is known). */
  async send<K extends JobKind>(kind: K, payload: JobPayloads[K]): Promise<void> {
    if (this.stopped) return;
    await this.engine.send(this.kinds[kind] as EngineKind<JobPayloads[K]>, payload, { key: KEY[kind](payload) });
  }

  /** A batch of jobs caused by one write: see JobBatch. */
  batch(): JobBatch { return new JobBatch(this); }

  /**
   * @internal JobBatch's send inside a transaction (pg-boss): held until the transaction's end and
   * inserted with the other writes' jobs by one statement (a commit group of 64 reports inserts its
   * 64 jobs at once), or sent at once where the storage has no end-of-transaction hook.
   */
  async sendIn<K extends JobKind>(trx: Transaction<DB>, kind: K, payload: JobPayloads[K]): Promise<void> {
    const def = this.kinds[kind] as EngineKind<unknown>;
    const key = KEY[kind](payload);
    const { beforeCommit } = this;
    if (!beforeCommit || !this.engine.sendMany) { await this.engine.send(def, payload, { key, tx: executorOf(trx) }); return; }
    let list = this.pending.get(trx);
    if (!list) {
      list = [];
      this.pending.set(trx, list);
      const jobs = list;
      beforeCommit(trx, async (t) => { this.pending.delete(t); await this.engine.sendMany!(jobs, executorOf(t)); });
    }
    list.push({ kind: def, payload, key });
  }

  /** Whether the job of this kind and payload failed for good (retries spent: pg-boss moved it to the dead-letter queue), or is unknown to the engine. */
  async failedForGood<K extends JobKind>(kind: K, payload: JobPayloads[K]): Promise<boolean> {
    if (!this.durable) return false;
    const r = await this.engine.result(this.kinds[kind] as EngineKind<unknown>, keyId(this.kinds[kind].name, KEY[kind](payload)));
    return r.state === 'failed';
  }

  private statsCache: { at: number; value: Promise<KindStats[]> } | null = null;

  /** The queue per kind (GET /health): on pg-boss one grouped count over the job table, shared by the calls of the same second (load balancers poll /health often). */
  stats(): Promise<KindStats[]> {
    if (!this.durable) return this.engine.stats();
    const now = Date.now();
    if (!this.statsCache || now - this.statsCache.at >= 1000) {
      const value = this.engine.stats();
      value.catch(() => { if (this.statsCache?.value === value) this.statsCache = null; });
      this.statsCache = { at: now, value };
    }
    return this.statsCache.value;
  }
  idle(): Promise<void> { return this.engine.idle(); }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.engine.stop();
  }
}

/**
 * Jobs caused by one write. Inside the write's transaction, `add` sends each job on pg-boss in
 * that transaction (it commits or rolls back with the write); in process it holds them, and
 * `committed` — called once the write has resolved, so durable — queues them. A write retried
 * alone after its group failed (storage/group-commit.ts) adds its jobs again: sends are keyed, so
 * they are queued once.
 */
export class JobBatch {
  private held: Array<{ kind: JobKind; payload: unknown }> = [];
  constructor(private jobs: ServerJobs) {}

  async add<K extends JobKind>(trx: Transaction<DB>, kind: K, payload: JobPayloads[K]): Promise<void> {
    if (this.jobs.durable) await this.jobs.sendIn(trx, kind, payload);
    this.held.push({ kind, payload });
  }

  /** The write committed: queue what was held (in process), or wake this process's fetch loop (pg-boss). */
  committed(): void {
    if (this.jobs.durable) {
      for (const k of new Set(this.held.splice(0).map((h) => h.kind))) this.jobs.engine.nudge?.(this.jobs.kinds[k].name);
      return;
    }
    for (const { kind, payload } of this.held.splice(0)) {
      void this.jobs.send(kind, payload as never).catch((e) => console.error(`jobs: could not queue ${kind}: ${e instanceof Error ? e.message : e}`));
    }
  }
}
