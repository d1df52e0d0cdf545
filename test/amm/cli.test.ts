import { describe, it, expect, vi } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';
import { pooledComparison, type RunPredictions } from '../../src/amm/experiment.js';

describe('moodlens experiment mimml (planted study, end to end)', () => {
  it('writes the tables and the predictions that pool across runs; rejects a bad flag', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ml-exp-'));
    const quiet = [vi.spyOn(console, 'log').mockImplementation(() => {}), vi.spyOn(console, 'error').mockImplementation(() => {}), vi.spyOn(process.stderr, 'write').mockImplementation(() => true)];
    const code = await run(['experiment', 'mimml', '--planted', '--parts', 'ablation', '--arms', 'full,no-mi', '--seeds', '1',
      '--epochs', '2', '--hidden', '4', '--init-scale', '0.3', '--lr', '5e-3', '--bootstrap', '50', '--unlabelled', '--mi-target', 'both', '--mi-weight', '0.5', '--out', out]);
    expect(code).toBe(0);
    const md = readFileSync(join(out, 'mimml.md'), 'utf8');
    expect(md).toContain('| No MI term | depressed |');
    expect(md).toContain('unlabelled training rows used');
    expect(md).toContain('MI target both weight 0.5, aux weight 0.3');
    expect(existsSync(join(out, 'mimml.csv'))).toBe(true);
    const p = JSON.parse(readFileSync(join(out, 'mimml.predictions.json'), 'utf8')) as RunPredictions;
    expect(Object.keys(p.arms).sort()).toEqual(['full', 'no-mi']);
    expect(p.arms.full['1'].length).toBe(p.labels.length);
    const pooled = pooledComparison([{ name: 'a', predictions: p }, { name: 'b', predictions: p }], 'full', 'no-mi', 50);
    expect(pooled.n).toBe(2 * p.labels.filter((y) => y >= 0).length);
    expect(await run(['experiment', 'mimml', '--planted', '--seeds', 'one', '--out', out])).not.toBe(0);
    expect(await run(['experiment', 'mimml', '--planted', '--mi-target', 'sideways', '--out', out])).not.toBe(0);
    quiet.forEach((q) => q.mockRestore());
  }, 120_000);
});
