import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { convertLifeSnaps, LIFESNAPS_MOODS } from '../../src/data/lifesnaps.js';
import { buildDataset, describeStudy, validateStudy } from '../../src/data/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LIFESNAPS_CHANNELS } from '../../src/data/lifesnaps.js';
import { tempDir } from './fixture.js';

process.env.MOODLENS_QUIET = '1';
const FILE = resolve(process.cwd(), '../shared/data/lifesnaps/daily.csv');

describe('LifeSnaps converter on a small hand-made daily table', () => {
  it('one report per answered day at 22:00, window = the 7 days before, empty cells missing', async () => {
    const moods = LIFESNAPS_MOODS.map(([c]) => c);
    const header = ['', 'id', 'date', ...DEFAULT_LIFESNAPS_CHANNELS, 'age', 'gender', 'bmi', ...moods];
    const rows: string[][] = [header];
    for (let day = 1; day <= 10; day++) {
      const date = `2021-06-${String(day).padStart(2, '0')}`;
      const values = DEFAULT_LIFESNAPS_CHANNELS.map((_, c) => String(day * 100 + c));
      if (day === 3) values[0] = ''; // steps missing on 3 June
      const answered = day === 8 || day === 10;
      const mood = answered ? moods.map((_, k) => (k === day % 7 ? '1.0' : '0.0')) : moods.map(() => '');
      rows.push([String(day), 'personA', date, ...values, '<30', 'MALE', '<19', ...mood]);
    }
    const input = join(tempDir(), 'daily.csv');
    writeFileSync(input, rows.map((r) => r.map((c) => (c.includes(',') ? `"${c}"` : c)).join(',')).join('\n') + '\n');
    const out = tempDir('moodlens-ls-small-');
    const r = await convertLifeSnaps({ input, out });
    expect(r).toEqual({ participants: 1, reports: 2, epochs: 10, rowsRead: 10 });
    // Steps are missing on 3 June, inside both reports' windows: the channel is in no complete window.
    const strict = await validateStudy(out, { progress: false });
    expect(strict.issues.map((i) => i.message)).toEqual([expect.stringMatching(/^no report has a complete window of 7 epochs of 86400 s for steps: /)]);
    const v = await validateStudy(out, { progress: false, allowMissingModality: true });
    expect(v.issues).toEqual([]);
    expect(v.study!.participants[0].covariates).toEqual({ age: '<30', gender: 'MALE', bmi: '<19' });

    const { dataset: m, dropped } = await buildDataset(out, { policy: 'masked', progress: false });
    expect(dropped).toEqual({});
    expect(m.reportIds).toEqual(['personA_2021-06-08', 'personA_2021-06-10']);
    expect(m.time[0]).toBe(Date.UTC(2021, 5, 8, 22));
    const C = DEFAULT_LIFESNAPS_CHANNELS.length, W = 7;
    // 8 June at 22:00 → days 1–7 June; channel c of day d = d·100 + c; steps of 3 June missing.
    for (let c = 0; c < C; c++) {
      const got = Array.from(m.activity.subarray(c * W, (c + 1) * W));
      const want = [1, 2, 3, 4, 5, 6, 7].map((d) => (c === 0 && d === 3 ? NaN : d * 100 + c));
      expect(got).toEqual(want);
    }
    expect(m.modalityMask[0]).toBe(0); // steps window incomplete
    expect(m.modalityMask[1]).toBe(1);
    // 10 June → days 3–9: steps still incomplete (3 June); the others complete.
    expect(Array.from(m.activity.subarray(C * W + W, C * W + 2 * W))).toEqual([3, 4, 5, 6, 7, 8, 9].map((d) => d * 100 + 1));
    // Labels: 0–1 multi-hot; 8 June → index 8 % 7 = 1 (happy).
    expect(Array.from(m.labels.subarray(0, 7))).toEqual([0, 1, 0, 0, 0, 0, 0]);

    const { dataset: c, dropped: dc } = await buildDataset(out, { policy: 'complete', progress: false });
    expect(c.n).toBe(0);
    expect(dc).toEqual({ 'activity window incomplete': 2 });
  });
});

describe.skipIf(!existsSync(FILE))('LifeSnaps converter (needs ../shared/data/lifesnaps/daily.csv; skipped where the real data is absent)', () => {
  it('converts into a study folder that validates, describes and builds', async () => {
    const out = tempDir('moodlens-lifesnaps-');
    const r = await convertLifeSnaps({ input: FILE, out });
    expect(r.rowsRead).toBe(7410);
    expect(r.participants).toBe(71);
    expect(r.reports).toBe(2290); // the answered days
    const v = await validateStudy(out, { progress: false });
    expect(v.issues).toEqual([]);
    expect(v.ok).toBe(true);
    const study = v.study!;
    expect(study.config.items.map((i) => i.id)).toEqual(LIFESNAPS_MOODS.map(([, id]) => id));
    expect(study.config.activity.epochSeconds).toBe(86400);
    expect(study.config.window.epochs).toBe(7);
    expect(study.config.speech.kind).toBe('none');

    const d = describeStudy(study);
    expect(d.policies.masked.kept).toBe(2290);
    expect(d.policies.complete.kept).toBeGreaterThan(100);
    expect(d.policies.complete.kept + Object.values(d.policies.complete.dropped).reduce((a, b) => a + b, 0)).toBe(2290);

    const { dataset: ds } = await buildDataset(study, { policy: 'complete' });
    expect(ds.windowEpochs).toBe(7);
    for (const v of ds.labels) expect(v === 0 || v === 1).toBe(true);
    for (const v of ds.activity) expect(Number.isNaN(v)).toBe(false);
    // One report per answered day at 22:00 in the study zone (UTC).
    expect(ds.localHour[0]).toBe(22);
  });
});
