/**
 * Withdrawal: every piece of a participant's data goes — database rows (one transaction, the
 * participant row kept as a tombstone), their speech folder (files with a row and any a crash left
 * without one), every finished export of the study that can hold them (and the export being
 * written, when it ends), free-page copies on SQLite (secure_delete + a WAL checkpoint) — and the
 * receipt says what went. Shared by the participant's own `DELETE /me` and a researcher's
 * `DELETE …/participants/:id`.
 */
import { rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerContext } from '../http/context.js';
import type { ExportJobs } from '../jobs/export-jobs.js';
import type { Participant, Store, WithdrawalSummary } from '../storage/store.js';
import { insideFolder } from '../storage/paths.js';

export interface WithdrawalReceipt extends WithdrawalSummary {
  /** Speech files removed from disk. */
  deletedFiles: number;
  /** Exports of the study that held the participant, deleted (job id and name). */
  exports: { id: string; name: string }[];
}

export class Withdrawal {
  constructor(private ctx: ServerContext, private store: Store, private exportJobs: ExportJobs) {}

  async withdraw(p: Participant, actor: { kind: 'researcher' | 'participant'; id: string }): Promise<WithdrawalReceipt> {
    const { ctx, store } = this;
    const summary = await store.withdraw(p, { actor_kind: actor.kind, actor_id: actor.id, action: 'delete', study_id: p.study_id, participant_id: p.id, resource: 'participant' });
    ctx.forgetParticipant(p.id);
    let deletedFiles = 0;
    for (const f of summary.files) { try { await unlink(join(ctx.dataDir, f)); deletedFiles++; } catch { /* already gone */ } }
    // Whatever else is in their folder (a file a crash left without its row) goes too.
    await rm(insideFolder(ctx.speechDir, p.study_id, p.id), { recursive: true, force: true });
    const exports = await this.exportJobs.forgetParticipant(p.study_id, p.created_ms, p.label);
    await store.purgeFreedPages();
    return { ...summary, deletedFiles, exports };
  }
}
