/**
 * The prompt log (services/prompt-log.ts): the app says when it was opened for a prompt; the
 * study team reads every prompt's fate (intended time, push sent, app opened, answered or expired).
 */
import type { App, RouteDeps } from '../deps.js';
import { answers, PromptLogView, PromptOpened } from '../responses.js';
import { PromptLogQuery, PromptOpenedBody, StudyParams } from '../schemas.js';
import { HttpError, notFound } from '../errors.js';
import { MAX_CLOCK_SKEW_MS } from '../../services/reports.js';
import { namedPrompt, participantPromptLog, promptKey, type PromptLogEntry } from '../../services/prompt-log.js';

/** The span the prompt log answers by default, and at most (a long study's whole log is in the export). */
const DEFAULT_DAYS = 14, MAX_DAYS = 366;
const DAY_MS = 86_400_000;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function promptLogEntryView(e: PromptLogEntry) {
  return {
    participantId: e.participantId, promptId: e.id, instrument: e.instrument, promptTime: e.time, day: e.day, slot: e.slot, expiresAt: new Date(e.expiresMs).toISOString(),
    pushSentAt: iso(e.sentMs), openedAt: iso(e.openedMs), answeredAt: iso(e.answeredMs), reportId: e.reportId, fate: e.fate,
  };
}

export async function promptRoutes(app: App, { ctx, store }: RouteDeps): Promise<void> {
  app.post('/me/prompts/opened', {
    schema: { response: answers({ 200: PromptOpened }), tags: ['participant app'], summary: 'The app was opened for this prompt, named by its id or (main items) its time; the prompt log keeps the first time', body: PromptOpenedBody },
  }, async (req) => {
    const p = await ctx.participant(req);
    const info = await ctx.studyInfo(p.study_id);
    const now = ctx.now();
    const prompt = namedPrompt(info, p, req.body, now);
    const field = req.body.promptId !== undefined ? 'promptId' : 'promptTime';
    if (!prompt) throw new HttpError(404, `body.${field}: ${req.body.promptId ?? req.body.promptTime} is not a prompt of this participant's schedule`, `body.${field}`);
    // Only a prompt whose time has come (a few minutes' slack for the phone's clock) is logged.
    if (prompt.timeMs > now + MAX_CLOCK_SKEW_MS) throw new HttpError(409, `body.${field}: the prompt of ${prompt.time} has not come yet`, `body.${field}`);
    const first = await store.markPrompt(promptKey(p, prompt), 'opened', now);
    return { promptId: prompt.id, promptTime: prompt.time, openedAt: new Date(now).toISOString(), first };
  });

  app.get('/studies/:studyId/prompts', {
    schema: { response: answers({ 200: PromptLogView }), tags: ['studies'], summary: `The prompt log of a span of days (default the last ${DEFAULT_DAYS}, at most ${MAX_DAYS}): each prompt with its fate (upcoming, open, answered, expired), a page of whole participants at a time (cursor; the export has the whole log)`, params: StudyParams, querystring: PromptLogQuery },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const now = ctx.now();
    const to = req.query.to ?? new Date(now).toISOString().slice(0, 10);
    const from = req.query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
    const window = { fromMs: Date.parse(`${from}T00:00:00Z`), toMs: Date.parse(`${to}T00:00:00Z`) + DAY_MS };
    if (window.toMs <= window.fromMs) throw new HttpError(400, `querystring.to: ${to} is before from ${from}`, 'querystring.to');
    if (window.toMs - window.fromMs > MAX_DAYS * DAY_MS) throw new HttpError(400, `querystring.from: at most ${MAX_DAYS} days at a time (${from} … ${to}); the export has the whole log`, 'querystring.from');
    let people = (await store.participants(info.study.id)).filter((p) => p.status !== 'withdrawn').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (req.query.participant !== undefined) {
      people = people.filter((p) => p.label === req.query.participant);
      if (people.length === 0) throw notFound(`participant ${req.query.participant}`);
    }
    const cursor = req.query.cursor;
    if (cursor !== undefined) people = people.filter((p) => p.id > cursor);
    const entries: PromptLogEntry[] = [];
    let nextCursor: string | null = null;
    for (const [k, p] of people.entries()) {
      entries.push(...await participantPromptLog(info, p, store, now, window));
      if (entries.length >= req.query.limit && k < people.length - 1) { nextCursor = p.id; break; }
    }
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: people.length === 1 ? people[0].id : null, resource: 'prompt-log', detail: `${entries.length} prompts of ${from} … ${to}${cursor ? ' (a further page)' : ''}` });
    return { from, to, entries: entries.map(promptLogEntryView), nextCursor, truncated: nextCursor !== null };
  });
}
