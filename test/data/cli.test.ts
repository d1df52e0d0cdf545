import { afterEach, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { join } from 'node:path';
import { register as registerValidate } from '../../src/cli/commands/validate.js';
import { register as registerDescribe } from '../../src/cli/commands/describe.js';
import { register as registerDemo } from '../../src/cli/commands/demo.js';
import { tempDir, validStudy, writeStudy } from './fixture.js';

process.env.MOODLENS_QUIET = '1';

/** Run one command registered on a fresh program; returns its exit code and stdout lines. */
async function cli(register: (p: Command) => void, args: string[]): Promise<{ code: number; out: string }> {
  const program = new Command('moodlens').exitOverride();
  register(program);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { lines.push(a.join(' ')); });
  process.exitCode = undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: typeof process.exitCode === 'number' ? process.exitCode : 0, out: lines.join('\n') };
  } finally {
    spy.mockRestore();
    process.exitCode = undefined;
  }
}

afterEach(() => { process.exitCode = undefined; });

describe('validate, describe and demo commands', () => {
  it('validate: exit 0 with a one-line summary on a valid study; exit 1 and every problem otherwise', async () => {
    const ok = await cli(registerValidate, ['validate', writeStudy(tempDir(), validStudy())]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^OK fixture: 3 participants, 18 reports/);

    const f = validStudy({ speech: false });
    f['reports.csv']![2][4] = 'lots';
    f['reports.csv']![3][1] = 'ghost';
    const bad = await cli(registerValidate, ['validate', writeStudy(tempDir(), f)]);
    expect(bad.code).toBe(1);
    expect(bad.out.split('\n')).toEqual([
      'reports.csv:3:5: a: expected a number, got "lots"',
      'reports.csv:4:2: participant_id: unknown participant "ghost": not in participants.csv',
      '2 problems found',
    ]);
  });

  it('rejects a bad flag with the flag named', async () => {
    await expect(cli(registerValidate, ['validate', '.', '--max-issues', '-3'])).rejects.toThrow(/--max-issues/);
  });

  it('describe prints the tables, including instances per policy', async () => {
    const r = await cli(registerDescribe, ['describe', writeStudy(tempDir(), validStudy())]);
    expect(r.code).toBe(0);
    for (const s of ['Compliance per participant', 'Missingness per modality', 'Items (raw scale)', 'complete', 'masked', 'Asia/Tokyo']) {
      expect(r.out).toContain(s);
    }
    const j = await cli(registerDescribe, ['describe', writeStudy(tempDir(), validStudy()), '--json']);
    const d = JSON.parse(j.out);
    expect(d.policies.complete.kept).toBe(18);
    expect(d.items.map((i: { id: string }) => i.id)).toEqual(['a', 'b', 'c']);
  });

  it('demo synthesises, validates and describes a small study', async () => {
    const out = join(tempDir(), 'demo-study');
    const r = await cli(registerDemo, ['demo', '--out', out, '--participants', '3', '--days', '3']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/== 2\. validate[\s\S]*OK synthetic/);
    expect(r.out).toContain('Instances (complete');
    // The report carries the reference predictors beside the two models.
    expect(r.out).toMatch(/\| reference: participant's training mean \|/);
  });
});
