/** Researcher accounts: login/logout (bearer session tokens), the admin creating researchers. */
import { z } from 'zod';
import type { App, RouteDeps } from '../app.js';
import { LoginBody, CreateResearcherBody } from '../schemas.js';
import { dummyPasswordHash, hashPassword, newToken, sha256, verifyPassword } from '../auth.js';
import { HttpError, unauthorized } from '../http-error.js';

const SESSION_MS = 12 * 3_600_000;

export async function accountRoutes(app: App, { ctx, store, authRateLimit }: RouteDeps): Promise<void> {
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
}
