/**
 * Threshold notifications (docs/study-design.md "Notifications"): a study's rules (study.json
 * `notifications`, data/notify.ts) are checked against every stored report (an item's answer, an
 * instrument's score) and every new early-warning alert episode; a rule met makes ONE
 * notification — keyed by rule × report (or alert) id, the row is the claim, so a job delivered
 * twice or run by two server processes makes one — audited, shown in the dashboard until a
 * researcher acknowledges it, and delivered to the study team:
 *
 * - by e-mail to the study's owners and researchers, through the SMTP server of the server's own
 *   configuration (MOODLENS_SMTP_URL, MOODLENS_SMTP_FROM; never from a study, so no researcher
 *   can make the server connect anywhere), with nodemailer;
 * - by a webhook the study's owner set (services/webhook.ts: https, public addresses only, signed
 *   with HMAC-SHA256 of timestamp + body under the study's secret).
 *
 * Each channel's delivery is a row claimed with a lease before it is tried; a failure is retried
 * with exponential backoff (1 min, 2, 4, … capped at 6 h, `maxAttempts` tries) by a pass that
 * wakes every MOODLENS_NOTIFY_TICK_S seconds and once at start, so deliveries survive a restart.
 * The check itself runs after the report is stored; at start, the reports and alert episodes of
 * the last `catchUpMs` (7 days) in studies with rules are checked again, so a check a crash
 * interrupted is made (making a notification is idempotent: the key).
 * A delivery interrupted between sending and recording it is sent again (at least once): the
 * e-mail keeps its Message-ID and the webhook its Moodlens-Notification-Id header, so the
 * repeat can be recognised. The message says only which participant of which study needs
 * attention, with a link to the dashboard — no rule, item, answer or score.
 */
import http from 'node:http';
import https from 'node:https';
import nodemailer, { type Transporter } from 'nodemailer';
import { z } from 'zod';
import type { ServerContext } from '../http/context.js';
import type { Delivery, Notification } from '../storage/repositories/notifications.js';
import { newId } from '../storage/ids.js';
import { alertRuleHits, reportRuleHits, type NotifyRule } from '../../data/notify.js';
import { scoreAnswers, studyInstruments } from '../../data/instruments.js';
import { guardedLookup, NOTIFICATION_ID_HEADER, SIGNATURE_HEADER, signWebhook, webhookUrlProblem } from '../services/webhook.js';

export interface SmtpOptions { url: string; from: string }

export interface NotifyOptions {
  /** The SMTP server e-mails go through (null: e-mail deliveries fail with a message saying so). */
  smtp: SmtpOptions | null;
  /** Allow http webhooks and loopback/private addresses (MOODLENS_NOTIFY_ALLOW_HTTP=1; local tests only). */
  allowHttp: boolean;
  /** Retry pass interval (0 = no timer: one pass at start, then only when `tick()` is called). */
  tickMs: number;
  /** First retry delay; doubled per failed try, capped at 6 h. */
  backoffMs: number;
  /** Tries per delivery before it is given up (status "failed", shown in the dashboard). */
  maxAttempts: number;
  /** A claimed delivery is taken back after this long (its sender died). */
  leaseMs: number;
  timeoutMs: number;
  /** At start, check again the reports and alert episodes of this long ago (0 = none). */
  catchUpMs: number;
}

const MAX_BACKOFF_MS = 6 * 3_600_000;

/** "Name <a@b.c>" or "a@b.c". */
const FROM = /^(?:[^<>]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/;

const NotifyEnv = z.object({
  MOODLENS_SMTP_URL: z.string().refine((v) => { try { return ['smtp:', 'smtps:'].includes(new URL(v).protocol); } catch { return false; } },
    { message: 'expected smtp://[user:password@]host[:port] or smtps://…' }).optional(),
  MOODLENS_SMTP_FROM: z.string().regex(FROM, 'expected an address, e.g. "Moodlens <moodlens@example.org>"').optional(),
  MOODLENS_NOTIFY_TICK_S: z.coerce.number().min(0).max(86_400).default(30),
  MOODLENS_NOTIFY_ALLOW_HTTP: z.enum(['0', '1']).default('0'),
}).refine((e) => !e.MOODLENS_SMTP_URL || e.MOODLENS_SMTP_FROM, { message: 'MOODLENS_SMTP_FROM is needed with MOODLENS_SMTP_URL', path: ['MOODLENS_SMTP_FROM'] });

/** The notification settings of the server's environment; throws one line naming the variable that is wrong. */
export function notifyOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): NotifyOptions {
  const picked = Object.fromEntries(Object.entries(env).filter(([k, v]) => k in NotifyEnv.shape && v !== ''));
  const r = NotifyEnv.safeParse(picked);
  if (!r.success) {
    const i = r.error.issues[0];
    const name = String(i.path[0]);
    throw new Error(`${name}: ${i.message}${env[name] !== undefined && !/PASS|URL/.test(name) ? `, got "${env[name]}"` : ''}`);
  }
  const e = r.data;
  return {
    smtp: e.MOODLENS_SMTP_URL ? { url: e.MOODLENS_SMTP_URL, from: e.MOODLENS_SMTP_FROM! } : null,
    allowHttp: e.MOODLENS_NOTIFY_ALLOW_HTTP === '1', tickMs: e.MOODLENS_NOTIFY_TICK_S * 1000,
    backoffMs: 60_000, maxAttempts: 10, leaseMs: 120_000, timeoutMs: 10_000, catchUpMs: 7 * 86_400_000,
  };
}

/** A delivery that cannot succeed by trying again (nothing configured): given up at once. */
class Permanent extends Error {}

/** What the webhook receives (JSON). */
export interface WebhookBody { type: 'participant.attention'; id: string; study: { id: string; name: string }; participant: string; createdAt: string; url: string; text: string }

export interface PassResult { claimed: number; sent: number; retrying: number; failed: number }

export class NotificationService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PassResult> | null = null;
  private inflight = new Set<Promise<unknown>>();
  private stopped = false;
  private mailer: Transporter | null = null;

  /** `jobsIdle`: resolves when the job engine has nothing waiting or running (idle() waits for it first: a check may still be queued). */
  constructor(private ctx: ServerContext, readonly opts: NotifyOptions, private publicUrl?: string, private jobsIdle?: () => Promise<void>) {}

  /** The rules a report meets are raised (jobs/queue.ts kind "notify-report"). */
  afterReport(reportId: string): void {
    this.track(this.checkReport(reportId));
  }

  /** The rules a new alert episode meets are raised (kind "notify-alert"). */
  afterAlert(alertId: string): void {
    this.track(this.checkAlert(alertId));
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((e) => console.error(`notify: ${e instanceof Error ? e.message : e}`)).finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  /** Resolves when the checks and deliveries started so far are done (tests); `withJobs`: the queued checks too. */
  async idle(withJobs = true): Promise<void> {
    if (withJobs && this.jobsIdle && !this.stopped) await this.jobsIdle();
    while (this.inflight.size > 0 || this.running) {
      await Promise.all([...this.inflight]);
      if (this.running) await this.running.catch(() => undefined);
    }
  }

  async checkReport(reportId: string): Promise<number> {
    const report = await this.ctx.store.reportById(reportId);
    if (!report) return 0; // withdrawn meanwhile
    const info = await this.ctx.studyInfo(report.study_id);
    const rules = info.config.notifications ?? [];
    if (rules.length === 0) return 0;
    // The report's scores (stored with it; for a report stored before scores were, computed from its answers: data/instruments.ts).
    let scores: Record<string, number> = report.scores ?? {};
    if (!report.scores) for (const ins of studyInstruments(info.config)) scores = { ...scores, ...(scoreAnswers(ins, report.answers)?.scores ?? {}) };
    return this.raise(report.study_id, report.participant_id, reportRuleHits(rules, report.answers, scores), `report:${report.id}`);
  }

  async checkAlert(alertId: string): Promise<number> {
    const alert = await this.ctx.store.alert(alertId);
    if (!alert) return 0;
    const info = await this.ctx.studyInfo(alert.study_id);
    return this.raise(alert.study_id, alert.participant_id, alertRuleHits(info.config.notifications ?? [], alert.item), `alert:${alert.id}`);
  }

  /** Make the notification of each rule met (once per rule × source) and deliver the new ones. */
  private async raise(studyId: string, participantId: string, rules: NotifyRule[], sourceKey: string): Promise<number> {
    let made = 0;
    for (const rule of rules) {
      const now = this.ctx.now();
      const n: Notification = { id: newId('n_'), study_id: studyId, participant_id: participantId, rule_id: rule.id, source_key: sourceKey, created_ms: now, acknowledged_ms: null, acknowledged_by: null, cooldown_of: null };
      const { created } = await this.ctx.store.createNotification(n, [...new Set(rule.channels)], {
        actor_kind: 'system', actor_id: 'notify', action: 'write', study_id: studyId, participant_id: participantId, resource: 'notification',
        detail: `rule ${rule.id} met by ${sourceKey}: notification ${n.id} (${rule.channels.join(', ')})`,
      }, (rule.cooldownHours ?? 0) * 3_600_000);
      if (created) { made++; await this.deliver(n.id); }
    }
    return made;
  }

  /**
   * Check again the reports and alert episodes since `sinceMs` in studies with rules (at start:
   * a check a crash interrupted is made; what was made already is not made again). Returns the
   * notifications made.
   */
  async catchUp(sinceMs: number): Promise<number> {
    const { reports, alerts } = await this.ctx.store.recentNotifySources(sinceMs);
    let made = 0;
    for (const id of reports) made += await this.checkReport(id).catch((e) => { console.error(`notify: report ${id}: ${e instanceof Error ? e.message : e}`); return 0; });
    for (const id of alerts) made += await this.checkAlert(id).catch((e) => { console.error(`notify: alert ${id}: ${e instanceof Error ? e.message : e}`); return 0; });
    return made;
  }

  /** Try the due deliveries of one notification now. */
  deliver(notificationId: string): Promise<PassResult> { return this.pass(notificationId); }

  /** One retry pass over every due delivery (serialised with other passes of this process). */
  async tick(): Promise<PassResult> { return this.pass(); }

  private async pass(notificationId?: string): Promise<PassResult> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.run(notificationId).finally(() => { this.running = null; });
    return this.running;
  }

  private async run(notificationId?: string): Promise<PassResult> {
    const res: PassResult = { claimed: 0, sent: 0, retrying: 0, failed: 0 };
    for (;;) {
      const claimed = await this.ctx.store.claimDueDeliveries(this.ctx.now(), this.opts.leaseMs, 50, notificationId);
      if (claimed.length === 0) return res;
      res.claimed += claimed.length;
      for (const d of claimed) {
        const r = await this.attempt(d);
        res[r]++;
      }
    }
  }

  private async attempt(d: Delivery): Promise<'sent' | 'retrying' | 'failed'> {
    const n = await this.ctx.store.notification(d.notificationId);
    if (!n) return 'failed'; // the participant withdrew: the notification went with their data
    const audit = (detail: string) => ({ actor_kind: 'system' as const, actor_id: 'notify', action: 'write' as const, study_id: n.study_id, participant_id: n.participant_id, resource: 'notification', detail });
    try {
      const what = await this.send(d, n);
      await this.ctx.store.deliveryResult(d, { ok: true, at: this.ctx.now() }, audit(`notification ${n.id}: ${d.channel} sent (${what}), try ${d.attempts}`));
      return 'sent';
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      const now = this.ctx.now();
      const retryAt = e instanceof Permanent || d.attempts >= this.opts.maxAttempts ? null : now + Math.min(MAX_BACKOFF_MS, this.opts.backoffMs * 2 ** (d.attempts - 1));
      await this.ctx.store.deliveryResult(d, { ok: false, at: now, error, retryAt },
        audit(`notification ${n.id}: ${d.channel} try ${d.attempts} failed: ${error.slice(0, 200)}; ${retryAt === null ? 'given up' : `retry at ${new Date(retryAt).toISOString()}`}`));
      return retryAt === null ? 'failed' : 'retrying';
    }
  }

  /** The message: who needs attention in which study, and where to look. Nothing else. */
  async message(n: Notification): Promise<{ subject: string; text: string; body: WebhookBody }> {
    const info = await this.ctx.studyInfo(n.study_id);
    const p = await this.ctx.store.participantById(n.participant_id);
    const label = p?.label ?? n.participant_id;
    const base = (this.publicUrl ?? '').replace(/\/+$/, '');
    const url = `${base}/dashboard/#study=${encodeURIComponent(n.study_id)}&notification=${encodeURIComponent(n.id)}`;
    const text = `Participant ${label} needs attention in study "${info.study.name}".\n\nOpen the dashboard to see and acknowledge it: ${url}\n`;
    return {
      subject: `Moodlens: participant ${label} needs attention (${info.study.name})`, text,
      body: { type: 'participant.attention', id: n.id, study: { id: n.study_id, name: info.study.name }, participant: label, createdAt: new Date(n.created_ms).toISOString(), url, text: text.split('\n')[0] },
    };
  }

  private async send(d: Delivery, n: Notification): Promise<string> {
    const m = await this.message(n);
    const settings = await this.ctx.store.notifySettings(n.study_id);
    if (d.channel === 'email') {
      if (settings && !settings.email) throw new Permanent('e-mail is switched off for this study');
      if (!this.opts.smtp) throw new Permanent('no SMTP server configured (MOODLENS_SMTP_URL, MOODLENS_SMTP_FROM)');
      const to = await this.ctx.store.teamEmails(n.study_id);
      if (to.length === 0) throw new Permanent('the study has no owner or researcher to e-mail');
      this.mailer ??= nodemailer.createTransport({ url: this.opts.smtp.url, connectionTimeout: this.opts.timeoutMs, greetingTimeout: this.opts.timeoutMs, socketTimeout: this.opts.timeoutMs } as any);
      const info = await this.mailer.sendMail({ from: this.opts.smtp.from, to, subject: m.subject, text: m.text, messageId: `<${n.id}@moodlens>` });
      return `to ${to.length} recipient(s), ${String(info.response ?? '').slice(0, 80)}`;
    }
    if (!settings?.webhookUrl || !settings.webhookSecret) throw new Permanent('no webhook set for this study');
    const problem = webhookUrlProblem(settings.webhookUrl, this.opts.allowHttp);
    if (problem) throw new Permanent(`webhook URL ${problem}`);
    const body = JSON.stringify(m.body);
    const status = await this.post(settings.webhookUrl, body, {
      'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(settings.webhookSecret, body, Date.now()), [NOTIFICATION_ID_HEADER]: n.id,
      'user-agent': 'moodlens-notify',
    });
    if (status < 200 || status >= 300) throw new Error(`webhook answered HTTP ${status}`);
    return `HTTP ${status}`;
  }

  /** POST without following redirects; the connection's address is checked (services/webhook.ts). */
  private post(url: string, body: string, headers: Record<string, string>): Promise<number> {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(u, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: guardedLookup(this.opts.allowHttp), timeout: this.opts.timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.opts.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  start(): void {
    if (this.stopped || this.timer) return;
    if (this.opts.smtp && !this.publicUrl) console.warn('notify: no --public-url: the dashboard link in notification e-mails is relative (/dashboard/#…)');
    const run = () => { if (!this.stopped) void this.tick().catch((e) => console.error(`notify: delivery pass failed: ${e instanceof Error ? e.message : e}`)); };
    // Checks a crash interrupted, then deliveries a previous process left due or interrupted.
    setImmediate(() => {
      if (this.stopped) return;
      if (this.opts.catchUpMs > 0) this.track(this.catchUp(this.ctx.now() - this.opts.catchUpMs).then((n) => { if (n) console.warn(`notify: ${n} notification(s) made at start for reports or alerts whose check had not run`); }));
      run();
    });
    if (this.opts.tickMs > 0) { this.timer = setInterval(run, this.opts.tickMs); this.timer.unref(); }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.idle(false).catch(() => undefined);
    this.mailer?.close();
  }
}
