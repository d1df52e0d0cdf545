/**
 * The one reader of a model folder (Node; no TensorFlow.js): its JSON files checked by one schema
 * and its weights as one Float32Array per member. `moodlens predict` and the other commands build
 * the tfjs model from it (src/train/model-folder.ts, which also writes the folder); the server
 * runs the plain forward pass on it (PlainMoodModel, macro-micro.ts).
 *
 *   config.json          the experiment config, modalities, items, speech feature names, dims, training summary
 *   weights.json/.bin    manifest + float32 values of the shared variables and per-user tables
 *   normalization.json   activity (per participant) and speech standardisation statistics
 *   participants.json    training participants in user-slot order (+ personalised ones)
 *   split.json           report ids of the train / dev / test instances
 *   conformal.json       split-conformal half-widths per item (from the development set)
 *   history.json         per-epoch training loss, dev mean CCC, lr
 *   tasks/<k>/, members/<j>/   single-task training (one folder per item), seed ensembles (one per member)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { ConfigSchema } from './config.js';
import type { Modality, NormStats } from './inputs.js';
import type { Conformal } from '../eval/conformal.js';
import type { InputIssue } from '../util/errors.js';
import type { Split } from '../data/dataset.js';

export const MODEL_FORMAT = 1;

export const ModelJsonSchema = z.object({
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
export type ModelJson = z.infer<typeof ModelJsonSchema>;
export type ModelKind = ModelJson['kind'];

/**
 * A model folder that cannot be used (unreadable here; on the server also one that does not fit
 * the study). `message` is safe to show a researcher: file names relative to the model folder,
 * schema paths, item and feature names — never a file's bytes or a server path. `issues` locate
 * the problem for the command line (full paths, the JSON parser's words).
 */
export class ModelFolderError extends Error {
  constructor(message: string, readonly issues: InputIssue[] = []) { super(message); }
}

export interface SavedSplit { kind: Split['kind']; train: string[]; dev: string[]; test: string[] }

/** weights.json: where each shared variable and per-user table lies in weights.bin (serialize.ts writes and reads it). */
export interface WeightsManifest {
  variables: { name: string; shape: number[]; offset: number }[];
  tables: { name: string; shape: number[]; users: number; offset: number }[];
  length: number;
}

/** One trained network of the folder, as plain data. */
export interface MemberFiles {
  dir: string;
  meta: ModelJson;
  mods: Modality[];
  norm: NormStats;
  /** Training participants in user-slot order. */
  participants: string[];
  manifest: WeightsManifest;
  data: Float32Array;
  /** history.json (per-epoch training summary; the trainer's EpochInfo), when present. */
  history: unknown[] | null;
}

export interface ModelFiles {
  dir: string;
  kind: ModelKind;
  meta: ModelJson;
  /** One member, one per item for single-task, or the ensemble's members. */
  members: MemberFiles[];
  split: SavedSplit | null;
  conformal: Conformal | null;
}

/** Folder of member j: single-task `tasks/<item k>`, ensemble `members/<j>`, else the folder itself. */
export function memberDir(dir: string, kind: ModelKind, j: number): string {
  return kind === 'single-task' ? join(dir, 'tasks', String(j)) : kind === 'ensemble' ? join(dir, 'members', String(j)) : dir;
}

export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** A JSON file of the model folder `base`; errors name it relative to `base`. */
function readJson(base: string, path: string): unknown {
  mustExist(base, path);
  try { return JSON.parse(readFileSync(path, 'utf8')); } catch (e) {
    throw new ModelFolderError(`${relative(base, path) || path} is not valid JSON`, [{ file: path, message: `not valid JSON: ${(e as Error).message}` }]);
  }
}

function mustExist(base: string, path: string): void {
  if (existsSync(path)) return;
  const why = 'missing (is this a model folder written by `moodlens train`?)';
  throw new ModelFolderError(`${relative(base, path) || path} is ${why}`, [{ file: path, message: why }]);
}

function readConfig(base: string, dir: string): ModelJson {
  const path = join(dir, 'config.json');
  const r = ModelJsonSchema.safeParse(readJson(base, path));
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ModelFolderError(`${relative(base, path)}: ${i.path.join('.') || '(root)'}: ${i.message}`,
      r.error.issues.map((x) => ({ file: path, field: x.path.join('.') || undefined, message: x.message })));
  }
  return r.data;
}

const optionalJson = <T>(base: string, path: string): T | null => (existsSync(path) ? readJson(base, path) as T : null);

function readMember(base: string, dir: string): MemberFiles {
  const meta = readConfig(base, dir);
  const participants = readJson(base, join(dir, 'participants.json')) as string[];
  const norm = readJson(base, join(dir, 'normalization.json')) as NormStats;
  const manifest = readJson(base, join(dir, 'weights.json')) as WeightsManifest;
  const weights = join(dir, 'weights.bin');
  mustExist(base, weights);
  return {
    dir, meta, mods: (meta.mods ?? []) as Modality[], norm, participants, manifest, data: readF32(weights),
    history: optionalJson<unknown[]>(base, join(dir, 'history.json')),
  };
}

/** Only the config.json of a model folder (kind, items, training summary), for listing models without reading their weights. */
export function readModelConfig(dir: string): ModelJson { return readConfig(dir, dir); }

/** Read a model folder written by `moodlens train`; throws ModelFolderError naming the file at fault. */
export function readModelFolder(dir: string): ModelFiles {
  const meta = readConfig(dir, dir);
  const count = meta.kind === 'single-task' ? meta.items.length : meta.kind === 'ensemble' ? meta.config.train.ensemble : 1;
  return {
    dir, kind: meta.kind, meta,
    members: Array.from({ length: count }, (_, j) => readMember(dir, memberDir(dir, meta.kind, j))),
    split: optionalJson<SavedSplit>(dir, join(dir, 'split.json')),
    conformal: optionalJson<Conformal>(dir, join(dir, 'conformal.json')),
  };
}
