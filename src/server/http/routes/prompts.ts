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

/** At most this many entries in one answer (a long study's whole log is in the export). */
const MAX_ENTRIES = 20_000;
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
    schema: { response: answers({ 200: PromptLogView }), tags: ['studies'], summary: `The prompt log: every prompt so far with its fate (upcoming, open, answered, expired); at most ${MAX_ENTRIES} entries (the export has all)`, params: StudyParams, querystring: PromptLogQuery },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    let people = (await store.participants(info.study.id)).filter((p) => p.status !== 'withdrawn');
    if (req.query.participant !== undefined) {
      people = people.filter((p) => p.label === req.query.participant);
      if (people.length === 0) throw notFound(`participant ${req.query.participant}`);
    }
    const now = ctx.now();
    const entries: PromptLogEntry[] = [];
    for (const p of people) {
      entries.push(...await participantPromptLog(info, p, store, now));
      if (entries.length > MAX_ENTRIES) break;
    }
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: people.length === 1 ? people[0].id : null, resource: 'prompt-log', detail: `${Math.min(entries.length, MAX_ENTRIES)} prompts` });
    return { entries: entries.slice(0, MAX_ENTRIES).map(promptLogEntryView), truncated: entries.length > MAX_ENTRIES };
  });
}
