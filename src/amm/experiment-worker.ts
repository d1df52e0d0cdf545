/**
 * Worker thread for `moodlens worker --kinds amm-row` (experiment-queue.ts): trains one arm × seed
 * of an AMM or MIMML design on the source its payload names and returns the test predictions.
 * The source's sequences are loaded once per content hash and kept for the next row.
 */
import { parentPort } from 'node:worker_threads';
import { initNodeBackend } from '../train/backend-node.js';
import { loadSeqSource, parseSource, type SeqRowPayload } from './experiment-queue.js';
import { trainArm, type Arm } from './experiment.js';
import type { SeqData } from './data.js';
import type { TrainConfig } from './config.js';

if (parentPort) {
  const port = parentPort;
  await initNodeBackend();
  let loaded: { hash: string; data: Promise<SeqData> } | null = null;
  port.on('message', async (p: SeqRowPayload) => {
    try {
      if (loaded?.hash !== p.sourceHash) loaded = { hash: p.sourceHash, data: loadSeqSource(parseSource(p.source)) };
      const data = await loaded.data;
      const res = await trainArm(data, p.arm as Arm, p.seed, { train: p.train as Partial<TrainConfig>, model: p.model }, Int32Array.from(p.testRows));
      port.postMessage({ ok: true, result: res });
    } catch (e) {
      loaded = null;
      port.postMessage({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  });
}
