/**
 * F0 tracking: normalised autocorrelation candidates per frame (Boersma 1993: the frame's ACF
 * divided by the ACF of its window, r(τ) = [r_x(τ)/r_x(0)] / [r_w(τ)/r_w(0)]) and a Viterbi path
 * through the candidates that trades voicing strength against octave jumps and voicing changes
 * (the role openSMILE's cPitchSmootherViterbi plays after its SHS candidates).
 * Our own code (pitchfinder is GPL-3 and is not used).
 */

export interface PitchCandidate { f0: number; strength: number }

export interface PitchOptions {
  minF0: number;
  maxF0: number;
  maxCandidates: number;
  voicingThreshold: number;
  silenceThreshold: number;
  octaveCost: number;
  octaveJumpCost: number;
  voicedUnvoicedCost: number;
}

/** Defaults: eGeMAPS' F0 range (55–1000 Hz) and Praat's path costs. */
export const PITCH_DEFAULTS: PitchOptions = {
  minF0: 55, maxF0: 1000, maxCandidates: 6,
  voicingThreshold: 0.45, silenceThreshold: 0.03,
  octaveCost: 0.01, octaveJumpCost: 0.35, voicedUnvoicedCost: 0.14,
};

/**
 * Voiced candidates of one frame from its normalised ACF `r` (index = lag in samples): local maxima
 * in the lag range, refined by parabolic interpolation; strength R − octaveCost·log2(minF0/F).
 */
export function pitchCandidates(r: Float64Array, fs: number, o: PitchOptions, dst: PitchCandidate[]): PitchCandidate[] {
  dst.length = 0;
  const tMin = Math.max(2, Math.floor(fs / o.maxF0));
  const tMax = Math.min(r.length - 2, Math.ceil(fs / o.minF0));
  // pass 1: local maxima with a parabolic estimate of their height
  const peaksT: number[] = []; const peaksV: number[] = []; const peaksD: number[] = [];
  let best = -Infinity;
  for (let t = tMin; t <= tMax; t++) {
    const a = r[t - 1]; const b = r[t]; const c = r[t + 1];
    if (!(b > a && b >= c) || b < 0.5 * o.voicingThreshold) continue;
    const den = a - 2 * b + c;
    const d0 = den < 0 ? 0.5 * (a - c) / den : 0;
    const v = b - 0.25 * (a - c) * d0;
    peaksT.push(t); peaksV.push(v); peaksD.push(d0);
    if (v > best) best = v;
  }
  // pass 2: the contenders get band-limited (sinc) interpolation of r around the parabolic guess,
  // so a peak that falls between lags is not under-rated against its multiples
  for (let i = 0; i < peaksT.length; i++) {
    let lag = peaksT[i] + peaksD[i]; let peak = peaksV[i];
    if (peak >= best - 0.2) [lag, peak] = refinePeak(r, lag);
    peak = Math.min(1, peak);
    const f0 = fs / lag;
    if (f0 < o.minF0 || f0 > o.maxF0) continue;
    dst.push({ f0, strength: peak - o.octaveCost * Math.log2(o.minF0 / f0) });
  }
  dst.sort((p, q) => q.strength - p.strength);
  if (dst.length > o.maxCandidates) dst.length = o.maxCandidates;
  return dst;
}

/** r at fractional lag τ by windowed-sinc interpolation over ±8 lags (sin(π(τ−k)) = (−1)^k sin(πτ)). */
export function sincInterp(r: Float64Array, tau: number): number {
  const k0 = Math.floor(tau);
  const sp = Math.sin(Math.PI * (tau - k0)); // sin(π(τ − k0))
  let s = 0;
  for (let k = Math.max(0, k0 - 7); k <= Math.min(r.length - 1, k0 + 8); k++) {
    const d = tau - k;
    if (Math.abs(d) < 1e-9) { s += r[k]; continue; }
    const sgn = ((k0 - k) & 1) === 0 ? 1 : -1;
    const w = 1 - (d / 8.5) * (d / 8.5);
    s += r[k] * (sgn * sp) / (Math.PI * d) * w * w;
  }
  return s;
}

/** Refine a peak of r near τ0: parabola through sinc-interpolated values at τ0 ± 0.25, twice. */
function refinePeak(r: Float64Array, tau0: number): [number, number] {
  let tau = tau0; let v = sincInterp(r, tau);
  for (let it = 0; it < 2; it++) {
    const h = it === 0 ? 0.25 : 0.08;
    const a = sincInterp(r, tau - h), c = sincInterp(r, tau + h);
    const den = a - 2 * v + c;
    if (!(den < 0)) break;
    const d = Math.max(-1, Math.min(1, 0.5 * (a - c) / den)) * h;
    tau += d;
    v = sincInterp(r, tau);
  }
  return [tau, v];
}

/**
 * Viterbi over frames: state 0 = unvoiced, states 1.. = the frame's candidates. `localPeak` is the
 * frame's absolute peak amplitude and `globalPeak` the recording's, for the unvoiced strength
 *   voicingThreshold + max(0, 2 − (localPeak/globalPeak) / (silenceThreshold/(1 + voicingThreshold))).
 * Returns F0 per frame in Hz (0 = unvoiced) and the ACF peak of the chosen candidate.
 */
export function viterbiPitch(cands: PitchCandidate[][], localPeak: Float64Array, globalPeak: number, o: PitchOptions): { f0: Float64Array; strength: Float64Array } {
  const T = cands.length;
  const f0 = new Float64Array(T);
  const strength = new Float64Array(T);
  if (T === 0) return { f0, strength };
  const score: Float64Array[] = [];
  const back: Int32Array[] = [];
  const unvoicedStrength = (t: number) => o.voicingThreshold + Math.max(0, 2 - (localPeak[t] / (globalPeak || 1)) / (o.silenceThreshold / (1 + o.voicingThreshold)));
  for (let t = 0; t < T; t++) {
    const c = cands[t];
    const s = new Float64Array(c.length + 1);
    const b = new Int32Array(c.length + 1);
    const local = (j: number) => (j === 0 ? unvoicedStrength(t) : c[j - 1].strength);
    if (t === 0) {
      for (let j = 0; j <= c.length; j++) s[j] = local(j);
    } else {
      const p = cands[t - 1]; const ps = score[t - 1];
      for (let j = 0; j <= c.length; j++) {
        let best = -Infinity; let arg = 0;
        for (let i = 0; i <= p.length; i++) {
          let cost: number;
          if (i === 0 && j === 0) cost = 0;
          else if (i === 0 || j === 0) cost = o.voicedUnvoicedCost;
          else cost = o.octaveJumpCost * Math.abs(Math.log2(c[j - 1].f0 / p[i - 1].f0));
          const v = ps[i] - cost;
          if (v > best) { best = v; arg = i; }
        }
        s[j] = best + local(j); b[j] = arg;
      }
    }
    score.push(s); back.push(b);
  }
  let j = 0; let best = -Infinity;
  const last = score[T - 1];
  for (let k = 0; k < last.length; k++) if (last[k] > best) { best = last[k]; j = k; }
  for (let t = T - 1; t >= 0; t--) {
    if (j > 0) {
      const c = cands[t][j - 1];
      f0[t] = c.f0;
      strength[t] = c.strength + o.octaveCost * Math.log2(o.minF0 / c.f0);
    }
    j = back[t][j];
  }
  return { f0, strength };
}
