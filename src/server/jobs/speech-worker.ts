/**
 * Worker thread that computes the eGeMAPS v02 functionals of uploaded recordings off the
 * server's event loop (speech-extractor.ts is its server side). Reads the stored WAV and runs the
 * same browser-safe pipeline as `moodlens features` (decode + cleanse → 16 kHz → VAD → eGeMAPS),
 * so a recording gives the features the offline command gives, or its rejection reason.
 *
 * A recording longer than `maxSeconds` or with more than `maxSamples` samples (frames ×
 * channels) is rejected from its header, before anything is decoded (reason "too-long").
 *
 * Messages in:  {id, wav, maxSeconds?, maxSamples?} (the recording's bytes, opened by the server thread: stored
 *               recordings are sealed at rest) | {id, path} (a plaintext file: the benchmark)
 * Messages out: {ready: true} | {id, ok: true, functionals, ms} | {id, ok: false, reason, message, ms}
 */
import { parentPort } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { speechFeaturesFromWav } from '../../signal/speech/pipeline.js';
import { tooLong } from './speech-limits.js';

export type ExtractRequest = ({ id: number; wav: ArrayBuffer } | { id: number; path: string }) & { maxSeconds?: number; maxSamples?: number };
export type ExtractResult =
  | { id: number; ok: true; functionals: Record<string, number>; ms: number }
  | { id: number; ok: false; reason: string; message: string; ms: number };

const port = parentPort!;
port.on('message', (m: ExtractRequest) => {
  const t0 = performance.now();
  let out: ExtractResult;
  try {
    const bytes = 'wav' in m ? new Uint8Array(m.wav) : (() => { const b = readFileSync(m.path); return new Uint8Array(b.buffer, b.byteOffset, b.byteLength); })();
    const long = tooLong(bytes, m.maxSeconds ?? Infinity, m.maxSamples ?? Infinity);
    if (long) {
      port.postMessage({ id: m.id, ok: false, reason: 'too-long', message: long, ms: performance.now() - t0 } satisfies ExtractResult);
      return;
    }
    const r = speechFeaturesFromWav(bytes);
    out = r.ok
      ? { id: m.id, ok: true, functionals: r.features.functionals, ms: performance.now() - t0 }
      : { id: m.id, ok: false, reason: r.reason, message: r.message, ms: performance.now() - t0 };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    out = { id: m.id, ok: false, reason: code === 'ENOENT' ? 'missing' : 'error', message: e instanceof Error ? e.message : String(e), ms: performance.now() - t0 };
  }
  port.postMessage(out);
});
port.postMessage({ ready: true });
