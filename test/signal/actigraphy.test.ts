import { describe, expect, it } from 'vitest';
import {
  ActigraphyPipeline, AgCounter, AG_A, AG_B, COLE_KRIPKE, SleepScorer, SosFilter, butterworth, butterworthBandPass,
  epochsOf, lfilterZi, magnitudeAt, sadeh, scoreSleep, type EpochRow,
} from '../../src/signal/actigraphy/index.js';
import { Rng } from '../../src/util/random.js';
import { T0, agSignal, makeSignal, randomPieces } from './actigraphy-fixtures.js';

const RATE = 100;
const ALL = ['zcm', 'pim', 'tat', 'counts'] as const;

describe('Butterworth design (bilinear transform)', () => {
  it('matches scipy.signal.butter cascades (high-pass 0.25 Hz + low-pass 3 Hz at 100 Hz)', () => {
    // |H| from scipy 1.10 sosfreqz of butter(N, 0.25, "high") + butter(N, 3, "low"), fs = 100.
    const ref: Record<number, number[]> = {
      2: [0.15798508, 0.70708993, 0.9920141, 0.70708993, 0.08433682],
      4: [0.02558985, 0.70710678, 0.99991778, 0.70710678, 0.00716347],
    };
    for (const order of [2, 4]) {
      const sos = butterworthBandPass(order, 0.25, 3, RATE);
      [0.1, 0.25, 1, 3, 10].forEach((f, i) => expect(magnitudeAt(sos, f, RATE)).toBeCloseTo(ref[order][i], 6));
    }
  });
  it('odd orders and the −3 dB point of each edge', () => {
    for (const order of [1, 3, 5]) {
      expect(magnitudeAt(butterworth('low', order, 5, 50), 5, 50)).toBeCloseTo(Math.SQRT1_2, 9);
      expect(magnitudeAt(butterworth('high', order, 2, 50), 2, 50)).toBeCloseTo(Math.SQRT1_2, 9);
      expect(magnitudeAt(butterworth('low', order, 5, 50), 0, 50)).toBeCloseTo(1, 12);
    }
  });
  it('settle() starts in the steady state of a constant', () => {
    const f = new SosFilter(butterworth('low', 4, 3, RATE));
    f.settle(0.7);
    for (let i = 0; i < 50; i++) expect(f.step(0.7)).toBeCloseTo(0.7, 12);
  });
});

describe('ZCM, PIM, TAT on sines of known frequency and amplitude', () => {
  const tenMinutes = (f: number, amp: number) => epochsOf(makeSignal(RATE, [{ seconds: 600, f, amp }]), { channels: [...ALL], nonWear: false });

  for (const f of [0.5, 1, 2]) {
    it(`a ${f} Hz sine of 0.2 g crosses the dead band 2·f·60 = ${2 * f * 60} times per minute`, () => {
      const rows = tenMinutes(f, 0.2);
      expect(rows).toHaveLength(10);
      expect(rows[0].start).toBe(T0);
      // The first epoch misses the first half-period (hysteresis starts undecided).
      for (const r of rows.slice(1)) expect(r.values.zcm).toBe(2 * f * 60);
      expect(rows[0].values.zcm).toBeGreaterThanOrEqual(2 * f * 60 - 1);
    });
  }

  it('PIM is ∫|A sin| dt = A·(2/π)·60 and TAT the time |A sin| > threshold, scaled by the pass-band gain', () => {
    const A = 0.2, f = 1;
    const g = magnitudeAt(butterworthBandPass(4, 0.25, 3, RATE), f, RATE);
    for (const r of tenMinutes(f, A).slice(1)) {
      expect(Math.abs(r.values.pim / (A * g * (2 / Math.PI) * 60) - 1)).toBeLessThan(0.005);
    }
    // TAT with a wide threshold and a frequency whose phase wanders against the sample clock.
    const f2 = 0.7071, th = 0.1, g2 = magnitudeAt(butterworthBandPass(4, 0.25, 3, RATE), f2, RATE);
    const tat = 60 * (1 - (2 / Math.PI) * Math.asin(th / (A * g2)));
    const rows = epochsOf(makeSignal(RATE, [{ seconds: 600, f: f2, amp: A }]), { channels: ['tat', 'zcm'], threshold: th, nonWear: false });
    for (const r of rows.slice(1)) {
      expect(Math.abs(r.values.tat - tat)).toBeLessThan(0.15);
      expect(Math.abs(r.values.zcm - 2 * f2 * 60)).toBeLessThanOrEqual(1);
    }
  });

  it('out-of-band sines are attenuated: 10 Hz and 0.02 Hz give no crossings and a small PIM', () => {
    const inBand = tenMinutes(1, 0.2)[5].values.pim;
    for (const f of [10, 0.02]) {
      const rows = tenMinutes(f, 0.2);
      for (const r of rows.slice(2)) {
        expect(r.values.zcm).toBe(0);
        expect(r.values.pim).toBeLessThan(0.02 * inBand);
        expect(r.values.counts).toBeLessThan(0.02 * tenMinutes(1, 0.2)[5].values.counts);
      }
    }
  });

  it('a constant gives 0 on every channel (zero, not missing)', () => {
    const rows = epochsOf(makeSignal(RATE, [{ seconds: 300 }]), { channels: [...ALL], nonWear: false });
    expect(rows).toHaveLength(5);
    for (const r of rows) { expect(r.values).toEqual({ zcm: 0, pim: expect.any(Number), tat: 0, counts: 0, sleep: NaN }); expect(r.values.pim).toBeLessThan(1e-9); }
  });

  it('the dead band is configurable: a 0.2 g sine vanishes under a 0.3 g threshold', () => {
    const rows = epochsOf(makeSignal(RATE, [{ seconds: 180, f: 1, amp: 0.2 }]), { threshold: 0.3, nonWear: false, channels: ['zcm', 'tat'] });
    for (const r of rows) { expect(r.values.zcm).toBe(0); expect(r.values.tat).toBe(0); }
  });

  it('one axis can be chosen instead of the vector magnitude', () => {
    const c = makeSignal(RATE, [{ seconds: 180, f: 1, amp: 0.2 }]);
    expect(epochsOf(c, { signal: 'z', nonWear: false })[2].values.zcm).toBe(120);
    expect(epochsOf(c, { signal: 'x', nonWear: false })[2].values.zcm).toBe(0);
  });

  it('other epoch lengths: 30-s epochs halve the count', () => {
    const rows = epochsOf(makeSignal(RATE, [{ seconds: 300, f: 1, amp: 0.2 }]), { epochSeconds: 30, nonWear: false });
    expect(rows).toHaveLength(10);
    for (const r of rows.slice(1)) expect(r.values.zcm).toBe(60);
  });

  it('works at other sample rates (25 Hz, 50 Hz, 30 Hz)', () => {
    for (const rate of [25, 30, 50]) {
      const rows = epochsOf(makeSignal(rate, [{ seconds: 240, f: 1, amp: 0.2 }]), { nonWear: false, channels: ['zcm', 'counts'] });
      for (const r of rows.slice(1)) { expect(r.values.zcm).toBe(120); expect(r.values.counts).toBeGreaterThan(0); }
    }
  });
});

describe('missing epochs: gaps and non-wear are empty, never 0', () => {
  it('a gap in the recording gives missing epochs (rows exist, values NaN) and the filters restart cleanly', () => {
    const rows = epochsOf(makeSignal(RATE, [{ seconds: 300, f: 1, amp: 0.2 }, { seconds: 300, gap: true }, { seconds: 300, f: 1, amp: 0.2 }]), { channels: [...ALL], nonWear: false });
    expect(rows).toHaveLength(15);
    rows.forEach((r, i) => expect(r.start).toBe(T0 + 60 * i));
    for (const r of rows.slice(5, 10)) { expect(r.coverage).toBe(0); for (const c of ALL) expect(r.values[c]).toBeNaN(); }
    for (const r of [...rows.slice(1, 5), ...rows.slice(11)]) expect(r.values.zcm).toBe(120);
    expect(rows[10].values.zcm).toBeGreaterThanOrEqual(119);
  });

  it('a jump of months (a broken timestamp) is an error, not a million empty epochs', () => {
    const c = makeSignal(RATE, [{ seconds: 60 }, { seconds: 90 * 86400, gap: true }, { seconds: 60 }]);
    expect(() => epochsOf(c, { nonWear: false })).toThrow(/jumps forward by 90.0 days/);
    expect(epochsOf(c, { nonWear: false, maxGapDays: 100 })).toHaveLength(90 * 1440 + 2);
  });

  it('an epoch with less than minCoverage of its samples is missing', () => {
    const rows = epochsOf(makeSignal(RATE, [{ seconds: 60, f: 1, amp: 0.2 }, { seconds: 90, gap: true }, { seconds: 90, f: 1, amp: 0.2 }]), { nonWear: false });
    expect(rows.map((r) => Number.isNaN(r.values.zcm))).toEqual([false, true, true, false]);
    expect(rows[2].coverage).toBeCloseTo(0.5, 6);
  });

  it('a flat 3-hour stretch (device on a table: SD 2 mg) becomes non-wear → missing, activity around it stays', () => {
    const c = makeSignal(RATE, [{ seconds: 3600, f: 1, amp: 0.2, noise: 0.002, sway: 0.05 }, { seconds: 3 * 3600, noise: 0.002 }, { seconds: 3600, f: 1, amp: 0.2, noise: 0.002, sway: 0.05 }], 7);
    const rows = epochsOf(c, { channels: ['zcm', 'pim'] });
    expect(rows).toHaveLength(300);
    // Windows move in clock-aligned 15-min steps, so the edges of the stretch are resolved to 15 min.
    const flat = rows.slice(60 + 15, 240 - 15), active = [...rows.slice(0, 60), ...rows.slice(240)];
    for (const r of flat) { expect(r.nonWear).toBe(true); expect(r.values.zcm).toBeNaN(); expect(r.values.pim).toBeNaN(); }
    expect(rows.filter((r) => r.nonWear).length).toBeGreaterThanOrEqual(165);
    for (const r of active) { expect(r.nonWear).toBe(false); expect(r.values.zcm).toBeGreaterThan(100); }
    // Without non-wear detection the same stretch is real zeros.
    const kept = epochsOf(c, { channels: ['zcm'], nonWear: false });
    for (const r of kept.slice(61, 240)) expect(r.values.zcm).toBe(0);
  });

  it('a still 40-minute rest is shorter than the 60-min window: kept as wear', () => {
    const c = makeSignal(RATE, [{ seconds: 1800, f: 1, amp: 0.2, noise: 0.002, sway: 0.05 }, { seconds: 2400, noise: 0.002 }, { seconds: 1800, f: 1, amp: 0.2, noise: 0.002, sway: 0.05 }], 3);
    const rows = epochsOf(c, { channels: ['zcm'] });
    expect(rows.every((r) => !r.nonWear && !Number.isNaN(r.values.zcm))).toBe(true);
  });
});

describe('streaming equals whole-signal processing', () => {
  it('random chunk sizes give identical rows on every channel, with gaps and non-wear', () => {
    const c = makeSignal(RATE, [
      { seconds: 1800, f: 1.3, amp: 0.3, noise: 0.01, sway: 0.05 }, { seconds: 420, gap: true }, { seconds: 2 * 3600, noise: 0.002 },
      { seconds: 1500, f: 0.7, amp: 0.15, noise: 0.02, sway: 0.05 },
    ], 11, T0 + 17.3);
    const opts = { channels: ['zcm', 'pim', 'tat', 'counts', 'sleep'] as const };
    const whole = epochsOf(c, { channels: [...opts.channels] });
    for (const seed of [1, 2, 3]) {
      const p = new ActigraphyPipeline({ channels: [...opts.channels] });
      const rows: EpochRow[] = [];
      for (const piece of randomPieces(c, seed, 7000)) rows.push(...p.push(piece));
      rows.push(...p.end());
      expect(rows).toEqual(whole);
    }
    expect(whole.some((r) => r.nonWear)).toBe(true);
    expect(whole.some((r) => r.values.sleep === 1)).toBe(true);
  });
});

describe('ActiGraph counts (Brønd et al. 2017 / agcounts)', () => {
  it('the band-pass steady state equals scipy.signal.lfilter_zi of the published coefficients', () => {
    const scipy = [0.00934106283621987, 0.034811352721976385, 0.0390466172342568, -0.0051057980292588895,
      -0.041599516408558065, -0.02970555449401845, -0.006788163861095593, 0];
    lfilterZi(AG_B, AG_A).forEach((v, i) => expect(v).toBeCloseTo(scipy[i], 12));
  });
  it('60-s counts per axis equal those of ActiGraph\'s agcounts (Python, get_counts fast path) on the same samples', () => {
    // Output of agcounts' extraction (numpy/scipy) on agSignal(rate, 300) written as x,y,z rows.
    const agcounts: Record<number, number[][]> = {
      30: [[5314, 6145, 725], [8418, 34, 697], [3577, 6166, 707], [7634, 34, 718], [6931, 6166, 717]],
      50: [[5317, 6077, 658], [8411, 36, 661], [3563, 6096, 659], [7620, 36, 658], [6924, 6096, 671]],
      100: [[5314, 6077, 711], [8435, 34, 691], [3569, 6101, 701], [7628, 34, 697], [6942, 6101, 696]],
    };
    for (const rate of [30, 50, 100]) {
      const c = agSignal(rate, 300);
      const perAxis = (['x', 'y', 'z'] as const).map((signal) =>
        epochsOf(c, { channels: ['counts'], signal, nonWear: false }).map((r) => r.values.counts));
      expect(perAxis[0].map((_, e) => perAxis.map((a) => a[e]))).toEqual(agcounts[rate]);
    }
  });

  it('a constant (gravity) gives 0 counts; a 1 Hz 0.2 g movement gives counts that grow with amplitude', () => {
    const count = (amp: number) => {
      const ag = new AgCounter(100);
      let sum = 0;
      for (let i = 0; i < 6000; i++) { ag.push(1 + amp * Math.sin(2 * Math.PI * i / 100)); sum += ag.take(); }
      return sum;
    };
    expect(count(0)).toBe(0);
    expect(count(0.1)).toBeGreaterThan(0);
    expect(count(0.2)).toBeGreaterThan(1.8 * count(0.1));
  });
});

describe('sleep/wake: Cole–Kripke (1992) and Sadeh (1994)', () => {
  const ck = (c: number[]) => Array.from(scoreSleep(c, COLE_KRIPKE));
  it('Cole–Kripke: D = 0.001·Σ w·min(count/100, 300), sleep when D < 1 (hand-computed)', () => {
    // One epoch alone: D = 0.001·230·c/100 = 0.0023·c → sleep iff c < 434.78.
    expect(ck([434])).toEqual([1]);
    expect(ck([435])).toEqual([0]);
    // 500 counts at epoch 4: D(4) = 0.23·5 = 1.15 wake; D(5) = 0.076·5 = 0.38 sleep; D(3) = 0.074·5 sleep.
    expect(ck([0, 0, 0, 0, 500, 0, 0, 0])).toEqual([1, 1, 1, 1, 0, 1, 1, 1]);
    // 2000 counts: neighbours get D = w·0.02 → wake where w ≥ 50: A₋₄…A₋₁ weights 106, 54, 58, 76, A₊₁ 74, A₊₂ 67.
    expect(ck([0, 0, 0, 2000, 0, 0, 0, 0, 0])).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1]);
    // Counts are capped at 300 after scaling: 1e6 counts weigh as 30 000.
    expect(ck([1e6, 0, 0, 0, 0, 0, 0])).toEqual(ck([30000, 0, 0, 0, 0, 0, 0]));
  });
  it('Sadeh: PS = 7.601 − 0.065·MEAN − 1.08·NAT − 0.056·SD − 0.703·ln(A+1) (hand-computed)', () => {
    // Single 80 at t: MEAN = 80/11, NAT = 1, SD(0,0,0,0,0,80) = 32.660, LG = ln 81 → PS = 1.1302.
    const ps = 7.601 - 0.065 * (80 / 11) - 1.08 - 0.056 * Math.sqrt((5 * (80 / 6) ** 2 + (80 - 80 / 6) ** 2) / 5) - 0.703 * Math.log(81);
    expect(ps).toBeCloseTo(1.1302, 3);
    const zeros = Array(11).fill(0);
    const single = [...zeros.slice(0, 5), 80, ...zeros.slice(0, 5)];
    expect(scoreSleep(single, sadeh(-4))[5]).toBe(1);
    expect(scoreSleep(single, sadeh(1.13))[5]).toBe(1);
    expect(scoreSleep(single, sadeh(1.131))[5]).toBe(0);
    // Constant 100: PS = 7.601 − 6.5 − 0.703·ln 101 = −2.1434: sleep for ActiLife (−4), wake for the paper (0).
    const hundred = Array(11).fill(100);
    expect(scoreSleep(hundred, sadeh(-4))[5]).toBe(1);
    expect(scoreSleep(hundred, sadeh(0))[5]).toBe(0);
    // Constant 300+: PS = 7.601 − 19.5 − 0.703·ln 301 = −15.91 → wake.
    expect(scoreSleep(Array(11).fill(5000), sadeh(-4))[5]).toBe(0);
  });
  it('a missing epoch gets a missing score; the streaming scorer equals the whole-series one', () => {
    const rng = new Rng(5);
    const counts = Array.from({ length: 400 }, (_, i) => (i % 37 === 5 ? NaN : rng.next() < 0.5 ? 0 : Math.floor(rng.uniform(0, 3000))));
    for (const algo of [COLE_KRIPKE, sadeh(-4)]) {
      const whole = Array.from(scoreSleep(counts, algo));
      const got: number[] = [];
      const s = new SleepScorer<{ i: number; v: number }>(algo, (item, v) => { item.v = v; });
      const items: { i: number; v: number }[] = [];
      for (let i = 0; i < counts.length; i++) items.push(...s.push({ i, v: -1 }, counts[i]));
      items.push(...s.end());
      for (const it of items) got[it.i] = it.v;
      expect(got).toEqual(whole);
      expect(whole[5]).toBeNaN();
    }
  });
});
