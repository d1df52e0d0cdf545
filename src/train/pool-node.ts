/** Runs experiment jobs on N worker threads (experiment-worker.ts, one wasm backend each). */
import { spawnWorker } from '../util/spawn-worker.js';
import type { Job, JobResult } from './experiment-job.js';

export async function runPool(jobs: Job[], workers: number, onDone: (r: JobResult) => void | Promise<void>): Promise<void> {
  const queue = [...jobs];
  const errors: string[] = [];
  const one = () => new Promise<void>((resolve) => {
    const w = spawnWorker(import.meta.url, 'experiment-worker');
    const next = () => {
      const job = queue.shift();
      if (!job) { void w.terminate(); resolve(); return; }
      w.postMessage(job);
    };
    w.on('message', async (m: { ready?: boolean; ok?: boolean; result?: JobResult; error?: string }) => {
      if (m.ready) { next(); return; }
      if (m.ok && m.result) await onDone(m.result); else errors.push(m.error ?? 'unknown worker error');
      next();
    });
    w.on('error', (e) => { errors.push(e.stack ?? String(e)); resolve(); });
  });
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, jobs.length)) }, one));
  if (errors.length) throw new Error(`${errors.length} experiment job(s) failed:\n${errors.join('\n')}`);
}
