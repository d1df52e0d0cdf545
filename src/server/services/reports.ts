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

/** Clients' clocks may run a little fast; more than this in the future is an error. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Check a report against the study's items; throws a 400 naming the field. */
export function checkReport(body: ReportInput, info: StudyInfo, serverMs: number): { timeMs: number; late: boolean } {
  const items = new Map(info.config.items.map((i) => [i.id, i]));
  for (const [id, v] of Object.entries(body.answers)) {
    const it = items.get(id);
    if (!it) throw badRequest(`body.answers.${id}`, `not an item of this study (items: ${[...items.keys()].join(', ')})`);
    if (v < it.min || v > it.max) throw badRequest(`body.answers.${id}`, `expected an integer in [${it.min}, ${it.max}], got ${v}`);
  }
  const seen = new Set<string>();
  body.itemOrder.forEach((id, k) => {
    if (!items.has(id)) throw badRequest(`body.itemOrder.${k}`, `"${id}" is not an item of this study`);
    if (seen.has(id)) throw badRequest(`body.itemOrder.${k}`, `"${id}" appears twice`);
    seen.add(id);
  });
  for (const id of Object.keys(body.answers)) if (!seen.has(id)) throw badRequest('body.itemOrder', `answered item "${id}" is missing from the order shown`);
  const timeMs = parseIsoTime(body.time);
  if (timeMs > serverMs + MAX_CLOCK_SKEW_MS) throw badRequest('body.time', `${body.time} is in the future (server time ${new Date(serverMs).toISOString()})`);
  const lateMs = info.settings.lateAfterMinutes * 60_000;
  let late = serverMs - timeMs > lateMs;
  if (body.promptTime !== undefined) {
    const promptMs = parseIsoTime(body.promptTime);
    if (timeMs - promptMs > lateMs) late = true;
  }
  return { timeMs, late };
}

/** A retry (the same client id) must carry the same report: the same answers, in the same order, at the same time, by the same trigger. */
export function sameReport(stored: Report, sent: Report): boolean {
  return JSON.stringify(stored.answers) === JSON.stringify(sent.answers) && stored.time_ms === sent.time_ms && stored.trigger === sent.trigger;
}

/** A report as the API shows it (the app's id, its times, answers and order, lateness). */
export function reportView(r: Report) {
  return {
    id: r.client_id, time: r.time, serverTime: new Date(r.server_ms).toISOString(), trigger: r.trigger,
    answers: r.answers, itemOrder: r.item_order, promptTime: r.prompt_time, late: r.late,
  };
}
