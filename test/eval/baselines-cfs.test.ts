/**
 * The reference predictors on the real CFS study folder (../shared/data/cfs, when present): the
 * figures its README states for the same split (every report kept, per participant chronological
 * 70/15/15): global mean 0.00, person mean 0.47, previous report answered before 0.47. Skips with
 * a message when the folder is absent (the data are not part of the project).
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildDataset, chronologicalSplit } from '../../src/data/index.js';
import { evaluateWithBaselines } from '../../src/eval/evaluate.js';

const CFS = join(__dirname, '..', '..', '..', 'shared', 'data', 'cfs');
const have = existsSync(join(CFS, 'study.json'));
if (!have) console.warn(`skipping the CFS baseline check: ${CFS} is absent`);

describe.skipIf(!have)('reference predictors on CFS (../shared/data/cfs)', () => {
  it('match the README\'s reference table', async () => {
    const { dataset: ds } = await buildDataset(CFS, { policy: 'masked', progress: false });
    expect(ds.n).toBe(432);
    const split = chronologicalSplit(ds);
    const e = evaluateWithBaselines(ds, split, split.test, new Float32Array(split.test.length * ds.items.length).fill(0.5), { B: 100 });
    expect(e.n).toBe(63);
    expect(e.baselines.globalMean.meanCCC).toBeCloseTo(0, 6);
    expect(e.baselines.personMean.meanCCC).toBeCloseTo(0.47, 2);
    expect(e.baselines.lastReport.meanCCC).toBeCloseTo(0.47, 2);
    expect(e.baselines.personMeanRidge.meanCCC).toBeGreaterThan(e.baselines.personMean.meanCCC);
  }, 60_000);
});
