/**
 * Pool runs of the same arms on independently generated studies (the planted bench's
 * *.predictions.json files) and compare two arms with a bootstrap over (study, seed, participant):
 *   npx tsx bench/amm/pool.ts --better mtl-all --worse no-it [--out FILE.md] RUN.predictions.json ...
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pooledComparison, pooledDelta, METRICS, type RunPredictions } from '../../src/amm/experiment.js';

const argv = process.argv.slice(2);
const take = (k: string) => { const i = argv.indexOf(`--${k}`); if (i < 0) return undefined; const v = argv[i + 1]; argv.splice(i, 2); return v; };
const better = take('better'), worse = take('worse'), out = take('out'), B = Number(take('bootstrap') ?? '1000');
if (!better || !worse || argv.length === 0) { console.error('usage: pool.ts --better ARM --worse ARM [--out FILE.md] RUN.predictions.json ...'); process.exit(2); }
const runs = argv.map((f) => ({ name: basename(f).replace(/\.predictions\.json$/, ''), predictions: JSON.parse(readFileSync(f, 'utf8')) as RunPredictions }));
const r = pooledComparison(runs, better, worse, B);
const byRun = runs.length > 2 ? pooledDelta(runs, better, worse, B, 'run') : null;
const each = runs.map((x) => ({ name: x.name, d: pooledDelta([x], better, worse, B).microF1 }));
const pct = (v: number) => (100 * v).toFixed(1);
const cell = (c: { estimate: number; lower: number; upper: number }) => `${pct(c.estimate)} [${pct(c.lower)}, ${pct(c.upper)}]`;
const names = { precision: 'P', recall: 'R', microF1: 'micro-F1', accuracy: 'Acc', balancedAccuracy: 'BAcc' } as const;
const md = [
  `## Pooled: ${better} vs ${worse} over ${runs.length} runs (${r.n} labelled test predictions)`, '',
  `Runs: ${runs.map((x) => x.name).join(', ')}. 95 % percentile bootstrap over (run, seed, participant) clusters, B = ${B}.`, '',
  `| | ${METRICS.map((m) => names[m]).join(' | ')} |`, `|---|${METRICS.map(() => '---').join('|')}|`,
  `| ${better} | ${METRICS.map((m) => cell(r.better[m])).join(' | ')} |`,
  `| ${worse} | ${METRICS.map((m) => cell(r.worse[m])).join(' | ')} |`,
  `| Δ | ${METRICS.map((m) => cell(r.delta[m])).join(' | ')} |`, '',
  `Beyond the CI (micro-F1): ${r.delta.microF1.lower > 0 ? 'yes' : 'no'}.`, '',
  '| run | Δ micro-F1 [95 % CI] |', '|---|---|',
  ...each.map((x) => `| ${x.name} | ${cell(x.d)} |`), '',
  ...(byRun ? [`Resampling whole runs instead (a study-level interval, coarse with ${runs.length} runs): Δ micro-F1 ${cell(byRun.microF1)}, ` +
    `beyond the CI: ${byRun.microF1.lower > 0 ? 'yes' : 'no'}.`, ''] : []),
].join('\n');
if (out) writeFileSync(out, md);
console.log(md);
