/** Reading the audit log (rows are written with the writes they record: database.ts). */
import type { Database } from '../database.js';
import { decodeAuditRow, type AuditRow } from '../rows.js';

export interface AuditFilter { action?: string; resource?: string; actorKind?: string; actorId?: string; sinceMs?: number; untilMs?: number }

export class AuditRepository {
  constructor(private d: Database) {}

  /** A study's audit rows, newest first, filtered. */
  async auditLog(studyId: string, limit: number, f: AuditFilter = {}): Promise<AuditRow[]> {
    let q = this.d.db.selectFrom('audit').selectAll().where('study_id', '=', studyId);
    if (f.action) q = q.where('action', '=', f.action);
    if (f.resource) q = q.where('resource', '=', f.resource);
    if (f.actorKind) q = q.where('actor_kind', '=', f.actorKind);
    if (f.actorId) q = q.where('actor_id', '=', f.actorId);
    if (f.sinceMs !== undefined) q = q.where('time_ms', '>=', f.sinceMs);
    if (f.untilMs !== undefined) q = q.where('time_ms', '<', f.untilMs);
    return (await q.orderBy('id', 'desc').limit(limit).execute()).map(decodeAuditRow);
  }

  /** Audit rows (newest first), optionally of one resource only (admin view of account events). */
  async auditAll(limit: number, resource?: string): Promise<AuditRow[]> {
    let q = this.d.db.selectFrom('audit').selectAll();
    if (resource) q = q.where('resource', '=', resource);
    return (await q.orderBy('id', 'desc').limit(limit).execute()).map(decodeAuditRow);
  }
}
