/**
 * Researcher routes behind the dashboard's panels (docs/web.md): a participant's wristband
 * activity as local day × hour aggregates, data quality per participant and local day (wear time,
 * recordings, late reports), the attached model's evaluation (per-item CCC), and predictions
 * named by the report id the participant's app chose. Each needs a session of a researcher who
 * is a member of the study (admins see all) and writes an audit row for the participant data it
 * reads.
 */
import { z } from 'zod';
import type { App, RouteDeps } from '../deps.js';
import { answers, DayHourActivity, ModelEvaluation, PredictionByReport, Quality } from '../responses.js';
import { ParticipantParams, StudyParams } from '../schemas.js';
import { DayHourQuery, QualityQuery } from '../../services/dashboard.js';

export async function dashboardRoutes(app: App, { ctx, store, dashboard }: RouteDeps): Promise<void> {
  const tags = ['dashboard'];

  app.get('/studies/:studyId/participants/:participantId/activity/day-hour', {
    schema: { response: answers({ 200: DayHourActivity }),
      tags, params: ParticipantParams, querystring: DayHourQuery,
      summary: 'Wristband activity per local day × hour of the participant (their time zone): mean of a channel, minutes recorded, epochs stored',
    },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const { info, participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    const view = await dashboard.activityDayHour(info, participant, req.query);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: participant.id, resource: 'activity', detail: `day-hour ${view.channel}: ${view.epochs} epochs` });
    return view;
  });

  app.get('/studies/:studyId/quality', {
    schema: { response: answers({ 200: Quality }),
      tags, params: StudyParams, querystring: QualityQuery,
      summary: 'Data quality per participant and local day: wear time (minutes with a valid epoch vs minutes in the day), reports, late reports, recordings received / failed / skipped / missing',
    },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const { participants, quality } = await dashboard.quality(info, req.query);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: participants.length === 1 ? participants[0].id : null, resource: 'quality', detail: `${participants.length} participants, ${quality.rows.length} days` });
    return quality;
  });

  app.get('/studies/:studyId/model/evaluation', {
    schema: { response: answers({ 200: ModelEvaluation }),
      tags, params: StudyParams,
      summary: 'Evaluation of the attached model: the stored `moodlens evaluate --json` result (<model>/evaluation.json) when present, the training summary, and per-item CCC of the predictions the server made for reports against their answers',
    },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const evaluation = await dashboard.modelEvaluation(info);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: null, resource: 'evaluation', detail: `${evaluation.online.reports} predicted reports` });
    return evaluation;
  });

  app.get('/studies/:studyId/participants/:participantId/predictions/by-report', {
    schema: { response: answers({ 200: z.array(PredictionByReport) }), tags, params: ParticipantParams, summary: 'Predictions of a participant, each named by the report id the participant\'s app chose and the report\'s time' },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const { info, participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    const rows = await store.predictionsOf(participant.id);
    const ids = await store.clientIds([...new Set(rows.map((r) => r.report_id).filter((x): x is string => x !== null))]);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: participant.id, resource: 'predictions', detail: `${rows.length} predictions` });
    return rows.map((p) => {
      const r = p.report_id ? ids.get(p.report_id) : undefined;
      return { time: new Date(Number(p.created_ms)).toISOString(), reportId: r?.client_id ?? null, reportTime: r?.time ?? null, kind: p.kind, items: p.items };
    });
  });
}
