/**
 * Server throughput on loopback (autocannon), for SQLite and PostgreSQL:
 *   1. EMA report ingest: requests/s and p50/p99 latency at 64 concurrent clients (one device
 *      token per connection, every request a new report);
 *   2. activity-epoch ingest: epochs/s in batches (runs of 5,000 one-minute epochs, 2 channels);
 *   3. on-demand prediction: p50/p99 latency at 8 connections and at 1 (built-in baseline predictor;
 *      --model DIR a trained model folder, copied into <data-dir>/models; --model synth trains a tiny "paper" model on a synthetic
 *      study first), measured after the worker has fitted every participant's micro layer.
 * The server runs as a child process (src/server/main.ts) so it does not share an event loop
 * with autocannon. This machine has 2 cores shared with other work: figures are noisy.
 * `--instances N` (PostgreSQL): N server processes on the one database (each report's follow-up
 * job goes through pg-boss in that database, docs/scale.md); the clients are spread over them
 * and the figures summed (server CPU: all instances together).
 *
 *   npx tsx bench/server/bench.ts [--db sqlite|postgres|both] [--duration 10] [--model DIR|synth] [--only reports,activity,predict] [--instances N]
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const DAMS = ['vigorous', 'gloomy', 'concerned', 'happy', 'unpleasant', 'anxious', 'cheerful', 'depressed', 'worried'];
const ADMIN = { email: 'bench@example.org', password: 'bench-password-1' };
const PG_URL = process.env.MOODLENS_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

const { values: args } = parseArgs({ options: { db: { type: 'string', default: 'both' }, duration: { type: 'string', default: '10' }, model: { type: 'string' }, profile: { type: 'string' }, only: { type: 'string' }, instances: { type: 'string', default: '1' } } });
const instanceCount = Math.max(1, Number(args.instances));
const duration = Number(args.duration);

async function startServer(db: string, dataDir: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : []), '--import', 'tsx', 'src/server/main.ts', '--db', db, '--port', '0', '--data-dir', dataDir, '--auth-rate-limit', '1000',
    // 64 clients send as fast as they can: far above a phone's rate, so the per-participant ingest limit is raised (it still runs on every request).
    '--ingest-rate-limit', '1000000'], {
    env: { ...process.env, MOODLENS_ADMIN_EMAIL: ADMIN.email, MOODLENS_ADMIN_PASSWORD: ADMIN.password }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; const m = /listening on (http:\/\/\S+)/.exec(out); if (m) resolve(m[1]); });
    child.once('exit', (c) => reject(new Error(`server exited with ${c}`)));
  });
  return { child, base };
}

async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const r = await fetch(base + path, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body !== undefined ? JSON.stringify(body) : undefined });
  const j = await r.json();
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
  return j as any;
}

/** CPU seconds (user + system) used so far by a process, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch { return NaN; }
}

/** `--model synth`: a small synthetic study and a 2-epoch "paper" model trained on it. */
async function trainTinyModel(dir: string): Promise<string> {
  const { synthesizeStudy } = await import('../../src/synth/index.js');
  const { initNodeBackend } = await import('../../src/train/backend-node.js');
  const { loadDataset, makeSplit } = await import('../../src/train/study-node.js');
  const { presetConfig } = await import('../../src/train/presets.js');
  const { fitModel } = await import('../../src/train/fit.js');
  // Trained straight into the server's models folder (<data-dir>/models) and attached by name.
  const study = join(dir, 'synth-study'), out = join(dir, 'models', 'synth-model');
  await synthesizeStudy({ out: study, participants: 8, days: 4, seed: 2, speech: 'features' });
  await initNodeBackend();
  const ds = await loadDataset(study, 'masked');
  await fitModel(ds, makeSplit(ds, 'chronological', 1), presetConfig('paper', { train: { epochs: 2 } }), { out, quiet: true });
  return 'synth-model';
}

/** A model folder given by path: copied into the server's models folder, attached by its name. */
function copyModel(dir: string, from: string): string {
  const name = basename(resolve(from));
  cpSync(from, join(dir, 'models', name), { recursive: true });
  return name;
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => { autocannon(opts, (err, res) => (err ? reject(err) : resolve(res))); });
}

async function benchBackend(name: 'sqlite' | 'postgres'): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'moodlens-bench-'));
  let db = `sqlite:${join(dataDir, 'bench.db')}`, dropPg: (() => Promise<void>) | null = null;
  if (name === 'postgres') {
    const dbName = `moodlens_bench_${process.pid}`;
    const c = new pg.Client({ connectionString: PG_URL });
    try { await c.connect(); } catch { console.log(`postgres: not reachable at ${PG_URL} — skipped`); return; }
    await c.query(`create database ${dbName}`); await c.end();
    const u = new URL(PG_URL); u.pathname = '/' + dbName; db = u.toString();
    dropPg = async () => { const d = new pg.Client({ connectionString: PG_URL }); await d.connect(); await d.query(`drop database if exists ${dbName} with (force)`); await d.end(); };
  }
  // The first instance makes the data key in the data folder; the others read it.
  const servers = [await startServer(db, dataDir)];
  const n = name === 'postgres' ? instanceCount : 1;
  servers.push(...await Promise.all(Array.from({ length: n - 1 }, () => startServer(db, dataDir))));
  const { child, base } = servers[0];
  const cpuAll = () => servers.reduce((a, s) => a + cpuSeconds(s.child.pid!), 0);
  /** One autocannon run per instance, `connections` spread over them; 2xx, non-2xx and errors summed, latencies of the slowest. */
  const runAll = async (o: autocannon.Options & { connections: number }) => {
    const rs = await Promise.all(servers.map((sv) => run({ ...o, url: sv.base, connections: Math.max(1, Math.round(o.connections / servers.length)) })));
    const sum = (k: '2xx' | 'non2xx' | 'errors') => rs.reduce((a, r) => a + r[k], 0);
    const worst = (k: 'p50' | 'p99' | 'max') => Math.max(...rs.map((r) => r.latency[k]));
    return { '2xx': sum('2xx'), non2xx: sum('non2xx'), errors: sum('errors'), latency: { p50: worst('p50'), p99: worst('p99'), max: worst('max') } };
  };
  const label = n > 1 ? `${name} ×${n}` : name;
  try {
    const admin = (await call(base, 'POST', '/auth/login', undefined, ADMIN)).token;
    const study = await call(base, 'POST', '/studies', admin, { config: { name: 'bench', timezone: 'UTC' } });
    const tokens: string[] = [];
    for (let i = 0; i < 64; i++) {
      const inv = await call(base, 'POST', `/studies/${study.id}/participants`, admin, { participantId: `B${i}` });
      tokens.push((await call(base, 'POST', '/enrol', undefined, { code: inv.enrolCode })).token);
    }

    // 1. Reports, 64 connections, each its own participant.
    let nextToken = 0, nextReport = 0;
    const t0 = Date.now() - 7 * 86_400_000;
    const want = (phase: string) => !args.only || args.only.split(',').includes(phase);
    let cpu0 = cpuAll();
    if (want('reports')) {
    const reports = await runAll({
      url: base, connections: 64, duration,
      requests: [{
        method: 'POST', path: '/me/reports',
        setupRequest: (req, ctx: any) => {
          ctx.token ??= tokens[nextToken++ % tokens.length];
          const i = nextReport++;
          const body = { id: `b${i}`, time: new Date(t0 + i * 1000).toISOString(), trigger: 'scheduled', answers: Object.fromEntries(DAMS.map((d, k) => [d, (i + k) % 101])), itemOrder: DAMS };
          return { ...req, headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) };
        },
      }],
    });
    const ok = reports['2xx'];
    const cpu = cpuAll() - cpu0;
    console.log(`${label}: reports  ${(ok / duration).toFixed(0)} req/s (2xx ${ok}, non-2xx ${reports.non2xx}, errors ${reports.errors}), ` +
      `latency p50 ${reports.latency.p50} ms, p99 ${reports.latency.p99} ms, max ${reports.latency.max} ms  [64 connections, ${duration} s]; ` +
      `server CPU ${(1000 * cpu / ok).toFixed(3)} ms/report (→ ${(ok / cpu).toFixed(0)} reports per CPU-second)`);
    // Each report's follow-up job (prediction, alerts): how long the queue takes to drain after the burst.
    const d0 = Date.now();
    let q = (await call(base, 'GET', '/health')).queue.kinds.find((k: any) => k.kind === 'report-follow-up');
    while (q && (q.waiting > 0 || q.active > 0)) { await new Promise((r) => setTimeout(r, 200)); q = (await call(base, 'GET', '/health')).queue.kinds.find((k: any) => k.kind === 'report-follow-up'); }
    console.log(`${label}: reports  follow-up jobs drained ${((Date.now() - d0) / 1000).toFixed(1)} s after the burst (${(await call(base, 'GET', '/health')).queue.engine}); ` +
      `server CPU with the drain ${(1000 * (cpuAll() - cpu0) / ok).toFixed(3)} ms/report (→ ${(ok / (cpuAll() - cpu0)).toFixed(0)} reports and their jobs per CPU-second)`);
    }

    // 2. Activity epochs in batches of 5,000 (each connection its own participant and run).
    const BATCH = 5000;
    let nextA = 0;
    const runStart = new Map<string, number>();
    cpu0 = cpuAll();
    if (want('activity')) {
    const epochs = await runAll({
      url: base, connections: 8, duration,
      requests: [{
        method: 'POST', path: '/me/activity',
        setupRequest: (req, ctx: any) => {
          ctx.token ??= tokens[nextA++ % tokens.length];
          const start = runStart.get(ctx.token) ?? Date.UTC(2020, 0, 1);
          runStart.set(ctx.token, start + BATCH * 60_000);
          const zcm = Array.from({ length: BATCH }, (_, k) => (k * 13) % 400);
          const body = { start: new Date(start).toISOString(), values: { zcm, pim: zcm.map((v) => v * 3) } };
          return { ...req, headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) };
        },
      }],
    });
    console.log(`${label}: activity ${((epochs['2xx'] * BATCH) / duration).toFixed(0)} epochs/s (${epochs['2xx']} batches of ${BATCH}, non-2xx ${epochs.non2xx}), ` +
      `batch latency p50 ${epochs.latency.p50} ms, p99 ${epochs.latency.p99} ms  [8 connections]; ` +
      `server CPU → ${((epochs['2xx'] * BATCH) / (cpuAll() - cpu0)).toFixed(0)} epochs per CPU-second`);
    }
    if (!want('predict')) return;

    // 3. Predictions on demand (after one warm-up call per participant, which fits new
    //    participants' micro layers when a trained model is attached).
    const model = args.model === 'synth' ? await trainTinyModel(dataDir) : args.model ? copyModel(dataDir, args.model) : 'builtin:baseline';
    await call(base, 'PUT', `/studies/${study.id}/model`, admin, { model });
    const w0 = Date.now();
    for (let i = 0; i < 64; i++) await call(base, 'POST', `/studies/${study.id}/participants/B${i}/predict`, admin);
    console.log(`${name}: predict  warm-up ${((Date.now() - w0) / 64).toFixed(0)} ms per participant (first prediction; micro-layer fits are queued on the worker, not waited for)`);
    // Measure the steady state: wait until the worker has fitted every new participant's micro layer.
    const f0 = Date.now();
    let st = (await call(base, 'GET', `/studies/${study.id}/model`, admin)).personalisation;
    while (st && (st.queued > 0 || st.running)) { await new Promise((r) => setTimeout(r, 500)); st = (await call(base, 'GET', `/studies/${study.id}/model`, admin)).personalisation; }
    const engine = (await call(base, 'GET', `/studies/${study.id}/model`, admin)).engine;
    if (st) console.log(`${name}: predict  ${st.done} micro-layer fits on the worker thread took ${((Date.now() - w0) / 1000).toFixed(1)} s in all (${((Date.now() - f0) / 1000).toFixed(1)} s after the warm-up); inference engine: ${engine}`);
    const predictAt = async (connections: number, secs: number) => {
      let nextP = 0;
      const c0 = cpuSeconds(child.pid!);
      const preds = await run({
        url: base, connections, duration: secs,
        requests: [{
          method: 'POST',
          setupRequest: (req) => ({ ...req, path: `/studies/${study.id}/participants/B${nextP++ % 64}/predict`, headers: { authorization: `Bearer ${admin}` } }),
        }],
      });
      console.log(`${name}: predict  ${(preds['2xx'] / secs).toFixed(0)} req/s, latency p50 ${preds.latency.p50} ms, p99 ${preds.latency.p99} ms, max ${preds.latency.max} ms (non-2xx ${preds.non2xx})  [${connections} connection${connections > 1 ? 's' : ''}, ${args.model ?? 'builtin:baseline'}]; ` +
        `server CPU ${(1000 * (cpuSeconds(child.pid!) - c0) / preds['2xx']).toFixed(2)} ms/prediction`);
    };
    const secs = Math.max(5, duration / 2);
    await predictAt(8, secs);
    await predictAt(1, secs);
  } finally {
    await Promise.all(servers.map((sv) => { sv.child.kill('SIGINT'); return new Promise((r) => sv.child.once('exit', r)); }));
    if (dropPg) await dropPg();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const load = async () => (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`moodlens server bench — ${new Date().toISOString()}, Node ${process.version}; load average ${await load()}`);
for (const b of args.db === 'both' ? ['sqlite', 'postgres'] as const : [args.db as 'sqlite' | 'postgres']) await benchBackend(b);
console.log(`load average at the end: ${await load()}`);
