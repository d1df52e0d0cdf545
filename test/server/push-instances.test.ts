/**
 * Push reminders with two `serve` instances on one PostgreSQL database: each instance's timer
 * sends the tick slot's `push-pass` job, one instance runs it (one pass per slot, not one per
 * instance), and each prompt of each subscribed participant is pushed once — the per-prompt claim
 * in web_push_sent stays the guarantee. (Three instances with real reports and speech:
 * scale.test.ts.)
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { DateTime } from 'luxon';
import { createServer, type Server as HttpServer } from 'node:http';
import { createECDH, randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildServer, type Server } from '../../src/server/server.js';
import { ADMIN, makeBackend, pgReachable, setupStudy, type Backend, type Harness } from './helpers.js';

const PG = await pgReachable();

describe.skipIf(!PG)('push reminders on two instances (PostgreSQL)', () => {
  let push: HttpServer, pushBase = '';
  const received: string[] = [];
  const saved: Record<string, string | undefined> = {};
  let backend: Backend;
  const servers: Server[] = [];

  beforeAll(async () => {
    for (const k of ['MOODLENS_PUSH_TICK_S', 'MOODLENS_PUSH_ALLOW_HTTP', 'MOODLENS_PUSH_GRACE_MIN']) saved[k] = process.env[k];
    process.env.MOODLENS_PUSH_TICK_S = '1';
    process.env.MOODLENS_PUSH_ALLOW_HTTP = '1'; // the stand-in push service is plain HTTP on loopback
    process.env.MOODLENS_PUSH_GRACE_MIN = '30';
    push = createServer((req, res) => { req.resume(); req.on('end', () => { received.push(req.url ?? ''); res.writeHead(201).end(); }); });
    await new Promise<void>((r) => push.listen(0, '127.0.0.1', () => r()));
    pushBase = `http://127.0.0.1:${(push.address() as { port: number }).port}`;
    backend = await makeBackend('postgres');
  });
  afterAll(async () => {
    for (const s of servers) await s.close().catch(() => {});
    await backend?.cleanup();
    await new Promise((r) => push.close(r));
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });

  it('each prompt is pushed once, and each tick slot is one pass', async () => {
    const zone = 'Europe/Berlin';
    const at = (iso: string) => DateTime.fromISO(iso, { zone }).toMillis();
    let clock = at('2026-03-23T08:00');
    const start = () => buildServer({ db: backend.url, dataDir: backend.dataDir, admin: ADMIN, alertDebounceMs: 0, authRateLimit: 1000, now: () => clock });
    const t0 = Date.now();
    servers.push(await start(), await start());
    const req = async (server: Server, method: string, url: string, token?: string, body?: unknown) => {
      const r = await server.app.inject({ method: method as any, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body !== undefined ? { payload: body as any } : {}) });
      return { status: r.statusCode, json: (() => { try { return r.json(); } catch { return undefined; } })(), body: r.body };
    };
    const h = { server: servers[0], backend, req: (m: string, u: string, o: { token?: string; body?: unknown } = {}) => req(servers[0], m, u, o.token, o.body),
      login: async (e: string, p: string) => (await req(servers[0], 'POST', '/auth/login', undefined, { email: e, password: p })).json.token } as unknown as Harness;
    const s = await setupStudy(h, { name: 'two instances', timezone: zone, schedule: { times: ['11:00', '15:00'], jitterMinutes: 0, expiryMinutes: 60, days: 3 } });
    const people = ['P1', 'P2', 'P3'];
    for (const [i, id] of people.entries()) {
      const device = await s.enrol(id);
      const ua = createECDH('prime256v1'); ua.generateKeys();
      const sub = { endpoint: `${pushBase}/push/${id}`, expirationTime: null, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
      expect((await req(servers[i % 2], 'PUT', '/me/push/subscription', device, sub)).status).toBe(201); // through either instance
    }
    const count = (id: string) => received.filter((p) => p === `/push/${id}`).length;
    const until = async (ok: () => boolean, what: string) => {
      const t = Date.now();
      while (!ok()) { if (Date.now() - t > 20_000) throw new Error(`timed out waiting for ${what}: ${received.join(' ')}`); await new Promise((r) => setTimeout(r, 100)); }
    };

    clock = at('2026-03-23T11:01');
    await until(() => received.length >= 3, 'the 11:00 reminders');
    await new Promise((r) => setTimeout(r, 3000)); // three more slots: nothing goes out twice
    expect(people.map(count)).toEqual([1, 1, 1]);

    clock = at('2026-03-23T15:01');
    await until(() => received.length >= 6, 'the 15:00 reminders');
    await new Promise((r) => setTimeout(r, 3000));
    expect(people.map(count)).toEqual([2, 2, 2]);

    // One push-pass job per one-second slot, though both instances send one every second.
    const seconds = (Date.now() - t0) / 1000;
    const c = new pg.Client({ connectionString: backend.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ n: number; completed: number }>(`select count(*)::int as n, count(*) filter (where state = 'completed')::int as completed from pgboss.job where name = 'push-pass'`);
      expect(rows[0].n).toBeGreaterThanOrEqual(6);
      expect(rows[0].n).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
      expect(rows[0].completed).toBeGreaterThanOrEqual(rows[0].n - 2); // the last slots' may still be running
    } finally { await c.end(); }
  }, 90_000);
});
