/**
 * Raw tri-axial samples → one row per epoch (default 60 s), streaming with bounded memory:
 *
 * - ZCM (zero-crossing mode): the chosen signal (vector magnitude √(x²+y²+z²), or one axis) is
 *   band-pass filtered (Butterworth, default 0.25–3 Hz, the band of wrist actigraphs) and the
 *   crossings of a dead band ±threshold are counted with hysteresis: a crossing is counted when
 *   the signal, last beyond one side of the band, passes beyond the other side. A sine of
 *   frequency f in the pass band and amplitude above the threshold gives 2·f·epoch crossings.
 * - PIM (proportional integration mode): ∫|y|dt over the epoch, y the filtered signal (g·s).
 * - TAT (time above threshold): seconds of the epoch with |y| > threshold.
 * - counts: ActiGraph counts (agcounts.ts) of the chosen axis, or for the vector magnitude
 *   √(cx² + cy² + cz²) of the three axes' epoch counts (ActiLife's "Vector Magnitude").
 * - sleep: Cole–Kripke or Sadeh on the 60-s counts (sleep.ts).
 *
 * Epochs start at multiples of the epoch length since 1970 UTC (whole minutes for 60 s). Every
 * epoch from the first to the last sample gets a row; an epoch with less than `minCoverage` of
 * its samples (a gap in the recording, the ragged first and last epoch) or inside non-wear
 * (nonwear.ts) has every value missing (NaN), never 0. Samples further apart than `gapSeconds`
 * start a new segment: the filters restart (settled on the new level) so a gap leaves no ringing.
 */
import { z } from 'zod';
import { SosFilter, butterworthBandPass } from './butterworth.js';
import { AgCounter } from './agcounts.js';
import { NonWearDetector, NonWearOptionsSchema, STATS_LEN } from './nonwear.js';
import { COLE_KRIPKE, SleepScorer, sadeh, type SleepAlgorithm } from './sleep.js';
import type { AccelChunk } from './types.js';

export const CHANNELS = ['zcm', 'pim', 'tat', 'counts', 'sleep'] as const;
export type Channel = (typeof CHANNELS)[number];

export const ActigraphyOptionsSchema = z.object({
  epochSeconds: z.number().positive().default(60),
  channels: z.array(z.enum(CHANNELS)).min(1).default(['zcm', 'pim']),
  /** Signal of ZCM/PIM/TAT/counts: vector magnitude or one axis. */
  signal: z.enum(['vm', 'x', 'y', 'z']).default('vm'),
  /** Band-pass edges in Hz. */
  band: z.tuple([z.number().positive(), z.number().positive()]).default([0.25, 3])
    .refine(([lo, hi]) => lo < hi, { message: 'band: low edge must be below the high edge' }),
  /** Butterworth order of each edge (high-pass and low-pass). */
  order: z.number().int().min(1).max(8).default(4),
  /** Dead band of ZCM and threshold of TAT, in g. */
  threshold: z.number().nonnegative().default(0.01),
  /** Share of an epoch's samples needed for its values to count. */
  minCoverage: z.number().min(0).max(1).default(0.9),
  /** Samples further apart than this (s) start a new segment (default: max(1 s, 10 sample periods)). */
  gapSeconds: z.number().positive().optional(),
  /** A jump forward in time longer than this (days) is taken for a broken timestamp: an error, not empty epochs. */
  maxGapDays: z.number().positive().default(60),
  /** Non-wear detection, or false to keep every epoch. */
  nonWear: z.union([NonWearOptionsSchema, z.literal(false)]).default(NonWearOptionsSchema.parse({})),
  sleep: z.object({
    algorithm: z.enum(['cole-kripke', 'sadeh']).default('cole-kripke'),
    /** Sadeh: sleep when PS > threshold (ActiLife −4; the paper 0). */
    sadehThreshold: z.number().default(-4),
  }).default({ algorithm: 'cole-kripke', sadehThreshold: -4 }),
}).refine((o) => !o.channels.includes('sleep') || o.epochSeconds === 60, {
  message: 'the sleep channel (Cole–Kripke / Sadeh) is defined on 60-s epochs: use an epoch of 60 s', path: ['channels'],
});
export type ActigraphyOptions = z.infer<typeof ActigraphyOptionsSchema>;
export type ActigraphyOptionsInput = z.input<typeof ActigraphyOptionsSchema>;

/** One epoch of output. `values[c]` is NaN when missing. */
export interface EpochRow {
  /** Epoch start, seconds since 1970 UTC. */
  start: number;
  values: Record<Channel, number>;
  /** Samples seen / samples expected. */
  coverage: number;
  nonWear: boolean;
}

/** What the sample loop measures per epoch, before coverage, non-wear and sleep are applied. */
interface EpochMeasure {
  index: number;
  n: number;
  zcm: number;
  pimSum: number;
  tatN: number;
  counts: Float64Array;
  stats: Float64Array;
  nonWear: boolean;
}

const AXIS = { x: 0, y: 1, z: 2 } as const;

/** The sample loop: filters, hysteresis, sums and raw statistics, epoch by epoch. */
class EpochAccumulator {
  private bp: SosFilter;
  private readonly counters: AgCounter[] | null;
  private readonly E: number;
  private readonly gap: number;
  private readonly maxGapEpochs: number;
  private cur = NaN;
  private lastT = -Infinity;
  private hyst = 0;
  private m: EpochMeasure | null = null;
  /** Samples dropped because their time went back into an epoch already finished. */
  dropped = 0;

  constructor(private readonly o: ActigraphyOptions, readonly rate: number) {
    this.E = o.epochSeconds;
    this.gap = o.gapSeconds ?? Math.max(1, 10 / rate);
    this.maxGapEpochs = o.maxGapDays * 86400 / this.E;
    this.bp = new SosFilter(butterworthBandPass(o.order, o.band[0], o.band[1], rate));
    const needCounts = o.channels.includes('counts') || o.channels.includes('sleep');
    this.counters = needCounts ? [0, 1, 2].map(() => new AgCounter(rate)) : null;
  }

  private fresh(index: number): EpochMeasure {
    const stats = new Float64Array(STATS_LEN);
    for (let k = 0; k < STATS_LEN; k += 5) { stats[k + 3] = Infinity; stats[k + 4] = -Infinity; }
    return { index, n: 0, zcm: 0, pimSum: 0, tatN: 0, counts: new Float64Array(3), stats, nonWear: false };
  }

  push(c: AccelChunk, out: (m: EpochMeasure) => void): void {
    const { t, x, y, z } = c;
    const invE = 1 / this.E, th = this.o.threshold, gap = this.gap;
    const axis = this.o.signal === 'vm' ? -1 : AXIS[this.o.signal];
    const bp = this.bp, counters = this.counters;
    let m = this.m, hyst = this.hyst, lastT = this.lastT, cur = this.cur;
    for (let i = 0; i < c.n; i++) {
      const ti = t[i];
      const e = Math.floor(ti * invE + 1e-6);
      if (e !== cur) {
        if (e < cur) { this.dropped++; continue; }
        if (e - cur > this.maxGapEpochs) {
          throw new RangeError(`time jumps forward by ${((e - cur) * this.E / 86400).toFixed(1)} days at ` +
            `${new Date(ti * 1000).toISOString()} (over maxGapDays = ${this.o.maxGapDays}): a broken timestamp?`);
        }
        if (m) out(m);
        if (cur === cur) for (let k = cur + 1; k < e; k++) out(this.fresh(k));
        cur = e; m = this.fresh(e);
      }
      const xi = x[i], yi = y[i], zi = z[i];
      const s = axis < 0 ? Math.sqrt(xi * xi + yi * yi + zi * zi) : axis === 0 ? xi : axis === 1 ? yi : zi;
      const dt = ti - lastT;
      if (dt > gap || dt < -gap) {
        bp.settle(s); hyst = 0;
        if (counters) for (const ag of counters) ag.restart();
      }
      lastT = ti;
      const v = bp.step(s);
      if (v > th) { if (hyst < 0) m!.zcm++; hyst = 1; } else if (v < -th) { if (hyst > 0) m!.zcm++; hyst = -1; }
      const a = v < 0 ? -v : v;
      m!.pimSum += a;
      if (a > th) m!.tatN++;
      m!.n++;
      const st = m!.stats;
      welford(st, 0, xi); welford(st, 5, yi); welford(st, 10, zi);
      if (counters) {
        counters[0].push(xi); counters[1].push(yi); counters[2].push(zi);
        const cn = m!.counts;
        cn[0] += counters[0].take(); cn[1] += counters[1].take(); cn[2] += counters[2].take();
      }
    }
    this.m = m; this.hyst = hyst; this.lastT = lastT; this.cur = cur;
  }

  end(out: (m: EpochMeasure) => void): void {
    if (this.m) out(this.m);
    this.m = null;
  }
}

function welford(s: Float64Array, k: number, v: number): void {
  const n = ++s[k];
  const d = v - s[k + 1];
  s[k + 1] += d / n;
  s[k + 2] += d * (v - s[k + 1]);
  if (v < s[k + 3]) s[k + 3] = v;
  if (v > s[k + 4]) s[k + 4] = v;
}

/**
 * The whole epoch pipeline: push reader chunks, get finished epoch rows (delayed by the non-wear
 * window and the sleep look-ahead), `end()` for the rest. Same rows whatever the chunking.
 */
export class ActigraphyPipeline {
  readonly options: ActigraphyOptions;
  private acc: EpochAccumulator | null = null;
  private nonWear: NonWearDetector<EpochMeasure> | null = null;
  private sleep: SleepScorer<EpochRow> | null = null;
  private readonly algo: SleepAlgorithm;
  private rate = NaN;

  constructor(options: ActigraphyOptionsInput = {}) {
    this.options = ActigraphyOptionsSchema.parse(options);
    const s = this.options.sleep;
    this.algo = s.algorithm === 'sadeh' ? sadeh(s.sadehThreshold) : COLE_KRIPKE;
  }

  /** Samples dropped because time went backwards into a finished epoch. */
  get dropped(): number { return this.acc?.dropped ?? 0; }

  push(chunk: AccelChunk | null): EpochRow[] {
    const out: EpochRow[] = [];
    if (!chunk || chunk.n === 0) return out;
    if (!this.acc) this.init(chunk.rate);
    this.acc!.push(chunk, (m) => this.measured(m, out));
    return out;
  }

  end(): EpochRow[] {
    const out: EpochRow[] = [];
    if (!this.acc) return out;
    this.acc.end((m) => this.measured(m, out));
    if (this.nonWear) for (const m of this.nonWear.end()) this.settled(m, out);
    if (this.sleep) out.push(...this.sleep.end());
    return out;
  }

  private init(rate: number): void {
    if (!(rate > 0)) throw new RangeError(`sample rate must be positive, got ${rate}`);
    const o = this.options;
    if (o.band[1] >= rate / 2) throw new RangeError(`band-pass high edge ${o.band[1]} Hz must be below half the sample rate (${rate / 2} Hz)`);
    this.rate = rate;
    this.acc = new EpochAccumulator(o, rate);
    if (o.nonWear) this.nonWear = new NonWearDetector<EpochMeasure>(o.nonWear, o.epochSeconds, rate * o.epochSeconds);
    if (o.channels.includes('sleep')) this.sleep = new SleepScorer<EpochRow>(this.algo, (row, v) => { row.values.sleep = v; });
  }

  private measured(m: EpochMeasure, out: EpochRow[]): void {
    if (!this.nonWear) { this.settled(m, out); return; }
    for (const s of this.nonWear.push(m)) this.settled(s, out);
  }

  private settled(m: EpochMeasure, out: EpochRow[]): void {
    const o = this.options, rate = this.rate;
    const coverage = m.n / (rate * o.epochSeconds);
    const missing = coverage < o.minCoverage || m.nonWear;
    const c = m.counts;
    const counts = o.signal === 'vm' ? Math.sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]) : c[AXIS[o.signal]];
    const row: EpochRow = {
      start: m.index * o.epochSeconds,
      coverage,
      nonWear: m.nonWear,
      values: missing
        ? { zcm: NaN, pim: NaN, tat: NaN, counts: NaN, sleep: NaN }
        : { zcm: m.zcm, pim: m.pimSum / rate, tat: m.tatN / rate, counts, sleep: NaN },
    };
    if (this.sleep) out.push(...this.sleep.push(row, row.values.counts));
    else out.push(row);
  }
}

/** Convenience for whole in-memory signals (tests, small files): all rows at once. */
export function epochsOf(chunk: AccelChunk, options: ActigraphyOptionsInput = {}): EpochRow[] {
  const p = new ActigraphyPipeline(options);
  return [...p.push(chunk), ...p.end()];
}
