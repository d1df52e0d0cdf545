/**
 * Realism checks of the synthetic study, used by its tests and bench: the "oracle" property
 * later models rely on — a per-person linear fit of the items on the hour's mean activity and
 * the voice features beats one pooled fit, and both beat chance (the training mean).
 * Pure (browser-safe); works on simulated participants in memory.
 */
import { Matrix, solve } from 'ml-matrix';
import { Rng } from '../util/random.js';
import { DAMS_ITEMS } from '../data/study.js';
import { ccc } from '../eval/metrics.js';
import type { SimParticipant } from './participant.js';
import { SPEECH_FEATURES, speechFeatures } from './features.js';

const MIN = 60_000;

/** Mean of each channel over the `epochs` 1-minute epochs before `time`; null if any epoch is missing. */
export function hourBefore(sim: SimParticipant, time: number, epochs = 60): { zcm: number; pim: number } | null {
  const end = Math.floor((time - sim.activityStart) / MIN);
  if (end - epochs < 0 || end > sim.zcm.length) return null;
  let z = 0, p = 0;
  for (let i = end - epochs; i < end; i++) {
    if (!sim.recorded[i] || !Number.isFinite(sim.zcm[i])) return null;
    z += sim.zcm[i]; p += sim.pim[i];
  }
  return { zcm: z / epochs, pim: p / epochs };
}

/** Oracle predictors: log hour-mean ZCM and PIM, and a few voice features. */
export const ORACLE_VOICE = [
  'F0semitoneFrom27.5Hz_sma3nz_amean', 'jitterLocal_sma3nz_amean', 'shimmerLocaldB_sma3nz_amean',
  'loudness_sma3_amean', 'VoicedSegmentsPerSec', 'HNRdBACF_sma3nz_amean', 'F0semitoneFrom27.5Hz_sma3nz_stddevNorm',
] as const;

export interface OracleRow { person: number; x: number[]; y: number[] }

/** Complete instances (whole activity hour, usable speech, every item) as oracle rows, in time order per person. */
export function oracleRows(sims: SimParticipant[], seed = 1): OracleRow[] {
  const r = new Rng(seed);
  const idx = ORACLE_VOICE.map((n) => SPEECH_FEATURES.indexOf(n));
  const rows: OracleRow[] = [];
  sims.forEach((sim, person) => {
    for (const rep of sim.reports) {
      if (rep.speech !== 'ok' || rep.items.some((v) => !Number.isFinite(v))) continue;
      const h = hourBefore(sim, rep.time);
      if (!h) continue;
      const f = speechFeatures(rep.voice, sim.params, r);
      rows.push({ person, x: [Math.log1p(h.zcm), Math.log1p(h.pim), ...idx.map((i) => f[i])], y: rep.items.map((v) => v / 100) });
    }
  });
  return rows;
}

/** Ridge regression with an unpenalised intercept: returns a predictor. Columns are standardised on the fit data. */
function ridge(X: number[][], Y: number[][], lambda: number): (x: number[]) => number[] {
  const n = X.length, d = X[0].length, k = Y[0].length;
  const mu = Array.from({ length: d }, (_, j) => X.reduce((s, r) => s + r[j], 0) / n);
  const sd = Array.from({ length: d }, (_, j) => Math.sqrt(X.reduce((s, r) => s + (r[j] - mu[j]) ** 2, 0) / n) || 1);
  const ym = Array.from({ length: k }, (_, j) => Y.reduce((s, r) => s + r[j], 0) / n);
  const Z = new Matrix(X.map((r) => r.map((v, j) => (v - mu[j]) / sd[j])));
  const Yc = new Matrix(Y.map((r) => r.map((v, j) => v - ym[j])));
  const A = Z.transpose().mmul(Z);
  for (let j = 0; j < d; j++) A.set(j, j, A.get(j, j) + lambda);
  const B = solve(A, Z.transpose().mmul(Yc));
  return (x) => {
    const z = x.map((v, j) => (v - mu[j]) / sd[j]);
    return Array.from({ length: k }, (_, c) => ym[c] + z.reduce((s, v, j) => s + v * B.get(j, c), 0));
  };
}

export interface OracleResult {
  /** Mean CCC over the 9 items on each person's last 30 % of instances. */
  pooled: number;
  personal: number;
  /** Each person's own training mean (personal intercepts only, no activity or voice). */
  personalMean: number;
  /** The training-mean predictor (chance). */
  chance: number;
  nTrain: number;
  nTest: number;
}

/** Per-person chronological 70/30 split; pooled ridge vs per-person ridge vs training mean. */
export function oracleComparison(rows: OracleRow[], lambda = { pooled: 1, personal: 5 }): OracleResult {
  const byPerson = new Map<number, OracleRow[]>();
  for (const r of rows) { if (!byPerson.has(r.person)) byPerson.set(r.person, []); byPerson.get(r.person)!.push(r); }
  const train: OracleRow[] = [], test: OracleRow[] = [];
  for (const rs of byPerson.values()) {
    const cut = Math.round(rs.length * 0.7);
    train.push(...rs.slice(0, cut)); test.push(...rs.slice(cut));
  }
  const pooledFit = ridge(train.map((r) => r.x), train.map((r) => r.y), lambda.pooled);
  const personalFits = new Map<number, (x: number[]) => number[]>();
  for (const [p, rs] of byPerson) {
    const tr = rs.slice(0, Math.round(rs.length * 0.7));
    if (tr.length >= 5) personalFits.set(p, ridge(tr.map((r) => r.x), tr.map((r) => r.y), lambda.personal));
  }
  const K = DAMS_ITEMS.length;
  const trainMean = Array.from({ length: K }, (_, k) => train.reduce((s, r) => s + r.y[k], 0) / train.length);
  const personalMeans = new Map<number, number[]>();
  for (const [p, rs] of byPerson) {
    const tr = rs.slice(0, Math.round(rs.length * 0.7));
    if (tr.length > 0) personalMeans.set(p, Array.from({ length: K }, (_, k) => tr.reduce((s, r) => s + r.y[k], 0) / tr.length));
  }
  const evalWith = (pred: (r: OracleRow) => number[]) => {
    const preds = test.map(pred);
    let s = 0;
    for (let k = 0; k < K; k++) {
      const c = ccc(test.map((r) => r.y[k]), preds.map((p) => p[k]));
      s += Number.isFinite(c) ? c : 0;
    }
    return s / K;
  };
  return {
    pooled: evalWith((r) => pooledFit(r.x)),
    personal: evalWith((r) => (personalFits.get(r.person) ?? pooledFit)(r.x)),
    personalMean: evalWith((r) => personalMeans.get(r.person) ?? trainMean),
    chance: evalWith(() => trainMean),
    nTrain: train.length, nTest: test.length,
  };
}

export interface WithinOracleResult {
  /** Mean CCC over the 9 items on each person's last 30 % of instances. */
  mean: number;
  /** CCC per item (DAMS_ITEMS order). */
  items: number[];
}

/**
 * The "shared slope" oracle, the linear analogue of a macro-micro model: predictors standardised
 * per person (each person's training mean and SD, as the model's per-participant activity
 * normalisation), ONE ridge slope pooled over people, plus each person's own training item means.
 * A modality whose coupling is consistent across people scores here; one whose coupling is mostly
 * idiosyncratic does not. Per-person chronological 70/30 split as in `oracleComparison`.
 */
export function withinOracle(rows: OracleRow[], lambda = 1): WithinOracleResult {
  const byPerson = new Map<number, OracleRow[]>();
  for (const r of rows) { if (!byPerson.has(r.person)) byPerson.set(r.person, []); byPerson.get(r.person)!.push(r); }
  const K = DAMS_ITEMS.length;
  const trX: number[][] = [], trY: number[][] = [];
  const test: { x: number[]; y: number[]; mean: number[] }[] = [];
  for (const rs of byPerson.values()) {
    const cut = Math.round(rs.length * 0.7), tr = rs.slice(0, cut);
    if (tr.length < 5) continue;
    const d = tr[0].x.length;
    const mx = Array.from({ length: d }, (_, j) => tr.reduce((s, r) => s + r.x[j], 0) / tr.length);
    const sx = Array.from({ length: d }, (_, j) => Math.sqrt(tr.reduce((s, r) => s + (r.x[j] - mx[j]) ** 2, 0) / tr.length) || 1);
    const my = Array.from({ length: K }, (_, k) => tr.reduce((s, r) => s + r.y[k], 0) / tr.length);
    const z = (x: number[]) => x.map((v, j) => (v - mx[j]) / sx[j]);
    for (const r of tr) { trX.push(z(r.x)); trY.push(r.y.map((v, k) => v - my[k])); }
    for (const r of rs.slice(cut)) test.push({ x: z(r.x), y: r.y, mean: my });
  }
  const X = new Matrix(trX), A = X.transpose().mmul(X);
  for (let j = 0; j < A.rows; j++) A.set(j, j, A.get(j, j) + lambda);
  const Bm = solve(A, X.transpose().mmul(new Matrix(trY)));
  const items = Array.from({ length: K }, (_, k) => ccc(
    test.map((r) => r.y[k]),
    test.map((r) => r.mean[k] + r.x.reduce((s, v, j) => s + v * Bm.get(j, k), 0)),
  ));
  return { mean: items.reduce((s, c) => s + (Number.isFinite(c) ? c : 0), 0) / K, items };
}
