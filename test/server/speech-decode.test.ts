/**
 * Speech uploads in formats other than WAV: decoded by ffmpeg when the server has it (--ffmpeg),
 * refused with a message naming the option when it has not. Needs an ffmpeg binary
 * (scripts/setup-services.sh installs Debian's); skipped with a message without one.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav16, parseWavHeader } from '../../src/signal/wav.js';
import { buildServer } from '../../src/server/server.js';
import { openFile } from '../../src/server/storage/sealed-files.js';
import { ADMIN, reportBody, setupStudy, startHarness, type Harness } from './helpers.js';

const FFMPEG = process.env.MOODLENS_TEST_FFMPEG ?? 'ffmpeg'; // found on PATH
const HAVE_FFMPEG = (() => { try { execFileSync(FFMPEG, ['-version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
if (!HAVE_FFMPEG) console.warn(`speech decode tests: no ffmpeg at ${FFMPEG} — skipped (apt-get install ffmpeg, or run scripts/setup-services.sh)`);

/** A 1.2 s 220 Hz tone at 44.1 kHz stereo, encoded by ffmpeg into `format` (as a phone would send it). */
function encoded(dir: string, ext: string, args: string[]): Buffer {
  const rate = 44100, x = new Float32Array(Math.round(1.2 * rate));
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate);
  const wav = join(dir, 'tone.wav'), out = join(dir, `tone.${ext}`);
  writeFileSync(wav, encodeWav16(x, rate));
  execFileSync(FFMPEG, ['-nostdin', '-loglevel', 'error', '-y', '-i', wav, '-ac', '2', ...args, out]);
  return readFileSync(out);
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]);
}

describe.skipIf(!HAVE_FFMPEG)('speech uploads in other formats (ffmpeg)', () => {
  let withFf: Harness, without: Harness, work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'moodlens-ff-'));
    withFf = await startHarness('sqlite', { ffmpeg: FFMPEG });
    without = await startHarness('sqlite');
  });
  afterAll(async () => { await withFf?.close(); await without?.close(); rmSync(work, { recursive: true, force: true }); });

  const upload = async (h: Harness, tok: string, id: string, body: Buffer, type: string) => {
    await h.req('POST', '/me/reports', { token: tok, body: reportBody(id, new Date(Date.now() - 60_000).toISOString()) });
    return h.req('PUT', `/me/reports/${id}/speech`, { token: tok, payload: body, headers: { 'content-type': type } });
  };

  it('decodes m4a (AAC) and Ogg/Opus to 16 kHz mono WAV; a retried upload is recognised by its original bytes', async () => {
    const s = await setupStudy(withFf);
    const tok = await s.enrol('F01');
    const m4a = encoded(work, 'm4a', ['-c:a', 'aac', '-b:a', '64k']);
    const r = await upload(withFf, tok, 'f-1', m4a, 'audio/mp4');
    expect(r.status, r.body).toBe(201);
    expect(r.json.durationS).toBeGreaterThan(1.1);
    expect(r.json.durationS).toBeLessThan(1.35); // AAC adds priming samples, no more
    const stored = files(join(withFf.backend.dataDir, 'speech')).filter((f) => f.endsWith('.wav'));
    expect(stored).toHaveLength(1);
    const bytes = await openFile(withFf.server.store.keys, stored[0]); // sealed at rest
    const { fmt, declaredBytes } = parseWavHeader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    expect([fmt.sampleRate, fmt.channels, fmt.bitsPerSample]).toEqual([16000, 1, 16]);
    expect(r.json.bytes).toBe(bytes.length);
    expect(declaredBytes / 2 / 16000).toBeCloseTo(r.json.durationS, 5);
    const again = await withFf.req('PUT', '/me/reports/f-1/speech', { token: tok, payload: m4a, headers: { 'content-type': 'audio/mp4' } });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ duplicate: true, sha256: r.json.sha256 });
    const opus = encoded(work, 'ogg', ['-c:a', 'libopus', '-b:a', '32k']);
    const o = await upload(withFf, tok, 'f-2', opus, 'audio/ogg');
    expect(o.status, o.body).toBe(201);
    expect(o.json.durationS).toBeGreaterThan(1.1);
    // Sent as application/octet-stream: the bytes, not the header, say it is not WAV.
    expect((await upload(withFf, tok, 'f-3', opus, 'application/octet-stream')).status).toBe(201);
    expect(files(join(withFf.backend.dataDir, 'tmp'))).toEqual([]); // no temporaries left
  });

  it('bytes ffmpeg cannot read are refused with its reason, and nothing is stored', async () => {
    const s = await setupStudy(withFf);
    const tok = await s.enrol('F02');
    const r = await upload(withFf, tok, 'g-1', Buffer.from('this is not audio at all '.repeat(40)), 'audio/mp4');
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/not a WAV file, and ffmpeg could not decode it/);
    expect(r.json.issues[0].field).toBe('body');
    expect(files(join(withFf.backend.dataDir, 'tmp'))).toEqual([]);
  });

  it('without --ffmpeg: other content types get 415 naming the option, other bytes a 400 saying so', async () => {
    const s = await setupStudy(without);
    const tok = await s.enrol('F03');
    const opus = encoded(work, 'ogg', ['-c:a', 'libopus', '-b:a', '32k']);
    const r = await upload(without, tok, 'h-1', opus, 'audio/ogg');
    expect(r.status).toBe(415);
    expect(r.json.message).toMatch(/--ffmpeg/);
    const o = await upload(without, tok, 'h-2', opus, 'application/octet-stream');
    expect(o.status).toBe(400);
    expect(o.json.message).toMatch(/not a usable WAV file.*--ffmpeg PATH/);
  });

  it('a wrong --ffmpeg path stops the server at start with a clear message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moodlens-ff-bad-'));
    try {
      await expect(buildServer({ db: `sqlite:${join(dir, 'x.db')}`, dataDir: dir, admin: ADMIN, ffmpeg: join(dir, 'no-such-ffmpeg') }))
        .rejects.toThrow(/--ffmpeg .*no-such-ffmpeg: cannot run it \(ENOENT\)/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe.skipIf(!HAVE_FFMPEG)('moodlens features on a non-WAV recording (ffmpeg on PATH)', () => {
  it('an m4a recording gives the pitch of the WAV it was made from', async () => {
    const { featuresForFile } = await import('../../src/io/speech-node.js');
    const { vowel } = await import('../signal/speech-fixtures.js');
    const dir = mkdtempSync(join(tmpdir(), 'moodlens-ff-feat-'));
    try {
      const rate = 16000, v = vowel({ f0: 140, fs: rate, seconds: 1 });
      const x = new Float32Array(v.length + rate / 2); x.set(v, rate / 4);
      writeFileSync(join(dir, 'v.wav'), encodeWav16(x, rate));
      execFileSync(FFMPEG, ['-nostdin', '-loglevel', 'error', '-y', '-i', join(dir, 'v.wav'), '-c:a', 'aac', '-b:a', '96k', join(dir, 'v.m4a')]);
      const wav = featuresForFile(join(dir, 'v.wav')), m4a = featuresForFile(join(dir, 'v.m4a'));
      expect(wav.ok && m4a.ok).toBe(true);
      if (!wav.ok || !m4a.ok) return;
      const key = 'F0semitoneFrom27.5Hz_sma3nz_amean';
      const target = 12 * Math.log2(140 / 27.5); // 140 Hz ≈ 28.2 semitones
      expect(Math.abs(m4a.functionals[key] - wav.functionals[key])).toBeLessThan(1);
      expect(Math.abs(m4a.functionals[key] - target)).toBeLessThan(1);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
