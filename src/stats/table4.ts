/**
 * The paper's statistical validation (MM Table 4, SPEC §3 "Statistics"): for each item, the linear
 * mixed model  actual ~ 1 + predicted + (1 | participant)  fitted by REML. A slope of `predicted`
 * near 1 with a small intercept says the predictions track the reports; the group variance is the
 * between-participant spread the predictions leave unexplained. Pure; browser-safe.
 */
import { fitLmm, type FitMethod, type FixedEffect, type MixedModelFit } from './lmm.js';
import type { SeMethod } from './lmm-information.js';

/** One prediction of one item of one report (a row of the `moodlens predict` CSV). */
export interface PredictionRecord {
  participant: string;
  item: string;
  actual: number;
  predicted: number;
}

export type WaldRow = Omit<FixedEffect, 'name'>;

/** One item's row of Table 4: the slope of `predicted` at the top level, the intercept nested. */
export interface Table4Row extends WaldRow {
  intercept: WaldRow;
  groupVar: number;
  residualVar: number;
  logLik: number;
  converged: boolean;
  nObs: number;
  nGroups: number;
  /** Notes such as a boundary fit (group variance ≈ 0). */
  warnings: string[];
}

export interface Table4 {
  method: FitMethod;
  /** Item → its fit, or the reason it could not be fitted (e.g. constant predictions). */
  items: Record<string, Table4Row | { error: string }>;
}

export interface Table4Options {
  method?: FitMethod;
  se?: SeMethod;
  /** Called after each item (for a progress bar). */
  onItem?: (item: string) => void;
}

const wald = ({ coef, se, z, p, ciLow, ciHigh }: FixedEffect): WaldRow => ({ coef, se, z, p, ciLow, ciHigh });

export function table4Row(fit: MixedModelFit): Table4Row {
  const [icpt, slope] = fit.fixed;
  return {
    intercept: wald(icpt), ...wald(slope),
    groupVar: fit.groupVar, residualVar: fit.residualVar, logLik: fit.logLik,
    converged: fit.converged, nObs: fit.nObs, nGroups: fit.nGroups, warnings: fit.warnings,
  };
}

/** Fit every item (in order of first appearance). A failing item gets `{error}`; the others still fit. */
export function table4(records: readonly PredictionRecord[], opts: Table4Options = {}): Table4 {
  const byItem = new Map<string, PredictionRecord[]>();
  for (const r of records) {
    const list = byItem.get(r.item);
    if (list) list.push(r); else byItem.set(r.item, [r]);
  }
  const items: Table4['items'] = {};
  for (const [item, rows] of byItem) {
    try {
      const fit = fitLmm({
        y: rows.map((r) => r.actual), yName: 'actual',
        fixed: { predicted: rows.map((r) => r.predicted) },
        groups: rows.map((r) => r.participant),
      }, { method: opts.method ?? 'REML', se: opts.se });
      items[item] = table4Row(fit);
    } catch (e) {
      items[item] = { error: (e as Error).message.replace(/^mixed model: /, '') };
    }
    opts.onItem?.(item);
  }
  return { method: opts.method ?? 'REML', items };
}
