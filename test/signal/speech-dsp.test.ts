import { describe, expect, it } from 'vitest';
import { resample } from '../../src/signal/speech/resample.js';
import { detectVoiceActivity, trimSilence } from '../../src/signal/speech/vad.js';
import { spectralSubtraction } from '../../src/signal/speech/denoise.js';
import { Rng } from '../../src/util/random.js';
import { rms, tone, vowel } from './speech-fixtures.js';

describe('resampler', () => {
  it('keeps a 1 kHz tone and removes a 7.9 kHz one (44.1 → 16 kHz), with the right length', () => {
    const x1 = tone(1000, 44100, 1), x2 = tone(7900, 44100, 1);
    const y1 = resample(x1, 44100, 16000), y2 = resample(x2, 44100, 16000);
    expect(y1.length).toBe(16000);
    expect(y2.length).toBe(16000);
    const mid = (y: Float32Array) => rms(y, 1000, 15000);
    expect(mid(y1) / rms(x1)).toBeGreaterThan(0.99);
    expect(mid(y1) / rms(x1)).toBeLessThan(1.01);
    // 7.9 kHz is above the new passband: attenuated by more than 40 dB
    expect(20 * Math.log10(mid(y2) / rms(x2))).toBeLessThan(-40);
    // the kept tone is still a clean 1 kHz sine: compare with the ideal one sample by sample
    let err = 0; for (let i = 1000; i < 15000; i++) err = Math.max(err, Math.abs(y1[i] - 0.5 * Math.sin(2 * Math.PI * 1000 * i / 16000)));
    expect(err).toBeLessThan(0.005);
  });

  it('works for other ratios (22.05 → 16, 48 → 16, 8 → 16 kHz, and an odd rate)', () => {
    for (const [a, b] of [[22050, 16000], [48000, 16000], [8000, 16000], [11111, 16000]]) {
      const x = tone(500, a, 0.5);
      const y = resample(x, a, b);
      expect(y.length).toBe(Math.round(x.length * b / a));
      expect(rms(y, 500, y.length - 500) / rms(x)).toBeCloseTo(1, 2);
    }
  });
});

describe('voice activity detection', () => {
  const fs = 16000;
  const rng = new Rng(3);
  const speech = vowel({ f0: 130, fs, seconds: 0.8 });
  const noise = (n: number) => Float32Array.from({ length: n }, () => rng.normal(0, 0.001));
  const x = new Float32Array(fs * 2);
  x.set(noise(fs * 2));
  for (let i = 0; i < speech.length; i++) x[fs * 0.6 + i] += speech[i];

  it('finds the speech and cuts leading and trailing silence', () => {
    const r = trimSilence(x, fs, { padMs: 0 });
    expect(r.speechFound).toBe(true);
    expect(Math.abs(r.start - 0.6 * fs)).toBeLessThan(0.04 * fs);
    expect(Math.abs(r.end - 1.4 * fs)).toBeLessThan(0.04 * fs);
    expect(r.samples.length).toBeLessThan(0.9 * fs);
  });

  it('reports no speech in noise alone', () => {
    const v = detectVoiceActivity(noise(fs), fs);
    expect(v.segments.length).toBeLessThanOrEqual(1);
    const t = trimSilence(new Float32Array(fs), fs);
    expect(t.speechFound).toBe(false);
  });
});

describe('denoising (spectral subtraction)', () => {
  it('raises the signal-to-noise ratio of a noisy vowel and keeps its length', () => {
    const fs = 16000; const rng = new Rng(5);
    const clean = vowel({ f0: 150, fs, seconds: 1.5 });
    // silence around the vowel lets the noise estimate find noise-only frames
    const pad = fs / 2; const n = clean.length + 2 * pad;
    const cleanP = new Float32Array(n); cleanP.set(clean, pad);
    const noisy = Float32Array.from(cleanP, (v) => v + rng.normal(0, 0.02));
    const den = spectralSubtraction(noisy, fs);
    expect(den.length).toBe(n);
    const snr = (y: Float32Array) => { let s = 0, e = 0; for (let i = 0; i < n; i++) { s += cleanP[i] ** 2; e += (y[i] - cleanP[i]) ** 2; } return 10 * Math.log10(s / e); };
    expect(snr(den)).toBeGreaterThan(snr(noisy) + 3);
  });
});
