/**
 * `moodlens train` end to end through the CLI: it writes the model folder and the test split's
 * evaluation (evaluation.json, `moodlens evaluate --json`'s format, which the dashboard reads),
 * and `moodlens evaluate --json` on the same folder gives the same figures.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeStudy } from '../../src/synth/index.js';
import { run } from '../../src/cli/main.js';

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const logs: string[] = [];
  const orig = console.log;
  console.log = (...x: unknown[]) => { logs.push(x.join(' ')); };
  process.env.MOODLENS_QUIET = '1';
  try { return { code: await run(argv), out: logs.join('\n') }; } finally { console.log = orig; }
}

describe('moodlens train (CLI)', () => {
  it('stores the test evaluation beside the weights, equal to `moodlens evaluate --json`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'train-cli-'));
    const study = join(dir, 'study'), model = join(dir, 'model');
    await synthesizeStudy({ out: study, participants: 6, days: 4, seed: 5 });
    const t = await capture(['train', '--study', study, '--preset', 'baseline', '--epochs', '1', '--out', model]);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/test mean CCC/);
    const file = join(model, 'evaluation.json');
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.tmp`)).toBe(false);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored.split).toBe('test');
    expect(Object.keys(stored.items)).toHaveLength(9);
    const e = await capture(['evaluate', '--model', model, '--study', study, '--json']);
    expect(e.code).toBe(0);
    const fresh = JSON.parse(e.out);
    expect(fresh.n).toBe(stored.n);
    // Same predictions and labels: the point estimates agree exactly (the CIs depend on B).
    expect(fresh.meanCCC).toBeCloseTo(stored.meanCCC, 10);
    for (const [id, r] of Object.entries(stored.items) as [string, { ccc: number }][]) expect(fresh.items[id].ccc).toBeCloseTo(r.ccc, 10);
    // The reference predictors on the same reports, in the model's format, in both (issue 16).
    const names = ['globalMean', 'personMean', 'lastReport', 'personMeanRidge'];
    for (const doc of [stored, fresh]) {
      expect(Object.keys(doc.baselines)).toEqual(names);
      for (const b of names) {
        expect(Object.keys(doc.baselines[b]).sort()).toEqual(['byPattern', 'items', 'meanCCC', 'meanCiHigh', 'meanCiLow', 'n', 'participants', 'sdCCC']);
        expect(doc.baselines[b].n).toBe(doc.n);
        expect(Object.keys(doc.baselines[b].items)).toEqual(Object.keys(doc.items));
      }
      expect(names).toContain(doc.vsBestBaseline.baseline);
      expect(doc.vsBestBaseline.mean.a).toBeCloseTo(doc.meanCCC, 10);
      expect(doc.vsBestBaseline.mean.diff).toBeCloseTo(doc.meanCCC - doc.baselines[doc.vsBestBaseline.baseline].meanCCC, 10);
    }
    for (const b of names) expect(fresh.baselines[b].meanCCC).toBeCloseTo(stored.baselines[b].meanCCC, 10);
    // The table output names the baselines and the paired difference.
    const tbl = await capture(['evaluate', '--model', model, '--study', study, '--bootstrap', '100']);
    expect(tbl.out).toMatch(/reference predictors/);
    expect(tbl.out).toMatch(/model − best baseline \(\w+\): [+-]\d\.\d{3} \[/);
  }, 90_000);
});
