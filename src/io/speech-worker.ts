/** Worker thread for `moodlens features`: computes the features of the files it is sent. */
import { parentPort } from 'node:worker_threads';
import { featuresForFile } from './speech-node.js';
import type { PipelineOptions } from '../signal/speech/pipeline.js';

parentPort?.on('message', (m: { id: number; path: string; opts: PipelineOptions }) => {
  let result;
  try { result = featuresForFile(m.path, m.opts); } catch (e) { result = { ok: false, reason: 'error', message: (e as Error).message }; }
  parentPort!.postMessage({ id: m.id, result });
});
