/**
 * Participant-app route of the web front end: the app says why a report has no recording (the
 * server refused the upload, the microphone was not available, or the participant skipped the
 * speech task), so the dashboard's data-quality panel tells failed from skipped from missing.
 */
import { z } from 'zod';
import type { App, RouteDeps } from '../deps.js';
import { answers, SpeechFailureNoted } from '../responses.js';
import { ReportIdParams } from '../schemas.js';
import { notFound } from '../errors.js';

export const SpeechFailureBody = z.object({
  reason: z.enum(['rejected', 'microphone', 'skipped']),
  detail: z.string().max(300).optional(),
}).strict();

export async function participantWebRoutes(app: App, { ctx, store, ingest }: RouteDeps): Promise<void> {
  app.put('/me/reports/:reportId/speech-failure', {
    schema: { response: answers({ 200: SpeechFailureNoted, 201: SpeechFailureNoted }), tags: ['participant app'], summary: 'Say why this report has no recording (rejected upload, no microphone, skipped); first note wins', params: ReportIdParams, body: SpeechFailureBody },
  }, async (req, reply) => {
    const p = await ctx.participant(req);
    ingest.take(p.id);
    const report = await store.reportByClientId(p.id, req.params.reportId);
    if (!report) throw notFound(`report ${req.params.reportId}`);
    const created = await store.noteSpeechFailure(
      { report_id: report.id, study_id: p.study_id, participant_id: p.id, reason: req.body.reason, detail: req.body.detail ?? null, created_ms: ctx.now() },
      { actor_kind: 'participant', actor_id: p.id, action: 'write', study_id: p.study_id, participant_id: p.id, resource: 'speech_failure', detail: `${req.params.reportId}: ${req.body.reason}` });
    return reply.code(created ? 201 : 200).send({ reportId: req.params.reportId, reason: req.body.reason, duplicate: !created });
  });
}
