/**
 * Web Push: the server's VAPID key pair, the participants' subscriptions (their keys sealed at
 * rest: with them, anyone could encrypt pushes to the browser) and the reminders claimed.
 */
import { inserted, type Database, type AuditEntry } from '../database.js';
import type { WebPushKeysTable, WebPushSubscriptionsTable } from '../schema.js';
import { columnContext } from '../data-key.js';

export type PushKeys = WebPushKeysTable;
export type PushSubscription = WebPushSubscriptionsTable;

export class PushRepository {
  constructor(private d: Database) {}

  /** The VAPID key pair (its private key sealed at rest, opened here). */
  async pushKeys(): Promise<PushKeys | undefined> {
    const k = await this.d.db.selectFrom('web_push_keys').selectAll().where('id', '=', 'vapid').executeTakeFirst();
    return k && { ...k, private_key: this.d.keys.openValue(k.private_key, columnContext('web_push_keys', 'private_key', k.id)) };
  }

  /** Store the key pair unless another process stored one first; returns the stored one. */
  async savePushKeys(k: PushKeys): Promise<PushKeys> {
    const sealed = { ...k, private_key: this.d.keys.sealValue(k.private_key, columnContext('web_push_keys', 'private_key', k.id)) };
    await this.d.db.insertInto('web_push_keys').values(sealed).onConflict((oc) => oc.column('id').doNothing()).execute();
    return (await this.pushKeys())!;
  }

  /** A subscription's keys sealed (`seal`) or opened. */
  private keysOf<T extends Pick<PushSubscription, 'endpoint' | 'p256dh' | 'auth'>>(s: T, seal: boolean): T {
    const k = this.d.keys, f = (col: 'p256dh' | 'auth') => (seal ? k.sealValue(s[col], columnContext('web_push_subscriptions', col, s.endpoint)) : k.openValue(s[col], columnContext('web_push_subscriptions', col, s.endpoint)));
    return { ...s, p256dh: f('p256dh'), auth: f('auth') };
  }

  saveSubscription(s: PushSubscription, audit: AuditEntry): Promise<boolean> {
    return this.d.writeForParticipant(s.participant_id, async (trx) => {
      const stored = await trx.selectFrom('web_push_subscriptions').select(['endpoint', 'participant_id', 'p256dh', 'auth']).where('endpoint', '=', s.endpoint).executeTakeFirst();
      const old = stored && this.keysOf(stored, false);
      if (old && old.participant_id === s.participant_id && old.p256dh === s.p256dh && old.auth === s.auth) return false;
      // An endpoint belongs to one browser: a re-subscription (or another participant enrolling
      // on the same phone) replaces what was stored for it.
      await trx.deleteFrom('web_push_subscriptions').where('endpoint', '=', s.endpoint).execute();
      await trx.insertInto('web_push_subscriptions').values(this.keysOf(s, true)).execute();
      await trx.insertInto('audit').values({ time_ms: Date.now(), ...audit, detail: audit.detail ?? null }).execute();
      return true;
    });
  }

  async deleteSubscription(participantId: string, endpoint: string): Promise<number> {
    const r = await this.d.db.deleteFrom('web_push_subscriptions').where('participant_id', '=', participantId).where('endpoint', '=', endpoint).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async dropEndpoint(endpoint: string): Promise<void> {
    await this.d.db.deleteFrom('web_push_subscriptions').where('endpoint', '=', endpoint).execute();
  }

  async markEndpoint(endpoint: string, ok: boolean, now: number): Promise<void> {
    if (ok) await this.d.db.updateTable('web_push_subscriptions').set({ last_ok_ms: now, failures: 0 }).where('endpoint', '=', endpoint).execute();
    else await this.d.db.updateTable('web_push_subscriptions').set((eb) => ({ failures: eb('failures', '+', 1) })).where('endpoint', '=', endpoint).execute();
  }

  /** Active participants that have at least one subscription, with their subscriptions. */
  async subscribedParticipants(): Promise<Map<string, PushSubscription[]>> {
    const rows = await this.d.db.selectFrom('web_push_subscriptions').innerJoin('participants', 'participants.id', 'web_push_subscriptions.participant_id')
      .selectAll('web_push_subscriptions').where('participants.status', '=', 'active').orderBy('web_push_subscriptions.participant_id').execute();
    const out = new Map<string, PushSubscription[]>();
    for (const r of rows) { const a = out.get(r.participant_id) ?? []; a.push(this.keysOf(r, false)); out.set(r.participant_id, a); }
    return out;
  }

  async subscriptionsOf(participantId: string): Promise<PushSubscription[]> {
    return (await this.d.db.selectFrom('web_push_subscriptions').selectAll().where('participant_id', '=', participantId).execute()).map((s) => this.keysOf(s, false));
  }

  /** Remove the push subscriptions and speech notes of participants who withdrew or lost their device. */
  async purgeInactive(): Promise<number> {
    const gone = this.d.db.selectFrom('participants').select('id').where('status', '!=', 'active');
    const a = await this.d.db.deleteFrom('web_push_subscriptions').where('participant_id', 'in', gone).executeTakeFirst();
    const withdrawn = this.d.db.selectFrom('participants').select('id').where('status', '=', 'withdrawn');
    const b = await this.d.db.deleteFrom('web_speech_failures').where('participant_id', 'in', withdrawn).executeTakeFirst();
    return Number(a.numDeletedRows) + Number(b.numDeletedRows);
  }

  /**
   * Claim the reminder of one prompt: true only for the first caller, ever (the row is the
   * claim), so a reminder is sent once even across restarts or two server processes.
   */
  async claimReminder(participantId: string, promptMs: number, now: number): Promise<boolean> {
    return inserted(await this.d.db.insertInto('web_push_sent').values({ participant_id: participantId, prompt_ms: promptMs, claimed_ms: now, delivered: 0, detail: null })
      .onConflict((oc) => oc.columns(['participant_id', 'prompt_ms']).doNothing()).executeTakeFirst()) === 1;
  }

  async reminderResult(participantId: string, promptMs: number, delivered: number, detail: string): Promise<void> {
    await this.d.db.updateTable('web_push_sent').set({ delivered, detail }).where('participant_id', '=', participantId).where('prompt_ms', '=', promptMs).execute();
  }
}
