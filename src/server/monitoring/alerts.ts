/**
 * Early warning (SPEC §6). For each watched item, a participant's baseline is their own first N
 * answers: band = mean ± k·max(SD, floor). An alert episode is a run of consecutive later answers
 * (reported, or predicted) all beyond the band that lasts at least `minDurationHours` and holds at
 * least `minReports` answers. Pure: the server stores the episodes it returns.
 */
import type { AlertSettings } from '../storage/columns.js';
import type { Item } from '../../data/study.js';

export interface Observation { timeMs: number; value: number }

export interface AlertEpisode {
  item: string;
  direction: 'above' | 'below';
  startedMs: number;
  lastMs: number;
  nReports: number;
  baselineMean: number;
  baselineSd: number;
}

export function baselineBand(values: number[], k: number, sdFloor: number): { mean: number; sd: number; lo: number; hi: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const w = k * Math.max(sd, sdFloor);
  return { mean, sd, lo: mean - w, hi: mean + w };
}

/** Episodes for one item from its observations (any order); at most one open run per direction. */
export function itemEpisodes(itemDef: Item, obs: Observation[], s: AlertSettings): AlertEpisode[] {
  const sorted = obs.filter((o) => Number.isFinite(o.value)).sort((a, b) => a.timeMs - b.timeMs);
  if (sorted.length < s.baselineReports + s.minReports) return [];
  const base = sorted.slice(0, s.baselineReports).map((o) => o.value);
  const band = baselineBand(base, s.k, s.sdFloorFraction * (itemDef.max - itemDef.min));
  const dirs: Array<'above' | 'below'> = s.directions === 'both' ? ['above', 'below'] : [s.directions];
  const out: AlertEpisode[] = [];
  for (const dir of dirs) {
    const beyond = (v: number) => (dir === 'above' ? v > band.hi : v < band.lo);
    let run: Observation[] = [];
    const close = () => {
      if (run.length >= s.minReports && run[run.length - 1].timeMs - run[0].timeMs >= s.minDurationHours * 3_600_000) {
        out.push({ item: itemDef.id, direction: dir, startedMs: run[0].timeMs, lastMs: run[run.length - 1].timeMs, nReports: run.length, baselineMean: band.mean, baselineSd: band.sd });
      }
      run = [];
    };
    for (const o of sorted.slice(s.baselineReports)) {
      if (beyond(o.value)) run.push(o); else close();
    }
    close();
  }
  return out;
}
