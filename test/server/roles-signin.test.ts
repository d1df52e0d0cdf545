/**
 * Roles and sign-in on both back ends: membership rules (the creator is not demoted or removed by
 * a co-owner, the last owner stays, removal takes access away at once), disabling an account ends
 * its sessions at once (despite the 30 s token cache), per-account lockout with doubling back-off
 * and the admin unlock, --trust-proxy (limits and lockout key on the real client behind a proxy;
 * without it every client shares the proxy's address), the bootstrap admin's password rule,
 * secrets out of URLs and logs, and the audit rows of all of it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { buildServer } from '../../src/server/server.js';
import { sha256 } from '../../src/server/http/auth.js';
import { lockMs, LOCK_AFTER } from '../../src/server/http/routes/accounts.js';
import { redactUrl } from '../../src/server/http/signin.js';
import { ADMIN, BACKENDS, makeBackend, setupStudy, startHarness, type Harness } from './helpers.js';

const PW = 'member-pass-12';

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`roles and sign-in on ${b.name}`, () => {
    let h: Harness;
    let admin: string;
    beforeAll(async () => { h = await startHarness(b.name); admin = await h.login(ADMIN.email, ADMIN.password); });
    afterAll(async () => { await h?.close(); });

    const newAccount = async (email: string) => {
      const r = await h.req('POST', '/admin/researchers', { token: admin, body: { email, password: PW } });
      expect(r.status, r.body).toBe(201);
      return { id: r.json.id as string, email };
    };
    const audit = async (resource: string) => (await h.req('GET', `/admin/audit?resource=${resource}`, { token: admin })).json as any[];

    it('keeps the creator and the last owner, and a removed member loses access at once', async () => {
      const s = await setupStudy(h);
      const creatorId = (await h.req('GET', '/auth/me', { token: s.researcher })).json.id;
      const co = await newAccount(`co-${b.name}@example.org`);
      const coTok = await h.login(co.email, PW);
      const add = (email: string, role: string, token = s.researcher) => h.req('POST', `/studies/${s.studyId}/members`, { token, body: { email, role } });
      // The last (only) owner cannot leave or demote itself.
      const leave = await h.req('POST', `/studies/${s.studyId}/leave`, { token: s.researcher });
      expect(leave.status).toBe(409);
      expect(leave.json.message).toMatch(/last owner/);
      expect((await add(s.researcherEmail, 'researcher')).status).toBe(409);
      // A co-owner may not demote or remove the creator.
      expect((await add(co.email, 'owner')).json).toMatchObject({ role: 'owner', previousRole: null });
      const demote = await add(s.researcherEmail, 'viewer', coTok);
      expect(demote.status).toBe(403);
      expect(demote.json.message).toBe('the study\'s creator cannot be demoted or removed by a co-owner');
      expect((await h.req('DELETE', `/studies/${s.studyId}/members/${creatorId}`, { token: coTok })).status).toBe(403);
      // The creator may demote the co-owner; a viewer reads but may not export or invite.
      expect((await add(co.email, 'viewer')).json).toMatchObject({ role: 'viewer', previousRole: 'owner' });
      expect((await h.req('GET', `/studies/${s.studyId}/participants`, { token: coTok })).status).toBe(200);
      const exp = await h.req('POST', `/studies/${s.studyId}/export`, { token: coTok, body: {} });
      expect(exp.status).toBe(403);
      expect(exp.json.message).toBe(`this needs the researcher role in study ${s.studyId}; you are a viewer`);
      expect((await h.req('GET', `/studies/${s.studyId}`, { token: coTok })).json.role).toBe('viewer');
      const members = (await h.req('GET', `/studies/${s.studyId}/members`, { token: coTok })).json;
      expect(members.map((m: any) => [m.email, m.role, m.creator])).toEqual([[s.researcherEmail, 'owner', true], [co.email, 'viewer', false]]);
      // Removal takes effect on the next request (no cache of roles).
      expect((await h.req('DELETE', `/studies/${s.studyId}/members/${co.id}`, { token: s.researcher })).json).toMatchObject({ ok: true, previousRole: 'viewer' });
      expect((await h.req('GET', `/studies/${s.studyId}`, { token: coTok })).status).toBe(404);
      expect((await h.req('DELETE', `/studies/${s.studyId}/members/${co.id}`, { token: s.researcher })).status).toBe(404);
      // A member may leave; a researcher may not change members.
      await add(co.email, 'researcher');
      expect((await add(co.email, 'owner', coTok)).status).toBe(403);
      expect((await h.req('POST', `/studies/${s.studyId}/leave`, { token: coTok })).json).toMatchObject({ ok: true, previousRole: 'researcher' });
      // Audit: the study's creation and every membership change, on the study's log.
      const log = (await h.req('GET', `/studies/${s.studyId}/audit`, { token: s.researcher })).json as any[];
      expect(log.filter((r) => r.resource === 'study').map((r) => r.actor)).toEqual([`researcher:${creatorId}`]);
      expect(log.filter((r) => r.resource === 'membership').map((r) => r.detail).reverse()).toEqual([
        `added ${co.id} as owner`, `changed ${co.id} from owner to viewer`, `removed ${co.id} (was viewer)`, `added ${co.id} as researcher`, `removed ${co.id} (was researcher)`,
      ]);
    });

    it('disables an account: its sessions end at once, it cannot sign in, until enabled', async () => {
      const u = await newAccount(`dis-${b.name}@example.org`);
      const tok = await h.login(u.email, PW);
      expect((await h.req('GET', '/auth/me', { token: tok })).status).toBe(200); // now in the token cache
      expect((await h.req('POST', `/admin/researchers/${u.id}/disable`, { token: admin })).json).toEqual({ userId: u.id, disabled: true, sessionsEnded: 1 });
      expect((await h.req('GET', '/auth/me', { token: tok })).status).toBe(401);
      const again = await h.req('POST', '/auth/login', { body: { email: u.email, password: PW } });
      expect(again.status).toBe(403);
      expect(again.json.message).toBe('this account is disabled; ask an admin');
      expect((await h.req('GET', '/admin/researchers', { token: admin })).json.find((a: any) => a.id === u.id)).toMatchObject({ disabled: true });
      const me = (await h.req('GET', '/auth/me', { token: admin })).json.id;
      expect((await h.req('POST', `/admin/researchers/${me}/disable`, { token: admin })).status).toBe(409);
      expect((await h.req('POST', `/admin/researchers/${u.id}/enable`, { token: admin })).status).toBe(200);
      expect((await h.req('POST', '/auth/login', { body: { email: u.email, password: PW } })).status).toBe(200);
      expect((await audit('account')).filter((r) => r.detail.includes(u.id)).map((r) => r.detail).reverse()).toEqual([
        `created ${u.id}`, `disabled ${u.id}; 1 session(s) ended`, `enabled ${u.id}`,
      ]);
    });

    it(`locks one account after ${LOCK_AFTER} failed sign-ins, with doubling back-off and an admin unlock; audits sign-ins with the email hashed`, async () => {
      const u = await newAccount(`lock-${b.name}@example.org`);
      const other = await newAccount(`free-${b.name}@example.org`);
      const login = (email: string, password: string) => h.req('POST', '/auth/login', { body: { email, password } });
      for (let i = 0; i < LOCK_AFTER; i++) expect((await login(u.email, `wrong-${i}`)).status).toBe(401);
      const locked = await login(u.email, PW); // the right password does not help now
      expect(locked.status).toBe(429);
      const m = /^sign-in for this email is locked after 10 failed attempts; try again in (\d+) s or ask an admin to unlock it$/.exec(locked.json.message);
      expect(m, locked.json.message).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(30); // 1 minute, less the time since the 10th failure
      expect(Number(m![1])).toBeLessThanOrEqual(60);
      const raw = await h.server.app.inject({ method: 'POST', url: '/auth/login', payload: { email: u.email, password: PW } });
      expect(Number(raw.headers['retry-after'])).toBeGreaterThan(30);
      expect((await login(u.email.toUpperCase(), PW)).status).toBe(429); // the same account, however spelt
      expect((await login(other.email, PW)).status).toBe(200);
      // An unknown email locks the same way, so the lock does not tell whether an account exists.
      for (let i = 0; i <= LOCK_AFTER; i++) await login(`nobody-${b.name}@example.org`, 'x');
      expect((await login(`nobody-${b.name}@example.org`, 'x')).status).toBe(429);
      // Back-off: when the lock has run out, one more failure locks for twice as long.
      const row = () => h.server.store.loginFailures(sha256(u.email));
      await h.server.store.db.updateTable('login_failures').set({ locked_until_ms: Date.now() - 1 }).where('email_hash', '=', sha256(u.email)).execute();
      expect((await login(u.email, 'wrong-again')).status).toBe(401);
      const r = await row();
      expect(r!.failures).toBe(LOCK_AFTER + 1);
      expect(Number(r!.locked_until_ms) - Date.now()).toBeGreaterThan(100_000); // 2 minutes, less this slow machine's time since
      expect(Number(r!.locked_until_ms) - Date.now()).toBeLessThanOrEqual(120_000);
      expect([9, 10, 11, 12, 13, 16, 40].map(lockMs)).toEqual([0, 60_000, 120_000, 240_000, 480_000, 3_600_000, 3_600_000]);
      const listed = (await h.req('GET', '/admin/researchers', { token: admin })).json.find((a: any) => a.id === u.id);
      expect(listed.lockedUntil).not.toBeNull();
      // The admin unlocks; the next sign-in works and starts counting afresh.
      expect((await h.req('POST', `/admin/researchers/${u.id}/unlock`, { token: admin })).json).toEqual({ userId: u.id, unlocked: true });
      expect((await login(u.email, PW)).status).toBe(200);
      expect(await row()).toBeUndefined();
      // Audit: successes and failures name the email only by its sha256, never the password.
      const rows = (await audit('sign_in')).filter((a) => a.detail.includes(sha256(u.email)));
      expect(rows.filter((a) => a.detail.startsWith('failed: wrong password')).length).toBe(LOCK_AFTER + 1);
      expect(rows.filter((a) => a.detail.startsWith('refused: locked')).length).toBe(3);
      expect(rows.filter((a) => a.detail.startsWith('signed in')).map((a) => a.actor)).toEqual([`researcher:${u.id}`]);
      const all = JSON.stringify(await audit('sign_in'));
      for (const secret of [u.email, PW, 'wrong-1', `nobody-${b.name}@example.org`]) expect(all).not.toContain(secret);
      expect((await audit('account')).some((a) => a.detail === `unlocked sign-in of ${u.id}`)).toBe(true);
      // Sign-out is audited too.
      const t = await h.login(other.email, PW);
      expect((await h.req('POST', '/auth/logout', { token: t })).status).toBe(200);
      expect((await audit('sign_out')).some((a) => a.actor === `researcher:${other.id}`)).toBe(true);
    });

    it('with --trust-proxy, 11 failed sign-ins from one client behind the proxy lock that account only; without it every client shares the proxy\'s limit', async () => {
      const proxied = await startHarness(b.name, { trustProxy: true, authRateLimit: 10 });
      const direct = await startHarness(b.name, { authRateLimit: 10 });
      try {
        for (const x of [proxied, direct]) {
          const a = await x.login(ADMIN.email, ADMIN.password);
          for (const email of ['victim@example.org', 'bystander@example.org']) {
            expect((await x.req('POST', '/admin/researchers', { token: a, body: { email, password: PW } })).status).toBe(201);
          }
        }
        const from = (x: Harness, client: string, email: string, password: string) =>
          x.req('POST', '/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': client } });
        // Behind the proxy: the attacker (203.0.113.7) fails 11 times on one account.
        const codes = [];
        for (let i = 0; i < 11; i++) codes.push((await from(proxied, '203.0.113.7', 'victim@example.org', `guess-${i}`)).status);
        expect(codes).toEqual([...Array(10).fill(401), 429]);
        // That account is locked for everyone, with its right password too…
        const victim = await from(proxied, '198.51.100.20', 'victim@example.org', PW);
        expect(victim.status).toBe(429);
        expect(victim.json.message).toMatch(/^sign-in for this email is locked/);
        // …while other accounts and other clients are unaffected.
        expect((await from(proxied, '198.51.100.20', 'bystander@example.org', PW)).status).toBe(200);
        expect((await from(proxied, '198.51.100.21', 'bystander@example.org', PW)).status).toBe(200);
        // The attacker's own address is rate limited (10 a minute), on any account.
        expect((await from(proxied, '203.0.113.7', 'bystander@example.org', PW)).status).toBe(429);
        // The audit row names the real client.
        const signIns = await proxied.server.store.auditAll(100, 'sign_in');
        expect(signIns.some((r) => r.detail?.includes('client 203.0.113.7'))).toBe(true);

        // Without --trust-proxy (the default) X-Forwarded-For is ignored: every request comes from
        // the proxy's one address, so its 10 sign-ins a minute are everyone's: the admin's above
        // and 9 failures of one client use them up for every other client.
        for (let i = 0; i < 9; i++) expect((await from(direct, '203.0.113.7', 'victim@example.org', `guess-${i}`)).status).toBe(401);
        const shared = await from(direct, '198.51.100.20', 'bystander@example.org', PW);
        expect(shared.status).toBe(429);
        expect(shared.json.message).not.toMatch(/locked/); // the address's rate limit, not the account's lock
        expect((await direct.server.store.auditAll(100, 'sign_in')).every((r) => !r.detail?.includes('203.0.113.7'))).toBe(true);
      } finally {
        await proxied.close();
        await direct.close();
      }
    });
  });
}

describe('sign-in hardening without a back end of its own', () => {
  it('refuses a bootstrap admin password shorter than 12 characters, with a clear message', async () => {
    const backend = await makeBackend('sqlite');
    try {
      await expect(buildServer({ db: backend.url, dataDir: backend.dataDir, admin: { email: 'a@example.org', password: 'short-pw-11' } }))
        .rejects.toThrow('MOODLENS_ADMIN_PASSWORD: the first admin\'s password needs at least 12 characters (it has 11); nothing was created');
      const s = await buildServer({ db: backend.url, dataDir: backend.dataDir, admin: { email: 'a@example.org', password: 'long-enough-12' } });
      expect(await s.store.countUsers()).toBe(1);
      await s.close();
    } finally { await backend.cleanup(); }
  });

  it('keeps secrets out of URLs and redacts token-shaped values from the request log', async () => {
    const backend = await makeBackend('sqlite');
    const lines: string[] = [];
    const s = await buildServer({ db: backend.url, dataDir: backend.dataDir, admin: ADMIN, authRateLimit: 1000, logger: true, logStream: { write: (l: string) => { lines.push(l); } } });
    try {
      const inject = (method: string, url: string, payload?: unknown, token?: string) => s.app.inject({ method: method as 'GET', url, ...(payload ? { payload: payload as object } : {}), headers: token ? { authorization: `Bearer ${token}` } : {} });
      const admin = (await inject('POST', '/auth/login', ADMIN)).json().token as string;
      const study = (await inject('POST', '/studies', { config: { name: 'log study', timezone: 'UTC' } }, admin)).json();
      const inv = (await inject('POST', `/studies/${study.id}/participants`, { participantId: 'L1' }, admin)).json();
      expect(inv.enrolUrl).toBe(`http://localhost:80/app/#code=${inv.enrolCode}`);
      const me = (await inject('GET', '/auth/me', undefined, admin)).json();
      const reset = (await inject('POST', `/admin/researchers/${me.id}/password-reset`, {}, admin)).json();
      expect(reset.resetUrl).toBe(`http://localhost:80/dashboard/#reset=${reset.resetToken}`);
      // An old-style link still works: redirected with the code moved into the fragment.
      const old = await inject('GET', `/enrol?code=${inv.enrolCode}`);
      expect(old.statusCode).toBe(302);
      expect(old.headers.location).toBe(`/app/#code=${inv.enrolCode}`);
      // Secrets someone put in a URL anyway.
      await inject('GET', `/studies?token=${admin}&x=1`);
      await inject('GET', `/nowhere/${reset.resetToken}?access_token=abc&note=${'A'.repeat(40)}`);
      const log = lines.join('');
      expect(log).toContain('"url":"/enrol?code=[redacted]"');
      expect(log).toContain('"url":"/studies?token=[redacted]&x=1"');
      expect(log).toContain('"url":"/nowhere/[redacted]?access_token=[redacted]&note=[redacted]"');
      for (const secret of [inv.enrolCode, admin, reset.resetToken, 'A'.repeat(40)]) expect(log).not.toContain(secret);
      expect(log).not.toMatch(/authorization/i);
    } finally { await s.close(); await backend.cleanup(); }
    expect(redactUrl('/studies/s_abc/participants/P01/reports')).toBe('/studies/s_abc/participants/P01/reports');
    expect(redactUrl('/a?Code=X&rs=1&reset=rs_zzz')).toBe('/a?Code=[redacted]&rs=1&reset=[redacted]');
  });
});
