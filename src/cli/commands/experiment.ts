/**
 * `moodlens experiment …`: the experiment designs, one command family.
 * - `experiment table2|table3 --study DIR [--seeds N] [--out DIR]`: trains every row of the
 *   paper's table (src/train/experiments.ts) for each seed on the chronological split, evaluates
 *   on test (with the four reference predictors on the same test reports as extra rows), and
 *   writes table.md, table.csv, chart.svg and runs/<row>-seed<k>.json (finished runs are kept, so
 *   a killed experiment continues where it stopped). Rows run on --workers threads.
 * - `experiment amm|mimml …`: the AMM and MIMML designs (./experiment-seq.ts).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { UsageError } from '../../util/errors.js';
import { progress } from '../../util/progress.js';
import { PRESETS, merge } from '../../train/presets.js';
import { TABLES } from '../../train/experiments.js';
import { loadDataset, makeSplit } from '../../train/study-node.js';
import { runPool } from '../../train/pool-node.js';
import type { Job, JobResult } from '../../train/experiment-job.js';
import { makeConfig, type ConfigInput } from '../../model/config.js';
import { baselineSummaries, csvTable, markdownTable, summarizeRow, svgChart, type SeedRun } from '../../eval/report.js';
import { registerSequenceExperiments } from './experiment-seq.js';

const Flags = z.object({
  study: z.string().min(1),
  seeds: z.coerce.number().int().positive().max(50).default(1),
  out: z.string().optional(),
  epochs: z.coerce.number().int().positive().default(6),
  earlyStop: z.coerce.number().int().positive().default(3),
  batchSize: z.coerce.number().int().positive().default(128),
  lr: z.coerce.number().positive().optional(),
  workers: z.coerce.number().int().positive().max(16).default(2),
  rows: z.string().optional(),
  queue: z.string().regex(/^postgres(ql)?:\/\//, 'expected a PostgreSQL URL (postgres://user@host:5432/db)').optional(),
});

const TABLE_TITLES: Record<string, string> = {
  table2: "the paper's Table 2: single modality ± personalisation",
  table3: "the paper's Table 3: fusion × personalisation × multitask",
};

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  const experiment = program.command('experiment')
    .description("experiment designs: the paper's Tables 2 and 3, and the AMM and MIMML designs");
  for (const [table, title] of Object.entries(TABLE_TITLES)) {
    experiment.command(table)
      .description(`train the rows of ${title}`)
      .requiredOption('--study <dir>', 'study folder')
      .option(...opt('--seeds <n>', 'seeds per row (CI across seeds when > 1)'))
      .option('--out <dir>', `output folder (default out/${table})`)
      .option(...opt('--epochs <n>', 'maximum epochs per run (the paper: 100; the default keeps table3 on 298 participants under 1 h on 2 cores)'))
      .option(...opt('--early-stop <n>', 'stop a run after this many epochs without development improvement'))
      .option(...opt('--batch-size <n>', 'batch size (the paper: 16; 128 is ~3× faster per sample here)'))
      .option('--lr <x>', 'learning rate (default: the paper preset)')
      .option(...opt('--workers <n>', 'parallel worker threads (one core each)'))
      .option('--rows <ids>', 'comma-separated row ids to run (default all)')
      .option('--queue <url>', 'run the rows on `moodlens worker` processes through this PostgreSQL job queue instead of local threads (the study path must be readable by every worker)')
      .action((raw: unknown) => runTable(table, raw));
  }
  registerSequenceExperiments(experiment, program);
}

async function runTable(table: string, raw: unknown): Promise<void> {
  const f = parseFlags(Flags, raw, `experiment ${table}`);
  const rows = TABLES[table];
  const chosen = f.rows ? rows.filter((r) => f.rows!.split(',').includes(r.id)) : rows;
  if (chosen.length === 0) throw new UsageError(`experiment: no row matches --rows ${f.rows} (ids: ${rows.map((r) => r.id).join(', ')})`);
  const out = f.out ?? join('out', table);
  mkdirSync(join(out, 'runs'), { recursive: true });
  const base = PRESETS.paper;
  const policy = makeConfig(base).train.policy;
  const ds = await loadDataset(f.study, policy);
  const split = makeSplit(ds, 'chronological', 0);
  console.log(`${table}: ${chosen.length} rows × ${f.seeds} seed(s) on ${ds.n} instances of ${ds.participantIds.length} participants ` +
    `(train ${split.train.length}); ≤ ${f.epochs} epochs, early stop ${f.earlyStop}, batch ${f.batchSize}, ${f.queue ? `on the job queue at ${new URL(f.queue).host}` : `${f.workers} workers`}`);
  const runFile = (id: string, s: number) => join(out, 'runs', `${id}-seed${s}.json`);
  const jobs: Job[] = [];
  for (const r of chosen) for (let s = 1; s <= f.seeds; s++) {
    if (existsSync(runFile(r.id, s))) continue;
    const config: ConfigInput = merge(base, { model: r.model, train: { seed: s, epochs: f.epochs, earlyStop: f.earlyStop, batchSize: f.batchSize, ...(f.lr && { lr: f.lr }) } });
    jobs.push({ key: `${r.id}|${s}`, ds, split, config, label: r.id });
  }
  const t0 = Date.now();
  const bar = progress(table, jobs.length);
  const onDone = (res: JobResult) => {
    const [id, s] = res.key.split('|');
    writeFileSync(runFile(id, Number(s)), JSON.stringify(res));
    bar.tick(1);
    if (!process.stderr.isTTY) console.log(`  ${id} seed ${s}: mean CCC ${res.evaluation.meanCCC.toFixed(3)} (best epoch ${res.bestEpoch}/${res.epochs}, ${res.seconds.toFixed(0)} s)`);
  };
  if (f.queue) {
    // Rows × seeds as jobs; `moodlens worker` processes train them; results are gathered as they finish.
    const { PgBossEngine } = await import('../../queue/pgboss.js');
    const { runQueued } = await import('../../train/experiment-queue.js');
    const engine = new PgBossEngine({ connectionString: f.queue });
    try {
      await engine.start().catch((e) => { throw new UsageError(`experiment: cannot reach the job queue at ${new URL(f.queue!).host} (${(e as Error).message}); check --queue`); });
      await runQueued(engine, f.study, jobs.map(({ key, config, label }) => ({ key, config, label })), onDone);
    } finally { await engine.stop(); }
  } else await runPool(jobs, f.workers, onDone);
  bar.stop();
  const summaries = chosen.map((r) => {
    const runs: SeedRun[] = [];
    for (let s = 1; s <= f.seeds; s++) {
      const j = JSON.parse(readFileSync(runFile(r.id, s), 'utf8')) as JobResult;
      runs.push({ items: Object.fromEntries(Object.entries(j.evaluation.items).map(([k, v]) => [k, v.ccc])), mean: j.evaluation.meanCCC, ciLow: j.evaluation.meanCiLow, ciHigh: j.evaluation.meanCiHigh, seconds: j.seconds });
    }
    return summarizeRow(r.id, r.cells, runs);
  });
  // The reference predictors on the same test reports (issue 16), below the model rows.
  summaries.push(...baselineSummaries(ds, split, Object.keys(chosen[0].cells)[0]));
  const title = `${table === 'table2' ? 'Table 2 (single modality)' : 'Table 3 (fusion × personalisation × multitask)'} — test CCC, ${ds.participantIds.length} participants, ${f.seeds} seed(s)`;
  const md = markdownTable(title, summaries);
  writeFileSync(join(out, 'table.md'), md);
  writeFileSync(join(out, 'table.csv'), csvTable(summaries));
  writeFileSync(join(out, 'chart.svg'), await svgChart(title, summaries));
  console.log(md);
  console.log(`wrote ${join(out, 'table.md')}, table.csv, chart.svg in ${((Date.now() - t0) / 60000).toFixed(1)} min (this invocation)`);
}
