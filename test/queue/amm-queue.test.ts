/**
 * `moodlens experiment amm --queue postgres://…` with two `moodlens worker --kinds amm-row`
 * processes gives the local table with the same seeds (every metric and every test prediction
 * equal), and a sender killed after some rows finished, started again, sends only the rest. A
 * worker refuses a source that changed after its rows were enqueued.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { synthesizeStudy } from '../../src/synth/index.js';
import { run } from '../../src/cli/main.js';
import { seqRowHandler, seqRowJob, sourceHash, sourceText } from '../../src/amm/experiment-queue.js';
import { PG_ADMIN_URL, PG_AVAILABLE } from '../server/helpers.js';

const schema = `pgboss_a${process.pid}`;
const env = { ...process.env, MOODLENS_JOB_SCHEMA: schema, MOODLENS_JOB_BEAT_MS: '300', MOODLENS_JOB_STALL_MS: '1500', MOODLENS_QUIET: '1' };
const children: ChildProcess[] = [];

function cli(args: string[]): { child: ChildProcess; out: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exit = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  return { child, out: () => out, exit };
}

describe.skipIf(!PG_AVAILABLE)('AMM experiment rows on the job queue', () => {
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect(); await c.query(`drop schema if exists ${schema} cascade`); await c.end();
  });

  it('two workers give the local table, and a restarted sender sends only the rows it has no run of', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aq-'));
    const common = ['experiment', 'amm', '--planted', '--arms', 'stl-speech,mtl-all,no-ie', '--seeds', '1,2', '--epochs', '6', '--init-scale', '0.3', '--hidden', '8', '--bootstrap', '50'];
    process.env.MOODLENS_QUIET = '1';
    expect(await run([...common, '--out', join(dir, 'local')])).toBe(0);

    const a = cli(['worker', '--queue', PG_ADMIN_URL, '--kinds', 'amm-row']);
    const b = cli(['worker', '--queue', PG_ADMIN_URL, '--kinds', 'amm-row']);
    const queued = [...common, '--queue', PG_ADMIN_URL, '--out', join(dir, 'queued')];
    // The first sender is killed once a run has come back; the second finds it on disk.
    const first = cli(queued);
    const runs = join(dir, 'queued', 'amm-runs');
    const t0 = Date.now();
    while (!existsSync(runs) || readdirSync(runs).length === 0) {
      if (Date.now() - t0 > 60_000) throw new Error(`no run came back: ${first.out()} ${a.out()} ${b.out()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    first.child.kill('SIGKILL');
    await first.exit;
    const mtimes = (names: string[]) => names.map((n) => statSync(join(runs, n)).mtimeMs);
    const keptNames = readdirSync(runs);
    const keptTimes = mtimes(keptNames);
    const kept = keptNames.length;
    const second = cli(queued);
    expect(await second.exit, second.out()).toBe(0);
    expect(readdirSync(runs)).toHaveLength(6);
    expect(kept).toBeGreaterThan(0);
    // The runs on disk were taken as they were, not gathered and written again.
    expect(mtimes(keptNames)).toEqual(keptTimes);
    // Both workers trained rows: the grid was shared.
    expect(a.out()).toMatch(/amm-row .*: training/);
    expect(b.out()).toMatch(/amm-row .*: training/);
    // Every metric of every arm and task, and every test prediction, equal to the local run's.
    expect(readFileSync(join(dir, 'queued', 'amm.csv'), 'utf8')).toEqual(readFileSync(join(dir, 'local', 'amm.csv'), 'utf8'));
    const preds = (d: string) => JSON.parse(readFileSync(join(dir, d, 'amm.predictions.json'), 'utf8'));
    expect(preds('queued')).toEqual(preds('local'));
    // The table is not a degenerate one (all one class): the runs learnt something different per arm.
    const local = preds('local') as { arms: Record<string, Record<string, number[]>> };
    expect(new Set(Object.values(local.arms).flatMap((s) => Object.values(s).map((p) => p.join('')))).size).toBeGreaterThan(1);
  }, 120_000);

  it('a worker refuses a source that changed after its rows were enqueued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aq-'));
    const study = join(dir, 'study');
    await synthesizeStudy({ out: study, participants: 4, days: 3, seed: 4 });
    const source = sourceText({ kind: 'study', path: study, pool: 5 });
    const hash = sourceHash(source);
    appendFileSync(join(study, 'study.json'), '\n');
    const handler = seqRowHandler({ quiet: true });
    const arm = { id: 'mtl-all', group: 'STL vs MTL', label: 'MTL', system: 'amm' as const, modalities: ['activity'], tasks: ['depressed'], options: {} };
    await expect(handler({ source, sourceHash: hash, arm, seed: 1, train: {}, model: {}, testRows: [0] })).rejects.toThrow(/data source changed after the experiment was enqueued/);
    // The payload is strict: an unknown key is refused when sent and when taken.
    expect(seqRowJob.payload.safeParse({ source, sourceHash: hash, arm, seed: 1, train: {}, model: {}, testRows: [0], extra: 1 }).success).toBe(false);
  });
});
