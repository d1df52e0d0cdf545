/**
 * The generated signals of the committed openSMILE fixture (test/fixtures/egemaps-opensmile):
 * deterministic (seeded), 16 kHz, quantised to 16-bit WAV bytes, so that openSMILE (when the
 * fixture is regenerated, bench/speech/parity-fixture.ts) and the project (in the test) read the
 * same samples. No third-party audio.
 */
import { encodeWav16 } from '../../src/signal/wav.js';
import { synthesizeUtterance } from '../../src/synth/utterance.js';
import type { PersonParams } from '../../src/synth/params.js';
import { Rng } from '../../src/util/random.js';
import { vowel } from './speech-fixtures.js';

export const PARITY_FS = 16000;

/** Silence (seeded low noise) around x, so the signals have onsets, offsets and unvoiced frames. */
function pad(x: Float32Array, lead: number, trail: number, seed: number): Float32Array {
  const r = new Rng(seed);
  const a = Math.round(lead * PARITY_FS), b = Math.round(trail * PARITY_FS);
  const y = new Float32Array(a + x.length + b);
  for (let i = 0; i < y.length; i++) y[i] = r.normal(0, 3e-4);
  for (let i = 0; i < x.length; i++) y[a + i] += x[i];
  return y;
}

function utterance(seed: number, f0Hz: number, formantScale: number): Float32Array {
  // synthesizeUtterance reads only voice.formantScale from the person
  const person = { voice: { formantScale } } as unknown as PersonParams;
  return synthesizeUtterance({ f0Hz, jitter: 0.01, shimmerDb: 0.4, loudness: 1, rate: 4.5, intonationSt: 2, hnrDb: 18 }, person, new Rng(seed), PARITY_FS);
}

/** Name → 16-bit WAV bytes. */
export function paritySignals(): Array<{ name: string; wav: Uint8Array }> {
  const sig: Array<[string, Float32Array]> = [
    ['utterance-low', utterance(11, 115, 1)],
    ['utterance-high', utterance(23, 210, 0.85)],
    ['vowel-a-120', pad(vowel({ f0: 120, fs: PARITY_FS, seconds: 1.2, jitter: 0.005, shimmer: 0.05, seed: 3 }), 0.3, 0.3, 5)],
    ['vowel-i-230', pad(vowel({ f0: 230, fs: PARITY_FS, seconds: 1.0, formants: [[300, 60], [2300, 100], [3000, 150]], seed: 4 }), 0.25, 0.4, 6)],
    ['tone-noise', (() => {
      const r = new Rng(9); const n = 1.5 * PARITY_FS; const x = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const env = Math.min(1, i / 4000, (n - i) / 4000);
        x[i] = env * (0.2 * Math.sin(2 * Math.PI * 440 * i / PARITY_FS) + 0.05 * Math.sin(2 * Math.PI * 1870 * i / PARITY_FS)) + r.normal(0, 0.01);
      }
      return x;
    })()],
  ];
  return sig.map(([name, x]) => {
    let m = 0; for (const v of x) m = Math.max(m, Math.abs(v));
    const g = m > 0.9 ? 0.9 / m : 1; // keep clear of clipping
    return { name, wav: encodeWav16(g === 1 ? x : x.map((v) => v * g), PARITY_FS) };
  });
}
