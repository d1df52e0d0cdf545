/** The prompt schedule: local clock times ± jitter, daylight-saving safe, stable per participant. */
import { describe, it, expect } from 'vitest';
import { DateTime } from 'luxon';
import { ScheduleSchema } from '../../src/data/study.js';
import { nextPrompt, participantSchedule } from '../../src/server/services/schedule.js';
import { itemEpisodes, baselineBand } from '../../src/server/monitoring/alerts.js';
import { AlertSettingsSchema } from '../../src/server/storage/columns.js';

const local = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone });
const minuteOfDay = (d: DateTime) => d.hour * 60 + d.minute + d.second / 60;

describe('EMA schedule', () => {
  const paper = ScheduleSchema.parse({});

  it('puts three prompts a day at 11:00/15:00/19:00 local ± 10 min, uniformly', () => {
    const offsets: number[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const enrolled = DateTime.fromISO('2026-03-01T08:00', { zone: 'Asia/Tokyo' }).toMillis();
      const prompts = participantSchedule(paper, 'Asia/Tokyo', seed, enrolled);
      expect(prompts).toHaveLength(14 * 3);
      for (const p of prompts) {
        const m = minuteOfDay(local(p.timeMs, 'Asia/Tokyo'));
        const target = [660, 900, 1140][p.slot];
        expect(Math.abs(m - target)).toBeLessThanOrEqual(10);
        offsets.push(m - target);
      }
    }
    // Uniform on [−10, 10]: mean ≈ 0, SD ≈ 20/√12 ≈ 5.77, both tails used.
    const mean = offsets.reduce((s, v) => s + v, 0) / offsets.length;
    const sd = Math.sqrt(offsets.reduce((s, v) => s + (v - mean) ** 2, 0) / offsets.length);
    expect(Math.abs(mean)).toBeLessThan(1);
    expect(sd).toBeGreaterThan(5); expect(sd).toBeLessThan(6.5);
    expect(Math.min(...offsets)).toBeLessThan(-8); expect(Math.max(...offsets)).toBeGreaterThan(8);
  });

  it('keeps local clock times across daylight-saving transitions (both directions)', () => {
    const noJitter = ScheduleSchema.parse({ jitterMinutes: 0, times: ['02:30', '11:00'] });
    // Berlin springs forward on 2026-03-29 (02:00 → 03:00) and falls back on 2026-10-25.
    for (const [start, zone] of [['2026-03-26T00:00', 'Europe/Berlin'], ['2026-10-22T00:00', 'Europe/Berlin'], ['2026-03-06T00:00', 'America/New_York']] as const) {
      const prompts = participantSchedule({ ...noJitter, days: 7 }, zone, 7, DateTime.fromISO(start, { zone }).toMillis());
      for (const p of prompts) {
        const d = local(p.timeMs, zone);
        if (p.slot === 1) expect(d.toFormat('HH:mm')).toBe('11:00');
        else expect(['02:30', '03:30']).toContain(d.toFormat('HH:mm')); // 02:30 does not exist on spring-forward day
      }
      // Consecutive 11:00 prompts are 23, 24 or 25 real hours apart.
      const elevens = prompts.filter((p) => p.slot === 1).map((p) => p.timeMs);
      const gaps = elevens.slice(1).map((t, i) => (t - elevens[i]) / 3_600_000);
      expect(gaps.every((g) => [23, 24, 25].includes(g))).toBe(true);
      expect(gaps.some((g) => g !== 24)).toBe(true);
    }
  });

  it('gives the next prompt, the same on every call, and none after the study period', () => {
    const zone = 'America/Los_Angeles';
    const enrolled = DateTime.fromISO('2026-06-01T12:00', { zone }).toMillis();
    const all = participantSchedule(paper, zone, 99, enrolled);
    expect(all[0].slot).toBe(1); // enrolled at noon: the 11:00 prompt of day 0 has passed
    let now = enrolled;
    for (const expected of all.slice(0, 10)) {
      const n = nextPrompt(paper, zone, 99, enrolled, now)!;
      expect(n.timeMs).toBe(expected.timeMs);
      expect(nextPrompt(paper, zone, 99, enrolled, now)!.time).toBe(n.time);
      now = n.timeMs;
    }
    expect(nextPrompt(paper, zone, 99, enrolled, all.at(-1)!.timeMs)).toBeNull();
    // A different participant (seed) gets different jitter.
    expect(participantSchedule(paper, zone, 100, enrolled)[0].timeMs).not.toBe(all[0].timeMs);
  });
});

describe('alert episodes', () => {
  const item = { id: 'gloomy', min: 0, max: 100 };
  const s = AlertSettingsSchema.parse({ baselineReports: 5, minReports: 3, minDurationHours: 24 });
  const h = 3_600_000;

  it('flags a run beyond mean + k·SD that lasts long enough, not a short spike', () => {
    const base = [10, 12, 8, 11, 9].map((v, i) => ({ timeMs: i * 8 * h, value: v }));
    const band = baselineBand(base.map((o) => o.value), 2, 5);
    expect(band.mean).toBe(10);
    expect(band.hi).toBeCloseTo(10 + 2 * 5, 6); // SD 1.58 < floor 5 (5 % of 0–100)
    const spike = [...base, { timeMs: 50 * h, value: 90 }, { timeMs: 58 * h, value: 95 }, { timeMs: 66 * h, value: 12 }];
    expect(itemEpisodes(item, spike, s)).toEqual([]);
    const run = [...base, ...[40, 45, 60, 50].map((v, i) => ({ timeMs: (50 + i * 10) * h, value: v }))];
    const eps = itemEpisodes(item, run, s);
    expect(eps).toHaveLength(1);
    expect(eps[0]).toMatchObject({ item: 'gloomy', direction: 'above', startedMs: 50 * h, lastMs: 80 * h, nReports: 4 });
    // Too short in time: the same values within 12 hours.
    expect(itemEpisodes(item, [...base, ...[40, 45, 60].map((v, i) => ({ timeMs: (50 + i * 4) * h, value: v }))], s)).toEqual([]);
  });
});
