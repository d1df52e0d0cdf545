/**
 * EMA prompt schedules (SPEC §1, docs/study-design.md), pure and deterministic: the same
 * prompts on every call, on every server and in the participant app, from the participant's
 * seed, zone, enrolment and overrides alone.
 *
 * A schedule gives prompts on study days (every `everyDays`-th day, on the `weekdays` listed) at
 * - fixed local clock times (`times`), each moved by a uniform random offset in
 *   [−jitter, +jitter] minutes; and/or
 * - random times within windows (`windows`: "HH:MM", or the participant's "wake"/"bed" ± minutes),
 *   `count` per window, at least `minGapMinutes` apart (also from the previous window's last
 *   prompt: a window starts no earlier than that plus the gap), uniform over the real instants of
 *   the window (a window crossing a spring-forward gap is an hour shorter).
 *
 * Daylight saving: a clock time is placed on the local calendar day with luxon, so 11:00 stays
 * 11:00 local across a transition; a clock time inside a spring-forward gap moves forward by the
 * gap (as a wall clock does) and an ambiguous fall-back time takes the later instant (luxon's
 * choice; the schedule is unchanged from before instruments). Jitter, window offsets and expiry
 * are real minutes added afterwards.
 *
 * Every prompt has a stable identity `<instrument>:<day>:<slot>` (slot: the fixed times first,
 * then the window prompts in order) and is open from its time until it expires (`expiryMinutes`
 * later, else when the next prompt of its instrument is due, at most 24 h — so also the study's
 * last prompt).
 */
import { DateTime } from 'luxon';
import { Rng } from '../util/random.js';
import { MAIN_INSTRUMENT } from './design.js';
import type { Schedule, ScheduleOverrides, ScheduleWindow, StudyConfig } from './study.js';
import { studyInstruments, type ResolvedInstrument } from './instruments.js';

export { studySchedule } from './instruments.js';

/** The paper's clock times, used when a schedule gives neither `times` nor `windows`. */
export const DEFAULT_TIMES = ['11:00', '15:00', '19:00'] as const;
/** A prompt without `expiryMinutes` stays open at most this long. */
export const MAX_OPEN_MS = 24 * 3_600_000;

export interface Prompt {
  /** Stable identity: `<instrument>:<day>:<slot>` (promptId). */
  id: string;
  /** The instrument asked ("ema" = the study's main items). */
  instrument: string;
  /** ms since the Unix epoch. */
  timeMs: number;
  /** Local time with offset, ISO 8601. */
  time: string;
  /** Study day (0 = the day of enrolment). */
  day: number;
  /** Index of the prompt in its day: the fixed clock times first, then the window prompts. */
  slot: number;
  trigger: 'scheduled';
  /** When the prompt is gone (answered or not), ms since the Unix epoch; open while timeMs ≤ now < expiresMs. */
  expiresMs: number;
  /** The same as local time with offset, ISO 8601. */
  expires: string;
}

/** Who a schedule is computed for. */
export interface ParticipantClock {
  /** IANA zone of the participant. */
  zone: string;
  /** The participant's seed (participants.seed). */
  seed: number;
  /** When the participant enrolled, ms (day 0 is its local day). */
  enrolledMs: number;
  /** The participant's own wake and bed times (for windows bounded by "wake"/"bed"). */
  overrides?: ScheduleOverrides;
}

/** Which instrument and overrides a single-schedule call is for (default: the main items, no overrides). */
export interface ScheduleOptions { instrument?: string; overrides?: ScheduleOverrides }

/** A prompt's identity. */
export function promptId(instrument: string, day: number, slot: number): string {
  return `${instrument}:${day}:${slot}`;
}

/** The parts of a prompt id, or null when it is not one. */
export function parsePromptId(id: string): { instrument: string; day: number; slot: number } | null {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):(\d{1,5}):(\d{1,3})$/.exec(id);
  return m ? { instrument: m[1], day: Number(m[2]), slot: Number(m[3]) } : null;
}

/** The schedule's fixed clock times (the paper's three when it has neither times nor windows). */
export function fixedTimes(schedule: Schedule): readonly string[] {
  return schedule.times ?? (schedule.windows?.length ? [] : DEFAULT_TIMES);
}

/** Prompts on a study day that has any (fixed times plus window prompts). */
export function promptsPerDay(schedule: Schedule): number {
  return fixedTimes(schedule).length + (schedule.windows ?? []).reduce((n, w) => n + w.count, 0);
}

/** Does study day `day` (local date `date`) have prompts: every `everyDays`-th day, on the listed weekdays? */
export function isPromptDay(schedule: Schedule, day: number, date: DateTime): boolean {
  if (day % (schedule.everyDays ?? 1) !== 0) return false;
  return !schedule.weekdays || schedule.weekdays.includes(date.weekday);
}

/** A 32-bit hash of an instrument id (FNV-1a); 0 for the main items, so their schedule is as before instruments. */
function instrumentSalt(instrument: string): number {
  if (instrument === MAIN_INSTRUMENT) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < instrument.length; i++) h = Math.imul(h ^ instrument.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A local clock time "HH:MM" on a calendar date, in the zone (gap times move forward, ambiguous ones take the later instant). */
function clockOn(date: DateTime, hhmm: string, zone: string): DateTime {
  const [hour, minute] = hhmm.split(':').map(Number);
  return DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour, minute }, { zone });
}

/** A window bound on a date: a clock time, or wake/bed (the participant's, else the schedule's) ± real minutes. */
function boundOn(bound: string, date: DateTime, zone: string, schedule: Schedule, overrides: ScheduleOverrides | undefined): DateTime {
  const m = /^(wake|bed)([+-]\d+)?$/.exec(bound);
  if (!m) return clockOn(date, bound, zone);
  const clock = m[1] === 'wake' ? overrides?.wake ?? schedule.wake ?? '08:00' : overrides?.bed ?? schedule.bed ?? '22:00';
  return clockOn(date, clock, zone).plus({ minutes: Number(m[2] ?? 0) });
}

/** Random instants in [startMs, endMs): `count` of them, sorted, at least `gapMs` apart (uniform over the allowed placements). */
function windowTimes(rng: Rng, startMs: number, endMs: number, count: number, gapMs: number): number[] {
  const len = Math.max(0, endMs - startMs);
  // Too short for the gap: the gap shrinks to len / count so the prompts still fit.
  const gap = count > 1 && (count - 1) * gapMs > len ? len / count : gapMs;
  const span = len - (count - 1) * gap;
  const u = Array.from({ length: count }, () => rng.uniform(0, span)).sort((a, b) => a - b);
  return u.map((x, k) => startMs + Math.floor((x + k * gap) / 1000) * 1000);
}

function seedOf(seed: number, salt: number, day: number, slot: number): number {
  return (seed ^ salt ^ Math.imul(day + 1, 0x9e3779b1) ^ Math.imul(slot + 1, 0x85ebca6b)) >>> 0;
}

/** The scheduled prompts of one study day, in slot order, before expiry is set (expiresMs = NaN). */
function rawPromptsOfDay(schedule: Schedule, zone: string, seed: number, firstDay: DateTime, day: number, opts: ScheduleOptions): Prompt[] {
  const date = firstDay.plus({ days: day });
  if (!isPromptDay(schedule, day, date)) return [];
  const instrument = opts.instrument ?? MAIN_INSTRUMENT;
  const salt = instrumentSalt(instrument);
  const make = (t: DateTime, slot: number): Prompt => ({
    id: promptId(instrument, day, slot), instrument, timeMs: t.toMillis(), time: t.toISO({ suppressMilliseconds: true })!,
    day, slot, trigger: 'scheduled', expiresMs: NaN, expires: '',
  });
  const times = fixedTimes(schedule);
  const out = times.map((hhmm, slot) => {
    const rng = new Rng(seedOf(seed, salt, day, slot));
    const jitterMs = Math.round(rng.uniform(-schedule.jitterMinutes, schedule.jitterMinutes) * 60) * 1000;
    return make(clockOn(date, hhmm, zone).plus({ milliseconds: jitterMs }).setZone(zone), slot);
  });
  let slot = times.length;
  const gapMs = (schedule.minGapMinutes ?? 0) * 60_000;
  let lastMs = -Infinity;
  (schedule.windows ?? []).forEach((w: ScheduleWindow, k) => {
    const start = boundOn(w.start, date, zone, schedule, opts.overrides);
    let end = boundOn(w.end, date, zone, schedule, opts.overrides);
    if (end.toMillis() <= start.toMillis()) end = boundOn(w.end, date.plus({ days: 1 }), zone, schedule, opts.overrides); // past midnight
    const rng = new Rng(seedOf(seed, salt ^ 0x5bd1e995, day, k));
    // The gap also holds from the previous window's last prompt: this window starts no earlier than that + gap (at most at its end).
    const from = Math.min(end.toMillis(), Math.max(start.toMillis(), lastMs + gapMs));
    for (const ms of windowTimes(rng, from, end.toMillis(), w.count, gapMs)) {
      out.push(make(DateTime.fromMillis(ms, { zone }), slot++));
      lastMs = Math.max(lastMs, ms);
    }
  });
  return out;
}

/** Set each prompt's expiry: `expiryMinutes` after it, else the next prompt of the list (then `after`), at most 24 h. */
function setExpiry(schedule: Schedule, sorted: Prompt[], after: number | null, zone: string): Prompt[] {
  sorted.forEach((p, k) => {
    let e: number;
    if (schedule.expiryMinutes !== undefined) e = p.timeMs + schedule.expiryMinutes * 60_000;
    else {
      let next = after !== null && after > p.timeMs ? after : Infinity;
      for (let j = k + 1; j < sorted.length; j++) if (sorted[j].timeMs > p.timeMs) { next = Math.min(next, sorted[j].timeMs); break; }
      e = Math.min(next, p.timeMs + MAX_OPEN_MS);
    }
    p.expiresMs = e;
    p.expires = DateTime.fromMillis(e, { zone }).toISO({ suppressMilliseconds: true })!;
  });
  return sorted;
}

/** The time of the first prompt on study days ≥ `day` (looking a bounded way ahead), or null. */
function firstPromptFrom(schedule: Schedule, zone: string, seed: number, firstDay: DateTime, day: number, opts: ScheduleOptions): number | null {
  const limit = Math.min(schedule.days, day + 7 * (schedule.everyDays ?? 1) + 1);
  for (let d = day; d < limit; d++) {
    const ps = rawPromptsOfDay(schedule, zone, seed, firstDay, d, opts);
    if (ps.length) return Math.min(...ps.map((p) => p.timeMs));
  }
  return null;
}

/** The scheduled prompts of one study day (with their expiry), in slot order. */
export function promptsOfDay(schedule: Schedule, zone: string, seed: number, firstDay: DateTime, day: number, opts: ScheduleOptions = {}): Prompt[] {
  const ps = rawPromptsOfDay(schedule, zone, seed, firstDay, day, opts);
  if (!ps.length) return ps;
  const sorted = [...ps].sort((a, b) => a.timeMs - b.timeMs);
  setExpiry(schedule, sorted, schedule.expiryMinutes === undefined ? firstPromptFrom(schedule, zone, seed, firstDay, day + 1, opts) : null, zone);
  return ps;
}

/** The study day (0 = the local day of enrolment) that the instant `ms` falls on, in `zone`. */
export function dayIndex(firstDay: DateTime, ms: number, zone: string): number {
  return Math.round(DateTime.fromMillis(ms, { zone }).startOf('day').diff(firstDay, 'days').days);
}

/**
 * The participant's schedule: `schedule.days` days from the local day of enrolment, or only the
 * study days `[fromDay, toDay)` of it, sorted by time; prompts before enrolment are left out.
 * Only the days asked for are computed, so the cost is that of the page, not of the study.
 */
export function participantSchedule(schedule: Schedule, zone: string, seed: number, enrolledMs: number, fromDay = 0, toDay = schedule.days, opts: ScheduleOptions = {}): Prompt[] {
  const firstDay = DateTime.fromMillis(enrolledMs, { zone }).startOf('day');
  const from = Math.max(0, fromDay), to = Math.min(schedule.days, toDay);
  const out: Prompt[] = [];
  for (let d = from; d < to; d++) out.push(...rawPromptsOfDay(schedule, zone, seed, firstDay, d, opts));
  out.sort((a, b) => a.timeMs - b.timeMs);
  if (out.length) setExpiry(schedule, out, schedule.expiryMinutes === undefined ? firstPromptFrom(schedule, zone, seed, firstDay, to, opts) : null, zone);
  return out.filter((p) => p.timeMs >= enrolledMs);
}

/** Study days a prompt may fall off its local day: jitter, a DST gap, window offsets or a window past midnight. */
function spillDays(schedule: Schedule): number {
  return 1 + (schedule.windows?.length ? 1 : 0);
}

/**
 * The prompts with `fromMs < time ≤ toMs` (the push scheduler asks for the last few minutes).
 * Computes only the study days around the range.
 */
export function promptsBetween(schedule: Schedule, zone: string, seed: number, enrolledMs: number, fromMs: number, toMs: number, opts: ScheduleOptions = {}): Prompt[] {
  if (toMs <= fromMs) return [];
  const firstDay = DateTime.fromMillis(enrolledMs, { zone }).startOf('day');
  const spill = spillDays(schedule);
  const from = dayIndex(firstDay, fromMs, zone) - spill, to = dayIndex(firstDay, toMs, zone) + spill;
  if (to < 0 || from >= schedule.days) return [];
  return participantSchedule(schedule, zone, seed, enrolledMs, from, to + 1, opts).filter((p) => p.timeMs > fromMs && p.timeMs <= toMs);
}

/**
 * One page of a schedule for GET …/schedule: study days [fromDay, fromDay + days), whole days, at
 * most `pagePrompts` prompts; `nextFromDay` asks for the rest (null: nothing after this page).
 */
export function schedulePage(schedule: Schedule, pagePrompts: number, query: { fromDay: number; days?: number }): { fromDay: number; toDay: number; nextFromDay: number | null } {
  const perPage = Math.max(1, Math.floor(pagePrompts / Math.max(1, promptsPerDay(schedule))));
  const fromDay = Math.min(query.fromDay, schedule.days);
  const toDay = Math.min(schedule.days, fromDay + Math.min(perPage, query.days ?? perPage));
  return { fromDay, toDay, nextFromDay: toDay < schedule.days ? toDay : null };
}

/** The next prompt strictly after `nowMs`, or null when the study period is over. */
export function nextPrompt(schedule: Schedule, zone: string, seed: number, enrolledMs: number, nowMs: number, opts: ScheduleOptions = {}): Prompt | null {
  const firstDay = DateTime.fromMillis(enrolledMs, { zone }).startOf('day');
  const today = DateTime.fromMillis(nowMs, { zone }).startOf('day');
  // Start early: a prompt of yesterday can fall after local midnight.
  const startDay = Math.max(0, Math.floor(today.diff(firstDay, 'days').days) - spillDays(schedule));
  let best: Prompt | null = null;
  // Days without prompts (everyDays, weekdays) are skipped; prompt days are at most 7 × everyDays apart.
  const spill = spillDays(schedule), lastLook = startDay + 7 * (schedule.everyDays ?? 1) + 2 * spill + 1;
  for (let d = startDay; d < schedule.days && (best === null ? d <= lastLook : d <= best.day + spill); d++) {
    for (const p of rawPromptsOfDay(schedule, zone, seed, firstDay, d, opts)) {
      if (p.timeMs > nowMs && p.timeMs >= enrolledMs && (best === null || p.timeMs < best.timeMs)) best = p;
    }
  }
  // Its expiry: computed for the one prompt found (its day's, which look ahead to the next prompt day).
  return best && promptsOfDay(schedule, zone, seed, firstDay, best.day, opts).find((p) => p.slot === best!.slot)!;
}

/** The prompts an instrument's schedule gives the participant on study days [fromDay, toDay) (none when it has no schedule). */
export function instrumentSchedule(ins: ResolvedInstrument, p: ParticipantClock, fromDay = 0, toDay = Infinity): Prompt[] {
  if (!ins.schedule) return [];
  return participantSchedule(ins.schedule, p.zone, p.seed, p.enrolledMs, fromDay, Math.min(toDay, ins.schedule.days), { instrument: ins.id, overrides: p.overrides });
}

/** Every instrument's prompts with `fromMs < time ≤ toMs`, sorted by time (then id). */
export function studyPromptsBetween(config: StudyConfig, p: ParticipantClock, fromMs: number, toMs: number): Prompt[] {
  const out: Prompt[] = [];
  for (const ins of studyInstruments(config)) {
    if (ins.schedule) out.push(...promptsBetween(ins.schedule, p.zone, p.seed, p.enrolledMs, fromMs, toMs, { instrument: ins.id, overrides: p.overrides }));
  }
  return out.sort((a, b) => a.timeMs - b.timeMs || (a.id < b.id ? -1 : 1));
}

/**
 * The open prompts at `nowMs` (timeMs ≤ now < expiresMs) of every instrument, oldest first,
 * leaving out those whose id is in `answered` (answering a prompt closes it).
 */
export function openPrompts(config: StudyConfig, p: ParticipantClock, nowMs: number, answered: ReadonlySet<string> = new Set()): Prompt[] {
  const out: Prompt[] = [];
  for (const ins of studyInstruments(config)) {
    if (!ins.schedule) continue;
    const lookback = ins.schedule.expiryMinutes !== undefined ? ins.schedule.expiryMinutes * 60_000 : MAX_OPEN_MS;
    const ps = promptsBetween(ins.schedule, p.zone, p.seed, p.enrolledMs, nowMs - lookback - 1, nowMs, { instrument: ins.id, overrides: p.overrides });
    out.push(...ps.filter((x) => x.timeMs <= nowMs && nowMs < x.expiresMs && !answered.has(x.id)));
  }
  return out.sort((a, b) => a.timeMs - b.timeMs || (a.id < b.id ? -1 : 1));
}

/** The next prompt of any instrument strictly after `nowMs`, or null when every schedule is over. */
export function nextStudyPrompt(config: StudyConfig, p: ParticipantClock, nowMs: number): Prompt | null {
  let best: Prompt | null = null;
  for (const ins of studyInstruments(config)) {
    if (!ins.schedule) continue;
    const n = nextPrompt(ins.schedule, p.zone, p.seed, p.enrolledMs, nowMs, { instrument: ins.id, overrides: p.overrides });
    if (n && (best === null || n.timeMs < best.timeMs)) best = n;
  }
  return best;
}

/** The prompt with this id for the participant, or null (no such instrument, day or slot). */
export function promptById(config: StudyConfig, p: ParticipantClock, id: string): Prompt | null {
  const parts = parsePromptId(id);
  if (!parts) return null;
  const ins = studyInstruments(config).find((i) => i.id === parts.instrument);
  if (!ins?.schedule || parts.day >= ins.schedule.days) return null;
  const firstDay = DateTime.fromMillis(p.enrolledMs, { zone: p.zone }).startOf('day');
  const found = promptsOfDay(ins.schedule, p.zone, p.seed, firstDay, parts.day, { instrument: ins.id, overrides: p.overrides }).find((x) => x.slot === parts.slot);
  return found && found.timeMs >= p.enrolledMs ? found : null;
}

/** The instruments whose reports the participant may start at any time (event-contingent). */
export function eventInstruments(config: StudyConfig): ResolvedInstrument[] {
  return studyInstruments(config).filter((i) => i.schedule?.eventContingent);
}

/**
 * One page of every instrument's schedule (GET …/schedule): study days [fromDay, toDay), whole
 * days, at most about `pagePrompts` prompts (sized by the prompts per day of all instruments);
 * `days` is the longest instrument schedule, `nextFromDay` asks for the rest (null: nothing after).
 */
export function studySchedulePage(config: StudyConfig, p: ParticipantClock, pagePrompts: number, query: { fromDay: number; days?: number }): { prompts: Prompt[]; days: number; fromDay: number; toDay: number; nextFromDay: number | null } {
  const scheduled = studyInstruments(config).filter((i): i is ResolvedInstrument & { schedule: Schedule } => i.schedule !== null);
  const days = Math.max(0, ...scheduled.map((i) => i.schedule.days));
  const perDay = scheduled.reduce((n, i) => n + promptsPerDay(i.schedule), 0);
  const perPage = Math.max(1, Math.floor(pagePrompts / Math.max(1, perDay)));
  const fromDay = Math.min(query.fromDay, days);
  const toDay = Math.min(days, fromDay + Math.min(perPage, query.days ?? perPage));
  const prompts = scheduled.flatMap((i) => instrumentSchedule(i, p, fromDay, toDay)).sort((a, b) => a.timeMs - b.timeMs || (a.id < b.id ? -1 : 1));
  return { prompts, days, fromDay, toDay, nextFromDay: toDay < days ? toDay : null };
}
