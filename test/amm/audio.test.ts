/**
 * Frame-level speech descriptors as the AMM speech modality, end to end on a tiny synthetic study
 * with audio: synth (WAVs) → eGeMAPS LLDs written per report (the `moodlens features --lld` code)
 * → loadFrameSequences → seqFromDataset → one AMM training epoch.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { synthesizeStudy } from '../../src/synth/index.js';
import { computeStudyFeatures } from '../../src/io/speech-study.js';
import { EGEMAPS_LLD_NAMES } from '../../src/signal/speech/egemaps.js';
import { buildDataset, chronologicalSplit } from '../../src/data/index.js';
import { loadFrameSequences } from '../../src/amm/load-node.js';
import { seqFromDataset } from '../../src/amm/from-dataset.js';
import { DAMS_TASKS } from '../../src/amm/tasks.js';
import { createAmm } from '../../src/amm/amm.js';
import { crossEntropy, makeBatch, disposeBatch } from '../../src/amm/data.js';
import { usableRows } from '../../src/amm/train.js';

let dir = '', lld = '';
beforeAll(async () => {
  await initNodeBackend();
  const root = mkdtempSync(join(tmpdir(), 'amm-audio-'));
  dir = join(root, 'study'); lld = join(root, 'lld');
  await synthesizeStudy({ out: dir, participants: 3, days: 2, speech: 'audio', seed: 5 });
  await computeStudyFeatures(dir, { lld, workers: 1, quiet: true, cache: false });
  return () => rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('AMM on frame-level eGeMAPS descriptors from audio', () => {
  it('builds LLD sequences of the right shape and trains a step on them', async () => {
    const { dataset: ds } = await buildDataset(dir, { policy: 'masked', progress: false });
    const split = chronologicalSplit(ds);
    const frames = await loadFrameSequences(lld, ds.reportIds);
    expect(frames.names).toEqual([...EGEMAPS_LLD_NAMES]);
    expect(frames.byReport.size).toBe(readdirSync(lld).length);
    expect(frames.byReport.size).toBeGreaterThan(ds.n / 2);
    const pool = 10, maxSteps = 40;
    const data = seqFromDataset(ds, { split, tasks: DAMS_TASKS, frames, framePool: pool, maxFrameSteps: maxSteps });
    expect(data.notes.join('\n')).toMatch(/frame-level descriptors \(25\)/);
    expect(data.notes.join('\n')).not.toMatch(/FALLBACK/);
    const [act, sp] = data.modalities;
    expect(act.name).toBe('activity');
    expect([act.steps, act.features]).toEqual([12, 2]); // 60 one-minute epochs pooled by 5; zcm, pim
    expect(sp.name).toBe('speech');
    expect(sp.features).toBe(EGEMAPS_LLD_NAMES.length);
    expect(sp.x.length).toBe(data.n * sp.steps * sp.features);
    // Length = ceil(frames / pool) (≤ maxSteps) for every report with a recording, 0 without one.
    let longest = 0;
    for (let i = 0; i < data.n; i++) {
      const v = frames.byReport.get(ds.reportIds[i]);
      const want = v ? Math.min(maxSteps, Math.ceil(v.length / sp.features / pool)) : 0;
      expect(sp.length[i]).toBe(want);
      longest = Math.max(longest, want);
      for (let t = sp.length[i]; t < sp.steps; t++) for (let f = 0; f < sp.features; f++) expect(sp.x[(i * sp.steps + t) * sp.features + f]).toBe(0);
    }
    expect(sp.steps).toBe(longest);
    expect(sp.steps).toBeGreaterThan(5); // seconds of speech at 10 ms frames, 100 ms steps
    expect(sp.x.every(Number.isFinite)).toBe(true);
    // Step 0 of a recording is the mean of its first `pool` frames, z-scored on the training rows: not all 0.
    const withSpeech = Array.from(split.train).filter((r) => sp.length[r] > 0);
    expect(withSpeech.some((r) => sp.x.subarray(r * sp.steps * sp.features, (r * sp.steps + 1) * sp.features).some((v) => v !== 0))).toBe(true);

    // One AMM training step on both modalities moves the speech encoder's weights.
    const model = createAmm(data, { modalities: ['activity', 'speech'], tasks: data.tasks.map((t) => t.name), hidden: 6, attention: 6, headDim: 2, taskHidden: 6, initScale: 0.3 }, 1);
    const rows = usableRows(data, model, split.train).filter((r) => sp.length[r] > 0 && act.length[r] > 0);
    expect(rows.length).toBeGreaterThan(4);
    const batch = makeBatch(data, rows, model.modalities, model.tasks);
    expect(batch.x[1].shape).toEqual([rows.length, sp.steps, sp.features]);
    const w = model.store.weights.get([...model.store.weights.keys()].find((k) => k.startsWith('enc.speech'))!)!;
    const before = w.dataSync().slice();
    const loss = () => { const out = model.forward(batch, true); return out.logits.reduce((s, l, k) => s.add(crossEntropy(l, batch.onehot[k])), tf.scalar(0)) as tf.Scalar; };
    const opt = tf.train.adam(1e-2);
    const l0 = opt.minimize(loss, true, model.store.list())!;
    expect(Number.isFinite(l0.dataSync()[0])).toBe(true);
    const after = w.dataSync();
    expect(after.some((v, i) => Math.abs(v - before[i]) > 1e-6)).toBe(true);
    tf.dispose([l0]); opt.dispose(); disposeBatch(batch); model.store.dispose();
  }, 60_000);
});
