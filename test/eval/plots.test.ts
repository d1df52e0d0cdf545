/**
 * `--plots DIR` of `evaluate`, `compare` and `stats` (issue 20 item 5): each writes SVG rendered
 * from the dashboard's Vega-Lite specs, prints the paths, and refuses an unwritable folder in one line.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeStudy } from '../../src/synth/index.js';
import { run } from '../../src/cli/main.js';
import { SMALL_N_CAUTION } from '../../src/web/charts.js';
import { coverageCurve } from '../../src/eval/conformal.js';

async function cli(args: string[]) {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => { out.push(a.join(' ')); });
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => { err.push(a.join(' ')); });
  const saved = process.exitCode;
  process.env.MOODLENS_QUIET = '1';
  try { return { code: await run(args), out: out.join('\n'), err: err.join('\n') }; } finally { log.mockRestore(); error.mockRestore(); process.exitCode = saved; }
}

/** The SVG text of a written plot, checked to be an SVG document. */
function svg(path: string): string {
  expect(existsSync(path)).toBe(true);
  const s = readFileSync(path, 'utf8');
  expect(s.startsWith('<svg')).toBe(true);
  expect(s.trimEnd().endsWith('</svg>')).toBe(true);
  return s;
}
/** Marks of one kind drawn as data (not legend symbols): vega's SVG groups them by `mark-<type> role-mark`. */
function marks(s: string, type: 'symbol' | 'rule' | 'rect' | 'line'): number {
  const tag = type === 'rule' ? '<line' : '<path';
  let n = 0;
  for (const m of s.matchAll(new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>(.*?)</g>`, 'gs'))) n += m[1].split(tag).length - 1;
  return n;
}
const texts = (s: string) => [...s.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

const dir = mkdtempSync(join(tmpdir(), 'plots-'));
const study = join(dir, 'study'), modelA = join(dir, 'a'), modelB = join(dir, 'b');
let items: string[] = [];

beforeAll(async () => {
  await synthesizeStudy({ out: study, participants: 6, days: 4, seed: 5 });
  items = (JSON.parse(readFileSync(join(study, 'study.json'), 'utf8')).items as { id: string }[]).map((i) => i.id);
  for (const [out, seed] of [[modelA, '1'], [modelB, '2']]) {
    const t = await cli(['train', '--study', study, '--preset', 'baseline', '--epochs', '1', '--seed', seed, '--out', out]);
    expect(t.code, t.err).toBe(0);
  }
}, 180_000);

describe('--plots', () => {
  it('evaluate writes ccc.svg, predicted-vs-actual.svg and calibration.svg', async () => {
    const plots = join(dir, 'eval-plots');
    const r = await cli(['evaluate', '--model', modelA, '--study', study, '--bootstrap', '50', '--json', '--plots', plots]);
    expect(r.code, r.err).toBe(0);
    const e = JSON.parse(r.out);
    const files = ['ccc.svg', 'predicted-vs-actual.svg', 'calibration.svg'].map((f) => join(plots, f));
    expect(r.err).toContain(`wrote ${files.join(', ')}`);
    const [ccc, pva, cal] = files.map(svg);
    // A bar and a CI line per item, every item named; the test split is small, so the caution is there.
    expect(marks(ccc, 'rect')).toBe(items.length);
    expect(marks(ccc, 'rule')).toBe(items.length);
    for (const it of items) expect(texts(ccc)).toContain(it);
    expect(texts(ccc)).toContain('CCC');
    expect(e.n).toBeLessThan(30);
    expect(texts(ccc)).toContain(SMALL_N_CAUTION);
    // One point per answered (report, item): Σ items' n; a facet titled with each item, an identity line each.
    const answered = Object.values(e.items as Record<string, { n: number }>).reduce((a, r) => a + r.n, 0);
    expect(answered).toBeGreaterThan(e.n);
    expect(marks(pva, 'symbol')).toBe(answered);
    expect(marks(pva, 'rule')).toBe(items.length);
    for (const it of items) expect(texts(pva)).toContain(it);
    expect(texts(pva)).toEqual(expect.arrayContaining(['actual', 'predicted']));
    // Calibration: a line per item and the pooled one, at the 6 levels plus the model's 90 %.
    expect(texts(cal)).toEqual(expect.arrayContaining(['nominal coverage', 'observed coverage', 'all items']));
    expect(marks(cal, 'line')).toBe(items.length + 2);
  }, 120_000);

  it('compare writes differences.svg: an interval per item and for the mean, with a zero line', async () => {
    const plots = join(dir, 'compare-plots');
    const r = await cli(['compare', '--study', study, '--model', modelA, '--model', modelB, '--bootstrap', '100', '--plots', plots]);
    expect(r.code, r.err).toBe(0);
    const path = join(plots, 'differences.svg');
    expect(r.out).toContain(`wrote ${path}`);
    const s = svg(path);
    for (const it of [...items, 'mean over items']) expect(texts(s)).toContain(it);
    expect(marks(s, 'symbol')).toBe(items.length + 1);
    expect(marks(s, 'rule')).toBe(items.length + 1 + 1);
    expect(texts(s)).toContain('difference in CCC (A − B)');
  }, 120_000);

  it('stats writes coefficients.svg and predicted-vs-actual.svg from the predictions CSV', async () => {
    const csv = join(dir, 'predictions.csv'), plots = join(dir, 'stats-plots');
    expect((await cli(['predict', '--model', modelA, '--study', study, '--split', 'all', '--out', csv])).code).toBe(0);
    const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const answered = rows.filter((c) => c[3] !== '' && c[4] !== '').length;
    const r = await cli(['stats', '--predictions', csv, '--plots', plots]);
    expect(r.code, r.err).toBe(0);
    const files = ['coefficients.svg', 'predicted-vs-actual.svg'].map((f) => join(plots, f));
    expect(r.out).toContain(`wrote ${files.join(', ')}`);
    const [coef, pva] = files.map(svg);
    const t = JSON.parse((await cli(['stats', '--predictions', csv, '--json'])).out);
    const fitted = Object.entries(t.items).filter(([, v]) => !('error' in (v as object))).map(([k]) => k);
    expect(fitted.length).toBeGreaterThan(0);
    for (const it of fitted) expect(texts(coef)).toContain(it);
    expect(marks(coef, 'symbol')).toBe(fitted.length);
    expect(marks(coef, 'rule')).toBe(fitted.length + 2); // the CIs, and the lines at 0 and 1
    expect(texts(coef)).toContain('coefficient of predicted');
    expect(marks(pva, 'symbol')).toBe(answered);
  }, 120_000);

  it('a folder that cannot be written is one line and exit 1', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await cli(['compare', '--study', study, '--model', modelA, '--model', modelB, '--bootstrap', '20', '--plots', join(file, 'plots')]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/^moodlens: compare --plots .*not-a-folder\/plots: cannot write there \(a file is in the way\); choose a folder you can write to$/);
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'read-only');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(ro); chmodSync(ro, 0o500);
      const s = await cli(['stats', '--predictions', join(dir, 'predictions.csv'), '--plots', ro]);
      expect(s.err).toMatch(/stats --plots .*read-only: cannot write there \(permission denied\)/);
    }
  }, 120_000);
});

describe('coverageCurve', () => {
  it('fits the intervals on the calibration rows at each level and counts the test rows inside, per item and pooled', () => {
    // One item, calibration residuals 0.1 … 0.9: at 50 % the ⌈10·0.5⌉ = 5th smallest, 0.5; at 80 % the 8th, 0.8.
    const cal = { actual: Array.from({ length: 9 }, (_, i) => (i + 1) / 10), predicted: new Array(9).fill(0) };
    // Test residuals 0.2, 0.6, 0.85 and an unanswered row.
    const test = { actual: [0.2, 0.6, 0.85, NaN], predicted: [0, 0, 0, 0] };
    const c = coverageCurve(cal, test, ['happy'], [0.5, 0.8]);
    expect(c.map((r) => [r.item, r.nominal, r.halfWidth, r.observed, r.n])).toEqual([
      ['happy', 0.5, 0.5, 1 / 3, 3], ['all items', 0.5, NaN, 1 / 3, 3],
      ['happy', 0.8, 0.8, 2 / 3, 3], ['all items', 0.8, NaN, 2 / 3, 3],
    ]);
  });
});
