/**
 * What the server needs from a trained model (SPEC §2, §6): per-item predictions with intervals
 * for one report, macro-only for a participant the model has never seen, personalised once the
 * participant's own reports exist: `ModelPredictor` (predictor-model.ts) over a trained model
 * folder; `BaselinePredictor` is a transparent fallback used when a study has
 * no model attached: the item mean over the other participants (macro) shrunk toward the participant's own mean
 * as their reports arrive, with an empirical 90 % interval.
 */
import type { Item } from '../../data/study.js';
import type { ReportInstance } from '../../data/instances.js';
import type { PersonalisationStatus } from '../jobs/personalizer.js';

export interface PredictionInput {
  participantId: string;
  timeMs: number;
  /** Local hour of day (0–24) of the report. */
  localHour: number;
  /** C × W activity window before the report (channel-major), NaN = missing epoch. */
  activity: Float32Array;
  /** Speech features in the order of the predictor's `speechFeatures` (NaN = missing), or null. */
  speech: Float32Array | null;
  /** How many earlier reports the participant has (one count query, made only when asked). */
  historyCount: () => Promise<number>;
  /** The participant's earlier reports (item values in item units; absent = not answered), oldest first; loaded on request. */
  history: () => Promise<{ timeMs: number; values: Record<string, number> }[]>;
  /** The earlier reports with their activity windows, loaded on request (for personalisation). */
  historyInstances?: () => Promise<ReportInstance[]>;
}

export interface ItemPrediction { value: number; lo: number; hi: number }

export interface PredictionOutput {
  kind: 'macro' | 'personalised';
  /** Item id → prediction in the item's own units (e.g. 0–100). */
  items: Record<string, ItemPrediction>;
}

export interface Predictor {
  readonly name: string;
  /** Speech feature names the predictor reads, in order (null/absent: it reads no speech). */
  readonly speechFeatures?: string[] | null;
  predict(input: PredictionInput): Promise<PredictionOutput>;
  /** Background work (micro-layer fits): status, and a promise that resolves when none is left. */
  personalisation?(): PersonalisationStatus & { personalised: number };
  personalisationIdle?(): Promise<void>;
  /** Release worker threads. */
  close?(): Promise<void>;
}

/** Population summary the baseline predictor starts from. */
export interface MacroSummary { mean: Record<string, number>; sd: Record<string, number> }

/**
 * Empirical-Bayes shrinkage: prediction = (n·participant mean + κ·macro mean)/(n + κ), κ = 5
 * reports; interval = ± 1.645 · pooled SD (a 90 % normal band), clipped to the item's range.
 */
export class BaselinePredictor implements Predictor {
  readonly name = 'baseline-shrinkage';
  constructor(private items: Item[], private macro: (participantId: string) => Promise<MacroSummary>, private kappa = 5) {}

  async predict(input: PredictionInput): Promise<PredictionOutput> {
    const macro = await this.macro(input.participantId);
    const out: Record<string, ItemPrediction> = {};
    let personal = false;
    const history = (await input.historyCount()) > 0 ? await input.history() : [];
    for (const it of this.items) {
      const own = history.map((h) => h.values[it.id]).filter((v) => Number.isFinite(v));
      const mMacro = Number.isFinite(macro.mean[it.id]) ? macro.mean[it.id] : (it.min + it.max) / 2;
      const sdMacro = Number.isFinite(macro.sd[it.id]) && macro.sd[it.id] > 0 ? macro.sd[it.id] : (it.max - it.min) / 4;
      let value = mMacro, sd = sdMacro;
      if (own.length > 0) {
        personal = true;
        const mOwn = own.reduce((s, v) => s + v, 0) / own.length;
        value = (own.length * mOwn + this.kappa * mMacro) / (own.length + this.kappa);
        if (own.length > 2) {
          const sdOwn = Math.sqrt(own.reduce((s, v) => s + (v - mOwn) ** 2, 0) / (own.length - 1));
          sd = (own.length * sdOwn + this.kappa * sdMacro) / (own.length + this.kappa);
        }
      }
      const clip = (v: number) => Math.min(it.max, Math.max(it.min, v));
      out[it.id] = { value: clip(value), lo: clip(value - 1.645 * sd), hi: clip(value + 1.645 * sd) };
    }
    return { kind: personal ? 'personalised' : 'macro', items: out };
  }
}
