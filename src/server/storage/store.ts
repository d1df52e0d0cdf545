/**
 * The server's storage: ONE interface (this class) over Kysely, the same code for SQLite and
 * PostgreSQL. Writes that carry participant data go through the group committer, together with
 * their audit-log row, so the data and the record of who wrote it commit atomically.
 */
import { sql, CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { DB, DbKind, ParticipantsTable, ReportsTable, StudiesTable, AlertsTable, PredictionsTable, SpeechTable, UsersTable } from './schema.js';
import { GroupCommitter } from './group-commit.js';
import type { DbHandle } from './connect.js';
import { newId } from '../http/auth.js';
import { HttpError } from '../http/errors.js';
import { AuditChain } from './audit-chain.js';
import type { Keyring } from './crypto.js';
import { columnContext } from './data-key.js';

export type Participant = ParticipantsTable;
export type Report = ReportsTable;
export type Study = StudiesTable;
export type Alert = AlertsTable;
export type Prediction = PredictionsTable;
export type Speech = SpeechTable;
export type User = UsersTable;

export interface AuditEntry {
  actor_kind: 'researcher' | 'participant' | 'system';
  actor_id: string;
  action: 'read' | 'write' | 'delete';
  study_id: string | null;
  participant_id: string | null;
  resource: string;
  detail?: string | null;
}

export interface WithdrawalSummary {
  participantId: string;
  reports: number;
  speechRecordings: number;
  activityEpochs: number;
  predictions: number;
  alerts: number;
  /** Web Push subscriptions, reminders sent, and notes of recordings the app could not deliver. */
  pushSubscriptions: number;
  reminders: number;
  speechFailures: number;
  /** Speech files to remove from disk (relative to the data directory). */
  files: string[];
}

/** The outcome of a membership change: done (with the role before), or why not (an HTTP status and a message). */
export type MemberChange = { ok: true; previous: string | null } | { ok: false; status: 403 | 404 | 409; message: string };

/** What a participant-data write returns when the participant withdrew while it was in flight. */
const GONE = Symbol('withdrawn');

/** A write refused because the participant has withdrawn (possibly while the request was in flight). */
export const withdrawnError = () => new HttpError(410, 'this participant has withdrawn from the study; nothing was stored');

/** SQLite allows 32,766 bound parameters per statement. */
const EPOCH_ROWS_PER_INSERT = 8000;

export class Store {
  readonly db: Kysely<DB>;
  readonly kind: DbKind;
  private committer: GroupCommitter;
  private chain: AuditChain;

  private reportSql: { insert: string; audit: string; status: string };
  /** Fixed SQL of the prediction path (prepared once; no query building per request). */
  private predSql: { participant: string; countBefore: string; countBeforeExcept: string; activity: string; insert: string };

  /**
   * `keys`: the data keys (encryption at rest, data-key.ts). Covariates and the notes of failed
   * recordings are sealed here as they are written and opened as they are read: everything
   * above the Store sees plaintext.
   */
  constructor(private handle: DbHandle, readonly keys: Keyring) {
    this.db = handle.db;
    this.kind = handle.kind;
    this.chain = new AuditChain(handle.kind);
    this.committer = new GroupCommitter(handle.db, 512, (trx) => this.chain.seal(trx));
    const ph = (n: number) => Array.from({ length: n }, (_, i) => (this.kind === 'postgres' ? `$${i + 1}` : '?')).join(',');
    const n = (i: number) => (this.kind === 'postgres' ? `$${i}` : '?');
    this.predSql = {
      participant: `select * from participants where study_id = ${n(1)} and label = ${n(2)}`,
      countBefore: `select count(*) as n from reports where participant_id = ${n(1)} and time_ms < ${n(2)}`,
      countBeforeExcept: `select count(*) as n from reports where participant_id = ${n(1)} and (time_ms < ${n(2)} or (time_ms = ${n(3)} and id != ${n(4)}))`,
      activity: `select participant_id, t_ms, vals from activity where participant_id = ${n(1)} and t_ms >= ${n(2)} and t_ms < ${n(3)} order by t_ms`,
      insert: `insert into predictions (id, study_id, participant_id, report_id, created_ms, kind, items, inputs) values (${ph(8)})`,
    };
    this.reportSql = {
      insert: `insert into reports (id, study_id, participant_id, client_id, time, time_ms, server_ms, trigger, answers, item_order, prompt_time, late) values (${ph(12)}) on conflict (participant_id, client_id) do nothing`,
      audit: `insert into audit (time_ms, actor_kind, actor_id, action, study_id, participant_id, resource, detail) values (${ph(8)})`,
      status: `select status from participants where id = ${n(1)}`,
    };
  }

  async close(): Promise<void> {
    await this.committer.flushed();
    await this.handle.close();
  }

  /** Run a write in the shared (group-committed) transaction; resolves once it is durable. */
  write<T>(op: (trx: Transaction<DB>) => Promise<T>): Promise<T> { return this.committer.write(op); }

  /**
   * A write of a participant's data: inside the same transaction, and so serialised with a
   * withdrawal, the participant is checked to be still there; a withdrawn (or deleted) one gets
   * 410 and nothing is written. (The op is not run, so a group never rolls back for it.)
   */
  async writeForParticipant<T>(participantId: string, op: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    const r = await this.write(async (trx) => {
      const st = (await trx.executeQuery<{ status: string }>(CompiledQuery.raw(this.reportSql.status, [participantId]))).rows[0];
      return !st || st.status === 'withdrawn' ? GONE : op(trx);
    });
    if (r === GONE) throw withdrawnError();
    return r as T;
  }

  private auditRow(e: AuditEntry, now = Date.now()) {
    return { time_ms: now, actor_kind: e.actor_kind, actor_id: e.actor_id, action: e.action, study_id: e.study_id, participant_id: e.participant_id, resource: e.resource, detail: e.detail ?? null };
  }

  /** Record an access (reads are audited too); durable before it resolves. */
  audit(entries: AuditEntry | AuditEntry[]): Promise<void> {
    const rows = (Array.isArray(entries) ? entries : [entries]).map((e) => this.auditRow(e));
    if (rows.length === 0) return Promise.resolve();
    return this.write(async (trx) => { await trx.insertInto('audit').values(rows).execute(); });
  }

  /** Seal audit rows written before the chain existed (or by hand): at start. */
  sealAudit(): Promise<void> { return this.write(async () => {}); }

  async auditLog(studyId: string, limit: number, f: { action?: string; resource?: string; actorKind?: string; actorId?: string; sinceMs?: number; untilMs?: number } = {}): Promise<DB['audit'][]> {
    let q = this.db.selectFrom('audit').selectAll().where('study_id', '=', studyId);
    if (f.action) q = q.where('action', '=', f.action);
    if (f.resource) q = q.where('resource', '=', f.resource);
    if (f.actorKind) q = q.where('actor_kind', '=', f.actorKind);
    if (f.actorId) q = q.where('actor_id', '=', f.actorId);
    if (f.sinceMs !== undefined) q = q.where('time_ms', '>=', f.sinceMs);
    if (f.untilMs !== undefined) q = q.where('time_ms', '<', f.untilMs);
    return q.orderBy('id', 'desc').limit(limit).execute() as any;
  }


  // ---------- users and sessions ----------

  async countUsers(): Promise<number> {
    const r = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async createUser(u: { email: string; passwordHash: string; isAdmin: boolean }): Promise<User> {
    const row: User = { id: newId('u_'), email: u.email.toLowerCase(), password_hash: u.passwordHash, is_admin: u.isAdmin ? 1 : 0, created_ms: Date.now(), disabled_ms: null };
    await this.db.insertInto('users').values(row).execute();
    return row;
  }

  userByEmail(email: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
  }

  async createSession(userId: string, tokenHash: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    await this.db.insertInto('sessions').values({ token_hash: tokenHash, user_id: userId, created_ms: now, expires_ms: now + ttlMs }).execute();
  }

  async sessionUser(tokenHash: string): Promise<(User & { expires_ms: number }) | undefined> {
    return this.db.selectFrom('sessions').innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users').select('sessions.expires_ms')
      .where('sessions.token_hash', '=', tokenHash).where('sessions.expires_ms', '>', Date.now())
      .where('users.disabled_ms', 'is', null) // a disabled account has no session (its rows are also deleted)
      .executeTakeFirst();
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }

  userById(id: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Set a user's password and end their sessions (all, or all but `keepSession`), with the audit
   * row, in one transaction. Returns how many sessions were ended.
   */
  setPassword(userId: string, passwordHash: string, keepSession: string | null, actor: AuditEntry): Promise<number> {
    return this.write(async (trx) => {
      await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
      let del = trx.deleteFrom('sessions').where('user_id', '=', userId);
      if (keepSession) del = del.where('token_hash', '!=', keepSession);
      const r = await del.executeTakeFirst();
      const ended = Number(r.numDeletedRows);
      await trx.insertInto('audit').values(this.auditRow({ ...actor, detail: `${actor.detail ?? ''}; ${ended} session(s) ended` })).execute();
      return ended;
    });
  }

  /** A one-time reset token for a user (only its hash is stored); earlier unused ones stop working. */
  createPasswordReset(userId: string, tokenHash: string, createdBy: string, expiresMs: number, actor: AuditEntry): Promise<void> {
    return this.write(async (trx) => {
      await trx.deleteFrom('password_resets').where('user_id', '=', userId).where('used_ms', 'is', null).execute();
      await trx.insertInto('password_resets').values({ token_hash: tokenHash, user_id: userId, created_by: createdBy, created_ms: Date.now(), expires_ms: expiresMs, used_ms: null }).execute();
      await trx.insertInto('audit').values(this.auditRow(actor)).execute();
    });
  }

  /**
   * Use a reset token: valid (unused, not expired) → the new password is set, the token marked
   * used (once, even under concurrent attempts), every session of the user ended, audited.
   * Returns the user and how many sessions ended, or undefined for an unknown/used/expired token.
   */
  consumePasswordReset(tokenHash: string, passwordHash: string): Promise<{ user: User; sessionsEnded: number } | undefined> {
    const now = Date.now();
    return this.write(async (trx) => {
      const t = await trx.selectFrom('password_resets').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      if (!t || t.used_ms !== null || t.expires_ms <= now) return undefined;
      const r = await trx.updateTable('password_resets').set({ used_ms: now }).where('token_hash', '=', tokenHash).where('used_ms', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return undefined;
      await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', t.user_id).execute();
      const ended = Number((await trx.deleteFrom('sessions').where('user_id', '=', t.user_id).executeTakeFirst()).numDeletedRows);
      await trx.insertInto('audit').values(this.auditRow({ actor_kind: 'researcher', actor_id: t.user_id, action: 'write', study_id: null, participant_id: null, resource: 'password', detail: `reset with a token issued by ${t.created_by}; ${ended} session(s) ended` }, now)).execute();
      const user = await trx.selectFrom('users').selectAll().where('id', '=', t.user_id).executeTakeFirstOrThrow();
      return { user, sessionsEnded: ended };
    });
  }

  /** Disable (every session ended) or enable an account, with the audit row, in one transaction. Returns the sessions ended. */
  setDisabled(userId: string, disabled: boolean, actor: AuditEntry): Promise<number> {
    return this.write(async (trx) => {
      await trx.updateTable('users').set({ disabled_ms: disabled ? Date.now() : null }).where('id', '=', userId).execute();
      const ended = disabled ? Number((await trx.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst()).numDeletedRows) : 0;
      await trx.insertInto('audit').values(this.auditRow({ ...actor, detail: `${actor.detail ?? ''}${disabled ? `; ${ended} session(s) ended` : ''}` })).execute();
      return ended;
    });
  }

  // ---------- sign-in failures (lockout) ----------

  async loginFailures(emailHash: string): Promise<{ failures: number; locked_until_ms: number } | undefined> {
    return this.db.selectFrom('login_failures').select(['failures', 'locked_until_ms']).where('email_hash', '=', emailHash).executeTakeFirst();
  }

  /** Count one more failed sign-in of an account name; `lockMs(failures)` says how long it is then locked (0: not). */
  recordLoginFailure(emailHash: string, now: number, lockMs: (failures: number) => number): Promise<{ failures: number; lockedUntil: number }> {
    return this.write(async (trx) => {
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
    const r = await this.db.deleteFrom('login_failures').where('email_hash', '=', emailHash).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Audit rows (newest first), optionally of one resource only (admin view of account events). */
  async auditAll(limit: number, resource?: string): Promise<DB['audit'][]> {
    let q = this.db.selectFrom('audit').selectAll();
    if (resource) q = q.where('resource', '=', resource);
    return q.orderBy('id', 'desc').limit(limit).execute() as any;
  }

  // ---------- studies ----------

  async createStudy(s: { name: string; config: string; settings: string; ownerId: string }): Promise<Study> {
    const row: Study = { id: newId('s_'), name: s.name, config: s.config, settings: s.settings, model_dir: null, created_ms: Date.now(), created_by: s.ownerId };
    await this.write(async (trx) => {
      await trx.insertInto('studies').values(row).execute();
      await trx.insertInto('study_members').values({ study_id: row.id, user_id: s.ownerId, role: 'owner' }).execute();
      await trx.insertInto('audit').values(this.auditRow({ actor_kind: 'researcher', actor_id: s.ownerId, action: 'write', study_id: row.id, participant_id: null, resource: 'study', detail: `created "${s.name}"` })).execute();
    });
    return row;
  }

  /**
   * Replace a study's configuration (name, study.json, settings) while it holds no data: no
   * report and no wristband epoch. Checked in the transaction that writes it; false when it has data.
   */
  async updateStudy(studyId: string, s: { name: string; config: string; settings: string }, actor: AuditEntry): Promise<boolean> {
    return this.write(async (trx) => {
      const report = await trx.selectFrom('reports').select('id').where('study_id', '=', studyId).limit(1).executeTakeFirst();
      const epoch = report ? undefined : await trx.selectFrom('activity').innerJoin('participants', 'participants.id', 'activity.participant_id')
        .select('activity.t_ms').where('participants.study_id', '=', studyId).limit(1).executeTakeFirst();
      if (report || epoch) return false;
      await trx.updateTable('studies').set({ name: s.name, config: s.config, settings: s.settings }).where('id', '=', studyId).execute();
      await trx.insertInto('audit').values(this.auditRow(actor)).execute();
      return true;
    });
  }

  study(id: string): Promise<Study | undefined> {
    return this.db.selectFrom('studies').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async studiesOf(user: User): Promise<Study[]> {
    if (user.is_admin) return this.db.selectFrom('studies').selectAll().orderBy('created_ms').execute();
    return this.db.selectFrom('studies').innerJoin('study_members', 'study_members.study_id', 'studies.id')
      .selectAll('studies').where('study_members.user_id', '=', user.id).orderBy('studies.created_ms').execute();
  }

  async memberRole(studyId: string, userId: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('study_members').select('role').where('study_id', '=', studyId).where('user_id', '=', userId).executeTakeFirst();
    return r?.role;
  }

  /** The members of a study with their accounts, owners first. */
  async members(studyId: string): Promise<{ user_id: string; email: string; role: string; disabled_ms: number | null }[]> {
    const rows = await this.db.selectFrom('study_members').innerJoin('users', 'users.id', 'study_members.user_id')
      .select(['study_members.user_id', 'users.email', 'study_members.role', 'users.disabled_ms'])
      .where('study_members.study_id', '=', studyId).orderBy('users.email').execute();
    const rank = (r: string) => ['owner', 'researcher', 'viewer'].indexOf(r);
    return rows.map((r) => ({ ...r, disabled_ms: r.disabled_ms ?? null })).sort((a, b) => rank(a.role) - rank(b.role));
  }

  /**
   * Add a member, change a member's role, or (role null) remove one — checked and done in one
   * transaction: the study's creator is changed or removed only by itself or an admin, and the
   * last owner is never demoted or removed. The audit row (resource "membership") commits with it.
   */
  changeMember(studyId: string, userId: string, role: string | null, by: { id: string; isAdmin: boolean }, actor: AuditEntry): Promise<MemberChange> {
    return this.write(async (trx): Promise<MemberChange> => {
      const study = await trx.selectFrom('studies').select(['created_by']).where('id', '=', studyId).executeTakeFirst();
      if (!study) return { ok: false, status: 404, message: `study ${studyId} not found` };
      const cur = await trx.selectFrom('study_members').select('role').where('study_id', '=', studyId).where('user_id', '=', userId).executeTakeFirst();
      const previous = cur?.role ?? null;
      if (role === null && previous === null) return { ok: false, status: 404, message: `member ${userId} not found in this study` };
      if (role === previous) return { ok: true, previous };
      if (study.created_by === userId && by.id !== userId && !by.isAdmin && role !== 'owner') {
        return { ok: false, status: 403, message: 'the study\'s creator cannot be demoted or removed by a co-owner' };
      }
      if (previous === 'owner') {
        const owners = await trx.selectFrom('study_members').select((eb) => eb.fn.countAll<number>().as('n')).where('study_id', '=', studyId).where('role', '=', 'owner').executeTakeFirstOrThrow();
        if (Number(owners.n) <= 1) return { ok: false, status: 409, message: 'the study\'s last owner cannot leave or be demoted: make another member an owner first' };
      }
      if (role === null) await trx.deleteFrom('study_members').where('study_id', '=', studyId).where('user_id', '=', userId).execute();
      else if (previous === null) await trx.insertInto('study_members').values({ study_id: studyId, user_id: userId, role }).execute();
      else await trx.updateTable('study_members').set({ role }).where('study_id', '=', studyId).where('user_id', '=', userId).execute();
      const what = role === null ? `removed ${userId} (was ${previous})` : previous === null ? `added ${userId} as ${role}` : `changed ${userId} from ${previous} to ${role}`;
      await trx.insertInto('audit').values(this.auditRow({ ...actor, detail: actor.detail ? `${what}; ${actor.detail}` : what })).execute();
      return { ok: true, previous };
    });
  }

  /** Every study that has a model attached: its id and stored model_dir. */
  studyModels(): Promise<{ id: string; model_dir: string }[]> {
    return this.db.selectFrom('studies').select(['id', 'model_dir']).where('model_dir', 'is not', null).execute() as Promise<{ id: string; model_dir: string }[]>;
  }

  async setModel(studyId: string, modelDir: string | null): Promise<void> {
    await this.db.updateTable('studies').set({ model_dir: modelDir }).where('id', '=', studyId).execute();
  }

  // ---------- participants ----------

  async createParticipant(p: Omit<Participant, 'id' | 'created_ms' | 'enrolled_ms' | 'token_hash' | 'status'>, actor: AuditEntry): Promise<Participant> {
    const row: Participant = { ...p, id: newId('p_'), status: 'invited', token_hash: null, created_ms: Date.now(), enrolled_ms: null };
    const sealed = { ...row, covariates: this.keys.sealValue(row.covariates, columnContext('participants', 'covariates', row.id)),
      display_name: row.display_name ? this.keys.sealValue(row.display_name, columnContext('participants', 'display_name', row.id)) : null };
    await this.write(async (trx) => {
      await trx.insertInto('participants').values(sealed).execute();
      await trx.insertInto('audit').values(this.auditRow({ ...actor, participant_id: row.id })).execute();
    });
    return row;
  }

  async participant(studyId: string, label: string): Promise<Participant | undefined> {
    const r = await this.db.executeQuery<Participant>(CompiledQuery.raw(this.predSql.participant, [studyId, label]));
    return this.opened(r.rows[0]);
  }

  async participantById(id: string): Promise<Participant | undefined> {
    return this.opened(await this.db.selectFrom('participants').selectAll().where('id', '=', id).executeTakeFirst());
  }

  async participants(studyId: string): Promise<Participant[]> {
    return (await this.db.selectFrom('participants').selectAll().where('study_id', '=', studyId).orderBy('label').execute()).map((p) => this.opened(p)!);
  }

  async participantByToken(tokenHash: string): Promise<Participant | undefined> {
    return this.opened(await this.db.selectFrom('participants').selectAll().where('token_hash', '=', tokenHash).where('status', '=', 'active').executeTakeFirst());
  }

  /** A participant row with its covariates opened (sealed at rest; plaintext from an older version is read as it is). */
  private opened(p: Participant | undefined): Participant | undefined {
    return p && { ...p, covariates: this.keys.openValue(p.covariates, columnContext('participants', 'covariates', p.id)),
      display_name: p.display_name ? this.keys.openValue(p.display_name, columnContext('participants', 'display_name', p.id)) : null };
  }

  /** The participant accepted the study's consent text (its sha256) now: recorded and audited, once (a repeat keeps the first time). */
  recordConsent(p: Participant, textSha256: string, now: number): Promise<number> {
    return this.writeForParticipant(p.id, async (trx) => {
      const had = await trx.selectFrom('participants').select(['consented_ms', 'consent_sha256']).where('id', '=', p.id).executeTakeFirstOrThrow();
      if (had.consented_ms != null && had.consent_sha256 === textSha256) return Number(had.consented_ms);
      await trx.updateTable('participants').set({ consented_ms: now, consent_sha256: textSha256 }).where('id', '=', p.id).execute();
      await trx.insertInto('audit').values(this.auditRow({ actor_kind: 'participant', actor_id: p.id, action: 'write', study_id: p.study_id, participant_id: p.id, resource: 'consent', detail: `sha256 ${textSha256}` }, now)).execute();
      return now;
    });
  }

  /**
   * Exchange a one-time enrolment code for a device token: the code is cleared in the same
   * statement that checks it, so it works once even under concurrent attempts.
   */
  async enrol(codeHash: string, tokenHash: string): Promise<Participant | undefined> {
    const now = Date.now();
    return this.write(async (trx) => {
      const p = await trx.selectFrom('participants').selectAll().where('enrol_code_hash', '=', codeHash).executeTakeFirst();
      if (!p || p.status !== 'invited' || (p.enrol_expires_ms !== null && p.enrol_expires_ms < now)) return undefined;
      const r = await trx.updateTable('participants')
        .set({ enrol_code_hash: null, enrol_expires_ms: null, token_hash: tokenHash, status: 'active', enrolled_ms: now })
        .where('id', '=', p.id).where('enrol_code_hash', '=', codeHash).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return undefined;
      await trx.insertInto('audit').values(this.auditRow({ actor_kind: 'participant', actor_id: p.id, action: 'write', study_id: p.study_id, participant_id: p.id, resource: 'enrolment' }, now)).execute();
      return { ...this.opened(p)!, token_hash: tokenHash, status: 'active', enrolled_ms: now, enrol_code_hash: null, enrol_expires_ms: null };
    });
  }

  /** A fresh code for a participant who lost their phone; revokes the old device token. */
  /**
   * A new enrolment code (a lost or replaced phone): the old device token stops working and the
   * old device's push subscriptions go, in the same transaction, so reminders never reach the
   * lost phone. Returns how many subscriptions were dropped.
   */
  async reissueCode(participantId: string, codeHash: string, expiresMs: number, actor: AuditEntry): Promise<{ pushSubscriptions: number }> {
    return this.write(async (trx) => {
      await trx.updateTable('participants').set({ enrol_code_hash: codeHash, enrol_expires_ms: expiresMs, token_hash: null, status: 'invited' })
        .where('id', '=', participantId).where('status', '!=', 'withdrawn').execute();
      const dropped = Number((await trx.deleteFrom('web_push_subscriptions').where('participant_id', '=', participantId).executeTakeFirst()).numDeletedRows);
      await trx.insertInto('audit').values(this.auditRow({ ...actor, detail: `${actor.detail ?? 'new code'}; ${dropped} push subscription(s) of the old device removed` })).execute();
      return { pushSubscriptions: dropped };
    });
  }

  // ---------- reports ----------

  /**
   * Insert a report unless the participant already sent one with this client id (a retry):
   * then the stored one is returned with `created: false`.
   */
  insertReport(r: Report): Promise<{ report: Report; created: boolean }> {
    return this.writeForParticipant(r.participant_id, async (trx) => {
      // The hottest write: fixed SQL text (prepared once), no query building per report.
      const res = await trx.executeQuery(CompiledQuery.raw(this.reportSql.insert, [
        r.id, r.study_id, r.participant_id, r.client_id, r.time, r.time_ms, r.server_ms, r.trigger, r.answers, r.item_order, r.prompt_time, r.late]));
      if (Number(res.numAffectedRows ?? 0n) === 1) {
        const a = this.auditRow({ actor_kind: 'participant', actor_id: r.participant_id, action: 'write', study_id: r.study_id, participant_id: r.participant_id, resource: 'report', detail: r.id });
        await trx.executeQuery(CompiledQuery.raw(this.reportSql.audit, [a.time_ms, a.actor_kind, a.actor_id, a.action, a.study_id, a.participant_id, a.resource, a.detail]));
        return { report: r, created: true };
      }
      const existing = await trx.selectFrom('reports').selectAll().where('participant_id', '=', r.participant_id).where('client_id', '=', r.client_id).executeTakeFirstOrThrow();
      return { report: existing, created: false };
    });
  }

  reportByClientId(participantId: string, clientId: string): Promise<Report | undefined> {
    return this.db.selectFrom('reports').selectAll().where('participant_id', '=', participantId).where('client_id', '=', clientId).executeTakeFirst();
  }

  /** Reports of a participant before `timeMs` (and those at `timeMs` other than `exceptId`). */
  async countReportsBefore(participantId: string, timeMs: number, exceptId: string | null): Promise<number> {
    const r = exceptId === null
      ? await this.db.executeQuery<{ n: number }>(CompiledQuery.raw(this.predSql.countBefore, [participantId, timeMs]))
      : await this.db.executeQuery<{ n: number }>(CompiledQuery.raw(this.predSql.countBeforeExcept, [participantId, timeMs, timeMs, exceptId]));
    return Number(r.rows[0].n);
  }

  reportsOf(participantId: string): Promise<Report[]> {
    return this.db.selectFrom('reports').selectAll().where('participant_id', '=', participantId).orderBy('time_ms').orderBy('id').execute();
  }

  /** Reports of a study in pages (keyset on id), for export. */
  async *studyReports(studyId: string, page = 5000): AsyncGenerator<Report[]> {
    let after = '';
    for (;;) {
      const rows = await this.db.selectFrom('reports').selectAll().where('study_id', '=', studyId).where('id', '>', after).orderBy('id').limit(page).execute();
      if (rows.length === 0) return;
      after = rows[rows.length - 1].id;
      yield rows;
    }
  }

  // ---------- speech ----------

  /**
   * Store a recording's row; when it is new, `place` (moving the file into place) runs inside the
   * same transaction before it commits, so a committed row always has its file. A crash between
   * the move and the commit leaves a file without a row, which the start-up sweep removes.
   * `place` must be idempotent (a shared group that rolls back runs the write again).
   */
  insertSpeech(s: Speech, place?: () => Promise<void>): Promise<{ speech: Speech; created: boolean }> {
    return this.writeForParticipant(s.participant_id, async (trx) => {
      const res = await trx.insertInto('speech').values(s).onConflict((oc) => oc.column('report_id').doNothing()).executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0n) === 1) {
        await place?.();
        await trx.insertInto('audit').values(this.auditRow({ actor_kind: 'participant', actor_id: s.participant_id, action: 'write', study_id: s.study_id, participant_id: s.participant_id, resource: 'speech', detail: s.report_id })).execute();
        return { speech: s, created: true };
      }
      return { speech: await trx.selectFrom('speech').selectAll().where('report_id', '=', s.report_id).executeTakeFirstOrThrow(), created: false };
    });
  }

  /** The file of every stored recording (relative to the data directory). */
  async speechFiles(): Promise<Set<string>> {
    return new Set((await this.db.selectFrom('speech').select('file').execute()).map((r) => r.file));
  }

  speechOf(reportId: string): Promise<Speech | undefined> {
    return this.db.selectFrom('speech').selectAll().where('report_id', '=', reportId).executeTakeFirst();
  }

  reportById(id: string): Promise<Report | undefined> {
    return this.db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Features computed on the server from a stored recording (source "server"). Stored only while
   * the recording still is (a withdrawal may have run while they were computed; writes are
   * serialised, so the check and the insert see one state). False when nothing was stored.
   */
  storeComputedSpeechFeatures(s: Speech, features: string, now: number): Promise<boolean> {
    return this.writeForStoredRecording(s, now, 'speech_features', s.report_id, (trx) =>
      trx.insertInto('speech_features').values({ report_id: s.report_id, study_id: s.study_id, participant_id: s.participant_id, features, created_ms: now, source: 'server' })
        .onConflict((oc) => oc.column('report_id').doNothing()).executeTakeFirst());
  }

  /** A recording the server's feature extraction rejected: a failure note (web_speech_failures, first note wins), while the recording is stored. */
  storeSpeechRejection(s: Speech, reason: string, message: string, now: number): Promise<boolean> {
    return this.writeForStoredRecording(s, now, 'speech_failure', `${s.report_id}: server: ${reason}`, (trx) =>
      trx.insertInto('web_speech_failures').values({ report_id: s.report_id, study_id: s.study_id, participant_id: s.participant_id, reason: 'rejected', detail: this.keys.sealValue(`server: ${reason}: ${message}`, columnContext('web_speech_failures', 'detail', s.report_id)), created_ms: now })
        .onConflict((oc) => oc.column('report_id').doNothing()).executeTakeFirst());
  }

  /**
   * The speech extractor's writes: in one transaction, only while the recording is still stored,
   * `insert` (first result wins) and, when it inserted a row, the audit record. True when stored.
   */
  private writeForStoredRecording(s: Speech, now: number, resource: string, detail: string,
    insert: (trx: Transaction<DB>) => Promise<{ numInsertedOrUpdatedRows?: bigint }>): Promise<boolean> {
    return this.write(async (trx) => {
      if (!(await trx.selectFrom('speech').select('report_id').where('report_id', '=', s.report_id).executeTakeFirst())) return false;
      if (Number((await insert(trx)).numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
      await trx.insertInto('audit').values(this.auditRow({ actor_kind: 'system', actor_id: 'speech-extractor', action: 'write', study_id: s.study_id, participant_id: s.participant_id, resource, detail }, now)).execute();
      return true;
    });
  }

  /** Stored recordings with neither features nor a failure note (server extraction still owed). */
  async speechWithoutFeatures(): Promise<{ report_id: string; study_id: string }[]> {
    return this.db.selectFrom('speech')
      .leftJoin('speech_features', 'speech_features.report_id', 'speech.report_id')
      .leftJoin('web_speech_failures', 'web_speech_failures.report_id', 'speech.report_id')
      .select(['speech.report_id', 'speech.study_id'])
      .where('speech_features.report_id', 'is', null).where('web_speech_failures.report_id', 'is', null)
      .orderBy('speech.created_ms').execute();
  }

  /** Store the speech features of a report (first upload wins; returns what is stored). */
  insertSpeechFeatures(f: DB['speech_features']): Promise<{ stored: DB['speech_features']; created: boolean }> {
    return this.writeForParticipant(f.participant_id, async (trx) => {
      const res = await trx.insertInto('speech_features').values(f).onConflict((oc) => oc.column('report_id').doNothing()).executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0n) === 1) {
        await trx.insertInto('audit').values(this.auditRow({ actor_kind: 'participant', actor_id: f.participant_id, action: 'write', study_id: f.study_id, participant_id: f.participant_id, resource: 'speech_features', detail: f.report_id })).execute();
        return { stored: f, created: true };
      }
      return { stored: await trx.selectFrom('speech_features').selectAll().where('report_id', '=', f.report_id).executeTakeFirstOrThrow(), created: false };
    });
  }

  async speechFeaturesOf(reportId: string): Promise<DB['speech_features'] | undefined> {
    return this.db.selectFrom('speech_features').selectAll().where('report_id', '=', reportId).executeTakeFirst();
  }

  /** report id → features JSON of one participant. */
  async participantSpeechFeatures(participantId: string): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('speech_features').select(['report_id', 'features']).where('participant_id', '=', participantId).execute();
    return new Map(rows.map((r) => [r.report_id, r.features]));
  }

  /** Every feature name uploaded to the study so far (in the order first sent). */
  async studySpeechFeatureNames(studyId: string): Promise<string[]> {
    const names = new Set<string>();
    for (const r of await this.db.selectFrom('speech_features').select('features').where('study_id', '=', studyId).orderBy('created_ms').execute()) {
      for (const k of Object.keys(JSON.parse(r.features))) names.add(k);
    }
    return [...names];
  }

  studySpeechFeatures(studyId: string): Promise<DB['speech_features'][]> {
    return this.db.selectFrom('speech_features').selectAll().where('study_id', '=', studyId).orderBy('report_id').execute();
  }

  studySpeech(studyId: string): Promise<Speech[]> {
    return this.db.selectFrom('speech').selectAll().where('study_id', '=', studyId).orderBy('report_id').execute();
  }

  // ---------- activity ----------

  /**
   * Insert a batch of epochs in one transaction; an epoch already stored for the same participant
   * and start time is left as it is (first write wins), so overlapping and repeated batches are
   * harmless. Returns how many epochs were new.
   */
  insertEpochs(studyId: string, participantId: string, epochs: { t_ms: number; vals: string }[]): Promise<number> {
    return this.writeForParticipant(participantId, async (trx) => {
      let inserted = 0;
      if (this.kind === 'postgres') {
        // Three array parameters, however many rows: PostgreSQL parses and plans one small
        // statement instead of one with tens of thousands of placeholders.
        const r = await trx.executeQuery(CompiledQuery.raw(
          'insert into activity (participant_id, t_ms, vals) select $1, t, v from unnest($2::bigint[], $3::text[]) as u(t, v) on conflict (participant_id, t_ms) do nothing',
          [participantId, epochs.map((e) => e.t_ms), epochs.map((e) => e.vals)]));
        inserted = Number(r.numAffectedRows ?? 0n);
      } else {
        for (let i = 0; i < epochs.length; i += EPOCH_ROWS_PER_INSERT) {
          const chunk = epochs.slice(i, i + EPOCH_ROWS_PER_INSERT);
          const params: unknown[] = new Array(chunk.length * 3);
          for (let k = 0; k < chunk.length; k++) { params[3 * k] = participantId; params[3 * k + 1] = chunk[k].t_ms; params[3 * k + 2] = chunk[k].vals; }
          // The hot path of wristband ingest: one prepared multi-row insert, built once per row
          // count (the query builder's per-value work cost more than SQLite's).
          const r = await trx.executeQuery(CompiledQuery.raw(this.epochInsertSql(chunk.length), params));
          inserted += Number(r.numAffectedRows ?? 0n);
        }
      }
      await trx.insertInto('audit').values(this.auditRow({ actor_kind: 'participant', actor_id: participantId, action: 'write', study_id: studyId, participant_id: participantId, resource: 'activity', detail: `${epochs.length} epochs, ${inserted} new` })).execute();
      return inserted;
    });
  }

  private epochSql = new Map<number, string>();
  private epochInsertSql(rows: number): string {
    let q = this.epochSql.get(rows);
    if (!q) {
      const tuples: string[] = [];
      for (let k = 0; k < rows; k++) tuples.push('(?,?,?)');
      q = `insert into activity (participant_id, t_ms, vals) values ${tuples.join(',')} on conflict (participant_id, t_ms) do nothing`;
      if (this.epochSql.size > 64) this.epochSql.clear();
      this.epochSql.set(rows, q);
    }
    return q;
  }

  /** Activity of a study in pages ordered by participant then time (keyset), for export. */
  async *studyActivity(studyId: string, page = 20000): AsyncGenerator<DB['activity'][]> {
    let afterP = '', afterT = -Infinity;
    for (;;) {
      const rows = await this.db.selectFrom('activity').innerJoin('participants', 'participants.id', 'activity.participant_id')
        .select(['activity.participant_id', 'activity.t_ms', 'activity.vals']).where('participants.study_id', '=', studyId)
        .where((eb) => eb.or([eb('activity.participant_id', '>', afterP), eb.and([eb('activity.participant_id', '=', afterP), eb('activity.t_ms', '>', Number.isFinite(afterT) ? afterT : -1e15)])]))
        .orderBy('activity.participant_id').orderBy('activity.t_ms').limit(page).execute();
      if (rows.length === 0) return;
      afterP = rows[rows.length - 1].participant_id; afterT = rows[rows.length - 1].t_ms;
      yield rows;
    }
  }

  async countStudyActivity(studyId: string): Promise<number> {
    const r = await this.db.selectFrom('activity').innerJoin('participants', 'participants.id', 'activity.participant_id')
      .select((eb) => eb.fn.countAll<number>().as('n')).where('participants.study_id', '=', studyId).where('participants.status', '!=', 'withdrawn').executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // ---------- export jobs ----------

  async createExportJob(j: DB['export_jobs']): Promise<void> { await this.db.insertInto('export_jobs').values(j).execute(); }

  async updateExportJob(id: string, set: Partial<DB['export_jobs']>): Promise<void> {
    await this.db.updateTable('export_jobs').set(set).where('id', '=', id).execute();
  }

  exportJob(studyId: string, id: string): Promise<DB['export_jobs'] | undefined> {
    return this.db.selectFrom('export_jobs').selectAll().where('study_id', '=', studyId).where('id', '=', id).executeTakeFirst();
  }

  exportJobs(studyId: string): Promise<DB['export_jobs'][]> {
    return this.db.selectFrom('export_jobs').selectAll().where('study_id', '=', studyId).orderBy('created_ms', 'desc').execute();
  }

  /** Finished (done or failed) exports of every study that finished before `beforeMs`. */
  finishedExportsBefore(beforeMs: number): Promise<DB['export_jobs'][]> {
    return this.db.selectFrom('export_jobs').selectAll().where('status', 'in', ['done', 'failed']).where('finished_ms', '<', beforeMs).execute();
  }

  /** Jobs a previous process left queued or running can never finish: mark them failed. */
  async failInterruptedExports(now: number): Promise<number> {
    const r = await this.db.updateTable('export_jobs').set({ status: 'failed', error: 'interrupted by a server restart; start the export again', finished_ms: now })
      .where('status', 'in', ['queued', 'running']).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Epochs of one participant with start in [fromMs, toMs). */
  async activityBetween(participantId: string, fromMs: number, toMs: number): Promise<DB['activity'][]> {
    return (await this.db.executeQuery<DB['activity']>(CompiledQuery.raw(this.predSql.activity, [participantId, fromMs, toMs]))).rows;
  }

  async countActivity(participantId: string): Promise<number> {
    const r = await this.db.selectFrom('activity').select((eb) => eb.fn.countAll<number>().as('n')).where('participant_id', '=', participantId).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // ---------- predictions and alerts ----------

  /** Store a prediction (with the audit row of whoever asked for it, in the same commit). */
  insertPrediction(p: Prediction, audit?: AuditEntry): Promise<void> {
    return this.write(async (trx) => {
      await trx.executeQuery(CompiledQuery.raw(this.predSql.insert, [p.id, p.study_id, p.participant_id, p.report_id, p.created_ms, p.kind, p.items, p.inputs ?? null]));
      if (audit) {
        const a = this.auditRow({ ...audit, detail: p.id });
        await trx.executeQuery(CompiledQuery.raw(this.reportSql.audit, [a.time_ms, a.actor_kind, a.actor_id, a.action, a.study_id, a.participant_id, a.resource, a.detail]));
      }
    });
  }

  predictionsOf(participantId: string): Promise<Prediction[]> {
    return this.db.selectFrom('predictions').selectAll().where('participant_id', '=', participantId).orderBy('created_ms').execute();
  }

  /** Record an alert episode, or extend the one already recorded for the same run. */
  upsertAlert(a: Alert): Promise<{ created: boolean }> {
    return this.write(async (trx) => {
      const r = await trx.insertInto('alerts').values(a).onConflict((oc) => oc.columns(['participant_id', 'item', 'source', 'started_ms'])
        .doUpdateSet({ last_ms: a.last_ms, n_reports: a.n_reports })).executeTakeFirst();
      const existing = await trx.selectFrom('alerts').select('id').where('participant_id', '=', a.participant_id).where('item', '=', a.item)
        .where('source', '=', a.source).where('started_ms', '=', a.started_ms).executeTakeFirstOrThrow();
      void r;
      return { created: existing.id === a.id };
    });
  }

  alerts(studyId: string, status: 'open' | 'acknowledged' | 'all'): Promise<Alert[]> {
    let q = this.db.selectFrom('alerts').selectAll().where('study_id', '=', studyId);
    if (status === 'open') q = q.where('acknowledged_ms', 'is', null);
    if (status === 'acknowledged') q = q.where('acknowledged_ms', 'is not', null);
    return q.orderBy('detected_ms', 'desc').execute();
  }

  async acknowledgeAlert(studyId: string, alertId: string, userId: string): Promise<Alert | undefined> {
    return this.write(async (trx) => {
      await trx.updateTable('alerts').set({ acknowledged_by: userId, acknowledged_ms: Date.now() })
        .where('id', '=', alertId).where('study_id', '=', studyId).where('acknowledged_ms', 'is', null).execute();
      const a = await trx.selectFrom('alerts').selectAll().where('id', '=', alertId).where('study_id', '=', studyId).executeTakeFirst();
      if (a) await trx.insertInto('audit').values(this.auditRow({ actor_kind: 'researcher', actor_id: userId, action: 'write', study_id: studyId, participant_id: a.participant_id, resource: 'alert', detail: `acknowledged ${alertId}` })).execute();
      return a;
    });
  }

  // ---------- withdrawal ----------

  /**
   * Delete every piece of a participant's data (reports, speech records, activity, predictions,
   * alerts) in one transaction; the participant row stays as a tombstone ("withdrawn", no token,
   * no covariates) so the id is not reused and the audit log keeps its meaning.
   */
  withdraw(participant: Participant, actor: AuditEntry): Promise<WithdrawalSummary> {
    return this.write(async (trx) => {
      const pid = participant.id;
      const files = (await trx.selectFrom('speech').select('file').where('participant_id', '=', pid).execute()).map((r) => r.file);
      const n = (r: { numDeletedRows: bigint }[]) => r.reduce((s, x) => s + Number(x.numDeletedRows), 0);
      const speech = n(await trx.deleteFrom('speech').where('participant_id', '=', pid).execute())
        + n(await trx.deleteFrom('speech_features').where('participant_id', '=', pid).execute());
      const predictions = n(await trx.deleteFrom('predictions').where('participant_id', '=', pid).execute());
      const alerts = n(await trx.deleteFrom('alerts').where('participant_id', '=', pid).execute());
      const reports = n(await trx.deleteFrom('reports').where('participant_id', '=', pid).execute());
      const activity = n(await trx.deleteFrom('activity').where('participant_id', '=', pid).execute());
      // The web front end's tables (migration 0010_web_push): push subscriptions and reminders
      // sent, and the notes of recordings the app could not deliver — in the same transaction.
      const pushSubscriptions = n(await trx.deleteFrom('web_push_subscriptions').where('participant_id', '=', pid).execute());
      const reminders = n(await trx.deleteFrom('web_push_sent').where('participant_id', '=', pid).execute());
      const speechFailures = n(await trx.deleteFrom('web_speech_failures').where('participant_id', '=', pid).execute());
      await trx.updateTable('participants').set({ status: 'withdrawn', token_hash: null, enrol_code_hash: null, enrol_expires_ms: null, covariates: '{}', display_name: null })
        .where('id', '=', pid).execute();
      const summary: WithdrawalSummary = { participantId: participant.label, reports, speechRecordings: speech, activityEpochs: activity, predictions, alerts, pushSubscriptions, reminders, speechFailures, files };
      await trx.insertInto('audit').values(this.auditRow({ ...actor, action: 'delete', resource: 'participant', detail: JSON.stringify({ ...summary, files: files.length }) })).execute();
      return summary;
    });
  }

  /**
   * After a deletion that must leave no copy (withdrawal): on SQLite, secure_delete (set at open)
   * has zeroed the freed cells in the pages; a TRUNCATE checkpoint copies those pages into the
   * database file and empties the WAL, which still held the earlier page images. PostgreSQL keeps
   * dead tuples until VACUUM reuses their space (docs/security.md).
   */
  async purgeFreedPages(): Promise<void> {
    if (this.kind !== 'sqlite') return;
    await this.committer.flushed();
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(this.db);
  }

  /** Number of rows of each kind held for a participant (tests, withdrawal checks). */
  async holdings(participantId: string): Promise<Record<string, number>> {
    const count = async (t: 'reports' | 'speech' | 'speech_features' | 'activity' | 'predictions' | 'alerts') => Number((await this.db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).where('participant_id', '=', participantId).executeTakeFirstOrThrow()).n);
    return { reports: await count('reports'), speech: (await count('speech')) + (await count('speech_features')), activity: await count('activity'), predictions: await count('predictions'), alerts: await count('alerts') };
  }

  /** Liveness of the database. */
  async ping(): Promise<void> { await sql`select 1`.execute(this.db); }
}
