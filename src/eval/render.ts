/**
 * Evaluations as terminal tables (cli-table3): per-item CCC with CIs, by missingness pattern, and
 * the reference predictors beside the model. Used by `moodlens evaluate` and the demo.
 */
import Table from 'cli-table3';
import type { Evaluation, EvaluationWithBaselines } from './evaluate.js';
import { BASELINE_LABELS, BASELINE_NAMES } from './baselines.js';

export function renderEvaluation(e: Evaluation, title: string): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
  const t = new Table({ head: ['item', 'CCC', '95 % CI', 'n'], style: { head: [], border: [] } });
  for (const [id, r] of Object.entries(e.items)) t.push([id, f(r.ccc), `[${f(r.ciLow)}, ${f(r.ciHigh)}]`, r.n]);
  t.push(['mean (SD)', `${f(e.meanCCC)} (${f(e.sdCCC)})`, `[${f(e.meanCiLow)}, ${f(e.meanCiHigh)}]`, e.n]);
  const p = new Table({ head: ['modalities present', 'n', 'mean CCC', '95 % CI'], style: { head: [], border: [] } });
  for (const r of e.byPattern) p.push([r.pattern, r.n, f(r.meanCCC), `[${f(r.ciLow)}, ${f(r.ciHigh)}]`]);
  const binary = Object.entries(e.items).filter(([, r]) => r.binary);
  const b = new Table({ head: ['0/1 item', 'balanced accuracy', 'AUC', 'F1', 'n'], style: { head: [], border: [] } });
  for (const [id, r] of binary) b.push([id, f(r.binary!.balancedAccuracy), f(r.binary!.auc), f(r.binary!.f1), r.n]);
  return `${title}: ${e.n} reports of ${e.participants} participants (CIs: participant bootstrap)\n${t.toString()}\nby missingness pattern\n${p.toString()}` +
    (binary.length ? `\n0/1 items (a prediction ≥ 0.5 counts as 1; AUC ranks the predictions)\n${b.toString()}` : '');
}

/** The four reference predictors on the same instances, and the model's paired gain over the best. */
export function renderBaselines(e: EvaluationWithBaselines): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
  const sg = (x: number) => (Number.isFinite(x) ? (x >= 0 ? '+' : '') + x.toFixed(3) : '—');
  const t = new Table({ head: ['predictor (same reports)', 'mean CCC', '95 % CI'], style: { head: [], border: [] } });
  t.push(['model', f(e.meanCCC), `[${f(e.meanCiLow)}, ${f(e.meanCiHigh)}]`]);
  for (const b of BASELINE_NAMES) t.push([`${BASELINE_LABELS[b]} (${b})`, f(e.baselines[b].meanCCC), `[${f(e.baselines[b].meanCiLow)}, ${f(e.baselines[b].meanCiHigh)}]`]);
  const v = e.vsBestBaseline.mean;
  return `reference predictors\n${t.toString()}\nmodel − best baseline (${e.vsBestBaseline.baseline}): ${sg(v.diff)} [${sg(v.ciLow)}, ${sg(v.ciHigh)}] ` +
    `(paired participant bootstrap, B = ${e.vsBestBaseline.B}; model ahead in ${(100 * v.shareAGreater).toFixed(1)} % of resamples)`;
}

/**
 * The model's learned weights (model.report()) named by what they weigh: fusion weights by
 * modality, task weights by item; a single value as it is; per-user values are left out.
 */
export function renderLearnedWeights(report: Record<string, number[]>, modalities: string[], items: string[]): string[] {
  const words: Record<string, string> = { modalityWeights: 'modality weights', s: 'fusion s_m', taskWeights: 'task weights', lambda: 'λ (macro share)' };
  const namedBy: Record<string, string[]> = { modalityWeights: modalities, s: modalities, taskWeights: items };
  const lines: string[] = [];
  for (const [key, v] of Object.entries(report)) {
    const names = namedBy[key] ?? (v.length === 1 ? [''] : null);
    if (!names || names.length !== v.length) continue;
    lines.push(`learned ${words[key] ?? key}: ${v.map((x, i) => `${names[i] ? names[i] + ' ' : ''}${x.toFixed(3)}`).join(', ')}`);
  }
  return lines;
}
