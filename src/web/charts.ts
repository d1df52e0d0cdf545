/**
 * Vega-Lite chart specs shared by the researcher dashboard and the command line's reports:
 * plain functions from data rows to a spec (no DOM, no Node APIs), so either side renders them
 * (the dashboard with vega's View in the page, the CLI with vega's SVG renderer).
 */
import type { QualityRowBody } from '../server/http/responses.js';
import type { TopLevelSpec } from 'vega-lite';

/** One reported answer or one prediction of an item at a time. */
export interface TrajectoryPoint { time: string; item: string; value: number; lo?: number; hi?: number; source: 'reported' | 'predicted' }

/** Colours of the trajectories' two sources, named in their legend. */
export const TRAJECTORY_SOURCES = { reported: { label: 'reported', color: '#1a4f8b' }, predicted: { label: 'predicted (with interval)', color: '#b34700' } } as const;

/**
 * Item trajectories, one small panel per item: reported answers as a line with points, the
 * model's predictions as diamonds with their interval [lo, hi] as a bar (split-conformal
 * half-widths around the point prediction); a legend above names the two. `width` is one
 * panel's, `columns` the panels per row (a phone: 1).
 */
export function trajectorySpec(points: TrajectoryPoint[], opts: { width?: number; columns?: number } = {}): TopLevelSpec {
  const { reported, predicted } = TRAJECTORY_SOURCES;
  const color = (source: string) => ({
    datum: source, type: 'nominal',
    scale: { domain: [reported.label, predicted.label], range: [reported.color, predicted.color] },
    legend: { title: null, orient: 'top', direction: 'horizontal' },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: points },
    facet: { field: 'item', type: 'nominal', title: null },
    columns: opts.columns ?? 3,
    resolve: { scale: { x: 'shared' } },
    spec: {
      width: opts.width ?? 220, height: 120,
      layer: [
        { transform: [{ filter: "datum.source === 'predicted'" }],
          mark: { type: 'errorbar', ticks: true },
          encoding: { x: { field: 'time', type: 'temporal', title: null, axis: { format: '%d %b %H:%M', labelAngle: -30, tickCount: 4 } }, y: { field: 'lo', type: 'quantitative', title: '0–100', scale: { domain: [0, 100] } }, y2: { field: 'hi' }, color: color(predicted.label) } },
        { transform: [{ filter: "datum.source === 'reported'" }],
          mark: { type: 'line', point: true },
          encoding: { x: { field: 'time', type: 'temporal' }, y: { field: 'value', type: 'quantitative' }, color: color(reported.label), tooltip: [{ field: 'time', type: 'temporal', format: '%Y-%m-%d %H:%M' }, { field: 'value', type: 'quantitative' }] } },
        { transform: [{ filter: "datum.source === 'predicted'" }],
          mark: { type: 'point', shape: 'diamond', filled: true, size: 50 },
          encoding: { x: { field: 'time', type: 'temporal' }, y: { field: 'value', type: 'quantitative' }, color: color(predicted.label), tooltip: [{ field: 'value', type: 'quantitative', title: 'predicted', format: '.1f' }, { field: 'lo', type: 'quantitative', format: '.1f' }, { field: 'hi', type: 'quantitative', format: '.1f' }] } },
      ],
    },
  } as TopLevelSpec;
}

/** Answered vs scheduled prompts per day (compliance), one row per participant and day. */
export interface ComplianceRow { participant: string; day: string; scheduled: number; answered: number }

/**
 * Compliance per local day: scheduled prompts already due at `nowMs` vs reports answering a
 * scheduled prompt, each on the local day of its own time (the offset it carries).
 */
export function compliance(participant: string, prompts: { time: string }[], reports: { time: string; trigger: string }[], nowMs: number): ComplianceRow[] {
  const rows = new Map<string, ComplianceRow>();
  const row = (day: string) => rows.get(day) ?? rows.set(day, { participant, day, scheduled: 0, answered: 0 }).get(day)!;
  for (const p of prompts) if (Date.parse(p.time) <= nowMs) row(localDayHour(p.time).day).scheduled++;
  for (const r of reports) if (r.trigger === 'scheduled') row(localDayHour(r.time).day).answered++;
  return [...rows.values()].sort((a, b) => a.day.localeCompare(b.day));
}

export function complianceSpec(rows: ComplianceRow[], opts: { width?: number } = {}): TopLevelSpec {
  const long = rows.flatMap((r) => [
    { participant: r.participant, day: r.day, kind: 'scheduled', n: r.scheduled },
    { participant: r.participant, day: r.day, kind: 'answered', n: r.answered },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: long },
    width: opts.width ?? 420, height: 160,
    mark: 'bar',
    encoding: {
      x: { field: 'day', type: 'ordinal', title: 'day' },
      xOffset: { field: 'kind' },
      y: { field: 'n', type: 'quantitative', aggregate: 'sum', title: 'prompts' },
      color: { field: 'kind', type: 'nominal', scale: { domain: ['scheduled', 'answered'], range: ['#9aa9bd', '#1a4f8b'] }, title: null },
      tooltip: [{ field: 'day' }, { field: 'kind' }, { field: 'n', aggregate: 'sum' }],
    },
  } as TopLevelSpec;
}

/**
 * Values per (local day, hour of day) — e.g. mean activity counts, or reports — as a day × hour
 * heat map. Several cells of one day and hour are summed; extra fields (e.g. `minutes` recorded)
 * go in the tooltip when named in `opts.tooltip`.
 */
export interface HeatCell { day: string; hour: number; value: number; [extra: string]: string | number | null }

export function dayHourHeatmapSpec(cells: HeatCell[], opts: { title?: string; width?: number; tooltip?: string[]; legend?: 'right' | 'bottom' } = {}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.title,
    data: { values: cells },
    width: opts.width ?? 420, height: { step: 14 },
    mark: 'rect',
    encoding: {
      x: { field: 'hour', type: 'ordinal', title: 'hour of day', scale: { domain: Array.from({ length: 24 }, (_, h) => h) }, axis: { labelExpr: (opts.width ?? 420) < 300 ? 'datum.value % 3 === 0 ? datum.label : ""' : 'datum.label', labelAngle: 0 } },
      y: { field: 'day', type: 'ordinal', title: 'day' },
      color: { field: 'value', type: 'quantitative', aggregate: 'sum', scale: { scheme: 'blues' }, title: opts.title ?? 'count', legend: { format: '~s', orient: opts.legend ?? 'right' } },
      tooltip: [{ field: 'day' }, { field: 'hour' }, { field: 'value', aggregate: 'sum', title: opts.title ?? 'value', format: '.3~f' }, ...(opts.tooltip ?? []).map((f) => ({ field: f, aggregate: 'sum' as const, title: f }))],
    },
  } as TopLevelSpec;
}

/** Data quality of one participant-day (the server's GET /studies/:id/quality rows). */
export type QualityRow = QualityRowBody;

/** Wear time per day (% of the local day with a valid wristband epoch), one bar per participant. */
export function wearSpec(rows: QualityRow[], opts: { width?: number } = {}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows.map((r) => ({ participant: r.participantId, day: r.day, wear: r.wearFraction, hours: Math.round(r.wearMinutes / 6) / 10 })) },
    width: opts.width ?? 420, height: 140,
    mark: 'bar',
    encoding: {
      x: { field: 'day', type: 'ordinal', title: 'day' },
      xOffset: { field: 'participant' },
      y: { field: 'wear', type: 'quantitative', title: 'wear time (share of day)', scale: { domain: [0, 1] }, axis: { format: '%' } },
      color: { field: 'participant', type: 'nominal', title: null },
      tooltip: [{ field: 'participant' }, { field: 'day' }, { field: 'hours', title: 'hours worn' }, { field: 'wear', format: '.0%' }],
    },
  } as TopLevelSpec;
}

/**
 * Below this many reports a CCC is shown with a caution: its sampling error is large (with
 * n = 10 a 95 % interval spans roughly ±0.4 around a true 0.5), so it says little about the model.
 */
export const SMALL_N = 30;

/**
 * Per-item concordance correlation coefficient (evaluation results); `n`: the reports it rests on;
 * `lo`/`hi`: its interval (e.g. the participant-bootstrap 95 % CI), drawn as a line across the bar.
 */
export interface CccRow { item: string; ccc: number; model?: string; n?: number; lo?: number; hi?: number }

/** The caution under a chart whose estimates from fewer than SMALL_N reports are drawn faded. */
export const SMALL_N_CAUTION = `faded: fewer than ${SMALL_N} reports, too few to rely on`;
const fadeSmallN = { condition: { test: `isValid(datum.n) && datum.n < ${SMALL_N}`, value: 0.4 }, value: 1 };
const anySmallN = (rows: { n?: number }[]) => rows.some((r) => r.n !== undefined && r.n < SMALL_N);
/** A chart title, with the small-n caution as its subtitle when some row rests on fewer than SMALL_N reports. */
const titled = (title: string | undefined, rows: { n?: number }[]) => (title === undefined ? {} : { title: { text: title, ...(anySmallN(rows) ? { subtitle: SMALL_N_CAUTION } : {}) } });

/**
 * CCC per item as bars (one per model when rows name models), with the interval when rows carry
 * one; a CCC from fewer than SMALL_N reports is drawn faded (the dashboard says why in words, a
 * titled chart in its subtitle).
 */
export function cccSpec(rows: CccRow[], opts: { width?: number; title?: string } = {}): TopLevelSpec {
  const lo = Math.min(-0.2, ...rows.flatMap((r) => [r.ccc, r.lo ?? NaN]).filter(Number.isFinite).map((v) => Math.floor(v * 10) / 10));
  const byModel = rows.some((r) => r.model !== undefined);
  const y = { field: 'item', type: 'nominal', title: null, sort: null };
  const group = byModel ? { color: { field: 'model', type: 'nominal', title: null }, yOffset: { field: 'model' } } : {};
  const bar = {
    mark: 'bar',
    encoding: {
      tooltip: [{ field: 'item' }, ...(byModel ? [{ field: 'model' }] : []), { field: 'ccc', format: '.3f' }, { field: 'lo', title: 'CI low', format: '.3f' }, { field: 'hi', title: 'CI high', format: '.3f' }, { field: 'n', title: 'reports' }],
      opacity: fadeSmallN,
      y, ...group,
      x: { field: 'ccc', type: 'quantitative', title: 'CCC', scale: { domain: [lo, 1] } },
    },
  };
  const withCi = rows.some((r) => Number.isFinite(r.lo) && Number.isFinite(r.hi));
  const ci = { transform: [{ filter: 'isValid(datum.lo) && isValid(datum.hi)' }], mark: { type: 'rule', color: 'black' }, encoding: { y, ...(byModel ? { yOffset: { field: 'model' } } : {}), x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...titled(opts.title, rows),
    data: { values: rows },
    width: opts.width ?? 360, height: { step: 16 },
    ...(withCi ? { layer: [bar, ci] } : bar),
  } as TopLevelSpec;
}

/** One answered item of one report: the answer and the model's prediction (the item's scale). */
export interface PredictedActualPoint { item: string; actual: number; predicted: number; participant?: string }

/**
 * Predicted vs actual, one small scatter per item (in the order given) with the identity line
 * (dashed, over the range of that item's values): points on it are exact predictions.
 */
export function predictedActualSpec(points: PredictedActualPoint[], opts: { width?: number; columns?: number; title?: string } = {}): TopLevelSpec {
  const items = [...new Set(points.map((p) => p.item))];
  const axis = (title: string) => ({ type: 'quantitative', title, scale: { zero: false } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    data: { values: points },
    facet: { field: 'item', type: 'nominal', title: null, sort: items },
    columns: opts.columns ?? 3,
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: opts.width ?? 170, height: opts.width ?? 170,
      layer: [
        { transform: [
          { aggregate: [{ op: 'min', field: 'actual', as: 'a0' }, { op: 'min', field: 'predicted', as: 'p0' }, { op: 'max', field: 'actual', as: 'a1' }, { op: 'max', field: 'predicted', as: 'p1' }], groupby: ['item'] },
          { calculate: 'min(datum.a0, datum.p0)', as: 'lo' }, { calculate: 'max(datum.a1, datum.p1)', as: 'hi' }],
        mark: { type: 'rule', color: '#888', strokeDash: [4, 3] },
        encoding: { x: { field: 'lo', ...axis('actual') }, x2: { field: 'hi' }, y: { field: 'lo', ...axis('predicted') }, y2: { field: 'hi' } } },
        { mark: { type: 'point', filled: true, opacity: 0.45, size: 18, color: '#1a4f8b' },
          encoding: { x: { field: 'actual', ...axis('actual') }, y: { field: 'predicted', ...axis('predicted') },
            tooltip: [...(points.some((p) => p.participant !== undefined) ? [{ field: 'participant' }] : []), { field: 'actual', format: '.3~f' }, { field: 'predicted', format: '.3~f' }] } },
      ],
    },
  } as TopLevelSpec;
}

/** Coverage of prediction intervals at one nominal level: the share of reports inside them. */
export interface CoverageRow { item: string; nominal: number; observed: number; n: number }
/** The item name of the rows pooled over every item (drawn black and thick). */
export const ALL_ITEMS = 'all items';

/** Nominal vs observed coverage of the prediction intervals, a line per item and the pooled one; the diagonal is perfect calibration. */
export function calibrationSpec(rows: CoverageRow[], opts: { width?: number; title?: string } = {}): TopLevelSpec {
  const lo = Math.max(0, Math.floor(Math.min(...rows.flatMap((r) => [r.nominal, r.observed])) * 10) / 10);
  const x = { field: 'nominal', type: 'quantitative', title: 'nominal coverage', scale: { domain: [lo, 1] }, axis: { format: '%' } };
  const y = { field: 'observed', type: 'quantitative', title: 'observed coverage', scale: { domain: [lo, 1] }, axis: { format: '%' } };
  const tooltip = [{ field: 'item' }, { field: 'nominal', format: '.0%' }, { field: 'observed', format: '.1%' }, { field: 'n', title: 'reports' }];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...titled(opts.title, rows),
    width: opts.width ?? 360, height: opts.width ?? 360,
    layer: [
      { data: { values: [{ nominal: lo, observed: lo }, { nominal: 1, observed: 1 }] }, mark: { type: 'line', color: '#888', strokeDash: [4, 3] }, encoding: { x, y } },
      { data: { values: rows.filter((r) => r.item !== ALL_ITEMS) }, mark: { type: 'line', point: true, strokeWidth: 1, opacity: 0.7 },
        encoding: { x, y, color: { field: 'item', type: 'nominal', title: null }, opacity: fadeSmallN, tooltip } },
      { data: { values: rows.filter((r) => r.item === ALL_ITEMS) }, layer: [
        { mark: { type: 'line', point: true, color: 'black', strokeWidth: 2.5 }, encoding: { x, y, tooltip } },
        { transform: [{ window: [{ op: 'rank', as: 'fromTop' }], sort: [{ field: 'nominal', order: 'descending' }] }, { filter: 'datum.fromTop === 1' }],
          mark: { type: 'text', align: 'right', dx: -6, dy: -8, fontWeight: 'bold' }, encoding: { x, y, text: { field: 'item' } } },
      ] },
    ],
  } as TopLevelSpec;
}

/** An estimate with its interval, e.g. a paired difference per item or a regression coefficient. */
export interface IntervalRow { label: string; estimate: number; lo: number; hi: number; n?: number }

/**
 * Dot-and-interval plot: a row per estimate (in the order given) with its interval, and dashed
 * reference lines (e.g. 0: no difference); rows from fewer than SMALL_N reports drawn faded.
 */
export function intervalSpec(rows: IntervalRow[], opts: { xTitle: string; reference?: number[]; width?: number; title?: string; subtitle?: string }): TopLevelSpec {
  const order = rows.map((r) => r.label);
  const y = { field: 'label', type: 'nominal', title: null, sort: order };
  const title = opts.title === undefined ? {} : { title: { text: opts.title, subtitle: [opts.subtitle, anySmallN(rows) ? SMALL_N_CAUTION : undefined].filter((s): s is string => !!s) } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...title,
    width: opts.width ?? 420, height: { step: 22 },
    layer: [
      { data: { values: (opts.reference ?? [0]).map((x) => ({ x })) }, mark: { type: 'rule', color: '#888', strokeDash: [4, 3] }, encoding: { x: { field: 'x', type: 'quantitative' } } },
      { data: { values: rows }, layer: [
        { mark: { type: 'rule', strokeWidth: 2, color: '#1a4f8b' }, encoding: { y, x: { field: 'lo', type: 'quantitative', title: opts.xTitle }, x2: { field: 'hi' }, opacity: fadeSmallN } },
        { mark: { type: 'point', filled: true, size: 60, color: '#1a4f8b' }, encoding: { y, x: { field: 'estimate', type: 'quantitative' }, opacity: fadeSmallN,
          tooltip: [{ field: 'label', title: 'row' }, { field: 'estimate', format: '.3f' }, { field: 'lo', format: '.3f' }, { field: 'hi', format: '.3f' }, { field: 'n', title: 'reports' }] } },
      ] },
    ],
  } as TopLevelSpec;
}

/** Local calendar day "YYYY-MM-DD" and hour of an ISO time with offset, in that offset (as the participant saw it). */
export function localDayHour(iso: string): { day: string; hour: number } {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})/.exec(iso);
  if (m) return { day: m[1], hour: Number(m[2]) };
  const d = new Date(iso);
  return { day: d.toISOString().slice(0, 10), hour: d.getUTCHours() };
}
