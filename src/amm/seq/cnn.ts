/**
 * 1-D convolution over time, 'same' zero padding, masked:
 *   y_t = ReLU(Σ_{j} x_{t+j−⌊k/2⌋} W_j + b) · m_t
 * Written as unfold + one matmul (k shifted slices concatenated on the feature axis): tfjs-wasm
 * has no Conv2DBackpropFilter kernel, so tf.conv1d cannot be trained on it.
 * Padded input steps must be zero (they then act as the 'same' zero padding).
 */
import { tf } from '../../model/backend.js';
import type { SeqParams } from './params.js';

export interface Conv1dParams { w: tf.Variable; b: tf.Variable; kernel: number; activation: 'relu' | 'linear' }

export function conv1dParams(store: SeqParams, name: string, inDim: number, outDim: number, kernel = 3, activation: 'relu' | 'linear' = 'relu'): Conv1dParams {
  if (kernel < 1 || kernel % 2 === 0) throw new Error('conv1d: kernel must be odd');
  return { w: store.weight(`${name}.w`, [kernel * inDim, outDim]), b: store.bias(`${name}.b`, [outDim]), kernel, activation };
}

export function conv1d(p: Conv1dParams, x: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
  const [B, T, F] = x.shape;
  const half = (p.kernel - 1) / 2;
  const xm = x.mul(mask.expandDims(2));
  const xpad = half > 0 ? tf.pad(xm, [[0, 0], [half, half], [0, 0]]) : xm;
  const cols = [];
  for (let j = 0; j < p.kernel; j++) cols.push(xpad.slice([0, j, 0], [B, T, F]));
  const unfolded = cols.length === 1 ? cols[0] : tf.concat(cols, 2); // [B, T, kF]
  let y = tf.matMul(unfolded.reshape([B * T, p.kernel * F]), p.w).add(p.b);
  if (p.activation === 'relu') y = tf.relu(y);
  const C = p.w.shape[1] as number;
  return y.reshape([B, T, C]).mul(mask.expandDims(2)) as tf.Tensor3D;
}

/** Masked max-pooling over time: [B, T, C] → [B, C] (inputs ≥ 0 after ReLU; padding is 0). */
export function maskedMaxPool(y: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  // Push padded steps far down before the max so that negative activations are handled too.
  return y.add(mask.sub(1).mul(1e9).expandDims(2)).max(1).mul(mask.max(1, true)) as tf.Tensor2D;
}

/** Masked mean over time: Σ_t m_t y_t / Σ_t m_t. */
export function maskedMeanPool(y: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  const m = mask.expandDims(2);
  return y.mul(m).sum(1).div(mask.sum(1, true).maximum(1)) as tf.Tensor2D;
}
