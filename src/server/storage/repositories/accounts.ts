/** Researcher accounts: users, sessions, one-time password resets, failed sign-ins (lockout). */
import type { Database, AuditEntry } from '../database.js';
import { decodeUser, encodeUser, type User } from '../rows.js';
import { newId } from '../ids.js';

export class AccountsRepository {
  constructor(private d: Database) {}

  async countUsers(): Promise<number> {
    const r = await this.d.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async createUser(u: { email: string; passwordHash: string; isAdmin: boolean }): Promise<User> {
    const row: User = { id: newId('u_'), email: u.email.toLowerCase(), password_hash: u.passwordHash, is_admin: u.isAdmin, created_ms: Date.now(), disabled_ms: null };
    await this.d.db.insertInto('users').values(encodeUser(row)).execute();
    return row;
  }

  async userByEmail(email: string): Promise<User | undefined> {
    const r = await this.d.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
    return r && decodeUser(r);
  }

  async userById(id: string): Promise<User | undefined> {
    const r = await this.d.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && decodeUser(r);
  }

  /** Every account, by email (admin view). */
  async users(): Promise<User[]> {
    return (await this.d.db.selectFrom('users').selectAll().orderBy('email').execute()).map(decodeUser);
  }

  /** The email of the first admin account (the VAPID subject of Web Push). */
  async firstAdminEmail(): Promise<string | undefined> {
    return (await this.d.db.selectFrom('users').select('email').where('is_admin', '=', 1).orderBy('created_ms').limit(1).executeTakeFirst())?.email;
  }

  async createSession(userId: string, tokenHash: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    await this.d.db.insertInto('sessions').values({ token_hash: tokenHash, user_id: userId, created_ms: now, expires_ms: now + ttlMs }).execute();
  }

  async sessionUser(tokenHash: string): Promise<(User & { expires_ms: number }) | undefined> {
    const r = await this.d.db.selectFrom('sessions').innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users').select('sessions.expires_ms')
      .where('sessions.token_hash', '=', tokenHash).where('sessions.expires_ms', '>', Date.now())
      .where('users.disabled_ms', 'is', null) // a disabled account has no session (its rows are also deleted)
      .executeTakeFirst();
    return r && { ...decodeUser(r), expires_ms: r.expires_ms };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.d.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }

  /**
   * Set a user's password and end their sessions (all, or all but `keepSession`), with the audit
   * row, in one transaction. Returns how many sessions were ended.
   */
  setPassword(userId: string, passwordHash: string, keepSession: string | null, actor: AuditEntry): Promise<number> {
    return this.d.write(async (trx) => {
      await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
      let del = trx.deleteFrom('sessions').where('user_id', '=', userId);
      if (keepSession) del = del.where('token_hash', '!=', keepSession);
      const r = await del.executeTakeFirst();
      const ended = Number(r.numDeletedRows);
      await trx.insertInto('audit').values(this.d.auditRow({ ...actor, detail: `${actor.detail ?? ''}; ${ended} session(s) ended` })).execute();
      return ended;
    });
  }

  /** A one-time reset token for a user (only its hash is stored); earlier unused ones stop working. */
  createPasswordReset(userId: string, tokenHash: string, createdBy: string, expiresMs: number, actor: AuditEntry): Promise<void> {
    return this.d.write(async (trx) => {
      await trx.deleteFrom('password_resets').where('user_id', '=', userId).where('used_ms', 'is', null).execute();
      await trx.insertInto('password_resets').values({ token_hash: tokenHash, user_id: userId, created_by: createdBy, created_ms: Date.now(), expires_ms: expiresMs, used_ms: null }).execute();
      await trx.insertInto('audit').values(this.d.auditRow(actor)).execute();
    });
  }

  /**
   * Use a reset token: valid (unused, not expired) → the new password is set, the token marked
   * used (once, even under concurrent attempts), every session of the user ended, audited.
   * Returns the user and how many sessions ended, or undefined for an unknown/used/expired token.
   */
  consumePasswordReset(tokenHash: string, passwordHash: string): Promise<{ user: User; sessionsEnded: number } | undefined> {
    const now = Date.now();
    return this.d.write(async (trx) => {
      const t = await trx.selectFrom('password_resets').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      if (!t || t.used_ms !== null || t.expires_ms <= now) return undefined;
      const r = await trx.updateTable('password_resets').set({ used_ms: now }).where('token_hash', '=', tokenHash).where('used_ms', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return undefined;
      await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', t.user_id).execute();
      const ended = Number((await trx.deleteFrom('sessions').where('user_id', '=', t.user_id).executeTakeFirst()).numDeletedRows);
      await trx.insertInto('audit').values(this.d.auditRow({ actor_kind: 'researcher', actor_id: t.user_id, action: 'write', study_id: null, participant_id: null, resource: 'password', detail: `reset with a token issued by ${t.created_by}; ${ended} session(s) ended` }, now)).execute();
      const user = decodeUser(await trx.selectFrom('users').selectAll().where('id', '=', t.user_id).executeTakeFirstOrThrow());
      return { user, sessionsEnded: ended };
    });
  }

  /** Disable (every session ended) or enable an account, with the audit row, in one transaction. Returns the sessions ended. */
  setDisabled(userId: string, disabled: boolean, actor: AuditEntry): Promise<number> {
    return this.d.write(async (trx) => {
      await trx.updateTable('users').set({ disabled_ms: disabled ? Date.now() : null }).where('id', '=', userId).execute();
      const ended = disabled ? Number((await trx.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst()).numDeletedRows) : 0;
      await trx.insertInto('audit').values(this.d.auditRow({ ...actor, detail: `${actor.detail ?? ''}${disabled ? `; ${ended} session(s) ended` : ''}` })).execute();
      return ended;
    });
  }

  // ---------- sign-in failures (lockout) ----------

  async loginFailures(emailHash: string): Promise<{ failures: number; locked_until_ms: number } | undefined> {
    return this.d.db.selectFrom('login_failures').select(['failures', 'locked_until_ms']).where('email_hash', '=', emailHash).executeTakeFirst();
  }

  /** Count one more failed sign-in of an account name; `lockMs(failures)` says how long it is then locked (0: not). */
  recordLoginFailure(emailHash: string, now: number, lockMs: (failures: number) => number): Promise<{ failures: number; lockedUntil: number }> {
    return this.d.write(async (trx) => {
      const r = await trx.insertInto('login_failures').values({ email_hash: emailHash, failures: 1, last_ms: now, locked_until_ms: 0 })
        .onConflict((oc) => oc.column('email_hash').doUpdateSet((eb) => ({ failures: eb('login_failures.failures', '+', 1), last_ms: now })))
        .returning('failures').executeTakeFirstOrThrow();
      const failures = Number(r.failures);
      const ms = lockMs(failures);
      const lockedUntil = ms > 0 ? now + ms : 0;
      if (lockedUntil) await trx.updateTable('login_failures').set({ locked_until_ms: lockedUntil }).where('email_hash', '=', emailHash).execute();
      return { failures, lockedUntil };
    });
  }

  /** Forget the failures of an account name (a successful sign-in, an admin unlock); true when there were some. */
  async clearLoginFailures(emailHash: string): Promise<boolean> {
    const r = await this.d.db.deleteFrom('login_failures').where('email_hash', '=', emailHash).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
