/** Researcher accounts: login/logout (bearer session tokens), the admin creating researchers. */
import { z } from 'zod';
import type { App, RouteDeps } from '../app.js';
import { randomBytes } from 'node:crypto';
import { LoginBody, CreateResearcherBody, ChangePasswordBody, IssueResetBody, UseResetBody, UserParams } from '../schemas.js';
import { dummyPasswordHash, hashPassword, newToken, sha256, verifyPassword } from '../auth.js';
import { HttpError, notFound, unauthorized } from '../http-error.js';

const SESSION_MS = 12 * 3_600_000;

/** A one-time password reset token: 32 random bytes; the database keeps only its sha256. */
const newResetToken = () => 'rs_' + randomBytes(32).toString('base64url');

export async function accountRoutes(app: App, { ctx, store, authRateLimit, publicUrl }: RouteDeps): Promise<void> {
  app.post('/auth/login', {
    config: { rateLimit: { max: authRateLimit, timeWindow: '1 minute' } },
    schema: { tags: ['accounts'], summary: 'Log in; returns a bearer session token (12 h)', security: [], body: LoginBody },
  }, async (req) => {
    const user = await store.userByEmail(req.body.email);
    // Verify against a dummy hash when the user does not exist: same time either way.
    const ok = await verifyPassword(req.body.password, user?.password_hash ?? await dummyPasswordHash());
    if (!user || !ok) throw unauthorized('email or password is wrong');
    const token = newToken('researcher');
    await store.createSession(user.id, sha256(token), SESSION_MS);
    return { token, expiresAt: new Date(Date.now() + SESSION_MS).toISOString(), user: { id: user.id, email: user.email, isAdmin: user.is_admin === 1 } };
  });

  app.post('/auth/logout', { schema: { tags: ['accounts'], summary: 'End this session' } }, async (req) => {
    await ctx.researcher(req);
    const token = req.headers.authorization!.slice(7).trim();
    await store.deleteSession(sha256(token));
    ctx.forgetSession(token);
    return { ok: true };
  });

  app.get('/auth/me', { schema: { tags: ['accounts'], summary: 'Who this session belongs to' } }, async (req) => {
    const u = await ctx.researcher(req);
    return { id: u.id, email: u.email, isAdmin: u.is_admin === 1, studies: (await store.studiesOf(u)).map((s) => s.id) };
  });

  app.post('/admin/researchers', {
    schema: { tags: ['accounts'], summary: 'Create a researcher account (admin only)', body: CreateResearcherBody },
  }, async (req, reply) => {
    await ctx.admin(req);
    if (await store.userByEmail(req.body.email)) throw new HttpError(409, `body.email: ${req.body.email} already has an account`, 'body.email');
    const u = await store.createUser({ email: req.body.email, passwordHash: await hashPassword(req.body.password), isAdmin: req.body.isAdmin });
    return reply.code(201).send({ id: u.id, email: u.email, isAdmin: u.is_admin === 1 });
  });

  app.get('/admin/researchers', { schema: { tags: ['accounts'], summary: 'List accounts (admin only)', querystring: z.object({}) } }, async (req) => {
    await ctx.admin(req);
    const rows = await store.db.selectFrom('users').select(['id', 'email', 'is_admin']).orderBy('email').execute();
    return rows.map((r) => ({ id: r.id, email: r.email, isAdmin: r.is_admin === 1 }));
  });

  app.post('/auth/password', {
    config: { rateLimit: { max: authRateLimit, timeWindow: '1 minute' } },
    schema: { tags: ['accounts'], summary: 'Change your password (needs the current one); your other sessions are ended', body: ChangePasswordBody },
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
    schema: { tags: ['accounts'], summary: 'Issue a one-time password reset token for an account (admin only; earlier unused tokens stop working)', params: UserParams, body: IssueResetBody },
  }, async (req, reply) => {
    const admin = await ctx.admin(req);
    const user = await store.userById(req.params.userId);
    if (!user) throw notFound(`user ${req.params.userId}`);
    const token = newResetToken();
    const expires = Date.now() + (req.body?.expiresHours ?? 24) * 3_600_000;
    await store.createPasswordReset(user.id, sha256(token), admin.id, expires,
      { actor_kind: 'researcher', actor_id: admin.id, action: 'write', study_id: null, participant_id: null, resource: 'password_reset', detail: `issued for ${user.id}, expires ${new Date(expires).toISOString()}` });
    const base = publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
    return reply.code(201).send({ userId: user.id, email: user.email, resetToken: token, expiresAt: new Date(expires).toISOString(), resetUrl: `${base.replace(/\/$/, '')}/reset-password?token=${token}` });
  });

  app.post('/auth/password-reset', {
    config: { rateLimit: { max: authRateLimit, timeWindow: '1 minute' } },
    schema: { tags: ['accounts'], summary: 'Set a new password with a one-time reset token; every session of the account is ended', security: [], body: UseResetBody },
  }, async (req) => {
    const r = await store.consumePasswordReset(sha256(req.body.token.trim()), await hashPassword(req.body.newPassword));
    if (!r) throw new HttpError(400, 'body.token: unknown, used or expired reset token', 'body.token');
    ctx.forgetUser(r.user.id);
    return { ok: true, email: r.user.email, sessionsEnded: r.sessionsEnded };
  });

  app.get('/admin/audit', {
    schema: { tags: ['accounts'], summary: 'The whole audit log, newest first (admin only); account events have no study', querystring: z.object({ limit: z.coerce.number().int().min(1).max(10000).default(500), resource: z.string().max(100).regex(/^[a-z_]+$/).optional() }).strict() },
  }, async (req) => {
    await ctx.admin(req);
    const rows = await store.auditAll(req.query.limit, req.query.resource);
    return rows.map((r) => ({ time: new Date(r.time_ms).toISOString(), actor: `${r.actor_kind}:${r.actor_id}`, action: r.action, study: r.study_id, participant: r.participant_id, resource: r.resource, detail: r.detail }));
  });
}
