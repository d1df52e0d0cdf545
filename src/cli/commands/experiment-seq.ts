/**
 * `moodlens experiment amm` and `moodlens experiment mimml` (subcommands of ./experiment.ts): the
 * AMM and MIMML papers' experiment designs (docs/amm.md) on a study folder, on LifeSnaps' daily
 * table, or on the planted study, as markdown and CSV tables of P, R, micro-F1, accuracy and
 * balanced accuracy with bootstrap intervals across seeds.
 */
import type { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { InputError, UsageError } from '../../util/errors.js';
import { schemaIssues } from '../../util/schema-issues.js';
import { csvLine } from '../../util/csv.js';
import { progress } from '../../util/progress.js';
import { initNodeBackend } from '../../train/backend-node.js';
import { TasksConfigSchema, type TasksConfig } from '../../amm/tasks.js';
import { ammDesign, mimmlDesign, runExperiment, experimentMarkdown, experimentCsvRows, CSV_HEADER, commonTestRows, scoreExperiment,
  type Arm, type ArmRun, type ExperimentResult } from '../../amm/experiment.js';
import { loadSeqSource, type SeqSource } from '../../amm/experiment-queue.js';
import type { SeqData } from '../../amm/data.js';
import { MimmlConfigSchema } from '../../amm/config.js';

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

const Flags = z.object({
  study: z.string().optional(),
  lld: z.string().optional(),
  lifesnaps: z.string().optional(),
  personPrior: z.boolean().optional(),
  planted: z.boolean().optional(),
  decoy: z.boolean().optional(),
  rate: z.coerce.number().gt(0).max(1).default(1),
  tasks: z.string().optional(),
  modalities: z.string().optional(),
  parts: z.string().optional(),
  arms: z.string().optional(),
  seeds: z.string().regex(/^\d+(,\d+)*$/, 'comma-separated integers, e.g. 1,2,3').default('1,2,3'),
  epochs: z.coerce.number().int().positive().default(100),
  patience: z.coerce.number().int().min(0).default(15),
  lr: z.coerce.number().positive().default(1e-3),
  batch: z.coerce.number().int().positive().default(64),
  dropout: z.coerce.number().min(0).max(0.9).default(0.3),
  initScale: z.coerce.number().positive().default(0.1),
  hidden: z.coerce.number().int().positive().default(32),
  l2: z.coerce.number().min(0).default(1e-4),
  pool: z.coerce.number().int().positive().default(5),
  balance: z.boolean().optional(),
  unlabelled: z.boolean().optional(),
  miTarget: MimmlConfigSchema.shape.miTarget,
  miWeight: z.coerce.number().min(0).default(0.1),
  auxWeight: z.coerce.number().min(0).default(0.3),
  bootstrap: z.coerce.number().int().positive().default(1000),
  out: z.string().default('results'),
  queue: z.string().regex(/^postgres(ql)?:\/\//, 'expected a PostgreSQL URL (postgres://user@host:5432/db)').optional(),
});
type Flags = z.infer<typeof Flags>;

function readTasks(file: string): TasksConfig {
  let json: unknown;
  try { json = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { throw new UsageError(`--tasks ${file}: not readable JSON (${(e as Error).message})`); }
  const r = TasksConfigSchema.safeParse(json);
  if (!r.success) throw new InputError(schemaIssues(TasksConfigSchema, r.error, file));
  return r.data;
}

/** The data source the flags name (one of --study, --lifesnaps, --planted). */
function sourceOf(f: Flags): SeqSource {
  const sources = [f.study, f.lifesnaps, f.planted].filter(Boolean).length;
  if (sources !== 1) throw new UsageError('give exactly one of --study DIR, --lifesnaps daily.csv, --planted');
  const tasks = f.tasks ? { tasks: readTasks(f.tasks) } : {};
  if (f.planted) return { kind: 'planted', decoy: !!f.decoy, rate: f.rate };
  if (f.lifesnaps) return { kind: 'lifesnaps', path: f.lifesnaps, personPrior: !!f.personPrior, ...tasks };
  return { kind: 'study', path: f.study!, pool: f.pool, ...(f.lld ? { lld: f.lld } : {}), ...tasks };
}

async function loadData(f: Flags): Promise<{ source: SeqSource; data: SeqData }> {
  const source = sourceOf(f);
  return { source, data: await loadSeqSource(source) };
}

async function run(system: 'amm' | 'mimml', raw: unknown): Promise<void> {
  const f = parseFlags(Flags, raw, `experiment ${system}`);
  await initNodeBackend();
  const { source, data } = await loadData(f);
  const modalities = f.modalities ? list(f.modalities) : data.modalities.map((m) => m.name);
  for (const m of modalities) if (!data.modalities.some((x) => x.name === m)) throw new UsageError(`--modalities: unknown "${m}" (have ${data.modalities.map((x) => x.name).join(', ')})`);
  const design = { modalities, main: data.tasks[0].name, secondary: data.tasks[1]?.name };
  const parts = f.parts ? list(f.parts) : undefined;
  const designed = system === 'amm'
    ? ammDesign(design, (parts ?? ['stl-mtl', 'ablation']) as Array<'stl-mtl' | 'ablation'>)
    : mimmlDesign(design, (parts ?? ['modalities', 'ablation']) as Array<'modalities' | 'ablation'>);
  const only = f.arms ? list(f.arms) : null;
  for (const id of only ?? []) if (!designed.some((a) => a.id === id)) throw new UsageError(`--arms: no arm "${id}" in this design (have ${designed.map((a) => a.id).join(', ')})`);
  const arms = only ? designed.filter((a) => only.includes(a.id)) : designed;
  if (arms.length === 0) throw new UsageError('the design has no arms (need a secondary task and two modalities for ablations)');
  const seeds = list(f.seeds).map(Number);
  console.log(`${data.notes.join('\n')}\n${arms.length} arms × ${seeds.length} seeds: ${arms.map((a) => a.id).join(', ')}`);
  const settings = {
    train: { epochs: f.epochs, patience: f.patience, lr: f.lr, batch: f.batch, l2: f.l2, balance: !!f.balance, unlabelled: !!f.unlabelled },
    model: { dropout: f.dropout, initScale: f.initScale, hidden: f.hidden, attention: f.hidden, taskHidden: f.hidden, channels: f.hidden, width: f.hidden,
      ...(system === 'mimml' ? { miTarget: f.miTarget, miWeight: f.miWeight, auxWeight: f.auxWeight } : {}) },
  };
  const bar = progress(`${system} runs`, arms.length * seeds.length, ' {arm} epoch {epoch}');
  const res = f.queue
    ? await runOnQueue(f.queue, system, source, data, arms, seeds, settings, f, bar)
    : await runExperiment(data, arms, {
      seeds, ...settings, bootstrap: f.bootstrap,
      onRun: ({ arm, seed, index }) => bar.update(index, { arm: `${arm.id}/${seed}`, epoch: 0 }),
      onEpoch: ({ arm, seed, log }) => bar.update(arms.indexOf(arm) * seeds.length + seeds.indexOf(seed), { arm: `${arm.id}/${seed}`, epoch: log.epoch }),
    });
  bar.update(arms.length * seeds.length); bar.stop();
  const md = experimentMarkdown(`${system.toUpperCase()} experiment`, res) +
    `\nSettings: Adam lr ${f.lr}, batch ${f.batch}${system === 'mimml' ? `, MI target ${f.miTarget} weight ${f.miWeight}, aux weight ${f.auxWeight}` : ''}${f.balance ? ', class-weighted CE' : ''}${f.unlabelled ? ', unlabelled training rows used' : ''}, ≤ ${f.epochs} epochs (patience ${f.patience}), dropout ${f.dropout}, weights U(−${f.initScale}, ${f.initScale}), hidden ${f.hidden}, L2 ${f.l2}; seeds ${seeds.join(',')}.\n`;
  mkdirSync(f.out, { recursive: true });
  writeFileSync(join(f.out, `${system}.md`), md);
  writeFileSync(join(f.out, `${system}.csv`), csvLine(CSV_HEADER) + experimentCsvRows(res).map((r) => csvLine(r)).join(''));
  writeFileSync(join(f.out, `${system}.predictions.json`), JSON.stringify(res.predictions)); // for bench/amm/pool.ts
  console.log(md);
  console.log(`wrote ${join(f.out, `${system}.md`)}, ${system}.csv and ${system}.predictions.json`);
}

/**
 * The design's arms × seeds as `amm-row` jobs on the queue (taken by `moodlens worker --kinds
 * amm-row`), gathered as they finish and scored here as the local run scores them. Each finished
 * run is written to `<out>/<system>-runs/<arm>-seed<k>.json` with its row's key, so a sender
 * started again sends only the rows it has no run of (and waits for those still queued).
 */
async function runOnQueue(url: string, system: string, source: SeqSource, data: SeqData, arms: Arm[], seeds: number[],
  settings: { train: object; model: object }, f: Flags, bar: ReturnType<typeof progress>): Promise<ExperimentResult> {
  const { PgBossEngine } = await import('../../queue/pgboss.js');
  const { sourceText, sourceHash, seqRowPayload, rowKey, runSeqQueued } = await import('../../amm/experiment-queue.js');
  const testRows = commonTestRows(data, arms);
  if (testRows.length === 0) throw new Error('no test instance has every modality and the main label');
  const src = sourceText(source);
  const hash = sourceHash(src);
  const dir = join(f.out, `${system}-runs`);
  mkdirSync(dir, { recursive: true });
  const file = (arm: string, seed: number) => join(dir, `${arm}-seed${seed}.json`);
  const runs: ArmRun[] = arms.map((arm) => ({ arm, predicted: new Map(), seconds: [], bestEpochs: [] }));
  const got = new Map<string, { predicted: number[][]; seconds: number; bestEpoch: number }>();
  const todo = [];
  for (const arm of arms) for (const seed of seeds) {
    const row = seqRowPayload(src, hash, arm, seed, settings, testRows);
    const key = rowKey(row);
    let saved: { key?: string; predicted: number[][]; seconds: number; bestEpoch: number } | null = null;
    try { saved = JSON.parse(readFileSync(file(arm.id, seed), 'utf8')); } catch { /* not run yet */ }
    if (saved?.key === key) got.set(`${arm.id}|${seed}`, saved); else todo.push(row);
  }
  let done = got.size;
  bar.update(done, { arm: 'queued', epoch: 0 });
  if (todo.length) {
    const engine = new PgBossEngine({ connectionString: url });
    try {
      await engine.start().catch((e) => { throw new UsageError(`experiment: cannot reach the job queue at ${new URL(url).host} (${(e as Error).message}); check --queue`); });
      await runSeqQueued(engine, todo, (run, row) => {
        writeFileSync(file(row.arm.id, row.seed), JSON.stringify({ key: rowKey(row), ...run }));
        got.set(`${row.arm.id}|${row.seed}`, run);
        bar.update(++done, { arm: `${row.arm.id}/${row.seed}`, epoch: run.bestEpoch });
      });
    } finally { await engine.stop(); }
  }
  runs.forEach((run) => {
    for (const seed of seeds) {
      const r = got.get(`${run.arm.id}|${seed}`)!;
      run.predicted.set(String(seed), r.predicted.map((p) => Int32Array.from(p)));
      run.seconds.push(r.seconds); run.bestEpochs.push(r.bestEpoch);
    }
  });
  return scoreExperiment(data, runs, testRows, { seeds, bootstrap: f.bootstrap });
}

function addOptions(c: Command): Command {
  const opt = optionsFrom(Flags);
  return c
    .option('--study <dir>', 'study folder (tasks from its items, activity minutes + speech as sequences)')
    .option('--lld <dir>', 'frame-level speech descriptors per report (from `moodlens features --lld`); without it a fallback sequence is built from the speech features')
    .option('--lifesnaps <file>', "LifeSnaps daily.csv: daily sequences, real multi-hot moods")
    .option('--person-prior', "lifesnaps: add each person's training-set rate of the main task's classes to the side knowledge (AMM only; MIMML has no side input)")
    .option('--planted', 'the planted two-modality synthetic study')
    .option('--decoy', 'planted: add the cross-modal decoy')
    .option(...opt('--rate <x>', 'planted: fraction of training reports with the main label'))
    .option('--tasks <file>', 'tasks JSON {tasks: [{name, kind: "binary", items, rule, threshold} | {name, kind: "dominant", groups}]}, main first')
    .option('--modalities <list>', 'modalities to use (default: all)')
    .option('--parts <list>', 'amm: stl-mtl,ablation; mimml: modalities,ablation')
    .option('--arms <list>', 'run only these arms of the design (ids as printed, e.g. mtl-all,no-it)')
    .option(...opt('--seeds <list>', 'seeds'))
    .option(...opt('--epochs <n>', 'maximum epochs (paper: 100)'))
    .option(...opt('--patience <n>', 'early stopping on the development balanced accuracy (0 = off)'))
    .option(...opt('--lr <x>', 'Adam learning rate (paper: 1e-3)'))
    .option(...opt('--batch <n>', 'batch size (paper: 64)'))
    .option(...opt('--dropout <x>', 'dropout (paper: 0.3)'))
    .option(...opt('--init-scale <x>', 'weights ~ U(−x, x) (paper: 0.1; 0.3 trains faster on few input features)'))
    .option(...opt('--hidden <n>', 'width of the recurrent and attention layers'))
    .option(...opt('--l2 <x>', 'L2 coefficient'))
    .option(...opt('--pool <n>', 'study: activity epochs per sequence step'))
    .option('--balance', 'class-weighted cross-entropy (n / (K·n_class); not in the papers) for skewed tasks')
    .option('--unlabelled', 'also train on training reports without any label (semi-supervised: only model terms such as MIMML\'s InfoNCE learn from them)')
    .option(...opt('--mi-target <t>', "mimml: what the InfoNCE term contrasts each modality with: fused (I(r_m; f), the MIMML paper's term), modalities (I(r_a; r_s), cross-modal), both"))
    .option(...opt('--mi-weight <x>', 'mimml: weight of the InfoNCE term'))
    .option(...opt('--aux-weight <x>', 'mimml: weight of the unimodal auxiliary heads'))
    .option(...opt('--bootstrap <n>', 'bootstrap replicates'))
    .option(...opt('--out <dir>', 'folder for <system>.md and <system>.csv'))
    .option('--queue <url>', 'run the arms × seeds on `moodlens worker --kinds amm-row` processes through this PostgreSQL job queue instead of here (a study or LifeSnaps path must be readable by every worker at the same path)');
}

/** `experiment amm|mimml` under the `experiment` command (and the former names `experiment-amm|-mimml`, hidden). */
export function registerSequenceExperiments(experiment: Command, program: Command): void {
  for (const system of ['amm', 'mimml'] as const) {
    const desc = system === 'amm'
      ? 'AMM (attentive multimodal multitask): STL vs MTL × modalities, and the no-I_e / no-I_t ablations'
      : 'MIMML (mutual information + multitask): modalities alone vs all, and the no-MI / no-auxiliary ablations';
    addOptions(experiment.command(system).description(desc)).action((o: unknown) => run(system, o));
    addOptions(program.command(`experiment-${system}`, { hidden: true }).description(desc)).action((o: unknown) => run(system, o));
  }
}
