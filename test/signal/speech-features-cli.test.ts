import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeStudyFeatures } from '../../src/io/speech-study.js';
import { encodeWav } from '../../src/signal/wav.js';
import { EGEMAPS_NAMES } from '../../src/signal/speech/egemaps.js';
import { InputError } from '../../src/util/errors.js';
import { ffmpegAvailable } from '../../src/io/speech-node.js';
import { vowel } from './speech-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'moodlens-speech-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fs = 16000;

function recording(f0: number, rate = fs): Float32Array {
  // 0.3 s silence, 1 s vowel, 0.3 s silence
  const v = vowel({ f0, fs: rate, seconds: 1 });
  const x = new Float32Array(v.length + Math.round(0.6 * rate)); x.set(v, Math.round(0.3 * rate));
  return x;
}

describe('moodlens features', () => {
  writeFileSync(join(dir, 'a.wav'), encodeWav([recording(110)], fs));
  writeFileSync(join(dir, 'b.wav'), encodeWav([recording(220), recording(220)], fs, { bits: 24 }));
  writeFileSync(join(dir, 'c.wav'), encodeWav([recording(160, 22050)], 22050, { format: 3 }));
  writeFileSync(join(dir, 'silent.wav'), encodeWav([new Float32Array(fs)], fs));
  const good = encodeWav([recording(150)], fs);
  writeFileSync(join(dir, 'cut.wav'), good.subarray(0, good.length - 5000));
  writeFileSync(join(dir, 'voice.mp3'), new Uint8Array([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
  writeFileSync(join(dir, 'speech.csv'), 'report_id,file\nr1,a.wav\nr2,b.wav\nr3,c.wav\nr4,silent.wav\nr5,cut.wav\nr6,missing.wav\nr7,voice.mp3\n');

  it('writes speech_features.csv (report_id + 88) for the usable recordings and lists the rejected ones with reasons', async () => {
    const s = await computeStudyFeatures(dir, { quiet: true, workers: 1, lld: join(dir, 'lld') });
    expect(s.total).toBe(7);
    expect(s.ok).toBe(3);
    const reasons = Object.fromEntries(s.rejected.map((r) => [r.report_id, r.reason]));
    expect(reasons).toEqual({ r4: 'silent', r5: 'truncated', r6: 'missing', r7: ffmpegAvailable() ? expect.any(String) : 'undecodable' });
    if (!ffmpegAvailable()) expect(s.rejected.find((r) => r.report_id === 'r7')!.message).toMatch(/ffmpeg is not on PATH/);
    const lines = readFileSync(join(dir, 'speech_features.csv'), 'utf8').trim().split('\n');
    expect(lines[0].split(',')).toEqual(['report_id', ...EGEMAPS_NAMES]);
    expect(lines.map((l) => l.split(',')[0]).slice(1)).toEqual(['r1', 'r2', 'r3']);
    const f0 = lines.slice(1).map((l) => Number(l.split(',')[1]));
    // semitones from 27.5 Hz of 110, 220, 160 Hz
    expect(f0[0]).toBeCloseTo(24, 0); expect(f0[1]).toBeCloseTo(36, 0); expect(f0[2]).toBeCloseTo(12 * Math.log2(160 / 27.5), 0);
    for (const l of lines.slice(1)) for (const v of l.split(',').slice(1)) expect(Number.isFinite(Number(v))).toBe(true);
    const rej = readFileSync(join(dir, 'speech_rejected.csv'), 'utf8');
    expect(rej).toMatch(/^report_id,file,reason,message/);
    expect(rej).toMatch(/r4,silent.wav,silent,/);
    // frame-level descriptors, 10 ms apart; parity mode (the default) keeps the whole recording
    // (the VAD, which cut most of the 0.6 s of silence, is now the --vad option)
    expect(readdirSync(join(dir, 'lld')).sort()).toEqual(['r1.csv', 'r2.csv', 'r3.csv']);
    const lld = readFileSync(join(dir, 'lld', 'r1.csv'), 'utf8').trim().split('\n');
    expect(lld[0].split(',').length).toBe(26);
    expect(lld.length - 1).toBeGreaterThan(150);
    expect(lld.length - 1).toBeLessThan(165);
  });

  it('reuses the cache on a second run and gives the same numbers', async () => {
    const before = readFileSync(join(dir, 'speech_features.csv'), 'utf8');
    const s = await computeStudyFeatures(dir, { quiet: true, workers: 1 });
    expect(s.cached).toBe(6);
    expect(readFileSync(join(dir, 'speech_features.csv'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, '.cache', 'speech'))).toBe(true);
  });

  it('names file and line of a bad speech.csv', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'moodlens-speech-bad-'));
    writeFileSync(join(bad, 'speech.csv'), 'report_id,file\nr1,a.wav\n,b.wav\n');
    await expect(computeStudyFeatures(bad, { quiet: true })).rejects.toThrow(InputError);
    await expect(computeStudyFeatures(bad, { quiet: true })).rejects.toThrow(/speech.csv:3:1: report_id: report_id is empty/);
    writeFileSync(join(bad, 'speech.csv'), 'id,path\nr1,a.wav\n');
    await expect(computeStudyFeatures(bad, { quiet: true })).rejects.toThrow(/missing column "report_id"/);
    rmSync(bad, { recursive: true, force: true });
  });
});

describe('moodlens features flags', () => {
  it('checks --workers with a clear message', async () => {
    const { parseFlags } = await import('../../src/util/flags.js');
    const { FeaturesFlags } = await import('../../src/cli/commands/features.js');
    expect(parseFlags(FeaturesFlags, { workers: '3' }).workers).toBe(3);
    expect(() => parseFlags(FeaturesFlags, { workers: 'two' }, 'features')).toThrow(/features: --workers: /);
    expect(() => parseFlags(FeaturesFlags, { workers: '0' }, 'features')).toThrow(/--workers/);
  });
});
