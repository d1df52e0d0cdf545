/**
 * Runs experiment jobs on N worker threads (one wasm backend each). The worker file is the
 * compiled .js beside this one, or the .ts source under tsx (then the worker loads tsx too).
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Job, JobResult } from './experiment-run.js';

export async function runPool(jobs: Job[], workers: number, onDone: (r: JobResult) => void | Promise<void>): Promise<void> {
  const here = fileURLToPath(import.meta.url);
  const js = here.replace(/pool-node\.(ts|js)$/, 'experiment-worker.js');
  const ts = here.replace(/pool-node\.(ts|js)$/, 'experiment-worker.ts');
  const file = here.endsWith('.js') && existsSync(js) ? js : ts;
  // Under tsx (tests, `npx tsx`), the worker registers tsx's loader before importing the .ts file.
  const boot = `import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(pathToFileURL(file).href)}))`;
  const queue = [...jobs];
  const errors: string[] = [];
  const one = () => new Promise<void>((resolve) => {
    const w = file.endsWith('.ts') ? new Worker(boot, { eval: true }) : new Worker(file);
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
