/**
 * Threshold notifications (jobs/notify.ts): each study's channels (its webhook URL and secret,
 * the secret sealed at rest; whether e-mail goes out), the notifications — one per rule × what met
 * it, the unique key is the claim, so a rule met twice by the same report or alert (a retried
 * job, two server processes) makes one — and one delivery row per channel, claimed with a lease
 * before each try so a delivery is sent by one sender at a time and one that a crash interrupted
 * is tried again when its lease lapses.
 */
import { z } from 'zod';
import { inserted, type AuditEntry, type Database } from '../database.js';
import type { NotificationsTable } from '../schema.js';
import { columnContext } from '../data-key.js';
import { NOTIFY_DELIVERY_STATUSES, type NotifyDeliveryStatus } from '../columns.js';
import { NOTIFY_CHANNELS, type NotifyChannel } from '../../../data/notify.js';

export interface NotifySettings { studyId: string; webhookUrl: string | null; webhookSecret: string | null; email: boolean; updatedMs: number; updatedBy: string }
export type Notification = NotificationsTable;
export interface Delivery { notificationId: string; channel: NotifyChannel; status: NotifyDeliveryStatus; attempts: number; nextMs: number; sentMs: number | null; lastError: string | null }
/** `alsoMatched`: matches folded into it by the rule's cooldown; `lastMatchedMs`: the latest of them (null: none). */
export interface NotificationWithDeliveries extends Notification { deliveries: Delivery[]; alsoMatched: number; lastMatchedMs: number | null }

const DeliveryRow = z.object({
  notification_id: z.string(), channel: z.enum(NOTIFY_CHANNELS), status: z.enum(NOTIFY_DELIVERY_STATUSES), attempts: z.number(),
  next_ms: z.number(), sent_ms: z.number().nullable(), last_error: z.string().nullable(),
});
const decodeDelivery = (r: unknown): Delivery => {
  const d = DeliveryRow.parse(r);
  return { notificationId: d.notification_id, channel: d.channel, status: d.status, attempts: d.attempts, nextMs: d.next_ms, sentMs: d.sent_ms, lastError: d.last_error };
};

export class NotificationsRepository {
  constructor(private d: Database) {}

  async notifySettings(studyId: string): Promise<NotifySettings | undefined> {
    const r = await this.d.db.selectFrom('notify_settings').selectAll().where('study_id', '=', studyId).executeTakeFirst();
    return r && {
      studyId: r.study_id, webhookUrl: r.webhook_url, email: r.email === 1, updatedMs: r.updated_ms, updatedBy: r.updated_by,
      webhookSecret: r.webhook_secret === null ? null : this.d.keys.openValue(r.webhook_secret, columnContext('notify_settings', 'webhook_secret', r.study_id)),
    };
  }

  /** Store a study's channels (the secret sealed), with its audit row. */
  saveNotifySettings(s: NotifySettings, audit: AuditEntry): Promise<void> {
    const row = {
      study_id: s.studyId, webhook_url: s.webhookUrl, email: s.email ? 1 : 0, updated_ms: s.updatedMs, updated_by: s.updatedBy,
      webhook_secret: s.webhookSecret === null ? null : this.d.keys.sealValue(s.webhookSecret, columnContext('notify_settings', 'webhook_secret', s.studyId)),
    };
    return this.d.write(async (trx) => {
      await trx.insertInto('notify_settings').values(row).onConflict((oc) => oc.column('study_id').doUpdateSet({
        webhook_url: row.webhook_url, webhook_secret: row.webhook_secret, email: row.email, updated_ms: row.updated_ms, updated_by: row.updated_by,
      })).execute();
      await trx.insertInto('audit').values(this.d.auditRow(audit, s.updatedMs)).execute();
    });
  }

  /**
   * Make the notification of `n.rule_id` × `n.source_key` unless it exists (then nothing is
   * written), with a pending delivery per channel and its audit row, in one transaction checked
   * against withdrawal. Returns the stored notification and whether this call made it.
   * `cooldownMs` > 0: when an unacknowledged notification of the same rule and participant was
   * made within it, the new one is folded into it (`cooldown_of`, no deliveries; `audit.detail`
   * gets a note saying so) — the match is recorded and audited but nothing is sent.
   */
  createNotification(n: Notification, channels: NotifyChannel[], audit: AuditEntry, cooldownMs = 0): Promise<{ notification: Notification; created: boolean }> {
    return this.d.writeForParticipant(n.participant_id, async (trx) => {
      if (cooldownMs > 0 && n.cooldown_of === null) {
        // PostgreSQL: two processes checking two reports of the participant decide one after the
        // other (the participant's row locked); SQLite writes are serialised already.
        if (this.d.kind === 'postgres') await trx.selectFrom('participants').select('id').where('id', '=', n.participant_id).forUpdate().execute();
        const open = await trx.selectFrom('notifications').select('id').where('study_id', '=', n.study_id).where('participant_id', '=', n.participant_id)
          .where('rule_id', '=', n.rule_id).where('cooldown_of', 'is', null).where('acknowledged_ms', 'is', null)
          .where('created_ms', '>', n.created_ms - cooldownMs).where('source_key', '!=', n.source_key)
          .orderBy('created_ms', 'desc').limit(1).executeTakeFirst();
        if (open) {
          n = { ...n, cooldown_of: open.id };
          channels = [];
          audit = { ...audit, detail: `${audit.detail}; within the rule's cooldown of ${open.id}: not sent` };
        }
      }
      const made = inserted(await trx.insertInto('notifications').values(n)
        .onConflict((oc) => oc.columns(['study_id', 'rule_id', 'source_key']).doNothing()).executeTakeFirst()) === 1;
      if (made) {
        for (const channel of channels) {
          await trx.insertInto('notification_deliveries').values({ notification_id: n.id, channel, status: 'pending', attempts: 0, next_ms: n.created_ms, sent_ms: null, last_error: null }).execute();
        }
        await trx.insertInto('audit').values(this.d.auditRow(audit, n.created_ms)).execute();
        return { notification: n, created: true };
      }
      const stored = await trx.selectFrom('notifications').selectAll().where('study_id', '=', n.study_id).where('rule_id', '=', n.rule_id)
        .where('source_key', '=', n.source_key).executeTakeFirstOrThrow();
      return { notification: stored, created: false };
    });
  }

  async notification(id: string): Promise<Notification | undefined> {
    return this.d.db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Claim deliveries that are due — pending ones whose time has come, and sending ones whose
   * lease lapsed (their sender died) — for `leaseMs`: each is taken by one caller only (the
   * update matches the row as it was read). `notificationId` limits the claim to one notification.
   */
  async claimDue(now: number, leaseMs: number, limit: number, notificationId?: string): Promise<Delivery[]> {
    let q = this.d.db.selectFrom('notification_deliveries').selectAll().where('status', 'in', ['pending', 'sending']).where('next_ms', '<=', now);
    if (notificationId) q = q.where('notification_id', '=', notificationId);
    const due = (await q.orderBy('next_ms').limit(limit).execute()).map(decodeDelivery);
    const out: Delivery[] = [];
    for (const d of due) {
      const r = await this.d.write((trx) => trx.updateTable('notification_deliveries')
        .set({ status: 'sending', next_ms: now + leaseMs, attempts: d.attempts + 1 })
        .where('notification_id', '=', d.notificationId).where('channel', '=', d.channel)
        .where('status', '=', d.status).where('next_ms', '=', d.nextMs).where('attempts', '=', d.attempts).executeTakeFirst());
      if (Number(r.numUpdatedRows) === 1) out.push({ ...d, status: 'sending', nextMs: now + leaseMs, attempts: d.attempts + 1 });
    }
    return out;
  }

  /**
   * A claimed delivery's outcome, with its audit row: sent; or failed and tried again at
   * `retryAt` (null: given up). Only the holder of the claim (attempt number) writes it.
   */
  deliveryResult(d: Delivery, outcome: { ok: true; at: number } | { ok: false; at: number; error: string; retryAt: number | null }, audit: AuditEntry): Promise<boolean> {
    return this.d.write(async (trx) => {
      const set = outcome.ok
        ? { status: 'sent', sent_ms: outcome.at, last_error: null }
        : { status: outcome.retryAt === null ? 'failed' : 'pending', next_ms: outcome.retryAt ?? outcome.at, last_error: outcome.error.slice(0, 500) };
      const r = await trx.updateTable('notification_deliveries').set(set).where('notification_id', '=', d.notificationId)
        .where('channel', '=', d.channel).where('status', '=', 'sending').where('attempts', '=', d.attempts).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await trx.insertInto('audit').values(this.d.auditRow(audit, outcome.at)).execute();
      return true;
    });
  }

  /** A study's notifications with their deliveries, newest first ("open": not yet acknowledged). */
  async notifications(studyId: string, status: 'open' | 'acknowledged' | 'all', limit = 500): Promise<NotificationWithDeliveries[]> {
    let q = this.d.db.selectFrom('notifications').selectAll().where('study_id', '=', studyId).where('cooldown_of', 'is', null);
    if (status === 'open') q = q.where('acknowledged_ms', 'is', null);
    if (status === 'acknowledged') q = q.where('acknowledged_ms', 'is not', null);
    const rows = await q.orderBy('created_ms', 'desc').orderBy('id').limit(limit).execute();
    if (rows.length === 0) return [];
    const ds = (await this.d.db.selectFrom('notification_deliveries').selectAll().where('notification_id', 'in', rows.map((r) => r.id)).execute()).map(decodeDelivery);
    const folded = await this.d.db.selectFrom('notifications').select(['cooldown_of', (e) => e.fn.countAll<number | string>().as('n'), (e) => e.fn.max('created_ms').as('last')])
      .where('cooldown_of', 'in', rows.map((r) => r.id)).groupBy('cooldown_of').execute();
    const also = new Map(folded.map((f) => [f.cooldown_of, { n: Number(f.n), last: f.last === null ? null : Number(f.last) }]));
    return rows.map((r) => ({
      ...r, deliveries: ds.filter((d) => d.notificationId === r.id).sort((a, b) => a.channel.localeCompare(b.channel)),
      alsoMatched: also.get(r.id)?.n ?? 0, lastMatchedMs: also.get(r.id)?.last ?? null,
    }));
  }

  /** Acknowledge a notification of the study (once; audited); undefined when the study has no such notification. */
  acknowledgeNotification(studyId: string, id: string, userId: string, now: number): Promise<Notification | undefined> {
    return this.d.write(async (trx) => {
      const r = await trx.updateTable('notifications').set({ acknowledged_by: userId, acknowledged_ms: now })
        .where('id', '=', id).where('study_id', '=', studyId).where('acknowledged_ms', 'is', null).executeTakeFirst();
      const n = await trx.selectFrom('notifications').selectAll().where('id', '=', id).where('study_id', '=', studyId).executeTakeFirst();
      if (n && Number(r.numUpdatedRows) === 1) {
        await trx.insertInto('audit').values(this.d.auditRow({ actor_kind: 'researcher', actor_id: userId, action: 'write', study_id: studyId, participant_id: n.participant_id, resource: 'notification', detail: `acknowledged ${id}` }, now)).execute();
      }
      return n;
    });
  }

  /**
   * Reports stored and alert episodes detected since `sinceMs` in studies that have notification
   * rules (the start-up catch-up: a check a crash interrupted is made again; making a
   * notification is idempotent).
   */
  async recentSources(sinceMs: number): Promise<{ reports: string[]; alerts: string[] }> {
    // study.json is stored as JSON text: a study with rules has a non-empty "notifications" array.
    const withRules = this.d.db.selectFrom('studies').select('id').where('config', 'like', '%"notifications":[{%');
    const reports = await this.d.db.selectFrom('reports').select('id').where('server_ms', '>=', sinceMs).where('study_id', 'in', withRules).orderBy('server_ms').execute();
    const alerts = await this.d.db.selectFrom('alerts').select('id').where('detected_ms', '>=', sinceMs).where('study_id', 'in', withRules).orderBy('detected_ms').execute();
    return { reports: reports.map((r) => r.id), alerts: alerts.map((a) => a.id) };
  }

  /** E-mail addresses of a study's owners and researchers (enabled accounts): who an e-mail notification goes to. */
  async teamEmails(studyId: string): Promise<string[]> {
    const rows = await this.d.db.selectFrom('study_members').innerJoin('users', 'users.id', 'study_members.user_id').select('users.email')
      .where('study_members.study_id', '=', studyId).where('study_members.role', 'in', ['owner', 'researcher']).where('users.disabled_ms', 'is', null)
      .orderBy('users.email').execute();
    return rows.map((r) => r.email);
  }
}
