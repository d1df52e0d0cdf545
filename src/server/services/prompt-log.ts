/**
 * The prompt log (docs/study-design.md "The prompt log"): one row per prompt a participant was
 * given — every instrument's, with its schedule identity (`<instrument>:<day>:<slot>`), intended
 * time and expiry from the schedule (data/schedule.ts), when its reminder was pushed and when the
 * app was opened for it (prompt_log rows), the report that answered it (reports.prompt_id) — and
 * its fate:
 *
 * - `upcoming`: its time has not come;
 * - `open`: due, not answered, not yet expired;
 * - `answered`: a report answered it (named it by promptId; a main-items report without one, by
 *   its promptTime) made before it expired;
 * - `expired`: it expired unanswered (a report made after it expired leaves it expired; the
 *   report is still shown).
 *
 * The log is computed, not stored: the schedule is deterministic, so only the events beyond it
 * are kept.
 */
import type { StudyInfo } from '../http/context.js';
import type { Participant, Report } from '../storage/store.js';
import type { PromptEvents, PromptKey } from '../storage/repositories/prompts.js';
import { parseIsoTime } from '../../data/rows.js';
import { MAIN_INSTRUMENT } from '../../data/study.js';
import { clockOf, promptById, studyPromptsBetween, type Prompt } from './schedule.js';
import type { PromptFate } from '../../data/prompts.js';

export type { PromptFate };

/** A prompt of the schedule (its identity, instrument, time and expiry) and what became of it. */
export interface PromptLogEntry extends Pick<Prompt, 'id' | 'instrument' | 'timeMs' | 'time' | 'day' | 'slot' | 'expiresMs'> {
  participantId: string;
  sentMs: number | null;
  openedMs: number | null;
  answeredMs: number | null;
  /** The answering report: the app's id, and the server's row id. */
  reportId: string | null;
  reportRowId: string | null;
  fate: PromptFate;
}

/** The fate of a prompt at `nowMs`. */
export function promptFate(p: { timeMs: number; expiresMs: number | null }, answeredMs: number | null, nowMs: number): PromptFate {
  if (answeredMs !== null && (p.expiresMs === null || answeredMs < p.expiresMs)) return 'answered';
  if (p.expiresMs !== null && nowMs >= p.expiresMs) return 'expired';
  return p.timeMs > nowMs ? 'upcoming' : 'open';
}

/** The prompts of every instrument a participant was given up to `untilMs` (none before enrolment). */
export function scheduledPrompts(info: StudyInfo, p: Participant, untilMs: number): Prompt[] {
  if (p.enrolled_ms === null) return [];
  const clock = clockOf(p, untilMs);
  return studyPromptsBetween(info.config, clock, clock.enrolledMs - 1, untilMs);
}

/** What a prompt_log row needs to name a prompt. */
export const promptKey = (p: Participant, prompt: Prompt): PromptKey =>
  ({ participant_id: p.id, study_id: p.study_id, prompt_id: prompt.id, prompt_ms: prompt.timeMs, prompt_time: prompt.time });

/**
 * The prompt a request names: by its id, else the main items' prompt at its time; null when it
 * names none of the participant's prompts.
 */
export function namedPrompt(info: StudyInfo, p: Participant, body: { promptId?: string; promptTime?: string }, nowMs: number): Prompt | null {
  if (p.enrolled_ms === null) return null;
  const clock = clockOf(p, nowMs);
  if (body.promptId) return promptById(info.config, clock, body.promptId);
  if (!body.promptTime) return null;
  const ms = parseIsoTime(body.promptTime);
  if (!Number.isFinite(ms)) return null;
  return studyPromptsBetween(info.config, clock, ms - 1, ms).find((x) => x.timeMs === ms && x.instrument === MAIN_INSTRUMENT) ?? null;
}

/**
 * Join a participant's prompts with their prompt events and reports. A report answers the prompt
 * its prompt_id names; a main-items report without one (an app from before prompt ids) answers
 * the main items' prompt at its promptTime. The first report (by its time) counts.
 */
export function promptLog(participantLabel: string, prompts: Prompt[], events: PromptEvents[], reports: Report[], nowMs: number): PromptLogEntry[] {
  const ev = new Map(events.map((e) => [e.prompt_id, e]));
  const byPrompt = new Map<string, Report>(), byTime = new Map<number, Report>();
  for (const r of [...reports].sort((a, b) => a.time_ms - b.time_ms)) {
    if (r.prompt_id) { if (!byPrompt.has(r.prompt_id)) byPrompt.set(r.prompt_id, r); continue; }
    if (!r.prompt_time || (r.instrument ?? MAIN_INSTRUMENT) !== MAIN_INSTRUMENT) continue;
    const ms = parseIsoTime(r.prompt_time);
    if (Number.isFinite(ms) && !byTime.has(ms)) byTime.set(ms, r);
  }
  return prompts.map((p) => {
    const e = ev.get(p.id);
    const r = byPrompt.get(p.id) ?? (p.instrument === MAIN_INSTRUMENT ? byTime.get(p.timeMs) : undefined);
    const answeredMs = r ? r.time_ms : null;
    return {
      participantId: participantLabel, id: p.id, instrument: p.instrument, timeMs: p.timeMs, time: p.time, day: p.day, slot: p.slot, expiresMs: p.expiresMs,
      sentMs: e?.sent_ms ?? null, openedMs: e?.opened_ms ?? null, answeredMs, reportId: r?.client_id ?? null, reportRowId: r?.id ?? null,
      fate: promptFate(p, answeredMs, nowMs),
    };
  });
}

/**
 * The prompt log of one participant at `nowMs` (empty before enrolment); `window`: only the
 * prompts whose time is in [fromMs, toMs) — the schedule is computed for that span only, so the
 * cost is bounded by the window, not by how long the participant has been enrolled.
 */
export async function participantPromptLog(info: StudyInfo, p: Participant, store: { promptEvents(id: string, sinceMs?: number): Promise<PromptEvents[]>; reportsOf(id: string, sinceMs?: number): Promise<Report[]> }, nowMs: number, window?: { fromMs: number; toMs: number }): Promise<PromptLogEntry[]> {
  let prompts: Prompt[];
  if (!window) prompts = scheduledPrompts(info, p, nowMs);
  else if (p.enrolled_ms === null) prompts = [];
  else {
    const clock = clockOf(p, nowMs);
    const to = Math.min(window.toMs - 1, nowMs);
    prompts = to < window.fromMs ? [] : studyPromptsBetween(info.config, clock, Math.max(clock.enrolledMs, window.fromMs) - 1, to).filter((x) => x.timeMs >= window.fromMs);
  }
  if (prompts.length === 0) return [];
  // With a window, only the rows that can belong to its prompts are read: their events, and the
  // reports made since its first prompt (a day's slack for a phone's clock).
  const since = window ? prompts[0].timeMs : undefined;
  return promptLog(p.label, prompts, await store.promptEvents(p.id, since), await store.reportsOf(p.id, since === undefined ? undefined : since - 86_400_000), nowMs);
}

/** Compliance over a log: answered ÷ prompts whose fate is settled (answered or expired). */
export function compliance(entries: Pick<PromptLogEntry, 'fate'>[]): { settled: number; answered: number; expired: number; rate: number | null } {
  let answered = 0, expired = 0;
  for (const e of entries) { if (e.fate === 'answered') answered++; else if (e.fate === 'expired') expired++; }
  const settled = answered + expired;
  return { settled, answered, expired, rate: settled ? answered / settled : null };
}
