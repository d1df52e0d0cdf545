/**
 * Minute actigraphy of one person (ZCM and PIM, docs/synth.md): sleep with rare small movements;
 * awake, a 3-state bout chain (sedentary / light / moderate–vigorous) whose bout odds and
 * intensity follow the circadian curve and g = exp(c_p^activity · u(t)) — the person's own
 * coupling to the mood state u = (z − b_p) + ½·b_p; lognormal minute noise; PIM from ZCM by the
 * person's gain. Then the gaps: charging (no rows), off-wrist nights (empty cells), dropout.
 * Pure (browser-safe).
 */
import type { Rng } from '../util/random.js';
import { localHourOfDay } from '../util/localtime.js';
import { ACTIVITY } from './model.js';
import type { PersonParams } from './params.js';
import type { Night } from './sleep.js';
import { GRID_MS, type LatentPath } from './latent.js';
import { HOUR, MIN, localAt, type LocalDate } from './calendar.js';

export interface ActivityTrace {
  /** Start of epoch 0 (ms); epoch i starts at start + i minutes. */
  start: number;
  zcm: Float64Array;
  pim: Float64Array;
  /** 1 = the device recorded this epoch (a row is written; NaN values = off-wrist, empty cells). */
  recorded: Uint8Array;
  asleep: Uint8Array;
}

/** charging: no rows; off_wrist: rows with empty cells; dropout: no rows from then on (device returned early). */
export interface ActivityGap { start: number; end: number; kind: 'charging' | 'off_wrist' | 'dropout' }

export function simulateActivity(p: PersonParams, latent: LatentPath, nights: Night[], start: number, end: number, r: Rng): ActivityTrace {
  const zone = p.timezone;
  const n = Math.floor((end - start) / MIN);
  const zcm = new Float64Array(n), pim = new Float64Array(n);
  const recorded = new Uint8Array(n).fill(1);
  const asleep = new Uint8Array(n);
  const windDown = new Uint8Array(n); // the hour before bed and half hour after waking
  for (const { bed, wake } of nights) {
    const i0 = Math.max(0, Math.floor((bed - start) / MIN)), i1 = Math.min(n, Math.ceil((wake - start) / MIN));
    for (let i = i0; i < i1; i++) asleep[i] = 1;
    for (let i = Math.max(0, i0 - 60); i < Math.min(n, i0); i++) windDown[i] = 1;
    for (let i = Math.max(0, i1); i < Math.min(n, i1 + 30); i++) windDown[i] = 1;
  }
  const { stateZcm, stay, leaveSedentary, noiseSd, sleepMovement } = ACTIVITY;
  // log g = c·u on the latent grid (interpolated per minute below), with the within-person part
  // centred on the person's own mean so that g moves activity around the person's level rather than
  // inflating it, and clamped to [−1.5, 1.5].
  const c = p.coupling.activity, dev = latent.dev;
  const nG = dev[0].length;
  const logG = new Float64Array(nG);
  let mean = 0;
  for (let k = 0; k < nG; k++) { logG[k] = c[0] * dev[0][k] + c[1] * dev[1][k] + c[2] * dev[2][k]; mean += logG[k] / nG; }
  const between = 0.5 * (c[0] * p.baseline[0] + c[1] * p.baseline[1] + c[2] * p.baseline[2]);
  for (let k = 0; k < nG; k++) logG[k] = Math.max(-1.5, Math.min(1.5, logG[k] - mean + between));
  let state = 0;
  let h = localHourOfDay(start, zone);
  for (let i = 0; i < n; i++) {
    const t = start + i * MIN;
    if (i % 15 === 0) h = localHourOfDay(t, zone);
    if (asleep[i]) {
      state = 0;
      zcm[i] = r.bernoulli(sleepMovement) ? Math.round(Math.exp(r.normal(Math.log(5), 0.8))) : 0;
      pim[i] = zcm[i] > 0 ? Math.round(zcm[i] * p.activity.pimGain * Math.exp(r.normal(0, 0.25))) : 0;
      continue;
    }
    const x = (t - latent.gridStart) / GRID_MS, k = Math.floor(x), w = x - k;
    const g = Math.exp((1 - w) * logG[k] + w * logG[k + 1]);
    const circ = 1 + p.activity.amplitude * Math.cos(2 * Math.PI * (h - p.activity.peakHour) / 24);
    const u = r.next();
    if (state === 0) {
      const pl = leaveSedentary[0] * circ * g, pv = leaveSedentary[1] * circ * g;
      if (u < pv) state = 2; else if (u < pv + pl) state = 1;
    } else if (u > stay[state]) state = 0;
    const mean = p.activity.level * stateZcm[state] * circ * g * (windDown[i] ? 0.6 : 1);
    zcm[i] = Math.round(mean * Math.exp(r.normal(-noiseSd * noiseSd / 2, noiseSd)));
    pim[i] = zcm[i] > 0
      ? Math.round(zcm[i] * p.activity.pimGain * (state === 2 ? 1.3 : 1) * Math.exp(r.normal(0, 0.25)))
      : (r.bernoulli(0.1) ? 1 + r.int(4) : 0);
  }
  return { start, zcm, pim, recorded, asleep };
}

/**
 * Gaps: daytime charging (Poisson per day, 0.5–3 h), nights off the wrist, and dropout on
 * `dropoutDay` (< days) one hour after waking. Applied to the trace in place; returned sorted.
 */
export function simulateGaps(p: PersonParams, trace: ActivityTrace, date: (d: number) => LocalDate, night: (j: number) => Night,
  days: number, dropoutDay: number, r: Rng): ActivityGap[] {
  const gaps: ActivityGap[] = [];
  for (let d = 0; d < days; d++) {
    let k = 0; for (let prod = r.next(), lim = Math.exp(-p.missing.dayGaps); prod > lim; prod *= r.next()) k++; // Poisson (Knuth)
    for (let g = 0; g < k; g++) {
      const start = localAt(date(d), r.uniform(8, 21), p.timezone);
      gaps.push({ start, end: start + r.uniform(0.5, 3) * HOUR, kind: 'charging' });
    }
    if (r.bernoulli(p.missing.offWristNight)) {
      const nt = night(d);
      gaps.push({ start: nt.bed - r.uniform(0, 1.5) * HOUR, end: nt.wake + r.uniform(0, 2) * HOUR, kind: 'off_wrist' });
    }
  }
  const n = trace.zcm.length, end = trace.start + n * MIN;
  if (dropoutDay < days) gaps.push({ start: night(dropoutDay - 1).wake + HOUR, end, kind: 'dropout' });
  gaps.sort((x, y) => x.start - y.start);
  for (const gp of gaps) {
    const i0 = Math.max(0, Math.floor((gp.start - trace.start) / MIN)), i1 = Math.min(n, Math.ceil((gp.end - trace.start) / MIN));
    for (let i = i0; i < i1; i++) {
      if (gp.kind === 'off_wrist') { trace.zcm[i] = NaN; trace.pim[i] = NaN; } else trace.recorded[i] = 0;
    }
  }
  return gaps;
}
