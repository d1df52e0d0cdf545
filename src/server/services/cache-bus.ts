/**
 * Several `moodlens serve` instances on one PostgreSQL database keep short in-process caches (device
 * and session tokens for 30 s, each study's parsed configuration, each study's predictor). When one
 * instance changes what a cache holds — a logout, a password change or disabled account, a
 * withdrawal or a new enrolment code, a study's configuration or model — it tells the others through
 * PostgreSQL's LISTEN/NOTIFY on the channel `moodlens_cache`, and each drops its copy at once (a
 * logout on one instance ends the session on all of them, not 30 s later). SQLite is one process:
 * nothing to tell.
 *
 * The messages name what to drop (a token's hash, a user, participant or study id), never data.
 * A notification missed while an instance's listening connection was down costs at most the
 * cache's own lifetime (30 s for tokens); the listener reconnects.
 */
import pg from 'pg';
import { z } from 'zod';

export const CACHE_CHANNEL = 'moodlens_cache';

export const CacheMessage = z.discriminatedUnion('k', [
  z.object({ k: z.literal('session'), tokenHash: z.string().regex(/^[0-9a-f]{64}$/) }),
  z.object({ k: z.literal('user'), userId: z.string().max(100), keepTokenHash: z.string().regex(/^[0-9a-f]{64}$/).nullable() }),
  z.object({ k: z.literal('participant'), participantId: z.string().max(100) }),
  z.object({ k: z.literal('study'), studyId: z.string().max(100) }),
]);
export type CacheMessage = z.infer<typeof CacheMessage>;

/** A notification: the sending instance and its message. */
const Envelope = z.object({ o: z.string(), m: CacheMessage });

export class CacheBus {
  /** This instance's id: its own notifications come back to it and are skipped. */
  readonly origin = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private client: pg.Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  /** `notify(channel, payload)` runs `select pg_notify(…)` on the server's pool. */
  constructor(private url: string, private notify: (channel: string, payload: string) => Promise<unknown>, private apply: (m: CacheMessage) => void) {}

  async start(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url, application_name: 'moodlens-cache-bus' });
    c.on('notification', (n) => {
      if (n.channel !== CACHE_CHANNEL || !n.payload) return;
      let raw: unknown;
      try { raw = JSON.parse(n.payload); } catch { return; }
      const env = Envelope.safeParse(raw);
      if (env.success && env.data.o !== this.origin) this.apply(env.data.m);
    });
    c.on('error', () => this.reconnect());
    c.on('end', () => this.reconnect());
    await c.connect();
    await c.query(`listen ${CACHE_CHANNEL}`);
    this.client = c;
  }

  private reconnect(): void {
    if (this.closed || this.retry) return;
    this.client = null;
    this.retry = setTimeout(() => { this.retry = null; this.start().catch(() => this.reconnect()); }, 1000);
    this.retry.unref();
  }

  /** Tell the other instances (fire and forget: a failure only leaves their cache to expire). */
  publish(m: CacheMessage): void {
    if (this.closed) return;
    this.notify(CACHE_CHANNEL, JSON.stringify({ o: this.origin, m }))
      .catch((e: Error) => console.error(`cache bus: ${e.message}`));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.client?.end().catch(() => {});
  }
}
