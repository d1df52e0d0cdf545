/**
 * Optional speech embeddings from a user-given ONNX model (MM's setting: hidden states of a
 * wav2vec2-style model), run with onnxruntime-node on the CPU. The model takes the 16 kHz mono
 * waveform as a float tensor [1, samples]; its first output is pooled to one vector:
 * [1, T, D] → mean over T; [1, D] or [D] → as it is.
 */
import { existsSync, statSync } from 'node:fs';
import { UsageError } from '../util/errors.js';
import { resample } from '../signal/speech/resample.js';

export interface SpeechEmbedder {
  inputName: string;
  outputName: string;
  /** Embed mono samples (resampled to 16 kHz first when needed). */
  embed(samples: Float32Array, sampleRate: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export async function onnxEmbedding(modelPath: string): Promise<SpeechEmbedder> {
  if (!modelPath) throw new UsageError('no ONNX model path given');
  if (!existsSync(modelPath)) throw new UsageError(`ONNX model not found: ${modelPath}`);
  if (!statSync(modelPath).isFile()) throw new UsageError(`ONNX model path is not a file: ${modelPath}`);
  const ort = await import('onnxruntime-node');
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  } catch (e) {
    throw new UsageError(`cannot load ONNX model ${modelPath}: ${(e as Error).message}`);
  }
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  return {
    inputName, outputName,
    async embed(samples, sampleRate) {
      const x = sampleRate === 16000 ? samples : resample(samples, sampleRate, 16000);
      const out = await session.run({ [inputName]: new ort.Tensor('float32', Float32Array.from(x), [1, x.length]) });
      const t = out[outputName];
      const data = t.data as Float32Array;
      const dims = t.dims;
      if (dims.length === 3) {
        const [, T, D] = dims; const v = new Float32Array(D);
        for (let i = 0; i < T; i++) for (let j = 0; j < D; j++) v[j] += data[i * D + j] / T;
        return v;
      }
      return Float32Array.from(data.subarray(0, dims[dims.length - 1]));
    },
    async close() { await session.release(); },
  };
}
