/**
 * The speech limits the worker applies before decoding (docs/security.md, "Limits"): a
 * recording's duration and sample count, read from its WAV header.
 */
import { parseWavHeader } from '../../signal/wav.js';

/** Why a recording is too long to analyse, from its header; null when it is within the limits (or has no usable header: the pipeline says why). */
export function tooLong(bytes: Uint8Array, maxSeconds: number, maxSamples: number): string | null {
  let h: ReturnType<typeof parseWavHeader>;
  try { h = parseWavHeader(bytes.subarray(0, 64 * 1024)); } catch { return null; }
  const frames = Math.floor(Math.min(h.declaredBytes, bytes.length - h.dataOffset) / h.fmt.blockAlign);
  const seconds = frames / h.fmt.sampleRate, samples = frames * h.fmt.channels;
  if (seconds > maxSeconds) return `recording of ${seconds.toFixed(0)} s is longer than the limit of ${maxSeconds} s (--speech-max-seconds)`;
  if (samples > maxSamples) return `recording of ${samples} samples has more than the limit of ${maxSamples} (--speech-max-samples)`;
  return null;
}
