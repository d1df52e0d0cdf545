/** Wristband activity: one row per participant-minute (epoch), the biggest table. */
import { CompiledQuery } from 'kysely';
import type { Database } from '../database.js';
import type { ActivityTable } from '../schema.js';
import { decodeEpoch, type Epoch, type StoredEpoch } from '../rows.js';

/** SQLite allows 32,766 bound parameters per statement. */
const EPOCH_ROWS_PER_INSERT = 8000;

export class ActivityRepository {
  /** Fixed SQL of the prediction path's window read. */
  private between: string;
  private epochSql = new Map<number, string>();

  constructor(private d: Database) {
    this.between = `select participant_id, t_ms, vals from activity where participant_id = ${d.param(1)} and t_ms >= ${d.param(2)} and t_ms < ${d.param(3)} order by t_ms`;
  }

  /**
   * Insert a batch of epochs in one transaction; an epoch already stored for the same participant
   * and start time is left as it is (first write wins), so overlapping and repeated batches are
   * harmless. Returns how many epochs were new.
   */
  insertEpochs(studyId: string, participantId: string, epochs: StoredEpoch[]): Promise<number> {
    return this.d.writeForParticipant(participantId, async (trx) => {
      let inserted = 0;
      if (this.d.kind === 'postgres') {
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
      await trx.insertInto('audit').values(this.d.auditRow({ actor_kind: 'participant', actor_id: participantId, action: 'write', study_id: studyId, participant_id: participantId, resource: 'activity', detail: `${epochs.length} epochs, ${inserted} new` })).execute();
      return inserted;
    });
  }

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

  /** Epochs of one participant with start in [fromMs, toMs). */
  async activityBetween(participantId: string, fromMs: number, toMs: number): Promise<Epoch[]> {
    return (await this.d.db.executeQuery<ActivityTable>(CompiledQuery.raw(this.between, [participantId, fromMs, toMs]))).rows.map(decodeEpoch);
  }

  /** Epochs of one participant in [fromMs, toMs), in pages of `page` rows (keyset on t_ms). */
  async *participantActivity(participantId: string, fromMs: number, toMs: number, page = 20_000): AsyncGenerator<Epoch[]> {
    let after = fromMs - 1;
    for (;;) {
      const rows = await this.d.db.selectFrom('activity').selectAll().where('participant_id', '=', participantId)
        .where('t_ms', '>', after).where('t_ms', '<', toMs).orderBy('t_ms').limit(page).execute();
      if (rows.length === 0) return;
      const epochs = rows.map(decodeEpoch);
      after = epochs[epochs.length - 1].t_ms;
      yield epochs;
      if (rows.length < page) return;
    }
  }

  /** Activity of a study in pages ordered by participant then time (keyset), for export. */
  async *studyActivity(studyId: string, page = 20000): AsyncGenerator<Epoch[]> {
    let afterP = '', afterT = -Infinity;
    for (;;) {
      const rows = await this.d.db.selectFrom('activity').innerJoin('participants', 'participants.id', 'activity.participant_id')
        .select(['activity.participant_id', 'activity.t_ms', 'activity.vals']).where('participants.study_id', '=', studyId)
        .where((eb) => eb.or([eb('activity.participant_id', '>', afterP), eb.and([eb('activity.participant_id', '=', afterP), eb('activity.t_ms', '>', Number.isFinite(afterT) ? afterT : -1e15)])]))
        .orderBy('activity.participant_id').orderBy('activity.t_ms').limit(page).execute();
      if (rows.length === 0) return;
      afterP = rows[rows.length - 1].participant_id; afterT = rows[rows.length - 1].t_ms;
      yield rows.map(decodeEpoch);
    }
  }

  async countStudyActivity(studyId: string): Promise<number> {
    const r = await this.d.db.selectFrom('activity').innerJoin('participants', 'participants.id', 'activity.participant_id')
      .select((eb) => eb.fn.countAll<number>().as('n')).where('participants.study_id', '=', studyId).where('participants.status', '!=', 'withdrawn').executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async countActivity(participantId: string): Promise<number> {
    const r = await this.d.db.selectFrom('activity').select((eb) => eb.fn.countAll<number>().as('n')).where('participant_id', '=', participantId).executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
