/**
 * `moodlens experiment table2 --queue postgres://…` with two `moodlens worker` processes gives the
 * same table as the local run with the same seeds (every CCC equal), and killing a worker (SIGKILL)
 * in the middle of a row only delays the table: its row is retried on the other worker. A study
 * changed after its rows were enqueued is refused by the worker.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { synthesizeStudy } from '../../src/synth/index.js';
import { run } from '../../src/cli/main.js';
import { PgBossEngine } from '../../src/queue/pgboss.js';
import { experimentRowHandler, experimentRowJob, studyHash } from '../../src/train/experiment-queue.js';
import { PG_ADMIN_URL, PG_AVAILABLE } from '../server/helpers.js';

const schema = `pgboss_x${process.pid}`;
const env = { ...process.env, MOODLENS_JOB_SCHEMA: schema, MOODLENS_JOB_BEAT_MS: '300', MOODLENS_JOB_STALL_MS: '1500', MOODLENS_QUIET: '1' };
const children: ChildProcess[] = [];

function worker(): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--queue', PG_ADMIN_URL], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  return { child, out: () => out };
}

const csvRows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').filter((l) => !l.includes('baseline-'));

describe.skipIf(!PG_AVAILABLE)('experiment rows on the job queue', () => {
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect(); await c.query(`drop schema if exists ${schema} cascade`); await c.end();
  });

  it('two workers give the local table, and a worker killed mid-row only delays it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xq-'));
    const study = join(dir, 'study');
    await synthesizeStudy({ out: study, participants: 6, days: 5, seed: 3 });
    const common = ['--study', study, '--rows', 'zcm_none,zcm_macro-micro', '--seeds', '2', '--epochs', '3', '--early-stop', '3'];
    process.env.MOODLENS_QUIET = '1';
    expect(await run(['experiment', 'table2', ...common, '--workers', '1', '--out', join(dir, 'local')])).toBe(0);

    const a = worker();
    await new Promise((r) => setTimeout(r, 1500));
    const queued = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'experiment', 'table2', ...common, '--queue', PG_ADMIN_URL, '--out', join(dir, 'queued')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(queued);
    let qout = '';
    queued.stdout!.on('data', (d) => { qout += d; });
    queued.stderr!.on('data', (d) => { qout += d; });
    // Kill worker A as soon as it has started a row; B starts afterwards and must take that row over.
    const t0 = Date.now();
    while (!/training/.test(a.out())) {
      if (Date.now() - t0 > 60_000) throw new Error(`worker A took no row: ${a.out()} ${qout}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    a.child.kill('SIGKILL');
    const b = worker();
    const code = await new Promise<number>((resolve) => queued.on('exit', (c) => resolve(c ?? 1)));
    expect(code, qout).toBe(0);
    expect(b.out()).toMatch(/training/);
    const local = csvRows(join(dir, 'local', 'table.csv'));
    const viaQueue = csvRows(join(dir, 'queued', 'table.csv'));
    // Every CCC equal (the per-run seconds column differs: drop it).
    const strip = (rows: string[]) => rows.map((l) => l.split(',').slice(0, -1).join(',')); // the last column is train_seconds
    expect(strip(viaQueue)).toEqual(strip(local));
  }, 300_000);

  it('a worker refuses a study that changed after its rows were enqueued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xq-'));
    const study = join(dir, 'study');
    await synthesizeStudy({ out: study, participants: 4, days: 3, seed: 4 });
    const hash = studyHash(study);
    appendFileSync(join(study, 'study.json'), '\n');
    const handler = experimentRowHandler({ quiet: true });
    await expect(handler({ study, studyHash: hash, key: 'zcm_none|1', label: 'zcm_none', config: {} })).rejects.toThrow(/study changed after the experiment was enqueued/);
    expect(experimentRowJob.payload.safeParse({ study, studyHash: 'x', key: 'k', label: 'l', config: {} }).success).toBe(false);
    void PgBossEngine;
  });
});
