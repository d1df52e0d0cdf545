/**
 * @fastify/rate-limit's counters in the database (PostgreSQL): several `moodlens serve` instances
 * behind a load balancer count the same sign-in, enrolment and password-reset attempts, so the
 * limit (`--auth-rate-limit` a minute per client address and route) holds for the whole
 * deployment, not per instance. One upsert per limited request (storage/repositories/rate-limits.ts);
 * counters whose window ended are swept every few minutes. SQLite is one process: the plugin's
 * in-memory store does the same there.
 */
import type { Store } from '../storage/store.js';

type Cb = (err: Error | null, res?: { current: number; ttl: number }) => void;
interface RouteOptions { routeInfo: { method: string; url: string } }

/** The store class the plugin instantiates (`store` option), bound to the server's storage. */
export function databaseRateLimitStore(store: Store, now: () => number = Date.now) {
  let lastSweep = 0;
  const sweep = () => {
    const t = now();
    if (t - lastSweep < 300_000) return;
    lastSweep = t;
    void store.sweepRateLimits(t).catch((e: Error) => console.error(`rate limits: sweep failed: ${e.message}`));
  };
  return class DatabaseRateLimitStore {
    constructor(_global: unknown, private prefix = 'rl:') {}

    incr(key: string, cb: Cb, timeWindow: number, _max: number): void {
      sweep();
      const t = now();
      store.hitRateLimit(this.prefix + key, timeWindow, t)
        .then((r) => cb(null, { current: r.count, ttl: Math.max(0, r.resetMs - t) }), (e: Error) => cb(e));
    }

    read(key: string, cb: Cb): void {
      const t = now();
      store.readRateLimit(this.prefix + key, t).then((r) => cb(null, { current: r.count, ttl: Math.max(0, r.resetMs - t) }), (e: Error) => cb(e));
    }

    /** A route's own limiter: its counters are apart from other routes'. */
    child(o: RouteOptions): DatabaseRateLimitStore {
      return new DatabaseRateLimitStore(undefined, `${this.prefix}${o.routeInfo.method}${o.routeInfo.url}:`);
    }
  };
}
