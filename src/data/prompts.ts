/**
 * prompts.csv — the prompt log of a study folder (written by the server's export; optional for
 * every other study): one row per prompt a participant was given, with its fate.
 *
 *   participant_id, prompt_id (`<instrument>:<day>:<slot>`, data/schedule.ts), instrument,
 *   prompt_time (intended, ISO 8601 with offset), expires_at, push_sent_at, opened_at,
 *   answered_at (ISO 8601, empty = never), report_id (the report that answered it, in
 *   reports.csv), fate (upcoming | open | answered | expired)
 *
 * `describe` computes compliance from it when present: answered ÷ prompts whose fate is settled
 * (answered or expired), per participant.
 */
import { z } from 'zod';
import { IdCell, parseIsoTime, timeCell } from './rows.js';

export const PROMPT_FATES = ['upcoming', 'open', 'answered', 'expired'] as const;
export type PromptFate = (typeof PROMPT_FATES)[number];

/** prompts.csv's columns, in order. */
export const PROMPT_COLUMNS = ['participant_id', 'prompt_id', 'instrument', 'prompt_time', 'expires_at', 'push_sent_at', 'opened_at', 'answered_at', 'report_id', 'fate'] as const;
export const PROMPT_REQUIRED_COLUMNS = ['participant_id', 'prompt_time', 'fate'] as const;

/** A time cell that may be empty (never happened) → NaN. */
const optionalTime = z.string().optional().transform((s, ctx) => {
  if (s === undefined || s.trim() === '') return NaN;
  const t = parseIsoTime(s);
  if (Number.isNaN(t)) { ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 date-time with offset or an empty cell, got "${s}"` }); return z.NEVER; }
  return t;
});

export const PromptRowSchema = z.object({
  participant_id: IdCell,
  prompt_id: z.string().trim().regex(/^[A-Za-z_][A-Za-z0-9_]*:\d+:\d+$/, 'expected a prompt id "<instrument>:<day>:<slot>"').optional(),
  instrument: z.string().trim().default(''),
  prompt_time: timeCell(),
  expires_at: optionalTime,
  push_sent_at: optionalTime,
  opened_at: optionalTime,
  answered_at: optionalTime,
  report_id: z.string().trim().default(''),
  fate: z.enum(PROMPT_FATES, { message: `expected one of ${PROMPT_FATES.join(', ')}` }),
});

/** One prompts.csv row as read (times in ms; NaN = empty). */
export interface PromptRecord {
  participant: string;
  /** The schedule's prompt id ('' when the file has none). */
  id: string;
  instrument: string;
  time: number;
  expires: number;
  pushSent: number;
  opened: number;
  answered: number;
  reportId: string;
  fate: PromptFate;
}

/** Per participant: prompts by fate, reminders pushed, app opened. */
export interface PromptSummary { prompts: number; answered: number; expired: number; open: number; upcoming: number; pushSent: number; opened: number }

export function summarisePrompts(records: Iterable<PromptRecord>): Map<string, PromptSummary> {
  const out = new Map<string, PromptSummary>();
  for (const r of records) {
    let s = out.get(r.participant);
    if (!s) out.set(r.participant, s = { prompts: 0, answered: 0, expired: 0, open: 0, upcoming: 0, pushSent: 0, opened: 0 });
    s.prompts++;
    s[r.fate]++;
    if (!Number.isNaN(r.pushSent)) s.pushSent++;
    if (!Number.isNaN(r.opened)) s.opened++;
  }
  return out;
}
