/**
 * MIMML — mutual-information maximisation joint with multi-task learning (TBME 2025; SPEC §5;
 * only the abstract is public, so the parts follow its words with standard choices):
 *
 *   encoder per modality:  H_m = BiGRU(x_m);  C_m = ReLU(Conv1d_k(H_m));  r_m = tanh(W_m maxpool_t C_m + b_m)
 *   gated fusion:          g_m = σ(G_m [r_1 ⊕ … ⊕ r_M] + c_m);  f = Σ_m g_m ⊙ r_m   (absent modality: g_m = 0)
 *   modality invariance:   InfoNCE lower bound I(r_m; f) ≥ log B − L_NCE,
 *                          L_NCE = −(1/B) Σ_i log [exp(s(r_m,i, f_i)/τ) / Σ_j exp(s(r_m,i, f_j)/τ)],
 *                          s = cosine of learned projections (van den Oord et al. 2018)
 *                          (miTarget 'modalities' / 'both': also, or instead, I(r_m; r_n) between modalities)
 *   modality specificity:  unimodal auxiliary heads predicting the main task from each r_m
 *   loss:                  Σ_k CE(W_k f) + auxWeight·Σ_m CE_aux,m + miWeight·Σ_m L_NCE,m + λ·½‖W‖²
 */
import { tf } from '../model/backend.js';
import { Rng } from '../util/random.js';
import { SeqParams, applyLinear, linear, type Linear } from './seq/params.js';
import { biGruMany, biGruParams, type BiGruParams } from './seq/gru.js';
import { conv1d, conv1dParams, maskedMaxPool, type Conv1dParams } from './seq/cnn.js';
import { MimmlConfigSchema, type MimmlConfig } from './config.js';
import { crossEntropy, indexByName, type SeqBatch, type SeqData } from './data.js';
import { dropout, type ForwardOutput, type SeqModel } from './model.js';

/** InfoNCE loss between paired rows of za and zb ([B, d] each), cosine critic at temperature τ. */
export function infoNce(za: tf.Tensor2D, zb: tf.Tensor2D, temperature: number, rowWeight?: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const B = za.shape[0];
    const na = za.div(za.square().sum(1, true).add(1e-8).sqrt());
    const nb = zb.div(zb.square().sum(1, true).add(1e-8).sqrt());
    const s = tf.matMul(na, nb, false, true).div(temperature); // [B, B]
    const diag = tf.logSoftmax(s).mul(tf.eye(B)).sum(1, true); // log p(i | i)   [B, 1]
    const w = rowWeight ?? tf.ones([B, 1]);
    return diag.mul(w).sum().neg().div(w.sum().maximum(1)) as tf.Scalar;
  });
}

export function createMimml(data: SeqData, config: Partial<MimmlConfig> & Pick<MimmlConfig, 'modalities' | 'tasks'>, seed: number): SeqModel {
  const cfg = MimmlConfigSchema.parse(config);
  const rng = new Rng(seed);
  const store = new SeqParams(rng.fork(2), cfg.initScale);
  const modalities = cfg.modalities.map((m) => indexByName(data.modalities, m, 'modality'));
  const tasks = cfg.tasks.map((t) => indexByName(data.tasks, t, 'task'));
  const M = modalities.length;
  const names = modalities.map((mi) => data.modalities[mi].name);
  const enc: BiGruParams[] = modalities.map((mi, k) => biGruParams(store, `enc.${names[k]}`, data.modalities[mi].features, cfg.hidden));
  const cnn: Conv1dParams[] = names.map((n) => conv1dParams(store, `cnn.${n}`, 2 * cfg.hidden, cfg.channels, cfg.kernel));
  const proj: Linear[] = names.map((n) => linear(store, `proj.${n}`, cfg.channels, cfg.width));
  const gates: Linear[] = names.map((n) => linear(store, `gate.${n}`, M * cfg.width, cfg.width));
  const heads: Linear[] = tasks.map((ti) => linear(store, `head.${data.tasks[ti].name}`, cfg.width, data.tasks[ti].classes.length));
  const useAux = cfg.aux && M >= 2;
  const useMi = cfg.mi && cfg.miWeight > 0 && M >= 2;
  const mainClasses = data.tasks[tasks[0]].classes.length;
  const aux: Linear[] = useAux ? names.map((n) => linear(store, `aux.${n}`, cfg.width, mainClasses)) : [];
  const critic: Linear[] = useMi ? names.map((n) => linear(store, `critic.${n}`, cfg.width, cfg.width)) : [];
  const fusedMi = useMi && cfg.miTarget !== 'modalities', crossMi = useMi && cfg.miTarget !== 'fused';
  const criticFused: Linear | null = fusedMi ? linear(store, 'critic.fused', cfg.width, cfg.width) : null;
  const seedFn = () => rng.nextU32();

  function forward(b: SeqBatch, training: boolean): ForwardOutput {
    const H = biGruMany(enc, b.x, b.mask);
    const r = H.map((Hm, k) => tf.tanh(applyLinear(proj[k], maskedMaxPool(conv1d(cnn[k], Hm, b.mask[k]), b.mask[k]))).mul(b.present[k]) as tf.Tensor2D);
    const all = M === 1 ? r[0] : tf.concat(r, 1);
    let f = tf.zeros(r[0].shape) as tf.Tensor2D;
    for (let k = 0; k < M; k++) f = f.add(tf.sigmoid(applyLinear(gates[k], all)).mul(b.present[k]).mul(r[k])) as tf.Tensor2D;
    const fd = dropout(f, cfg.dropout, training, seedFn);
    const logits = tasks.map((_, k) => applyLinear(heads[k], fd) as tf.Tensor2D);
    const extra: Record<string, tf.Scalar> = {};
    if (training && useAux) {
      let s = tf.scalar(0);
      for (let k = 0; k < M; k++) s = s.add(crossEntropy(applyLinear(aux[k], dropout(r[k], cfg.dropout, training, seedFn)) as tf.Tensor2D, b.onehot[0].mul(b.present[k]) as tf.Tensor2D));
      extra.aux = s.mul(cfg.auxWeight) as tf.Scalar;
    }
    if (training && useMi) {
      const z = r.map((rk, k) => tf.tanh(applyLinear(critic[k], rk)) as tf.Tensor2D);
      let s = tf.scalar(0);
      if (criticFused) {
        const zf = tf.tanh(applyLinear(criticFused, f)) as tf.Tensor2D;
        for (let k = 0; k < M; k++) s = s.add(infoNce(z[k], zf, cfg.temperature, b.present[k]));
      }
      if (crossMi) {
        // Symmetric InfoNCE for every pair of modalities, over the rows where both are present.
        for (let k = 0; k < M; k++) for (let l = k + 1; l < M; l++) {
          const both = b.present[k].mul(b.present[l]) as tf.Tensor2D;
          s = s.add(infoNce(z[k], z[l], cfg.temperature, both).add(infoNce(z[l], z[k], cfg.temperature, both)).mul(0.5));
        }
      }
      extra.mi = s.mul(cfg.miWeight) as tf.Scalar;
    }
    return { logits, extra };
  }

  const flags = [M >= 2 && !useMi ? 'no-MI' : '', M >= 2 && !useAux ? 'no-aux' : ''].filter(Boolean).join(',');
  return {
    name: `MIMML(${cfg.modalities.join('+')}; ${cfg.tasks.join('+')}${flags ? '; ' + flags : ''})`,
    store, modalities, tasks,
    taskWeights: cfg.taskWeights ?? tasks.map(() => 1),
    forward,
  };
}
