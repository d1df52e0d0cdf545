/**
 * Server-side instances in the model's terms (SPEC §1): a report's activity window and speech
 * features as a one-participant Dataset (for the tfjs path and for personalisation), with the
 * same masks the study-folder loader gives (a channel counts when its whole window is present;
 * speech when every feature is a number).
 */
import type { Dataset } from '../../data/dataset.js';
import type { Item } from '../../data/study.js';

export interface ServerInstance {
  timeMs: number;
  localHour: number;
  /** Item id → answer in item units (empty for the instance being predicted). */
  values: Record<string, number>;
  /** C × W, channel-major, NaN = missing epoch. */
  activity: Float32Array;
  /** Speech features in the model's order (NaN = missing), or null. */
  speech: Float32Array | null;
}

/** 1 per channel whose W epochs are all present. */
export function channelMask(activity: Float32Array, C: number, W: number): Uint8Array {
  const m = new Uint8Array(C);
  for (let c = 0; c < C; c++) {
    let whole = 1;
    for (let t = 0; t < W; t++) if (!Number.isFinite(activity[c * W + t])) { whole = 0; break; }
    m[c] = whole;
  }
  return m;
}

export const speechPresent = (s: Float32Array | null): number => (s && s.length > 0 && s.every((v) => Number.isFinite(v)) ? 1 : 0);

/** A Dataset of `rows` instances of one participant (labels NaN where not answered). */
export function instancesDataset(participantId: string, rows: ServerInstance[], items: Item[], channels: string[], W: number, speechFeatures: string[]): Dataset {
  const n = rows.length, K = items.length, C = channels.length, F = speechFeatures.length;
  const labels = new Float32Array(n * K).fill(NaN);
  const activity = new Float32Array(n * C * W);
  const speech = new Float32Array(n * F).fill(NaN);
  const mask = new Uint8Array(n * (C + 1));
  rows.forEach((r, i) => {
    items.forEach((it, k) => { const v = r.values[it.id]; if (Number.isFinite(v)) labels[i * K + k] = (v - it.min) / (it.max - it.min); });
    activity.set(r.activity, i * C * W);
    mask.set(channelMask(r.activity, C, W), i * (C + 1));
    if (r.speech && F > 0 && r.speech.length === F) { speech.set(r.speech, i * F); mask[i * (C + 1) + C] = speechPresent(r.speech); }
  });
  return {
    items, channels, windowEpochs: W, speechFeatures,
    participantIds: [participantId], n, participant: new Int32Array(n), reportIds: rows.map((_, i) => `r${i}`),
    time: Float64Array.from(rows, (r) => r.timeMs), localHour: Float32Array.from(rows, (r) => r.localHour), trigger: rows.map(() => 'scheduled'),
    labels, activity, speech, modalityMask: mask,
  };
}
