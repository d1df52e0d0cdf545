/**
 * Start-up errors of `moodlens serve` are one line that says what to do, with exit code 1 and no
 * stack trace (unless --debug): a database URL that cannot be reached, a port in use.
 */
import { describe, it, expect, vi } from 'vitest';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';

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
});
