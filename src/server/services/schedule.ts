/**
 * EMA prompt schedule (SPEC §1): every study day, prompts at the study's local clock times
 * (default 11:00, 15:00, 19:00), each moved by a uniform random offset in [−jitter, +jitter]
 * minutes, in the participant's own time zone; plus voluntary wake and bed reports.
 *
 * Daylight saving: the clock time is placed on the local calendar day with luxon, so 11:00 stays
 * 11:00 local across a transition; a clock time inside a spring-forward gap moves forward by the
 * gap (as a wall clock does) and an ambiguous fall-back time takes the earlier instant. The jitter
 * is added in real minutes afterwards.
 *
 * The jitter is drawn from the participant's seed, the day and the prompt index, so the schedule
 * is the same on every call and on every server.
 */
import { DateTime } from 'luxon';
import { Rng } from '../../util/random.js';
import { ScheduleSchema, type Schedule, type StudyConfig } from '../../data/study.js';

export interface Prompt {
  /** ms since the Unix epoch. */
  timeMs: number;
  /** Local time with offset, ISO 8601. */
  time: string;
  /** Study day (0 = the day of enrolment). */
  day: number;
  /** Index of the clock time in the schedule. */
  slot: number;
  trigger: 'scheduled';
}

export function studySchedule(config: StudyConfig): Schedule {
  return config.schedule ?? ScheduleSchema.parse({});
}

/** The scheduled prompts of one study day. */
export function promptsOfDay(schedule: Schedule, zone: string, seed: number, firstDay: DateTime, day: number): Prompt[] {
  const date = firstDay.plus({ days: day });
  return schedule.times.map((hhmm, slot) => {
    const [hour, minute] = hhmm.split(':').map(Number);
    const local = DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour, minute }, { zone });
    const rng = new Rng((seed ^ Math.imul(day + 1, 0x9e3779b1) ^ Math.imul(slot + 1, 0x85ebca6b)) >>> 0);
    const jitterMs = Math.round(rng.uniform(-schedule.jitterMinutes, schedule.jitterMinutes) * 60) * 1000;
    const t = local.plus({ milliseconds: jitterMs }).setZone(zone);
    return { timeMs: t.toMillis(), time: t.toISO({ suppressMilliseconds: true })!, day, slot, trigger: 'scheduled' as const };
  });
}

/** The study day (0 = the local day of enrolment) that the instant `ms` falls on, in `zone`. */
function dayIndex(firstDay: DateTime, ms: number, zone: string): number {
  return Math.round(DateTime.fromMillis(ms, { zone }).startOf('day').diff(firstDay, 'days').days);
}

/**
 * The participant's schedule: `schedule.days` days from the local day of enrolment, or only the
 * study days `[fromDay, toDay)` of it. Only the days asked for are computed, so the cost is that
 * of the page, not of the study (a study may run for years: see STUDY_LIMITS).
 */
export function participantSchedule(schedule: Schedule, zone: string, seed: number, enrolledMs: number, fromDay = 0, toDay = schedule.days): Prompt[] {
  const firstDay = DateTime.fromMillis(enrolledMs, { zone }).startOf('day');
  const out: Prompt[] = [];
  for (let d = Math.max(0, fromDay); d < Math.min(schedule.days, toDay); d++) out.push(...promptsOfDay(schedule, zone, seed, firstDay, d));
  return out.filter((p) => p.timeMs >= enrolledMs).sort((a, b) => a.timeMs - b.timeMs);
}

/**
 * The prompts with `fromMs < time ≤ toMs` (the push scheduler asks for the last few minutes).
 * Computes only the study days around the range: a prompt moves off its local day by at most
 * its jitter (≤ 2 h) plus a daylight-saving gap, so one day either side is enough.
 */
export function promptsBetween(schedule: Schedule, zone: string, seed: number, enrolledMs: number, fromMs: number, toMs: number): Prompt[] {
  if (toMs <= fromMs) return [];
  const firstDay = DateTime.fromMillis(enrolledMs, { zone }).startOf('day');
  const from = dayIndex(firstDay, fromMs, zone) - 1, to = dayIndex(firstDay, toMs, zone) + 1;
  if (to < 0 || from >= schedule.days) return [];
  return participantSchedule(schedule, zone, seed, enrolledMs, from, to + 1).filter((p) => p.timeMs > fromMs && p.timeMs <= toMs);
}

/**
 * One page of a schedule for GET …/schedule: study days [fromDay, fromDay + days), whole days, at
 * most `pagePrompts` prompts; `nextFromDay` asks for the rest (null: nothing after this page).
 */
export function schedulePage(schedule: Schedule, pagePrompts: number, query: { fromDay: number; days?: number }): { fromDay: number; toDay: number; nextFromDay: number | null } {
  const perPage = Math.max(1, Math.floor(pagePrompts / Math.max(1, schedule.times.length)));
  const fromDay = Math.min(query.fromDay, schedule.days);
  const toDay = Math.min(schedule.days, fromDay + Math.min(perPage, query.days ?? perPage));
  return { fromDay, toDay, nextFromDay: toDay < schedule.days ? toDay : null };
}

/** The next prompt strictly after `nowMs`, or null when the study period is over. */
export function nextPrompt(schedule: Schedule, zone: string, seed: number, enrolledMs: number, nowMs: number): Prompt | null {
  const firstDay = DateTime.fromMillis(enrolledMs, { zone }).startOf('day');
  const today = DateTime.fromMillis(nowMs, { zone }).startOf('day');
  // Start a day early: a jittered prompt of yesterday can fall after local midnight.
  const startDay = Math.max(0, Math.floor(today.diff(firstDay, 'days').days) - 1);
  let best: Prompt | null = null;
  for (let d = startDay; d < schedule.days && (best === null || d <= best.day + 1); d++) {
    for (const p of promptsOfDay(schedule, zone, seed, firstDay, d)) {
      if (p.timeMs > nowMs && p.timeMs >= enrolledMs && (best === null || p.timeMs < best.timeMs)) best = p;
    }
  }
  return best;
}
