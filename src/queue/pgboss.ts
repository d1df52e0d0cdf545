/**
 * The job engine on PostgreSQL: pg-boss 10 (10.x is the last major that runs on Node 20), in its
 * own schema of the study database. What pg-boss gives and we use as it is: SKIP LOCKED delivery
 * to any number of instances and worker machines, retries with delay, expiry of lost runs,
 * dead-letter queues, deduplication by job id, cron schedules that fire once per slot across all
 * instances, and the job's output kept for its sender.
 *
 * Added here, small:
 * - keys → job ids: a send's idempotency key becomes a name-based UUID (v5 shape), so the same key
 *   inserts nothing while the first job is in the job table (pg-boss's insert is
 *   `on conflict do nothing`).
 * - heartbeats: pg-boss 10 has none, so a long run (an export, a grid row) would only be noticed
 *   lost after its kind's expiry. Each run here beats every `beatMs` into `moodlens_job_beat`; every
 *   instance looks, every `beatMs`, for active jobs whose last beat is older than `stallMs` and
 *   fails them through pg-boss (`fail`), which retries them on its own terms. A run that beats
 *   again after that finds its job no longer active and its result is dropped (`complete` of a
 *   job that is not active changes nothing).
 */
import PgBoss from 'pg-boss';
import pg from 'pg';
import { hostname } from 'node:os';
import { keyId, parsePayload, type Handler, type JobEngine, type JobKind, type KindStats, type SendOptions, type SqlExecutor } from './engine.js';

export interface PgBossEngineOptions {
  connectionString: string;
  /** Schema of pg-boss's tables (default "pgboss", env MOODLENS_JOB_SCHEMA). */
  schema?: string;
  /** How often an idle worker asks for jobs (s, ≥ 0.5; default 1). */
  pollingIntervalSeconds?: number;
  /** pg-boss maintenance (expiry, archiving) interval (s; default 10). */
  maintenanceIntervalSeconds?: number;
  /** Heartbeat period of a running job (ms; default 5000, env MOODLENS_JOB_BEAT_MS) and the silence after which it counts as stalled (default 20000, env MOODLENS_JOB_STALL_MS). */
  beatMs?: number;
  stallMs?: number;
  /** Connections of pg-boss's own pool (default 4). */
  max?: number;
}

const dead = (name: string) => `${name}--dead`;

export class PgBossEngine implements JobEngine {
  readonly engine = 'pg-boss' as const;
  readonly boss: PgBoss;
  private created = new Map<string, Promise<void>>();
  private loops = new Map<string, Promise<void>>();
  private wakers = new Map<string, Array<() => void>>();
  /** Ids of the jobs this process is running (the heartbeat beats for them). */
  private running = new Set<string>();
  private kinds = new Map<string, JobKind<unknown>>();
  private beatTimer: NodeJS.Timeout | null = null;
  private started: Promise<void> | null = null;
  private stopped = false;
  private readonly beatMs: number;
  private readonly stallMs: number;
  private readonly schema: string;
  /** Who runs a job, in its heartbeat row (host:pid): what an operator, or a test, looks up to find the process holding a job. */
  readonly owner = `${hostname()}:${process.pid}`;

  constructor(private opts: PgBossEngineOptions) {
    this.schema = opts.schema ?? process.env.MOODLENS_JOB_SCHEMA ?? 'pgboss';
    const env = (name: string) => { const v = Number(process.env[name]); return Number.isFinite(v) && v > 0 ? v : undefined; };
    this.beatMs = opts.beatMs ?? env('MOODLENS_JOB_BEAT_MS') ?? 5000;
    this.stallMs = opts.stallMs ?? env('MOODLENS_JOB_STALL_MS') ?? 20_000;
    this.boss = new PgBoss({
      connectionString: opts.connectionString, schema: this.schema, max: opts.max ?? 4,
      maintenanceIntervalSeconds: opts.maintenanceIntervalSeconds ?? 10, application_name: 'moodlens-jobs',
    });
    this.boss.on('error', (e) => { if (!this.stopped) console.error(`job engine: ${e.message}`); });
  }

  /**
   * Start pg-boss (creates or migrates its schema) and the heartbeat table; idempotent. Processes
   * starting together on a new database take turns (a session advisory lock per schema): pg-boss's
   * own install races on its `create schema` and types ("duplicate key value violates unique
   * constraint pg_type_typname_nsp_index" for the second of two workers started at once).
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      const lock = new pg.Client({ connectionString: this.opts.connectionString, application_name: 'moodlens-jobs-install' });
      await lock.connect();
      try {
        await lock.query('select pg_advisory_lock(hashtext($1))', [`moodlens-jobs-install:${this.schema}`]);
        await this.boss.start();
        await this.sql(`create table if not exists ${this.schema}.moodlens_job_beat (id uuid primary key, name text not null, beat_ms bigint not null, owner text)`);
        await this.sql(`alter table ${this.schema}.moodlens_job_beat add column if not exists owner text`);
      } finally { await lock.end().catch(() => {}); } // ending the session releases its lock
      this.beatTimer = setInterval(() => { void this.beatAndSweep().catch((e) => { if (!this.stopped) console.error(`job engine: heartbeat: ${e.message}`); }); }, this.beatMs);
      this.beatTimer.unref();
    })();
    return this.started;
  }

  private async sql(text: string, values: unknown[] = []): Promise<{ rows: any[] }> {
    return this.boss.getDb().executeSql(text, values);
  }

  /** Create the kind's queue (and its dead-letter queue) once. */
  private ensure(kind: JobKind<unknown>): Promise<void> {
    this.kinds.set(kind.name, kind);
    let p = this.created.get(kind.name);
    if (!p) {
      p = (async () => {
        await this.start();
        const retention = { retentionDays: 14 };
        await this.createOrUpdate({ name: dead(kind.name), policy: 'standard', ...retention });
        await this.createOrUpdate({
          name: kind.name, policy: 'standard', retryLimit: kind.retryLimit, retryDelay: kind.retryDelaySeconds ?? 5,
          expireInSeconds: kind.expireInSeconds, deadLetter: dead(kind.name), ...retention,
        });
      })();
      p.catch(() => this.created.delete(kind.name));
      this.created.set(kind.name, p);
    }
    return p;
  }

  /** Create a queue, or update its options; instances starting together race here (a deadlock or a duplicate is retried). */
  private async createOrUpdate(q: PgBoss.Queue & { name: string }): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (await this.boss.getQueue(q.name)) await this.boss.updateQueue(q.name, q);
        else await this.boss.createQueue(q.name, q);
        return;
      } catch (e) {
        if (attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
      }
    }
  }

  async send<P>(kind: JobKind<P>, payload: P, opts: SendOptions = {}): Promise<string | null> {
    const data = parsePayload(kind, payload) as object;
    await this.ensure(kind as JobKind<unknown>);
    const o: PgBoss.SendOptions = {};
    if (opts.key !== undefined) o.id = keyId(kind.name, opts.key);
    if (opts.tx) o.db = opts.tx as PgBoss.Db;
    if (opts.startAfterSeconds) o.startAfter = opts.startAfterSeconds;
    const id = await this.boss.send(kind.name, data, o);
    if (id && !opts.tx) this.wake(kind.name); // in a transaction: visible after the caller's commit, found at the next poll
    return id;
  }

  /** Several jobs in a caller's transaction, one multi-row insert (pg-boss `insert`: the queues' own retry and expiry terms apply). */
  async sendMany(jobs: Array<{ kind: JobKind<unknown>; payload: unknown; key?: string }>, tx: SqlExecutor): Promise<void> {
    if (jobs.length === 0) return;
    for (const j of jobs) await this.ensure(j.kind);
    await this.boss.insert(jobs.map((j) => ({
      name: j.kind.name, data: parsePayload(j.kind, j.payload) as object, ...(j.key !== undefined ? { id: keyId(j.kind.name, j.key) } : {}),
    })), { db: tx as PgBoss.Db } as never);
  }

  /**
   * Take jobs of a kind: one fetch loop per kind and process, up to `concurrency` runs at a time.
   * While jobs are waiting it fetches again as soon as a slot frees (pg-boss's own `work` sleeps
   * its polling interval after every batch: 2 jobs/s per worker here); when the queue is empty it
   * sleeps the polling interval, or less when this process sends a job of the kind. A run's result
   * is stored with pg-boss's `complete` (its output), a thrown error with `fail` (retries, then
   * the dead-letter queue).
   */
  async work<P, R>(kind: JobKind<P>, handler: Handler<P, R>): Promise<void> {
    await this.ensure(kind as JobKind<unknown>);
    if (this.loops.has(kind.name)) throw new Error(`job kind ${kind.name}: already worked by this process`);
    const limit = Math.max(1, kind.concurrency ?? 1);
    const inflight = new Set<Promise<void>>();
    const loop = (async () => {
      while (!this.stopped) {
        // Refill in batches: with room for several runs, fetch again once half the slots are free
        // (one query for many short jobs), not after every run.
        if (inflight.size >= limit || (limit >= 4 && inflight.size > limit / 2)) { await Promise.race(inflight); continue; }
        const jobs = await this.boss.fetch<object>(kind.name, { batchSize: limit - inflight.size, includeMetadata: true }).catch((e) => {
          if (!this.stopped) console.error(`job engine: fetch ${kind.name}: ${(e as Error).message}`);
          return [];
        });
        if (jobs.length === 0) { await this.nap(kind.name); continue; }
        for (const job of jobs) {
          const run = this.runOne(kind, handler, job).finally(() => inflight.delete(run));
          inflight.add(run);
        }
        // A kind of many short jobs whose fetch found only a few (several processes keep its queue
        // short): gather for a moment before fetching again, rather than one query per job.
        if (limit >= 4 && jobs.length < limit / 4) await new Promise((r) => setTimeout(r, 25));
      }
      await Promise.all(inflight);
    })();
    this.loops.set(kind.name, loop);
  }

  /** Sleep the polling interval, or until this process sends a job of the kind. */
  private nap(name: string): Promise<void> {
    return new Promise((resolve) => {
      const list = this.wakers.get(name) ?? [];
      const done = () => {
        clearTimeout(t);
        const i = list.indexOf(done);
        if (i >= 0) list.splice(i, 1); // a nap that ended by its timer leaves no waker behind
        resolve();
      };
      const t = setTimeout(done, (this.opts.pollingIntervalSeconds ?? 1) * 1000);
      list.push(done);
      this.wakers.set(name, list);
    });
  }

  nudge(name: string): void { this.wake(name); }

  private wake(name: string): void {
    const list = this.wakers.get(name);
    this.wakers.delete(name);
    for (const w of [...(list ?? [])]) w();
  }

  private async runOne<P, R>(kind: JobKind<P>, handler: Handler<P, R>, job: PgBoss.JobWithMetadata<object>): Promise<void> {
    const beats = kind.heartbeat !== false;
    try {
      if (beats) await this.sql(`insert into ${this.schema}.moodlens_job_beat (id, name, beat_ms, owner) values ($1, $2, $3, $4) on conflict (id) do update set beat_ms = excluded.beat_ms, owner = excluded.owner`, [job.id, kind.name, Date.now(), this.owner]);
      const payload = parsePayload(kind, job.data);
      const run = handler(payload, { id: job.id, retryCount: job.retryCount, beat: () => (beats ? this.beat(job.id) : Promise.resolve()) });
      if (beats) this.running.add(job.id);
      let output: unknown;
      try { output = await run; } catch (e) {
        const err = e instanceof Error ? { message: e.message, name: e.name } : { message: String(e) };
        if (!this.stopped) console.error(`job ${kind.name} ${job.id} failed (run ${job.retryCount + 1} of ${kind.retryLimit + 1}): ${err.message}`);
        await this.boss.fail(kind.name, job.id, err);
        return;
      }
      if (output === undefined && !beats) await this.completeSoon(kind.name, job.id); // no output to keep: completed together with its neighbours
      else await this.boss.complete(kind.name, job.id, (output ?? {}) as object);
    } catch (e) {
      if (!this.stopped) console.error(`job engine: ${kind.name} ${job.id}: ${(e as Error).message}`);
    } finally {
      if (beats) {
        this.running.delete(job.id);
        await this.sql(`delete from ${this.schema}.moodlens_job_beat where id = $1`, [job.id]).catch(() => {});
      }
    }
  }

  /** Jobs without output finished within 20 ms of each other, per kind: completed in one statement. */
  private completing = new Map<string, { ids: string[]; done: Promise<void> }>();

  private completeSoon(name: string, id: string): Promise<void> {
    let c = this.completing.get(name);
    if (!c) {
      const ids: string[] = [];
      const done = new Promise<void>((r) => setTimeout(r, 20)).then(async () => {
        this.completing.delete(name);
        await this.boss.complete(name, ids);
      });
      c = { ids, done };
      this.completing.set(name, c);
    }
    c.ids.push(id);
    return c.done;
  }

  private async beat(id: string): Promise<void> {
    await this.sql(`update ${this.schema}.moodlens_job_beat set beat_ms = $2 where id = $1`, [id, Date.now()]);
  }

  /** Beat for every run of this process; fail active jobs (anyone's) whose beat stopped. */
  private async beatAndSweep(): Promise<void> {
    if (this.stopped) return;
    const ids = [...this.running];
    if (ids.length) await this.sql(`update ${this.schema}.moodlens_job_beat set beat_ms = $2 where id = any($1::uuid[])`, [ids, Date.now()]);
    const { rows } = await this.sql(
      `select b.id, b.name from ${this.schema}.moodlens_job_beat b join ${this.schema}.job j on j.name = b.name and j.id = b.id
       where b.beat_ms < $1 and j.state = 'active'`, [Date.now() - this.stallMs]);
    for (const r of rows as Array<{ id: string; name: string }>) {
      if (this.running.has(r.id)) continue;
      await this.boss.fail(r.name, r.id, { reason: 'stalled: no heartbeat', stalledMs: this.stallMs });
      await this.sql(`delete from ${this.schema}.moodlens_job_beat where id = $1`, [r.id]);
    }
    await this.sql(`delete from ${this.schema}.moodlens_job_beat b where b.beat_ms < $1 and not exists (select 1 from ${this.schema}.job j where j.id = b.id and j.state = 'active')`, [Date.now() - this.stallMs]);
  }

  async retry(kind: JobKind<unknown>, id: string): Promise<void> { await this.boss.retry(kind.name, id); }

  async schedule(kind: JobKind<Record<string, never>>, cron: string): Promise<void> {
    await this.ensure(kind as JobKind<unknown>);
    await this.boss.schedule(kind.name, cron, {}, { tz: 'UTC' });
  }

  async result(kind: JobKind<unknown>, id: string) {
    const j = await this.boss.getJobById(kind.name, id, { includeArchive: true });
    if (!j) return { state: 'failed' as const, output: { message: 'job not found' } };
    if (j.state === 'completed') return { state: 'completed' as const, output: j.output };
    if (j.state === 'failed' || j.state === 'cancelled') return { state: 'failed' as const, output: j.output };
    if (j.state === 'active') return { state: 'active' as const };
    return { state: 'waiting' as const };
  }

  async stats(): Promise<KindStats[]> {
    const { rows } = await this.sql(
      `select name, state, count(*)::int as n, extract(epoch from now() - min(created_on)) * 1000 as oldest
       from ${this.schema}.job where name not like '\\_\\_%' group by name, state`);
    const out = new Map<string, KindStats>();
    const of = (name: string) => {
      const kind = name.endsWith('--dead') ? name.slice(0, -6) : name;
      let s = out.get(kind);
      if (!s) { s = { kind, waiting: 0, active: 0, failed: 0, completed: 0, oldestWaitingMs: null }; out.set(kind, s); }
      return s;
    };
    for (const k of this.kinds.keys()) of(k);
    for (const r of rows as Array<{ name: string; state: string; n: number; oldest: number }>) {
      const s = of(r.name);
      // A job failed for good is copied into its kind's dead-letter queue and stays failed in its own
      // queue until archived: count the dead-letter copies only, so it is counted once.
      if (r.name.endsWith('--dead')) { if (r.state !== 'completed') s.failed += r.n; continue; }
      if (r.state === 'created' || r.state === 'retry') { s.waiting += r.n; s.oldestWaitingMs = Math.max(s.oldestWaitingMs ?? 0, Math.round(Number(r.oldest))); }
      else if (r.state === 'active') s.active += r.n;
      else if (r.state === 'completed') s.completed += r.n;
    }
    return [...out.values()].sort((a, b) => a.kind.localeCompare(b.kind));
  }

  async idle(): Promise<void> {
    for (;;) {
      // Kinds this process takes (a kind it only sends, or leaves to others, is not its work to wait for).
      const busy = this.running.size > 0 || (await this.stats()).some((s) => this.loops.has(s.kind) && (s.waiting > 0 || s.active > 0));
      if (!busy) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.beatTimer) clearInterval(this.beatTimer);
    for (const name of [...this.wakers.keys()]) this.wake(name);
    await Promise.all(this.loops.values());
    if (this.started) await this.boss.stop({ graceful: true, wait: true, timeout: 30_000 }).catch(() => {});
  }
}
