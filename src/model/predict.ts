/** Forward passes without gradients: ŷ on the [0,1] label scale for instances `idx`. */
import { tf } from './backend.js';
import type { MoodModel } from './macro-micro.js';
import { makeBatch, disposeBatch, type Prepared } from './inputs.js';
import { UserBatch } from './user-table.js';

export function predict(model: MoodModel, p: Prepared, idx: ArrayLike<number>, batchSize = 512): Float32Array {
  const K = p.K, out = new Float32Array(idx.length * K);
  for (let s = 0; s < idx.length; s += batchSize) {
    const part = Array.prototype.slice.call(idx, s, Math.min(idx.length, s + batchSize)) as number[];
    const b = makeBatch(p, part);
    const ub = new UserBatch(b.user, model.tables, false);
    const y = tf.tidy(() => model.forward(b.inputs, b.mask, ub, b.known));
    out.set(y.dataSync(), s * K);
    y.dispose(); ub.dispose(); disposeBatch(b);
  }
  return out;
}
