/**
 * Schedules against hand-computed cases: fixed times (as before instruments, to the millisecond),
 * random windows with a minimum gap, every N days / weekdays, expiry, overrides, stable prompt
 * identities — on Europe/Berlin's daylight-saving days (2026-03-29 02:00 → 03:00, 2026-10-25
 * 03:00 → 02:00).
 */
import { describe, it, expect } from 'vitest';
import { DateTime } from 'luxon';
import { Rng } from '../../src/util/random.js';
import { ScheduleSchema, StudyConfigSchema, type Schedule } from '../../src/data/study.js';
import {
  eventInstruments, nextPrompt, nextStudyPrompt, openPrompts, parsePromptId, participantSchedule, promptById, promptsBetween,
  promptsOfDay, schedulePage, studyPromptsBetween, type ParticipantClock,
} from '../../src/data/schedule.js';

const BERLIN = 'Europe/Berlin';
const at = (iso: string, zone = BERLIN) => DateTime.fromISO(iso, { zone }).toMillis();
const utc = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const sched = (s: Record<string, unknown>): Schedule => ScheduleSchema.parse(s);

describe('fixed times', () => {
  it('are exactly the schedule from before instruments (same seed → same instants)', () => {
    // The jitter formula as it was (src/server/services/schedule.ts before this change).
    const old = (s: Schedule, zone: string, seed: number, first: DateTime, day: number) => (s.times ?? ['11:00', '15:00', '19:00']).map((hhmm, slot) => {
      const [hour, minute] = hhmm.split(':').map(Number);
      const date = first.plus({ days: day });
      const local = DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour, minute }, { zone });
      const rng = new Rng((seed ^ Math.imul(day + 1, 0x9e3779b1) ^ Math.imul(slot + 1, 0x85ebca6b)) >>> 0);
      return local.plus({ milliseconds: Math.round(rng.uniform(-s.jitterMinutes, s.jitterMinutes) * 60) * 1000 }).toMillis();
    });
    const paper = sched({});
    const first = DateTime.fromMillis(at('2026-03-25T09:00'), { zone: BERLIN }).startOf('day');
    for (const seed of [1, 77, 123456]) for (let d = 0; d < 14; d++) {
      const now = promptsOfDay(paper, BERLIN, seed, first, d);
      expect(now.map((p) => p.timeMs)).toEqual(old(paper, BERLIN, seed, first, d));
      expect(now.map((p) => p.id)).toEqual([0, 1, 2].map((s) => `ema:${d}:${s}`));
    }
  });

  it('take the later instant in the fall-back hour (luxon\'s choice, as before) and move forward in the spring gap', () => {
    const s = sched({ times: ['02:30'], jitterMinutes: 0, days: 4 });
    const spring = participantSchedule(s, BERLIN, 1, at('2026-03-28T00:00'));
    expect(spring.map((p) => p.time)).toEqual(['2026-03-28T02:30:00+01:00', '2026-03-29T03:30:00+02:00', '2026-03-30T02:30:00+02:00', '2026-03-31T02:30:00+02:00']);
    const fall = participantSchedule(s, BERLIN, 1, at('2026-10-24T00:00'));
    expect(utc(fall[1].timeMs)).toBe('2026-10-25T01:30:00Z'); // 02:30 CET, the second of the two 02:30s (02:30 CEST = 00:30Z)
    expect(fall[1].time).toBe('2026-10-25T02:30:00+01:00');
  });
});

describe('expiry', () => {
  it('is real minutes after the prompt, across the spring-forward change', () => {
    const s = sched({ times: ['01:30'], jitterMinutes: 0, expiryMinutes: 90, days: 2 });
    const [p] = participantSchedule(s, BERLIN, 1, at('2026-03-29T00:00'));
    // 01:30 CET = 00:30Z; + 90 min = 02:00Z = 04:00 CEST (the clock jumped 02:00 → 03:00)
    expect(p.time).toBe('2026-03-29T01:30:00+01:00');
    expect(p.expires).toBe('2026-03-29T04:00:00+02:00');
    expect(p.expiresMs - p.timeMs).toBe(90 * 60_000);
  });

  it('is real minutes after the prompt, across the fall-back change', () => {
    const s = sched({ times: ['01:30'], jitterMinutes: 0, expiryMinutes: 90, days: 2 });
    const [p] = participantSchedule(s, BERLIN, 1, at('2026-10-25T00:00'));
    // 01:30 CEST = 23:30Z (24th); + 90 min = 01:00Z = 02:00 CET (the second 02:00)
    expect(p.expires).toBe('2026-10-25T02:00:00+01:00');
  });

  it('without expiryMinutes: the next prompt of the instrument (23 h days included), at most 24 h', () => {
    const s = sched({ jitterMinutes: 0, days: 3 });
    const ps = participantSchedule(s, BERLIN, 5, at('2026-03-28T00:00'));
    expect(ps.map((p) => p.expires)).toEqual([
      '2026-03-28T15:00:00+01:00', '2026-03-28T19:00:00+01:00',
      '2026-03-29T11:00:00+02:00', // 19:00 CET = 18:00Z → 11:00 CEST = 09:00Z: 15 real hours
      '2026-03-29T15:00:00+02:00', '2026-03-29T19:00:00+02:00', '2026-03-30T11:00:00+02:00',
      '2026-03-30T15:00:00+02:00', '2026-03-30T19:00:00+02:00',
      '2026-03-31T19:00:00+02:00', // the last prompt of the study: 24 h
    ]);
    expect(ps[2].expiresMs - ps[2].timeMs).toBe(15 * 3_600_000);
    // every N days: the last prompt of a prompt day is open until the next prompt day's first, capped at 24 h
    const sparse = participantSchedule(sched({ times: ['09:00'], jitterMinutes: 0, everyDays: 2, days: 6 }), BERLIN, 5, at('2026-05-04T00:00'));
    expect(sparse.map((p) => p.expiresMs - p.timeMs)).toEqual([24, 24, 24].map((h) => h * 3_600_000));
    // a single day's prompts agree with the whole schedule's
    const first = DateTime.fromMillis(at('2026-03-28T00:00'), { zone: BERLIN }).startOf('day');
    expect(promptsOfDay(s, BERLIN, 5, first, 0).map((p) => p.expires)).toEqual(ps.slice(0, 3).map((p) => p.expires));
  });
});

describe('random times within windows', () => {
  it('fall uniformly on the real instants of a window crossing the spring-forward gap (2 h, not 3)', () => {
    const s = sched({ windows: [{ start: '01:00', end: '04:00' }], days: 1 });
    // 01:00 CET = 00:00Z, 04:00 CEST = 02:00Z
    const lo = Date.parse('2026-03-29T00:00:00Z'), hi = Date.parse('2026-03-29T02:00:00Z');
    const t = Array.from({ length: 400 }, (_, seed) => participantSchedule(s, BERLIN, seed, at('2026-03-29T00:00'))[0].timeMs);
    for (const x of t) { expect(x).toBeGreaterThanOrEqual(lo); expect(x).toBeLessThan(hi); }
    const firstHour = t.filter((x) => x < lo + 3_600_000).length / t.length;
    expect(firstHour).toBeGreaterThan(0.4); expect(firstHour).toBeLessThan(0.6); // each real hour about half
    // no prompt carries a local time inside the gap
    for (const x of t) expect(DateTime.fromMillis(x, { zone: BERLIN }).hour).not.toBe(2);
  });

  it('cover the 4 real hours of a window across the fall-back change', () => {
    const s = sched({ windows: [{ start: '01:00', end: '04:00' }], days: 1 });
    // 01:00 CEST = 23:00Z (24th), 04:00 CET = 03:00Z
    const lo = Date.parse('2026-10-24T23:00:00Z'), hi = Date.parse('2026-10-25T03:00:00Z');
    const t = Array.from({ length: 400 }, (_, seed) => participantSchedule(s, BERLIN, seed, at('2026-10-25T00:00'))[0].timeMs);
    for (const x of t) { expect(x).toBeGreaterThanOrEqual(lo); expect(x).toBeLessThan(hi); }
    expect(Math.max(...t) - Math.min(...t)).toBeGreaterThan(3.5 * 3_600_000);
  });

  it('keep at least minGapMinutes between the prompts of a window, and shrink the gap when it cannot fit', () => {
    const s = sched({ windows: [{ start: '09:00', end: '12:00', count: 4 }], minGapMinutes: 45, days: 3 });
    let tight = 0;
    for (let seed = 0; seed < 200; seed++) {
      const ps = participantSchedule(s, BERLIN, seed, at('2026-06-01T00:00'));
      expect(ps).toHaveLength(12);
      for (let d = 0; d < 3; d++) {
        const day = ps.filter((p) => p.day === d).map((p) => p.timeMs);
        expect(day[0]).toBeGreaterThanOrEqual(at(`2026-06-0${d + 1}T09:00`));
        expect(day[3]).toBeLessThan(at(`2026-06-0${d + 1}T12:00`));
        for (let k = 1; k < 4; k++) {
          expect(day[k] - day[k - 1]).toBeGreaterThanOrEqual(45 * 60_000);
          if (day[k] - day[k - 1] < 50 * 60_000) tight++;
        }
      }
    }
    expect(tight).toBeGreaterThan(0); // the gap is a minimum that is reached, not a fixed spacing
    // 4 prompts, 30 min apart, do not fit into 60 minutes: the gap becomes 60 / 4 = 15 minutes
    const short = sched({ windows: [{ start: '09:00', end: '10:00', count: 4 }], minGapMinutes: 30, days: 1 });
    for (let seed = 0; seed < 50; seed++) {
      const t = participantSchedule(short, BERLIN, seed, at('2026-06-01T00:00')).map((p) => p.timeMs);
      for (let k = 1; k < 4; k++) expect(t[k] - t[k - 1]).toBeGreaterThanOrEqual(15 * 60_000);
      expect(t[3]).toBeLessThan(at('2026-06-01T10:00'));
    }
  });

  it('keep the gap across neighbouring windows too', () => {
    const s = sched({ windows: [{ start: '09:00', end: '10:00' }, { start: '10:00', end: '11:00' }], minGapMinutes: 45, days: 1 });
    let pushed = 0;
    for (let seed = 0; seed < 200; seed++) {
      const [a, b] = participantSchedule(s, BERLIN, seed, at('2026-06-01T00:00'));
      expect(b.timeMs - a.timeMs).toBeGreaterThanOrEqual(45 * 60_000);
      expect(a.timeMs).toBeGreaterThanOrEqual(at('2026-06-01T09:00')); expect(a.timeMs).toBeLessThan(at('2026-06-01T10:00'));
      expect(b.timeMs).toBeGreaterThanOrEqual(at('2026-06-01T10:00')); expect(b.timeMs).toBeLessThan(at('2026-06-01T11:00'));
      if (b.timeMs < a.timeMs + 50 * 60_000) pushed++;
    }
    expect(pushed).toBeGreaterThan(0); // the second window's start moved up to a + 45 min, and prompts land near it
  });

  it('use the participant\'s own wake and bed times, and a window past midnight belongs to its day', () => {
    const s = sched({ windows: [{ start: 'wake', end: 'wake+120' }, { start: 'bed', end: 'bed+120' }], wake: '08:00', bed: '23:00', days: 2 });
    const clock: ParticipantClock = { zone: BERLIN, seed: 3, enrolledMs: at('2026-06-01T00:00'), overrides: { wake: '06:00' } };
    const ps = participantSchedule(s, clock.zone, clock.seed, clock.enrolledMs, 0, 2, { overrides: clock.overrides });
    expect(ps.map((p) => `${p.day}:${p.slot}`)).toEqual(['0:0', '0:1', '1:0', '1:1']);
    for (const p of ps.filter((x) => x.slot === 0)) {
      const h = DateTime.fromMillis(p.timeMs, { zone: BERLIN }).hour;
      expect(h === 6 || h === 7).toBe(true);
    }
    const late = ps.filter((x) => x.slot === 1).map((p) => DateTime.fromMillis(p.timeMs, { zone: BERLIN }));
    for (const [d, t] of late.entries()) {
      expect(t.toMillis()).toBeGreaterThanOrEqual(at(`2026-06-0${d + 1}T23:00`));
      expect(t.toMillis()).toBeLessThan(at(`2026-06-0${d + 2}T01:00`));
    }
    // promptsBetween finds a window prompt after midnight (it looks a day further back)
    const p = ps[1];
    expect(promptsBetween(s, BERLIN, 3, clock.enrolledMs, p.timeMs - 1, p.timeMs, { overrides: clock.overrides }).map((x) => x.id)).toEqual([p.id]);
  });

  it('count in schedule pages by prompts per day', () => {
    const s = sched({ windows: [{ start: '09:00', end: '21:00', count: 5 }], days: 30 });
    expect(schedulePage(s, 50, { fromDay: 0 })).toEqual({ fromDay: 0, toDay: 10, nextFromDay: 10 });
  });
});

describe('study days', () => {
  it('every N days and weekdays only (local calendar days)', () => {
    const enrolled = at('2026-03-26T08:00'); // a Thursday
    const third = participantSchedule(sched({ times: ['12:00'], jitterMinutes: 0, everyDays: 3, days: 10 }), BERLIN, 1, enrolled);
    expect(third.map((p) => p.day)).toEqual([0, 3, 6, 9]);
    const week = participantSchedule(sched({ times: ['12:00'], jitterMinutes: 0, weekdays: [1, 2, 3, 4, 5], days: 10 }), BERLIN, 1, enrolled);
    // Thu 26, Fri 27, (Sat 28, Sun 29 — the DST day), Mon 30 … Fri 3 April, (Sat 4)
    expect(week.map((p) => p.time.slice(0, 10))).toEqual(['2026-03-26', '2026-03-27', '2026-03-30', '2026-03-31', '2026-04-01', '2026-04-02', '2026-04-03']);
    // the next prompt on Friday evening is Monday's
    expect(nextPrompt(sched({ times: ['12:00'], jitterMinutes: 0, weekdays: [1, 2, 3, 4, 5], days: 10 }), BERLIN, 1, enrolled, at('2026-03-27T18:00'))!.time)
      .toBe('2026-03-30T12:00:00+02:00');
  });
});

describe('sparse schedules', () => {
  it('find the next prompt years ahead: every 365th day that is a Monday (day 7 × 365), in bounded time', () => {
    const s = sched({ times: ['09:00'], jitterMinutes: 0, everyDays: 365, weekdays: [1], days: 3660 });
    const enrolled = at('2026-01-05T08:00'); // a Monday: day 0 has a prompt
    const t0 = performance.now();
    const n = nextPrompt(s, BERLIN, 1, enrolled, at('2026-01-05T10:00'))!;
    // 365 ≡ 1 (mod 7): the next Monday among days 365k is k = 7, day 2555 = 2026-01-05 + 7 × 365 days − 2 leap days = 2033-01-03
    expect(n).toMatchObject({ day: 2555, time: '2033-01-03T09:00:00+01:00', expires: '2033-01-04T09:00:00+01:00' });
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('a study\'s instruments', () => {
  const config = StudyConfigSchema.parse({
    name: 's', timezone: BERLIN,
    schedule: { times: ['11:00', '19:00'], jitterMinutes: 0, expiryMinutes: 60, days: 14 },
    instruments: [
      { id: 'phq9', builtin: 'phq9', schedule: { times: ['11:00'], jitterMinutes: 0, everyDays: 7, expiryMinutes: 720, days: 14 } },
      { id: 'craving', items: [{ id: 'crave', kind: 'boolean' }], schedule: { times: [], eventContingent: true, days: 14 } },
    ],
  });
  const clock: ParticipantClock = { zone: BERLIN, seed: 11, enrolledMs: at('2026-03-23T08:00') };

  it('give each prompt a stable identity that finds it again', () => {
    const ps = studyPromptsBetween(config, clock, at('2026-03-23T00:00'), at('2026-03-24T00:00'));
    expect(ps.map((p) => p.id)).toEqual(['ema:0:0', 'phq9:0:0', 'ema:0:1']); // ties in time: by id
    for (const p of ps) {
      expect(promptById(config, clock, p.id)).toEqual(p);
      expect(parsePromptId(p.id)).toEqual({ instrument: p.instrument, day: p.day, slot: p.slot });
    }
    expect(promptById(config, clock, 'phq9:1:0')).toBeNull(); // day 1 is no PHQ-9 day
    expect(promptById(config, clock, 'nope:0:0')).toBeNull();
    expect(parsePromptId('ema:x:1')).toBeNull();
  });

  it('are open from their time until their expiry, and closed once answered', () => {
    const ids = (now: string, answered?: string[]) => openPrompts(config, clock, at(now), new Set(answered)).map((p) => p.id);
    expect(ids('2026-03-23T10:59')).toEqual([]);
    expect(ids('2026-03-23T11:00')).toEqual(['ema:0:0', 'phq9:0:0']);
    expect(ids('2026-03-23T12:00')).toEqual(['phq9:0:0']); // the EMA prompt expired after 60 min
    expect(ids('2026-03-23T19:30')).toEqual(['phq9:0:0', 'ema:0:1']);
    expect(ids('2026-03-23T19:30', ['phq9:0:0'])).toEqual(['ema:0:1']);
    expect(ids('2026-03-23T23:00')).toEqual([]); // PHQ-9 open 12 h: until 23:00
    // the next PHQ-9 prompt (day 7, the day after the spring-forward change) is open 12 h, until 23:00 CEST
    expect(ids('2026-03-30T22:59')).toEqual(['phq9:7:0']);
  });

  it('give the next prompt of any instrument, and the event-contingent instruments', () => {
    expect(nextStudyPrompt(config, clock, at('2026-03-23T11:00'))!.id).toBe('ema:0:1');
    // both at 11:00 on day 7: the tie goes to the id that sorts first, as in studyPromptsBetween
    expect(nextStudyPrompt(config, clock, at('2026-03-29T19:00'))!.id).toBe('ema:7:0');
    expect(nextStudyPrompt(config, clock, at('2026-03-23T19:00'))!.id).toBe('ema:1:0');
    expect(eventInstruments(config).map((i) => i.id)).toEqual(['craving']);
    // another instrument with the same times draws its own jitter (its id salts the seed)
    const jit = StudyConfigSchema.parse({ name: 's', instruments: [{ id: 'b', items: [{ id: 'x', kind: 'boolean' }], schedule: {} }] });
    const [a, b] = [0, 1].map((k) => studyPromptsBetween(jit, clock, at('2026-03-23T00:00'), at('2026-03-24T00:00')).filter((p) => p.instrument === ['ema', 'b'][k]));
    expect(a.map((p) => p.slot)).toEqual(b.map((p) => p.slot));
    expect(a.map((p) => p.timeMs)).not.toEqual(b.map((p) => p.timeMs));
  });
});
