/**
 * A Predictor over a model folder written by `moodlens train` (src/train/model-folder.ts): the
 * report's instance is assembled as a one-row Dataset (activity window from the stored epochs;
 * speech features are not computed on the server yet, so speech is masked out — masked fusion,
 * SPEC §6) and run through the model's members; intervals are the model's split-conformal
 * half-widths. A participant the model was trained on gets their own per-user layer; a new one
 * gets the macro prediction (user slot −1) until `personaliseAfter` reports exist, then a micro
 * layer fitted from those reports (personalizeParticipant, shared network untouched), refitted
 * as their reports double (5, 10, 20, 40; from the latest 40 at most). Personal layers live in memory and are refitted
 * after a restart from the stored reports.
 */
import type { Dataset } from '../data/dataset.js';
import type { Item } from '../data/study.js';
import { initNodeBackend } from '../train/backend-node.js';
import { loadModel, type LoadedModel } from '../train/model-folder.js';
import { predictMembers } from '../train/fit.js';
import { personalizeParticipant } from '../model/personalize.js';
import { conformalInterval } from '../eval/conformal.js';
import type { ItemPrediction, PredictionInput, PredictionOutput, Predictor } from './predictor.js';

export interface HistoryInstance { timeMs: number; localHour: number; values: Record<string, number>; activity: Float32Array }

export class ModelPredictor implements Predictor {
  readonly name: string;
  private fittedAt = new Map<string, number>();

  private constructor(private m: LoadedModel, private channels: string[], private windowEpochs: number, private personaliseAfter: number) {
    this.name = `model:${m.config.model.fusion.name}/${m.config.model.personalization.name}/${m.config.model.multitask.name}`;
  }

  static async load(dir: string, study: { channels: string[]; windowEpochs: number; items: Item[] }, personaliseAfter = 5): Promise<ModelPredictor> {
    await initNodeBackend();
    const m = loadModel(dir);
    const modelItems = m.items.map((i) => i.id).join(',');
    if (modelItems !== study.items.map((i) => i.id).join(',')) throw new Error(`model items (${modelItems}) differ from the study's`);
    for (const mem of m.members) for (const mod of mem.mods) {
      if (mod.channel >= 0 && (mod.dim !== study.windowEpochs || mod.channel >= study.channels.length)) throw new Error(`model modality ${mod.name} does not fit the study's activity window`);
    }
    return new ModelPredictor(m, study.channels, study.windowEpochs, personaliseAfter);
  }

  private speechDim(): number {
    for (const mem of this.m.members) for (const mod of mem.mods) if (mod.channel < 0) return mod.dim;
    return 0;
  }

  /** A Dataset of `rows` instances of one participant (labels NaN unless given). */
  private dataset(participantId: string, rows: HistoryInstance[]): Dataset {
    const n = rows.length, K = this.m.items.length, C = this.channels.length, W = this.windowEpochs, F = this.speechDim();
    const labels = new Float32Array(n * K).fill(NaN);
    const activity = new Float32Array(n * C * W);
    const mask = new Uint8Array(n * (C + 1));
    rows.forEach((r, i) => {
      this.m.items.forEach((it, k) => { const v = r.values[it.id]; if (Number.isFinite(v)) labels[i * K + k] = (v - it.min) / (it.max - it.min); });
      activity.set(r.activity, i * C * W);
      for (let c = 0; c < C; c++) {
        let whole = 1;
        for (let t = 0; t < W; t++) if (!Number.isFinite(r.activity[c * W + t])) { whole = 0; break; }
        mask[i * (C + 1) + c] = whole;
      }
    });
    return {
      items: this.m.items, channels: this.channels, windowEpochs: W, speechFeatures: Array.from({ length: F }, (_, f) => `f${f}`),
      participantIds: [participantId], n, participant: new Int32Array(n), reportIds: rows.map((_, i) => `r${i}`),
      time: Float64Array.from(rows, (r) => r.timeMs), localHour: Float32Array.from(rows, (r) => r.localHour), trigger: rows.map(() => 'scheduled'),
      labels, activity, speech: new Float32Array(n * F).fill(NaN), modalityMask: mask,
    };
  }

  private known(participantId: string): boolean { return this.m.members.every((mem) => mem.participants.includes(participantId)); }

  /** Fit (or refit) the participant's micro layer when their report count reaches 5, 10, 20, … */
  private async maybePersonalise(participantId: string, input: PredictionInput): Promise<void> {
    const n = input.historyCount;
    const last = this.fittedAt.get(participantId) ?? 0;
    const trained = this.known(participantId) && last === 0;
    // Refit at 5, 10, 20, 40 reports; after that the layer is settled (refits would cost seconds each).
    if (trained || n < this.personaliseAfter || (last > 0 && (n < 2 * last || last >= 8 * this.personaliseAfter)) || !input.historyInstances) return;
    const rows = (await input.historyInstances()).filter((r) => Object.keys(r.values).length > 0).slice(-8 * this.personaliseAfter);
    if (rows.length < this.personaliseAfter) return;
    const ds = this.dataset(participantId, rows);
    const idx = Int32Array.from({ length: ds.n }, (_, i) => i);
    for (const mem of this.m.members) {
      if (mem.model.tables.length === 0) continue;
      personalizeParticipant(mem, ds, participantId, idx);
    }
    this.fittedAt.set(participantId, n);
  }

  async predict(input: PredictionInput): Promise<PredictionOutput> {
    await this.maybePersonalise(input.participantId, input);
    const ds = this.dataset(input.participantId, [{ timeMs: input.timeMs, localHour: input.localHour, values: {}, activity: input.activity }]);
    const y = predictMembers(this.m.members, ds, Int32Array.of(0));
    const items: Record<string, ItemPrediction> = {};
    this.m.items.forEach((it, k) => {
      const scale = (x: number) => it.min + x * (it.max - it.min);
      const [lo, hi] = this.m.conformal ? conformalInterval(this.m.conformal, k, y[k]) : [NaN, NaN];
      items[it.id] = { value: scale(y[k]), lo: scale(lo), hi: scale(hi) };
    });
    return { kind: this.known(input.participantId) ? 'personalised' : 'macro', items };
  }
}
