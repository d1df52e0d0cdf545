/**
 * Start-up errors of `moodlens serve` are one line that says what to do, with exit code 1 and no
 * stack trace (unless --debug): a database URL that cannot be reached, a port in use, a bad
 * --speech-workers. `--speech-workers 0` on PostgreSQL starts an instance that leaves speech
 * features to the others.
 */
import { describe, it, expect, vi } from 'vitest';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { run } from '../../src/cli/main.js';
import { makeBackend, pgReachable } from './helpers.js';

const PG = await pgReachable();

async function runCaptured(argv: string[]): Promise<{ code: number; err: string }> {
  const lines: string[] = [];
  const e = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { lines.push(a.join(' ')); });
  const w = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const l = vi.spyOn(console, 'log').mockImplementation(() => {});
  try { return { code: await run(argv), err: lines.join('\n') }; } finally { e.mockRestore(); w.mockRestore(); l.mockRestore(); process.exitCode = undefined; }
}

describe('serve start-up errors', () => {
  it('a PostgreSQL URL nobody answers is one line naming --db, without the password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moodlens-start-'));
    try {
      const r = await runCaptured(['serve', '--db', 'postgres://me:secret@127.0.0.1:1/x', '--data-dir', dir, '--port', '0']);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^moodlens: --db: cannot connect to postgres:\/\/me:\*\*\*@127\.0\.0\.1:1\/x: connection refused/);
      expect(r.err).not.toMatch(/secret|\n\s+at /);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('a port in use is one line naming --port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moodlens-start-'));
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCaptured(['serve', '--data-dir', dir, '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`--port: 127\\.0\\.0\\.1:${port} is already in use`));
      expect(r.err).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--speech-workers is a whole number from 0, and 0 only on PostgreSQL (on SQLite no other instance would compute features)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moodlens-start-'));
    try {
      for (const bad of ['-1', '1.5', 'two']) {
        const r = await runCaptured(['serve', '--data-dir', dir, '--port', '0', '--speech-workers', bad]);
        expect(r.code).toBe(1);
        expect(r.err).toMatch(/^moodlens: --speech-workers: /);
        expect(r.err.split('\n')).toHaveLength(1);
      }
      const r = await runCaptured(['serve', '--data-dir', dir, '--port', '0', '--speech-workers', '0']);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^moodlens: --speech-workers: 0 leaves recordings to other instances, and on SQLite there are none; use 0 only with --db postgres/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it.skipIf(!PG)('--speech-workers 0 on PostgreSQL starts an instance that says it leaves speech features to the others (the option itself: test/server/model.test.ts)', async () => {
    const b = await makeBackend('postgres');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--db', b.url, '--data-dir', b.dataDir, '--port', '0', '--speech-workers', '0'],
      { env: { ...process.env, MOODLENS_DATA_KEY: Buffer.alloc(32, 7).toString('base64') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { out += d; });
    try {
      const t0 = Date.now();
      while (!/speech features/.test(out)) {
        if (Date.now() - t0 > 30_000 || child.exitCode !== null) throw new Error(`serve did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
      expect(out).toMatch(/speech features {11}none computed in this instance \(--speech-workers 0\): the other instances take them/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await b.cleanup();
    }
  }, 60_000);
});
