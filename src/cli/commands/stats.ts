/**
 * `moodlens stats --predictions FILE [--json]`: the paper's Table 4 — per item, the linear mixed
 * model actual ~ predicted with a random intercept per participant (REML), from the long CSV that
 * `moodlens predict` writes (participant_id, report_id, item, actual, predicted; more columns
 * allowed). Every row is validated; all problems are listed with file:line:column. `--plots DIR`
 * writes coefficients.svg (the coefficient of predicted per item with its CI) and predicted-vs-actual.svg.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import Table from 'cli-table3';
import { z } from 'zod';
import { IdCell, numberCell } from '../../data/rows.js';
import { readCsv } from '../../util/csv.js';
import { InputError, UsageError, type InputIssue } from '../../util/errors.js';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { progress } from '../../util/progress.js';
import { statsPlots, writePlots } from '../../eval/plots.js';
import { table4, type PredictionRecord, type Table4 } from '../../stats/table4.js';

const Flags = z.object({
  predictions: z.string({ error: 'give the predictions CSV (--predictions FILE)' }).min(1, 'give the predictions CSV (--predictions FILE)'),
  json: z.boolean().default(false),
  method: z.enum(['REML', 'ML']).default('REML'),
  se: z.enum(['statsmodels', 'lme4']).default('statsmodels'),
  dropMissing: z.boolean().default(false),
  plots: z.string().min(1, 'give a folder (--plots DIR)').optional(),
});

export const PREDICTION_COLUMNS = ['participant_id', 'report_id', 'item', 'actual', 'predicted'] as const;

/** One row of the predictions CSV; empty actual/predicted cells parse to NaN (missing). */
const PredictionRowSchema = z.object({
  participant_id: IdCell,
  report_id: IdCell,
  item: IdCell,
  actual: numberCell(),
  predicted: numberCell(),
});

export interface ReadPredictions {
  records: PredictionRecord[];
  /** Rows skipped because `predicted` was empty (only with dropMissing). */
  dropped: number;
  /** Rows skipped because `actual` was empty (an unanswered item). */
  unanswered: number;
}

/**
 * Read and validate the predictions CSV. Rows with an empty `actual` (unanswered items) are skipped
 * and counted. Throws InputError listing every bad row (file:line:column: field: what was expected),
 * empty `predicted` cells (unless `dropMissing`) and duplicate (report, item) pairs.
 */
export async function readPredictions(file: string, dropMissing = false): Promise<ReadPredictions> {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  const issues: InputIssue[] = [];
  const records: PredictionRecord[] = [];
  const seen = new Map<string, number>();
  let dropped = 0, unanswered = 0, header: string[] | null = null;
  for await (const row of readCsv(file)) {
    if (!header) {
      header = row.header;
      const absent = PREDICTION_COLUMNS.filter((c) => !header!.includes(c));
      if (absent.length) throw new InputError([{ file, line: 1, message: `missing column${absent.length > 1 ? 's' : ''} ${absent.join(', ')} (expected ${PREDICTION_COLUMNS.join(',')}[,…])` }]);
    }
    const col = (field: string) => header!.indexOf(field) + 1;
    const r = PredictionRowSchema.safeParse(row.values);
    if (!r.success) {
      for (const i of r.error.issues) {
        const field = String(i.path[0]);
        issues.push({ file, line: row.line, column: col(field), field, message: i.message });
      }
      continue;
    }
    const v = r.data;
    // An empty `actual` is an unanswered item (the masked policy writes those): nothing to compare.
    if (Number.isNaN(v.actual)) { unanswered++; continue; }
    if (Number.isNaN(v.predicted)) {
      if (dropMissing) { dropped++; continue; }
      issues.push({ file, line: row.line, column: col('predicted'), field: 'predicted', message: 'missing value (use --drop-missing to skip such rows)' });
      continue;
    }
    const key = `${v.report_id}\u0000${v.item}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({ file, line: row.line, column: col('report_id'), field: 'report_id', message: `report ${v.report_id} item ${v.item} also on line ${first}` });
      continue;
    }
    seen.set(key, row.line);
    records.push({ participant: v.participant_id, item: v.item, actual: v.actual, predicted: v.predicted });
  }
  if (!header) throw new InputError([{ file, message: 'empty file: expected a header line and rows' }]);
  if (issues.length) throw new InputError(issues);
  if (records.length === 0) throw new InputError([{ file, message: 'no usable rows' }]);
  return { records, dropped, unanswered };
}

const f = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const g = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(3)) : '–');
const pv = (p: number) => (!Number.isFinite(p) ? '–' : p < 0.001 ? '<0.001' : p.toFixed(3));

/** Table 4 as text: one row per item. */
export function renderTable4(t: Table4): string {
  const tab = new Table({
    head: ['item', 'intercept (SE)', 'coef', 'SE', 'z', 'p', '95 % CI', 'group var', 'residual var', 'n', 'groups', 'converged'],
    style: { head: [], border: [], compact: true },
  });
  const notes: string[] = [];
  for (const [item, r] of Object.entries(t.items)) {
    if ('error' in r) { tab.push([item, { colSpan: 11, content: `not fitted: ${r.error}` }]); continue; }
    tab.push([item, `${f(r.intercept.coef)} (${f(r.intercept.se)})`, f(r.coef), f(r.se), f(r.z, 2), pv(r.p),
      `[${f(r.ciLow)}, ${f(r.ciHigh)}]`, g(r.groupVar), g(r.residualVar), String(r.nObs), String(r.nGroups), r.converged ? 'yes' : 'NO']);
    for (const w of r.warnings) notes.push(`note: ${item}: ${w}`);
  }
  return [`Linear mixed models actual ~ predicted + (1 | participant), ${t.method} (coef, SE, z, p and CI of predicted):`,
    tab.toString(), ...notes].join('\n');
}

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  program.command('stats')
    .description("the paper's Table 4: per item, a linear mixed model actual ~ predicted with a random intercept per participant")
    .option('--predictions <file>', 'long CSV: participant_id,report_id,item,actual,predicted[,…] (as `moodlens predict` writes)')
    .option('--json', 'print {items: {<item>: {intercept, coef, se, z, p, ciLow, ciHigh, groupVar, residualVar, logLik, converged, nObs, nGroups}}}')
    .option(...opt('--method <REML|ML>', 'REML (default, as the paper) or ML'))
    .option(...opt('--se <statsmodels|lme4>', "standard errors as statsmodels' MixedLM (default) or as lme4 (they differ slightly on unbalanced data)"))
    .option('--drop-missing', 'skip rows whose predicted value is empty instead of failing (rows with an empty actual, i.e. unanswered items, are always skipped)')
    .option(...opt('--plots <dir>', 'also write SVG plots there: coefficients.svg (the coefficient of predicted per item with its CI) and predicted-vs-actual.svg'))
    .action(async (raw: unknown) => {
      const flags = parseFlags(Flags, raw, 'stats');
      const { records, dropped, unanswered } = await readPredictions(flags.predictions, flags.dropMissing);
      const nItems = new Set(records.map((r) => r.item)).size;
      const bar = progress('fitting items', nItems);
      const t = table4(records, { method: flags.method, se: flags.se, onItem: () => bar.tick() });
      bar.stop();
      if (unanswered) console.error(`stats: skipped ${unanswered} row${unanswered > 1 ? 's' : ''} with no actual value (unanswered items)`);
      if (dropped) console.error(`stats: dropped ${dropped} row${dropped > 1 ? 's' : ''} with no predicted value`);
      console.log(flags.json ? JSON.stringify(t, null, 2) : renderTable4(t));
      if (flags.plots) {
        const paths = await writePlots('stats', flags.plots, statsPlots(t, records));
        (flags.json ? console.error : console.log)(`wrote ${paths.join(', ')}`);
      }
      // Exit 1 only when no item could be fitted; per-item failures are in the output.
      if (Object.values(t.items).every((r) => 'error' in r)) process.exitCode = 1;
    });
}
