import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav, encodeWav16, WavError } from '../../src/signal/wav.js';
import { cleanseWav, cleanseSamples } from '../../src/signal/speech/cleanse.js';
import { tone } from './speech-fixtures.js';

const fs = 16000;
const sig = tone(440, fs, 0.6, 0.5);
const maxErr = (a: Float32Array, b: Float32Array) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

describe('WAV decoding', () => {
  const cases: Array<{ name: string; format: 1 | 3; bits: number; tol: number; extensible?: boolean }> = [
    { name: 'PCM 8-bit', format: 1, bits: 8, tol: 1 / 128 },
    { name: 'PCM 16-bit', format: 1, bits: 16, tol: 1 / 32768 },
    { name: 'PCM 24-bit', format: 1, bits: 24, tol: 1 / 8388608 },
    { name: 'PCM 32-bit', format: 1, bits: 32, tol: 1e-7 },
    { name: 'float 32', format: 3, bits: 32, tol: 1e-7 },
    { name: 'float 64', format: 3, bits: 64, tol: 1e-7 },
    { name: 'EXTENSIBLE PCM 24-bit', format: 1, bits: 24, tol: 1 / 8388608, extensible: true },
    { name: 'EXTENSIBLE float 32', format: 3, bits: 32, tol: 1e-7, extensible: true },
  ];
  for (const c of cases) {
    it(`decodes ${c.name}`, () => {
      const w = decodeWav(encodeWav([sig], fs, { format: c.format, bits: c.bits, extensible: c.extensible }));
      expect(w.sampleRate).toBe(fs);
      expect(w.channels).toBe(1);
      expect(w.bitsPerSample).toBe(c.bits);
      expect(w.format).toBe(c.format);
      expect(w.mono.length).toBe(sig.length);
      expect(maxErr(w.mono, sig)).toBeLessThanOrEqual(c.tol);
    });
  }

  it('decodes the project encoder encodeWav16', () => {
    const w = decodeWav(encodeWav16(sig, 22050));
    expect(w.sampleRate).toBe(22050);
    expect(maxErr(w.mono, sig)).toBeLessThan(1 / 32000);
  });

  it('mixes stereo down to the mean of the channels', () => {
    const left = tone(300, fs, 0.2, 0.4), right = new Float32Array(left.length).fill(0.2);
    const w = decodeWav(encodeWav([left, right], fs, { bits: 16 }));
    expect(w.channels).toBe(2);
    expect(w.channelData[1][100]).toBeCloseTo(0.2, 4);
    expect(w.mono[123]).toBeCloseTo((left[123] + 0.2) / 2, 4);
  });

  it('skips unknown chunks before the data chunk (LIST)', () => {
    const plain = encodeWav([sig], fs);
    const list = new Uint8Array([...'LIST'].map((c) => c.charCodeAt(0)).concat([6, 0, 0, 0, 1, 2, 3, 4, 5, 6]));
    const withList = new Uint8Array(plain.length + list.length);
    withList.set(plain.subarray(0, 36)); withList.set(list, 36); withList.set(plain.subarray(36), 36 + list.length);
    new DataView(withList.buffer).setUint32(4, withList.length - 8, true);
    expect(decodeWav(withList).mono.length).toBe(sig.length);
  });

  const code = (bytes: Uint8Array) => { try { decodeWav(bytes); return 'ok'; } catch (e) { expect(e).toBeInstanceOf(WavError); return (e as WavError).code + ': ' + (e as Error).message; } };
  it('rejects bad headers with a clear error', () => {
    const good = encodeWav([sig], fs);
    expect(code(new Uint8Array(0))).toMatch(/^truncated/);
    expect(code(new TextEncoder().encode('OggS\0\0\0\0\0\0\0\0\0\0'))).toMatch(/^not-wav: .*ogg/);
    const badAlign = good.slice(); new DataView(badAlign.buffer).setUint16(32, 3, true);
    expect(code(badAlign)).toMatch(/^malformed: block align/);
    const adpcm = good.slice(); new DataView(adpcm.buffer).setUint16(20, 2, true);
    expect(code(adpcm)).toMatch(/^unsupported: WAV codec 0x2/);
    const bits12 = good.slice(); const v = new DataView(bits12.buffer); v.setUint16(34, 12, true);
    expect(code(bits12)).toMatch(/^unsupported: 12-bit/);
    expect(code(good.subarray(0, 30))).toMatch(/^truncated/);
    expect(code(good.subarray(0, good.length - 100))).toMatch(/^truncated: data chunk declares/);
    expect(decodeWav(good.subarray(0, good.length - 100), { allowTruncated: true }).mono.length).toBe(sig.length - 50);
  });
});

describe('data cleansing', () => {
  const reason = (bytes: Uint8Array) => { const r = cleanseWav(bytes); return r.ok ? 'ok' : r.reason; };
  it('accepts a normal recording', () => { expect(reason(encodeWav([sig], fs))).toBe('ok'); });
  it('rejects empty, truncated, too short, silent, clipped and not-finite recordings with a reason', () => {
    expect(reason(new Uint8Array(0))).toBe('empty');
    expect(reason(encodeWav([new Float32Array(0)], fs))).toBe('empty');
    const good = encodeWav([sig], fs);
    expect(reason(good.subarray(0, good.length - 1000))).toBe('truncated');
    expect(reason(encodeWav([tone(440, fs, 0.1)], fs))).toBe('too-short');
    expect(reason(encodeWav([tone(440, fs, 1, 0.0001)], fs))).toBe('silent');
    expect(reason(encodeWav([new Float32Array(fs)], fs))).toBe('silent');
    expect(reason(encodeWav([tone(440, fs, 1, 3)], fs))).toBe('clipped');
    const nan = tone(440, fs, 1); nan[500] = NaN;
    expect(reason(encodeWav([nan], fs, { format: 3 }))).toBe('not-finite');
    expect(reason(new TextEncoder().encode('ID3\u0004xxxxxxxxxxxxxx'))).toBe('not-wav');
  });
  it('names the first non-finite sample and counts clipped samples in every chunk of the pass', () => {
    // the pass runs in chunks of 4096 samples: a sample far into the recording, and the first of two
    const x = tone(440, fs, 1, 0.5); x[9000] = Infinity; x[12000] = NaN;
    const r = cleanseSamples(x, fs);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe('sample 9000 is Infinity');
    // 2 % of the samples at full scale, all after the first chunk: rejected (limit 1 %), and 0.5 % accepted with a warning
    const y = tone(440, fs, 1, 0.5); for (let i = 0; i < 320; i++) y[8192 + i] = 1;
    const c = cleanseSamples(y, fs);
    expect(c.ok ? 'ok' : c.message).toMatch(/^2\.00 % of samples are at full scale/);
    const z = tone(440, fs, 1, 0.5); for (let i = 0; i < 80; i++) z[fs - 1 - i] = -1;
    const w = cleanseSamples(z, fs);
    expect(w.ok && w.warnings).toEqual(['80 samples at full scale']);
  });
  it('says why in the message', () => {
    const r = cleanseSamples(tone(440, fs, 1, 3), fs);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/% of samples are at full scale/);
  });
});
