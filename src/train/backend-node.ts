/**
 * Node side of the engine start: finds the dist folder of @tensorflow/tfjs-backend-wasm at run
 * time (wherever npm put it) and hands it to the browser-safe initBackend.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { initBackend } from '../model/backend.js';

export function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  // The package's "main" lives in dist/; the .wasm binaries sit beside it.
  const main = require.resolve('@tensorflow/tfjs-backend-wasm');
  return join(dirname(main), '/');
}

export function initNodeBackend(): Promise<void> {
  return initBackend(wasmDistDir());
}
