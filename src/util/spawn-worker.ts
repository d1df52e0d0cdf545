/**
 * Worker threads start the same way everywhere: from a module next to the caller, the compiled
 * .js when the code runs from dist/, otherwise the .ts source under tsx (tests, `npx tsx`), where
 * the worker registers tsx's loader before importing it.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The file a worker named `name` (a path relative to the caller's folder, without extension)
 * starts from; `compiled` when it is the .js beside a compiled caller.
 */
export function workerFile(callerUrl: string, name: string): { file: string; compiled: boolean } {
  const js = fileURLToPath(new URL(`${name}.js`, callerUrl));
  if (fileURLToPath(callerUrl).endsWith('.js') && existsSync(js)) return { file: js, compiled: true };
  return { file: fileURLToPath(new URL(`${name}.ts`, callerUrl)), compiled: false };
}

/** Start the worker `name` (relative to the caller's folder, e.g. 'speech-worker' or '../io/speech-worker'). */
export function spawnWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const { file, compiled } = workerFile(callerUrl, name);
  if (compiled) return new Worker(file, options);
  const boot = `import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(pathToFileURL(file).href)}))`;
  return new Worker(boot, { ...options, eval: true });
}
