/**
 * EMA reports as the study defines them: the check of a submitted report against the study's
 * items and clock (which answers, which order, how late), what makes a retry the same report,
 * and the report as the API shows it to the participant and the researcher.
 */
import type { ReportInput } from '../http/schemas.js';
import type { StudyInfo } from '../http/context.js';
import type { Report } from '../storage/store.js';
import { badRequest } from '../http/errors.js';
import { parseIsoTime } from '../../data/rows.js';
import { MAIN_INSTRUMENT, itemKind, itemRange, optionColumn, type StudyConfig } from '../../data/study.js';
import { scoreAnswers, studyInstruments } from '../../data/instruments.js';

/** Clients' clocks may run a little fast; more than this in the future is an error. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** What a checked report stores: numeric answers (multiple choice as 0/1 option columns), texts (sealed at rest), its instrument and scores. */
export interface CheckedAnswers {
  /** Column → value: single-answer items by id, each option of an answered multiple-choice item as `<id>_<value>` (1 chosen, 0 not). */
  answers: Record<string, number>;
  /** Text item → the participant's words (stored sealed, never a model input). */
  texts: Record<string, string>;
  instrument: string;
  /** Score column → value (scored instruments). */
  scores: Record<string, number>;
  /** The severity band of the total, or null. */
  band: string | null;
}

/** Check the answers of a report against its instrument's items, by kind; throws a 400 naming the field. */
export function checkAnswers(body: Pick<ReportInput, 'answers' | 'itemOrder' | 'instrument' | 'trigger'>, config: StudyConfig): CheckedAnswers {
  const instruments = studyInstruments(config);
  const instrument = body.instrument ?? MAIN_INSTRUMENT;
  const ins = instruments.find((i) => i.id === instrument);
  if (!ins) throw badRequest('body.instrument', `"${instrument}" is not an instrument of this study (instruments: ${instruments.map((i) => i.id).join(', ')})`);
  if (body.trigger === 'event' && !ins.schedule?.eventContingent) throw badRequest('body.trigger', `instrument "${ins.id}" takes no event-contingent reports (its schedule has no eventContingent)`);
  if (body.trigger !== 'event' && body.trigger !== 'scheduled' && ins.id !== MAIN_INSTRUMENT) throw badRequest('body.trigger', `a ${body.trigger} report is of the main items, not of "${ins.id}"`);
  const items = new Map(ins.items.map((i) => [i.id, i]));
  const answers: Record<string, number> = {};
  const texts: Record<string, string> = {};
  for (const [id, v] of Object.entries(body.answers)) {
    const it = items.get(id);
    const field = `body.answers.${id}`;
    if (!it) throw badRequest(field, `not an item of ${ins.id === MAIN_INSTRUMENT ? 'this study' : `instrument "${ins.id}"`} (items: ${[...items.keys()].join(', ')})`);
    if (it.kind === 'text') {
      if (typeof v !== 'string') throw badRequest(field, 'expected the text answered (a string)');
      if (v.length > it.maxLength) throw badRequest(field, `${v.length} characters, more than the item's maxLength of ${it.maxLength}`);
      if (v.trim() !== '') texts[id] = v;
      continue;
    }
    if (it.kind === 'choice' && it.multiple) {
      if (!Array.isArray(v)) throw badRequest(field, `expected the chosen option values as an array (options: ${it.options.map((o) => o.value).join(', ')})`);
      const known = new Set(it.options.map((o) => o.value));
      const bad = v.find((x) => !known.has(x));
      if (bad !== undefined) throw badRequest(field, `${bad} is not an option of this item (options: ${[...known].join(', ')})`);
      if (new Set(v).size !== v.length) throw badRequest(field, 'an option is chosen twice');
      for (const o of it.options) answers[optionColumn(it, o.value)] = v.includes(o.value) ? 1 : 0;
      continue;
    }
    if (typeof v !== 'number') throw badRequest(field, `expected a number (a ${itemKind(it)} item)`);
    const r = itemRange(it)!;
    if (it.kind === 'choice') {
      if (!it.options.some((o) => o.value === v)) throw badRequest(field, `${v} is not an option of this item (options: ${it.options.map((o) => o.value).join(', ')})`);
    } else if (v < r.min || v > r.max) throw badRequest(field, `expected an integer in [${r.min}, ${r.max}], got ${v}`);
    answers[id] = v;
  }
  const seen = new Set<string>();
  body.itemOrder.forEach((id, k) => {
    if (!items.has(id)) throw badRequest(`body.itemOrder.${k}`, `"${id}" is not an item of ${ins.id === MAIN_INSTRUMENT ? 'this study' : `instrument "${ins.id}"`}`);
    if (seen.has(id)) throw badRequest(`body.itemOrder.${k}`, `"${id}" appears twice`);
    seen.add(id);
  });
  for (const id of Object.keys(body.answers)) if (!seen.has(id)) throw badRequest('body.itemOrder', `answered item "${id}" is missing from the order shown`);
  const scored = scoreAnswers(ins, answers);
  return { answers, texts, instrument: ins.id, scores: scored?.scores ?? {}, band: scored?.band ?? null };
}

/** Check a report against the study's items and clock; throws a 400 naming the field. */
export function checkReport(body: ReportInput, info: StudyInfo, serverMs: number): { timeMs: number; late: boolean } & CheckedAnswers {
  const checked = checkAnswers(body, info.config);
  const timeMs = parseIsoTime(body.time);
  if (timeMs > serverMs + MAX_CLOCK_SKEW_MS) throw badRequest('body.time', `${body.time} is in the future (server time ${new Date(serverMs).toISOString()})`);
  const lateMs = info.settings.lateAfterMinutes * 60_000;
  let late = serverMs - timeMs > lateMs;
  if (body.promptTime !== undefined) {
    const promptMs = parseIsoTime(body.promptTime);
    if (timeMs - promptMs > lateMs) late = true;
  }
  return { timeMs, late, ...checked };
}

/** A retry (the same client id) must carry the same report: the same answers, in the same order, at the same time, by the same trigger. */
export function sameReport(stored: Report, sent: Report): boolean {
  return JSON.stringify(stored.answers) === JSON.stringify(sent.answers) && stored.time_ms === sent.time_ms && stored.trigger === sent.trigger
    && (stored.instrument ?? null) === (sent.instrument ?? null) && (stored.prompt_id ?? null) === (sent.prompt_id ?? null)
    && JSON.stringify(stored.texts ?? {}) === JSON.stringify(sent.texts ?? {});
}

/** A report as the API shows it (the app's id, its times, answers and order, lateness). */
export function reportView(r: Report) {
  return {
    id: r.client_id, time: r.time, serverTime: new Date(r.server_ms).toISOString(), trigger: r.trigger,
    answers: r.answers, itemOrder: r.item_order, promptTime: r.prompt_time, late: r.late,
    instrument: r.instrument ?? MAIN_INSTRUMENT, promptId: r.prompt_id ?? null, scores: r.scores ?? {}, band: r.band ?? null, texts: r.texts ?? {},
  };
}
