/**
 * One synthetic participant, simulated in memory: sleep, the latent mood process, minute
 * actigraphy (ZCM, PIM), the EMA reports with their items, voice parameters and missingness.
 * Every random draw comes from the participant's own Rng (forked per stream in a fixed order), so
 * the result depends only on (seed, participant index, days). Pure (browser-safe).
 */
import { Rng } from '../util/random.js';
import { DAMS_ITEMS, type Trigger } from '../data/study.js';
import { localHourOfDay, zonedTimeToUtc } from '../util/localtime.js';
import {
  ACTIVITY, ITEM_MODEL, ITEM_POINTS_PER_UNIT, LATENT, STUDY_START, correlate, dot3, type Vec3,
} from './model.js';
import { drawPersonParams, type PersonParams } from './params.js';

export const SCHEDULE_TIMES = ['11:00', '15:00', '19:00'];
export const JITTER_MINUTES = 10;
const MIN = 60_000;
const HOUR = 3_600_000;
const GRID_MS = 15 * MIN;

export type SpeechStatus = 'ok' | 'missing' | 'silent' | 'truncated' | 'noise' | 'empty';
export const CORRUPT_KINDS: SpeechStatus[] = ['silent', 'truncated', 'noise', 'empty'];

/** Voice parameters of one recording (the generative truth behind audio and features). */
export interface VoiceParams {
  f0Hz: number; jitter: number; shimmerDb: number; loudness: number;
  /** Speaking rate, syllables per second. */
  rate: number;
  /** F0 standard deviation over the utterance, semitones. */
  intonationSt: number;
  hnrDb: number;
}

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

/** charging: no rows; off_wrist: rows with empty cells; dropout: no rows from then on (device returned early). */
export interface ActivityGap { start: number; end: number; kind: 'charging' | 'off_wrist' | 'dropout' }
export interface Night { bed: number; wake: number }

export interface SimParticipant {
  params: PersonParams;
  /** Start of the first activity epoch (ms) and the number of 1-minute epochs. */
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

interface LocalDate { year: number; month: number; day: number; weekday: number }
function studyDate(offsetDays: number): LocalDate {
  const d = new Date(Date.UTC(STUDY_START.year, STUDY_START.month - 1, STUDY_START.day + offsetDays));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() };
}
/** Instant of local clock time `hours` (may be ≥ 24 or < 0) on local date `d` in `zone`. */
function localAt(d: LocalDate, hours: number, zone: string): number {
  const totalSec = Math.round(hours * 3600);
  const h = Math.floor(totalSec / 3600), m = Math.floor((totalSec - h * 3600) / 60), s = totalSec - h * 3600 - m * 60;
  return zonedTimeToUtc(d.year, d.month, d.day, h, m, s, zone);
}

const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export function simulateParticipant(seed: number, index: number, days: number): SimParticipant {
  const root = new Rng(participantSeed(seed, index));
  const rParams = root.fork(1), rSleep = root.fork(2), rLatent = root.fork(3), rActivity = root.fork(4);
  const rReports = root.fork(5), rItems = root.fork(6), rVoice = root.fork(7), rGaps = root.fork(8), writeRng = root.fork(9);
  const p = drawPersonParams(index, rParams);
  const zone = p.timezone;
  const dates = Array.from({ length: days + 2 }, (_, i) => studyDate(p.enrolmentDay + i - 1)); // dates[d+1] = day d
  const date = (d: number) => dates[d + 1];

  // --- Sleep: night j starts in the evening of day j (j = −1 … days−1).
  const nights: Night[] = [];
  const sleepDeficit: number[] = []; // per day d: habitual duration − last night's duration (hours)
  for (let j = -1; j < days; j++) {
    const weekendNight = date(j).weekday === 5 || date(j).weekday === 6; // Friday and Saturday nights
    const bedHour = p.sleep.bedHour + (weekendNight ? p.sleep.weekendDelay : 0) + rSleep.normal(0, p.sleep.sd);
    const duration = clip(p.sleep.duration + (weekendNight ? 0.5 : 0) + rSleep.normal(0, p.sleep.sd * 1.2), 4, 11);
    const bed = localAt(date(j), bedHour, zone);
    nights.push({ bed, wake: bed + duration * HOUR });
    sleepDeficit.push(p.sleep.duration - duration);
  }
  const night = (j: number) => nights[j + 1];

  // --- Latent mood: z(t) = baseline + day effect (AR(1) across days, interpolated between local
  // noons) + within-day OU deviation + a small diurnal rhythm.
  const t0 = localAt(date(0), 0, zone);
  const tEnd = night(days - 1).wake + rActivity.uniform(1, 3) * HOUR; // device returned the morning after
  const gridStart = t0 - 24 * HOUR;
  const nGrid = Math.ceil((tEnd + 24 * HOUR - gridStart) / GRID_MS) + 1;
  const dev: [Float64Array, Float64Array, Float64Array] = [new Float64Array(nGrid), new Float64Array(nGrid), new Float64Array(nGrid)];
  const noons: number[] = [];
  const dayEffect: Vec3[] = [];
  let ar = correlate([rLatent.normal(), rLatent.normal(), rLatent.normal()]).map((x) => x * LATENT.daySd) as Vec3;
  const innov = Math.sqrt(1 - p.dayPhi * p.dayPhi) * LATENT.daySd;
  for (let d = -1; d <= days; d++) {
    if (d > -1) {
      const e = correlate([rLatent.normal(), rLatent.normal(), rLatent.normal()]);
      ar = [0, 1, 2].map((f) => p.dayPhi * ar[f] + innov * e[f]) as Vec3;
    }
    const deficit = d >= 0 && d < days ? sleepDeficit[d] : 0; // sleepDeficit[d] is the night before day d
    const wd = date(d).weekday;
    const weekend = wd === 0 || wd === 6 ? 1 : 0;
    dayEffect.push([0, 1, 2].map((f) => ar[f] + deficit * LATENT.sleepDeficitEffect[f] + weekend * LATENT.weekendEffect[f]) as Vec3);
    noons.push(localAt(date(d), 12, zone));
  }
  const a = Math.exp(-GRID_MS / (LATENT.withinTauHours * HOUR));
  const ouSd = Math.sqrt(1 - a * a) * LATENT.withinSd;
  let ou = correlate([rLatent.normal(), rLatent.normal(), rLatent.normal()]).map((x) => x * LATENT.withinSd) as Vec3;
  let nd = 0;
  for (let k = 0; k < nGrid; k++) {
    const t = gridStart + k * GRID_MS;
    if (k > 0) {
      const e = correlate([rLatent.normal(), rLatent.normal(), rLatent.normal()]);
      ou = [0, 1, 2].map((f) => a * ou[f] + ouSd * e[f]) as Vec3;
    }
    while (nd < noons.length - 2 && t >= noons[nd + 1]) nd++;
    const w = clip((t - noons[nd]) / (noons[nd + 1] - noons[nd]), 0, 1);
    const h = localHourOfDay(t, zone);
    const diurnal: Vec3 = [
      0.1 * Math.cos(2 * Math.PI * (h - 7) / 24), 0.2 * Math.cos(2 * Math.PI * (h - 14) / 24), 0.12 * Math.cos(2 * Math.PI * (h - 16) / 24),
    ];
    for (let f = 0; f < 3; f++) dev[f][k] = (1 - w) * dayEffect[nd][f] + w * dayEffect[nd + 1][f] + ou[f] + diurnal[f];
  }
  const deviationAt = (t: number): Vec3 => {
    const x = (t - gridStart) / GRID_MS;
    const k = clip(Math.floor(x), 0, nGrid - 2), w = clip(x - k, 0, 1);
    return [0, 1, 2].map((f) => (1 - w) * dev[f][k] + w * dev[f][k + 1]) as Vec3;
  };
  const halfBaseline = p.baseline.map((b) => 0.5 * b) as Vec3;

  // --- Activity, one epoch per minute from local midnight of day 0 until the device is returned.
  const n = Math.floor((tEnd - t0) / MIN);
  const zcm = new Float64Array(n), pim = new Float64Array(n);
  const recorded = new Uint8Array(n).fill(1);
  const asleep = new Uint8Array(n);
  const nearBed = new Uint8Array(n);
  for (const { bed, wake } of nights) {
    const i0 = Math.max(0, Math.floor((bed - t0) / MIN)), i1 = Math.min(n, Math.ceil((wake - t0) / MIN));
    for (let i = i0; i < i1; i++) asleep[i] = 1;
    for (let i = Math.max(0, i0 - 60); i < Math.min(n, i0); i++) nearBed[i] = 1;
    for (let i = Math.max(0, i1); i < Math.min(n, i1 + 30); i++) nearBed[i] = 1;
  }
  const { stateZcm, stay, leaveSedentary, noiseSd, sleepMovement } = ACTIVITY;
  const beta = p.coupling.activity;
  // Mood → activity: log coupling term β·(deviation + ½·baseline) on the latent grid, interpolated per minute.
  const logG = new Float64Array(nGrid);
  for (let k = 0; k < nGrid; k++) {
    logG[k] = beta[0] * (dev[0][k] + halfBaseline[0]) + beta[1] * (dev[1][k] + halfBaseline[1]) + beta[2] * (dev[2][k] + halfBaseline[2]);
  }
  let state = 0;
  let h = localHourOfDay(t0, zone);
  for (let i = 0; i < n; i++) {
    const t = t0 + i * MIN;
    if (i % 15 === 0) h = localHourOfDay(t, zone);
    if (asleep[i]) {
      state = 0;
      zcm[i] = rActivity.bernoulli(sleepMovement) ? Math.round(Math.exp(rActivity.normal(Math.log(5), 0.8))) : 0;
      pim[i] = zcm[i] > 0 ? Math.round(zcm[i] * p.activity.pimGain * Math.exp(rActivity.normal(0, 0.25))) : 0;
      continue;
    }
    // Mood → activity: the person's coupling acts on the log intensity and on the odds of activity bouts.
    const x = (t - gridStart) / GRID_MS, k = Math.floor(x), w = x - k;
    const g = Math.exp((1 - w) * logG[k] + w * logG[k + 1]);
    const circ = 1 + p.activity.amplitude * Math.cos(2 * Math.PI * (h - p.activity.peakHour) / 24);
    const u = rActivity.next();
    if (state === 0) {
      const pl = leaveSedentary[0] * circ * g, pv = leaveSedentary[1] * circ * g;
      if (u < pv) state = 2; else if (u < pv + pl) state = 1;
    } else if (u > stay[state]) state = 0;
    const mean = p.activity.level * stateZcm[state] * circ * Math.sqrt(g) * (nearBed[i] ? 0.6 : 1);
    zcm[i] = Math.round(mean * Math.exp(rActivity.normal(-noiseSd * noiseSd / 2, noiseSd)));
    pim[i] = zcm[i] > 0
      ? Math.round(zcm[i] * p.activity.pimGain * (state === 2 ? 1.3 : 1) * Math.exp(rActivity.normal(0, 0.25)))
      : (rActivity.bernoulli(0.1) ? 1 + rActivity.int(4) : 0);
  }

  // --- Gaps: daytime charging (no rows) and nights off the wrist (rows with empty cells).
  const gaps: ActivityGap[] = [];
  for (let d = 0; d < days; d++) {
    // Poisson number of charging gaps (Knuth).
    let k = 0; for (let prod = rGaps.next(), lim = Math.exp(-p.missing.dayGaps); prod > lim; prod *= rGaps.next()) k++;
    for (let g = 0; g < k; g++) {
      const start = localAt(date(d), rGaps.uniform(8, 21), zone);
      gaps.push({ start, end: start + rGaps.uniform(0.5, 3) * HOUR, kind: 'charging' });
    }
    if (rGaps.bernoulli(p.missing.offWristNight)) {
      const nt = night(d);
      gaps.push({ start: nt.bed - rGaps.uniform(0, 1.5) * HOUR, end: nt.wake + rGaps.uniform(0, 2) * HOUR, kind: 'off_wrist' });
    }
  }
  // Dropout: the person stops answering on `dropoutDay` and returns the device that morning.
  const dropoutDay = p.missing.dropoutAt === null || days < 3 ? days : Math.max(1, Math.floor(p.missing.dropoutAt * days));
  if (dropoutDay < days) gaps.push({ start: night(dropoutDay - 1).wake + HOUR, end: tEnd, kind: 'dropout' });
  gaps.sort((x, y) => x.start - y.start);
  for (const gp of gaps) {
    const i0 = Math.max(0, Math.floor((gp.start - t0) / MIN)), i1 = Math.min(n, Math.ceil((gp.end - t0) / MIN));
    for (let i = i0; i < i1; i++) {
      if (gp.kind === 'off_wrist') { zcm[i] = NaN; pim[i] = NaN; } else recorded[i] = 0;
    }
  }

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

/**
 * Voice at mood state u (per factor: within-person deviation + ½·baseline):
 * F0 = F0_p · 2^((c_F0·u + ε)/12); jitter = jitter_p · exp(c·u + ε); shimmer = shimmer_p + c·u + ε;
 * loudness, rate, intonation range: log-linear; HNR: linear — each c the person's coupling.
 */
export function voiceAt(p: PersonParams, u: Vec3, r: Rng): VoiceParams {
  const c = p.coupling, v = p.voice;
  return {
    f0Hz: v.f0Hz * Math.pow(2, (dot3(c.f0St, u) + r.normal(0, 0.35)) / 12),
    jitter: clip(v.jitter * Math.exp(dot3(c.logJitter, u) + r.normal(0, 0.1)), 0.002, 0.1),
    shimmerDb: clip(v.shimmerDb + dot3(c.shimmerDb, u) + r.normal(0, 0.08), 0.2, 2.5),
    loudness: v.loudness * Math.exp(dot3(c.logLoudness, u) + r.normal(0, 0.12)),
    rate: clip(v.rate * Math.exp(dot3(c.logRate, u) + r.normal(0, 0.05)), 2, 7),
    intonationSt: clip(v.intonationSt * Math.exp(dot3(c.logIntonation, u) + r.normal(0, 0.1)), 0.3, 6),
    hnrDb: v.hnrDb + dot3(c.hnrDb, u) + r.normal(0, 0.5),
  };
}
