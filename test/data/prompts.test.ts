/**
 * prompts.csv, the prompt log of a study folder: read and checked by the importer (every problem
 * named with file, line and column), and the compliance `describe` takes from it — answered ÷
 * (answered + expired), open and upcoming prompts not yet counted — with the command's table.
 */
import { describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadStudy } from '../../src/data/load.js';
import { describeStudy } from '../../src/data/describe.js';
import { register as registerDescribe } from '../../src/cli/commands/describe.js';
import { tempDir, validStudy, writeStudy } from './fixture.js';

process.env.MOODLENS_QUIET = '1';
const HEAD = 'participant_id,prompt_id,instrument,prompt_time,expires_at,push_sent_at,opened_at,answered_at,report_id,fate';

function study(rows: string[]): string {
  const dir = writeStudy(tempDir(), validStudy({ speech: false }));
  writeFileSync(join(dir, 'prompts.csv'), [HEAD, ...rows].join('\n') + '\n');
  return dir;
}

describe('prompts.csv', () => {
  it('gives describe its compliance: answered ÷ settled per participant, with the other fates, reminders and openings', async () => {
    const dir = study([
      'p1,ema:0:0,ema,2022-09-05T15:00:00+09:00,2022-09-05T16:30:00+09:00,2022-09-05T15:01:00+09:00,2022-09-05T15:04:00+09:00,2022-09-05T15:17:30+09:00,p1-d0-r0,answered',
      'p1,ema:0:1,ema,2022-09-05T19:00:00+09:00,2022-09-05T20:30:00+09:00,2022-09-05T19:01:00+09:00,,,,expired',
      'p1,ema:0:2,ema,2022-09-05T23:00:00+09:00,2022-09-06T00:30:00+09:00,,,,,expired',
      'p1,ema:1:0,ema,2022-09-06T15:00:00+09:00,2022-09-06T16:30:00+09:00,,,,,open',
      'p2,phq9:0:0,phq9,2022-09-05T18:00:00+02:00,2022-09-06T06:00:00+02:00,,,,,upcoming',
    ]);
    const r = await loadStudy(dir);
    expect(r.issues).toEqual([]);
    expect(r.study!.prompts!.map((p) => [p.participant, p.id, p.instrument, p.fate])).toEqual([
      ['p1', 'ema:0:0', 'ema', 'answered'], ['p1', 'ema:0:1', 'ema', 'expired'], ['p1', 'ema:0:2', 'ema', 'expired'], ['p1', 'ema:1:0', 'ema', 'open'], ['p2', 'phq9:0:0', 'phq9', 'upcoming'],
    ]);
    expect(r.study!.prompts![0].time).toBe(Date.parse('2022-09-05T06:00:00Z'));
    expect(Number.isNaN(r.study!.prompts![1].opened)).toBe(true);
    const d = describeStudy(r.study!);
    expect(d.complianceMode).toBe('prompt-log');
    const [p1, p2, p3] = d.compliance;
    expect(p1).toMatchObject({ scheduledAnswered: 1, scheduledExpected: 3, prompts: { prompts: 4, answered: 1, expired: 2, open: 1, upcoming: 0, pushSent: 2, opened: 1 } });
    expect(p1.compliance).toBeCloseTo(1 / 3, 12);
    expect(p2).toMatchObject({ scheduledAnswered: 0, scheduledExpected: 0, prompts: { prompts: 1, upcoming: 1 } });
    expect(Number.isNaN(p2.compliance)).toBe(true); // nothing settled yet: no rate
    expect(p3.prompts).toEqual({ prompts: 0, answered: 0, expired: 0, open: 0, upcoming: 0, pushSent: 0, opened: 0 });

    // The command's table shows the prompt log's columns.
    const program = new Command('moodlens').exitOverride();
    registerDescribe(program);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { lines.push(a.join(' ')); });
    try { await program.parseAsync(['describe', dir], { from: 'user' }); } finally { spy.mockRestore(); process.exitCode = undefined; }
    const out = lines.join('\n');
    expect(out).toContain('Compliance per participant (prompt log: prompts answered / answered or expired):');
    expect(out).toMatch(/p1 .* 1\/3 .* 33\.3 ?%/);
  });

  it('names every problem: unknown participant or report, a fate it does not know, a bad time, a repeated prompt, an answered prompt without its report', async () => {
    const r = await loadStudy(study([
      'ghost,ema:0:0,ema,2022-09-05T15:00:00+09:00,,,,,,expired',
      'p1,ema:0:0,ema,2022-09-05T15:00:00+09:00,,,,,nope,answered',
      'p1,ema:0:1,ema,2022-09-05T19:00:00+09:00,,,,,,missed',
      'p1,ema:0:2,ema,yesterday,,,,,,expired',
      'p1,ema:0:3,ema,2022-09-05T23:00:00+09:00,,,,,,expired',
      'p1,ema:0:3,ema,2022-09-05T23:00:00+09:00,,,,,,expired',
      'p1,ema:1:0,ema,2022-09-06T15:00:00+09:00,,,,,,answered',
      'p1,ema:1:1,ema,2022-09-06T19:00:00+09:00,soon,,,,,open',
    ]));
    expect(r.issues.map((i) => `${i.file}:${i.line}: ${i.field}: ${i.message}`)).toEqual([
      'prompts.csv:2: participant_id: unknown participant "ghost": not in participants.csv',
      'prompts.csv:3: report_id: unknown report "nope": not in reports.csv',
      'prompts.csv:4: fate: expected one of upcoming, open, answered, expired',
      'prompts.csv:5: prompt_time: expected an ISO 8601 date-time with offset, e.g. 2022-09-05T10:23:00+09:00, got "yesterday"',
      'prompts.csv:7: prompt_id: duplicate prompt: participant "p1" already has prompt ema:0:3',
      'prompts.csv:8: report_id: an answered prompt names the report that answered it',
      'prompts.csv:9: expires_at: expected an ISO 8601 date-time with offset or an empty cell, got "soon"',
    ]);
    expect(r.study!.prompts).toHaveLength(1);
  });
});
