import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActigraphyFlags, runActigraphy } from '../../src/cli/commands/actigraphy.js';
import { parseFlags } from '../../src/util/flags.js';
import { UsageError } from '../../src/util/errors.js';
import { cwaFile, makeSignal } from './actigraphy-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'moodlens-actigraphy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csvOf(rate: number, pieces: Parameters<typeof makeSignal>[1], t0?: number): string {
  const c = makeSignal(rate, pieces, 1, t0);
  const lines = ['time,x,y,z'];
  for (let i = 0; i < c.n; i++) lines.push(`${new Date(c.t[i] * 1000).toISOString()},${c.x[i].toFixed(4)},${c.y[i].toFixed(4)},${c.z[i].toFixed(4)}`);
  return lines.join('\n') + '\n';
}
const flags = (o: Record<string, unknown>) => parseFlags(ActigraphyFlags, { quiet: true, ...o }, 'actigraphy');

describe('moodlens actigraphy', () => {
  const raw = join(dir, 'p1.csv');
  writeFileSync(raw, csvOf(50, [{ seconds: 240, f: 1, amp: 0.2 }, { seconds: 120, gap: true }, { seconds: 240, f: 2, amp: 0.2 }]));
  const out = join(dir, 'activity.csv');

  it('writes a new activity.csv with header; gap epochs are empty cells; times in the participant zone', async () => {
    writeFileSync(join(dir, 'participants.csv'), 'participant_id,timezone\np1,Asia/Tokyo\np2,Europe/Berlin\n');
    const r = await runActigraphy(flags({ in: raw, participant: 'p1', out, channels: 'zcm,pim,counts', nonwear: false }));
    expect(r.rows).toBe(10);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('participant_id,time,zcm,pim,counts');
    expect(lines[1]).toMatch(/^p1,2023-11-15T07:14:00\+09:00,\d+,[\d.]+,[\d.]+$/);
    expect(lines[2].split(',')[2]).toBe('120');
    expect(lines[5]).toBe('p1,2023-11-15T07:18:00+09:00,,,');
    expect(lines[6]).toBe('p1,2023-11-15T07:19:00+09:00,,,');
    expect(lines[9].split(',')[2]).toBe('240');
    expect(r.summary).toMatch(/csv at 50 Hz/);
  });

  it('refuses to append the same participant twice over the same time, unless --force', async () => {
    await expect(runActigraphy(flags({ in: raw, participant: 'p1', out, nonwear: false }))).rejects.toThrow(/already has 10 epochs/);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(11);
  });

  it('appends another participant (a .cwa file) using the existing header and its channel order', async () => {
    const cwa = join(dir, 'p2.cwa');
    writeFileSync(cwa, cwaFile(makeSignal(100, [{ seconds: 180, f: 1, amp: 0.2 }]), 0x4a, 0));
    const r = await runActigraphy(flags({ in: cwa, participant: 'p2', out, nonwear: false, timezone: 'UTC' }));
    expect(r.rows).toBe(3);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(14);
    expect(lines[0]).toBe('participant_id,time,zcm,pim,counts');
    expect(lines[12]).toMatch(/^p2,2023-11-14T22:15:00\+00:00,120,[\d.]+,[\d.]+$/);
  });

  it('checks flags and a mismatching header', async () => {
    await expect(runActigraphy(flags({ in: raw, participant: 'p3', out, channels: 'zcm,tat' }))).rejects.toThrow(/has the channels zcm,pim,counts/);
    expect(() => flags({ in: raw, participant: 'p3', out, band: '3,1' })).toThrow(UsageError);
    expect(() => flags({ in: raw, participant: 'p3', out, format: 'xls' })).toThrow(/--format/);
    await expect(runActigraphy(flags({ in: join(dir, 'nope.csv'), participant: 'p3', out }))).rejects.toThrow(/no such file/);
    await expect(runActigraphy(flags({ in: raw, participant: 'p3', out: join(dir, 'b.csv'), channels: 'sleep', epoch: '30' }))).rejects.toThrow(/60-s epochs/);
  });
});
