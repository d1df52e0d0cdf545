/**
 * SVG plots for the command line (`evaluate`, `compare`, `stats` with `--plots DIR`): the
 * dashboard's Vega-Lite specs (src/web/charts.ts) filled with a command's results and rendered
 * headless (vega-lite → vega → SVG, no browser, no canvas).
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fsProblem, UsageError } from '../util/errors.js';
import type { Dataset } from '../data/dataset.js';
import { unscaleLabel } from '../data/instances.js';
import type { PredictionRecord, Table4 } from '../stats/table4.js';
import { calibrationSpec, cccSpec, intervalSpec, predictedActualSpec, type CccRow, type IntervalRow, type PredictedActualPoint } from '../web/charts.js';
import type { PairedComparison, PairedResult } from './compare.js';
import type { Coverage } from './conformal.js';
import type { Evaluation } from './evaluate.js';

/** A Vega-Lite spec as an SVG document (`<svg …>…</svg>`). */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try { return await view.toSVG(); } finally { view.finalize(); }
}

/** A plot to write: its file name in the plots folder and its spec. */
export interface Plot { file: string; spec: vl.TopLevelSpec }

/**
 * Render every plot, then write them into `dir` (created when absent); returns the paths written.
 * A folder that cannot be written is a UsageError of one line naming the flag and why.
 */
export async function writePlots(command: string, dir: string, plots: Plot[]): Promise<string[]> {
  const svgs = await Promise.all(plots.map((p) => renderSvg(p.spec)));
  const cannot = (e: unknown) => new UsageError(`${command} --plots ${dir}: cannot write there (${fsProblem(e)}); choose a folder you can write to`);
  try { mkdirSync(dir, { recursive: true }); } catch (e) { throw cannot(e); }
  return plots.map((p, i) => {
    const path = join(dir, p.file);
    try { writeFileSync(path, svgs[i]); } catch (e) { throw cannot(e); }
    return path;
  });
}

/** Answered (report, item) pairs with a prediction, on each item's own scale. */
export function predictedActualPoints(ds: Dataset, idx: ArrayLike<number>, predicted: ArrayLike<number>): PredictedActualPoint[] {
  const K = ds.items.length, points: PredictedActualPoint[] = [];
  ds.items.forEach((it, k) => {
    for (let r = 0; r < idx.length; r++) {
      const y = ds.labels[idx[r] * K + k], p = predicted[r * K + k];
      if (!Number.isNaN(y) && !Number.isNaN(p)) points.push({ item: it.id, actual: unscaleLabel(it, y), predicted: unscaleLabel(it, p) });
    }
  });
  return points;
}

/**
 * `evaluate --plots`: ccc.svg (per item with its bootstrap CI), predicted-vs-actual.svg and, when
 * the coverage of the model's intervals is given, calibration.svg.
 */
export function evaluationPlots(e: Evaluation, points: PredictedActualPoint[], what: string, coverage: Coverage[] | null): Plot[] {
  const ccc: CccRow[] = Object.entries(e.items).filter(([, r]) => Number.isFinite(r.ccc)).map(([item, r]) => ({ item, ccc: r.ccc, lo: r.ciLow, hi: r.ciHigh, n: r.n }));
  return [
    { file: 'ccc.svg', spec: cccSpec(ccc, { title: `CCC per item with 95 % CI (participant bootstrap), ${what}` }) },
    { file: 'predicted-vs-actual.svg', spec: predictedActualSpec(points, { title: `Predicted vs actual, ${what} (dashed: predicted = actual)` }) },
    ...(coverage ? [{ file: 'calibration.svg', spec: calibrationSpec(coverage, { title: `Calibration of the prediction intervals, ${what}` }) }] : []),
  ];
}

/** `compare --plots`: differences.svg, A − B per item and for the mean CCC with their CIs. */
export function comparisonPlots(c: PairedComparison, a: string, b: string): Plot[] {
  const row = (label: string, r: PairedResult): IntervalRow => ({ label, estimate: r.diff, lo: r.ciLow, hi: r.ciHigh, n: r.n });
  const rows = [...Object.entries(c.items).map(([id, r]) => row(id, r)), row('mean over items', c.mean)].filter((r) => Number.isFinite(r.estimate));
  return [{ file: 'differences.svg', spec: intervalSpec(rows, {
    title: `CCC of ${a} − ${b}`, subtitle: `${Math.round(c.level * 100)} % CI: paired participant bootstrap; right of 0: A is better`, xTitle: 'difference in CCC (A − B)', reference: [0],
  }) }];
}

/** `stats --plots`: coefficients.svg (Table 4's coefficient of predicted per item, with its CI) and predicted-vs-actual.svg. */
export function statsPlots(t: Table4, records: PredictionRecord[]): Plot[] {
  const rows: IntervalRow[] = Object.entries(t.items).flatMap(([item, r]) => ('error' in r ? [] : [{ label: item, estimate: r.coef, lo: r.ciLow, hi: r.ciHigh, n: r.nObs }]));
  return [
    { file: 'coefficients.svg', spec: intervalSpec(rows, {
      title: `actual ~ predicted + (1 | participant), ${t.method}: coefficient of predicted with 95 % CI`, subtitle: '1: predictions on the right scale; 0: no relation', xTitle: 'coefficient of predicted', reference: [0, 1],
    }) },
    { file: 'predicted-vs-actual.svg', spec: predictedActualSpec(records.map((r) => ({ item: r.item, actual: r.actual, predicted: r.predicted, participant: r.participant })), { title: 'Predicted vs actual (dashed: predicted = actual)' }) },
  ];
}
