/** Researcher routes for models, predictions (with intervals) and early-warning alerts. */
import { z } from 'zod';
import type { App, RouteDeps } from '../deps.js';
import { answers, AlertView, AlertsCreated, ModelAttached, ModelChoice, ModelDetached, ModelView, PredictionView } from '../responses.js';
import { AlertListQuery, AlertParams, ParticipantParams, StudyParams } from '../schemas.js';
import { HttpError, notFound } from '../errors.js';
import { BUILTIN_BASELINE } from '../../monitoring/monitor.js';
import { ModelName, modelNotFound, normaliseModelName } from '../../monitoring/model-path.js';
import type { Alert, Prediction } from '../../storage/store.js';
import type { Predictor } from '../../monitoring/predictor.js';
import type { ModelPredictor } from '../../monitoring/predictor-model.js';
import { listModels } from '../../services/models.js';

const AttachModelBody = z.object({
  /**
   * A trained model folder (from `moodlens train`) under the server's models folder
   * (`--models-dir`), named relative to it ("mood-v3", "2024/mood-v3"); or "builtin:baseline".
   */
  model: ModelName.describe('a model folder under the server\'s --models-dir, named relative to it, or "builtin:baseline"'),
}).strict();

function predictionView(p: Prediction) {
  return {
    id: p.id, time: new Date(p.created_ms).toISOString(), reportId: p.report_id, kind: p.kind,
    items: p.items,
    inputs: p.inputs,
  };
}

function predictorView(p: Predictor) {
  const m = p as Partial<ModelPredictor>;
  return {
    predictor: p.name,
    engine: m.engine === 'plain' ? 'plain' as const : 'baseline' as const,
    speechFeatures: p.speechFeatures ? { used: true, count: p.speechFeatures.length, note: null } : { used: false, count: 0, note: m.speechNote ?? null },
    personalisation: p.personalisation?.() ?? null,
  };
}

function alertView(a: Alert, label: string) {
  return {
    id: a.id, participantId: label, item: a.item, source: a.source, direction: a.direction,
    startedAt: new Date(a.started_ms).toISOString(), lastAt: new Date(a.last_ms).toISOString(), detectedAt: new Date(a.detected_ms).toISOString(),
    reports: a.n_reports, baseline: { mean: a.baseline_mean, sd: a.baseline_sd },
    acknowledgedBy: a.acknowledged_by, acknowledgedAt: a.acknowledged_ms ? new Date(a.acknowledged_ms).toISOString() : null,
  };
}

export async function monitoringRoutes(app: App, { ctx, store, monitor, speech }: RouteDeps): Promise<void> {
  const tags = ['monitoring'];

  app.put('/studies/:studyId/model', {
    schema: { response: answers({ 200: ModelAttached }), tags, summary: 'Attach a trained model folder (or "builtin:baseline") to the study', params: StudyParams, body: AttachModelBody },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    // Only a folder under --models-dir; the same answer for missing and outside (model-path.ts).
    const model = req.body.model === BUILTIN_BASELINE ? BUILTIN_BASELINE : normaliseModelName(req.body.model);
    if (model !== BUILTIN_BASELINE && !ctx.modelFolder(model)) throw new HttpError(400, `body.model: ${modelNotFound(req.body.model)}`, 'body.model');
    // The new model is loaded first; only once it works is it stored. A model that fails to load
    // leaves the working one attached (predictions go on).
    const loaded = await monitor.tryLoad({ ...info, study: { ...info.study, model_dir: model } });
    if ('error' in loaded) {
      const kept = info.study.model_dir ? `; ${JSON.stringify(info.study.model_dir)} stays attached` : '';
      throw new HttpError(400, `body.model: could not load a model from ${JSON.stringify(model)}: ${loaded.error}${kept}`, 'body.model');
    }
    const { predictor } = loaded;
    await store.setModel(info.study.id, model);
    ctx.forgetStudy(info.study.id);
    return { model, ...predictorView(predictor) };
  });

  app.get('/studies/:studyId/models', {
    schema: { response: answers({ 200: ModelChoice }), tags, summary: 'The model folders under the server\'s --models-dir to choose from: kind, items, whether they fit this study, and their stored evaluation (evaluation.json mean CCC)', params: StudyParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    return listModels(ctx, info);
  });

  app.get('/studies/:studyId/model', {
    schema: { response: answers({ 200: ModelView }), tags, summary: 'The attached model: predictor, inference engine, speech features used, micro-layer fits (queued, running, done)', params: StudyParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const predictor = await monitor.predictor(info);
    return { model: info.study.model_dir, ...(predictor ? predictorView(predictor) : { predictor: null }), loadError: monitor.loadErrors.get(info.study.id) ?? null,
      // The server's speech feature extraction (audio studies; server-wide counts).
      ...(info.config.speech.kind === 'audio' ? { speechExtraction: speech.status() } : {}) };
  });

  app.delete('/studies/:studyId/model', { schema: { response: answers({ 200: ModelDetached }), tags, params: StudyParams } }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    await store.setModel(info.study.id, null);
    ctx.forgetStudy(info.study.id); monitor.resetStudy(info.study.id);
    return { model: null };
  });

  app.post('/studies/:studyId/participants/:participantId/predict', {
    schema: { response: answers({ 200: PredictionView }), tags, summary: 'Predict every item now (macro for a new participant, personalised once reports exist)', params: ParticipantParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const { info, participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    if (participant.status === 'withdrawn') throw new HttpError(409, `participant ${participant.label} has withdrawn`);
    const p = await monitor.predict(info, participant, null,
      { actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: participant.id, resource: 'prediction' }, true);
    if (!p) throw new HttpError(409, 'this study has no model attached (PUT /studies/:studyId/model)');
    return predictionView(p);
  });

  app.get('/studies/:studyId/participants/:participantId/predictions', { schema: { response: answers({ 200: z.array(PredictionView) }), tags, params: ParticipantParams } }, async (req) => {
    const u = await ctx.researcher(req);
    const { info, participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    const rows = await store.predictionsOf(participant.id);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: participant.id, resource: 'predictions', detail: `${rows.length} predictions` });
    return rows.map(predictionView);
  });

  app.post('/studies/:studyId/participants/:participantId/alerts/evaluate', {
    schema: { response: answers({ 200: AlertsCreated }), tags, summary: 'Re-evaluate this participant\'s alerts now', params: ParticipantParams },
  }, async (req) => {
    const u = await ctx.researcher(req);
    const { info, participant } = await ctx.participantFor(u, req.params.studyId, req.params.participantId);
    return { created: await monitor.evaluateAlerts(info, participant) };
  });

  app.get('/studies/:studyId/alerts', { schema: { response: answers({ 200: z.array(AlertView) }), tags, summary: 'Alerts of the study, newest first', params: StudyParams, querystring: AlertListQuery } }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const labels = new Map((await store.participants(info.study.id)).map((p) => [p.id, p.label]));
    const rows = await store.alerts(info.study.id, req.query.status);
    await store.audit({ actor_kind: 'researcher', actor_id: u.id, action: 'read', study_id: info.study.id, participant_id: null, resource: 'alerts', detail: `${rows.length} alerts` });
    return rows.map((a) => alertView(a, labels.get(a.participant_id) ?? a.participant_id));
  });

  app.post('/studies/:studyId/alerts/:alertId/ack', { schema: { response: answers({ 200: AlertView }), tags, summary: 'Acknowledge an alert', params: AlertParams } }, async (req) => {
    const u = await ctx.researcher(req);
    const info = await ctx.studyFor(u, req.params.studyId);
    const a = await store.acknowledgeAlert(info.study.id, req.params.alertId, u.id);
    if (!a) throw notFound(`alert ${req.params.alertId}`);
    const p = await store.participantById(a.participant_id);
    return alertView(a, p?.label ?? a.participant_id);
  });
}
