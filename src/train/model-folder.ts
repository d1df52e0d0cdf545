/**
 * The model folder (Node): writing it after training (and after personalisation), the tfjs model
 * built from it, and the resumable training state. Its files and their one reader are described
 * in src/model/folder-node.ts; besides them:
 *   state/               resumable training state, rewritten atomically after every epoch
 *   run.json             which run (config + data fingerprint) the folder belongs to (`train --out`)
 * Writes go to a temporary name first and are renamed into place, so a kill never leaves a
 * half-written file.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset, Split } from '../data/dataset.js';
import type { Config } from '../model/config.js';
import { MoodModel } from '../model/macro-micro.js';
import { exportWeights, importWeights } from '../model/serialize.js';
import {
  MODEL_FORMAT, ModelFolderError, readF32, readModelFolder, type MemberFiles, type ModelJson, type ModelKind, type SavedSplit,
} from '../model/folder-node.js';
import { fsProblem, InputError, UsageError } from '../util/errors.js';
import type { TrainedModel, TrainState } from './trainer.js';
import type { Conformal } from '../eval/conformal.js';

/** Write to a temporary name and rename, so a kill never leaves half a file. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
const f32bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Make `dir` the folder of the run `fingerprint` before training into it: a new or empty folder
 * is created; a folder of the same run (run.json) is kept, so a killed run resumes; a folder of
 * another model is refused unless `force`, which empties it first; a non-empty folder that holds
 * no model is never emptied. Checks that the folder can be written, in one line if not.
 */
export function claimRunFolder(dir: string, fingerprint: string, force: boolean): void {
  const marker = join(dir, 'run.json');
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${dir} is a file; give a folder for the model`);
    if (readdirSync(dir).length > 0) {
      let same = false;
      try { same = (JSON.parse(readFileSync(marker, 'utf8')) as { fingerprint?: string }).fingerprint === fingerprint; } catch { /* no run.json: not this run */ }
      if (!same) {
        const isModel = ['config.json', 'run.json', 'state'].some((f) => existsSync(join(dir, f)));
        if (!isModel) throw new UsageError(`--out ${dir} is not empty and holds no model; choose a new or empty folder`);
        if (!force) throw new UsageError(`--out ${dir} holds another model (other config or data); choose a new folder, or add --force to replace it`);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  try {
    mkdirSync(dir, { recursive: true });
    writeAtomic(marker, JSON.stringify({ fingerprint }) + '\n');
  } catch (e) {
    throw new UsageError(`--out ${dir}: cannot write there (${fsProblem(e)}); choose a folder you can write to`);
  }
}


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

/** The model folder with each member as a tfjs model (InputError naming the file at fault when it will not load). */
export function loadModel(dir: string): LoadedModel {
  let f;
  try { f = readModelFolder(dir); } catch (e) { throw e instanceof ModelFolderError ? new InputError(e.issues) : e; }
  const { meta } = f;
  return {
    kind: meta.kind, config: meta.config, items: meta.items, members: f.members.map(tfjsMember), split: f.split, conformal: f.conformal, dir,
    speechFeatures: meta.speechFeatures,
  };
}

function tfjsMember(m: MemberFiles): TrainedModel {
  const { meta, mods, participants } = m;
  const model = new MoodModel(meta.config.model, { modalities: mods.map((x) => ({ name: x.name, dim: x.dim })), K: meta.items.length, users: meta.users ?? participants.length }, meta.config.train.seed);
  importWeights(model, m.manifest, m.data);
  return {
    model, config: meta.config, mods, norm: m.norm, participants, items: meta.items, history: (m.history ?? []) as TrainedModel['history'],
    bestEpoch: meta.bestEpoch ?? 0, bestDev: meta.bestDev ?? NaN, task: meta.task,
  };
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
