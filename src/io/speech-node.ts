/**
 * Node-side speech helpers: read an audio file (WAV decoded in TypeScript; other formats through
 * `ffmpeg` when it is on PATH), hash it for the feature cache, and run the browser-safe pipeline.
 */
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { sniffContainer } from '../signal/wav.js';
import { speechFeaturesFromWav, type PipelineOptions } from '../signal/speech/pipeline.js';

/** Bump when the features change, so cached results are recomputed. */
export const SPEECH_FEATURES_VERSION = 'egemaps-ts-9-decided-f0';

export type FileFeatures =
  | { ok: true; functionals: Record<string, number>; lld: { names: string[]; hopSeconds: number; frames: number[][] }; seconds: number; speechSeconds: number; warnings: string[] }
  | { ok: false; reason: string; message: string };

let ffmpegChecked: boolean | null = null;
export function ffmpegAvailable(): boolean {
  if (ffmpegChecked === null) {
    const r = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    ffmpegChecked = !r.error && r.status === 0;
  }
  return ffmpegChecked;
}

/**
 * ffmpeg's arguments to decode the first audio stream of `input` to 16-bit mono WAV at `output`
 * ("-" = stdout), resampled to `rate` Hz when given. Used here and by the server's upload decoding.
 */
export function ffmpegWavArgs(input: string, output: string, rate?: number): string[] {
  return ['-v', 'error', '-nostdin', '-y', '-i', input, '-map', '0:a:0', '-ac', '1', ...(rate ? ['-ar', String(rate)] : []), '-acodec', 'pcm_s16le', '-f', 'wav', output];
}

/** Convert any audio file to 16-bit mono WAV bytes with ffmpeg; throws a clear error when ffmpeg is missing. */
export function ffmpegToWav(path: string): Uint8Array {
  if (!ffmpegAvailable()) {
    throw new Error(`cannot decode ${path}: it is not a WAV file and ffmpeg is not on PATH (install ffmpeg, or convert the file to WAV)`);
  }
  const r = spawnSync('ffmpeg', ffmpegWavArgs(path, '-'), { maxBuffer: 1 << 30 });
  if (r.error || r.status !== 0) throw new Error(`ffmpeg could not decode ${path}: ${r.stderr?.toString().trim() || r.error?.message}`);
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
}

/** The bytes of a recording as WAV: WAV files as they are, anything else through ffmpeg. */
export function readAsWav(path: string): Uint8Array {
  const buf = readFileSync(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const kind = sniffContainer(bytes);
  if (kind === 'wav' || bytes.length < 12 || (kind === 'unknown' && extname(path).toLowerCase() === '.wav')) return bytes;
  return ffmpegToWav(path);
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).update(SPEECH_FEATURES_VERSION).digest('hex');
}

/** Features of one file as plain JSON (for the cache and for worker messages). */
export function featuresForFile(path: string, opts: PipelineOptions = {}): FileFeatures {
  if (!existsSync(path)) return { ok: false, reason: 'missing', message: `file not found: ${path}` };
  let bytes: Uint8Array;
  try { bytes = readAsWav(path); } catch (e) { return { ok: false, reason: 'undecodable', message: (e as Error).message }; }
  const r = speechFeaturesFromWav(bytes, opts);
  if (!r.ok) return r;
  return {
    ok: true,
    functionals: r.features.functionals,
    lld: { names: [...r.features.lld.names], hopSeconds: r.features.lld.hopSeconds, frames: r.features.lld.frames.map((f) => Array.from(f, (v) => Math.round(v * 1e5) / 1e5)) },
    seconds: r.seconds, speechSeconds: r.speechSeconds, warnings: r.warnings,
  };
}
