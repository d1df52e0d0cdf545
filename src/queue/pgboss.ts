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
import { createHash } from 'node:crypto';
import { parsePayload, type Handler, type JobEngine, type JobKind, type KindStats, type SendOptions } from './engine.js';

export interface PgBossEngineOptions {
  connectionString: string;
  /** Schema of pg-boss's tables (default "pgboss"). */
  schema?: string;
  /** How often an idle worker asks for jobs (s, ≥ 0.5; default 1). */
  pollingIntervalSeconds?: number;
  /** pg-boss maintenance (expiry, archiving) interval (s; default 10). */
  maintenanceIntervalSeconds?: number;
  /** Heartbeat period of a running job (ms; default 5000) and the silence after which it counts as stalled (default 20000). */
  beatMs?: number;
  stallMs?: number;
  /** Connections of pg-boss's own pool (default 4). */
  max?: number;
}

/** A UUID made from a name (SHA-1, version 5 layout): the same kind and key give the same job id. */
export function keyId(kind: string, key: string): string {
  const h = createHash('sha1').update('moodlens-job\n').update(kind).update('\n').update(key).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const dead = (name: string) => `${name}--dead`;

export class PgBossEngine implements JobEngine {
  readonly engine = 'pg-boss' as const;
  readonly boss: PgBoss;
  private created = new Map<string, Promise<void>>();
  private running = new Map<string, { queue: string; run: Promise<unknown> }>();
  private kinds = new Map<string, JobKind<unknown>>();
  private beatTimer: NodeJS.Timeout | null = null;
  private started: Promise<void> | null = null;
  private stopped = false;
  private readonly beatMs: number;
  private readonly stallMs: number;
  private readonly schema: string;

  constructor(private opts: PgBossEngineOptions) {
    this.schema = opts.schema ?? 'pgboss';
    this.beatMs = opts.beatMs ?? 5000;
    this.stallMs = opts.stallMs ?? 20_000;
    this.boss = new PgBoss({
      connectionString: opts.connectionString, schema: this.schema, max: opts.max ?? 4,
      maintenanceIntervalSeconds: opts.maintenanceIntervalSeconds ?? 10, application_name: 'moodlens-jobs',
    });
    this.boss.on('error', (e) => { if (!this.stopped) console.error(`job engine: ${e.message}`); });
  }

  /** Start pg-boss (creates or migrates its schema) and the heartbeat table; idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.boss.start();
      await this.sql(`create table if not exists ${this.schema}.moodlens_job_beat (id uuid primary key, name text not null, beat_ms bigint not null)`);
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
        if (!(await this.boss.getQueue(dead(kind.name)))) await this.boss.createQueue(dead(kind.name), { name: dead(kind.name), policy: 'standard', ...retention });
        const q = {
          name: kind.name, policy: 'standard' as const, retryLimit: kind.retryLimit, retryDelay: kind.retryDelaySeconds ?? 5,
          expireInSeconds: kind.expireInSeconds, deadLetter: dead(kind.name), ...retention,
        };
        if (await this.boss.getQueue(kind.name)) await this.boss.updateQueue(kind.name, q);
        else await this.boss.createQueue(kind.name, q).catch(async (e) => { if (!(await this.boss.getQueue(kind.name))) throw e; }); // another instance created it meanwhile
      })();
      p.catch(() => this.created.delete(kind.name));
      this.created.set(kind.name, p);
    }
    return p;
  }

  async send<P>(kind: JobKind<P>, payload: P, opts: SendOptions = {}): Promise<string | null> {
    const data = parsePayload(kind, payload) as object;
    await this.ensure(kind as JobKind<unknown>);
    const o: PgBoss.SendOptions = {};
    if (opts.key !== undefined) o.id = keyId(kind.name, opts.key);
    if (opts.tx) o.db = opts.tx as PgBoss.Db;
    if (opts.startAfterSeconds) o.startAfter = opts.startAfterSeconds;
    return this.boss.send(kind.name, data, o);
  }

  async work<P, R>(kind: JobKind<P>, handler: Handler<P, R>): Promise<void> {
    await this.ensure(kind as JobKind<unknown>);
    const n = Math.max(1, kind.concurrency ?? 1);
    for (let i = 0; i < n; i++) {
      await this.boss.work<object>(kind.name, { batchSize: 1, pollingIntervalSeconds: this.opts.pollingIntervalSeconds ?? 1, includeMetadata: true }, async ([job]) => {
        const payload = parsePayload(kind, job.data);
        await this.sql(`insert into ${this.schema}.moodlens_job_beat (id, name, beat_ms) values ($1, $2, $3) on conflict (id) do update set beat_ms = excluded.beat_ms`, [job.id, kind.name, Date.now()]);
        const run = handler(payload, { id: job.id, retryCount: (job as PgBoss.JobWithMetadata).retryCount, beat: () => this.beat(job.id) });
        this.running.set(job.id, { queue: kind.name, run });
        try { return await run; } finally {
          this.running.delete(job.id);
          await this.sql(`delete from ${this.schema}.moodlens_job_beat where id = $1`, [job.id]).catch(() => {});
        }
      });
    }
  }

  private async beat(id: string): Promise<void> {
    await this.sql(`update ${this.schema}.moodlens_job_beat set beat_ms = $2 where id = $1`, [id, Date.now()]);
  }

  /** Beat for every run of this process; fail active jobs (anyone's) whose beat stopped. */
  private async beatAndSweep(): Promise<void> {
    if (this.stopped) return;
    const ids = [...this.running.keys()];
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
      if (r.name.endsWith('--dead')) { if (r.state !== 'completed') s.failed += r.n; continue; }
      if (r.state === 'created' || r.state === 'retry') { s.waiting += r.n; s.oldestWaitingMs = Math.max(s.oldestWaitingMs ?? 0, Math.round(Number(r.oldest))); }
      else if (r.state === 'active') s.active += r.n;
      else if (r.state === 'completed') s.completed += r.n;
      else if (r.state === 'failed') s.failed += r.n;
    }
    return [...out.values()].sort((a, b) => a.kind.localeCompare(b.kind));
  }

  async idle(): Promise<void> {
    for (;;) {
      const busy = this.running.size > 0 || (await this.stats()).some((s) => this.kinds.has(s.kind) && (s.waiting > 0 || s.active > 0));
      if (!busy) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.beatTimer) clearInterval(this.beatTimer);
    if (this.started) await this.boss.stop({ graceful: true, wait: true, timeout: 30_000 }).catch(() => {});
  }
}
