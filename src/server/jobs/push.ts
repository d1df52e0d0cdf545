/**
 * Reminders at prompt times by Web Push (RFC 8030 / 8291 / 8292) with the `web-push` library:
 *
 * - The server's VAPID key pair is made once (`web-push`'s generateVAPIDKeys) and kept in the
 *   database (table web_push_keys), so every process of the server signs with the same key and a
 *   restart does not invalidate the participants' subscriptions. The private key never leaves it.
 * - The app asks `GET /me/push/key`, subscribes with the browser's PushManager and stores the
 *   subscription with `PUT /me/push/subscription` (`DELETE` to stop): http/routes/push.ts.
 * - A small scheduler wakes every `MOODLENS_PUSH_TICK_S` seconds (default 30; 0 = only when
 *   `tick()` is called): in the server process on SQLite; on PostgreSQL as a `push-pass` job per
 *   tick slot, which every instance sends and one instance runs (the first send of a slot inserts
 *   it, the others insert nothing), so n instances make one pass per tick, not n. A pass, for each
 *   subscribed active participant, sends one
 *   push per scheduled prompt (of any instrument; prompts at the same instant share one) that
 *   fell due in the last `MOODLENS_PUSH_GRACE_MIN` minutes (default 30) and has not expired. A reminder is first *claimed* with a row in web_push_sent (primary key
 *   participant + prompt time, insert-if-absent), so it goes out once — across ticks, restarts
 *   and several server processes — and a prompt that fell due while the server was down is still
 *   reminded on start if it is within the grace window.
 * - Payloads are encrypted (aes128gcm) and signed by `web-push`'s generateRequestDetails; the
 *   request itself is sent with fetch. Endpoints must be https (push services are), except with
 *   MOODLENS_PUSH_ALLOW_HTTP=1 (local tests), so the server never posts to arbitrary local URLs.
 *   A 404/410 answer removes the subscription (the browser unsubscribed).
 */
import webpush from 'web-push';
import type { ServerContext } from '../http/context.js';
import type { PushSubscription } from '../storage/repositories/push.js';
import { HttpError } from '../http/errors.js';
import { clockOf, studyPromptsBetween } from '../services/schedule.js';
import { MAIN_INSTRUMENT } from '../../data/study.js';
import { promptKey } from '../services/prompt-log.js';
import { WithdrawnError } from '../storage/database.js';
import type { ServerJobs } from './queue.js';

/** What the service worker receives (JSON, encrypted). */
export interface PromptPush { type: 'prompt'; title: string; body: string; promptTime: string; url: string; tag: string; /** The prompts reminded of (`<instrument>:<day>:<slot>`). */ promptIds: string[] }

export interface PushOptions { tickMs: number; graceMs: number; allowHttp: boolean; timeoutMs: number }

export function pushOptionsFromEnv(env = process.env): PushOptions {
  const num = (name: string, def: number) => {
    const v = env[name];
    if (v === undefined || v === '') return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a number ≥ 0, got "${v}"`);
    return n;
  };
  return { tickMs: num('MOODLENS_PUSH_TICK_S', 30) * 1000, graceMs: num('MOODLENS_PUSH_GRACE_MIN', 30) * 60_000, allowHttp: env.MOODLENS_PUSH_ALLOW_HTTP === '1', timeoutMs: 10_000 };
}

export interface TickResult { due: number; claimed: number; delivered: number; failed: number }

export class PushService {
  private keys: Promise<{ publicKey: string; privateKey: string; subject: string }> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<TickResult> | null = null;
  private stopped = false;

  constructor(private ctx: ServerContext, readonly opts: PushOptions, private publicUrl?: string) {}

  /** The server's VAPID keys, made and stored on first use. */
  vapid(): Promise<{ publicKey: string; privateKey: string; subject: string }> {
    this.keys ??= (async () => {
      let k = await this.ctx.store.pushKeys();
      if (!k) {
        const g = webpush.generateVAPIDKeys();
        const contact = process.env.MOODLENS_PUSH_CONTACT
          ?? (this.publicUrl?.startsWith('https://') ? this.publicUrl : `mailto:${(await this.ctx.store.firstAdminEmail()) ?? 'moodlens@localhost'}`);
        k = await this.ctx.store.savePushKeys({ id: 'vapid', public_key: g.publicKey, private_key: g.privateKey, subject: contact, created_ms: Date.now() });
      }
      return { publicKey: k.public_key, privateKey: k.private_key, subject: k.subject };
    })().catch((e) => { this.keys = null; throw e; });
    return this.keys;
  }

  checkEndpoint(endpoint: string): void {
    const u = new URL(endpoint);
    if (u.protocol !== 'https:' && !(this.opts.allowHttp && u.protocol === 'http:')) {
      throw new HttpError(400, 'body.endpoint: a push service endpoint must be an https URL', 'body.endpoint');
    }
  }

  /** Encrypt and send one message; returns the push service's HTTP status (0 = no answer). */
  async send(sub: Pick<PushSubscription, 'endpoint' | 'p256dh' | 'auth'>, payload: string, ttlSeconds: number): Promise<{ status: number; detail: string }> {
    const v = await this.vapid();
    const req = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, payload, {
      vapidDetails: { subject: v.subject, publicKey: v.publicKey, privateKey: v.privateKey },
      TTL: Math.max(0, Math.round(ttlSeconds)), contentEncoding: 'aes128gcm', urgency: 'high',
    });
    const headers: Record<string, string> = {};
    for (const [k, val] of Object.entries(req.headers)) if (k.toLowerCase() !== 'content-length') headers[k] = String(val);
    try {
      const r = await fetch(req.endpoint, { method: req.method, headers, body: req.body ? new Uint8Array(req.body) : undefined, signal: AbortSignal.timeout(this.opts.timeoutMs) });
      const text = await r.text().catch(() => '');
      return { status: r.status, detail: `${r.status}${text ? ` ${text.slice(0, 120)}` : ''}` };
    } catch (e) {
      return { status: 0, detail: `no answer: ${(e as Error).message}` };
    }
  }

  /** One pass of the scheduler (serialised: a call while one runs waits for it and runs again). */
  async tick(): Promise<TickResult> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.pass().finally(() => { this.running = null; });
    return this.running;
  }

  private async pass(): Promise<TickResult> {
    const res: TickResult = { due: 0, claimed: 0, delivered: 0, failed: 0 };
    await this.ctx.store.purgeInactive();
    const now = this.ctx.now();
    for (const [pid, subs] of await this.ctx.store.subscribedParticipants()) {
      const p = await this.ctx.store.participantById(pid);
      if (!p || p.status !== 'active' || p.enrolled_ms === null) continue;
      const info = await this.ctx.studyInfo(p.study_id);
      // Prompts of every instrument that fell due in (now − grace, now] and are still open: only the
      // days around now are computed, not the study. Prompts due at the same instant (two
      // instruments) share one reminder: the claim is per participant and prompt time.
      const due = studyPromptsBetween(info.config, clockOf(p, now), now - this.opts.graceMs, now).filter((x) => now < x.expiresMs);
      const answeredIds = await this.ctx.store.answeredPromptIds(p.id, due.map((x) => x.id));
      for (const [k, prompt] of due.entries()) {
        if (k > 0 && due[k - 1].timeMs === prompt.timeMs) continue;
        const group = due.filter((x) => x.timeMs === prompt.timeMs);
        res.due++;
        const answered = async (x: typeof prompt) => answeredIds.has(x.id) || (x.instrument === MAIN_INSTRUMENT && await this.ctx.store.answeredPrompt(p.id, x.time));
        let open = false;
        for (const x of group) if (!(await answered(x))) { open = true; break; }
        if (!open) continue; // answered already (e.g. opened early)
        if (!(await this.ctx.store.claimReminder(p.id, prompt.timeMs, now))) continue;
        res.claimed++;
        const hhmm = prompt.time.slice(11, 16);
        const msg: PromptPush = {
          type: 'prompt', title: info.study.name, body: `Time for your check-in (${hhmm}).`, promptTime: prompt.time,
          url: `/app/?prompt=${encodeURIComponent(prompt.time)}`, tag: `prompt-${prompt.timeMs}`, promptIds: group.map((x) => x.id),
        };
        // Delivered late (a phone offline) it is of no use after the grace window or the prompt's expiry.
        const ttl = (Math.min(prompt.timeMs + this.opts.graceMs, Math.max(...group.map((x) => x.expiresMs))) - now) / 1000;
        let delivered = 0;
        const details: string[] = [];
        for (const s of subs) {
          const r = await this.send(s, JSON.stringify(msg), ttl);
          details.push(r.detail);
          if (r.status >= 200 && r.status < 300) { delivered++; await this.ctx.store.markEndpoint(s.endpoint, true, now); }
          else if (r.status === 404 || r.status === 410) await this.ctx.store.dropEndpoint(s.endpoint); // unsubscribed or expired
          else await this.ctx.store.markEndpoint(s.endpoint, false, now);
        }
        if (delivered) {
          res.delivered++;
          // The prompt log (services/prompt-log.ts): when the reminder of each prompt it names went out.
          // (A participant who withdrew meanwhile has no log to write to; any other failure is told.)
          for (const x of group) await this.ctx.store.markPrompt(promptKey(p, x), 'sent', now).catch((e) => { if (!(e instanceof WithdrawnError)) console.error(`push: prompt log of ${x.id}: ${e instanceof Error ? e.message : e}`); });
        } else res.failed++;
        await this.ctx.store.reminderResult(p.id, prompt.timeMs, delivered, details.join('; ').slice(0, 500));
      }
    }
    return res;
  }

  /**
   * Start the scheduler. With a durable job queue (PostgreSQL, several instances) each tick sends
   * the slot's `push-pass` job instead of passing here; `scheduledPass` is its handler.
   */
  start(jobs?: ServerJobs): void {
    if (this.opts.tickMs <= 0 || this.timer || this.stopped) return;
    const tickMs = this.opts.tickMs;
    const fail = (e: unknown) => console.error(`push: reminder pass failed: ${e instanceof Error ? e.message : e}`);
    // A pass due after stop() (the catch-up below fires on the next turn of the loop) is not run: the database may be closed by then.
    const run = jobs?.durable
      ? () => { if (!this.stopped) void jobs.send('push-pass', { slot: Math.floor(Date.now() / tickMs) }).catch(fail); }
      : () => { if (!this.stopped) void this.tick().catch(fail); };
    setImmediate(run); // catch up on prompts that fell due while the server was down
    this.timer = setInterval(run, tickMs);
    this.timer.unref();
  }

  /** The `push-pass` job's handler: one pass, unless this instance is stopping (the next slot's pass does its work). */
  async scheduledPass(): Promise<void> {
    if (this.stopped) return;
    await this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.running) await this.running.catch(() => undefined);
  }
}
