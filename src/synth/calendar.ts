/**
 * The study calendar: local dates counted from STUDY_START and wall-clock times on them in a
 * participant's zone (DST-aware). Pure (browser-safe).
 */
import { zonedTimeToUtc } from '../util/localtime.js';
import { STUDY_START } from './model.js';

export const MIN = 60_000;
export const HOUR = 3_600_000;

export interface LocalDate { year: number; month: number; day: number; /** 0 = Sunday … 6 = Saturday */ weekday: number }

/** The local date `offsetDays` after STUDY_START. */
export function studyDate(offsetDays: number): LocalDate {
  const d = new Date(Date.UTC(STUDY_START.year, STUDY_START.month - 1, STUDY_START.day + offsetDays));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() };
}

/** Instant of local clock time `hours` (may be ≥ 24 or < 0, to the second) on local date `d` in `zone`. */
export function localAt(d: LocalDate, hours: number, zone: string): number {
  const totalSec = Math.round(hours * 3600);
  const h = Math.floor(totalSec / 3600), m = Math.floor((totalSec - h * 3600) / 60), s = totalSec - h * 3600 - m * 60;
  return zonedTimeToUtc(d.year, d.month, d.day, h, m, s, zone);
}

export const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
