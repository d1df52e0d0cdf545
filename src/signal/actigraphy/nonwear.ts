/**
 * Non-wear detection after van Hees et al. (PLoS ONE 2011;6(7):e22922 and 2013;8(4):e61691, as in
 * GGIR): a 60-minute window, moved in 15-minute steps, is non-wear when on at least 2 of the
 * 3 axes the standard deviation of the raw acceleration is below 13 mg and its range below 50 mg;
 * every epoch inside a non-wear window is non-wear (its values become missing). Windows are
 * aligned to the clock (multiples of the step since 1970 UTC); a window is judged only when at
 * least half of it has samples. Streaming: epochs are held back one window length, no more.
 */
import { z } from 'zod';

export const NonWearOptionsSchema = z.object({
  windowMinutes: z.number().positive().default(60),
  stepMinutes: z.number().positive().default(15),
  /** g */
  sdThreshold: z.number().positive().default(0.013),
  /** g */
  rangeThreshold: z.number().positive().default(0.05),
  minAxes: z.number().int().min(1).max(3).default(2),
  minCoverage: z.number().min(0).max(1).default(0.5),
});
export type NonWearOptions = z.infer<typeof NonWearOptionsSchema>;

/** Per-axis summary of an epoch's raw samples: [n, mean, M2, min, max] × 3 axes. */
export const STATS_LEN = 15;

/** Merge summary b into a (Chan et al.'s parallel variance update). */
export function mergeStats(a: Float64Array, b: Float64Array): void {
  for (let k = 0; k < STATS_LEN; k += 5) {
    const na = a[k], nb = b[k];
    if (nb === 0) continue;
    if (na === 0) { for (let j = 0; j < 5; j++) a[k + j] = b[k + j]; continue; }
    const n = na + nb, d = b[k + 1] - a[k + 1];
    a[k + 1] += d * nb / n;
    a[k + 2] += b[k + 2] + d * d * na * nb / n;
    a[k + 3] = Math.min(a[k + 3], b[k + 3]);
    a[k + 4] = Math.max(a[k + 4], b[k + 4]);
    a[k] = n;
  }
}

export interface NonWearItem { index: number; stats: Float64Array; nonWear: boolean }

export class NonWearDetector<T extends NonWearItem> {
  private readonly W: number;
  private readonly S: number;
  private readonly buf: T[] = [];
  private last = -Infinity;

  /** `samplesPerEpoch`: the nominal count, to judge a window's coverage. */
  constructor(private readonly o: NonWearOptions, epochSeconds: number, private readonly samplesPerEpoch: number) {
    this.W = Math.max(1, Math.round(o.windowMinutes * 60 / epochSeconds));
    this.S = Math.max(1, Math.round(o.stepMinutes * 60 / epochSeconds));
  }

  /** Epochs must come in order, one per index (empty ones included). Returns the settled ones. */
  push(item: T): T[] {
    this.buf.push(item);
    this.last = item.index;
    const ws = item.index - this.W + 1;
    if (((ws % this.S) + this.S) % this.S === 0) this.judge(ws);
    return this.release(item.index);
  }

  end(): T[] {
    if (this.buf.length) {
      // Windows that start at or before the last epoch and reach past it.
      const first = Math.ceil((this.last - this.W + 2) / this.S) * this.S;
      for (let ws = first; ws <= this.last; ws += this.S) this.judge(ws);
    }
    return this.buf.splice(0);
  }

  private judge(ws: number): void {
    const b = this.buf;
    const acc = new Float64Array(STATS_LEN);
    const members: T[] = [];
    for (const it of b) if (it.index >= ws && it.index < ws + this.W) { members.push(it); mergeStats(acc, it.stats); }
    if (acc[0] < this.o.minCoverage * this.W * this.samplesPerEpoch) return;
    let still = 0;
    for (let k = 0; k < STATS_LEN; k += 5) {
      const n = acc[k];
      const sd = n > 1 ? Math.sqrt(acc[k + 2] / (n - 1)) : 0;
      if (sd < this.o.sdThreshold && acc[k + 4] - acc[k + 3] < this.o.rangeThreshold) still++;
    }
    if (still >= this.o.minAxes) for (const it of members) it.nonWear = true;
  }

  /** An epoch is settled once the last window that can contain it has been judged. */
  private release(current: number): T[] {
    const out: T[] = [];
    while (this.buf.length) {
      const e = this.buf[0].index;
      if (Math.floor(e / this.S) * this.S + this.W - 1 > current) break;
      out.push(this.buf.shift()!);
    }
    return out;
  }
}
