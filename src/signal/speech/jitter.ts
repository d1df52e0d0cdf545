/**
 * Period-to-period perturbation (openSMILE cPitchJitter, Praat's jitter (local) / shimmer (local, dB)).
 * Within each voiced stretch the glottal periods are followed through the waveform: from one period
 * mark, the next lies where the waveform best repeats itself, searched within ±10 % of the local
 * period 1/F0 (normalised cross-correlation, refined by parabolic interpolation); the chain breaks
 * where the correlation falls below 0.5. Per frame, over the periods inside its window:
 *   jitterLocal   = mean |T_i − T_{i−1}| / mean T_i
 *   shimmerLocaldB = mean |20 log10(A_i / A_{i−1})|,  A_i = peak-to-peak amplitude of period i
 * (its starting peak minus its minimum).
 */

export interface Period { start: number; length: number; amplitude: number }

export interface JitterOptions { searchRangeRel: number; minCC: number }
export const JITTER_DEFAULTS: JitterOptions = { searchRangeRel: 0.1, minCC: 0.5 };

/** Normalised cross-correlation of x[a..a+n) and x[b..b+n). */
function ncc(x: Float32Array, a: number, b: number, n: number): number {
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { const u = x[a + i], v = x[b + i]; sab += u * v; saa += u * u; sbb += v * v; }
  const d = Math.sqrt(saa * sbb);
  return d > 0 ? sab / d : 0;
}

/**
 * Follow the periods through the signal. `f0At(sample)` gives the F0 (Hz, 0 = unvoiced) at a sample.
 */
export function trackPeriods(x: Float32Array, fs: number, f0: Float64Array, hop: number, o: JitterOptions = JITTER_DEFAULTS): Period[][] {
  const chains: Period[][] = [];
  const T = f0.length;
  let ccBuf = new Float64Array(64);
  const frameOf = (s: number) => Math.min(T - 1, Math.max(0, Math.floor(s / hop)));
  let t = 0;
  while (t < T) {
    if (f0[t] <= 0) { t++; continue; }
    let end = t; while (end < T && f0[end] > 0) end++;
    // voiced stretch [t, end) in frames → samples
    const segEnd = Math.min(x.length, end * hop + hop);
    let pos = t * hop;
    const p0 = Math.round(fs / f0[t]);
    // start at the largest peak of the first period
    let best = pos; let bv = -Infinity;
    for (let i = pos; i < Math.min(x.length, pos + p0); i++) if (x[i] > bv) { bv = x[i]; best = i; }
    pos = best;
    let posF = pos; let prevPeak = x[pos] ?? 0;
    let chain: Period[] = [];
    for (;;) {
      const fr = f0[frameOf(pos)] > 0 ? f0[frameOf(pos)] : f0[t];
      const P = fs / fr;
      const lo = Math.max(2, Math.floor(P * (1 - o.searchRangeRel)));
      const hi = Math.ceil(P * (1 + o.searchRangeRel));
      const n = Math.round(P);
      const half = n >> 1;
      const a = pos - half;
      if (a < 0 || pos + hi + n - half + 1 >= x.length || pos + hi > segEnd) break;
      let bestL = -1; let bestC = -Infinity;
      if (ccBuf.length < hi - lo + 3) ccBuf = new Float64Array(2 * (hi - lo + 3));
      const cc = ccBuf;
      for (let L = lo - 1; L <= hi + 1; L++) {
        const c = ncc(x, a, a + L, n);
        cc[L - lo + 1] = c;
        if (L >= lo && L <= hi && c > bestC) { bestC = c; bestL = L; }
      }
      if (bestC < o.minCC) {
        if (chain.length > 0) chains.push(chain);
        chain = [];
        pos += n; posF = pos; prevPeak = x[pos] ?? 0;
        continue;
      }
      const ca = cc[bestL - lo], cb = cc[bestL - lo + 1], cc2 = cc[bestL - lo + 2];
      const den = ca - 2 * cb + cc2;
      const d = den < 0 ? Math.max(-0.5, Math.min(0.5, 0.5 * (ca - cc2) / den)) : 0;
      // the next mark: the waveform maximum near where the correlation puts the next period
      // (marks sit on corresponding peaks, as in Praat's period detection), parabolic sub-sample
      const predicted = posF + bestL + d;
      const r = Math.max(1, Math.round(0.03 * P));
      let k = Math.round(predicted); let kv = -Infinity;
      for (let i = Math.round(predicted) - r; i <= Math.round(predicted) + r; i++) if (x[i] > kv) { kv = x[i]; k = i; }
      let next = predicted; let peakVal = kv;
      if (Math.abs(k - Math.round(predicted)) < r) {
        const pa = x[k - 1], pb = x[k], pc = x[k + 1]; const dd = pa - 2 * pb + pc;
        const off = dd < 0 ? Math.max(-0.5, Math.min(0.5, 0.5 * (pa - pc) / dd)) : 0;
        next = k + off; peakVal = pb - 0.25 * (pa - pc) * off;
      }
      const length = next - posF;
      let mn = Infinity;
      for (let i = pos; i < Math.round(next); i++) { const v = x[i]; if (v < mn) mn = v; }
      chain.push({ start: pos, length, amplitude: prevPeak - mn });
      prevPeak = peakVal;
      posF = next; pos = Math.round(next);
    }
    if (chain.length > 0) chains.push(chain);
    t = end;
  }
  return chains;
}

/** Jitter and shimmer per frame (0 where fewer than 2 period pairs fall into the frame's window). */
export function jitterShimmer(chains: Period[][], nFrames: number, hop: number, winLen: number, f0: Float64Array): { jitter: Float64Array; shimmer: Float64Array } {
  const jitter = new Float64Array(nFrames);
  const shimmer = new Float64Array(nFrames);
  const sumJ = new Float64Array(nFrames), sumT = new Float64Array(nFrames), sumS = new Float64Array(nFrames);
  const nPairs = new Float64Array(nFrames), nPer = new Float64Array(nFrames);
  for (const ch of chains) {
    for (let i = 1; i < ch.length; i++) {
      const p = ch[i], q = ch[i - 1];
      const mid = p.start; // the boundary between the two periods
      const f0 = Math.floor((mid - winLen / 2) / hop), f1 = Math.floor((mid + winLen / 2) / hop);
      const dj = Math.abs(p.length - q.length);
      const ds = q.amplitude > 0 && p.amplitude > 0 ? Math.abs(20 * Math.log10(p.amplitude / q.amplitude)) : 0;
      for (let f = Math.max(0, f0); f <= Math.min(nFrames - 1, f1); f++) {
        sumJ[f] += dj; sumS[f] += ds; nPairs[f]++; sumT[f] += p.length + q.length; nPer[f] += 2;
      }
    }
  }
  for (let f = 0; f < nFrames; f++) {
    if (f0[f] <= 0 || nPairs[f] < 1) continue;
    const meanT = sumT[f] / nPer[f];
    jitter[f] = meanT > 0 ? (sumJ[f] / nPairs[f]) / meanT : 0;
    shimmer[f] = sumS[f] / nPairs[f];
  }
  return { jitter, shimmer };
}
