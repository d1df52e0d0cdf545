/**
 * The data key (docs/security.md, "Encryption at rest"): where it comes from, the start-up check
 * that it is the right one, sealing what an older version left in plaintext, and key rotation.
 *
 * - The key is 32 random bytes, base64 text in a key file (`serve --key-file PATH`, default
 *   `<data-dir>/keys/data.key`, created 0600 on first start with a log line saying it must be
 *   backed up) or in MOODLENS_DATA_KEY.
 * - A canary (a known text sealed under the key) is stored in table crypto_meta at first start;
 *   every start opens it, so a wrong or missing key is a clear start-up error, never garbage.
 * - Rotation (`moodlens rotate-key`) stores the new key sealed under the old one in crypto_meta
 *   ("rotation"); every running server polls for it, adds the new key and seals with it from
 *   then on, so reads keep working while every value and file is sealed again under the new key.
 *   At the end the canary is sealed under the new key and the "rotation" row deleted: the next
 *   start needs the new key.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';
import { DecryptError, Keyring, keyIdOf, parseKey, isSealedValue, valueKeyId } from './crypto.js';
import { createPrivate, mkdirPrivate, sealTree, syncDir } from './sealed-files.js';
import { rename, unlink } from 'node:fs/promises';
import { UsageError } from '../../util/errors.js';

const CANARY_TEXT = 'moodlens data key canary v1';
const CANARY = 'canary';
const ROTATION = 'rotation';
/** Set once the plaintext an older version left (database columns, speech files) was sealed. */
const SEALED_AT_REST = 'sealed-at-rest';

/** Default key file of a data folder. */
export const defaultKeyFile = (dataDir: string) => join(dataDir, 'keys', 'data.key');

/** The sealed columns: [table, key column, sealed column]; context = "table.column:<key>". */
export const SEALED_COLUMNS = [
  ['participants', 'id', 'covariates'],
  ['participants', 'id', 'display_name'],
  ['web_speech_failures', 'report_id', 'detail'],
  ['reports', 'id', 'texts'],
  ['web_push_keys', 'id', 'private_key'],
  ['web_push_subscriptions', 'endpoint', 'p256dh'],
  ['web_push_subscriptions', 'endpoint', 'auth'],
] as const;

export const columnContext = (table: string, column: string, key: string) => `${table}.${column}:${key}`;

export interface KeySource {
  /** Key file (created 0600 if absent and the database holds no sealed data yet). */
  keyFile?: string;
  /** The key itself, base64 (MOODLENS_DATA_KEY). */
  key?: string;
  dataDir: string;
}

/** Write a new random key to `path` (0600, folder 0700); fails if the file exists. */
export async function createKeyFile(path: string): Promise<Buffer> {
  await mkdirPrivate(dirname(path));
  const key = randomBytes(32);
  const tmp = `${path}.${randomBytes(4).toString('hex')}.new`;
  const fh = await createPrivate(tmp);
  try { await fh.writeFile(key.toString('base64') + '\n'); await fh.sync(); } finally { await fh.close(); }
  if (existsSync(path)) { await unlink(tmp); throw new UsageError(`key file ${path} appeared while it was being created; start again`); }
  await rename(tmp, path);
  await syncDir(dirname(path));
  return key;
}

/** Read a key file (base64 text of 32 bytes); a clear error for a missing or malformed one. */
export async function readKeyFile(path: string): Promise<Buffer> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (e) { throw new UsageError(`key file ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  try { return parseKey(text, `key file ${path}`); } catch (e) { throw new UsageError((e as Error).message); }
}

function warnLooseMode(path: string, log: (line: string) => void): void {
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) log(`moodlens: warning: key file ${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  } catch { /* checked when read */ }
}

async function meta(db: Kysely<DB>, name: string): Promise<string | undefined> {
  return (await db.selectFrom('crypto_meta').select('value').where('name', '=', name).executeTakeFirst())?.value;
}

async function setMeta(db: Kysely<DB>, name: string, value: string): Promise<void> {
  await db.insertInto('crypto_meta').values({ name, value, updated_ms: Date.now() })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_ms: Date.now() })).execute();
}

/** The new key of a rotation in progress, sealed under the old one: {newKeyId, wrapped}. */
interface RotationRow { newKeyId: string; wrapped: string }

/**
 * The running process's data keys: the keyring, and a poll that picks up a rotation another
 * process (moodlens rotate-key) started.
 */
export class DataKeys {
  private timer: NodeJS.Timeout | null = null;
  constructor(readonly keyring: Keyring, private db: Kysely<DB>, readonly source: string) {}

  /**
   * Resolve the key, check it against the database's canary (sealing one at first start), and
   * learn of a rotation in progress. Throws a one-line UsageError for a wrong or missing key.
   */
  static async open(db: Kysely<DB>, src: KeySource, log: (line: string) => void = (l) => console.warn(l)): Promise<DataKeys> {
    const canary = await meta(db, CANARY);
    const canaryId = canary ? valueKeyId(canary) : null;
    let key: Buffer, source: string;
    if (src.key !== undefined && src.keyFile !== undefined) throw new UsageError('both --key-file and MOODLENS_DATA_KEY are set: give the data key one way');
    if (src.key !== undefined) {
      try { key = parseKey(src.key, 'MOODLENS_DATA_KEY'); } catch (e) { throw new UsageError((e as Error).message); }
      source = 'MOODLENS_DATA_KEY';
    } else {
      const file = src.keyFile ?? defaultKeyFile(src.dataDir);
      source = `key file ${file}`;
      if (existsSync(file)) {
        key = await readKeyFile(file);
        warnLooseMode(file, log);
      } else {
        if (canaryId) throw new UsageError(`no data key: ${file} does not exist, but this database's data is sealed with data key ${canaryId}; give its key file with --key-file PATH (or MOODLENS_DATA_KEY)`);
        key = await createKeyFile(file);
        log(`moodlens: created a new data key (id ${keyIdOf(key)}) in ${file} — BACK IT UP NOW and keep the copy apart from the data backups: without it the recordings, notes, covariates and push keys cannot be read`);
      }
    }
    const keys = new DataKeys(new Keyring(key), db, source);
    await keys.refresh();
    if (canary) {
      try {
        if (keys.keyring.openValue(canary, CANARY) !== CANARY_TEXT) throw new DecryptError('canary text differs');
      } catch (e) {
        if (canaryId && !keys.keyring.has(canaryId)) {
          throw new UsageError(`wrong data key: ${source} has key id ${keyIdOf(key)}, but this database's data is sealed with data key ${canaryId} (while \`moodlens rotate-key\` runs, start with the old key; after it, with the new one)`);
        }
        throw new UsageError(`data key check failed: the database's canary (key id ${canaryId}) does not open with ${source} (${(e as Error).message})`);
      }
    } else {
      await db.insertInto('crypto_meta').values({ name: CANARY, value: keys.keyring.sealValue(CANARY_TEXT, CANARY), updated_ms: Date.now() })
        .onConflict((oc) => oc.column('name').doNothing()).execute();
      const stored = await meta(db, CANARY); // another process may have sealed one first
      if (!stored || keys.keyring.openValue(stored, CANARY) !== CANARY_TEXT) throw new UsageError('data key check failed: another process sealed the canary with another key');
    }
    return keys;
  }

  /** Learn of a rotation in progress: add its new key (unwrapped with a key held) and seal with it. */
  async refresh(): Promise<void> {
    const row = await meta(this.db, ROTATION);
    if (!row) return;
    const r = JSON.parse(row) as RotationRow;
    if (this.keyring.primaryId === r.newKeyId) return;
    if (!this.keyring.has(r.newKeyId)) {
      const wrappedBy = this.keyring.valueKeyId(r.wrapped);
      if (wrappedBy && !this.keyring.has(wrappedBy)) return; // not ours to open; the canary check says what is wrong
      this.keyring.add(this.keyring.openValueBytes(r.wrapped, ROTATION), true);
    } else {
      this.keyring.setPrimary(r.newKeyId);
    }
  }

  /** Poll for a rotation every `ms` (0: never). */
  start(ms: number): void {
    if (ms <= 0 || this.timer) return;
    this.timer = setInterval(() => { this.refresh().catch((e) => console.error(`moodlens: data key rotation check failed: ${(e as Error).message}`)); }, ms);
    this.timer.unref();
  }

  stop(): void { if (this.timer) clearInterval(this.timer); this.timer = null; }
}

// ---------- sealing values and files under the primary key ----------

export interface SealPassResult { values: number; files: number }

/**
 * Seal every value of the sealed columns that is plaintext or sealed under another key than the
 * keyring's primary one. Each row is updated only if it still holds the value read (a concurrent
 * write is never overwritten; it was sealed by its writer).
 */
export async function sealColumns(db: Kysely<DB>, keys: Keyring): Promise<number> {
  let n = 0;
  for (const [table, keyCol, col] of SEALED_COLUMNS) {
    let after = '';
    for (;;) {
      // The same walk over five (table, key, column) triples: named in SQL, not in Kysely's types.
      const rows = (await sql<Record<string, string | null>>`select ${sql.ref(keyCol)}, ${sql.ref(col)} from ${sql.table(table)} where ${sql.ref(keyCol)} > ${after} order by ${sql.ref(keyCol)} limit 500`.execute(db)).rows;
      if (rows.length === 0) break;
      after = rows[rows.length - 1][keyCol]!;
      for (const r of rows) {
        const v = r[col];
        if (v === null || v === undefined) continue;
        if (isSealedValue(v) && keys.valueKeyId(v) === keys.primaryId) continue;
        const ctx = columnContext(table, col, r[keyCol]!);
        const sealed = keys.sealValue(keys.openValue(v, ctx), ctx);
        const u = await sql`update ${sql.table(table)} set ${sql.ref(col)} = ${sealed} where ${sql.ref(keyCol)} = ${r[keyCol]} and ${sql.ref(col)} = ${v}`.execute(db);
        n += Number(u.numAffectedRows ?? 0n);
      }
    }
  }
  return n;
}

/** Speech files whose row is gone after a re-seal (a withdrawal ran meanwhile) are removed again. */
function dropOrphanAfterReseal(db: Kysely<DB>, dataDir: string) {
  return async (path: string) => {
    const rel = relative(dataDir, path).split(sep).join('/');
    const row = await db.selectFrom('speech').select('report_id').where('file', '=', rel).executeTakeFirst();
    if (!row) await unlink(path).catch(() => {});
  };
}

/** Another writer's temporary file (an upload being received): never re-sealed under it. */
const isTemporary = (name: string) => name.endsWith('.part') || name.endsWith('.tmp') || name.startsWith('.');

/**
 * Seal the speech recordings and export folders under the primary key; folders 0700, files 0600.
 * `atStart`: no other process writes (plaintext exports a crash left are sealed, stale re-seal
 * temporaries removed); otherwise (rotation) plaintext export files belong to a running job,
 * which seals them when it finishes, and a file being copied is noted and retried next pass.
 */
export async function sealFiles(db: Kysely<DB>, dataDir: string, keys: Keyring, what: { speech: boolean; exports: boolean; atStart: boolean }): Promise<{ sealed: number; skipped: string[] }> {
  let sealed = 0;
  const skipped: string[] = [];
  if (what.speech) {
    const r = await sealTree(keys, join(dataDir, 'speech'), { skip: isTemporary, after: dropOrphanAfterReseal(db, dataDir), removeStale: what.atStart });
    sealed += r.sealed;
  }
  if (what.exports) {
    const r = await sealTree(keys, join(dataDir, 'exports'), what.atStart ? { skip: isTemporary, removeStale: true } : { skip: isTemporary, plaintext: 'leave', tolerate: true });
    sealed += r.sealed; skipped.push(...r.skipped);
  }
  return { sealed, skipped };
}

/**
 * At start: the data folder 0700; what an older version left in plaintext (columns, speech
 * files) sealed once (recorded in crypto_meta); export folders checked at every start (an export
 * a crash interrupted before it was sealed). On SQLite, a VACUUM then removes the plaintext
 * copies the updated pages left in the file.
 */
export async function sealAtStart(db: Kysely<DB>, kind: 'sqlite' | 'postgres', dataDir: string, keys: DataKeys, log: (line: string) => void): Promise<SealPassResult> {
  await mkdirPrivate(dataDir);
  const done = (await meta(db, SEALED_AT_REST)) !== undefined;
  const values = done ? 0 : await sealColumns(db, keys.keyring);
  const files = (await sealFiles(db, dataDir, keys.keyring, { speech: !done, exports: true, atStart: true })).sealed;
  if (!done) {
    await setMeta(db, SEALED_AT_REST, String(Date.now()));
    if (values > 0 || files > 0) {
      log(`moodlens: sealed ${values} values and ${files} files that an older version stored in plaintext`);
      if (kind === 'sqlite') {
        await sql`vacuum`.execute(db);
        await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db);
      } else {
        log('moodlens: PostgreSQL keeps the old plaintext row versions until VACUUM: run VACUUM FULL on participants, web_speech_failures, web_push_keys and web_push_subscriptions');
      }
    }
  }
  return { values, files };
}

// ---------- rotation ----------

export interface RotateOptions {
  db: Kysely<DB>;
  dataDir: string;
  oldKey: Buffer;
  newKey: Buffer;
  /** How long to wait after announcing the new key, so every running server seals with it (default 5 s). */
  graceMs?: number;
  log?: (line: string) => void;
}

export interface RotateResult { oldKeyId: string; newKeyId: string; values: number; files: number; passes: number }

/**
 * Re-seal every sealed value and file under a new key while servers keep running:
 * announce the new key (sealed under the old one), wait for running servers to pick it up, then
 * re-seal in passes until a pass finds nothing left under the old key; finally seal the canary
 * under the new key and remove the announcement. Run again after an interruption: it resumes.
 */
export async function rotateDataKey(o: RotateOptions): Promise<RotateResult> {
  const log = o.log ?? (() => {});
  const oldId = keyIdOf(o.oldKey), newId = keyIdOf(o.newKey);
  if (oldId === newId) throw new UsageError('--old-key-file and --new-key-file hold the same key');
  const keys = new Keyring(o.oldKey, [o.newKey]);
  const canary = await meta(o.db, CANARY);
  if (!canary) throw new UsageError('this database has no data key canary yet: start the server once before rotating its key');
  const canaryId = keys.valueKeyId(canary);
  if (canaryId !== oldId && canaryId !== newId) throw new UsageError(`wrong old key: --old-key-file has key id ${oldId}, but this database's data is sealed with data key ${canaryId}`);
  if (keys.openValue(canary, CANARY) !== CANARY_TEXT) throw new UsageError('data key check failed: the canary does not open');
  const resuming = canaryId === newId;
  const row: RotationRow = { newKeyId: newId, wrapped: keys.sealValue(o.newKey, ROTATION) }; // sealed under the old (primary) key
  if (!resuming) {
    await setMeta(o.db, ROTATION, JSON.stringify(row));
    log(`rotate-key: announced new data key ${newId}; waiting ${((o.graceMs ?? 5000) / 1000).toFixed(1)} s for running servers to seal with it`);
    await new Promise((r) => setTimeout(r, o.graceMs ?? 5000));
  }
  keys.add(o.newKey, true);
  let values = 0, files = 0, passes = 0;
  for (;;) {
    passes++;
    const v = await sealColumns(o.db, keys);
    const { sealed: f, skipped } = await sealFiles(o.db, o.dataDir, keys, { speech: true, exports: true, atStart: false });
    values += v; files += f;
    log(`rotate-key: pass ${passes}: ${v} values and ${f} files sealed again under ${newId}${skipped.length ? `; ${skipped.length} not readable yet` : ''}`);
    if (v === 0 && f === 0 && skipped.length === 0) break;
    if (passes >= 10) {
      if (skipped.length) throw new Error(`rotate-key: after ${passes} passes these files still do not open (left under the old key; run rotate-key again): ${skipped.slice(0, 5).join('; ')}`);
      break;
    }
    if (skipped.length) await new Promise((r) => setTimeout(r, 500));
  }
  await setMeta(o.db, CANARY, keys.sealValue(CANARY_TEXT, CANARY));
  await o.db.deleteFrom('crypto_meta').where('name', '=', ROTATION).execute();
  return { oldKeyId: oldId, newKeyId: newId, values, files, passes };
}

/** Read a key for the CLI: from a file (created 0600 if `create` and absent). */
export async function keyFromFile(path: string, create: boolean, log: (line: string) => void): Promise<Buffer> {
  if (existsSync(path)) return readKeyFile(path);
  if (!create) throw new UsageError(`key file ${path}: no such file`);
  const key = await createKeyFile(path);
  log(`moodlens: created a new data key (id ${keyIdOf(key)}) in ${path} — BACK IT UP NOW and keep the copy apart from the data backups`);
  return key;
}

