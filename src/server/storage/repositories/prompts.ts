/**
 * The prompt log's events beyond the schedule and the reports: when a prompt's reminder was
 * pushed and when the app was opened for it (the first time of each counts). The schedule says
 * which prompts exist, the reports which were answered; services/prompt-log.ts joins the three.
 */
import type { Database } from '../database.js';
import type { PromptLogTable } from '../schema.js';

export type PromptEvents = PromptLogTable;
/** Which prompt (the schedule's identity and time). */
export type PromptKey = Pick<PromptLogTable, 'participant_id' | 'study_id' | 'prompt_id' | 'prompt_ms' | 'prompt_time'>;
export type PromptEvent = 'sent' | 'opened';

export class PromptsRepository {
  constructor(private d: Database) {}

  /**
   * Record that a prompt's reminder went out or the app was opened for it; only the first of
   * each is kept. Returns true when this call set it. Written with the
   * participant check, so nothing is recorded for a participant who withdrew meanwhile.
   */
  markPrompt(k: PromptKey, e: PromptEvent, at: number): Promise<boolean> {
    const col = e === 'sent' ? 'sent_ms' : 'opened_ms';
    return this.d.writeForParticipant(k.participant_id, async (trx) => {
      await trx.insertInto('prompt_log').values({ ...k, sent_ms: null, opened_ms: null })
        .onConflict((oc) => oc.columns(['participant_id', 'prompt_id']).doNothing()).execute();
      const r = await trx.updateTable('prompt_log').set({ [col]: at }).where('participant_id', '=', k.participant_id)
        .where('prompt_id', '=', k.prompt_id).where(col, 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    });
  }

  /** A participant's prompt events, by prompt time. */
  /** A participant's prompt events (`sinceMs`: of the prompts whose time is at or after it). */
  async promptEvents(participantId: string, sinceMs?: number): Promise<PromptEvents[]> {
    let q = this.d.db.selectFrom('prompt_log').selectAll().where('participant_id', '=', participantId);
    if (sinceMs !== undefined) q = q.where('prompt_ms', '>=', sinceMs);
    return q.orderBy('prompt_ms').orderBy('prompt_id').execute();
  }
}
