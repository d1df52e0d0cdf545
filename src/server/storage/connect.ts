/**
 * Opens the storage: `sqlite:FILE` (better-sqlite3, WAL, synchronous=FULL so that a commit is on
 * disk before it is acknowledged) or `postgres://…` (pg pool). Both become one `Kysely<DB>`;
 * nothing above this file knows which one it talks to.
 */
import { Kysely, SqliteDialect, PostgresDialect } from 'kysely';
import Database from 'better-sqlite3';
import pg from 'pg';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DB, DbKind } from './schema.js';
import { migrateToLatest } from './migrations.js';
import { UsageError } from '../../util/errors.js';

export interface DbHandle {
  db: Kysely<DB>;
  kind: DbKind;
  /** The URL with any password removed, for logs. */
  display: string;
  close(): Promise<void>;
}

const INT8_OID = 20;

/**
 * Kysely prepares every query afresh; preparing costs as much as running a small insert. Reuse
 * prepared statements by SQL text (bounded; the server never streams, so a statement is never
 * in use twice at once).
 */
function cachedStatements(sqlite: Database.Database, max = 1000) {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let st = cache.get(sql);
      if (!st) {
        st = sqlite.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(sql, st);
      }
      return st;
    },
  };
}

/** Parse `sqlite:FILE`, `sqlite::memory:` or `postgres://…` (also `postgresql://`). */
export function parseDbUrl(url: string): { kind: DbKind; target: string } {
  if (url.startsWith('sqlite:')) {
    const target = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!target) throw new UsageError('--db sqlite: needs a file, e.g. sqlite:./moodlens.db');
    return { kind: 'sqlite', target };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', target: url };
  throw new UsageError(`--db: expected sqlite:FILE or postgres://…, got "${url}"`);
}

export async function openDatabase(url: string, opts: { migrate?: boolean; poolSize?: number } = {}): Promise<DbHandle> {
  const { kind, target } = parseDbUrl(url);
  let db: Kysely<DB>;
  if (kind === 'sqlite') {
    if (target !== ':memory:') {
      mkdirSync(dirname(resolve(target)), { recursive: true, mode: 0o700 });
      // The database file 0600 whatever the umask; SQLite gives its -wal and -shm files the
      // database file's mode, and those that exist already are fixed too.
      closeSync(openSync(target, 'a', 0o600));
      for (const f of [target, `${target}-wal`, `${target}-shm`]) { try { chmodSync(f, 0o600); } catch { /* not there yet */ } }
    }
    const sqlite = new Database(target);
    sqlite.pragma('journal_mode = WAL');
    // FULL: the WAL is fsynced at every commit, so an acknowledged write survives a power cut.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // Deleted content is overwritten with zeros, so a withdrawn participant's rows do not linger
    // in free pages of the database file (with a WAL checkpoint after withdrawal: database.ts).
    sqlite.pragma('secure_delete = ON');
    db = new Kysely<DB>({ dialect: new SqliteDialect({ database: cachedStatements(sqlite) }) });
  } else {
    const pool = new pg.Pool({
      connectionString: target,
      max: opts.poolSize ?? 10,
      // bigint columns hold ms timestamps, far below 2^53: read them as numbers.
      types: { getTypeParser: ((oid: number, format?: any) => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as any },
    });
    // An idle pooled connection can be closed by the server (restart, admin termination). pg then
    // emits 'error' on the pool, which without a listener crashes the process; the pool has already
    // dropped that client and opens a new one on the next query, so a warning is all that is due.
    pool.on('error', (e) => { console.warn(`moodlens: PostgreSQL closed an idle connection (${(e as Error).message}); it will reconnect`); });
    // Reach the server once before anything else, so a wrong URL is one clear line.
    try {
      await pool.query('select 1');
    } catch (e) {
      await pool.end().catch(() => {});
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ECONNREFUSED' ? 'connection refused (is PostgreSQL running there?)'
        : err.code === 'ENOTFOUND' ? 'unknown host'
        : err.code === '3D000' ? 'no such database (create it first: createdb …)'
        : err.code === '28P01' || err.code === '28000' ? 'authentication failed (user or password)'
        : err.message;
      throw new UsageError(`--db: cannot connect to ${target.replace(/:[^:@/]*@/, ':***@')}: ${why}`);
    }
    db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  }
  if (opts.migrate !== false) {
    try { await migrateToLatest(db, kind); } catch (e) { await db.destroy(); throw e; }
  }
  return { db, kind, display: kind === 'sqlite' ? `sqlite:${target}` : target.replace(/:[^:@/]*@/, ':***@'), close: () => db.destroy() };
}
