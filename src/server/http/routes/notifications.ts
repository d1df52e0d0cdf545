/**
 * Threshold notifications (jobs/notify.ts): a study's channels — set by an owner: e-mail on or
 * off, the webhook URL (checked: https, public addresses) and its secret, answered once when made —
 * and the notifications themselves, which a researcher acknowledges in the dashboard.
 */
import { z } from 'zod';
import type { App, RouteDeps } from '../deps.js';
import { answers, NotificationView, NotifySettingsView } from '../responses.js';
import { NotificationListQuery, NotificationParams, NotifySettingsBody, StudyParams } from '../schemas.js';
import { HttpError, notFound } from '../errors.js';
import { checkWebhookTarget, newWebhookSecret, SIGNATURE_HEADER } from '../../services/webhook.js';
import type { NotificationWithDeliveries, NotifySettings } from '../../storage/repositories/notifications.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function notificationView(n: Omit<NotificationWithDeliveries, 'deliveries' | 'alsoMatched' | 'lastMatchedMs'> & Partial<Pick<NotificationWithDeliveries, 'deliveries' | 'alsoMatched' | 'lastMatchedMs'>>, label: string) {
  return {
    id: n.id, participantId: label, rule: n.rule_id, source: n.source_key.split(':')[0], createdAt: new Date(n.created_ms).toISOString(),
    alsoMatched: n.alsoMatched ?? 0, lastMatchedAt: iso(n.lastMatchedMs ?? null),
    acknowledgedAt: iso(n.acknowledged_ms), acknowledgedBy: n.acknowledged_by,
    deliveries: (n.deliveries ?? []).map((d) => ({ channel: d.channel, status: d.status, attempts: d.attempts, sentAt: iso(d.sentMs), nextTryAt: d.status === 'pending' ? iso(d.nextMs) : null, lastError: d.lastError })),
  };
}

export async function notificationRoutes(app: App, { ctx, store, notify }: RouteDeps): Promise<void> {
  const tags = ['notifications'];
  const view = (s: NotifySettings | undefined, secret?: string) => ({
    email: s?.email ?? true, webhookUrl: s?.webhookUrl ?? null, webhookSecretSet: !!s?.webhookSecret, smtpConfigured: notify.opts.smtp !== null,
    ...(secret ? { webhookSecret: secret } : {}), signatureHeader: SIGNATURE_HEADER, updatedAt: iso(s?.updatedMs ?? null),
  });

  app.get('/studies/:studyId/notify-settings', {
    schema: { response: answers({ 200: NotifySettingsView }), tags, summary: 'How the study team is notified: e-mail on or off, the webhook URL (its secret is never shown again)', params: StudyParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    return view(await store.notifySettings(info.study.id));
  });

  app.put('/studies/:studyId/notify-settings', {
    schema: { response: answers({ 200: NotifySettingsView }), tags, summary: 'Set how the study team is notified; a new webhook secret (first URL, or rotateSecret) is answered once', params: StudyParams, body: NotifySettingsBody },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const { email, webhookUrl, rotateSecret } = req.body;
    if (webhookUrl !== null) {
      const problem = await checkWebhookTarget(webhookUrl, notify.opts.allowHttp);
      if (problem) throw new HttpError(400, `body.webhookUrl: ${problem}`, 'body.webhookUrl');
    }
    const old = await store.notifySettings(info.study.id);
    const fresh = webhookUrl !== null && (rotateSecret || !old?.webhookSecret) ? newWebhookSecret() : undefined;
    const secret = webhookUrl === null ? null : fresh ?? old!.webhookSecret;
    const s: NotifySettings = { studyId: info.study.id, email, webhookUrl, webhookSecret: secret, updatedMs: ctx.now(), updatedBy: u.id };
    await store.saveNotifySettings(s, {
      actor_kind: 'researcher', actor_id: u.id, action: 'write', study_id: info.study.id, participant_id: null, resource: 'notify-settings',
      detail: `e-mail ${email ? 'on' : 'off'}; webhook ${webhookUrl === null ? 'none' : new URL(webhookUrl).host}${fresh ? '; new secret' : ''}`,
    });
    return view(s, fresh);
  });

  app.get('/studies/:studyId/notifications', {
    schema: { response: answers({ 200: z.array(NotificationView) }), tags, summary: 'Threshold notifications of the study with their deliveries, newest first', params: StudyParams, querystring: NotificationListQuery },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const labels = new Map((await store.participants(info.study.id)).map((p) => [p.id, p.label]));
    const rows = await store.notifications(info.study.id, req.query.status);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: null, resource: 'notifications', detail: `${rows.length} notifications` });
    return rows.map((n) => notificationView(n, labels.get(n.participant_id) ?? n.participant_id));
  });

  app.post('/studies/:studyId/notifications/:notificationId/ack', {
    schema: { response: answers({ 200: NotificationView }), tags, summary: 'Acknowledge a notification (once; audited)', params: NotificationParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const n = await store.acknowledgeNotification(info.study.id, req.params.notificationId, u.id, ctx.now());
    if (!n) throw notFound(`notification ${req.params.notificationId}`);
    const p = await store.participantById(n.participant_id);
    const full = (await store.notifications(info.study.id, 'all')).find((x) => x.id === n.id);
    return notificationView(full ?? n, p?.label ?? n.participant_id);
  });
}
