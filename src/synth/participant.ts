/**
 * One synthetic participant, simulated in memory: sleep, the latent mood process, minute
 * actigraphy (ZCM, PIM), the EMA reports with their items, voice parameters and missingness.
 * Every random draw comes from the participant's own Rng (forked per stream in a fixed order), so
 * the result depends only on (seed, participant index, days). Pure (browser-safe).
 */
import { Rng } from '../util/random.js';
import { DAMS_ITEMS, type Trigger } from '../data/study.js';
import { ITEM_MODEL, ITEM_POINTS_PER_UNIT, dot3, type Vec3 } from './model.js';
import { drawPersonParams, type PersonParams } from './params.js';
import { HOUR, MIN, clip, localAt, studyDate } from './calendar.js';
import { simulateSleep, type Night } from './sleep.js';
import { simulateLatent } from './latent.js';
import { simulateActivity, simulateGaps, type ActivityGap } from './activity.js';
import { voiceAt, type VoiceParams } from './voice.js';

export type { Night } from './sleep.js';
export type { ActivityGap } from './activity.js';
export { voiceAt, type VoiceParams } from './voice.js';

export const SCHEDULE_TIMES = ['11:00', '15:00', '19:00'];
export const JITTER_MINUTES = 10;

export type SpeechStatus = 'ok' | 'missing' | 'silent' | 'truncated' | 'noise' | 'empty';
export const CORRUPT_KINDS: SpeechStatus[] = ['silent', 'truncated', 'noise', 'empty'];

export interface SimReport {
  reportId: string;
  time: number;
  trigger: Trigger;
  /** Study day (0-based, participant's local calendar). */
  day: number;
  /** Latent state z (dep, pos, anx) at the report time, and its within-person deviation. */
  latent: Vec3;
  deviation: Vec3;
  /** Items in DAMS_ITEMS order, 0–100 integers, NaN = unanswered. */
  items: number[];
  itemOrder: string[];
  voice: VoiceParams;
  speech: SpeechStatus;
}

export interface SimParticipant {
  params: PersonParams;
  /** Start of the first 1-minute activity epoch (ms). */
  activityStart: number;
  zcm: Float64Array;
  pim: Float64Array;
  /** 1 = the device recorded this epoch (a row is written; NaN values = off-wrist, empty cells). */
  recorded: Uint8Array;
  gaps: ActivityGap[];
  nights: Night[];
  reports: SimReport[];
  /** Random stream for anything drawn at write time (audio, feature noise), fixed per participant. */
  writeRng: Rng;
}

/** Seed of participant `index` in study `seed` (independent of every other participant). */
export function participantSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 0x632be5ab, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

export function simulateParticipant(seed: number, index: number, days: number): SimParticipant {
  const root = new Rng(participantSeed(seed, index));
  const rParams = root.fork(1), rSleep = root.fork(2), rLatent = root.fork(3), rActivity = root.fork(4);
  const rReports = root.fork(5), rItems = root.fork(6), rVoice = root.fork(7), rGaps = root.fork(8), writeRng = root.fork(9);
  const p = drawPersonParams(index, rParams);
  const zone = p.timezone;
  const dates = Array.from({ length: days + 2 }, (_, i) => studyDate(p.enrolmentDay + i - 1)); // dates[d+1] = day d
  const date = (d: number) => dates[d + 1];

  const { nights, deficit } = simulateSleep(p, date, days, rSleep);
  const night = (j: number) => nights[j + 1];
  // The device runs from local midnight of day 0 until it is returned the morning after the last day.
  const t0 = localAt(date(0), 0, zone);
  const tEnd = night(days - 1).wake + rActivity.uniform(1, 3) * HOUR;
  const latent = simulateLatent(p, date, days, t0, tEnd, deficit, rLatent);
  const deviationAt = latent.deviationAt;
  const halfBaseline = p.baseline.map((b) => 0.5 * b) as Vec3;
  const trace = simulateActivity(p, latent, nights, t0, tEnd, rActivity);
  const { zcm, pim, recorded, asleep } = trace;
  const n = zcm.length;
  // Dropout: the person stops answering on `dropoutDay` and returns the device that morning.
  const dropoutDay = p.missing.dropoutAt === null || days < 3 ? days : Math.max(1, Math.floor(p.missing.dropoutAt * days));
  const gaps = simulateGaps(p, trace, date, night, days, dropoutDay, rGaps);

  // --- Reports: wake, three scheduled prompts (±10 min), rare voluntary, bed; person compliance.
  const isAsleep = (t: number) => { const i = Math.floor((t - t0) / MIN); return i >= 0 && i < n && asleep[i] === 1; };
  const raw: Array<{ time: number; trigger: Trigger; day: number }> = [];
  for (let d = 0; d < days; d++) {
    const decline = 1 - p.compliance.declinePerDay * d;
    const wake = night(d - 1).wake, bed = night(d).bed;
    if (rReports.bernoulli(p.compliance.wake * decline)) raw.push({ time: wake + rReports.uniform(2, 40) * MIN, trigger: 'wake', day: d });
    for (const hhmm of SCHEDULE_TIMES) {
      const [hh, mm] = hhmm.split(':').map(Number);
      const prompt = localAt(date(d), hh + mm / 60, zone) + Math.round(rReports.uniform(-JITTER_MINUTES * 60, JITTER_MINUTES * 60)) * 1000;
      const answered = rReports.bernoulli(p.compliance.scheduled * decline);
      if (answered && !isAsleep(prompt)) raw.push({ time: prompt, trigger: 'scheduled', day: d });
    }
    const volT = rReports.uniform(wake + HOUR, Math.max(wake + HOUR, bed - HOUR));
    if (rReports.bernoulli(p.compliance.voluntary)) raw.push({ time: volT, trigger: 'voluntary', day: d });
    if (rReports.bernoulli(p.compliance.bed * decline)) raw.push({ time: bed - rReports.uniform(3, 40) * MIN, trigger: 'bed', day: d });
  }
  raw.sort((x, y) => x.time - y.time);
  const kept: typeof raw = [];
  for (const r of raw) {
    if (r.day >= dropoutDay) continue;
    r.time = Math.round(r.time / 1000) * 1000;
    if (kept.length === 0 || r.time - kept[kept.length - 1].time >= 2 * MIN) kept.push(r);
  }

  const reports: SimReport[] = kept.map((r, k) => {
    const deviation = deviationAt(r.time);
    const latent = [0, 1, 2].map((f) => p.baseline[f] + deviation[f]) as Vec3;
    // Items: centre + 14 · scale · (loading · z) + offsets + noise, clipped to 0–100 and rounded.
    const items = DAMS_ITEMS.map((id, j) => {
      const m = ITEM_MODEL[id];
      const v = m.centre + ITEM_POINTS_PER_UNIT * p.style.scale * dot3(m.loading, latent)
        + p.style.offset + p.style.itemOffset[j] + rItems.normal(0, p.style.noiseSd);
      const answered = !rItems.bernoulli(p.missing.item);
      return answered ? Math.round(clip(v, 0, 100)) : NaN;
    });
    const itemOrder = rItems.shuffle([...DAMS_ITEMS]);
    const voice = voiceAt(p, [deviation[0] + halfBaseline[0], deviation[1] + halfBaseline[1], deviation[2] + halfBaseline[2]], rVoice);
    let speech: SpeechStatus = 'ok';
    if (rVoice.bernoulli(p.missing.speechFail)) speech = 'missing';
    else if (rVoice.bernoulli(p.missing.speechCorrupt)) speech = CORRUPT_KINDS[rVoice.int(CORRUPT_KINDS.length)];
    return {
      reportId: `${p.id}-${String(k + 1).padStart(3, '0')}`, time: r.time, trigger: r.trigger, day: r.day,
      latent, deviation, items, itemOrder, voice, speech,
    };
  });

  return { params: p, activityStart: t0, zcm, pim, recorded, gaps, nights, reports, writeRng };
}
