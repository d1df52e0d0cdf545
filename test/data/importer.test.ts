import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { formatIssue } from '../../src/util/errors.js';
import { validateStudy, loadStudy, buildDataset } from '../../src/data/index.js';
import { tempDir, validStudy, writeStudy, type FixtureFiles } from './fixture.js';

process.env.MOODLENS_QUIET = '1';

function corrupt(f: FixtureFiles, file: 'reports.csv' | 'activity.csv' | 'participants.csv', row: number, col: string, value: string) {
  const rows = f[file]!;
  const c = rows[0].indexOf(col);
  if (c < 0) throw new Error(`no column ${col}`);
  rows[row][c] = value;
}

describe('study importer', () => {
  it('accepts a valid study and keeps unknown columns as covariates', async () => {
    const dir = writeStudy(tempDir(), validStudy());
    const v = await validateStudy(dir);
    expect(v.issues).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.summary).toMatch(/^OK fixture: 3 participants, 18 reports, 8640 activity epochs/);
    expect(v.study!.reports.covariates.mood_note).toHaveLength(18);
    expect(v.study!.participants[0].covariates.age).toBe('30');
    expect(v.study!.participants[2].timezone).toBe('UTC'); // empty cell → study default
  });

  it('lists each corrupted row with file:line:column', async () => {
    const f = validStudy({ speech: false });
    corrupt(f, 'reports.csv', 2, 'a', 'abc');          // line 3, column 5: non-numeric item
    corrupt(f, 'reports.csv', 3, 'b', '150');          // line 4, column 6: out of range (0–100)
    corrupt(f, 'reports.csv', 4, 'participant_id', 'p9'); // line 5, column 2: unknown participant
    corrupt(f, 'reports.csv', 5, 'time', '2022-09-31T10:00:00Z'); // line 6, column 3: no 31 September
    corrupt(f, 'reports.csv', 6, 'report_id', f['reports.csv']![1][0]); // line 7, column 1: duplicate id
    const v = await validateStudy(writeStudy(tempDir(), f));
    expect(v.ok).toBe(false);
    const lines = v.issues.map(formatIssue);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^reports\.csv:3:5: a: expected a number, got "abc"/);
    expect(lines[1]).toMatch(/^reports\.csv:4:6: b: expected a number in \[0, 100\], got 150/);
    expect(lines[2]).toMatch(/^reports\.csv:5:2: participant_id: unknown participant "p9"/);
    expect(lines[3]).toMatch(/^reports\.csv:6:3: time: expected an ISO 8601 date-time with offset/);
    expect(lines[4]).toMatch(/^reports\.csv:7:1: report_id: duplicate report id "p1-d0-r0" \(first on line 2\)/);
  });

  it('buildDataset refuses a bad study unless allowIssues, then leaves the bad rows out', async () => {
    const f = validStudy({ speech: false });
    corrupt(f, 'reports.csv', 2, 'a', '-1');
    const dir = writeStudy(tempDir(), f);
    await expect(buildDataset(dir, { policy: 'masked' })).rejects.toThrow(/reports\.csv:3:5: a: expected a number in \[0, 100\]/);
    const r = await buildDataset(dir, { policy: 'masked', allowIssues: true });
    expect(r.dataset.n).toBe(17);
    expect(r.dataset.reportIds).not.toContain(f['reports.csv']![2][0]);
    expect(r.notes.join(' ')).toMatch(/1 problem in the study/);
  });

  it('reports all 10 of 10 bad rows, not only the first', async () => {
    const f = validStudy({ speech: false });
    const bad = [3, 50, 100, 700, 1441, 2000, 3000, 4000, 5000, 8640];
    for (const r of bad) corrupt(f, 'activity.csv', r, 'pim', 'n/a');
    const v = await validateStudy(writeStudy(tempDir(), f));
    expect(v.totalIssues).toBe(10);
    expect(v.issues.map((i) => [i.file, i.line, i.column, i.field])).toEqual(bad.map((r) => ['activity.csv', r + 1, 4, 'pim']));
  });

  it('caps the kept list but counts every issue', async () => {
    const f = validStudy({ speech: false });
    for (let r = 1; r <= 1500; r++) corrupt(f, 'activity.csv', r, 'zcm', 'x');
    const res = await loadStudy(writeStudy(tempDir(), f), { maxIssues: 1000 });
    expect(res.issues).toHaveLength(1000);
    expect(res.totalIssues).toBe(1500);
  });

  it('checks triggers, activity values, ranges, required columns and speech files', async () => {
    const f = validStudy({ speech: false });
    corrupt(f, 'reports.csv', 1, 'trigger', 'lunch');
    corrupt(f, 'activity.csv', 10, 'zcm', '-3'); // range zcm ≥ 0
    corrupt(f, 'activity.csv', 11, 'time', '2022-09-05 25:00');
    f['activity.csv']!.push(['p1', f['activity.csv']![1][1], '1', '2']); // duplicate epoch
    const v = await validateStudy(writeStudy(tempDir(), f));
    const s = v.issues.map(formatIssue);
    expect(s).toHaveLength(4);
    expect(s[0]).toMatch(/^reports\.csv:2:4: trigger: expected one of scheduled \| wake \| bed \| voluntary/);
    expect(s[1]).toMatch(/^activity\.csv:11:3: zcm: expected a number in \[0, ∞\], got -3/);
    expect(s[2]).toMatch(/^activity\.csv:12:2: time: expected an ISO 8601 date-time/);
    expect(s[3]).toMatch(/^activity\.csv:8642: time: duplicate epoch: participant "p1" .*line 2/);

    const g = validStudy({ speech: false });
    g['reports.csv'] = g['reports.csv']!.map((r) => r.filter((_, i) => i !== 5)); // drop column b
    (g['study.json'] as { speech: { kind: string } }).speech.kind = 'audio';
    const dir = writeStudy(tempDir(), { ...g, 'speech.csv': [['report_id', 'file'], ['p1-d0-r0', 'audio/a.wav'], ['p1-d0-r1', 'audio/missing.wav']], extra: { 'audio/a.wav': 'RIFF' } });
    const w = await validateStudy(dir);
    const t = w.issues.map(formatIssue);
    expect(t[0]).toMatch(/^reports\.csv:1: b: missing required column "b"/);
    // reports.csv unreadable → its speech rows are unknown reports; a missing file is named.
    expect(t.some((x) => /^speech\.csv:3:1: report_id: unknown report/.test(x))).toBe(true);
    await expect(buildDataset(dir, { policy: 'masked' })).rejects.toThrow(/missing required column "b"/);
  });

  it('reads the optional answered_at column (empty: time) and checks it', async () => {
    const f = validStudy({ speech: false });
    const t = (i: number) => f['reports.csv']![i][2];
    const later = (i: number) => new Date(Date.parse(t(i)) + 5 * 3_600_000).toISOString();
    f['reports.csv'] = f['reports.csv']!.map((r, i) => [...r, i === 0 ? 'answered_at' : i === 1 ? later(1) : i === 2 ? '' : i === 3 ? 'yesterday' : i === 4 ? '2022-09-01T00:00:00Z' : t(i)]);
    const v = await validateStudy(writeStudy(tempDir(), f));
    expect(v.issues.map(formatIssue)).toEqual([
      'reports.csv:4:9: answered_at: expected an ISO 8601 date-time with offset, e.g. 2022-09-05T10:23:00+09:00 (or empty: answered at `time`), got "yesterday"',
      `reports.csv:5:9: answered_at: answered before the moment it rates (time ${t(4)}): answered_at must not be earlier than time`,
    ]);
    f['reports.csv'] = f['reports.csv']!.map((r, i) => (i === 3 || i === 4 ? [...r.slice(0, 8), ''] : r));
    const { dataset: ds } = await buildDataset(writeStudy(tempDir(), f), { policy: 'masked' });
    const id = (i: number) => ds.reportIds.indexOf(f['reports.csv']![i][0]);
    expect(ds.answeredAt![id(1)]).toBe(Date.parse(t(1)) + 5 * 3_600_000);
    expect(ds.answeredAt![id(2)]).toBe(ds.time[id(2)]);
    expect(ds.answeredAt![id(5)]).toBe(ds.time[id(5)]);
    expect(ds.covariates!.answered_at).toBeUndefined(); // a known column, not a covariate
    const { describeStudy } = await import('../../src/data/describe.js');
    const { study } = await loadStudy(writeStudy(tempDir(), f));
    expect(describeStudy(study!).notes).toContain('answered_at: 1 of 18 reports were rated after their time (median 5.0 h later); history features and the last-report baseline use only reports answered before the one predicted');
  });

  it('checks item_order against the item ids', async () => {
    const f = validStudy({ speech: false });
    f['reports.csv'] = f['reports.csv']!.map((r, i) => [...r, i === 0 ? 'item_order' : i === 2 ? 'a;z;b' : i === 3 ? 'c;c' : 'b;c;a']);
    const v = await validateStudy(writeStudy(tempDir(), f));
    expect(v.issues.map(formatIssue)).toEqual([
      'reports.csv:3:9: item_order: expected item ids joined by ";", each once; unknown: z',
      'reports.csv:4:9: item_order: expected item ids joined by ";", each once; an id repeats',
    ]);
  });

  it('names a missing speech file', async () => {
    const g = validStudy({ speech: false });
    (g['study.json'] as { speech: { kind: string } }).speech.kind = 'audio';
    const dir = writeStudy(tempDir(), { ...g, 'speech.csv': [['report_id', 'file'], ['p1-d0-r0', 'audio/a.wav'], ['p1-d0-r1', 'audio/missing.wav']], extra: { 'audio/a.wav': 'RIFF' } });
    const w = await validateStudy(dir);
    expect(w.issues.map(formatIssue)).toEqual(['speech.csv:3:2: file: speech file missing: audio/missing.wav']);
  });

  it('reports a bad study.json field and a missing folder', async () => {
    const f = validStudy();
    (f['study.json'] as { timezone: string }).timezone = 'Mars/Olympus';
    const v = await validateStudy(writeStudy(tempDir(), f));
    expect(v.issues.map(formatIssue)).toEqual(['study.json: timezone: not an IANA time zone (e.g. Europe/Berlin)']);
    const m = await validateStudy(join(tempDir(), 'nope'));
    expect(m.ok).toBe(false);
    expect(m.issues[0].message).toMatch(/not a folder/);
  });

  it('reads times in the participant\'s zone: a 07:00 report in Tokyo has local hour 7', async () => {
    const f = validStudy({ speech: false });
    corrupt(f, 'reports.csv', 1, 'time', '2022-09-05T07:00:00+09:00'); // p1 = Asia/Tokyo
    corrupt(f, 'reports.csv', 2, 'time', '2022-09-05T22:00:00Z');      // 07:00 next day in Tokyo
    const berlin = f['reports.csv']!.findIndex((r) => r[1] === 'p2');
    corrupt(f, 'reports.csv', berlin, 'time', '2022-09-05T07:00:00+02:00'); // CEST
    const utc = f['reports.csv']!.findIndex((r) => r[1] === 'p3');
    corrupt(f, 'reports.csv', utc, 'time', '2022-09-05T07:30:00-05:00'); // p3 has the study default, UTC
    const res = await loadStudy(writeStudy(tempDir(), f));
    expect(res.issues).toEqual([]);
    const r = res.study!.reports;
    expect(r.localHour[0]).toBe(7);
    expect(r.time[0]).toBe(Date.UTC(2022, 8, 4, 22));
    expect(r.localHour[1]).toBe(7);
    expect(r.localHour[berlin - 1]).toBe(7);
    expect(r.localHour[utc - 1]).toBe(12.5);
  });
});
