/**
 * Sleep: one night per study day, from the person's habit (later and longer on Friday and
 * Saturday nights) with night-to-night variation. Pure (browser-safe).
 */
import type { Rng } from '../util/random.js';
import type { PersonParams } from './params.js';
import { HOUR, clip, localAt, type LocalDate } from './calendar.js';

export interface Night { bed: number; wake: number }

export interface SleepSchedule {
  /** nights[j + 1] = the night starting in the evening of day j (j = −1 … days−1). */
  nights: Night[];
  /** deficit[d] = habitual duration − duration of the night before day d (hours), d = 0 … days−1. */
  deficit: number[];
}

export function simulateSleep(p: PersonParams, date: (d: number) => LocalDate, days: number, r: Rng): SleepSchedule {
  const nights: Night[] = [];
  const deficit: number[] = [];
  for (let j = -1; j < days; j++) {
    const weekendNight = date(j).weekday === 5 || date(j).weekday === 6; // Friday and Saturday nights
    const bedHour = p.sleep.bedHour + (weekendNight ? p.sleep.weekendDelay : 0) + r.normal(0, p.sleep.sd);
    const duration = clip(p.sleep.duration + (weekendNight ? 0.5 : 0) + r.normal(0, p.sleep.sd * 1.2), 4, 11);
    const bed = localAt(date(j), bedHour, p.timezone);
    nights.push({ bed, wake: bed + duration * HOUR });
    deficit.push(p.sleep.duration - duration);
  }
  return { nights, deficit };
}
