/**
 * Activity epochs of one participant, held lean for ~6 million epochs per study: a sorted
 * Float64Array of epoch start times (ms, UTC) and a Float32Array of values (epoch-major,
 * C channels per epoch; NaN = missing). The one window extractor of the project lives here.
 */

export interface ActivitySeries {
  /** Epoch start times, ms since the Unix epoch, strictly increasing. */
  time: Float64Array;
  /** n × C values, epoch-major; NaN = missing. */
  values: Float32Array;
}

/** Append-only builder with amortised doubling; `finish()` sorts by time when needed. */
export class ActivitySeriesBuilder {
  private time = new Float64Array(256);
  private values: Float32Array;
  private lines = new Uint32Array(256);
  n = 0;
  private sorted = true;

  constructor(readonly channels: number) { this.values = new Float32Array(256 * channels); }

  push(t: number, row: ArrayLike<number>, line: number): void {
    if (this.n === this.time.length) this.grow();
    if (this.n > 0 && t < this.time[this.n - 1]) this.sorted = false;
    this.time[this.n] = t;
    this.lines[this.n] = line;
    const C = this.channels, o = this.n * C;
    for (let c = 0; c < C; c++) this.values[o + c] = row[c];
    this.n++;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const t = new Float64Array(cap); t.set(this.time); this.time = t;
    const l = new Uint32Array(cap); l.set(this.lines); this.lines = l;
    const v = new Float32Array(cap * this.channels); v.set(this.values); this.values = v;
  }

  /**
   * Exact-size, time-sorted series. `onDuplicate(line, firstLine)` is called for each epoch whose
   * start time repeats an earlier one (the later row is dropped).
   */
  finish(onDuplicate?: (line: number, firstLine: number) => void): ActivitySeries {
    const n = this.n, C = this.channels;
    let order: Uint32Array | null = null;
    if (!this.sorted) {
      order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      const t = this.time, lines = this.lines;
      order.sort((a, b) => (t[a] - t[b]) || (lines[a] - lines[b]));
    }
    const time = new Float64Array(n);
    const values = new Float32Array(n * C);
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = order ? order[k] : k;
      if (m > 0 && this.time[i] === time[m - 1]) {
        const prev = order ? order[k - 1] : k - 1;
        onDuplicate?.(this.lines[i], this.lines[prev]);
        continue;
      }
      time[m] = this.time[i];
      for (let c = 0; c < C; c++) values[m * C + c] = this.values[i * C + c];
      m++;
    }
    // Free the growth buffers.
    this.time = new Float64Array(0); this.values = new Float32Array(0); this.lines = new Uint32Array(0);
    return m === n ? { time, values } : { time: time.slice(0, m), values: values.slice(0, m * C) };
  }
}

/** The median gap between consecutive epochs (seconds) over every series; NaN without two epochs. */
export function medianEpochSpacing(series: ActivitySeries[]): number {
  const gaps: number[] = [];
  for (const s of series) {
    const step = Math.max(1, Math.floor(s.time.length / 2000)); // a sample is enough
    for (let i = step; i < s.time.length; i += step) gaps.push((s.time[i] - s.time[i - 1]) / 1000);
  }
  if (gaps.length === 0) return NaN;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1];
}

/** First index i with time[i] >= t (binary search). */
export function lowerBound(time: Float64Array, t: number): number {
  let lo = 0, hi = time.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[mid] < t) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * The W epochs immediately before a report at time t (SPEC §1: "the 60 epochs of the hour before
 * the report"). The participant's epochs lie on a grid of step `epochMs` anchored at their first
 * epoch; t_a = the last grid point ≤ t, and slot w (0 = oldest) is the epoch starting at
 * t_a − (W − w)·epochMs, i.e. only epochs that have ENDED by the report time. An epoch is matched
 * to a slot within half an epoch (so daily epochs survive a daylight-saving hour). Missing epochs
 * leave NaN.
 *
 * Writes channel-major into `out` at `offset`: out[offset + c·W + w] (instances.ts's channelPresent
 * says whether a channel's window is whole).
 */
export function extractWindow(series: ActivitySeries | undefined, channels: number, t: number, epochMs: number,
  W: number, out: Float32Array, offset: number): void {
  out.fill(NaN, offset, offset + channels * W);
  if (!series || series.time.length === 0) return;
  const time = series.time, vals = series.values;
  const anchor = time[0];
  const ta = anchor + Math.floor((t - anchor) / epochMs) * epochMs;
  const from = ta - W * epochMs - epochMs / 2;
  const to = ta - epochMs / 2;
  for (let i = lowerBound(time, from); i < time.length && time[i] < to; i++) {
    const k = Math.round((ta - time[i]) / epochMs); // 1 = the epoch ending at t_a
    if (k < 1 || k > W) continue;
    const w = W - k;
    for (let c = 0; c < channels; c++) {
      const v = vals[i * channels + c];
      const j = offset + c * W + w;
      if (!Number.isNaN(out[j])) continue; // slot already filled
      out[j] = v;
    }
  }
}
