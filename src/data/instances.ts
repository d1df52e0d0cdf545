/**
 * The one instance builder (SPEC §1): what a report becomes as a model input, for the study-folder
 * builder (build.ts: training, `moodlens predict`) and for the server (one report at a time, and
 * the participant's earlier reports for the history modality and personalisation):
 *   labels   each item's answer scaled to [0,1] by the item's min/max (NaN = not answered),
 *            and back to the item's scale for a prediction;
 *   activity the W epochs before the report, channel-major, NaN = missing (activity.ts's extractWindow);
 *   masks    an activity channel counts when its whole window is present, speech when every feature
 *            is a number;
 *   history  the features of the participant's earlier-answered reports (history.ts), computed on
 *            the Dataset these rows make.
 * Pure; browser-safe.
 */
import type { Dataset } from './dataset.js';
import type { Item } from './study.js';
import { extractWindow, type ActivitySeries } from './activity.js';

/** label = (answer − min) / (max − min) ∈ [0,1]; NaN stays NaN (not answered). */
export const scaleLabel = (it: Pick<Item, 'min' | 'max'>, answer: number): number => (answer - it.min) / (it.max - it.min);
/** The inverse: a prediction on the [0,1] label scale in the item's own units. */
export const unscaleLabel = (it: Pick<Item, 'min' | 'max'>, y: number): number => it.min + y * (it.max - it.min);

/** 1 when all W epochs of channel c of the window at `offset` (channel-major) are present. */
export function channelPresent(activity: ArrayLike<number>, offset: number, c: number, W: number): number {
  for (let t = 0; t < W; t++) if (!Number.isFinite(activity[offset + c * W + t])) return 0;
  return 1;
}

/** 1 when the report has speech features and every one is a number. */
export const speechPresent = (s: ArrayLike<number> | null | undefined): number => {
  if (!s || s.length === 0) return 0;
  for (let f = 0; f < s.length; f++) if (!Number.isFinite(s[f])) return 0;
  return 1;
};

/** The C × W activity window before time t (channel-major, NaN = missing) from a participant's epochs. */
export function activityWindow(series: ActivitySeries | undefined, C: number, t: number, epochMs: number, W: number): Float32Array {
  const out = new Float32Array(C * W);
  extractWindow(series, C, t, epochMs, W, out, 0);
  return out;
}

/** One report of one participant, as the server holds it. */
export interface ReportInstance {
  timeMs: number;
  localHour: number;
  /** Item id → answer in item units (empty for the report being predicted). */
  values: Record<string, number>;
  /** C × W, channel-major, NaN = missing epoch. */
  activity: Float32Array;
  /** Speech features in the model's order (NaN = missing), or null. */
  speech: Float32Array | null;
}

/** What every instance of a model has: its items, activity channels, window length and speech features. */
export type InstanceShape = Pick<Dataset, 'items' | 'channels' | 'windowEpochs' | 'speechFeatures'>;

/** A Dataset of `rows` instances of one participant (labels NaN where not answered). */
export function instancesDataset(participantId: string, rows: ReportInstance[], shape: InstanceShape): Dataset {
  const { items, channels, windowEpochs: W, speechFeatures } = shape;
  const n = rows.length, K = items.length, C = channels.length, F = speechFeatures.length, M = C + 1;
  const labels = new Float32Array(n * K).fill(NaN);
  const activity = new Float32Array(n * C * W);
  const speech = new Float32Array(n * F).fill(NaN);
  const mask = new Uint8Array(n * M);
  rows.forEach((r, i) => {
    items.forEach((it, k) => { const v = r.values[it.id]; if (Number.isFinite(v)) labels[i * K + k] = scaleLabel(it, v); });
    activity.set(r.activity, i * C * W);
    for (let c = 0; c < C; c++) mask[i * M + c] = channelPresent(r.activity, 0, c, W);
    if (r.speech && F > 0 && r.speech.length === F) { speech.set(r.speech, i * F); mask[i * M + C] = speechPresent(r.speech); }
  });
  return {
    items, channels, windowEpochs: W, speechFeatures,
    participantIds: [participantId], n, participant: new Int32Array(n), reportIds: rows.map((_, i) => `r${i}`),
    time: Float64Array.from(rows, (r) => r.timeMs), localHour: Float32Array.from(rows, (r) => r.localHour), trigger: rows.map(() => 'scheduled'),
    labels, activity, speech, modalityMask: mask,
  };
}

/**
 * The report to predict as the last instance of a Dataset, after the participant's reports
 * answered strictly before it (the latest `limit`; only their answers and times: what its history
 * features read).
 */
export function reportWithHistory(participantId: string, report: ReportInstance, earlier: { timeMs: number; values: Record<string, number> }[],
  shape: InstanceShape, limit = Infinity): Dataset {
  const noWindow = new Float32Array(shape.channels.length * shape.windowEpochs).fill(NaN);
  const before = earlier.filter((h) => h.timeMs < report.timeMs).slice(-limit)
    .map((h) => ({ timeMs: h.timeMs, localHour: 0, values: h.values, activity: noWindow, speech: null }));
  return instancesDataset(participantId, [...before, report], shape);
}
