/** Researcher accounts: login/logout (bearer session tokens), the admin creating researchers. */
import { z } from 'zod';
import type { App, RouteDeps } from '../deps.js';
import { answers, Account, AccountDisabled, AccountEnabled, AccountRow, AccountUnlocked, AdminAuditRow, ErrorResponse, LoginResponse, Me, Ok, PasswordChanged, ResetIssued, ResetUsed } from '../responses.js';
import { randomBytes } from 'node:crypto';
import { LoginBody, CreateResearcherBody, ChangePasswordBody, IssueResetBody, UseResetBody, UserParams } from '../schemas.js';
import { dummyPasswordHash, hashPassword, newToken, sha256, verifyPassword } from '../auth.js';
import { HttpError, notFound, unauthorized } from '../errors.js';
import type { AuditEntry } from '../../storage/store.js';

const SESSION_MS = 12 * 3_600_000;

/** A one-time password reset token: 32 random bytes; the database keeps only its sha256. */
const newResetToken = () => 'rs_' + randomBytes(32).toString('base64url');

/** Sign-in lockout: after this many consecutive failures of one account name, sign-in is locked… */
export const LOCK_AFTER = 10;
/** …for 1 minute, doubling with every further failure (2, 4, 8 … minutes), at most 1 hour. */
export const LOCK_BASE_MS = 60_000;
export const LOCK_MAX_MS = 3_600_000;
export const lockMs = (failures: number) => (failures < LOCK_AFTER ? 0 : Math.min(LOCK_BASE_MS * 2 ** Math.min(failures - LOCK_AFTER, 20), LOCK_MAX_MS));

/** The audit log names an account by the sha256 of its lower-cased email, never the email or the password. */
export const emailHash = (email: string) => sha256(email.trim().toLowerCase());

export async function accountRoutes(app: App, { ctx, store, authRateLimit, publicUrl }: RouteDeps): Promise<void> {
  const signInAudit = (actorId: string, detail: string): AuditEntry =>
    ({ actor_kind: 'researcher', actor_id: actorId, action: 'write', study_id: null, participant_id: null, resource: 'sign_in', detail });

  app.post('/auth/login', {
    config: { rateLimit: { max: authRateLimit, timeWindow: '1 minute' } },
    schema: { response: answers({ 200: LoginResponse, 429: ErrorResponse }), tags: ['accounts'], summary: `Log in; returns a bearer session token (12 h). ${LOCK_AFTER} failed attempts for one email lock its sign-in (1 min, doubling, at most 1 h; 429)`, security: [], body: LoginBody },
  }, async (req, reply) => {
    const hash = emailHash(req.body.email);
    const who = `email sha256 ${hash}; client ${req.ip}`;
    const now = Date.now();
    const user = await store.userByEmail(req.body.email.trim());
    // Locked: refused without looking at the password. The lock is kept per email, account or
    // not, so it does not reveal whether an account exists.
    const f = await store.loginFailures(hash);
    if (f && f.locked_until_ms > now) {
      const wait = Math.ceil((f.locked_until_ms - now) / 1000);
      await store.audit(signInAudit(user?.id ?? '-', `refused: locked after ${f.failures} failures; ${who}`));
      return reply.code(429).header('retry-after', String(wait)).send({
        statusCode: 429, error: 'Too Many Requests',
        message: `sign-in for this email is locked after ${f.failures} failed attempts; try again in ${wait} s or ask an admin to unlock it`,
      });
    }
    // Verify against a dummy hash when the user does not exist: same time either way.
    const ok = await verifyPassword(req.body.password, user?.password_hash ?? await dummyPasswordHash());
    if (!user || !ok) {
      const r = await store.recordLoginFailure(hash, now, lockMs);
      await store.audit(signInAudit(user?.id ?? '-', `failed: ${user ? 'wrong password' : 'no such account'} (${r.failures} in a row${r.lockedUntil ? `, locked until ${new Date(r.lockedUntil).toISOString()}` : ''}); ${who}`));
      throw unauthorized('email or password is wrong');
    }
    if (f) await store.clearLoginFailures(hash);
    if (user.disabled_ms) {
      await store.audit(signInAudit(user.id, `refused: account disabled; ${who}`));
      throw new HttpError(403, 'this account is disabled; ask an admin');
    }
    const token = newToken('researcher');
    await store.createSession(user.id, sha256(token), SESSION_MS);
    await store.audit(signInAudit(user.id, `signed in; ${who}`));
    return { token, expiresAt: new Date(Date.now() + SESSION_MS).toISOString(), user: { id: user.id, email: user.email, isAdmin: user.is_admin } };
  });

  app.post('/auth/logout', { schema: { response: answers({ 200: Ok }), tags: ['accounts'], summary: 'End this session' } }, async (req) => {
    const u = await ctx.researcher(req);
    const token = req.headers.authorization!.slice(7).trim();
    await store.deleteSession(sha256(token));
    ctx.forgetSession(token);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'write', study_id: null, participant_id: null, resource: 'sign_out', detail: `client ${req.ip}` });
    return { ok: true };
  });

  app.get('/auth/me', { schema: { response: answers({ 200: Me }), tags: ['accounts'], summary: 'Who this session belongs to' } }, async (req) => {
    const u = await ctx.researcher(req);
    return { id: u.id, email: u.email, isAdmin: u.is_admin, studies: (await store.studiesOf(u)).map((s) => s.id) };
  });

  app.post('/admin/researchers', {
    schema: { response: answers({ 201: Account }), tags: ['accounts'], summary: 'Create a researcher account (admin only)', body: CreateResearcherBody },
  }, async (req, reply) => {
    if (await store.userByEmail(req.body.email)) throw new HttpError(409, `body.email: ${req.body.email} already has an account`, 'body.email');
    const admin = await ctx.admin(req);
    const u = await store.createUser({ email: req.body.email, passwordHash: await hashPassword(req.body.password), isAdmin: req.body.isAdmin });
    await store.audit({ actor_kind: 'researcher', actor_id: admin.id, action: 'write', study_id: null, participant_id: null, resource: 'account', detail: `created ${u.id}${u.is_admin ? ' (admin)' : ''}` });
    return reply.code(201).send({ id: u.id, email: u.email, isAdmin: u.is_admin });
  });

  app.get('/admin/researchers', { schema: { response: answers({ 200: z.array(AccountRow) }), tags: ['accounts'], summary: 'List accounts (admin only), with whether each is disabled or its sign-in locked', querystring: z.object({}) } }, async (req) => {
    await ctx.admin(req);
    const rows = await store.users();
    const now = Date.now();
    return Promise.all(rows.map(async (r) => {
      const f = await store.loginFailures(emailHash(r.email));
      return { id: r.id, email: r.email, isAdmin: r.is_admin, disabled: r.disabled_ms !== null, lockedUntil: f && f.locked_until_ms > now ? new Date(f.locked_until_ms).toISOString() : null };
    }));
  });

  /** The account named by :userId, or 404. */
  const account = async (userId: string) => {
    const user = await store.userById(userId);
    if (!user) throw notFound(`user ${userId}`);
    return user;
  };

  app.post('/admin/researchers/:userId/disable', {
    schema: { response: answers({ 200: AccountDisabled }), tags: ['accounts'], summary: 'Disable an account (admin only): it cannot sign in, and every session of it ends at once', params: UserParams },
  }, async (req) => {
    const admin = await ctx.admin(req);
    const user = await account(req.params.userId);
    if (user.id === admin.id) throw new HttpError(409, 'you cannot disable your own account');
    const ended = await store.setDisabled(user.id, true, { actor_kind: 'researcher', actor_id: admin.id, action: 'write', study_id: null, participant_id: null, resource: 'account', detail: `disabled ${user.id}` });
    ctx.forgetUser(user.id); // the 30 s token cache must not keep it signed in
    return { userId: user.id, disabled: true, sessionsEnded: ended };
  });

  app.post('/admin/researchers/:userId/enable', {
    schema: { response: answers({ 200: AccountEnabled }), tags: ['accounts'], summary: 'Enable a disabled account again (admin only); it signs in anew', params: UserParams },
  }, async (req) => {
    const admin = await ctx.admin(req);
    const user = await account(req.params.userId);
    await store.setDisabled(user.id, false, { actor_kind: 'researcher', actor_id: admin.id, action: 'write', study_id: null, participant_id: null, resource: 'account', detail: `enabled ${user.id}` });
    return { userId: user.id, disabled: false };
  });

  app.post('/admin/researchers/:userId/unlock', {
    schema: { response: answers({ 200: AccountUnlocked }), tags: ['accounts'], summary: 'Lift the sign-in lockout of an account after failed attempts (admin only)', params: UserParams },
  }, async (req) => {
    const admin = await ctx.admin(req);
    const user = await account(req.params.userId);
    const had = await store.clearLoginFailures(emailHash(user.email));
    await store.audit({ actor_kind: 'researcher', actor_id: admin.id, action: 'write', study_id: null, participant_id: null, resource: 'account', detail: `unlocked sign-in of ${user.id}${had ? '' : ' (had no failures)'}` });
    return { userId: user.id, unlocked: had };
  });

  app.post('/auth/password', {
    config: { rateLimit: { max: authRateLimit, timeWindow: '1 minute' } },
    schema: { response: answers({ 200: PasswordChanged }), tags: ['accounts'], summary: 'Change your password (needs the current one); your other sessions are ended', body: ChangePasswordBody },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const token = req.headers.authorization!.slice(7).trim();
    const user = await store.userById(u.id);
    if (!user || !(await verifyPassword(req.body.currentPassword, user.password_hash))) {
      throw new HttpError(403, 'body.currentPassword: is not your current password', 'body.currentPassword');
    }
    if (req.body.newPassword === req.body.currentPassword) throw new HttpError(400, 'body.newPassword: must differ from the current password', 'body.newPassword');
    const ended = await store.setPassword(u.id, await hashPassword(req.body.newPassword), sha256(token),
      { actor_kind: 'researcher', actor_id: u.id, action: 'write', study_id: null, participant_id: null, resource: 'password', detail: 'changed by the user' });
    ctx.forgetUser(u.id, token);
    return { ok: true, otherSessionsEnded: ended };
  });

  app.post('/admin/researchers/:userId/password-reset', {
    config: { rateLimit: { max: authRateLimit, timeWindow: '1 minute' } },
    schema: { response: answers({ 201: ResetIssued }), tags: ['accounts'], summary: 'Issue a one-time password reset token for an account (admin only; earlier unused tokens stop working)', params: UserParams, body: IssueResetBody },
  }, async (req, reply) => {
    const admin = await ctx.admin(req);
    const user = await store.userById(req.params.userId);
    if (!user) throw notFound(`user ${req.params.userId}`);
    const token = newResetToken();
    const expires = Date.now() + (req.body?.expiresHours ?? 24) * 3_600_000;
    await store.createPasswordReset(user.id, sha256(token), admin.id, expires,
      { actor_kind: 'researcher', actor_id: admin.id, action: 'write', study_id: null, participant_id: null, resource: 'password_reset', detail: `issued for ${user.id}, expires ${new Date(expires).toISOString()}` });
    const base = publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
    // The dashboard's reset page; the token rides in the fragment, which is never sent to a server.
    return reply.code(201).send({ userId: user.id, email: user.email, resetToken: token, expiresAt: new Date(expires).toISOString(), resetUrl: `${base.replace(/\/$/, '')}/dashboard/#reset=${token}` });
  });

  app.post('/auth/password-reset', {
    config: { rateLimit: { max: authRateLimit, timeWindow: '1 minute' } },
    schema: { response: answers({ 200: ResetUsed }), tags: ['accounts'], summary: 'Set a new password with a one-time reset token; every session of the account is ended', security: [], body: UseResetBody },
  }, async (req) => {
    const r = await store.consumePasswordReset(sha256(req.body.token.trim()), await hashPassword(req.body.newPassword));
    if (!r) throw new HttpError(400, 'body.token: unknown, used or expired reset token', 'body.token');
    ctx.forgetUser(r.user.id);
    return { ok: true, email: r.user.email, sessionsEnded: r.sessionsEnded };
  });

  app.get('/admin/audit', {
    schema: { response: answers({ 200: z.array(AdminAuditRow) }), tags: ['accounts'], summary: 'The whole audit log, newest first (admin only); account events have no study', querystring: z.object({ limit: z.coerce.number().int().min(1).max(10000).default(500), resource: z.string().max(100).regex(/^[a-z_]+$/).optional() }).strict() },
  }, async (req) => {
    await ctx.admin(req);
    const rows = await store.auditAll(req.query.limit, req.query.resource);
    return rows.map((r) => ({ time: new Date(r.time_ms).toISOString(), actor: `${r.actor_kind}:${r.actor_id}`, action: r.action, study: r.study_id, participant: r.participant_id, resource: r.resource, detail: r.detail }));
  });
}
