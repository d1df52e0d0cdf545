/** Login, enrolment and password-reset attempts are rate limited per client address; on PostgreSQL across every instance of the database. */
import { describe, it, expect, afterAll } from 'vitest';
import { ADMIN, PG_AVAILABLE, makeBackend, startHarness, type Harness } from './helpers.js';
import { buildServer, type Server } from '../../src/server/server.js';

describe('rate limits', () => {
  let h: Harness;
  afterAll(async () => { await h?.close(); });
  it('answers 429 after the allowed number of login and enrolment attempts', async () => {
    h = await startHarness('sqlite', { authRateLimit: 3 });
    const login = () => h.req('POST', '/auth/login', { body: { email: 'nobody@example.org', password: 'guess' } });
    expect([(await login()).status, (await login()).status, (await login()).status]).toEqual([401, 401, 401]);
    const blocked = await login();
    expect(blocked.status).toBe(429);
    const enrol = () => h.req('POST', '/enrol', { body: { code: 'GUESSCODE' } });
    expect([(await enrol()).status, (await enrol()).status, (await enrol()).status, (await enrol()).status]).toEqual([400, 400, 400, 429]);
    const reset = () => h.req('POST', '/auth/password-reset', { body: { token: 'rs_guessguessguess', newPassword: 'whatever-123' } });
    expect([(await reset()).status, (await reset()).status, (await reset()).status, (await reset()).status]).toEqual([400, 400, 400, 429]);
  });
});

describe.skipIf(!PG_AVAILABLE)('rate limits across instances (PostgreSQL)', () => {
  it('two instances on one database count the same attempts (the counters are in the database)', async () => {
    const backend = await makeBackend('postgres');
    const opts = { db: backend.url, dataDir: backend.dataDir, admin: ADMIN, authRateLimit: 3, keyLog: () => {} };
    const a = await buildServer(opts);
    const b = await buildServer(opts);
    try {
      const enrol = async (s: Server) => (await s.app.inject({ method: 'POST', url: '/enrol', payload: { code: 'GUESSCODE' } })).statusCode;
      // Alternating instances: two attempts each would pass per-process limits of 3; together the fourth is refused, on either.
      expect([await enrol(a), await enrol(b), await enrol(a), await enrol(b), await enrol(a)]).toEqual([400, 400, 400, 429, 429]);
      const blocked = await b.app.inject({ method: 'POST', url: '/enrol', payload: { code: 'GUESSCODE' } });
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      // Another route keeps its own count.
      const login = await a.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'nobody@example.org', password: 'guess' } });
      expect(login.statusCode).toBe(401);
    } finally {
      await a.close(); await b.close(); await backend.cleanup();
    }
  }, 60_000);
});
