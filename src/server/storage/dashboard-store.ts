/**
 * Read queries (and the few writes) of the web front end's server routes: the dashboard's
 * activity heat map, data quality and evaluation, and the Web Push reminders. Uses the server's
 * Kysely instance (the Store's `db`), so the same code runs on SQLite and PostgreSQL.
 */
import type { Kysely } from 'kysely';
import type { DB, WebPushKeysTable, WebPushSentTable, WebPushSubscriptionsTable, WebSpeechFailuresTable } from './schema.js';
import type { AuditEntry, Store } from './store.js';
import { columnContext } from './data-key.js';

/** One report with what became of its speech task. */
export interface ReportSpeechRow {
  participant_id: string; client_id: string; time: string; time_ms: number; late: number;
  speech_bytes: number | null; features: number | null; failure: string | null;
}

export class DashboardStore {
  readonly db: Kysely<DB>;
  constructor(readonly store: Store) { this.db = store.db; }

  audit(e: AuditEntry): Promise<void> { return this.store.audit(e); }

  // ---------- activity ----------

  /** Epochs of one participant in [fromMs, toMs), in pages of `page` rows (keyset on t_ms). */
  async *activity(participantId: string, fromMs: number, toMs: number, page = 20_000): AsyncGenerator<{ t_ms: number; vals: string }[]> {
    let after = fromMs - 1;
    for (;;) {
      const rows = await this.db.selectFrom('activity').select(['t_ms', 'vals']).where('participant_id', '=', participantId)
        .where('t_ms', '>', after).where('t_ms', '<', toMs).orderBy('t_ms').limit(page).execute();
      if (rows.length === 0) return;
      for (const r of rows) r.t_ms = Number(r.t_ms);
      after = rows[rows.length - 1].t_ms;
      yield rows;
      if (rows.length < page) return;
    }
  }

  // ---------- reports and speech ----------

  /** Every report of a study (or one participant) with its speech upload, features or reported failure. */
  async reportSpeech(studyId: string, participantId?: string): Promise<ReportSpeechRow[]> {
    let q = this.db.selectFrom('reports')
      .leftJoin('speech', 'speech.report_id', 'reports.id')
      .leftJoin('speech_features', 'speech_features.report_id', 'reports.id')
      .leftJoin('web_speech_failures', 'web_speech_failures.report_id', 'reports.id')
      .select(['reports.participant_id', 'reports.client_id', 'reports.time', 'reports.time_ms', 'reports.late', 'speech.bytes as speech_bytes', 'web_speech_failures.reason as failure'])
      .select((eb) => eb.case().when('speech_features.report_id', 'is not', null).then(1).else(0).end().as('features'))
      .where('reports.study_id', '=', studyId);
    if (participantId) q = q.where('reports.participant_id', '=', participantId);
    const rows = await q.orderBy('reports.time_ms').execute();
    return rows.map((r) => ({ ...r, time_ms: Number(r.time_ms), late: Number(r.late), speech_bytes: r.speech_bytes === null ? null : Number(r.speech_bytes), features: Number(r.features) }));
  }

  /** Record that the app could not deliver a report's recording (first note wins). */
  async noteSpeechFailure(f: WebSpeechFailuresTable, audit: AuditEntry): Promise<boolean> {
    return this.store.writeForParticipant(f.participant_id, async (trx) => {
      const t = trx;
      // The note is free text from the participant's device: sealed at rest (encryption at rest).
      const sealed = { ...f, detail: f.detail === null ? null : this.store.keys.sealValue(f.detail, columnContext('web_speech_failures', 'detail', f.report_id)) };
      const r = await t.insertInto('web_speech_failures').values(sealed).onConflict((oc) => oc.column('report_id').doNothing()).executeTakeFirst();
      const created = Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
      if (created) await t.insertInto('audit').values({ time_ms: Date.now(), ...audit, detail: audit.detail ?? null }).execute();
      return created;
    });
  }

  // ---------- evaluation ----------

  /** Predictions made for a report of the study, with that report's answers (latest prediction per report). */
  async predictedReports(studyId: string): Promise<{ participant_id: string; report_id: string; created_ms: number; items: string; answers: string }[]> {
    const rows = await this.db.selectFrom('predictions').innerJoin('reports', 'reports.id', 'predictions.report_id')
      .select(['predictions.participant_id', 'predictions.report_id', 'predictions.created_ms', 'predictions.items', 'reports.answers'])
      .where('predictions.study_id', '=', studyId).orderBy('predictions.created_ms').execute();
    const last = new Map<string, (typeof rows)[number]>();
    for (const r of rows) last.set(r.report_id!, r); // ordered by time: the latest wins
    return [...last.values()].map((r) => ({ ...r, report_id: r.report_id!, created_ms: Number(r.created_ms) }));
  }

  /** Client (app-chosen) ids of the given server report ids. */
  async clientIds(reportIds: string[]): Promise<Map<string, { client_id: string; time: string }>> {
    const out = new Map<string, { client_id: string; time: string }>();
    for (let i = 0; i < reportIds.length; i += 500) {
      const chunk = reportIds.slice(i, i + 500);
      if (chunk.length === 0) break;
      for (const r of await this.db.selectFrom('reports').select(['id', 'client_id', 'time']).where('id', 'in', chunk).execute()) out.set(r.id, { client_id: r.client_id, time: r.time });
    }
    return out;
  }

  // ---------- Web Push ----------

  /** The VAPID key pair (its private key sealed at rest, opened here). */
  async pushKeys(): Promise<WebPushKeysTable | undefined> {
    const k = await this.db.selectFrom('web_push_keys').selectAll().where('id', '=', 'vapid').executeTakeFirst();
    return k && { ...k, private_key: this.store.keys.openValue(k.private_key, columnContext('web_push_keys', 'private_key', k.id)) };
  }

  /** Store the key pair unless another process stored one first; returns the stored one. */
  async savePushKeys(k: WebPushKeysTable): Promise<WebPushKeysTable> {
    const sealed = { ...k, private_key: this.store.keys.sealValue(k.private_key, columnContext('web_push_keys', 'private_key', k.id)) };
    await this.db.insertInto('web_push_keys').values(sealed).onConflict((oc) => oc.column('id').doNothing()).execute();
    return (await this.pushKeys())!;
  }

  /** A subscription row with its keys opened (sealed at rest: with them, anyone could encrypt pushes to the browser). */
  private openSub<T extends Pick<WebPushSubscriptionsTable, 'endpoint' | 'p256dh' | 'auth'>>(s: T): T {
    const k = this.store.keys;
    return { ...s, p256dh: k.openValue(s.p256dh, columnContext('web_push_subscriptions', 'p256dh', s.endpoint)), auth: k.openValue(s.auth, columnContext('web_push_subscriptions', 'auth', s.endpoint)) };
  }

  async firstAdminEmail(): Promise<string | undefined> {
    return (await this.db.selectFrom('users').select('email').where('is_admin', '=', 1).orderBy('created_ms').limit(1).executeTakeFirst())?.email;
  }

  async saveSubscription(s: WebPushSubscriptionsTable, audit: AuditEntry): Promise<boolean> {
    return this.store.writeForParticipant(s.participant_id, async (trx) => {
      const t = trx;
      const stored = await t.selectFrom('web_push_subscriptions').select(['endpoint', 'participant_id', 'p256dh', 'auth']).where('endpoint', '=', s.endpoint).executeTakeFirst();
      const old = stored && this.openSub(stored);
      if (old && old.participant_id === s.participant_id && old.p256dh === s.p256dh && old.auth === s.auth) return false;
      // An endpoint belongs to one browser: a re-subscription (or another participant enrolling
      // on the same phone) replaces what was stored for it.
      await t.deleteFrom('web_push_subscriptions').where('endpoint', '=', s.endpoint).execute();
      const k = this.store.keys;
      await t.insertInto('web_push_subscriptions').values({ ...s,
        p256dh: k.sealValue(s.p256dh, columnContext('web_push_subscriptions', 'p256dh', s.endpoint)),
        auth: k.sealValue(s.auth, columnContext('web_push_subscriptions', 'auth', s.endpoint)) }).execute();
      await t.insertInto('audit').values({ time_ms: Date.now(), ...audit, detail: audit.detail ?? null }).execute();
      return true;
    });
  }

  async deleteSubscription(participantId: string, endpoint: string): Promise<number> {
    const r = await this.db.deleteFrom('web_push_subscriptions').where('participant_id', '=', participantId).where('endpoint', '=', endpoint).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async dropEndpoint(endpoint: string): Promise<void> {
    await this.db.deleteFrom('web_push_subscriptions').where('endpoint', '=', endpoint).execute();
  }

  async markEndpoint(endpoint: string, ok: boolean, now: number): Promise<void> {
    if (ok) await this.db.updateTable('web_push_subscriptions').set({ last_ok_ms: now, failures: 0 }).where('endpoint', '=', endpoint).execute();
    else await this.db.updateTable('web_push_subscriptions').set((eb) => ({ failures: eb('failures', '+', 1) })).where('endpoint', '=', endpoint).execute();
  }

  /** Active participants that have at least one subscription, with their subscriptions. */
  async subscribedParticipants(): Promise<Map<string, WebPushSubscriptionsTable[]>> {
    const rows = await this.db.selectFrom('web_push_subscriptions').innerJoin('participants', 'participants.id', 'web_push_subscriptions.participant_id')
      .selectAll('web_push_subscriptions').where('participants.status', '=', 'active').orderBy('web_push_subscriptions.participant_id').execute();
    const out = new Map<string, WebPushSubscriptionsTable[]>();
    for (const r of rows) { const a = out.get(r.participant_id) ?? []; a.push(this.openSub(r)); out.set(r.participant_id, a); }
    return out;
  }

  async subscriptionsOf(participantId: string): Promise<WebPushSubscriptionsTable[]> {
    return (await this.db.selectFrom('web_push_subscriptions').selectAll().where('participant_id', '=', participantId).execute()).map((s) => this.openSub(s));
  }

  /** Remove the push subscriptions and speech notes of participants who withdrew or lost their device. */
  async purgeInactive(): Promise<number> {
    const gone = this.db.selectFrom('participants').select('id').where('status', '!=', 'active');
    const a = await this.db.deleteFrom('web_push_subscriptions').where('participant_id', 'in', gone).executeTakeFirst();
    const withdrawn = this.db.selectFrom('participants').select('id').where('status', '=', 'withdrawn');
    const b = await this.db.deleteFrom('web_speech_failures').where('participant_id', 'in', withdrawn).executeTakeFirst();
    return Number(a.numDeletedRows) + Number(b.numDeletedRows);
  }

  /** Has the participant already answered this prompt (a report naming it as its promptTime)? */
  async answeredPrompt(participantId: string, promptTime: string): Promise<boolean> {
    return !!(await this.db.selectFrom('reports').select('id').where('participant_id', '=', participantId).where('prompt_time', '=', promptTime).limit(1).executeTakeFirst());
  }

  /**
   * Claim the reminder of one prompt: true only for the first caller, ever (the row is the
   * claim), so a reminder is sent once even across restarts or two server processes.
   */
  async claimReminder(participantId: string, promptMs: number, now: number): Promise<boolean> {
    const r = await this.db.insertInto('web_push_sent').values({ participant_id: participantId, prompt_ms: promptMs, claimed_ms: now, delivered: 0, detail: null })
      .onConflict((oc) => oc.columns(['participant_id', 'prompt_ms']).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async reminderResult(participantId: string, promptMs: number, delivered: number, detail: string): Promise<void> {
    await this.db.updateTable('web_push_sent').set({ delivered, detail }).where('participant_id', '=', participantId).where('prompt_ms', '=', promptMs).execute();
  }

  async remindersOf(participantId: string): Promise<WebPushSentTable[]> {
    const rows = await this.db.selectFrom('web_push_sent').selectAll().where('participant_id', '=', participantId).orderBy('prompt_ms').execute();
    return rows.map((r) => ({ ...r, prompt_ms: Number(r.prompt_ms), claimed_ms: Number(r.claimed_ms), delivered: Number(r.delivered) }));
  }
}
