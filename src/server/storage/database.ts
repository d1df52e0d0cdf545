/**
 * What every repository shares: the Kysely instance (the same code for SQLite and PostgreSQL), the
 * data keys (sealed columns are sealed as they are written and opened as they are read), and the
 * write path — writes that carry participant data go through the group committer together with
 * their audit-log row, so the data and the record of who wrote it commit atomically.
 */
import { sql, CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { DB, DbKind } from './schema.js';
import type { DbHandle } from './connect.js';
import { GroupCommitter } from './group-commit.js';
import { AuditChain } from './audit-chain.js';
import type { Keyring } from './crypto.js';
import type { ActorKind, AuditAction } from './columns.js';

export interface AuditEntry {
  actor_kind: ActorKind;
  actor_id: string;
  action: AuditAction;
  study_id: string | null;
  participant_id: string | null;
  resource: string;
  detail?: string | null;
}

/** A write refused because the participant has withdrawn (possibly while the request was in flight): answered 410. */
export class WithdrawnError extends Error {
  readonly statusCode = 410;
  constructor() { super('this participant has withdrawn from the study; nothing was stored'); }
}

/** What a participant-data write returns when the participant withdrew while it was in flight. */
const GONE = Symbol('withdrawn');

export class Database {
  readonly db: Kysely<DB>;
  readonly kind: DbKind;
  private committer: GroupCommitter;
  /** Fixed SQL shared by the hottest writes (prepared once; no query building per request). */
  private fixed: { audit: string; status: string };

  constructor(private handle: DbHandle, readonly keys: Keyring) {
    this.db = handle.db;
    this.kind = handle.kind;
    const chain = new AuditChain(handle.kind);
    this.committer = new GroupCommitter(handle.db, 512, async (trx) => {
      const hooks = this.committing.get(trx);
      if (hooks) { this.committing.delete(trx); for (const h of hooks) await h(trx); }
      await chain.seal(trx);
    });
    this.fixed = {
      audit: `insert into audit (time_ms, actor_kind, actor_id, action, study_id, participant_id, resource, detail) values (${this.placeholders(8)})`,
      status: `select status from participants where id = ${this.param(1)}`,
    };
  }

  /** The i-th bound parameter (1-based) in this back end's SQL. */
  param(i: number): string { return this.kind === 'postgres' ? `$${i}` : '?'; }
  /** n bound parameters, comma-separated. */
  placeholders(n: number): string { return Array.from({ length: n }, (_, i) => this.param(i + 1)).join(','); }

  async close(): Promise<void> {
    await this.committer.flushed();
    await this.handle.close();
  }

  private committing = new WeakMap<Transaction<DB>, Array<(trx: Transaction<DB>) => Promise<void>>>();

  /**
   * Run `fn` at the end of this write transaction, before it commits (and before the audit chain
   * seals it): what the writes of a commit group add together (their jobs: jobs/queue.ts) is
   * written by one statement. Rolled back with the transaction.
   */
  beforeCommit(trx: Transaction<DB>, fn: (trx: Transaction<DB>) => Promise<void>): void {
    const hooks = this.committing.get(trx);
    if (hooks) hooks.push(fn); else this.committing.set(trx, [fn]);
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
      const st = (await trx.executeQuery<{ status: string }>(CompiledQuery.raw(this.fixed.status, [participantId]))).rows[0];
      return !st || st.status === 'withdrawn' ? GONE : op(trx);
    });
    if (r === GONE) throw new WithdrawnError();
    return r as T;
  }

  auditRow(e: AuditEntry, now = Date.now()) {
    return { time_ms: now, actor_kind: e.actor_kind, actor_id: e.actor_id, action: e.action, study_id: e.study_id, participant_id: e.participant_id, resource: e.resource, detail: e.detail ?? null };
  }

  /** Insert one audit row inside a write (fixed SQL: the hot paths' audit rows). */
  async insertAudit(trx: Transaction<DB>, e: AuditEntry, now = Date.now()): Promise<void> {
    const a = this.auditRow(e, now);
    await trx.executeQuery(CompiledQuery.raw(this.fixed.audit, [a.time_ms, a.actor_kind, a.actor_id, a.action, a.study_id, a.participant_id, a.resource, a.detail]));
  }

  /** Record an access (reads are audited too); durable before it resolves. */
  audit(entries: AuditEntry | AuditEntry[]): Promise<void> {
    const rows = (Array.isArray(entries) ? entries : [entries]).map((e) => this.auditRow(e));
    if (rows.length === 0) return Promise.resolve();
    return this.write(async (trx) => { await trx.insertInto('audit').values(rows).execute(); });
  }

  /** Seal audit rows written before the chain existed (or by hand): at start. */
  sealAudit(): Promise<void> { return this.write(async () => {}); }

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

  /** Liveness of the database. */
  async ping(): Promise<void> { await sql`select 1`.execute(this.db); }
}

/** Rows a statement inserted (or updated, for an upsert): 1 when a write created its row. */
export const inserted = (r: { numInsertedOrUpdatedRows?: bigint }) => Number(r.numInsertedOrUpdatedRows ?? 0n);
