/**
 * `moodlens features DIR --queue postgres://…` with a `moodlens worker --kinds speech` process
 * writes the speech_features.csv (and speech_rejected.csv) the local run writes, byte for byte;
 * a recording changed after it was enqueued is refused by the worker.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { run } from '../../src/cli/main.js';
import { encodeWav16 } from '../../src/signal/wav.js';
import { speechFileHandler, RecordingChangedError } from '../../src/io/speech-queue.js';
import { sha256File, SPEECH_FEATURES_VERSION } from '../../src/io/speech-node.js';
import { PG_ADMIN_URL, PG_AVAILABLE } from '../server/helpers.js';

const schema = `pgboss_s${process.pid}`;
const children: ChildProcess[] = [];

function tone(seconds: number, f0: number): Buffer {
  const n = 16000 * seconds;
  return Buffer.from(encodeWav16(Float32Array.from({ length: n }, (_, k) => (Math.floor(k / 8000) % 2 === 0 ? 0.3 : 0.02) * Math.sin(2 * Math.PI * (f0 + 20 * Math.sin(k / 7000)) * k / 16000)), 16000));
}

describe.skipIf(!PG_AVAILABLE)('speech features on the job queue', () => {
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect(); await c.query(`drop schema if exists ${schema} cascade`); await c.end();
  });

  it('a worker process computes what the local run computes; a changed recording is refused', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sq-'));
    const local = join(root, 'local');
    mkdirSync(join(local, 'speech'), { recursive: true });
    writeFileSync(join(local, 'speech', 'a.wav'), tone(3, 120));
    writeFileSync(join(local, 'speech', 'b.wav'), tone(4, 180));
    writeFileSync(join(local, 'speech', 'silent.wav'), Buffer.from(encodeWav16(new Float32Array(16000 * 2), 16000)));
    writeFileSync(join(local, 'speech.csv'), 'report_id,file\nr1,speech/a.wav\nr2,speech/b.wav\nr3,speech/silent.wav\n');
    const queued = join(root, 'queued');
    cpSync(local, queued, { recursive: true });
    process.env.MOODLENS_QUIET = '1';
    expect(await run(['features', local, '--no-cache', '--workers', '1'])).toBe(0);

    const env = { ...process.env, MOODLENS_JOB_SCHEMA: schema, MOODLENS_JOB_BEAT_MS: '300', MOODLENS_JOB_STALL_MS: '1500' };
    const worker = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--queue', PG_ADMIN_URL, '--kinds', 'speech'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(worker);
    let out = '';
    worker.stdout!.on('data', (d) => { out += d; });
    worker.stderr!.on('data', (d) => { out += d; });
    const saved = process.env.MOODLENS_JOB_SCHEMA;
    process.env.MOODLENS_JOB_SCHEMA = schema;
    try {
      expect(await run(['features', queued, '--queue', PG_ADMIN_URL]), out).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.MOODLENS_JOB_SCHEMA; else process.env.MOODLENS_JOB_SCHEMA = saved;
    }
    expect(out).toMatch(/taking speech/);
    for (const f of ['speech_features.csv', 'speech_rejected.csv']) expect(readFileSync(join(queued, f), 'utf8'), f).toBe(readFileSync(join(local, f), 'utf8'));
    expect(readFileSync(join(queued, 'speech_features.csv'), 'utf8').trim().split('\n')).toHaveLength(3); // header + the two voiced recordings
    expect(readFileSync(join(queued, 'speech_rejected.csv'), 'utf8')).toMatch(/r3,speech\/silent\.wav/);

    // A recording changed after it was enqueued: refused, not computed.
    const file = join(queued, 'speech', 'a.wav');
    const payload = { file, sha256: sha256File(file), opts: { denoise: false, vad: false }, lld: false, version: SPEECH_FEATURES_VERSION };
    writeFileSync(file, tone(3, 140));
    await expect(speechFileHandler()(payload)).rejects.toThrow(RecordingChangedError);
    await expect(speechFileHandler()(payload)).rejects.toThrow(/changed after it was enqueued/);
  }, 120_000);
});
