/**
 * Real-time factor (audio seconds per second of compute) of the speech chain on EmoDB, one core.
 *   npx tsx bench/speech/rtf.ts [N files]
 * Compute time is the process's CPU time (user + system): the 2-core machine is shared with other
 * jobs, so wall time is also printed but is noisy.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav } from '../../src/signal/wav.js';
import { resample } from '../../src/signal/speech/resample.js';
import { extractEgemaps } from '../../src/signal/speech/egemaps.js';
import { speechFeaturesFromWav } from '../../src/signal/speech/pipeline.js';
import { spectralSubtraction } from '../../src/signal/speech/denoise.js';
import { trimSilence } from '../../src/signal/speech/vad.js';

const dir = join(process.cwd(), '..', 'shared', 'data', 'emodb', 'wav');
if (!existsSync(dir)) { console.log(`EmoDB not found at ${dir}: skipped`); process.exit(0); }
const n = Number(process.argv[2] ?? 535);
const files = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort().slice(0, n);
const bytes = files.map((f) => new Uint8Array(readFileSync(join(dir, f))));
const wavs = bytes.map((b) => decodeWav(b));
const seconds = wavs.reduce((s, w) => s + w.mono.length / w.sampleRate, 0);
const at16 = wavs.map((w) => resample(w.mono, w.sampleRate, 16000));

function time(label: string, fn: () => void): void {
  fn(); // warm-up pass on the first files is included in fn's loop; run once fully first
  const c0 = process.cpuUsage(); const t0 = performance.now();
  fn();
  const cu = process.cpuUsage(c0); const cpu = (cu.user + cu.system) / 1e6; const wall = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(44)} ${(seconds / cpu).toFixed(0).padStart(6)}× real time (CPU ${cpu.toFixed(2)} s; wall ${wall.toFixed(2)} s → ${(seconds / wall).toFixed(0)}×)`);
}

console.log(`${files.length} EmoDB files, ${seconds.toFixed(1)} s of audio at ${wavs[0].sampleRate} Hz`);
time('decode WAV', () => { for (const b of bytes) decodeWav(b); });
time('resample 22.05 → 16 kHz', () => { for (const w of wavs) resample(w.mono, w.sampleRate, 16000); });
time('energy VAD (trim)', () => { for (const x of at16) trimSilence(x, 16000); });
time('denoise (spectral subtraction)', () => { for (const x of at16) spectralSubtraction(x, 16000); });
time('eGeMAPS alone, 16 kHz', () => { for (const x of at16) extractEgemaps(x, 16000); });
time('eGeMAPS alone, 22.05 kHz (as recorded)', () => { for (const w of wavs) extractEgemaps(w.mono, w.sampleRate); });
time('whole pipeline (decode→16 kHz→VAD→eGeMAPS)', () => { for (const b of bytes) speechFeaturesFromWav(b); });
time('whole pipeline with denoising', () => { for (const b of bytes) speechFeaturesFromWav(b, { denoise: true }); });
