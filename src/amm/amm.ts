/**
 * AMM — attentive multimodal multitask classification (Zhang et al., BIBM 2021; SPEC §4).
 *
 *   H_m = BiGRU(x_m);  h_m = Σ_t α_t H_m,t  (Eq. 2);  h'_m = h_m ⊕ side_m          (§III-B, C)
 *   I_e: M^{a→b}_μ = softmax(Q^a_μ K^b_μᵀ/√d_k) V^b_μ, μ = 1…8, both ways          (Eq. 3–5)
 *        queries: the pooled vector h'_a; keys/values: the BiGRU states H_b of the other modality
 *        (over one vector each, as printed, the softmax is over a single key and the attention
 *        degenerates to a linear map); the 2·H head outputs form the token sequence M_k.
 *        Without I_e: M_k = [h'_1 ⊕ … ⊕ h'_M] as a one-token sequence (concatenation).
 *   I_t: h*_k = LSTM_k(M_k);  h_k = Att(h*_k, h*_other) = softmax(Q^k K^otherᵀ) V^other (Eq. 6)
 *        with the query at each task's last LSTM state and keys/values over the other task's
 *        states (interTaskKeys 'all': over every task's states). Without I_t: h_k = the last state of LSTM_k.
 *   p_k = softmax(W_k h_k + b_k); loss Σ_k CE_k + λ·½‖W‖² (trainer).
 */
import { tf } from '../model/backend.js';
import { Rng } from '../util/random.js';
import { SeqParams, applyLinear, linear, type Linear } from './seq/params.js';
import { biGruMany, biGruParams, type BiGruParams } from './seq/gru.js';
import { lstmMany, lstmParams, type LstmParams } from './seq/lstm.js';
import { attentionPool, attentionPoolParams, crossAttention, crossAttentionParams, type AttentionPoolParams, type CrossAttentionParams } from './seq/attention.js';
import { AmmConfigSchema, type AmmConfig } from './config.js';
import { indexByName, type SeqBatch, type SeqData } from './data.js';
import { dropout, type ForwardOutput, type SeqModel } from './model.js';

export function createAmm(data: SeqData, config: Partial<AmmConfig> & Pick<AmmConfig, 'modalities' | 'tasks'>, seed: number): SeqModel {
  const cfg = AmmConfigSchema.parse(config);
  const rng = new Rng(seed);
  const store = new SeqParams(rng.fork(1), cfg.initScale);
  const modalities = cfg.modalities.map((m) => indexByName(data.modalities, m, 'modality'));
  const tasks = cfg.tasks.map((t) => indexByName(data.tasks, t, 'task'));
  const M = modalities.length, K = tasks.length;
  const d2 = 2 * cfg.hidden;

  // Encoders: BiGRU + additive attention per modality.
  const enc: BiGruParams[] = modalities.map((mi) => biGruParams(store, `enc.${data.modalities[mi].name}`, data.modalities[mi].features, cfg.hidden));
  const att: AttentionPoolParams[] = modalities.map((mi) => attentionPoolParams(store, `att.${data.modalities[mi].name}`, d2, cfg.attention));
  const sideDim = modalities.map((mi) => (cfg.side && data.modalities[mi].side ? data.modalities[mi].side!.names.length : 0));
  const vecDim = sideDim.map((s) => d2 + s);

  // Inter-modal attention for every ordered pair (a → b): query h'_a, keys/values H_b.
  const useIe = cfg.interModal && M >= 2;
  const pairs: Array<[number, number]> = [];
  if (useIe) for (let a = 0; a < M; a++) for (let b = 0; b < M; b++) if (a !== b) pairs.push([a, b]);
  const ie: CrossAttentionParams[] = pairs.map(([a, b]) => crossAttentionParams(store, `ie.${a}to${b}`, vecDim[a], d2, cfg.heads, cfg.headDim, cfg.headDim));
  const tokenDim = useIe ? cfg.headDim : vecDim.reduce((s, v) => s + v, 0);

  // One LSTM per task, inter-task attention, softmax heads.
  const taskLstm: LstmParams[] = tasks.map((ti) => lstmParams(store, `lstm.${data.tasks[ti].name}`, tokenDim, cfg.taskHidden));
  const useIt = cfg.interTask && K >= 2;
  const it: CrossAttentionParams[] = useIt ? tasks.map((ti) => crossAttentionParams(store, `it.${data.tasks[ti].name}`, cfg.taskHidden, cfg.taskHidden, 1, cfg.taskHidden, cfg.taskHidden)) : [];
  const heads: Linear[] = tasks.map((ti) => linear(store, `head.${data.tasks[ti].name}`, cfg.taskHidden, data.tasks[ti].classes.length));
  const seedFn = () => rng.nextU32();

  function forward(b: SeqBatch, training: boolean): ForwardOutput {
    const B = b.size;
    const H = biGruMany(enc, b.x, b.mask);
    const vecs = H.map((Hm, k) => {
      let h: tf.Tensor2D = attentionPool(att[k], Hm, b.mask[k]).h;
      const side = b.side[k];
      if (sideDim[k] > 0 && side) h = tf.concat([h, side.mul(b.present[k])], 1) as tf.Tensor2D;
      return dropout(h, cfg.dropout, training, seedFn) as tf.Tensor2D;
    });
    let tokens: tf.Tensor3D;
    if (useIe) {
      // Heads of each direction as tokens: [B, H·M(M−1), headDim].
      const dirs = pairs.map(([a, c], p) => crossAttention(ie[p], vecs[a].expandDims(1) as tf.Tensor3D, H[c], b.mask[c]).heads.reshape([B, cfg.heads, cfg.headDim]));
      tokens = (dirs.length === 1 ? dirs[0] : tf.concat(dirs, 1)) as tf.Tensor3D;
    } else {
      tokens = (M === 1 ? vecs[0] : tf.concat(vecs, 1)).expandDims(1) as tf.Tensor3D;
    }
    const L = tokens.shape[1];
    const tokMask = tf.ones([B, L]) as tf.Tensor2D;
    const states = lstmMany(taskLstm, tasks.map(() => tokens), tokMask); // K × [B, L, dt]
    const last = states.map((s) => s.slice([0, L - 1, 0], [B, 1, cfg.taskHidden]) as tf.Tensor3D);
    const logits = tasks.map((_, k) => {
      let h: tf.Tensor2D;
      if (useIt) {
        const others = cfg.interTaskKeys === 'all' ? states : states.filter((_, j) => j !== k);
        const kv = (others.length === 1 ? others[0] : tf.concat(others, 1)) as tf.Tensor3D;
        h = crossAttention(it[k], last[k], kv, tf.ones([B, kv.shape[1]]) as tf.Tensor2D).out.reshape([B, cfg.taskHidden]) as tf.Tensor2D;
      } else h = last[k].reshape([B, cfg.taskHidden]) as tf.Tensor2D;
      return applyLinear(heads[k], dropout(h, cfg.dropout, training, seedFn)) as tf.Tensor2D;
    });
    return { logits };
  }

  const flags = [useIe ? '' : M >= 2 ? 'no-Ie' : '', useIt ? (cfg.interTaskKeys === 'all' ? 'It over all tasks' : '') : K >= 2 ? 'no-It' : ''].filter(Boolean).join(',');
  return {
    name: `AMM(${cfg.modalities.join('+')}; ${cfg.tasks.join('+')}${flags ? '; ' + flags : ''})`,
    store, modalities, tasks,
    taskWeights: cfg.taskWeights ?? tasks.map(() => 1),
    forward,
  };
}
