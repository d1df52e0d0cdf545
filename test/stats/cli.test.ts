import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/main.js';
import { readPredictions, renderTable4 } from '../../src/cli/commands/stats.js';
import { table4, type Table4Row } from '../../src/stats/table4.js';
import { InputError } from '../../src/util/errors.js';

/** statsmodels numbers for the generated data sets (bench/reference/mixedlm_reference.py). */
const ref = JSON.parse(readFileSync(new URL('../fixtures/reference/mixedlm.json', import.meta.url), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'moodlens-stats-'));

/** A predictions CSV whose item "happy" is lmm_unbalanced (actual = y, predicted = x) and "calm" is lmm_singletons. */
function predictionsCsv(): string {
  const lines = ['participant_id,report_id,item,actual,predicted,lower'];
  for (const [item, name] of [['happy', 'unbalanced'], ['calm', 'singletons']]) {
    const rows = readFileSync(new URL(`../fixtures/reference/lmm_${name}.csv`, import.meta.url), 'utf8').trim().split('\n').slice(1);
    rows.forEach((r, i) => { const [g, x, y] = r.split(','); lines.push(`${g},r${i},${item},${y},${x},0`); });
  }
  const path = join(dir, 'predictions.csv');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

async function cli(args: string[]) {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => { out.push(a.join(' ')); });
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => { err.push(a.join(' ')); });
  const saved = process.exitCode;
  try {
    const code = await run(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally { log.mockRestore(); error.mockRestore(); process.exitCode = saved; }
}

afterEach(() => { vi.restoreAllMocks(); });

describe('moodlens stats', () => {
  it('--json gives Table 4 per item, equal to statsmodels MixedLM (REML, random intercept)', async () => {
    process.env.MOODLENS_QUIET = '1';
    const r = await cli(['stats', '--predictions', predictionsCsv(), '--json']);
    expect(r.code).toBe(0);
    const t = JSON.parse(r.out);
    for (const [item, name] of [['happy', 'unbalanced'], ['calm', 'singletons']]) {
      const got = t.items[item] as Table4Row, want = ref[name].intercept_REML;
      const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
      for (const k of ['coef', 'se', 'z', 'ciLow', 'ciHigh'] as const) {
        expect(rel(got[k], want.fixed.x[k])).toBeLessThan(1e-4);
        expect(rel(got.intercept[k], want.fixed.Intercept[k])).toBeLessThan(1e-4);
      }
      expect(got.p / want.fixed.x.p).toBeCloseTo(1, 2);
      expect(got.groupVar).toBeCloseTo(want.groupCov[0][0], 4);
      expect(got.residualVar).toBeCloseTo(want.residualVar, 4);
      expect(got.logLik).toBeCloseTo(want.logLik, 4);
      expect(got.converged).toBe(true);
      expect(got.nObs).toBe(want.nObs);
      expect(got.nGroups).toBe(want.nGroups);
    }
  });

  it('prints a table by default', async () => {
    const r = await cli(['stats', '--predictions', predictionsCsv()]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/actual ~ predicted/);
    expect(r.out).toMatch(/happy/);
    expect(r.out).toMatch(/calm/);
  });

  it('lists every bad row with file:line:column and exits 1', async () => {
    const path = join(dir, 'bad.csv');
    writeFileSync(path, [
      'participant_id,report_id,item,actual,predicted',
      'p1,r1,happy,50,48',
      'p1,r2,happy,abc,48',     // line 3: non-numeric actual
      'p2,r3,happy,40,',        // line 4: missing predicted
      'p2,r7,happy,,40',        // an unanswered item: skipped, not an error
      ',r4,happy,40,41',        // line 6: no participant
      'p2,r1,happy,30,35',      // line 7: duplicate (r1, happy)
    ].join('\n') + '\n');
    const r = await cli(['stats', '--predictions', path]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path}:3:4: actual: expected a number, got "abc"`);
    expect(r.err).toContain(`${path}:4:5: predicted: missing value`);
    expect(r.err).toContain(`${path}:6:1: participant_id:`);
    expect(r.err).toContain(`${path}:7:2: report_id: report r1 item happy also on line 2`);
    expect(r.err).not.toContain(`${path}:5:`);
    await expect(readPredictions(path)).rejects.toThrow(InputError);
  });

  it('names missing columns and missing files', async () => {
    const path = join(dir, 'nocol.csv');
    writeFileSync(path, 'participant_id,report_id,item,actual\np1,r1,happy,3\n');
    const r = await cli(['stats', '--predictions', path]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nocol\.csv:1: missing column predicted/);
    const r2 = await cli(['stats', '--predictions', join(dir, 'nope.csv')]);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/no such file/);
    const r3 = await cli(['stats']);
    expect(r3.code).toBe(1);
    expect(r3.err).toMatch(/--predictions/);
  });

  it('--drop-missing skips incomplete rows; an item that cannot be fitted says why', async () => {
    const path = join(dir, 'partial.csv');
    const lines = ['participant_id,report_id,item,actual,predicted'];
    for (let i = 0; i < 40; i++) {
      const p = `p${i % 5}`;
      lines.push(`${p},r${i},happy,${(i * 7) % 11 + (i % 5) + ((i * 13) % 7) / 3},${(i * 7) % 11}`);
      lines.push(`${p},r${i},gloomy,${i % 3},50`); // constant predictions: not fittable
    }
    lines.push('p1,r99,happy,4,');
    lines.push('p1,r98,happy,,3');
    writeFileSync(path, lines.join('\n') + '\n');
    const records = await readPredictions(path, true);
    expect(records.dropped).toBe(1);
    expect(records.unanswered).toBe(1);
    const t = table4(records.records);
    expect('error' in t.items.gloomy && t.items.gloomy.error).toMatch(/'predicted' is constant/);
    expect('coef' in t.items.happy).toBe(true);
    expect(renderTable4(t)).toMatch(/not fitted: .*constant/);
    const r = await cli(['stats', '--predictions', path, '--drop-missing', '--json']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/dropped 1 row with no predicted/);
    expect(r.err).toMatch(/skipped 1 row with no actual/);
  });
});
