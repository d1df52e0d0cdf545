/**
 * Worker thread for `moodlens experiment`: trains one configuration on the dataset it is sent
 * and returns the test evaluation. Each worker has its own wasm backend (one thread each), so
 * two workers use the two cores.
 */
import { parentPort } from 'node:worker_threads';
import { initNodeBackend } from './backend-node.js';
import { runJob } from './experiment-run.js';
import type { Job } from './experiment-job.js';

if (parentPort) {
  const port = parentPort;
  await initNodeBackend();
  port.on('message', async (job: Job) => {
    try { port.postMessage({ ok: true, result: await runJob(job) }); } catch (e) {
      port.postMessage({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  });
  port.postMessage({ ready: true });
}
