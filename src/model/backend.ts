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
    if (tf.getBackend() === 'wasm') { routeTransposedMatMulsToXnnpack(); shareDataInIdentity(); saveForBackwardWithoutClones(); }
  })();
  return ready;
}

/**
 * The wasm BatchMatMul kernel runs XNNPACK's GEMM only for an untransposed, unbatched product;
 * with transposeA or transposeB (every matmul gradient: dX = dY·Wᵀ, dW = Xᵀ·dY) it falls back to
 * a scalar triple loop, 10–50× slower at batch 256. Re-register the kernel so that a transposed
 * operand is transposed explicitly first (one cheap Transpose kernel) and the product always takes
 * the XNNPACK path; a batched A against an unbatched B is folded into one [1, batch·m, k] product.
 * Same arithmetic (a different summation order: float rounding only).
 */
function routeTransposedMatMulsToXnnpack(): void {
  const orig = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!orig || !transpose || (orig as { moodlens?: boolean }).moodlens) return;
  type Info = tf.TensorInfo;
  type Args = { inputs: { a: Info; b: Info }; backend: { disposeData(id: unknown): void }; attrs: { transposeA: boolean; transposeB: boolean } };
  const swapLast = (x: Info, backend: unknown): Info => {
    const r = x.shape.length, perm = Array.from({ length: r }, (_, i) => i);
    perm[r - 1] = r - 2; perm[r - 2] = r - 1;
    return transpose.kernelFunc({ inputs: { x }, backend: backend as never, attrs: { perm } }) as Info;
  };
  const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
  const kernelFunc = (args: Args): Info => {
    const { inputs: { a, b }, backend, attrs: { transposeA, transposeB } } = args;
    const a2 = transposeA ? swapLast(a, backend) : a;
    const b2 = transposeB ? swapLast(b, backend) : b;
    const ra = a2.shape.length, rb = b2.shape.length;
    let out: Info;
    if (ra > 2 && size(a2.shape.slice(0, -2)) > 1 && size(b2.shape.slice(0, -2)) === 1) {
      // [..., m, k] × [k, n]: one GEMM over all rows.
      const flat = { ...a2, shape: [1, size(a2.shape.slice(0, -1)), a2.shape[ra - 1]] };
      out = orig.kernelFunc({ inputs: { a: flat, b: b2 }, backend: backend as never, attrs: { transposeA: false, transposeB: false } }) as Info;
      out.shape = [...a2.shape.slice(0, -1), b2.shape[rb - 1]];
    } else {
      out = orig.kernelFunc({ inputs: { a: a2, b: b2 }, backend: backend as never, attrs: { transposeA: false, transposeB: false } }) as Info;
    }
    if (transposeA) backend.disposeData(a2.dataId);
    if (transposeB) backend.disposeData(b2.dataId);
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc, moodlens: true } as tf.KernelConfig);
}

/**
 * The engine clones every tensor it saves for the backward pass (Identity kernel); the wasm
 * Identity copies the data (~280 copies per training step of the paper model). Tensors are
 * immutable (kernels never write into their inputs; Variable.assign swaps the data id), so the
 * clone can share the data with a reference count, as the wasm Reshape and the cpu Identity do.
 */
function shareDataInIdentity(): void {
  const orig = tf.getKernel('Identity', 'wasm');
  if (!orig || (orig as { moodlens?: boolean }).moodlens) return;
  const kernelFunc = ({ inputs: { x }, backend }: { inputs: { x: tf.TensorInfo }; backend: { incRef(id: unknown): void } }) => {
    if (x.dtype === 'string') return orig.kernelFunc({ inputs: { x }, backend, attrs: {} } as never);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc, moodlens: true } as tf.KernelConfig);
}

/**
 * While recording a gradient tape the engine keeps, for every kernel, the inputs/outputs its
 * gradient needs, each through `clone` = one Identity kernel run plus one extra tape node (~280 per
 * step of the paper model, each costing a kernel dispatch and a node the backward pass walks).
 * A kept tensor sharing the data (reference-counted, as Reshape does) is what the clone amounts to
 * for first-order gradients (the only kind used here: the clone's tape node only serves
 * gradients of gradients).
 */
function saveForBackwardWithoutClones(): void {
  type Eng = {
    saveTensorsForBackwardMode(ts: tf.Tensor[]): tf.Tensor[]; moodlensSave?: boolean;
    backend: { incRef(id: unknown): void }; keep<X extends tf.Tensor>(t: X): X;
    makeTensorFromTensorInfo(i: tf.TensorInfo): tf.Tensor;
  };
  const engine = tf.engine() as unknown as Eng;
  if (engine.moodlensSave || typeof engine.saveTensorsForBackwardMode !== 'function') return;
  engine.saveTensorsForBackwardMode = (ts) => ts.map((t) => {
    engine.backend.incRef(t.dataId);
    return engine.keep(engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }));
  });
  engine.moodlensSave = true;
}

export { tf };
