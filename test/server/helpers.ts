/**
 * Test helpers: the two storage back ends (SQLite in a temp folder; PostgreSQL in a fresh
 * database per run, dropped afterwards) and a server with an admin, a researcher and a study.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { buildServer, type Server, type ServerOptions } from '../../src/server/server.js';
import { exportAndWait as pollExport } from '../support/export.js';

export const PG_ADMIN_URL = process.env.MOODLENS_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Is a PostgreSQL server reachable at PG_ADMIN_URL? */
export async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try { await c.connect(); await c.query('select 1'); return true; } catch { return false; } finally { await c.end().catch(() => {}); }
}

export interface Backend { name: 'sqlite' | 'postgres'; url: string; dataDir: string; cleanup(): Promise<void> }

export async function makeBackend(name: 'sqlite' | 'postgres'): Promise<Backend> {
  const dataDir = mkdtempSync(join(tmpdir(), 'moodlens-server-'));
  if (name === 'sqlite') {
    return { name, url: `sqlite:${join(dataDir, 'test.db')}`, dataDir, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const db = `moodlens_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${db}`);
  await admin.end();
  const u = new URL(PG_ADMIN_URL); u.pathname = '/' + db;
  return {
    name, url: u.toString(), dataDir,
    async cleanup() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${db} with (force)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const PG_AVAILABLE = await pgReachable();
export const BACKENDS = [
  { name: 'sqlite' as const, skip: false },
  { name: 'postgres' as const, skip: !PG_AVAILABLE },
];
if (!PG_AVAILABLE) console.warn(`server tests: PostgreSQL not reachable at ${PG_ADMIN_URL} — the PostgreSQL runs are skipped (run scripts/setup-services.sh)`);

export const ADMIN = { email: 'admin@example.org', password: 'correct horse battery' };

export interface Harness {
  server: Server;
  backend: Backend;
  req(method: string, url: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string>; payload?: string | Buffer }): Promise<{ status: number; json: any; body: string }>;
  login(email: string, password: string): Promise<string>;
  close(): Promise<void>;
}

/** Test servers make a fresh data key each: its "back it up" notice is left out of the test output. */
const quietKeys = () => {};

export async function startHarness(name: 'sqlite' | 'postgres', opts: Partial<ServerOptions> = {}): Promise<Harness> {
  const backend = await makeBackend(name);
  return harnessOn(await buildServer({ db: backend.url, dataDir: backend.dataDir, admin: ADMIN, alertDebounceMs: 0, authRateLimit: 1000, keyLog: quietKeys, ...opts }), backend);
}

/** Stop the harness's server (keeping its database and data directory) and start a new one on them: a restart. */
export async function restartHarness(h: Harness, opts: Partial<ServerOptions> = {}): Promise<Harness> {
  await h.server.close();
  return harnessOn(await buildServer({ db: h.backend.url, dataDir: h.backend.dataDir, alertDebounceMs: 0, authRateLimit: 1000, keyLog: quietKeys, ...opts }), h.backend);
}

/** Requests (Fastify inject) and logins against one running server; close() also drops the back end. */
function harnessOn(server: Server, backend: Backend): Harness {
  const req: Harness['req'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const r = await server.app.inject({ method: method as any, url, headers, ...(o.payload !== undefined ? { payload: o.payload } : o.body !== undefined ? { payload: o.body as any } : {}) });
    let json: any = undefined;
    try { json = r.json(); } catch { /* not JSON */ }
    return { status: r.statusCode, json, body: r.body };
  };
  const login = async (email: string, password: string) => {
    const r = await req('POST', '/auth/login', { body: { email, password } });
    if (r.status !== 200) throw new Error(`login failed: ${r.body}`);
    return r.json.token as string;
  };
  return { server, backend, req, login, async close() { await server.close(); await backend.cleanup(); } };
}

/** Admin creates a researcher, who creates a study and invites + enrols participants. */
export async function setupStudy(h: Harness, config: Record<string, unknown> = { name: 'test study', timezone: 'Europe/Berlin' }, settings: Record<string, unknown> = {}) {
  const admin = await h.login(ADMIN.email, ADMIN.password);
  const email = `r${randomBytes(3).toString('hex')}@example.org`;
  const created = await h.req('POST', '/admin/researchers', { token: admin, body: { email, password: 'researcher-pass-1' } });
  if (created.status !== 201) throw new Error(created.body);
  const researcher = await h.login(email, 'researcher-pass-1');
  const study = await h.req('POST', '/studies', { token: researcher, body: { config, settings } });
  if (study.status !== 201) throw new Error(study.body);
  const enrol = async (participantId: string, timezone?: string) => {
    const inv = await h.req('POST', `/studies/${study.json.id}/participants`, { token: researcher, body: { participantId, ...(timezone ? { timezone } : {}) } });
    if (inv.status !== 201) throw new Error(inv.body);
    const e = await h.req('POST', '/enrol', { body: { code: inv.json.enrolCode } });
    if (e.status !== 200) throw new Error(e.body);
    return e.json.token as string;
  };
  return { admin, researcher, researcherEmail: email, studyId: study.json.id as string, study: study.json, enrol };
}

export const DAMS = ['vigorous', 'gloomy', 'concerned', 'happy', 'unpleasant', 'anxious', 'cheerful', 'depressed', 'worried'];

export function reportBody(id: string, time: string, value = 50, extra: Record<string, unknown> = {}) {
  return { id, time, trigger: 'scheduled', answers: Object.fromEntries(DAMS.map((d) => [d, value])), itemOrder: [...DAMS].reverse(), ...extra };
}

/** Start an export job and poll it until it is done (or failed); returns the finished job view. */
export const exportAndWait = (h: Harness, token: string, studyId: string, body: Record<string, unknown> = {}) =>
  pollExport((m, u, o) => h.req(m, u, o), token, studyId, body);

/**
 * Download a finished export and unpack it into a new folder under the harness's data folder;
 * returns that folder (the study folder). On the server the export is sealed at rest
 * (docs/security.md), so the data library reads the download, not the server's folder.
 */
export async function downloadExport(h: Harness, token: string, job: { downloadUrl: string }): Promise<string> {
  const dl = await h.server.app.inject({ method: 'GET', url: job.downloadUrl, headers: { authorization: `Bearer ${token}` } });
  if (dl.statusCode !== 200) throw new Error(`download: ${dl.statusCode} ${dl.body}`);
  const out = mkdtempSync(join(h.backend.dataDir, 'downloaded-'));
  for (const [name, bytes] of untar(dl.rawPayload)) {
    const rel = name.split('/').slice(1).join('/');
    mkdirSync(dirname(join(out, rel)), { recursive: true });
    writeFileSync(join(out, rel), bytes);
  }
  return out;
}

/** The files of a tar archive (ustar): path → bytes (directories left out). */
export function untar(buf: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let off = 0; off + 512 <= buf.length;) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number) => h.subarray(a, a + n).toString('utf8').replace(/\0.*$/s, '');
    const name = (str(345, 155) ? str(345, 155) + '/' : '') + str(0, 100);
    const size = parseInt(str(124, 12).trim() || '0', 8);
    let sum = 0; for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== parseInt(str(148, 8).trim(), 8)) throw new Error(`tar: bad header checksum at ${off}`);
    if (str(156, 1) === '0') files.set(name, Buffer.from(buf.subarray(off + 512, off + 512 + size)));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Copy a model folder into the server's models folder (--models-dir); returns the name to attach it by. */
export function installModel(h: Harness, from: string, name = basename(from)): string {
  cpSync(from, join(h.server.ctx.modelsDir, name), { recursive: true });
  return name;
}

/** A `moodlens serve` child process (src/server/main.ts) on a backend, and where it listens. */
export interface ServerProcess { child: ChildProcess; base: string; pid: number; err: () => string }

/**
 * Start the server as a child process on `b` (port 0), with the test admin, extra flags and
 * environment; resolves when it prints where it listens (rejects with its stderr if it exits).
 */
export async function spawnServer(b: Backend, args: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts', '--db', b.url, '--port', '0', '--data-dir', b.dataDir, ...args], {
    cwd: process.cwd(), env: { ...process.env, MOODLENS_ADMIN_EMAIL: ADMIN.email, MOODLENS_ADMIN_PASSWORD: ADMIN.password, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out} ${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${err}`)); });
  });
  return { child, base, pid: child.pid!, err: () => err };
}

/** One HTTP call to a server process: status, parsed JSON (undefined when the body is not JSON) and text. */
export async function httpCall(base: string, method: string, path: string, token?: string, body?: unknown, raw?: { data: Buffer; type: string }) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (raw) headers['content-type'] = raw.type;
  const r = await fetch(base + path, { method, headers, body: raw ? raw.data : body !== undefined ? JSON.stringify(body) : undefined });
  const text = await r.text();
  let json: any;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: r.status, json, text };
}
