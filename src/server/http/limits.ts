/**
 * The server's own limits (docs/security.md, "Limits"): what one request, one participant or one
 * recording may cost. Each is a `moodlens serve` flag with a safe default, validated here with
 * zod; the bounds of a study's configuration are in STUDY_LIMITS (src/data/study.ts) and the
 * per-study upload size in the study's settings (speechMaxBytes).
 *
 * Also here:
 * - the per-participant ingest rate limit (a token bucket per participant: 429 + Retry-After);
 * - the rule that an early answer to a request whose body has not been read to its end closes the
 *   connection (`Connection: close`, then a lingering close), so the next request on a keep-alive
 *   connection is never taken for the rest of the rejected body and left unanswered.
 */
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

const MiB = 1024 * 1024;

export const ServerLimitsSchema = z.object({
  ingestRatePerMinute: z.number().int().min(1).max(1_000_000).default(120).describe('Ingest requests (reports, speech, speech features, activity) per participant per minute; also the burst.'),
  bodyBytes: z.number().int().min(1024).max(64 * MiB).default(MiB).describe('Largest JSON body of any route not listed below (bytes).'),
  reportBodyBytes: z.number().int().min(1024).max(16 * MiB).default(64 * 1024).describe('Largest EMA report body (bytes).'),
  activityBodyBytes: z.number().int().min(1024).max(256 * MiB).default(32 * MiB).describe('Largest wristband epoch batch, POST /me/activity (bytes).'),
  activityWorkerBytes: z.number().int().min(0).max(256 * MiB).default(MiB).describe('Activity bodies larger than this are parsed and checked on a worker thread, not the event loop (bytes).'),
  activityValuesPerWrite: z.number().int().min(100).max(1_000_000).default(16_000).describe('Epoch values (epochs × channels) per database write when storing a batch; the event loop gets a turn between writes.'),
  rawActivityBytes: z.number().int().min(MiB).max(64 * 1024 * MiB).default(4 * 1024 * MiB).describe('Largest raw accelerometer upload, PUT /me/activity/raw (bytes; a 14-day 100 Hz .cwa is ~0.3 GB).'),
  speechMaxSeconds: z.number().positive().max(24 * 3600).default(600).describe('Longest speech recording accepted for storage and analysis (seconds).'),
  speechMaxSamples: z.number().int().min(1000).max(2_000_000_000).default(30_000_000).describe('Most samples (frames × channels) in one speech recording.'),
  speechTimeoutS: z.number().positive().max(3600).default(60).describe("Longest one recording's feature extraction may run on the worker before it is stopped (seconds)."),
  speechWorkerMemoryMb: z.number().int().min(32).max(16_384).default(512).describe('Heap cap of each speech worker thread (MiB, V8 old generation).'),
  schedulePagePrompts: z.number().int().min(48).max(100_000).default(1000).describe('Most prompts one GET …/schedule answer lists (the rest by ?fromDay=).'),
  lingerMs: z.number().int().min(0).max(60_000).default(2000).describe('After an early answer to an unfinished upload, keep reading (and dropping) what the client still sends for this long before closing (ms).'),
}).strict();
export type ServerLimits = z.infer<typeof ServerLimitsSchema>;

/** One line of help per limit (the flag's help text and docs/security.md). */
export const LIMIT_HELP = Object.fromEntries(Object.entries(ServerLimitsSchema.shape).map(([k, v]) => [k, v.description ?? k])) as Record<keyof ServerLimits, string>;

/** The defaults, as documented. */
export const DEFAULT_LIMITS: ServerLimits = ServerLimitsSchema.parse({});

/** Parse limits given to buildServer (unknown keys and out-of-range values are a clear start-up error). */
export function parseLimits(given: Partial<ServerLimits> | undefined): ServerLimits {
  const r = ServerLimitsSchema.safeParse(given ?? {});
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`server limits: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

/** 429 with the seconds to wait (sent as Retry-After). */
export class TooManyRequests extends HttpError {
  constructor(message: string, readonly retryAfterS: number) { super(429, message); }
}

/**
 * Per-participant ingest rate: a token bucket of `perMinute` tokens refilled continuously, so a
 * phone may send a backlog of up to `perMinute` requests at once (after a day offline) and then
 * `perMinute` a minute. One map lookup and a few arithmetic operations per request.
 */
export class IngestLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(private perMinute: number, private now: () => number = Date.now) {
    this.perMs = perMinute / 60_000;
  }

  /** Take one token for `key`, or throw 429 with Retry-After. */
  take(key: string): void {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= 100_000) this.sweep(now);
      b = { tokens: this.perMinute, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * this.perMs);
      b.at = now;
    }
    if (b.tokens >= 1) { b.tokens -= 1; return; }
    const retryAfterS = Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000));
    throw new TooManyRequests(`too many uploads from this participant: at most ${this.perMinute} a minute; retry after ${retryAfterS} s`, retryAfterS);
  }

  /** Forget buckets that are full again (they behave exactly like a new one). */
  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * this.perMs >= this.perMinute) this.buckets.delete(k);
  }
}

/** Has the request a body that has not been read to its end? */
function bodyUnfinished(raw: IncomingMessage): boolean {
  if (raw.complete) return false;
  const len = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

const lingering = new WeakSet<Socket>();

/**
 * Close a connection whose request body was not read to its end, without losing the answer: the
 * answer carries `Connection: close`; once it is written, the server half-closes, keeps reading and
 * dropping what the client still sends for `lingerMs` (a close with unread bytes would send a TCP
 * reset, and the client could lose the answer), then closes.
 */
function lingeringClose(raw: IncomingMessage, lingerMs: number): void {
  const sock = raw.socket;
  if (!(sock instanceof Socket) || sock.destroyed || lingering.has(sock)) return; // (Fastify's inject has no socket)
  lingering.add(sock);
  // Node ends a `Connection: close` answer with socket.destroySoon() (end, then destroy once written): half-close only.
  (sock as Socket & { destroySoon?: () => void }).destroySoon = () => { sock.end(); };
  raw.on('error', () => {});
  raw.resume(); // the rest of the body goes to nowhere
  sock.on('end', () => sock.destroy()); // the client closed its side
  const timer = setTimeout(() => sock.destroy(), lingerMs);
  timer.unref();
  sock.once('close', () => clearTimeout(timer));
}

/** Install the early-answer rule on the app (every route). */
export function closeAfterEarlyAnswer(app: FastifyInstance, lingerMs: number): void {
  // A callback hook, not an async one: it runs on every answer, and a promise per answer costs throughput.
  app.addHook('onSend', (req, reply, payload, done) => {
    if (!req.raw.complete && bodyUnfinished(req.raw)) {
      reply.header('connection', 'close');
      lingeringClose(req.raw, lingerMs);
    }
    done(null, payload);
  });
}

/** The `moodlens serve` flag of each limit (also accepted by src/server/main.ts). */
export const LIMIT_FLAGS: Record<keyof ServerLimits, string> = {
  ingestRatePerMinute: 'ingest-rate-limit',
  bodyBytes: 'body-limit',
  reportBodyBytes: 'report-body-limit',
  activityBodyBytes: 'activity-body-limit',
  activityWorkerBytes: 'activity-worker-bytes',
  activityValuesPerWrite: 'activity-values-per-write',
  rawActivityBytes: 'raw-activity-limit',
  speechMaxSeconds: 'speech-max-seconds',
  speechMaxSamples: 'speech-max-samples',
  speechTimeoutS: 'speech-timeout-s',
  speechWorkerMemoryMb: 'speech-worker-memory-mb',
  schedulePagePrompts: 'schedule-page-prompts',
  lingerMs: 'linger-ms',
};

/** Limits from command-line values (strings, by flag name); a bad value is a one-line error naming the flag. */
export function limitsFromFlags(values: Record<string, string | undefined>): Partial<ServerLimits> {
  const out: Record<string, number> = {};
  for (const [key, flag] of Object.entries(LIMIT_FLAGS) as [keyof ServerLimits, string][]) {
    const v = values[flag];
    if (v === undefined) continue;
    const n = Number(v);
    const r = ServerLimitsSchema.shape[key].safeParse(v.trim() === '' ? NaN : n);
    if (!r.success) throw new Error(`--${flag}: ${r.error.issues[0].message} (got "${v}")`);
    out[key] = r.data as number;
  }
  return out as Partial<ServerLimits>;
}
