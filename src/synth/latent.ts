/**
 * The latent daily mood process of one person (docs/synth.md):
 *   z(t) = b_p + D_p(day) + O_p(t) + diurnal(local hour)
 * D_p: AR(1) across days (plus last night's sleep deficit and weekend effects), interpolated
 * between local noons; O_p: within-day Ornstein–Uhlenbeck deviation; all factor noise correlated
 * through FACTOR_CHOLESKY. Stored as the deviation z − b_p on a 15-minute grid. Pure (browser-safe).
 */
import type { Rng } from '../util/random.js';
import { localHourOfDay } from '../util/localtime.js';
import { LATENT, correlate, type Vec3 } from './model.js';
import type { PersonParams } from './params.js';
import { HOUR, MIN, clip, localAt, type LocalDate } from './calendar.js';

export const GRID_MS = 15 * MIN;

export interface LatentPath {
  gridStart: number;
  /** Deviation z − b_p per factor on the grid. */
  dev: [Float64Array, Float64Array, Float64Array];
  /** Deviation at any instant (linear interpolation on the grid). */
  deviationAt(t: number): Vec3;
}

/** The path over [from − 24 h, to + 24 h]. `deficit[d]`: sleep deficit (h) before day d. */
export function simulateLatent(p: PersonParams, date: (d: number) => LocalDate, days: number, from: number, to: number,
  deficit: number[], r: Rng): LatentPath {
  const zone = p.timezone;
  const gridStart = from - 24 * HOUR;
  const nGrid = Math.ceil((to + 24 * HOUR - gridStart) / GRID_MS) + 1;
  const dev: [Float64Array, Float64Array, Float64Array] = [new Float64Array(nGrid), new Float64Array(nGrid), new Float64Array(nGrid)];
  const e3 = () => correlate([r.normal(), r.normal(), r.normal()]);

  // Day effects at local noon of days −1 … days: AR(1) D_d = φ·D_{d−1} + √(1−φ²)·σ_day·ε_d, plus sleep and weekend.
  const noons: number[] = [];
  const dayEffect: Vec3[] = [];
  let ar = e3().map((x) => x * LATENT.daySd) as Vec3;
  const innov = Math.sqrt(1 - p.dayPhi * p.dayPhi) * LATENT.daySd;
  for (let d = -1; d <= days; d++) {
    if (d > -1) { const e = e3(); ar = [0, 1, 2].map((f) => p.dayPhi * ar[f] + innov * e[f]) as Vec3; }
    const sleepDeficit = d >= 0 && d < days ? deficit[d] : 0;
    const wd = date(d).weekday;
    const weekend = wd === 0 || wd === 6 ? 1 : 0;
    dayEffect.push([0, 1, 2].map((f) => ar[f] + sleepDeficit * LATENT.sleepDeficitEffect[f] + weekend * LATENT.weekendEffect[f]) as Vec3);
    noons.push(localAt(date(d), 12, zone));
  }

  // Within-day OU: x_{k+1} = a·x_k + √(1−a²)·σ_within·ε, a = exp(−Δ/τ).
  const a = Math.exp(-GRID_MS / (LATENT.withinTauHours * HOUR));
  const ouSd = Math.sqrt(1 - a * a) * LATENT.withinSd;
  let ou = e3().map((x) => x * LATENT.withinSd) as Vec3;
  let nd = 0;
  for (let k = 0; k < nGrid; k++) {
    const t = gridStart + k * GRID_MS;
    if (k > 0) { const e = e3(); ou = [0, 1, 2].map((f) => a * ou[f] + ouSd * e[f]) as Vec3; }
    while (nd < noons.length - 2 && t >= noons[nd + 1]) nd++;
    const w = clip((t - noons[nd]) / (noons[nd + 1] - noons[nd]), 0, 1);
    const h = localHourOfDay(t, zone);
    // Diurnal rhythm: dep peaks in the morning, pos early afternoon, anx late afternoon.
    const diurnal: Vec3 = [
      0.1 * Math.cos(2 * Math.PI * (h - 7) / 24), 0.2 * Math.cos(2 * Math.PI * (h - 14) / 24), 0.12 * Math.cos(2 * Math.PI * (h - 16) / 24),
    ];
    for (let f = 0; f < 3; f++) dev[f][k] = (1 - w) * dayEffect[nd][f] + w * dayEffect[nd + 1][f] + ou[f] + diurnal[f];
  }
  return {
    gridStart, dev,
    deviationAt(t: number): Vec3 {
      const x = (t - gridStart) / GRID_MS;
      const k = clip(Math.floor(x), 0, nGrid - 2), w = clip(x - k, 0, 1);
      return [0, 1, 2].map((f) => (1 - w) * dev[f][k] + w * dev[f][k + 1]) as Vec3;
    },
  };
}
