/**
 * Experiment tables: per-row, per-item CCC averaged over seeds, the mean over items with a 95 %
 * CI (across seeds when there are several: mean ± t·SD/√n; with one seed, the participant
 * bootstrap CI of that run), as markdown, CSV and an SVG chart (vega-lite → vega, headless).
 */
import type * as vl from 'vega-lite';
import { csvLine } from '../util/csv.js';
import type { Dataset, Split } from '../data/dataset.js';
import { BASELINE_LABELS, BASELINE_NAMES, baselinePredictions } from './baselines.js';
import { evaluatePredictions } from './evaluate.js';
import { renderSvg } from './plots.js';

export interface RowSummary {
  id: string;
  cells: Record<string, string>;
  items: Record<string, number>;
  mean: number; sd: number; ciLow: number; ciHigh: number; seeds: number; seconds: number;
}

export interface SeedRun { items: Record<string, number>; mean: number; ciLow: number; ciHigh: number; seconds: number }

/** Two-sided 97.5 % Student t quantiles for df = 1..30 (then ≈ normal). */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function summarizeRow(id: string, cells: Record<string, string>, runs: SeedRun[]): RowSummary {
  const n = runs.length, items: Record<string, number> = {};
  for (const it of Object.keys(runs[0].items)) items[it] = runs.reduce((a, r) => a + r.items[it], 0) / n;
  const means = runs.map((r) => r.mean), mean = means.reduce((a, b) => a + b, 0) / n;
  const vals = Object.values(items).filter(Number.isFinite);
  const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
  const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mu) ** 2, 0) / Math.max(1, vals.length - 1));
  let ciLow = runs[0].ciLow, ciHigh = runs[0].ciHigh;
  if (n > 1) {
    const s = Math.sqrt(means.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    const h = (T975[n - 2] ?? 1.96) * s / Math.sqrt(n);
    ciLow = mean - h; ciHigh = mean + h;
  }
  return { id, cells, items, mean, sd, ciLow, ciHigh, seeds: n, seconds: runs.reduce((a, r) => a + r.seconds, 0) };
}

/**
 * The four reference predictors (baselines.ts) as table rows on the split's test instances — the
 * same reports every model row is scored on. They do not depend on a seed: one run each, the
 * participant-bootstrap CI of that run. `cellKey` is the table column that carries the label.
 */
export function baselineSummaries(ds: Dataset, split: Split, cellKey: string, B = 500): RowSummary[] {
  const preds = baselinePredictions(ds, split, split.test);
  return BASELINE_NAMES.map((b) => {
    const e = evaluatePredictions(ds, split.test, preds[b], { B });
    const items = Object.fromEntries(Object.entries(e.items).map(([k, v]) => [k, v.ccc]));
    return summarizeRow(`baseline-${b}`, { [cellKey]: `reference: ${BASELINE_LABELS[b]}` }, [{ items, mean: e.meanCCC, ciLow: e.meanCiLow, ciHigh: e.meanCiHigh, seconds: 0 }]);
  });
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');

export function markdownTable(title: string, rows: RowSummary[]): string {
  const cellKeys = [...new Set(rows.flatMap((r) => Object.keys(r.cells)))];
  const items = Object.keys(rows[0].items);
  const head = [...cellKeys, ...items, 'Mean (SD)', '95 % CI', 'seeds'];
  const lines = [`### ${title}`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const best = Math.max(...rows.map((r) => r.mean));
  for (const r of rows) {
    const m = `${f3(r.mean)} (${f3(r.sd)})`;
    lines.push(`| ${[...cellKeys.map((k) => r.cells[k] ?? ''), ...items.map((i) => f3(r.items[i])), r.mean === best ? `**${m}**` : m, `[${f3(r.ciLow)}, ${f3(r.ciHigh)}]`, r.seeds].join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

export function csvTable(rows: RowSummary[]): string {
  const cellKeys = [...new Set(rows.flatMap((r) => Object.keys(r.cells)))];
  const items = Object.keys(rows[0].items);
  let out = csvLine(['row', ...cellKeys, ...items, 'mean', 'sd', 'ci_low', 'ci_high', 'seeds', 'train_seconds']);
  for (const r of rows) out += csvLine([r.id, ...cellKeys.map((k) => r.cells[k] ?? ''), ...items.map((i) => r.items[i]), r.mean, r.sd, r.ciLow, r.ciHigh, r.seeds, Math.round(r.seconds)]);
  return out;
}

/** Dot plot: one line per row; a dot per item's CCC, the mean as a black tick with its CI. */
export async function svgChart(title: string, rows: RowSummary[]): Promise<string> {
  const label = (r: RowSummary) => Object.values(r.cells).join(' / ');
  const points = rows.flatMap((r) => Object.entries(r.items).filter(([, v]) => Number.isFinite(v)).map(([item, ccc]) => ({ row: label(r), item, ccc })));
  const means = rows.map((r) => ({ row: label(r), mean: r.mean, lo: r.ciLow, hi: r.ciHigh }));
  const order = rows.map(label);
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title, width: 520, height: { step: 22 },
    layer: [
      { data: { values: points }, mark: { type: 'point', filled: true, opacity: 0.7 },
        encoding: { y: { field: 'row', type: 'nominal', sort: order, title: null }, x: { field: 'ccc', type: 'quantitative', title: 'CCC (test)' }, color: { field: 'item', type: 'nominal' } } },
      { data: { values: means }, mark: { type: 'rule', color: 'black' },
        encoding: { y: { field: 'row', type: 'nominal', sort: order }, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
      { data: { values: means }, mark: { type: 'tick', color: 'black', thickness: 2 },
        encoding: { y: { field: 'row', type: 'nominal', sort: order }, x: { field: 'mean', type: 'quantitative' } } },
    ],
  };
  return renderSvg(spec);
}
