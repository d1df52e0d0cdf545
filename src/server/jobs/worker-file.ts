/**
 * Start a worker thread from a file next to the caller: the compiled .js when the server runs from
 * dist/, the .ts source under tsx (tests, `npx tsx`), where the worker registers tsx's loader
 * before importing it.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function startWorker(callerUrl: string, name: string, resourceLimits?: ResourceLimits): Worker {
  const here = fileURLToPath(callerUrl);
  const dir = here.replace(/[^/\\]+$/, '');
  const js = dir + name + '.js', ts = dir + name + '.ts';
  const file = here.endsWith('.js') && existsSync(js) ? js : ts;
  const boot = `import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(pathToFileURL(file).href)}))`;
  return file.endsWith('.ts') ? new Worker(boot, { eval: true, resourceLimits }) : new Worker(file, { resourceLimits });
}
