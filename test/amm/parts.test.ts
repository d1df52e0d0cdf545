import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { Rng } from '../../src/util/random.js';
import { SeqParams, applyLinear, linear } from '../../src/amm/seq/params.js';
import { gru, gruParams, biGru, biGruParams, gruMany } from '../../src/amm/seq/gru.js';
import { lstm, lstmParams, lastState } from '../../src/amm/seq/lstm.js';
import { conv1d, conv1dParams, maskedMaxPool, maskedMeanPool } from '../../src/amm/seq/cnn.js';
import { attentionPool, attentionPoolParams, crossAttention, crossAttentionParams } from '../../src/amm/seq/attention.js';
import { lengthMask } from '../../src/amm/seq/mask.js';
import { gradCheck, fixed } from './gradcheck.js';

// Tiny sizes: B=3 sequences of lengths 4, 2, 3 padded to T=4, 2 features.
const B = 3, T = 4, F = 2;
const lengths = [4, 2, 3];
let x: tf.Tensor3D, mask: tf.Tensor2D;
const TOL = 2e-2; // float32 central differences with ε = 1e-2

beforeAll(async () => {
  await initNodeBackend();
  mask = lengthMask(lengths, T);
  x = fixed([B, T, F], 3).mul(mask.expandDims(2)) as tf.Tensor3D;
});

/** A scalar loss Σ out ⊙ R with a fixed random R, so every output element matters. */
function probeLoss(out: tf.Tensor, seed = 11): tf.Scalar {
  return out.mul(fixed(out.shape, seed)).sum() as tf.Scalar;
}

describe('sequence parts: gradients (finite differences vs tf.grads)', () => {
  it('dense', () => {
    const s = new SeqParams(new Rng(1), 0.5);
    const p = linear(s, 'd', F, 3);
    const r = gradCheck(s.list(), () => probeLoss(tf.tanh(applyLinear(p, x))));
    expect(r.checked).toBeGreaterThan(0);
    expect(r.worst).toBeLessThan(TOL);
  });
  it('GRU', () => {
    const s = new SeqParams(new Rng(2), 0.5);
    const p = gruParams(s, 'g', F, 3);
    const r = gradCheck(s.list(), () => probeLoss(gru(p, x, mask)));
    expect(r.worst).toBeLessThan(TOL);
  });
  it('bidirectional GRU', () => {
    const s = new SeqParams(new Rng(3), 0.5);
    const p = biGruParams(s, 'bg', F, 3);
    const r = gradCheck(s.list(), () => probeLoss(biGru(p, x, mask)));
    expect(r.worst).toBeLessThan(TOL);
  });
  it('LSTM and its last valid state', () => {
    const s = new SeqParams(new Rng(4), 0.5);
    const p = lstmParams(s, 'l', F, 3, 1);
    const r = gradCheck(s.list(), () => { const H = lstm(p, x, mask); return probeLoss(H).add(probeLoss(lastState(H, mask), 5)) as tf.Scalar; });
    expect(r.worst).toBeLessThan(TOL);
  });
  it('1-D CNN with masked max and mean pooling', () => {
    const s = new SeqParams(new Rng(5), 0.5);
    const p = conv1dParams(s, 'c', F, 4, 3, 'linear');
    const r = gradCheck(s.list(), () => { const y = tf.tanh(conv1d(p, x, mask)) as tf.Tensor3D; return probeLoss(maskedMeanPool(y, mask)).add(probeLoss(maskedMaxPool(y, mask), 9)) as tf.Scalar; });
    expect(r.worst).toBeLessThan(TOL);
  });
  it('additive attention pooling', () => {
    const s = new SeqParams(new Rng(6), 0.5);
    const p = attentionPoolParams(s, 'a', F, 3);
    const r = gradCheck(s.list(), () => probeLoss(attentionPool(p, x, mask).h));
    expect(r.worst).toBeLessThan(TOL);
  });
  it('multi-head cross-attention (8 heads)', () => {
    const s = new SeqParams(new Rng(7), 0.5);
    const p = crossAttentionParams(s, 'x', F, F, 8, 2, 1);
    const q = fixed([B, 2, F], 21);
    const r = gradCheck(s.list(), () => probeLoss(crossAttention(p, q as tf.Tensor3D, x, mask).out));
    expect(r.worst).toBeLessThan(TOL);
  });
  it('gradient with respect to the input too (GRU → attention)', () => {
    const s = new SeqParams(new Rng(8), 0.5);
    const g = gruParams(s, 'g', F, 3);
    const a = attentionPoolParams(s, 'a', 3);
    const xv = tf.variable(x, true, 'input-x');
    const r = gradCheck([xv], () => probeLoss(attentionPool(a, gru(g, xv.mul(mask.expandDims(2)) as tf.Tensor3D, mask), mask).h));
    expect(r.worst).toBeLessThan(TOL);
  });
});

describe('sequence parts: masking', () => {
  it('padding content does not change GRU states, BiGRU states, attention or CNN at valid steps', () => {
    const s = new SeqParams(new Rng(9), 0.5);
    const g = biGruParams(s, 'bg', F, 3);
    const a = attentionPoolParams(s, 'a', 6);
    const c = conv1dParams(s, 'c', F, 2, 3);
    const junk = fixed([B, T, F], 99, 5).mul(tf.scalar(1).sub(mask).expandDims(2));
    const xJunk = x.add(junk) as tf.Tensor3D;
    const H1 = biGru(g, x, mask), H2 = biGru(g, xJunk.mul(mask.expandDims(2)) as tf.Tensor3D, mask);
    expect(tf.max(tf.abs(H1.sub(H2))).dataSync()[0]).toBeLessThan(1e-6);
    // A sequence evaluated alone, unpadded, equals its padded version in the batch.
    const alone = x.slice([1, 0, 0], [1, 2, F]) as tf.Tensor3D;
    const Ha = biGru(g, alone, tf.ones([1, 2]) as tf.Tensor2D);
    const Hb = H1.slice([1, 0, 0], [1, 2, 6]);
    expect(tf.max(tf.abs(Ha.sub(Hb))).dataSync()[0]).toBeLessThan(1e-5);
    const pa = attentionPool(a, Ha, tf.ones([1, 2]) as tf.Tensor2D);
    const pb = attentionPool(a, H1, mask);
    expect(tf.max(tf.abs(pa.h.sub(pb.h.slice([1, 0], [1, 6])))).dataSync()[0]).toBeLessThan(1e-5);
    expect(Array.from(pb.alpha.slice([1, 2], [1, 2]).dataSync())).toEqual([0, 0]);
    expect(pb.alpha.sum(1).dataSync()[0]).toBeCloseTo(1, 5);
    const ca = conv1d(c, alone, tf.ones([1, 2]) as tf.Tensor2D), cb = conv1d(c, x, mask).slice([1, 0, 0], [1, 2, 2]);
    expect(tf.max(tf.abs(ca.sub(cb))).dataSync()[0]).toBeLessThan(1e-6);
  });
  it('gruMany equals separate GRUs and handles different lengths', () => {
    const s = new SeqParams(new Rng(10), 0.5);
    const p1 = gruParams(s, 'a', F, 3), p2 = gruParams(s, 'b', 5, 3);
    const x2 = fixed([B, 6, 5], 4) as tf.Tensor3D;
    const m2 = lengthMask([6, 1, 5], 6);
    const [h1, h2] = gruMany([p1, p2], [x, x2], [mask, m2]);
    expect(h1.shape).toEqual([B, T, 3]);
    expect(h2.shape).toEqual([B, 6, 3]);
    expect(tf.max(tf.abs(h1.sub(gru(p1, x, mask)))).dataSync()[0]).toBeLessThan(1e-6);
    expect(tf.max(tf.abs(h2.sub(gru(p2, x2, m2)))).dataSync()[0]).toBeLessThan(1e-6);
  });
  it('cross-attention ignores masked keys', () => {
    const s = new SeqParams(new Rng(11), 0.5);
    const p = crossAttentionParams(s, 'x', F, F, 8, 2, 1);
    const q = fixed([B, 1, F], 5) as tf.Tensor3D;
    const junk = x.add(fixed([B, T, F], 77, 3).mul(tf.scalar(1).sub(mask).expandDims(2))) as tf.Tensor3D;
    const o1 = crossAttention(p, q, x, mask), o2 = crossAttention(p, q, junk, mask);
    expect(o1.out.shape).toEqual([B, 1, 8]);
    expect(tf.max(tf.abs(o1.out.sub(o2.out))).dataSync()[0]).toBeLessThan(1e-6);
  });
});
