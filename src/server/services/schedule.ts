/**
 * EMA prompt schedules for the server: the pure, deterministic schedule module of the library
 * (src/data/schedule.ts — fixed times ± jitter, random times within windows, every N days or on
 * some weekdays, expiry, one identity per prompt, daylight-saving safe), re-exported so the
 * routes and the push scheduler compute exactly what the participant app computes.
 */
export {
  DEFAULT_TIMES, MAX_OPEN_MS, dayIndex, eventInstruments, fixedTimes, instrumentSchedule, isPromptDay, nextPrompt, nextStudyPrompt,
  openPrompts, parsePromptId, participantSchedule, promptById, promptId, promptsBetween, promptsOfDay, promptsPerDay,
  schedulePage, studyPromptsBetween, studySchedule,
  type ParticipantClock, type Prompt, type ScheduleOptions,
} from '../../data/schedule.js';
