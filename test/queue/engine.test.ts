import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { z } from 'zod';
import pg from 'pg';
import { defineJob, LocalEngine, type JobEngine } from '../../src/queue/engine.js';
import { PgBossEngine } from '../../src/queue/pgboss.js';
import { keyId } from '../../src/queue/engine.js';
import { PG_ADMIN_URL, PG_AVAILABLE } from '../server/helpers.js';

const add = defineJob({ name: 'add', payload: z.object({ a: z.number(), b: z.number() }).strict(), expireInSeconds: 30, retryLimit: 2, retryDelaySeconds: 0, concurrency: 2 });
const flaky = defineJob({ name: 'flaky', payload: z.object({ failTimes: z.number() }), expireInSeconds: 30, retryLimit: 2, retryDelaySeconds: 0 });

async function until(cond: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What both engines must do the same way. */
async function common(engine: JobEngine): Promise<void> {
  const seen: number[] = [];
  await engine.work(add, async (p) => { seen.push(p.a + p.b); return { sum: p.a + p.b }; });
  const id = await engine.send(add, { a: 1, b: 2 });
  expect(id).toBeTruthy();
  // the same key twice: one job
  const k1 = await engine.send(add, { a: 10, b: 10 }, { key: 'r1' });
  const k2 = await engine.send(add, { a: 10, b: 10 }, { key: 'r1' });
  expect(k1).toBeTruthy();
  expect(k2).toBeNull();
  await until(async () => (await engine.result(add, k1!)).state === 'completed');
  await until(async () => (await engine.result(add, id!)).state === 'completed');
  expect((await engine.result(add, id!)).output).toEqual({ sum: 3 });
  expect(seen.sort((a, b) => a - b)).toEqual([3, 20]);
  // a bad payload is refused at the sender, naming the field
  await expect(engine.send(add, { a: 1, b: 'x' } as never)).rejects.toThrow(/job add: payload\.b/);
  // a run that throws is retried by the engine, up to the kind's limit
  const tries = new Map<number, number>();
  await engine.work(flaky, async (p, run) => {
    tries.set(p.failTimes, run.retryCount + 1);
    if (run.retryCount < p.failTimes) throw new Error(`fail ${run.retryCount}`);
  });
  const ok = await engine.send(flaky, { failTimes: 1 });
  const bad = await engine.send(flaky, { failTimes: 5 });
  await until(async () => (await engine.result(flaky, ok!)).state === 'completed');
  await until(async () => (await engine.result(flaky, bad!)).state === 'failed');
  expect(tries.get(1)).toBe(2);
  expect(tries.get(5)).toBe(3); // first run + 2 retries, then failed for good
  const stats = await engine.stats();
  const f = stats.find((s) => s.kind === 'flaky')!;
  expect(f.failed).toBeGreaterThanOrEqual(1);
}

describe('local job engine', () => {
  it('runs, deduplicates by key, retries, fails for good and reports stats', async () => {
    const engine = new LocalEngine();
    await common(engine);
    await engine.idle();
    await engine.stop();
  });

  it('runs a kind `concurrency` at a time', async () => {
    const engine = new LocalEngine();
    let now = 0, peak = 0;
    const slow = defineJob({ name: 'slow', payload: z.object({}), expireInSeconds: 30, retryLimit: 0, concurrency: 3 });
    await engine.work(slow, async () => { now++; peak = Math.max(peak, now); await new Promise((r) => setTimeout(r, 30)); now--; });
    for (let i = 0; i < 10; i++) await engine.send(slow, {});
    await engine.idle();
    expect(peak).toBe(3);
    await engine.stop();
  });
});

describe.skipIf(!PG_AVAILABLE)('pg-boss job engine (PostgreSQL)', () => {
  const schema = `pgboss_t${process.pid}`;
  const engines: PgBossEngine[] = [];
  const make = () => { const e = new PgBossEngine({ connectionString: PG_ADMIN_URL, schema, pollingIntervalSeconds: 0.5, beatMs: 500, stallMs: 2000, maintenanceIntervalSeconds: 1 }); engines.push(e); return e; };
  afterAll(async () => {
    for (const e of engines) await e.stop();
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect(); await c.query(`drop schema if exists ${schema} cascade`); await c.end();
  });

  it('does what the local engine does', async () => {
    await common(make());
  }, 60_000);

  it('processes started at once on a new database all start (pg-boss\'s install is taken in turns)', async () => {
    // Without the turns, the second of two or three workers started together failed in pg-boss's
    // install ("duplicate key value violates unique constraint pg_type_typname_nsp_index").
    for (let round = 0; round < 3; round++) {
      const fresh = `${schema}_new${round}`;
      const three = [0, 1, 2].map(() => new PgBossEngine({ connectionString: PG_ADMIN_URL, schema: fresh, maintenanceIntervalSeconds: 1 }));
      engines.push(...three);
      const started = await Promise.allSettled(three.map((e) => e.start()));
      expect(started.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual(['started', 'started', 'started']);
      for (const e of three) await e.stop();
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect(); await c.query(`drop schema if exists ${fresh} cascade`); await c.end();
    }
  }, 60_000);

  it('enqueues in the caller\'s transaction: a rolled-back write leaves no job, a committed one has its job', async () => {
    const engine = make();
    await engine.start();
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    const tx = { executeSql: (text: string, values: unknown[]) => c.query(text, values as unknown[]) };
    await c.query('begin');
    const gone = await engine.send(add, { a: 5, b: 5 }, { tx, key: 'rolled-back' });
    await c.query('rollback');
    await c.query('begin');
    const kept = await engine.send(add, { a: 6, b: 6 }, { tx, key: 'committed' });
    await c.query('commit');
    await c.end();
    expect(gone).toBe(keyId('add', 'rolled-back'));
    expect(await engine.boss.getJobById('add', gone!, { includeArchive: true })).toBeNull();
    expect(await engine.boss.getJobById('add', kept!, { includeArchive: true })).not.toBeNull();
  }, 60_000);

  it('spreads jobs over instances, each job run once', async () => {
    const a = make(), b = make();
    const ran = new Map<string, number>();
    const count = defineJob({ name: 'count', payload: z.object({ i: z.number() }), expireInSeconds: 30, retryLimit: 0, concurrency: 2 });
    const by = { a: 0, b: 0 };
    await a.work(count, async (p) => { ran.set(String(p.i), (ran.get(String(p.i)) ?? 0) + 1); by.a++; await new Promise((r) => setTimeout(r, 20)); });
    await b.work(count, async (p) => { ran.set(String(p.i), (ran.get(String(p.i)) ?? 0) + 1); by.b++; await new Promise((r) => setTimeout(r, 20)); });
    for (let i = 0; i < 60; i++) await (i % 2 ? a : b).send(count, { i }, { key: `c${i}` });
    await until(() => ran.size === 60);
    await a.idle();
    expect([...ran.values()].every((n) => n === 1)).toBe(true);
    expect(by.a).toBeGreaterThan(0);
    expect(by.b).toBeGreaterThan(0);
  }, 60_000);

  it('a job held by a process killed with SIGKILL is retried by another within seconds (heartbeat), not after its 10-minute expiry', async () => {
    const engine = make();
    await engine.start();
    const hang = defineJob({ name: 'hang', payload: z.object({ n: z.number() }), expireInSeconds: 600, retryLimit: 2, retryDelaySeconds: 0 });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/queue/hang-worker.ts', PG_ADMIN_URL, schema], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const id = await engine.send(hang, { n: 7 });
    await until(() => out.includes('took 7'), 30_000);
    child.kill('SIGKILL');
    const t0 = Date.now();
    let took = 0;
    await engine.work(hang, async (p, run) => { took = p.n; expect(run.retryCount).toBe(1); });
    await until(async () => (await engine.result(hang, id!)).state === 'completed', 30_000);
    expect(took).toBe(7);
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 60_000);
});
