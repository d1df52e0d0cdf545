/**
 * AMM and MIMML experiment rows on a job queue (`moodlens experiment amm|mimml … --queue
 * postgres://…` and `moodlens worker --kinds amm-row`): each arm × seed of a design is one
 * `amm-row` job whose payload names the data source (a study folder, a LifeSnaps table — by a path
 * every worker can read — or the planted study), the source's content hash, the arm, the seed, the
 * training and model settings and the common test rows. A worker checks the hash before it trains
 * (a source changed after the design was enqueued is refused, not silently mixed), trains on a
 * worker thread (experiment-worker.ts: the process keeps beating) and returns the test predictions
 * as the job's output; the sender scores the gathered runs with the local path's code
 * (`scoreExperiment`), so the same seeds give the same table.
 */
import { z } from 'zod';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { defineJob, payloadKey, type JobEngine } from '../queue/engine.js';
import { sendAndGather } from '../queue/gather.js';
import { studyHash } from '../train/experiment-queue.js';
import { loadDataset } from '../train/study-node.js';
import { spawnWorker } from '../util/spawn-worker.js';
import { chronologicalSplit } from '../data/split.js';
import { plantedStudy } from './planted.js';
import { seqFromDataset } from './from-dataset.js';
import { loadFrameSequences, loadLifesnaps, LIFESNAPS_TASKS } from './load-node.js';
import { DAMS_TASKS, TasksConfigSchema } from './tasks.js';
import type { SeqData } from './data.js';
import type { Arm, ArmSeedResult } from './experiment.js';

/** Where an experiment's sequences come from: what `--study`/`--lld`, `--lifesnaps` or `--planted` name. */
export const SeqSource = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('study'),
    /** Absolute path of the study folder (a shared mount for workers). */
    path: z.string().min(1),
    /** Frame-level speech descriptors per report (`moodlens features --lld`), absolute. */
    lld: z.string().min(1).optional(),
    tasks: TasksConfigSchema.optional(),
    pool: z.number().int().positive(),
  }).strict(),
  z.object({ kind: z.literal('lifesnaps'), path: z.string().min(1), tasks: TasksConfigSchema.optional(), personPrior: z.boolean() }).strict(),
  z.object({ kind: z.literal('planted'), decoy: z.boolean(), rate: z.number().gt(0).max(1) }).strict(),
]);
export type SeqSource = z.infer<typeof SeqSource>;

/** Load a source's sequences: the one loader of the local run and of every worker. */
export async function loadSeqSource(s: SeqSource): Promise<SeqData> {
  if (s.kind === 'planted') return plantedStudy({ decoy: s.decoy, mainLabelRate: s.rate });
  if (s.kind === 'lifesnaps') return loadLifesnaps(s.path, { personPrior: s.personPrior }, s.tasks ?? LIFESNAPS_TASKS);
  const ds = await loadDataset(s.path, 'masked');
  const split = chronologicalSplit(ds);
  const frames = s.lld ? await loadFrameSequences(s.lld, ds.reportIds) : undefined;
  return seqFromDataset(ds, { split, tasks: s.tasks ?? DAMS_TASKS, pool: s.pool, frames });
}

/** The source with its paths made absolute (what a job names). */
export function absoluteSource(s: SeqSource): SeqSource {
  if (s.kind === 'planted') return s;
  if (s.kind === 'lifesnaps') return { ...s, path: resolve(s.path) };
  return { ...s, path: resolve(s.path), ...(s.lld ? { lld: resolve(s.lld) } : {}) };
}

const fileHash = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const pathHash = (p: string) => (statSync(p).isDirectory() ? studyHash(p) : fileHash(p));

/**
 * A source as the JSON text a job carries. Text, not an object: PostgreSQL's jsonb reorders an
 * object's keys, and the order of a task's groups is the order of its classes.
 */
export const sourceText = (s: SeqSource): string => JSON.stringify(absoluteSource(s));

/** The source a job's text names (one-line error if it is not one). */
export function parseSource(text: string): SeqSource {
  let json: unknown;
  try { json = JSON.parse(text); } catch { throw new Error('amm-row: the job\'s source is not JSON'); }
  const r = SeqSource.safeParse(json);
  if (!r.success) throw new Error(`amm-row: the job's source is not one: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** sha-256 over a source's text and the content of every file it names (study folder, frame folder, LifeSnaps table). */
export function sourceHash(text: string): string {
  const s = parseSource(text);
  const h = createHash('sha256').update(text);
  if (s.kind !== 'planted') h.update('\0').update(pathHash(s.path));
  if (s.kind === 'study' && s.lld) h.update('\0').update(pathHash(s.lld));
  return h.digest('hex');
}

const ArmSchema = z.object({
  id: z.string().min(1).max(100),
  group: z.string().max(100),
  label: z.string().max(200),
  system: z.enum(['amm', 'mimml']),
  modalities: z.array(z.string()).min(1),
  tasks: z.array(z.string()).min(1),
  options: z.record(z.string(), z.unknown()),
}).strict();

export const SeqRowPayload = z.object({
  /** The data source as JSON text (`sourceText`): a SeqSource. */
  source: z.string().min(2).max(100_000),
  sourceHash: z.string().regex(/^[0-9a-f]{64}$/),
  arm: ArmSchema,
  seed: z.number().int(),
  /** TrainConfig and model settings, as `runExperiment` takes them. */
  train: z.record(z.string(), z.unknown()),
  model: z.record(z.string(), z.unknown()),
  /** The design's common test rows (indices into the source's rows): every arm is scored on the same ones. */
  testRows: z.array(z.number().int().min(0)).min(1),
}).strict();
export type SeqRowPayload = z.infer<typeof SeqRowPayload>;

/** An arm × seed of an AMM or MIMML design; its heartbeat, not its expiry, tells a long run is alive. */
export const seqRowJob = defineJob({ name: 'amm-row', payload: SeqRowPayload, expireInSeconds: 12 * 3600, retryLimit: 2, retryDelaySeconds: 5 });

/** A run as the job's output (and as `<out>/<system>-runs/<arm>-seed<k>.json`): JSON text, the predictions as plain arrays. */
export interface SeqRowOutput { json: string }
export interface SeqRowRun { predicted: number[][]; seconds: number; bestEpoch: number }

export class SourceChangedError extends Error {}

/**
 * The handler of `moodlens worker --kinds amm-row`: check the source's hash, then train on a
 * worker thread (one per run in hand; idle threads are kept, each with the data it last loaded).
 */
export function seqRowHandler(opts: { quiet?: boolean } = {}): (p: SeqRowPayload) => Promise<SeqRowOutput> {
  const idle: Worker[] = [];
  return async (p) => {
    const hash = sourceHash(p.source);
    if (hash !== p.sourceHash) throw new SourceChangedError(`the data source changed after the experiment was enqueued (content hash ${hash.slice(0, 12)}…, expected ${p.sourceHash.slice(0, 12)}…); enqueue it again`);
    const label = `${p.arm.id}/${p.seed}`;
    if (!opts.quiet) console.log(`amm-row ${label}: training`);
    const w = idle.pop() ?? spawnWorker(import.meta.url, 'experiment-worker');
    w.ref();
    const res = await new Promise<ArmSeedResult>((ok, fail) => {
      const onError = (e: Error) => { w.off('message', onMessage); fail(e); };
      const onMessage = (m: { ok: boolean; result?: ArmSeedResult; error?: string }) => {
        w.off('error', onError); w.off('message', onMessage);
        if (m.ok) ok(m.result!); else fail(new Error(m.error ?? 'worker thread failed'));
      };
      w.on('message', onMessage); w.once('error', onError);
      w.postMessage(p);
    }).catch((e: unknown) => { void w.terminate(); throw e; });
    w.unref(); idle.push(w);
    if (!opts.quiet) console.log(`amm-row ${label}: done (best epoch ${res.bestEpoch}, ${res.seconds.toFixed(0)} s)`);
    const run: SeqRowRun = { predicted: res.predicted.map((a) => Array.from(a)), seconds: res.seconds, bestEpoch: res.bestEpoch };
    return { json: JSON.stringify(run) };
  };
}

/**
 * A row's identity, computed by its sender: the hash of its whole payload (same source, arm, seed
 * and settings → same job, same saved run). Not to be recomputed from a taken payload: PostgreSQL's
 * jsonb reorders keys.
 */
export const rowKey = (p: SeqRowPayload): string => payloadKey(p);

/** The payload of an arm × seed. */
export function seqRowPayload(source: string, hash: string, arm: Arm, seed: number, settings: { train: object; model: object }, testRows: Int32Array): SeqRowPayload {
  return SeqRowPayload.parse({ source, sourceHash: hash, arm, seed, train: settings.train, model: settings.model, testRows: Array.from(testRows) });
}

/**
 * Enqueue the rows and call `onDone` as each finishes (any order). A row already enqueued by an
 * earlier invocation is waited for, not enqueued twice; one that failed for good is retried once
 * more (unless the source changed).
 */
export async function runSeqQueued(engine: JobEngine, rows: SeqRowPayload[], onDone: (run: SeqRowRun, row: SeqRowPayload) => void | Promise<void>,
  opts: { pollMs?: number } = {}): Promise<void> {
  const items = rows.map((payload) => ({ payload, key: rowKey(payload), label: `${payload.arm.id} seed ${payload.seed}` }));
  await sendAndGather(engine, seqRowJob, items, (out, item) => onDone(JSON.parse((out as SeqRowOutput).json) as SeqRowRun, item.payload),
    { pollMs: opts.pollMs, noRetry: /source changed/ });
}
