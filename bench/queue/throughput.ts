/**
 * Job throughput of the PostgreSQL job engine (pg-boss 10 through src/queue/pgboss.ts) on this
 * machine, and the in-process engine beside it in the same run:
 *   1. send: jobs/s enqueued one at a time (each its own commit), and inside one transaction
 *      (the way a report's follow-up jobs are enqueued with the report);
 *      and as the server inserts a commit group's jobs (sendMany, one statement per 64);
 *   2. run: jobs/s taken and completed by 1 and by 2 engine instances (each `--concurrency`
 *      runs at a time, trivial handler): what the queue itself costs per job; and for kinds
 *      without heartbeat rows (the server's report follow-ups), 16 at a time.
 *
 *   npx tsx bench/queue/throughput.ts [--jobs 2000] [--concurrency 8]
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import pg from 'pg';
import { defineJob, LocalEngine, type JobEngine } from '../../src/queue/engine.js';
import { PgBossEngine } from '../../src/queue/pgboss.js';

const PG_URL = process.env.MOODLENS_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const { values: args } = parseArgs({ options: { jobs: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '8' } } });
const N = Number(args.jobs), C = Number(args.concurrency);
const schema = `pgboss_bench${process.pid}`;
let phase = 0;
/** A fresh queue per phase, so one phase's jobs never meet another's. */
const fresh = (o: { heartbeat?: boolean; concurrency?: number } = {}) => defineJob({ name: `bench-${++phase}`, payload: z.object({ i: z.number() }), expireInSeconds: 60, retryLimit: 0, concurrency: o.concurrency ?? C, heartbeat: o.heartbeat });
let kind = fresh();

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));

async function runAll(engines: JobEngine[], sender: JobEngine): Promise<number> {
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    for (const e of engines) void e.work(kind, async () => { if (++done === N) resolve(); });
  });
  const t0 = Date.now();
  const c = new pg.Client({ connectionString: PG_URL });
  if (sender.engine === 'pg-boss') {
    await c.connect(); await c.query('begin');
    const tx = { executeSql: (text: string, values: unknown[]) => c.query(text, values as unknown[]) };
    for (let i = 0; i < N; i++) await sender.send(kind, { i }, { tx });
    await c.query('commit'); await c.end();
  } else for (let i = 0; i < N; i++) await sender.send(kind, { i });
  await finished;
  return Date.now() - t0;
}

const make = () => new PgBossEngine({ connectionString: PG_URL, schema, pollingIntervalSeconds: 0.5 });
const rows: Array<[string, string]> = [];
try {
  const one = make();
  await one.start();
  let t0 = Date.now();
  const M = Math.min(N, 500);
  for (let i = 0; i < M; i++) await one.send(kind, { i });
  rows.push(['pg-boss send, one commit each', `${rate(M, Date.now() - t0)} jobs/s`]);
  await one.stop(); kind = fresh();

  const a = make();
  await a.start();
  t0 = Date.now();
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect(); await c.query('begin');
  const tx = { executeSql: (text: string, values: unknown[]) => c.query(text, values as unknown[]) };
  for (let i = 0; i < N; i++) await a.send(kind, { i }, { tx });
  await c.query('commit'); await c.end();
  rows.push(['pg-boss send, in one transaction', `${rate(N, Date.now() - t0)} jobs/s`]);
  kind = fresh();
  // The server's way for a commit group's writes (jobs/queue.ts): one multi-row insert per 64 jobs.
  t0 = Date.now();
  const c2 = new pg.Client({ connectionString: PG_URL });
  await c2.connect(); await c2.query('begin');
  const tx2 = { executeSql: (text: string, values: unknown[]) => c2.query(text, values as unknown[]) };
  for (let i = 0; i < N; i += 64) await a.sendMany!(Array.from({ length: Math.min(64, N - i) }, (_, k) => ({ kind: kind as never, payload: { i: i + k }, key: `k${i + k}` })), tx2);
  await c2.query('commit'); await c2.end();
  rows.push(['pg-boss sendMany, 64 jobs per statement, in one transaction', `${rate(N, Date.now() - t0)} jobs/s`]);
  await a.stop(); kind = fresh();

  for (const k of [1, 2]) {
    const engines = Array.from({ length: k }, make);
    const ms = await runAll(engines, engines[0]);
    rows.push([`pg-boss send + run, ${k} instance(s) × ${C}`, `${rate(N, ms)} jobs/s`]);
    kind = fresh();
    for (const e of engines) await e.stop();
  }
  // The follow-up kinds' terms: no heartbeat rows, completions batched, 16 at a time per instance.
  for (const k of [1, 2]) {
    kind = fresh({ heartbeat: false, concurrency: 16 });
    const engines = Array.from({ length: k }, make);
    const ms = await runAll(engines, engines[0]);
    rows.push([`pg-boss send + run, no heartbeat rows, ${k} instance(s) × 16`, `${rate(N, ms)} jobs/s`]);
    for (const e of engines) await e.stop();
  }
  const local = new LocalEngine();
  rows.push([`in-process engine send + run × ${C}`, `${rate(N, await runAll([local], local))} jobs/s`]);
  await local.stop();
} finally {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect(); await c.query(`drop schema if exists ${schema} cascade`); await c.end();
}
console.log(`\n| ${N} jobs, trivial handler | rate |\n|---|---|`);
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
