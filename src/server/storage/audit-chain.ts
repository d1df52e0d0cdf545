/**
 * The audit log as a hash chain (tamper-evident): every row carries
 * hash = sha256(previous row's hash + "\n" + the row's fields as JSON), genesis = 64 zeros.
 * Rows are sealed in the same transaction that wrote them (the group committer's last step), in
 * id order, so a committed row is always sealed. Editing, deleting or inserting a row anywhere
 * breaks the chain from that row on; `verifyAuditChain` walks it and names the first broken row.
 *
 * One writer at a time extends the chain: the server's writes go through one group committer,
 * and on PostgreSQL the seal also holds a transaction-level advisory lock.
 */
import { createHash } from 'node:crypto';
import { sql, CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { DB, DbKind } from './schema.js';

export const GENESIS = '0'.repeat(64);
const LOCK_KEY = 735_200_117; // pg_advisory_xact_lock key of the audit chain

type Row = Omit<DB['audit'], 'id' | 'hash'> & { id: number; hash: string | null };

export function auditRowHash(prev: string, r: Row): string {
  const fields = [Number(r.id), Number(r.time_ms), r.actor_kind, r.actor_id, r.action, r.study_id, r.participant_id, r.resource, r.detail];
  return createHash('sha256').update(prev).update('\n').update(JSON.stringify(fields)).digest('hex');
}

export class AuditChain {
  /** The last sealed row as this process last saw it (checked against the table before use). */
  private last: { id: number; hash: string } | null = null;

  constructor(private kind: DbKind) { this.q = this.sqlText(); }

  /** Fixed SQL of the seal (prepared once per statement text; no query building per group). */
  private sqlText(): { hashOf: string; after: string; set: string } {
    const n = (i: number) => (this.kind === 'postgres' ? `$${i}` : '?');
    return {
      hashOf: `select hash from audit where id = ${n(1)}`,
      after: `select id, time_ms, actor_kind, actor_id, action, study_id, participant_id, resource, detail, hash from audit where id > ${n(1)} order by id limit 1000`,
      set: `update audit set hash = ${n(1)} where id = ${n(2)}`,
    };
  }
  /** Built in the constructor, after `kind` is set (a field initializer would run before it). */
  private readonly q: { hashOf: string; after: string; set: string };

  /** Seal every row after the last sealed one, in id order, inside `trx`. */
  async seal(trx: Transaction<DB> | Kysely<DB>): Promise<void> {
    if (this.kind === 'postgres') await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx);
    let last = this.last;
    if (last) {
      const still = (await trx.executeQuery<{ hash: string | null }>(CompiledQuery.raw(this.q.hashOf, [last.id]))).rows[0];
      if (!still || still.hash !== last.hash) last = null; // a rolled-back group or another writer: look again
    }
    if (!last) last = await this.findLastSealed(trx);
    for (;;) {
      const rows: Row[] = (await trx.executeQuery<Row>(CompiledQuery.raw(this.q.after, [last.id]))).rows;
      for (const r of rows) {
        if (r.hash !== null) { last = { id: Number(r.id), hash: r.hash }; continue; }
        const hash = auditRowHash(last.hash, r);
        await trx.executeQuery(CompiledQuery.raw(this.q.set, [hash, r.id]));
        last = { id: Number(r.id), hash };
      }
      if (rows.length < 1000) break;
    }
    this.last = last;
  }

  /** The newest sealed row (rows are sealed in id order, so it is found from the end). */
  private async findLastSealed(trx: Transaction<DB> | Kysely<DB>): Promise<{ id: number; hash: string }> {
    let before = Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows = await trx.selectFrom('audit').select(['id', 'hash']).where('id', '<', before).orderBy('id', 'desc').limit(1000).execute();
      if (rows.length === 0) return { id: 0, hash: GENESIS };
      const sealed = rows.find((r) => r.hash !== null);
      if (sealed) return { id: Number(sealed.id), hash: sealed.hash! };
      before = Number(rows[rows.length - 1].id);
    }
  }
}

export interface ChainReport {
  ok: boolean;
  rows: number;
  /** The first row that does not verify, and why. */
  broken?: { id: number; reason: string };
  lastHash: string;
}

/** Walk the whole chain in id order; stops at the first row whose hash does not verify. */
export async function verifyAuditChain(db: Kysely<DB>, onProgress?: (rows: number) => void): Promise<ChainReport> {
  let prev = GENESIS, after = 0, n = 0;
  for (;;) {
    const rows = (await db.selectFrom('audit').selectAll().where('id', '>', after).orderBy('id').limit(5000).execute()) as Row[];
    if (rows.length === 0) return { ok: true, rows: n, lastHash: prev };
    for (const r of rows) {
      if (r.hash === null) return { ok: false, rows: n, broken: { id: Number(r.id), reason: 'row is not sealed (written outside the server, or the chain was cut)' }, lastHash: prev };
      const want = auditRowHash(prev, r);
      if (want !== r.hash) {
        return { ok: false, rows: n, broken: { id: Number(r.id), reason: 'hash does not match: this row, or one before it, was edited, inserted or deleted' }, lastHash: prev };
      }
      prev = r.hash; after = Number(r.id); n++;
    }
    onProgress?.(n);
  }
}
