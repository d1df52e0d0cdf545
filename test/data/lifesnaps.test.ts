import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { convertLifeSnaps, LIFESNAPS_MOODS } from '../../src/data/lifesnaps.js';
import { buildDataset, describeStudy, validateStudy } from '../../src/data/index.js';
import { tempDir } from './fixture.js';

process.env.MOODLENS_QUIET = '1';
const FILE = resolve(process.cwd(), '../shared/data/lifesnaps/daily.csv');

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
