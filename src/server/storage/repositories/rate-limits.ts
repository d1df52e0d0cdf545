/**
 * Rate-limit counters shared by every instance on one PostgreSQL database (http/rate-limit-store.ts):
 * a fixed window per key, counted by one upsert, so two instances behind a load balancer count
 * the same attempts. Keys are the limiter's (route and client address); no personal data.
 */
import { CompiledQuery } from 'kysely';
import type { Database } from '../database.js';

export class RateLimitsRepository {
  private hitSql: string;

  constructor(private d: Database) {
    const n = (i: number) => d.param(i);
    // $1 key, $2 now, $3 now + window: a window that ended starts again at 1.
    this.hitSql = `insert into rate_limits (key, count, reset_ms) values (${n(1)}, 1, ${n(3)})
      on conflict (key) do update set
        count = case when rate_limits.reset_ms <= ${n(2)} then 1 else rate_limits.count + 1 end,
        reset_ms = case when rate_limits.reset_ms <= ${n(2)} then ${n(3)} else rate_limits.reset_ms end
      returning count, reset_ms`;
  }

  /** Count one attempt under `key` in its window of `windowMs`; returns the count so far and when the window ends. */
  async hitRateLimit(key: string, windowMs: number, now: number): Promise<{ count: number; resetMs: number }> {
    const r = await this.d.db.executeQuery<{ count: number; reset_ms: number }>(CompiledQuery.raw(this.hitSql, [key, now, now + windowMs]));
    return { count: Number(r.rows[0].count), resetMs: Number(r.rows[0].reset_ms) };
  }

  /** The count under `key` now (0 when its window ended), without counting. */
  async readRateLimit(key: string, now: number): Promise<{ count: number; resetMs: number }> {
    const r = await this.d.db.selectFrom('rate_limits').select(['count', 'reset_ms']).where('key', '=', key).executeTakeFirst();
    return !r || Number(r.reset_ms) <= now ? { count: 0, resetMs: now } : { count: Number(r.count), resetMs: Number(r.reset_ms) };
  }

  /** Drop counters whose window ended. */
  async sweepRateLimits(now: number): Promise<number> {
    const r = await this.d.db.deleteFrom('rate_limits').where('reset_ms', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
