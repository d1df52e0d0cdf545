/**
 * A Predictor over a model folder written by `moodlens train`, read once with the one model-folder
 * reader (src/model/folder-node.ts).
 *
 * Inference: the report's instance, built by the one instance builder (src/data/instances.ts:
 * activity window from the stored epochs; speech features uploaded by the app when the study
 * collects features and the folder records matching names, otherwise speech masked out — masked
 * fusion, SPEC §6; for a model with the history modality, after the participant's earlier
 * reports) goes through the plain forward pass of every member (PlainMoodModel, no tfjs op on
 * this thread; it covers every architecture). Intervals are the model's split-conformal
 * half-widths.
 *
 * Personalisation: a participant the model was trained on uses their own per-user layer. A new
 * participant gets the macro prediction (user slot −1) until `personaliseAfter` reports exist;
 * then their micro layer is fitted from those reports (personalizeParticipant, shared network
 * untouched) on a worker thread (personalizer.ts), refitted as their reports double (5, 10, 20,
 * 40; from the latest 40 at most). The request path never waits for a fit: predictions use the
 * latest finished one. Personal layers live in memory; after a restart they are refitted from the
 * stored reports.
 */
import type { Item } from '../../data/study.js';
import { reportWithHistory, unscaleLabel, type InstanceShape } from '../../data/instances.js';
import { historyFeatures } from '../../data/history.js';
import { ModelFolderError, readModelFolder } from '../../model/folder-node.js';
import { PlainMoodModel, type PersonalLayer } from '../../model/macro-micro.js';
import type { Conformal } from '../../eval/conformal.js';
import { conformalInterval } from '../../eval/conformal.js';
import { Personalizer, type PersonalisationStatus } from '../jobs/personalizer.js';
import { EGEMAPS_NAMES } from '../../signal/speech/egemaps.js';
import type { ItemPrediction, PredictionInput, PredictionOutput, Predictor } from './predictor.js';

/** Earlier reports a history-modality model reads for a live prediction (the EWMA has long forgotten older ones). */
export const HISTORY_REPORTS = 200;

export interface ModelPredictorOptions {
  personaliseAfter?: number;
  /** Passes over the reports in a micro-layer fit (personalizeParticipant's default: 100). */
  fitEpochs?: number;
}

export class ModelPredictor implements Predictor {
  readonly name: string;
  /** The speech features the model reads, in its input order; null when it reads none (or the folder does not name them). */
  readonly speechFeatures: string[] | null;
  /** Why uploaded speech features are not used (for the attach route), or null. */
  readonly speechNote: string | null;
  /** The inference engine (the attach route shows it): the plain forward pass, for every architecture. */
  readonly engine = 'plain';
  private personal = new Map<string, PersonalLayer[]>();
  private fitRequestedAt = new Map<string, number>();
  private personalizer: Personalizer;
  private K: number;
  private speechDim: number;
  private shape: InstanceShape;
  private usesHistory: boolean;

  private constructor(
    dir: string, private items: Item[], private conformal: Conformal | null, private members: PlainMoodModel[],
    channels: string[], windowEpochs: number, private personaliseAfter: number, config: { fusion: string; personalization: string; multitask: string },
    speech: { dim: number; names: string[] | null; note: string | null }, fitEpochs: number | undefined,
  ) {
    this.name = `model:${config.fusion}/${config.personalization}/${config.multitask}`;
    this.K = items.length;
    this.speechDim = speech.dim;
    this.speechFeatures = speech.names;
    this.speechNote = speech.note;
    const speechNames = speech.names ?? Array.from({ length: speech.dim }, (_, f) => `f${f}`);
    this.shape = { items, channels, windowEpochs, speechFeatures: speechNames };
    this.usesHistory = members.some((m) => m.mods.some((x) => x.name === 'history'));
    this.personalizer = new Personalizer(dir, { channels, windowEpochs, speechFeatures: speechNames, epochs: fitEpochs });
  }

  /**
   * Load and check a model folder against the study: items, activity window, and — for a study
   * that receives speech features — the feature names the model was trained on.
   */
  static async load(dir: string, study: { channels: string[]; windowEpochs: number; items: Item[]; speechKind?: string; receivedSpeechFeatures?: string[] }, o: ModelPredictorOptions = {}): Promise<ModelPredictor> {
    const folder = readModelFolder(dir), meta = folder.meta;
    const modelItems = meta.items.map((i) => i.id).join(',');
    if (modelItems !== study.items.map((i) => i.id).join(',')) throw new ModelFolderError(`model items (${modelItems}) differ from the study's`);
    let speechDim = 0;
    for (const mm of folder.members) for (const mod of mm.mods) {
      if (mod.channel >= 0 && (mod.dim !== study.windowEpochs || mod.channel >= study.channels.length)) throw new ModelFolderError(`model modality ${mod.name} does not fit the study's activity window`);
      if (mod.channel === -1) speechDim = mod.dim; // −2: the history modality
    }
    // Speech: the folder must name its features, the study must receive features, and what it has
    // received so far must be exactly those names.
    let names: string[] | null = null, note: string | null = null;
    const recorded = meta.speechFeatures ?? folder.members[0].meta.speechFeatures;
    if (speechDim > 0) {
      if (!recorded || recorded.length !== speechDim) note = 'the model folder does not record its speech feature names (retrain with this version): speech is masked out';
      else if (study.speechKind === 'none') note = 'the study collects no speech: speech is masked out';
      else if (study.speechKind !== 'features') {
        // Audio: the server computes the 88 eGeMAPS v02 functionals of each recording (speech-extractor.ts).
        const known = new Set(EGEMAPS_NAMES);
        const unknown = recorded.filter((n) => !known.has(n));
        if (unknown.length) note = `the study collects speech as audio and the server computes eGeMAPS v02 functionals, but the model reads other features (${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}): speech is masked out`;
        else names = recorded;
      }
      else {
        const got = study.receivedSpeechFeatures ?? [];
        if (got.length > 0) {
          const want = new Set(recorded), have = new Set(got);
          const missing = recorded.filter((n) => !have.has(n)), extra = got.filter((n) => !want.has(n));
          if (missing.length || extra.length) {
            throw new ModelFolderError(`the study's uploaded speech features do not match the model's (${recorded.length} names)` +
              (missing.length ? `; not uploaded: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}` : '') +
              (extra.length ? `; unknown to the model: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}` : ''));
          }
        }
        names = recorded;
      }
    }
    const members = folder.members.map((m) => new PlainMoodModel(m));
    return new ModelPredictor(dir, study.items, folder.conformal, members, study.channels, study.windowEpochs, o.personaliseAfter ?? 5,
      { fusion: meta.config.model.fusion.name, personalization: meta.config.model.personalization.name, multitask: meta.config.model.multitask.name },
      { dim: speechDim, names, note }, o.fitEpochs);
  }

  /** Trained on this participant (every member)? */
  private trained(participantId: string): boolean { return this.members.every((m) => m.trained(participantId)); }
  private hasTables(): boolean { return this.members.some((m) => m.config.personalization.name !== 'none'); }

  personalisation(): PersonalisationStatus & { personalised: number } { return { ...this.personalizer.status(), personalised: this.personal.size }; }
  personalisationIdle(): Promise<void> { return this.personalizer.idle(); }
  personalisationStarted(): Promise<void> { return this.personalizer.fitStarted(); }
  close(): Promise<void> { return this.personalizer.close(); }

  /** Queue a micro-layer fit when the participant's report count reaches 5, 10, 20, 40 (never waits for it). */
  private async maybePersonalise(input: PredictionInput): Promise<void> {
    const pid = input.participantId;
    if (this.trained(pid) || !input.historyInstances || !this.hasTables()) return;
    const last = this.fitRequestedAt.get(pid) ?? 0;
    if (last >= 8 * this.personaliseAfter) return; // settled: no count query
    const n = await input.historyCount();
    if (n < this.personaliseAfter || (last > 0 && n < 2 * last) || (this.fitRequestedAt.get(pid) ?? 0) !== last) return;
    this.fitRequestedAt.set(pid, n);
    const load = input.historyInstances;
    this.personalizer.request(pid,
      async () => {
        const rows = (await load()).filter((r) => Object.keys(r.values).length > 0).slice(-8 * this.personaliseAfter);
        if (rows.length < this.personaliseAfter) throw new Error(`participant ${pid}: only ${rows.length} answered reports`);
        return rows;
      },
      (layers) => this.applyFit(pid, layers),
      (e) => {
        if (this.fitRequestedAt.get(pid) === n) this.fitRequestedAt.set(pid, last); // try again at the next prediction
        if (e !== 'server closing') console.error(`personalisation of participant ${pid} failed: ${e}`);
      });
  }

  private applyFit(pid: string, layers: ({ rows: Record<string, Float32Array>; activityNorm?: [number, number][] } | null)[]): void {
    this.personal.set(pid, layers.map((l) => ({ rows: new Map(Object.entries(l?.rows ?? {})), activityNorm: l?.activityNorm })));
  }

  async predict(input: PredictionInput): Promise<PredictionOutput> {
    await this.maybePersonalise(input);
    const speech = input.speech && input.speech.length === this.speechDim ? input.speech : null;
    const pid = input.participantId, personal = this.personal.get(pid);
    // A model with the history modality (issue 16) reads the participant's reports answered
    // before this one: they go into the dataset before it (their labels feed its history
    // features only; it is the one predicted).
    const ds = reportWithHistory(pid, { timeMs: input.timeMs, localHour: input.localHour, values: {}, activity: input.activity, speech },
      this.usesHistory ? await input.history() : [], this.shape, HISTORY_REPORTS);
    const i = ds.n - 1, hist = this.usesHistory ? historyFeatures(ds) : undefined;
    const y = new Float32Array(this.K);
    const whole = this.members.filter((m) => m.task === undefined).length; // a seed ensemble averages its members
    this.members.forEach((m, j) => {
      const out = m.forward(ds, i, personal?.[j], hist);
      if (m.task === undefined) { if (whole === 1) y.set(out); else for (let k = 0; k < this.K; k++) y[k] += out[k] / whole; } else y[m.task] = out[m.task];
    });
    const items: Record<string, ItemPrediction> = {};
    this.items.forEach((it, k) => {
      const [lo, hi] = this.conformal ? conformalInterval(this.conformal, k, y[k]) : [NaN, NaN];
      items[it.id] = { value: unscaleLabel(it, y[k]), lo: unscaleLabel(it, lo), hi: unscaleLabel(it, hi) };
    });
    return { kind: this.trained(pid) || personal ? 'personalised' : 'macro', items };
  }
}
