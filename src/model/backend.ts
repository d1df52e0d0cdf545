/**
 * The tensor engine: TensorFlow.js on its WebAssembly backend (SIMD, one thread per process;
 * parallelism = worker threads each with their own backend). Browser-safe: the caller passes the
 * folder (URL or path) holding the .wasm files; Node code resolves it in src/train/backend-node.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let ready: Promise<void> | null = null;

/**
 * Start the wasm backend once. `wasmDir` ends with '/' and holds tfjs-backend-wasm*.wasm
 * (omit it in a browser bundle that serves them beside the script). Falls back to the pure-JS
 * 'cpu' backend only when `allowCpuFallback` is set (slower by ~6×).
 */
export function initBackend(wasmDir?: string, allowCpuFallback = false): Promise<void> {
  if (ready) return ready;
  ready = (async () => {
    if (wasmDir) setWasmPaths(wasmDir);
    const ok = await tf.setBackend('wasm').catch(() => false);
    if (!ok) {
      if (!allowCpuFallback) throw new Error('could not start the TensorFlow.js wasm backend');
      await tf.setBackend('cpu');
    }
    await tf.ready();
    tf.enableProdMode(); // skips per-op NaN checks and debug bookkeeping
  })();
  return ready;
}

export { tf };
