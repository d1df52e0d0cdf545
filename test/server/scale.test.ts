/**
 * Three `moodlens serve` processes on one PostgreSQL database and one data folder (docs/scale.md):
 * reports, recordings and exports go in through all three, and every effect happens once —
 * every report predicted once, every recording's features computed once, one Web Push reminder
 * per prompt per subscribed participant (a local push endpoint counts them), one archive per
 * export job. Then the instance running a long speech extraction and an export is killed with
 * SIGKILL: both finish on another instance within 60 s (pg-boss retries a job whose heartbeat
 * stopped), with one effect each and no job lost.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server as HttpServer } from 'node:http';
import { createECDH, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { encodeWav16 } from '../../src/signal/wav.js';
import { ADMIN, PG_AVAILABLE, httpCall, makeBackend, reportBody, spawnServer, type Backend, type ServerProcess } from './helpers.js';

type Instance = ServerProcess;
const startInstance = (b: Backend, env: Record<string, string>) => spawnServer(b, ['--auth-rate-limit', '10000'], env);
const call = httpCall;

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`not within ${ms / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A voiced-like recording: a tone with a slow pitch glide, switched on and off every half second. */
function recording(seconds: number, seed: number): Buffer {
  const n = 16000 * seconds;
  const x = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const on = Math.floor(k / 8000) % 2 === 0 ? 1 : 0.03;
    x[k] = on * 0.3 * Math.sin(2 * Math.PI * (110 + 10 * seed + 25 * Math.sin(k / 9000)) * k / 16000) + 0.002 * Math.sin(k * 1.7 + seed);
  }
  return Buffer.from(encodeWav16(x, 16000));
}

describe.skipIf(!PG_AVAILABLE)('three server instances on one PostgreSQL database', () => {
  let push: HttpServer, pushBase = '';
  const pushes = new Map<string, number>();
  beforeAll(async () => {
    push = createServer((req, res) => {
      req.resume();
      req.on('end', () => { pushes.set(req.url ?? '', (pushes.get(req.url ?? '') ?? 0) + 1); res.writeHead(201).end(); });
    });
    await new Promise<void>((r) => push.listen(0, '127.0.0.1', () => r()));
    pushBase = `http://127.0.0.1:${(push.address() as { port: number }).port}`;
  });
  afterAll(async () => { await new Promise((r) => push.close(r)); });

  it('each effect once across instances; a killed instance\'s speech job and export finish on another', async () => {
    const backend = await makeBackend('postgres');
    const env = {
      MOODLENS_PUSH_TICK_S: '1', MOODLENS_PUSH_ALLOW_HTTP: '1', MOODLENS_PUSH_GRACE_MIN: '30',
      MOODLENS_JOB_BEAT_MS: '1000', MOODLENS_JOB_STALL_MS: '5000',
    };
    const instances: Instance[] = [];
    const db = new pg.Client({ connectionString: backend.url });
    try {
      // The first instance makes the data key in the shared data folder; the others read it.
      instances.push(await startInstance(backend, env));
      instances.push(...await Promise.all([startInstance(backend, env), startInstance(backend, env)]));
      await db.connect();
      const [A, B, C] = instances;
      const at = (i: number) => instances[i % 3].base;
      const admin = (await call(A.base, 'POST', '/auth/login', undefined, ADMIN)).json.token as string;

      // One prompt a day, at the next full minute at least 25 s away (UTC, no jitter).
      const promptMs = Math.ceil((Date.now() + 25_000) / 60_000) * 60_000;
      const hhmm = new Date(promptMs).toISOString().slice(11, 16);
      const study = (await call(B.base, 'POST', '/studies', admin, {
        config: { name: 'three instances', timezone: 'UTC', speech: { kind: 'audio' }, schedule: { times: [hhmm], jitterMinutes: 0, wakeAndBed: false, days: 2 } },
      })).json;
      expect(study.id).toBeTruthy();
      expect((await call(C.base, 'PUT', `/studies/${study.id}/model`, admin, { model: 'builtin:baseline' })).status).toBe(200);

      // Six participants, enrolled and subscribed to reminders through different instances.
      const tokens: string[] = [];
      for (let p = 0; p < 6; p++) {
        const inv = (await call(at(p), 'POST', `/studies/${study.id}/participants`, admin, { participantId: `P${p}` })).json;
        const tok = (await call(at(p + 1), 'POST', '/enrol', undefined, { code: inv.enrolCode })).json.token as string;
        tokens.push(tok);
        const ua = createECDH('prime256v1'); ua.generateKeys();
        const sub = { endpoint: `${pushBase}/push/P${p}`, expirationTime: null, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
        expect((await call(at(p + 2), 'PUT', '/me/push/subscription', tok, sub)).status).toBe(201);
      }

      // Reports, recordings and a day of wristband epochs each, spread over all three instances.
      const t0 = Date.now() - 2 * 86_400_000;
      let n = 0;
      const sent: Array<Promise<void>> = [];
      for (let p = 0; p < 6; p++) {
        sent.push((async () => {
          for (let i = 0; i < 6; i++) {
            const r = await call(at(n++), 'POST', '/me/reports', tokens[p], reportBody(`r${i}`, new Date(t0 + i * 3_600_000).toISOString(), 20 + i * 5 + p));
            expect(r.status).toBe(201);
            if (i < 2) expect((await call(at(n++), 'PUT', `/me/reports/r${i}/speech`, tokens[p], undefined, { data: recording(2, p * 2 + i), type: 'audio/wav' })).status).toBe(201);
          }
          for (let d = 0; d < 4; d++) {
            const vals = Array.from({ length: 1440 }, (_, k) => (k * 7 + p + d) % 500);
            const a = await call(at(n++), 'POST', '/me/activity', tokens[p], { start: new Date(t0 - 4 * 86_400_000 + d * 86_400_000).toISOString(), values: { zcm: vals, pim: vals } });
            expect(a.status, a.text).toBe(200);
          }
        })());
      }
      await Promise.all(sent);

      // Two exports, requested through two instances.
      const exportThrough = async (base: string) => {
        const r = await call(base, 'POST', `/studies/${study.id}/export`, admin, {});
        expect(r.status, r.text).toBe(202);
        return r.json.id as string;
      };
      const firstExports = [await exportThrough(B.base), await exportThrough(C.base)];

      // Everything queued so far runs once, somewhere.
      const count = async (q: string, v: unknown[] = []) => Number((await db.query(q, v)).rows[0].n);
      await until('all reports predicted', async () => (await count(`select count(distinct report_id) as n from predictions`)) === 36, 30_000);
      await until('all recordings computed', async () => (await count(`select count(*) as n from speech_features`)) === 12, 30_000);
      await until('both exports done', async () => (await count(`select count(*) as n from export_jobs where status = 'done'`)) === 2, 30_000);

      // The kill: through A, a 10-minute recording and an export. A takes its own jobs at once
      // (a job committed by an instance wakes that instance's worker); whoever runs them, the
      // instance(s) holding them are killed with SIGKILL while they run.
      const long = recording(600, 99);
      const put = await call(A.base, 'PUT', '/me/reports/r5/speech', tokens[0], undefined, { data: long, type: 'audio/wav' });
      expect(put.status).toBe(201);
      const lastExport = await exportThrough(A.base);
      const longReport = (await db.query(`select r.id from reports r join participants p on p.id = r.participant_id where p.label = 'P0' and r.client_id = 'r5'`)).rows[0].id as string;
      const holders = await until('the long extraction and the export running', async () => {
        const { rows } = await db.query(`select j.name, b.owner from pgboss.job j join pgboss.moodlens_job_beat b on b.id = j.id
          where j.state = 'active' and ((j.name = 'speech-features' and j.data->>'reportId' = $1) or (j.name = 'export' and j.data->>'exportJobId' = $2))`, [longReport, lastExport]);
        return rows.length === 2 ? rows as Array<{ name: string; owner: string }> : null;
      }, 20_000);
      const victims = instances.filter((i) => holders.some((h) => h.owner.endsWith(`:${i.pid}`)));
      expect(victims.length).toBeGreaterThan(0);
      for (const v of victims) v.child.kill('SIGKILL');
      const killedAt = Date.now();
      await Promise.all(victims.map((v) => new Promise((r) => (v.child.exitCode !== null || v.child.signalCode !== null ? r(null) : v.child.once('exit', r)))));
      const survivor = instances.find((i) => !victims.includes(i))!;

      // Both finish on a surviving instance within 60 s, each retried once after the kill.
      await until('the long recording\'s features', async () => (await count(`select count(*) as n from speech_features where report_id = $1`, [longReport])) === 1, 60_000);
      await until('the last export done', async () => (await count(`select count(*) as n from export_jobs where id = $1 and status = 'done'`, [lastExport])) === 1, 60_000 - (Date.now() - killedAt));
      expect(Date.now() - killedAt).toBeLessThan(60_000);
      const runs = (await db.query(`select name, retry_count, state from pgboss.job where (name = 'speech-features' and data->>'reportId' = $1) or (name = 'export' and data->>'exportJobId' = $2)`, [longReport, lastExport])).rows;
      expect(runs).toHaveLength(2);
      for (const r of runs) { expect(r.state).toBe('completed'); expect(r.retry_count).toBeGreaterThanOrEqual(1); }

      // Exactly once. Reports: one prediction each.
      expect(await count(`select count(*) as n from reports`)).toBe(36);
      expect(await count(`select count(*) as n from (select report_id from predictions group by report_id having count(*) <> 1) x`)).toBe(0);
      expect(await count(`select count(*) as n from predictions`)).toBe(36);
      // Recordings: features stored once each (one audit record of the extractor per recording), each job completed; no job lost or failed.
      expect(await count(`select count(*) as n from speech_features`)).toBe(13);
      expect(await count(`select count(*) as n from audit where actor_id = 'speech-extractor' and resource = 'speech_features'`)).toBe(13);
      expect(await count(`select count(*) as n from pgboss.job where name = 'speech-features' and state = 'completed'`)).toBe(13);
      expect(await count(`select count(*) as n from pgboss.job where name = 'speech-features' and retry_count > 0`)).toBe(1); // the killed one only: the others ran once
      // No job lost or failed — but the push pass, sent every tick (1 s here) and taken by one
      // instance, may be waiting or running at this moment (and one held by the killed instance is
      // not retried: the next tick covers it; one push per prompt is checked below).
      expect(await count(`select count(*) as n from pgboss.job where state not in ('completed') and name not like '\\_\\_%' and name <> 'push-pass'`)).toBe(0);
      // Exports: three jobs, three archives, each in its own folder, each downloadable from a surviving instance; one "read" record each.
      const exportIds = [...firstExports, lastExport].sort();
      expect((await db.query(`select id from export_jobs where status = 'done' order by id`)).rows.map((r) => r.id)).toEqual(exportIds);
      expect(readdirSync(join(backend.dataDir, 'exports', study.id)).sort()).toEqual(exportIds);
      for (const id of exportIds) {
        expect(await count(`select count(*) as n from audit where resource = 'export' and action = 'read' and detail like $1`, [`{"job":"${id}"%`])).toBe(1);
        const dl = await fetch(`${survivor.base}/studies/${study.id}/exports/${id}/download`, { headers: { authorization: `Bearer ${admin}` } });
        expect(dl.status).toBe(200);
        expect((await dl.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
      }
      // The queue as /health reports it (any instance: the same database): nothing waiting or failed.
      const health = (await call(survivor.base, 'GET', '/health', admin)).json;
      expect(health.queue.engine).toBe('pg-boss');
      for (const k of health.queue.kinds.filter((q: { kind: string }) => q.kind !== 'push-pass')) expect({ kind: k.kind, waiting: k.waiting, failed: k.failed }).toEqual({ kind: k.kind, waiting: 0, failed: 0 });

      // Reminders: one push per participant for the prompt, whichever instance's pass claimed it.
      await until('the prompt\'s reminders', async () => (await count(`select count(*) as n from web_push_sent where delivered > 0`)) === 6, Math.max(5_000, promptMs - Date.now() + 10_000));
      await new Promise((r) => setTimeout(r, 2500)); // more passes of every instance: nothing twice
      for (let p = 0; p < 6; p++) expect(pushes.get(`/push/P${p}`), `P${p}`).toBe(1);
      expect(await count(`select count(*) as n from web_push_sent`)).toBe(6);
    } catch (e) {
      // What the instances said (their stderr) is what explains a failure here.
      console.error(JSON.stringify((await db.query(`select id, status, phase, error from export_jobs`).catch(() => ({ rows: [] }))).rows));
      console.error(JSON.stringify((await db.query(`select name, state, count(*) from pgboss.job group by 1, 2`).catch(() => ({ rows: [] }))).rows));
      for (const [k, i] of instances.entries()) console.error(`instance ${k} (pid ${i.pid}) stderr:\n${i.err().split('\n').filter((l) => !/data key/.test(l)).slice(-30).join('\n')}`);
      throw e;
    } finally {
      await db.end().catch(() => {});
      for (const i of instances) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      await backend.cleanup();
    }
  }, 150_000);
});
