/**
 * A Predictor over a model folder written by `moodlens train` (src/train/model-folder.ts).
 *
 * Inference: the report's instance (activity window from the stored epochs; speech features
 * uploaded by the app when the study collects features and the folder records matching names,
 * otherwise speech is masked out — masked fusion, SPEC §6) goes through the plain Float32Array
 * forward pass of fast-model.ts (weights read once from the folder; tfjs on this thread only for
 * the few architectures that pass does not implement). Intervals are the model's split-conformal
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
import { readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import type { Item } from '../../data/study.js';
import { ConfigSchema } from '../../model/config.js';
import type { Modality, NormStats } from '../../model/inputs.js';
import type { WeightsManifest } from '../../model/serialize.js';
import type { LoadedModel } from '../../train/model-folder.js';
import type { Conformal } from '../../eval/conformal.js';
import { conformalInterval } from '../../eval/conformal.js';
import { FastMember, unsupportedReason, type PersonalLayer } from './fast-model.js';
import { Personalizer, type PersonalisationStatus } from '../jobs/personalizer.js';
import { EGEMAPS_NAMES } from '../../signal/speech/egemaps.js';
import { channelMask, instancesDataset, speechPresent, type ServerInstance } from './instances.js';
import type { ItemPrediction, PredictionInput, PredictionOutput, Predictor } from './predictor.js';
import { ModelFolderError } from './model-path.js';

export type HistoryInstance = ServerInstance;

/** Earlier reports a history-modality model reads for a live prediction (the EWMA has long forgotten older ones). */
export const HISTORY_REPORTS = 200;

const FolderJson = z.object({
  kind: z.enum(['model', 'single-task', 'ensemble']),
  config: ConfigSchema,
  items: z.array(z.object({ id: z.string(), min: z.number(), max: z.number() }).passthrough()),
  mods: z.array(z.object({ name: z.string(), channel: z.number().int(), dim: z.number().int().positive() })).optional(),
  users: z.number().int().nonnegative().optional(),
  task: z.number().int().optional(),
  speechFeatures: z.array(z.string()).optional(),
}).passthrough();


/** A JSON file of the model folder `base` (`path` inside it); errors name it relative to `base` and never quote it. */
function readJson(base: string, path: string): unknown {
  const name = relative(base, path) || path;
  if (!existsSync(path)) throw new ModelFolderError(`${name} is missing (is this a model folder written by \`moodlens train\`?)`);
  try { return JSON.parse(readFileSync(path, 'utf8')); } catch { throw new ModelFolderError(`${name} is not valid JSON`); }
}

function readFolderJson(base: string, dir: string): z.infer<typeof FolderJson> {
  const path = join(dir, 'config.json');
  const r = FolderJson.safeParse(readJson(base, path));
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ModelFolderError(`${relative(base, path)}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

function readMember(base: string, dir: string): FastMember | string {
  const meta = readFolderJson(base, dir);
  const why = unsupportedReason(meta.config.model);
  if (why) return why;
  const b = readFileSync(join(dir, 'weights.bin'));
  const data = new Float32Array(b.byteLength / 4);
  new Uint8Array(data.buffer).set(b);
  return new FastMember({
    config: meta.config.model, mods: (meta.mods ?? []) as Modality[], K: meta.items.length, task: meta.task,
    norm: readJson(base, join(dir, 'normalization.json')) as NormStats,
    participants: readJson(base, join(dir, 'participants.json')) as string[],
    manifest: readJson(base, join(dir, 'weights.json')) as WeightsManifest, data,
  });
}

export interface ModelPredictorOptions {
  personaliseAfter?: number;
  /** Passes over the reports in a micro-layer fit (personalizeParticipant's default: 100). */
  fitEpochs?: number;
  /** Use tfjs for inference even when the plain forward pass supports the model (tests). */
  forceTfjs?: boolean;
}

export class ModelPredictor implements Predictor {
  readonly name: string;
  /** The speech features the model reads, in its input order; null when it reads none (or the folder does not name them). */
  readonly speechFeatures: string[] | null;
  /** Why uploaded speech features are not used (for the attach route), or null. */
  readonly speechNote: string | null;
  /** 'plain' (fast-model.ts) or 'tfjs'. */
  readonly engine: 'plain' | 'tfjs';
  private personal = new Map<string, PersonalLayer[]>();
  private fitRequestedAt = new Map<string, number>();
  private personalizer: Personalizer;
  private tfjs: LoadedModel | null = null;
  private K: number;
  private speechDim: number;
  private speechNames: string[];

  private constructor(
    private dir: string, private items: Item[], private conformal: Conformal | null, private members: FastMember[] | null, private trainedIds: Set<string>[],
    private channels: string[], private windowEpochs: number, private personaliseAfter: number, config: { fusion: string; personalization: string; multitask: string },
    speech: { dim: number; names: string[] | null; note: string | null }, fitEpochs: number | undefined,
  ) {
    this.name = `model:${config.fusion}/${config.personalization}/${config.multitask}`;
    this.engine = members ? 'plain' : 'tfjs';
    this.K = items.length;
    this.speechDim = speech.dim;
    this.speechFeatures = speech.names;
    this.speechNote = speech.note;
    this.speechNames = speech.names ?? Array.from({ length: speech.dim }, (_, f) => `f${f}`);
    this.personalizer = new Personalizer(dir, { channels, windowEpochs, speechFeatures: this.speechNames, epochs: fitEpochs });
  }

  /**
   * Load and check a model folder against the study: items, activity window, and — for a study
   * that receives speech features — the feature names the model was trained on.
   */
  static async load(dir: string, study: { channels: string[]; windowEpochs: number; items: Item[]; speechKind?: string; receivedSpeechFeatures?: string[] }, o: ModelPredictorOptions = {}): Promise<ModelPredictor> {
    const meta = readFolderJson(dir, dir);
    const modelItems = meta.items.map((i) => i.id).join(',');
    if (modelItems !== study.items.map((i) => i.id).join(',')) throw new ModelFolderError(`model items (${modelItems}) differ from the study's`);
    const memberDirs = meta.kind === 'single-task' ? meta.items.map((_, k) => join(dir, 'tasks', String(k)))
      : meta.kind === 'ensemble' ? Array.from({ length: meta.config.train.ensemble }, (_, j) => join(dir, 'members', String(j))) : [dir];
    const metas = memberDirs.map((d) => readFolderJson(dir, d));
    let speechDim = 0;
    for (const mm of metas) for (const mod of mm.mods ?? []) {
      if (mod.channel >= 0 && (mod.dim !== study.windowEpochs || mod.channel >= study.channels.length)) throw new ModelFolderError(`model modality ${mod.name} does not fit the study's activity window`);
      if (mod.channel === -1) speechDim = mod.dim; // −2: the history modality
    }
    // Speech: the folder must name its features, the study must receive features, and what it has
    // received so far must be exactly those names.
    let names: string[] | null = null, note: string | null = null;
    const recorded = meta.speechFeatures ?? metas[0].speechFeatures;
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
    const fast = o.forceTfjs ? ['forced'] : memberDirs.map((d) => readMember(dir, d));
    const members = fast.every((f) => f instanceof FastMember) ? fast as FastMember[] : null;
    const trainedIds = memberDirs.map((d) => new Set(readJson(dir, join(d, 'participants.json')) as string[]));
    const conformal = existsSync(join(dir, 'conformal.json')) ? readJson(dir, join(dir, 'conformal.json')) as Conformal : null;
    const p = new ModelPredictor(dir, study.items, conformal, members, trainedIds, study.channels, study.windowEpochs, o.personaliseAfter ?? 5,
      { fusion: meta.config.model.fusion.name, personalization: meta.config.model.personalization.name, multitask: meta.config.model.multitask.name },
      { dim: speechDim, names, note }, o.fitEpochs);
    if (!members) {
      const { initNodeBackend } = await import('../../train/backend-node.js');
      const { loadModel } = await import('../../train/model-folder.js');
      await initNodeBackend();
      p.tfjs = loadModel(dir);
    }
    return p;
  }

  /** Trained on this participant (every member)? */
  private trained(participantId: string): boolean { return this.trainedIds.every((s) => s.has(participantId)); }
  private hasTables(): boolean {
    return this.members ? this.members.some((m) => m.config.personalization.name !== 'none') : this.tfjs!.members.some((m) => m.model.tables.length > 0);
  }

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
    const mine: PersonalLayer[] = layers.map((l) => ({ rows: new Map(Object.entries(l?.rows ?? {})), activityNorm: l?.activityNorm }));
    if (this.tfjs) {
      this.tfjs.members.forEach((mem, j) => {
        const l = layers[j];
        if (!l) return;
        let slot = mem.participants.indexOf(pid);
        if (slot < 0) { for (const t of mem.model.tables) slot = t.addUser(l.rows[t.name]); mem.participants.push(pid); }
        else for (const t of mem.model.tables) t.data.set(l.rows[t.name], slot * t.size);
        if (l.activityNorm) mem.norm.activity[pid] = l.activityNorm;
      });
    }
    this.personal.set(pid, mine);
  }

  async predict(input: PredictionInput): Promise<PredictionOutput> {
    await this.maybePersonalise(input);
    const C = this.channels.length, W = this.windowEpochs;
    const speech = input.speech && input.speech.length === this.speechDim ? input.speech : null;
    const pid = input.participantId, personal = this.personal.get(pid);
    let y: Float32Array;
    if (this.members) {
      const x = { activity: input.activity, channelMask: channelMask(input.activity, C, W), speech, speechMask: speechPresent(speech) };
      y = new Float32Array(this.K);
      const whole = this.members.filter((m) => m.task === undefined).length; // a seed ensemble averages its members
      this.members.forEach((m, j) => {
        const out = m.forward(x, pid, personal?.[j]);
        if (m.task === undefined) { if (whole === 1) y.set(out); else for (let k = 0; k < this.K; k++) y[k] += out[k] / whole; } else y[m.task] = out[m.task];
      });
    } else {
      const { predictMembers } = await import('../../train/fit.js');
      // A model with the history modality (issue 16) reads the participant's reports answered
      // before this one: they go into the dataset before it (their labels feed its history
      // features only; it is the one predicted).
      const usesHistory = this.tfjs!.members.some((m) => m.mods.some((x) => x.name === 'history'));
      const earlier = usesHistory ? (await input.history()).filter((h) => h.timeMs < input.timeMs).slice(-HISTORY_REPORTS)
        .map((h) => ({ timeMs: h.timeMs, localHour: 0, values: h.values, activity: new Float32Array(C * W).fill(NaN), speech: null })) : [];
      const ds = instancesDataset(pid, [...earlier, { timeMs: input.timeMs, localHour: input.localHour, values: {}, activity: input.activity, speech }], this.items, this.channels, W, this.speechNames);
      y = predictMembers(this.tfjs!.members, ds, Int32Array.of(earlier.length));
    }
    const items: Record<string, ItemPrediction> = {};
    this.items.forEach((it, k) => {
      const scale = (x: number) => it.min + x * (it.max - it.min);
      const [lo, hi] = this.conformal ? conformalInterval(this.conformal, k, y[k]) : [NaN, NaN];
      items[it.id] = { value: scale(y[k]), lo: scale(lo), hi: scale(hi) };
    });
    return { kind: this.trained(pid) || personal ? 'personalised' : 'macro', items };
  }
}
