/**
 * Two server instances on one PostgreSQL database: what one instance forgets, the other forgets
 * at once (LISTEN/NOTIFY, services/cache-bus.ts) instead of serving its 30-second token cache — a
 * logout, a disabled account, a withdrawal and a study's changed configuration all take effect
 * on both.
 */
import { describe, it, expect } from 'vitest';
import { buildServer, type Server } from '../../src/server/server.js';
import { ADMIN, PG_AVAILABLE, makeBackend, reportBody } from './helpers.js';

async function call(s: Server, method: string, url: string, token?: string, body?: unknown) {
  const r = await s.app.inject({ method: method as 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: r.statusCode, json: (() => { try { return r.json(); } catch { return undefined; } })() };
}

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('not within 5 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!PG_AVAILABLE)('cache invalidation across instances (PostgreSQL)', () => {
  it('a logout, a disabled account, a withdrawal and a study change on one instance take effect on the other', async () => {
    const backend = await makeBackend('postgres');
    const opts = { db: backend.url, dataDir: backend.dataDir, admin: ADMIN, authRateLimit: 1000, keyLog: () => {} };
    const a = await buildServer(opts);
    const b = await buildServer(opts);
    try {
      const admin = (await call(a, 'POST', '/auth/login', undefined, ADMIN)).json.token as string;
      // The session is cached on B after one use.
      expect((await call(b, 'GET', '/studies', admin)).status).toBe(200);
      const study = (await call(a, 'POST', '/studies', admin, { config: { name: 'two instances', timezone: 'UTC' } })).json;
      const inv = (await call(a, 'POST', `/studies/${study.id}/participants`, admin, { participantId: 'P1' })).json;
      const device = (await call(b, 'POST', '/enrol', undefined, { code: inv.enrolCode })).json.token as string;
      expect((await call(b, 'POST', '/me/reports', device, reportBody('r1', new Date().toISOString()))).status).toBe(201);
      expect((await call(b, 'GET', `/studies/${study.id}`, admin)).json.config.name).toBe('two instances');

      // The study's model detached on A: B's cached study and predictor follow at once.
      expect((await call(a, 'PUT', `/studies/${study.id}/model`, admin, { model: 'builtin:baseline' })).status).toBe(200);
      await eventually(async () => (await call(b, 'GET', `/studies/${study.id}/model`, admin)).json.model === 'builtin:baseline');
      expect((await call(a, 'DELETE', `/studies/${study.id}/model`, admin)).status).toBe(200);
      await eventually(async () => (await call(b, 'GET', `/studies/${study.id}/model`, admin)).json.model === null);

      // A researcher disabled on A is signed out on B at once.
      const r = (await call(a, 'POST', '/admin/researchers', admin, { email: 'r@example.org', password: 'researcher-pass-1' })).json;
      const rt = (await call(a, 'POST', '/auth/login', undefined, { email: 'r@example.org', password: 'researcher-pass-1' })).json.token as string;
      expect((await call(b, 'GET', '/studies', rt)).status).toBe(200);
      expect((await call(a, 'POST', `/admin/researchers/${r.id}/disable`, admin)).status).toBeLessThan(300);
      await eventually(async () => (await call(b, 'GET', '/studies', rt)).status === 401);

      // The participant is withdrawn through A: B refuses the device token at once.
      expect((await call(b, 'GET', '/me/next', device)).status).toBe(200);
      expect((await call(a, 'DELETE', `/studies/${study.id}/participants/P1`, admin)).status).toBeLessThan(300);
      await eventually(async () => (await call(b, 'GET', '/me/next', device)).status === 401);

      // Logout on A: the session ends on B.
      expect((await call(a, 'POST', '/auth/logout', admin)).status).toBeLessThan(300);
      await eventually(async () => (await call(b, 'GET', '/studies', admin)).status === 401);
    } finally {
      await a.close(); await b.close(); await backend.cleanup();
    }
  }, 60_000);
});
