/**
 * The history modality (issue 16): features from the participant's reports answered strictly
 * before the predicted one — checked by hand on a diary-like study (three reports a day rated
 * together at 23:00) and for leakage: nothing of the report itself, or of reports answered at the
 * same moment or later, changes its features.
 */
import { describe, it, expect } from 'vitest';
import type { Dataset } from '../../src/data/dataset.js';
import { historyFeatures, historyFeatureNames, localWeekday } from '../../src/data/history.js';
import { Rng } from '../../src/util/random.js';

const K = 2, DAYS = 4, HOURS = [12, 18, 23];
const day0 = Date.UTC(2021, 2, 1); // a Monday

/** 2 participants × 4 days × 3 reports, answered at 23:00 local (UTC+1) the same day. */
function diary(withAnsweredAt = true): Dataset {
  const rng = new Rng(3);
  const rows: { p: number; t: number; a: number; y: number[] }[] = [];
  for (let p = 0; p < 2; p++) for (let d = 0; d < DAYS; d++) for (const h of HOURS) {
    rows.push({ p, t: day0 + d * 864e5 + (h - 1) * 36e5, a: day0 + d * 864e5 + 22 * 36e5, y: [rng.int(5) / 4, p === 0 && d === 1 && h === 23 ? NaN : rng.int(5) / 4] });
  }
  const n = rows.length;
  return {
    items: [{ id: 'mood', min: 1, max: 5 }, { id: 'stress', min: 1, max: 5 }], channels: ['counts'], windowEpochs: 1, speechFeatures: [],
    participantIds: ['a', 'b'], n, participant: Int32Array.from(rows, (r) => r.p), reportIds: rows.map((_, i) => `r${String(i).padStart(2, '0')}`),
    time: Float64Array.from(rows, (r) => r.t), answeredAt: withAnsweredAt ? Float64Array.from(rows, (r) => r.a) : undefined,
    localHour: Float32Array.from(rows, (r) => (new Date(r.t).getUTCHours() + 1) % 24), trigger: rows.map(() => 'scheduled'),
    labels: Float32Array.from(rows.flatMap((r) => r.y)), activity: new Float32Array(n), speech: new Float32Array(0), modalityMask: new Uint8Array(n * 2).fill(1),
  };
}

const H = 3 * K + 4;
const idx = (p: number, d: number, r: number) => p * DAYS * 3 + d * 3 + r;

describe('history features', () => {
  const ds = diary(), hf = historyFeatures(ds);

  it('names: last, ewma, since per item, then the local clock', () => {
    expect(hf.names).toEqual(historyFeatureNames(ds.items));
    expect(hf.names).toEqual(['last_mood', 'ewma_mood', 'since_mood', 'last_stress', 'ewma_stress', 'since_stress', 'hour_sin', 'hour_cos', 'weekday_sin', 'weekday_cos']);
  });

  it('the first day has no history (masked); later days see the previous days only', () => {
    for (const r of [0, 1, 2]) { expect(hf.mask[idx(0, 0, r)]).toBe(0); expect(Number.isNaN(hf.values[idx(0, 0, r) * H])).toBe(true); }
    for (const r of [0, 1, 2]) {
      const i = idx(0, 2, r), o = i * H;
      expect(hf.mask[i]).toBe(1);
      // Day 2's reports (all answered at day 2's 23:00) see day 1's evening, not day 2's noon.
      expect(hf.values[o]).toBeCloseTo(ds.labels[idx(0, 1, 2) * K], 6);
      // Stress was unanswered on day 1's evening: its last value is day 1's afternoon.
      expect(hf.values[o + 3]).toBeCloseTo(ds.labels[idx(0, 1, 1) * K + 1], 6);
      const hoursSinceEvening = (ds.time[i] - ds.time[idx(0, 1, 2)]) / 3.6e6;
      expect(hf.values[o + 2]).toBeCloseTo(Math.log1p(hoursSinceEvening), 5);
      expect(hf.values[o + 5]).toBeCloseTo(Math.log1p((ds.time[i] - ds.time[idx(0, 1, 1)]) / 3.6e6), 5);
      // EWMA (α = 0.3) over days 0 and 1 in answering order, by hand.
      let m = NaN;
      for (const j of [idx(0, 0, 0), idx(0, 0, 1), idx(0, 0, 2), idx(0, 1, 0), idx(0, 1, 1), idx(0, 1, 2)]) { const y = ds.labels[j * K]; m = Number.isNaN(m) ? y : 0.3 * y + 0.7 * m; }
      expect(hf.values[o + 1]).toBeCloseTo(m, 5);
    }
  });

  it('never sees the report it predicts, nor one answered at the same time or later', () => {
    const target = idx(1, 2, 1);
    const changed: Dataset = { ...ds, labels: ds.labels.slice() };
    for (let i = 0; i < ds.n; i++) if (ds.participant[i] === 1 && ds.answeredAt![i] >= ds.answeredAt![target]) { changed.labels[i * K] = 1 - ds.labels[i * K]; changed.labels[i * K + 1] = NaN; }
    const h2 = historyFeatures(changed);
    expect(Array.from(h2.values.subarray(target * H, (target + 1) * H))).toEqual(Array.from(hf.values.subarray(target * H, (target + 1) * H)));
    // A change to an earlier-answered report does reach it.
    const earlier: Dataset = { ...ds, labels: ds.labels.slice() };
    earlier.labels[idx(1, 1, 2) * K] = 1 - ds.labels[idx(1, 1, 2) * K] + 0.01;
    expect(historyFeatures(earlier).values[target * H]).not.toBeCloseTo(hf.values[target * H], 6);
  });

  it('without answered_at, a report sees the one just before it on the same day', () => {
    const d2 = diary(false), h2 = historyFeatures(d2);
    expect(h2.values[idx(0, 2, 1) * H]).toBeCloseTo(d2.labels[idx(0, 2, 0) * K], 6);
    expect(h2.mask[idx(0, 0, 1)]).toBe(1);
  });

  it('local clock: hour and weekday in the participant\'s zone', () => {
    const i = idx(0, 2, 2); // Wednesday 23:00 local = 22:00 UTC
    expect(Math.atan2(hf.values[i * H + 6], hf.values[i * H + 7]) / (2 * Math.PI) * 24).toBeCloseTo(-1, 4); // 23 h ≡ −1 h
    expect(localWeekday(ds.time[i], 23)).toBe(2);
    // Sunday 21:30 UTC seen at 23:30 local (UTC+2) is Sunday; Sunday 19:30 UTC seen at 00:30 local (UTC+5) is Monday.
    expect(localWeekday(Date.UTC(2021, 2, 7, 21, 30), 23.5)).toBe(6);
    expect(localWeekday(Date.UTC(2021, 2, 7, 19, 30), 0.5)).toBe(0);
    // West of UTC: Monday 02:00 UTC at 21:00 local (UTC−5) is still Sunday.
    expect(localWeekday(Date.UTC(2021, 2, 8, 2, 0), 21)).toBe(6);
  });
});
