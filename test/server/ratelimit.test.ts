/** Login, enrolment and password-reset attempts are rate limited per client address. */
import { describe, it, expect, afterAll } from 'vitest';
import { startHarness, type Harness } from './helpers.js';

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
