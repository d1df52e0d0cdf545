/**
 * Energy-based voice activity detection (the fallback the issue asks for; it needs no model and
 * runs anywhere). Frames of 30 ms every 10 ms; a frame is speech when its level is above both
 *   noise floor (10th percentile of frame levels) + `marginDb`  and  loudest frame − `rangeDb`.
 * Speech runs shorter than `minSpeechMs` are dropped, gaps shorter than `hangoverMs` are bridged.
 */

export interface VadOptions {
  frameMs?: number;
  hopMs?: number;
  marginDb?: number;
  rangeDb?: number;
  minSpeechMs?: number;
  hangoverMs?: number;
  /** Silence kept around the trimmed speech (ms), so onsets are not cut (default 50). */
  padMs?: number;
}

export interface VadResult {
  /** Per-hop speech decision. */
  speech: Uint8Array;
  hopSeconds: number;
  /** Speech segments in samples [start, end). */
  segments: Array<[number, number]>;
}

export function detectVoiceActivity(x: Float32Array, sampleRate: number, opts: VadOptions = {}): VadResult {
  const frame = Math.round((opts.frameMs ?? 30) * sampleRate / 1000);
  const hop = Math.round((opts.hopMs ?? 10) * sampleRate / 1000);
  const margin = opts.marginDb ?? 9;
  const range = opts.rangeDb ?? 40;
  const nFrames = x.length < frame ? (x.length > 0 ? 1 : 0) : Math.floor((x.length - frame) / hop) + 1;
  const level = new Float64Array(nFrames);
  for (let f = 0; f < nFrames; f++) {
    let s = 0; const a = f * hop; const b = Math.min(x.length, a + frame);
    let m = 0;
    for (let i = a; i < b; i++) m += x[i];
    m /= Math.max(1, b - a);
    for (let i = a; i < b; i++) { const d = x[i] - m; s += d * d; }
    level[f] = 10 * Math.log10(s / Math.max(1, b - a) + 1e-12);
  }
  const sorted = Float64Array.from(level).sort();
  const floor = sorted[Math.floor(0.1 * (nFrames - 1))] ?? -120;
  const top = sorted[nFrames - 1] ?? -120;
  const thr = Math.max(floor + margin, top - range);
  const speech = new Uint8Array(nFrames);
  for (let f = 0; f < nFrames; f++) speech[f] = level[f] > thr ? 1 : 0;
  // Bridge short gaps, then drop short bursts.
  const hopMs = 1000 * hop / sampleRate;
  const hang = Math.round((opts.hangoverMs ?? 200) / hopMs);
  const minRun = Math.round((opts.minSpeechMs ?? 60) / hopMs);
  fillRuns(speech, 0, hang);
  fillRuns(speech, 1, minRun);
  const segments: Array<[number, number]> = [];
  for (let f = 0; f < nFrames;) {
    if (!speech[f]) { f++; continue; }
    let g = f; while (g < nFrames && speech[g]) g++;
    segments.push([f * hop, Math.min(x.length, (g - 1) * hop + frame)]);
    f = g;
  }
  return { speech, hopSeconds: hop / sampleRate, segments };
}

/** Set runs of `value` shorter than `maxLen` (not touching the ends when value is 0) to the other value. */
function fillRuns(a: Uint8Array, value: 0 | 1, maxLen: number): void {
  for (let i = 0; i < a.length;) {
    if (a[i] !== value) { i++; continue; }
    let j = i; while (j < a.length && a[j] === value) j++;
    const inner = value === 1 || (i > 0 && j < a.length);
    if (inner && j - i < maxLen) a.fill(1 - value, i, j);
    i = j;
  }
}

/** Cut leading and trailing silence (keeping `padMs` around the speech). Returns the input when no speech is found. */
export function trimSilence(x: Float32Array, sampleRate: number, opts: VadOptions = {}): { samples: Float32Array; start: number; end: number; speechFound: boolean } {
  const { segments } = detectVoiceActivity(x, sampleRate, opts);
  if (segments.length === 0) return { samples: x, start: 0, end: x.length, speechFound: false };
  const pad = Math.round((opts.padMs ?? 50) * sampleRate / 1000);
  const start = Math.max(0, segments[0][0] - pad);
  const end = Math.min(x.length, segments[segments.length - 1][1] + pad);
  return { samples: x.subarray(start, end), start, end, speechFound: true };
}
