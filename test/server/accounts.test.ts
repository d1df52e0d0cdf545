/**
 * Password change (logged in) and admin-issued password reset (one-time, expiring, hashed at
 * rest, rate limited; every session of the account ended on reset), with audit rows, on both
 * back ends.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { sha256 } from '../../src/server/http/auth.js';
import { ADMIN, BACKENDS, setupStudy, startHarness, type Harness } from './helpers.js';

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`accounts on ${b.name}`, () => {
    let h: Harness;
    afterAll(async () => { await h?.close(); });

    it('changes a password: needs the current one, ends the other sessions, keeps this one, audits', async () => {
      h = await startHarness(b.name);
      const s = await setupStudy(h);
      const other = await h.login(s.researcherEmail, 'researcher-pass-1');
      const wrong = await h.req('POST', '/auth/password', { token: s.researcher, body: { currentPassword: 'not-it-at-all', newPassword: 'new-password-22' } });
      expect(wrong.status).toBe(403);
      expect(wrong.json.issues[0].field).toBe('body.currentPassword');
      const ok = await h.req('POST', '/auth/password', { token: s.researcher, body: { currentPassword: 'researcher-pass-1', newPassword: 'new-password-22' } });
      expect(ok.status, ok.body).toBe(200);
      expect(ok.json.otherSessionsEnded).toBe(1);
      expect((await h.req('GET', '/auth/me', { token: s.researcher })).status).toBe(200); // this session stays
      expect((await h.req('GET', '/auth/me', { token: other })).status).toBe(401);        // the other one ended
      expect((await h.req('POST', '/auth/login', { body: { email: s.researcherEmail, password: 'researcher-pass-1' } })).status).toBe(401);
      expect((await h.req('POST', '/auth/login', { body: { email: s.researcherEmail, password: 'new-password-22' } })).status).toBe(200);
      const audit = (await h.req('GET', '/admin/audit?resource=password', { token: s.admin })).json;
      expect(audit[0]).toMatchObject({ resource: 'password', action: 'write', detail: expect.stringMatching(/changed by the user; 1 session/) });
    });

    it('resets a password with a one-time, expiring, hashed token and ends every session', async () => {
      const s = await setupStudy(h);
      const me = (await h.req('GET', '/auth/me', { token: s.researcher })).json;
      // Only admins issue tokens.
      expect((await h.req('POST', `/admin/researchers/${me.id}/password-reset`, { token: s.researcher, body: {} })).status).toBe(403);
      expect((await h.req('POST', '/admin/researchers/u_nobody/password-reset', { token: s.admin, body: {} })).status).toBe(404);
      const first = await h.req('POST', `/admin/researchers/${me.id}/password-reset`, { token: s.admin, body: {} });
      expect(first.status, first.body).toBe(201);
      const issued = await h.req('POST', `/admin/researchers/${me.id}/password-reset`, { token: s.admin, body: { expiresHours: 2 } });
      expect(issued.status).toBe(201);
      const token = issued.json.resetToken as string;
      expect(issued.json.resetUrl).toContain(token);
      // Hashed at rest: the database holds the sha256, never the token.
      const rows = await h.server.store.db.selectFrom('password_resets').selectAll().where('user_id', '=', me.id).execute();
      expect(rows.map((r) => r.token_hash)).toEqual([sha256(token)]); // the first token was replaced
      expect(JSON.stringify(rows)).not.toContain(token);
      const exp = Number(rows[0].expires_ms) - Date.now();
      expect(exp).toBeGreaterThan(1.9 * 3_600_000); expect(exp).toBeLessThanOrEqual(2 * 3_600_000);
      // The replaced token no longer works.
      expect((await h.req('POST', '/auth/password-reset', { body: { token: first.json.resetToken, newPassword: 'reset-password-3' } })).json.issues[0].field).toBe('body.token');
      const used = await h.req('POST', '/auth/password-reset', { body: { token, newPassword: 'reset-password-3' } });
      expect(used.status, used.body).toBe(200);
      expect(used.json.sessionsEnded).toBeGreaterThanOrEqual(1);
      expect((await h.req('GET', '/auth/me', { token: s.researcher })).status).toBe(401); // all sessions ended
      expect((await h.req('POST', '/auth/login', { body: { email: s.researcherEmail, password: 'reset-password-3' } })).status).toBe(200);
      // One use only.
      const again = await h.req('POST', '/auth/password-reset', { body: { token, newPassword: 'reset-password-4' } });
      expect(again.status).toBe(400);
      expect(again.json.message).toMatch(/body.token: unknown, used or expired/);
      // Expired tokens are refused.
      const late = await h.req('POST', `/admin/researchers/${me.id}/password-reset`, { token: s.admin, body: {} });
      await h.server.store.db.updateTable('password_resets').set({ expires_ms: Date.now() - 1 }).where('token_hash', '=', sha256(late.json.resetToken)).execute();
      expect((await h.req('POST', '/auth/password-reset', { body: { token: late.json.resetToken, newPassword: 'reset-password-5' } })).status).toBe(400);
      expect((await h.req('POST', '/auth/login', { body: { email: s.researcherEmail, password: 'reset-password-3' } })).status).toBe(200);
      // Audit: issued (by the admin) and used (by the account).
      const audit = (await h.req('GET', '/admin/audit', { token: await h.login(ADMIN.email, ADMIN.password) })).json;
      expect(audit.filter((a: any) => a.resource === 'password_reset' && a.detail.includes(me.id))).toHaveLength(3);
      expect(audit.some((a: any) => a.resource === 'password' && a.actor === `researcher:${me.id}` && /reset with a token/.test(a.detail))).toBe(true);
    });
  });
}
