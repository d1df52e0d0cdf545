/**
 * One call from (dataset, split, config) to a trained, calibrated, saved model — the path the
 * commands and experiments share. Handles single-task training (one model per item), the
 * split-conformal calibration on the development set and resuming after a kill.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Dataset, Split } from '../data/dataset.js';
import type { Config } from '../model/config.js';
import { prepare } from '../model/inputs.js';
import { predict } from '../model/predict.js';
import { fitConformal, type Conformal } from '../eval/conformal.js';
import { train, type TrainedModel } from './trainer.js';
import { clearState, loadState, saveMembersIndex, saveModel, saveSingleTaskIndex, saveState } from './model-folder.js';
import { memberDir } from '../model/folder-node.js';

export interface Fitted { members: TrainedModel[]; conformal: Conformal; kind: 'model' | 'single-task' | 'ensemble' }

export interface FitOptions {
  /** Model folder to write (and to resume from when it holds a matching state/). */
  out?: string;
  label?: string;
  quiet?: boolean;
  /** Save the resumable state every epoch (default: when `out` is given). */
  checkpointEveryEpoch?: boolean;
  /**
   * Worker threads for the members of a seed ensemble (default 1: in this thread). Needs `out`:
   * each member is trained into its folder on a worker, then loaded — the same weights, bit for bit.
   */
  workers?: number;
}

/**
 * Predictions n × K on the [0,1] label scale by the members (single-task: column k from member k;
 * several whole-model members, a seed ensemble: their mean).
 */
export function predictMembers(members: TrainedModel[], ds: Dataset, idx: Int32Array): Float32Array {
  const K = ds.items.length, out = new Float32Array(idx.length * K);
  const whole = members.filter((m) => m.task === undefined).length;
  members.forEach((m, j) => {
    const p = predict(m.model, prepare(ds, m.mods, m.norm, m.participants), idx);
    if (m.task === undefined) {
      if (whole === 1) out.set(p); else for (let i = 0; i < p.length; i++) out[i] += p[i] / whole;
      return;
    }
    for (let r = 0; r < idx.length; r++) out[r * K + j] = p[r * K + j];
  });
  return out;
}

export function labelsOf(ds: Dataset, idx: Int32Array): Float32Array {
  const K = ds.items.length, out = new Float32Array(idx.length * K);
  for (let r = 0; r < idx.length; r++) out.set(ds.labels.subarray(idx[r] * K, (idx[r] + 1) * K), r * K);
  return out;
}

/** Identifies a run (config, data, split; and the item of a single-task member): resume only into the same. */
export function runFingerprint(ds: Dataset, split: Split, config: Config, task?: number): string {
  let h = 2166136261;
  const mix = (s: string) => { for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0; };
  mix(JSON.stringify(config)); mix(String(task)); mix(String(ds.n)); mix(ds.reportIds.slice(0, 50).join()); mix(String(split.train.length));
  return h.toString(16);
}

async function fitOne(ds: Dataset, split: Split, config: Config, dir: string | undefined, o: FitOptions, task?: number): Promise<TrainedModel> {
  const fp = runFingerprint(ds, split, config, task);
  const resume = dir ? loadState(dir, fp) ?? undefined : undefined;
  const save = dir && (o.checkpointEveryEpoch ?? true);
  const tm = await train(ds, split, {
    config, task, resume, quiet: o.quiet,
    label: (o.label ?? 'train') + (task !== undefined ? ` ${ds.items[task].id}` : ''),
    onEpoch: save ? (_info, state) => saveState(dir!, state(), fp) : undefined,
  });
  return tm;
}

export async function fitModel(ds: Dataset, split: Split, config: Config, o: FitOptions = {}): Promise<Fitted> {
  const items = ds.items.map((i) => i.id);
  if (config.model.multitask.name === 'single-task') {
    const members: TrainedModel[] = [];
    for (let k = 0; k < items.length; k++) {
      const dir = o.out ? join(o.out, 'tasks', String(k)) : undefined;
      if (dir && existsSync(join(dir, 'config.json')) && !existsSync(join(dir, 'state'))) {
        // Finished in an earlier (killed) run of the whole single-task fit: reuse it.
        const { loadModel } = await import('./model-folder.js');
        members.push(loadModel(dir).members[0]); continue;
      }
      const tm = await fitOne(ds, split, config, dir, o, k);
      if (dir) { saveModel(dir, tm, ds, split, null); clearState(dir); }
      members.push(tm);
    }
    const conformal = fitConformal(labelsOf(ds, split.dev), predictMembers(members, ds, split.dev), items, config.train.conformalAlpha);
    if (o.out) saveSingleTaskIndex(o.out, config, ds.items, conformal, ds, split);
    return { members, conformal, kind: 'single-task' };
  }
  if (config.train.ensemble > 1) {
    // A seed ensemble: member j is the single model of seed + 1000·j, in members/<j>.
    const members: TrainedModel[] = [], E = config.train.ensemble;
    const memberConfig = (j: number) => ({ ...config, train: { ...config.train, seed: config.train.seed + 1000 * j, ensemble: 1 } });
    const done = (dir: string) => existsSync(join(dir, 'config.json')) && !existsSync(join(dir, 'state'));
    if (o.out && (o.workers ?? 1) > 1) {
      const { runPool } = await import('./pool-node.js');
      const jobs = Array.from({ length: E }, (_, j) => j).filter((j) => !done(memberDir(o.out!, 'ensemble', j)))
        .map((j) => ({ key: String(j), ds, split, config: memberConfig(j), label: `member ${j + 1}/${E}`, out: memberDir(o.out!, 'ensemble', j) }));
      await runPool(jobs, o.workers!, () => {});
    }
    for (let j = 0; j < E; j++) {
      const cj = memberConfig(j);
      const dir = o.out ? memberDir(o.out, 'ensemble', j) : undefined;
      if (dir && done(dir)) {
        const { loadModel } = await import('./model-folder.js');
        members.push(loadModel(dir).members[0]); continue;
      }
      const tm = await fitOne(ds, split, cj, dir, { ...o, label: `${o.label ?? 'train'} member ${j + 1}/${E}` });
      if (dir) { saveModel(dir, tm, ds, split, null); clearState(dir); }
      members.push(tm);
    }
    const conformal = fitConformal(labelsOf(ds, split.dev), predictMembers(members, ds, split.dev), items, config.train.conformalAlpha);
    if (o.out) saveMembersIndex(o.out, 'ensemble', config, ds.items, conformal, ds, split);
    return { members, conformal, kind: 'ensemble' };
  }
  const tm = await fitOne(ds, split, config, o.out, o);
  const conformal = fitConformal(labelsOf(ds, split.dev), predictMembers([tm], ds, split.dev), items, config.train.conformalAlpha);
  if (o.out) { saveModel(o.out, tm, ds, split, conformal); clearState(o.out); }
  return { members: [tm], conformal, kind: 'model' };
}
