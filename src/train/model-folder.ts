/**
 * The model folder (Node): everything needed to predict again, and to resume training.
 *
 *   config.json          the experiment config, modalities, items, speech feature names, dims, training summary
 *   weights.json/.bin    manifest + float32 values of the shared variables and per-user tables
 *   normalization.json   activity (per participant) and speech standardisation statistics
 *   participants.json    training participants in user-slot order (+ personalised ones)
 *   split.json           report ids of the train / dev / test instances
 *   conformal.json       split-conformal half-widths per item (from the development set)
 *   history.json         per-epoch training loss, dev mean CCC, lr
 *   state/               resumable training state, rewritten atomically after every epoch
 *   tasks/<k>/           single-task training: one such folder per item
 * Writes go to a temporary name first and are renamed into place, so a kill never leaves a
 * half-written file.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Dataset, Split } from '../data/dataset.js';
import { ConfigSchema, type Config } from '../model/config.js';
import { MoodModel } from '../model/macro-micro.js';
import { exportWeights, importWeights, type WeightsManifest } from '../model/serialize.js';
import type { Modality, NormStats } from '../model/inputs.js';
import { InputError } from '../util/errors.js';
import type { TrainedModel, TrainState } from './trainer.js';
import type { Conformal } from '../eval/conformal.js';

export const MODEL_FORMAT = 1;

const ModelJsonSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  kind: z.enum(['model', 'single-task', 'ensemble']),
  config: ConfigSchema,
  items: z.array(z.object({ id: z.string(), label: z.string().optional(), min: z.number(), max: z.number() })),
  mods: z.array(z.object({ name: z.string(), channel: z.number().int(), dim: z.number().int().positive() })).optional(),
  channels: z.array(z.string()).optional(),
  /** Speech feature names in the order of the speech input (absent in folders written before they were recorded). */
  speechFeatures: z.array(z.string()).optional(),
  users: z.number().int().nonnegative().optional(),
  task: z.number().int().optional(),
  bestEpoch: z.number().optional(),
  bestDev: z.number().nullable().optional(),
  report: z.record(z.string(), z.array(z.number())).optional(),
});
type ModelJson = z.infer<typeof ModelJsonSchema>;

/** Write to a temporary name and rename, so a kill never leaves half a file. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
const f32bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
function readJson(path: string): unknown {
  if (!existsSync(path)) throw new InputError([{ file: path, message: 'missing (is this a model folder written by `moodlens train`?)' }]);
  try { return JSON.parse(readFileSync(path, 'utf8')); } catch (e) {
    throw new InputError([{ file: path, message: `not valid JSON: ${(e as Error).message}` }]);
  }
}
function parseWith<T>(schema: z.ZodType<T>, path: string): T {
  const r = schema.safeParse(readJson(path));
  if (!r.success) throw new InputError(r.error.issues.map((i) => ({ file: path, field: i.path.join('.') || undefined, message: i.message })));
  return r.data;
}

export interface SavedSplit { kind: Split['kind']; train: string[]; dev: string[]; test: string[] }

export function splitToIds(ds: Dataset, split: Split): SavedSplit {
  const ids = (a: Int32Array) => Array.from(a, (i) => ds.reportIds[i]);
  return { kind: split.kind, train: ids(split.train), dev: ids(split.dev), test: ids(split.test) };
}

/** The saved split mapped onto a (re)built dataset; reports not found are skipped. */
export function splitFromIds(ds: Dataset, s: SavedSplit): Split {
  const pos = new Map(ds.reportIds.map((r, i) => [r, i]));
  const idx = (a: string[]) => Int32Array.from(a.map((r) => pos.get(r)).filter((i): i is number => i !== undefined));
  return { kind: s.kind, train: idx(s.train), dev: idx(s.dev), test: idx(s.test) };
}

export function saveModel(dir: string, tm: TrainedModel, ds: Dataset, split: Split, conformal: Conformal | null): void {
  mkdirSync(dir, { recursive: true });
  const { manifest, data } = exportWeights(tm.model);
  const meta: ModelJson = {
    format: MODEL_FORMAT, kind: 'model', config: tm.config, items: tm.items, mods: tm.mods, channels: ds.channels, speechFeatures: ds.speechFeatures,
    users: tm.participants.length, task: tm.task, bestEpoch: tm.bestEpoch, bestDev: Number.isFinite(tm.bestDev) ? tm.bestDev : null,
    report: tm.model.report(),
  };
  writeAtomic(join(dir, 'weights.bin'), f32bytes(data));
  writeAtomic(join(dir, 'weights.json'), JSON.stringify(manifest));
  writeAtomic(join(dir, 'normalization.json'), JSON.stringify(tm.norm));
  writeAtomic(join(dir, 'participants.json'), JSON.stringify(tm.participants));
  writeAtomic(join(dir, 'split.json'), JSON.stringify(splitToIds(ds, split)));
  writeAtomic(join(dir, 'history.json'), JSON.stringify(tm.history, null, 1));
  if (conformal) writeAtomic(join(dir, 'conformal.json'), JSON.stringify(conformal, null, 1));
  writeAtomic(join(dir, 'config.json'), JSON.stringify(meta, null, 2)); // last: marks the folder complete
}

export type ModelKind = 'model' | 'single-task' | 'ensemble';

/** Folder of member j: single-task `tasks/<item k>`, ensemble `members/<j>`, else the folder itself. */
export function memberDir(dir: string, kind: ModelKind, j: number): string {
  return kind === 'single-task' ? join(dir, 'tasks', String(j)) : kind === 'ensemble' ? join(dir, 'members', String(j)) : dir;
}

/** The top-level files of a folder whose members live in sub-folders (single-task, ensemble). */
export function saveMembersIndex(dir: string, kind: 'single-task' | 'ensemble', config: Config, items: Dataset['items'], conformal: Conformal | null, ds: Dataset, split: Split): void {
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, 'split.json'), JSON.stringify(splitToIds(ds, split)));
  if (conformal) writeAtomic(join(dir, 'conformal.json'), JSON.stringify(conformal, null, 1));
  writeAtomic(join(dir, 'config.json'), JSON.stringify({ format: MODEL_FORMAT, kind, config, items, speechFeatures: ds.speechFeatures } satisfies ModelJson, null, 2));
}

export function saveSingleTaskIndex(dir: string, config: Config, items: Dataset['items'], conformal: Conformal | null, ds: Dataset, split: Split): void {
  saveMembersIndex(dir, 'single-task', config, items, conformal, ds, split);
}

export interface LoadedModel {
  kind: ModelKind;
  config: Config;
  items: Dataset['items'];
  /** One member, one per item for single-task, or the ensemble's members (predictions averaged). */
  members: TrainedModel[];
  split: SavedSplit | null;
  conformal: Conformal | null;
  dir: string;
  /** Speech feature names in input order, when the folder records them. */
  speechFeatures?: string[];
}

export function loadModel(dir: string): LoadedModel {
  const meta = parseWith(ModelJsonSchema, join(dir, 'config.json'));
  const split = existsSync(join(dir, 'split.json')) ? (readJson(join(dir, 'split.json')) as SavedSplit) : null;
  const conformal = existsSync(join(dir, 'conformal.json')) ? (readJson(join(dir, 'conformal.json')) as Conformal) : null;
  if (meta.kind !== 'model') {
    const count = meta.kind === 'single-task' ? meta.items.length : meta.config.train.ensemble;
    const members = Array.from({ length: count }, (_, j) => loadMember(memberDir(dir, meta.kind, j)));
    return { kind: meta.kind, config: meta.config, items: meta.items, members, split, conformal, dir, speechFeatures: meta.speechFeatures };
  }
  return { kind: 'model', config: meta.config, items: meta.items, members: [loadMember(dir)], split, conformal, dir, speechFeatures: meta.speechFeatures };
}

function loadMember(dir: string): TrainedModel {
  const meta = parseWith(ModelJsonSchema, join(dir, 'config.json'));
  const mods = meta.mods as Modality[];
  const participants = readJson(join(dir, 'participants.json')) as string[];
  const norm = readJson(join(dir, 'normalization.json')) as NormStats;
  const manifest = readJson(join(dir, 'weights.json')) as WeightsManifest;
  const model = new MoodModel(meta.config.model, { modalities: mods.map((m) => ({ name: m.name, dim: m.dim })), K: meta.items.length, users: meta.users ?? participants.length }, meta.config.train.seed);
  importWeights(model, manifest, readF32(join(dir, 'weights.bin')));
  const history = existsSync(join(dir, 'history.json')) ? readJson(join(dir, 'history.json')) as TrainedModel['history'] : [];
  return { model, config: meta.config, mods, norm, participants, items: meta.items, history, bestEpoch: meta.bestEpoch ?? 0, bestDev: meta.bestDev ?? NaN, task: meta.task };
}

/** Save a personalised member back (weights, participants, normalisation). */
export function saveMemberUpdate(dir: string, tm: TrainedModel): void {
  const { manifest, data } = exportWeights(tm.model);
  writeAtomic(join(dir, 'weights.bin'), f32bytes(data));
  writeAtomic(join(dir, 'weights.json'), JSON.stringify(manifest));
  writeAtomic(join(dir, 'normalization.json'), JSON.stringify(tm.norm));
  writeAtomic(join(dir, 'participants.json'), JSON.stringify(tm.participants));
}

// ---- resumable state -------------------------------------------------------------------------

/** Write the training state into dir/state atomically (write state.tmp, then swap folders). */
export function saveState(dir: string, st: TrainState, fingerprint: string): void {
  const final = join(dir, 'state'), tmp = join(dir, `state.tmp-${process.pid}`), old = join(dir, `state.old-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'current.bin'), f32bytes(st.current));
  writeFileSync(join(tmp, 'best.bin'), f32bytes(st.best));
  writeFileSync(join(tmp, 'table-momentum.bin'), f32bytes(st.tableMomentum));
  writeFileSync(join(tmp, 'shared-momentum.bin'), f32bytes(st.sharedMomentum));
  const { current, best, tableMomentum, sharedMomentum, ...rest } = st;
  void current; void best; void tableMomentum; void sharedMomentum;
  writeFileSync(join(tmp, 'state.json'), JSON.stringify({ ...rest, fingerprint }));
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

/** The saved state if it exists and belongs to the same run (same config + data fingerprint). */
export function loadState(dir: string, fingerprint: string): TrainState | null {
  const d = join(dir, 'state');
  if (!existsSync(join(d, 'state.json'))) return null;
  const meta = JSON.parse(readFileSync(join(d, 'state.json'), 'utf8')) as Omit<TrainState, 'current' | 'best' | 'tableMomentum' | 'sharedMomentum'> & { fingerprint: string };
  if (meta.fingerprint !== fingerprint) return null;
  return {
    ...meta, current: readF32(join(d, 'current.bin')), best: readF32(join(d, 'best.bin')),
    tableMomentum: readF32(join(d, 'table-momentum.bin')), sharedMomentum: readF32(join(d, 'shared-momentum.bin')),
  };
}

export function clearState(dir: string): void { rmSync(join(dir, 'state'), { recursive: true, force: true }); }
