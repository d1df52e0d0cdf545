/**
 * EMA prompt schedules for the server: the pure, deterministic schedule module of the library
 * (src/data/schedule.ts — fixed times ± jitter, random times within windows, every N days or on
 * some weekdays, expiry, one identity per prompt, daylight-saving safe), re-exported so the
 * routes and the push scheduler compute exactly what the participant app computes.
 */
export {
  DEFAULT_TIMES, MAX_OPEN_MS, dayIndex, eventInstruments, fixedTimes, instrumentSchedule, isPromptDay, nextPrompt, nextStudyPrompt,
  openPrompts, parsePromptId, participantSchedule, promptById, promptId, promptsBetween, promptsOfDay, promptsPerDay,
  schedulePage, studyPromptsBetween, studySchedule, studySchedulePage,
  type ParticipantClock, type Prompt, type ScheduleOptions,
} from '../../data/schedule.js';

import type { ParticipantClock as Clock } from '../../data/schedule.js';
import type { Participant } from '../storage/store.js';

/** Who a participant's schedule is computed for: zone, seed, enrolment (now, if not yet enrolled) and own wake/bed times. */
export function clockOf(p: Pick<Participant, 'timezone' | 'seed' | 'enrolled_ms' | 'schedule_overrides'>, nowMs: number): Clock {
  return { zone: p.timezone, seed: p.seed, enrolledMs: p.enrolled_ms === null ? nowMs : Number(p.enrolled_ms), ...(p.schedule_overrides ? { overrides: p.schedule_overrides } : {}) };
}

/** A prompt as the API shows it. */
export function promptView(x: { id: string; instrument: string; time: string; day: number; slot: number; expires: string }) {
  return { id: x.id, instrument: x.instrument, time: x.time, day: x.day, slot: x.slot, expires: x.expires };
}
