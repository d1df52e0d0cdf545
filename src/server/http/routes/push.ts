/**
 * Participant routes of Web Push reminders (the reminders themselves: jobs/push.ts): the server's
 * VAPID public key, and storing or removing this device's push subscription.
 */
import { z } from 'zod';
import type { App, RouteDeps } from '../deps.js';
import { answers, PushKey, PushSubscribed, PushUnsubscribed } from '../responses.js';

const b64url = (bytes: number) => z.string().regex(/^[A-Za-z0-9_-]+=*$/, 'expected base64url').refine((s) => Buffer.from(s, 'base64url').length === bytes, `expected ${bytes} bytes (base64url)`);

export const PushSubscriptionBody = z.object({
  endpoint: z.string().url().max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    /** The browser's P-256 public key, uncompressed point (65 bytes). */
    p256dh: b64url(65).refine((s) => Buffer.from(s, 'base64url')[0] === 4, 'expected an uncompressed P-256 point (0x04…)'),
    /** The 16-byte authentication secret. */
    auth: b64url(16),
  }).strict(),
}).strict();

export const PushUnsubscribeBody = z.object({ endpoint: z.string().url().max(2048) }).strict();

export async function pushRoutes(app: App, { ctx, store, push: svc }: RouteDeps): Promise<void> {
  const tags = ['participant app'];

  app.get('/me/push/key', { schema: { response: answers({ 200: PushKey }), tags, summary: 'The server\'s VAPID public key (applicationServerKey for PushManager.subscribe)' } }, async (req) => {
    await ctx.participant(req);
    return { publicKey: (await svc.vapid()).publicKey };
  });

  app.put('/me/push/subscription', {
    schema: { response: answers({ 200: PushSubscribed, 201: PushSubscribed }), tags, summary: 'Store this device\'s push subscription: reminders at prompt times', body: PushSubscriptionBody },
  }, async (req, reply) => {
    const p = await ctx.participant(req);
    svc.checkEndpoint(req.body.endpoint);
    const created = await store.saveSubscription({
      endpoint: req.body.endpoint, participant_id: p.id, study_id: p.study_id, p256dh: req.body.keys.p256dh, auth: req.body.keys.auth,
      created_ms: ctx.now(), last_ok_ms: null, failures: 0,
    }, { actor_kind: 'participant', actor_id: p.id, action: 'write', study_id: p.study_id, participant_id: p.id, resource: 'push_subscription', detail: new URL(req.body.endpoint).host });
    return reply.code(created ? 201 : 200).send({ ok: true, created });
  });

  app.delete('/me/push/subscription', {
    schema: { response: answers({ 200: PushUnsubscribed }), tags, summary: 'Stop reminders on this device', body: PushUnsubscribeBody },
  }, async (req) => {
    const p = await ctx.participant(req);
    return { deleted: await store.deleteSubscription(p.id, req.body.endpoint) };
  });

}
