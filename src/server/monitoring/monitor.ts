/**
 * What happens after a report is stored: a prediction for it (when the study has a model) and a
 * fresh evaluation of the participant's alerts. Runs as a background job (jobs/queue.ts), after
 * the report was acknowledged: both are derived data and can be recomputed at any time
 * (POST …/predict). Alert evaluation is debounced per participant (per process: an evaluation
 * is idempotent, an episode is keyed by participant, item, source and start).
 */
import { targetItems } from '../../data/instruments.js';
import { localHourOf } from '../../data/load.js';
import { activityWindow, channelPresent, speechPresent } from '../../data/instances.js';
import { ModelFolderError } from '../../model/folder-node.js';
import type { ServerContext, StudyInfo } from '../http/context.js';
import type { Alert, AuditEntry, Participant, Report, Prediction } from '../storage/store.js';
import { BaselinePredictor, type MacroSummary, type Predictor, type PredictionOutput } from './predictor.js';
import { itemEpisodes, type Observation } from './alerts.js';
import { newId } from '../storage/ids.js';
import { modelNotFound } from './model-path.js';

/** model_dir value that selects the built-in baseline predictor. */
export const BUILTIN_BASELINE = 'builtin:baseline';

/** Per item: count, sum and sum of squares of the answers. */
type ItemSums = Record<string, { n: number; s: number; ss: number }>;

/**
 * Why a study's model could not be loaded, as researchers see it: only ModelFolderError's words;
 * any other error's text (it may quote a file or name a server path) goes to the server log alone.
 */
function publicLoadError(info: StudyInfo, e: unknown): string {
  console.error(`monitor: could not load the model ${JSON.stringify(info.study.model_dir)} of study ${info.study.id}: ${e instanceof Error ? e.message : e}`);
  return e instanceof ModelFolderError ? e.message : 'the folder is not a model written by `moodlens train` that this server can load (details in the server log)';
}

export class Monitor {
  private predictors = new Map<string, Promise<Predictor | null>>();
  private macroCache = new Map<string, { at: number; total: ItemSums; byParticipant: Map<string, ItemSums> }>();
  private lastAlertRun = new Map<string, number>();
  private alertTimers = new Map<string, NodeJS.Timeout>();
  /** Why a study's model could not be loaded (for the attach route's message). */
  readonly loadErrors = new Map<string, string>();

  /** Told the id of each new alert episode (server.ts queues its notification check). */
  onNewAlert: ((alertId: string) => void) | null = null;

  /** `jobsIdle`: resolves when the job engine has no job waiting or running (idle() waits for it first: a follow-up may still be queued). */
  constructor(private ctx: ServerContext, private jobsIdle?: () => Promise<void>) {}

  /** Forget a study's predictor (a model was attached or detached). */
  resetStudy(studyId: string): void {
    const old = this.predictors.get(studyId);
    if (old) void old.then((p) => p?.close?.()).catch(() => {});
    this.predictors.delete(studyId); this.macroCache.delete(studyId); this.loadErrors.delete(studyId);
  }

  predictor(info: StudyInfo): Promise<Predictor | null> {
    let p = this.predictors.get(info.study.id);
    if (!p) {
      p = this.load(info).catch((e) => { this.loadErrors.set(info.study.id, publicLoadError(info, e)); return null; });
      this.predictors.set(info.study.id, p);
    }
    return p;
  }

  /**
   * Load the predictor of the model `info` names, without touching the study's current one: on
   * success it replaces it (the caller then stores the new name); on failure the working model
   * stays attached and the reason comes back (a failed attach never detaches).
   */
  async tryLoad(info: StudyInfo): Promise<{ predictor: Predictor } | { error: string }> {
    let predictor: Predictor | null;
    try { predictor = await this.load(info); } catch (e) { return { error: publicLoadError(info, e) }; }
    if (!predictor) return { error: 'no model named' };
    this.resetStudy(info.study.id);
    this.predictors.set(info.study.id, Promise.resolve(predictor));
    return { predictor };
  }

  /** Load the predictor of the model folder a study names (uncached; rejects when it cannot be loaded). */
  private load(info: StudyInfo): Promise<Predictor | null> {
    const name = info.study.model_dir;
    // A model folder is a name under --models-dir, resolved afresh on every load (model-path.ts).
    const dir = name && name !== BUILTIN_BASELINE ? this.ctx.modelFolder(name) : null;
    if (!name) return Promise.resolve(null);
    if (name === BUILTIN_BASELINE) return Promise.resolve(new BaselinePredictor(targetItems(info.config), (label) => this.macro(info, label)));
    if (!dir) return Promise.reject(new ModelFolderError(modelNotFound(name)));
    if (this.ctx.opts.loadPredictor) return this.ctx.opts.loadPredictor(info, dir);
    return (async (): Promise<Predictor> => {
      const { ModelPredictor } = await import('./predictor-model.js');
      const received = info.config.speech.kind === 'features' ? await this.ctx.store.studySpeechFeatureNames(info.study.id) : [];
      return ModelPredictor.load(dir, {
        channels: info.config.activity.channels, windowEpochs: info.config.window.epochs, items: targetItems(info.config),
        speechKind: info.config.speech.kind, receivedSpeechFeatures: received,
      }, this.ctx.opts.predictorOptions);
    })();
  }

  /**
   * The baseline predictor's macro level for one participant: item means and SDs over every
   * *other* participant's reports (leave-that-participant-out), so that the report being predicted
   * — already stored when its prediction is made — never informs its own prediction, and the
   * participant's own reports enter only through the shrinkage toward their history. The study's
   * sums are cached per participant (by label) for a minute; excluding one participant is a subtraction.
   */
  private async macro(info: StudyInfo, label: string): Promise<MacroSummary> {
    let hit = this.macroCache.get(info.study.id);
    if (!hit || Date.now() - hit.at >= 60_000) {
      // Keyed by the participant's label (what the predictor is given), read once per refresh.
      const labelOf = new Map((await this.ctx.store.participants(info.study.id)).map((p) => [p.id, p.label]));
      const total: ItemSums = {}, byParticipant = new Map<string, ItemSums>();
      for await (const page of this.ctx.store.studyReports(info.study.id)) {
        for (const r of page) {
          const a = r.answers;
          const key = labelOf.get(r.participant_id) ?? r.participant_id;
          let own = byParticipant.get(key);
          if (!own) byParticipant.set(key, own = {});
          for (const [k, v] of Object.entries(a)) {
            for (const t of [(total[k] ??= { n: 0, s: 0, ss: 0 }), (own[k] ??= { n: 0, s: 0, ss: 0 })]) { t.n++; t.s += v; t.ss += v * v; }
          }
        }
      }
      hit = { at: Date.now(), total, byParticipant };
      this.macroCache.set(info.study.id, hit);
    }
    const own = hit.byParticipant.get(label) ?? {};
    const summary: MacroSummary = { mean: {}, sd: {} };
    for (const [k, t] of Object.entries(hit.total)) {
      const o = own[k] ?? { n: 0, s: 0, ss: 0 };
      const n = t.n - o.n, s = t.s - o.s, ss = t.ss - o.ss;
      if (n <= 0) continue; // no one else has answered this item yet: the item's mid-range is used
      summary.mean[k] = s / n;
      summary.sd[k] = n > 1 ? Math.sqrt(Math.max(0, (ss - s * s / n) / (n - 1))) : NaN;
    }
    return summary;
  }

  /**
   * Predict for a participant at a report (or now), store it and return it; null without a model.
   * `checked`: the caller has just read the participant (on-demand route), so no second read.
   */
  async predict(info: StudyInfo, participant: Participant, report: Report | null, audit?: AuditEntry, checked = false): Promise<Prediction | null> {
    const predictor = await this.predictor(info);
    if (!predictor) return null;
    if (!checked) {
      const fresh = await this.ctx.store.participantById(participant.id);
      if (!fresh || fresh.status === 'withdrawn') return null;
    }
    const timeMs = report?.time_ms ?? this.ctx.now();
    const { channels, epochSeconds } = info.config.activity;
    const C = channels.length, W = info.config.window.epochs, epochMs = epochSeconds * 1000;
    // The window of the W complete epochs before the report (SPEC §1), channel-major, NaN =
    // missing: the one instance builder's window on the stored epochs, so the server's instance
    // is the one `moodlens predict` builds from the export (test/server/instances.test.ts).
    const windowOf = async (t: number) => {
      const rows = await this.ctx.store.activityBetween(participant.id, t - (W + 1) * epochMs, t);
      const time = new Float64Array(rows.length), values = new Float32Array(rows.length * C);
      rows.forEach((e, i) => {
        time[i] = e.t_ms;
        for (let c = 0; c < C; c++) values[i * C + c] = e.vals[c] ?? NaN;
      });
      return activityWindow({ time, values }, C, t, epochMs, W);
    };
    const names = predictor.speechFeatures && info.config.speech.kind !== 'none' ? predictor.speechFeatures : null;
    const speechVector = (f: Record<string, number | null> | undefined) => {
      if (!names || f === undefined) return null;
      return Float32Array.from(names, (n) => (typeof f[n] === 'number' ? f[n] as number : NaN));
    };
    const localHour = (t: number) => localHourOf(t, participant.timezone);
    const historyCount = () => this.ctx.store.countReportsBefore(participant.id, timeMs, report?.id ?? null);
    const history = async () => (await this.ctx.store.reportsOf(participant.id))
      .filter((r) => r.time_ms < timeMs || (report && r.id !== report.id && r.time_ms === timeMs))
      .map((r) => ({ id: r.id, timeMs: r.time_ms, values: r.answers }));
    const historyInstances = async () => {
      const feats = names ? await this.ctx.store.participantSpeechFeatures(participant.id) : new Map<string, Record<string, number | null>>();
      const out = [];
      for (const h of (await history()).slice(-40)) out.push({ timeMs: h.timeMs, values: h.values, localHour: localHour(h.timeMs), activity: await windowOf(h.timeMs), speech: speechVector(feats.get(h.id)) });
      return out;
    };
    const activity = await windowOf(timeMs);
    const speech = report && names ? speechVector((await this.ctx.store.speechFeaturesOf(report.id))?.features) : null;
    const out: PredictionOutput = await predictor.predict({
      participantId: participant.label, timeMs, localHour: localHour(timeMs), activity, speech, historyCount, history, historyInstances,
    });
    const row: Prediction = {
      id: newId('pr_'), study_id: info.study.id, participant_id: participant.id, report_id: report?.id ?? null,
      created_ms: timeMs, kind: out.kind, items: out.items,
      inputs: { activity: channels.filter((_, c) => channelPresent(activity, 0, c, W)), speech: speechPresent(speech) === 1 },
    };
    await this.ctx.store.insertPrediction(row, audit);
    return row;
  }

  /** Re-evaluate the participant's alerts; returns how many new episodes were recorded. */
  async evaluateAlerts(info: StudyInfo, participant: Pick<Participant, 'id'>): Promise<number> {
    const fresh = await this.ctx.store.participantById(participant.id);
    if (!fresh || fresh.status === 'withdrawn') return 0;
    const s = info.settings.alerts;
    const items = targetItems(info.config, { scores: true, instrumentItems: true }).filter((i) => s.items.includes(i.id));
    if (items.length === 0) return 0;
    let created = 0;
    const sources: Record<string, Array<{ timeMs: number; values: Record<string, number> }>> = {};
    if (s.sources.includes('reported')) {
      // Answers and questionnaire scores (an alert item may be a score such as phq9_total).
      sources.reported = (await this.ctx.store.reportsOf(participant.id)).map((r) => ({ timeMs: r.time_ms, values: { ...r.answers, ...(r.scores ?? {}) } }));
    }
    if (s.sources.includes('predicted')) {
      sources.predicted = (await this.ctx.store.predictionsOf(participant.id)).map((p) => {
        return { timeMs: p.created_ms, values: Object.fromEntries(Object.entries(p.items).map(([k, v]) => [k, v.value])) };
      });
    }
    for (const [source, rows] of Object.entries(sources)) {
      for (const item of items) {
        const obs: Observation[] = rows.filter((r) => item.id in r.values).map((r) => ({ timeMs: r.timeMs, value: r.values[item.id] }));
        for (const ep of itemEpisodes(item, obs, s)) {
          const alertId = newId('a_');
          const r = await this.ctx.store.upsertAlert({
            id: alertId, study_id: info.study.id, participant_id: participant.id, item: ep.item, source: source as Alert['source'], direction: ep.direction,
            started_ms: ep.startedMs, last_ms: ep.lastMs, detected_ms: this.ctx.now(), n_reports: ep.nReports,
            baseline_mean: ep.baselineMean, baseline_sd: ep.baselineSd, acknowledged_by: null, acknowledged_ms: null,
          });
          if (r.created) { created++; this.onNewAlert?.(alertId); }
        }
      }
    }
    return created;
  }

  /**
   * The job of a stored report ("report-follow-up") or of its arrived speech features
   * ("speech-follow-up", which predicts again only when the model reads speech): load what the ids
   * name, predict the report — once: a report already predicted (with its speech, for the second)
   * is not predicted again, so a job delivered twice stores one prediction — and evaluate the
   * participant's alerts (debounced). A withdrawn participant or a deleted report: nothing. A
   * failure is thrown: the job engine retries it.
   */
  async followUp(reportId: string, withSpeech: boolean): Promise<void> {
    if (this.stopped) throw new Error('the server is stopping'); // retried (pg-boss: by another instance)
    const report = await this.ctx.store.reportById(reportId);
    if (!report) return;
    const info = await this.ctx.studyInfo(report.study_id);
    const predictor = await this.predictor(info);
    if (withSpeech && !predictor?.speechFeatures) return;
    const run = (async () => {
      if (predictor && !(await this.ctx.store.hasPrediction(report.id, withSpeech))) {
        const participant = await this.ctx.store.participantById(report.participant_id);
        if (!participant || participant.status === 'withdrawn') return;
        await this.predict(info, participant, report, undefined, true);
      }
      // (the evaluation reads the participant afresh, and skips a withdrawn one)
      if (!this.stopped) this.scheduleAlerts(info, report.participant_id);
    })();
    this.inflight.add(run);
    try { await run; } finally { this.inflight.delete(run); }
  }

  /** Resolves when all queued follow-up work is done, debounced alert evaluations included (tests). */
  async idle(): Promise<void> {
    await this.jobsIdle?.();
    while (this.alertTimers.size > 0 || this.inflight.size > 0) {
      if (this.inflight.size > 0) await Promise.all(this.inflight);
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Shutdown: drop debounced evaluations not yet started (they are recomputed on the next report), wait for the rest. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.alertTimers.values()) clearTimeout(t);
    this.alertTimers.clear();
    await Promise.all(this.inflight);
    for (const t of this.alertTimers.values()) clearTimeout(t);
    this.alertTimers.clear();
    await Promise.all(this.inflight);
    for (const p of this.predictors.values()) await p.then((x) => x?.close?.()).catch(() => {});
  }
  private stopped = false;

  /** The study's predictor's background work (micro-layer fits), or null when it has none. */
  async personalisation(info: StudyInfo): Promise<object | null> {
    const p = this.predictors.has(info.study.id) ? await this.predictor(info) : null;
    return p?.personalisation?.() ?? null;
  }

  /** Resolves when the study's predictor has no fit queued or running (tests, the bench). */
  async personalisationIdle(info: StudyInfo): Promise<void> {
    const p = await this.predictor(info);
    await p?.personalisationIdle?.();
  }

  private inflight = new Set<Promise<unknown>>();

  private scheduleAlerts(info: StudyInfo, participantId: string): void {
    if (this.alertTimers.has(participantId)) return;
    const debounce = this.ctx.opts.alertDebounceMs ?? 30_000;
    const last = this.lastAlertRun.get(participantId) ?? 0;
    const wait = Math.max(0, last + debounce - Date.now());
    const t = setTimeout(() => {
      this.lastAlertRun.set(participantId, Date.now());
      this.alertTimers.delete(participantId);
      const run = this.evaluateAlerts(info, { id: participantId })
        .catch((e) => console.error(`monitor: alerts of participant ${participantId} failed: ${e instanceof Error ? e.message : e}`))
        .finally(() => this.inflight.delete(run));
      this.inflight.add(run);
    }, wait);
    this.alertTimers.set(participantId, t);
  }
}
