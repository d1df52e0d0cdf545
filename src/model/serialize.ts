/**
 * A trained model as plain data: a JSON manifest and one Float32Array of all values (shared
 * variables, then per-user tables). Browser-safe; the model folder I/O is in src/train/model-folder.ts.
 */
import { tf } from './backend.js';
import type { MoodModel } from './macro-micro.js';
import type { WeightsManifest } from './folder-node.js';

export function exportWeights(model: MoodModel, withMomentum = false): { manifest: WeightsManifest; data: Float32Array; momentum?: Float32Array } {
  const entries = [...model.ps.vars.entries()], vars = entries.map((e) => e[1]), tables = model.tables;
  const manifest: WeightsManifest = { variables: [], tables: [], length: 0 };
  let off = 0;
  for (const [name, v] of entries) { manifest.variables.push({ name, shape: v.shape, offset: off }); off += v.size; }
  for (const t of tables) { manifest.tables.push({ name: t.name, shape: t.shape, users: t.users, offset: off }); off += t.data.length; }
  manifest.length = off;
  const data = new Float32Array(off);
  for (let i = 0; i < vars.length; i++) data.set(vars[i].dataSync(), manifest.variables[i].offset);
  let momentum: Float32Array | undefined;
  if (withMomentum) momentum = new Float32Array(off);
  tables.forEach((t, i) => { data.set(t.data, manifest.tables[i].offset); momentum?.set(t.momentum, manifest.tables[i].offset); });
  return { manifest, data, momentum };
}

export function importWeights(model: MoodModel, manifest: WeightsManifest, data: Float32Array, momentum?: Float32Array): void {
  const byName = model.ps.vars;
  for (const e of manifest.variables) {
    const v = byName.get(e.name);
    if (!v) throw new Error(`weights: no variable ${e.name} in this model`);
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (size !== v.size) throw new Error(`weights: ${e.name} has ${size} values, model expects ${v.size}`);
    tf.tidy(() => v.assign(tf.tensor(data.subarray(e.offset, e.offset + size), v.shape)));
  }
  const tables = new Map(model.tables.map((t) => [t.name, t]));
  for (const e of manifest.tables) {
    const t = tables.get(e.name);
    if (!t) throw new Error(`weights: no user table ${e.name} in this model`);
    const len = e.users * t.size;
    t.data = data.slice(e.offset, e.offset + len);
    t.momentum = momentum ? momentum.slice(e.offset, e.offset + len) : new Float32Array(len);
    t.users = e.users;
  }
}
