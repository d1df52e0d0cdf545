/**
 * Experiment rows on a job queue (`moodlens experiment … --queue postgres://…` and
 * `moodlens worker --kinds experiment-row`): each row × seed is one job whose payload names the
 * study by a path every worker can read, the study's content hash, and the row's full training
 * configuration. A worker checks the hash before it trains (a study changed after the grid was
 * enqueued is refused, not silently mixed), trains on a worker thread (the process keeps beating
 * while the thread trains) and returns the run's result as the job's output; the sender gathers
 * results as they finish. The training is the same code as `--workers N` (runJob on a thread), so
 * the same seeds give the same table.
 */
import { z } from 'zod';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { defineJob, payloadKey, type JobEngine } from '../queue/engine.js';
import { sendAndGather } from '../queue/gather.js';
import { makeConfig, type ConfigInput } from '../model/config.js';
import type { Dataset } from '../data/dataset.js';
import type { Job, JobResult } from './experiment-job.js';
import { loadDataset, makeSplit } from './study-node.js';
import { runPool } from './pool-node.js';

/** sha-256 over the study folder: every file's path (relative, sorted) and content. */
export function studyHash(dir: string): string {
  const root = resolve(dir);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p); else if (e.isFile()) files.push(p);
    }
  };
  walk(root);
  files.sort();
  const h = createHash('sha256');
  for (const f of files) {
    const bytes = readFileSync(f);
    h.update(relative(root, f)).update('\0').update(String(bytes.length)).update('\0').update(bytes);
  }
  return h.digest('hex');
}

export const ExperimentRowPayload = z.object({
  /** Absolute path of the study folder, readable by every worker (a shared mount). */
  study: z.string().min(1),
  studyHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Row id and seed: the result's key, `<row>|<seed>`. */
  key: z.string().min(1).max(200),
  label: z.string().min(1).max(100),
  config: z.record(z.string(), z.unknown()),
}).strict();
export type ExperimentRowPayload = z.infer<typeof ExperimentRowPayload>;

/** A row × seed; a training run of a big grid row can take hours: its heartbeat, not its expiry, tells it is alive. */
export const experimentRowJob = defineJob({ name: 'experiment-row', payload: ExperimentRowPayload, expireInSeconds: 12 * 3600, retryLimit: 2, retryDelaySeconds: 5 });

export class StudyChangedError extends Error {}

/** The handler of `moodlens worker`: check the study, load it once per content hash, train the row on a worker thread. */
/** A run's result as the job's output: JSON text, because PostgreSQL's jsonb would reorder its keys (the table's item columns). */
export interface ExperimentRowOutput { json: string }

export function experimentRowHandler(opts: { quiet?: boolean } = {}): (p: ExperimentRowPayload) => Promise<ExperimentRowOutput> {
  const cache = new Map<string, Promise<Dataset>>();
  return async (p) => {
    const hash = studyHash(p.study);
    if (hash !== p.studyHash) throw new StudyChangedError(`${p.study}: the study changed after the experiment was enqueued (content hash ${hash.slice(0, 12)}…, expected ${p.studyHash.slice(0, 12)}…); enqueue it again`);
    const config = p.config as ConfigInput;
    const policy = makeConfig(config).train.policy;
    const k = `${hash}|${policy}`;
    if (!cache.has(k)) { cache.clear(); cache.set(k, loadDataset(p.study, policy)); }
    const ds = await cache.get(k)!;
    if (!opts.quiet) console.log(`experiment-row ${p.key}: training`);
    const job: Job = { key: p.key, ds, split: makeSplit(ds, 'chronological', 0), config, label: p.label };
    let result: JobResult | null = null;
    await runPool([job], 1, (r) => { result = r; });
    if (!opts.quiet) console.log(`experiment-row ${p.key}: mean CCC ${result!.evaluation.meanCCC.toFixed(3)} (${result!.seconds.toFixed(0)} s)`);
    return { json: JSON.stringify(result!) };
  };
}

/**
 * Enqueue the runs and call `onDone` as each finishes (any order). A run already enqueued by an
 * earlier invocation (same study, row, seed and configuration) is not enqueued twice: its job is
 * waited for. A run that failed for good is retried once more by this invocation.
 */
export async function runQueued(engine: JobEngine, study: string, jobs: Array<Omit<Job, 'ds' | 'split'>>, onDone: (r: JobResult) => void | Promise<void>,
  opts: { pollMs?: number } = {}): Promise<void> {
  const path = resolve(study);
  const hash = studyHash(path);
  const items = jobs.map((j) => {
    const payload: ExperimentRowPayload = { study: path, studyHash: hash, key: j.key, label: j.label, config: j.config as Record<string, unknown> };
    return { payload, key: payloadKey(payload), label: j.key };
  });
  await sendAndGather(engine, experimentRowJob, items, (out) => onDone(JSON.parse((out as ExperimentRowOutput).json) as JobResult), { pollMs: opts.pollMs, noRetry: /study changed/ });
}
