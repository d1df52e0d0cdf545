/**
 * Contour smoothing and the functionals of eGeMAPS (openSMILE cContourSmoother, cFunctionalMoments,
 * cFunctionalPercentiles, cFunctionalPeaks2, cFunctionalSegments as configured for eGeMAPSv02).
 */

/**
 * 3-frame moving average ("sma3"). The edge frames repeat themselves, (2·x0 + x1)/3 and
 * (x[n−2] + 2·x[n−1])/3, as openSMILE's cContourSmoother does (measured against its LLD output and
 * functionals on test/fixtures/egemaps-opensmile: the 20 ms LLDs then agree to 1e-4 in every frame).
 */
export function sma3(x: Float64Array): Float64Array {
  const n = x.length; const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = x[i], c = 1;
    if (i > 0) { s += x[i - 1]; c++; } else if (n > 1) { s += x[0]; c++; }
    if (i < n - 1) { s += x[i + 1]; c++; } else if (n > 1) { s += x[n - 1]; c++; }
    y[i] = s / c;
  }
  return y;
}

/** 3-frame moving average over non-zero frames only ("sma3nz"): zeros stay zero and are not averaged in. */
export function sma3nz(x: Float64Array): Float64Array {
  const n = x.length; const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (x[i] === 0) continue;
    let s = x[i], c = 1;
    if (i > 0 && x[i - 1] !== 0) { s += x[i - 1]; c++; }
    if (i < n - 1 && x[i + 1] !== 0) { s += x[i + 1]; c++; }
    y[i] = s / c;
  }
  return y;
}

export function nonZero(x: Float64Array): Float64Array {
  let c = 0; for (let i = 0; i < x.length; i++) if (x[i] !== 0) c++;
  const y = new Float64Array(c); let j = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) y[j++] = x[i];
  return y;
}

export function amean(x: Float64Array): number {
  if (x.length === 0) return 0;
  let s = 0; for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Coefficient of variation σ/μ with the population σ (openSMILE "stddevNorm = 2": no abs on μ). */
export function stddevNorm(x: Float64Array): number {
  if (x.length === 0) return 0;
  const m = amean(x);
  let s = 0; for (let i = 0; i < x.length; i++) s += (x[i] - m) * (x[i] - m);
  const sd = Math.sqrt(s / x.length);
  return m !== 0 ? sd / m : 0;
}

/** Percentile p ∈ [0,1] with linear interpolation between the sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const pos = p * (n - 1);
  const i = Math.floor(pos); const f = pos - i;
  return i + 1 < n ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i];
}

export interface PeakStats { numPeaks: number; meanRisingSlope: number; stddevRisingSlope: number; meanFallingSlope: number; stddevFallingSlope: number }

/**
 * Alternating maxima and minima whose rise or fall exceeds relThresh × (max − min) of the contour
 * (peak detection with hysteresis), then the slopes min→max (rising) and max→min (falling) in
 * units per second.
 */
export function peaks(x: Float64Array, secondsPerFrame: number, relThresh = 0.1): PeakStats {
  const n = x.length;
  const res: PeakStats = { numPeaks: 0, meanRisingSlope: 0, stddevRisingSlope: 0, meanFallingSlope: 0, stddevFallingSlope: 0 };
  if (n < 3) return res;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) { if (x[i] < lo) lo = x[i]; if (x[i] > hi) hi = x[i]; }
  const delta = relThresh * (hi - lo);
  if (!(delta > 0)) return res;
  const ext: Array<{ max: boolean; i: number; y: number }> = [];
  let mx = x[0], mxI = 0, mn = x[0], mnI = 0;
  let lookForMax = true; let started = false;
  for (let i = 1; i < n; i++) {
    const v = x[i];
    if (v > mx) { mx = v; mxI = i; }
    if (v < mn) { mn = v; mnI = i; }
    if (!started) {
      if (mx - v > delta) { ext.push({ max: true, i: mxI, y: mx }); lookForMax = false; mn = v; mnI = i; started = true; }
      else if (v - mn > delta) { ext.push({ max: false, i: mnI, y: mn }); lookForMax = true; mx = v; mxI = i; started = true; }
      continue;
    }
    if (lookForMax) {
      if (mx - v > delta) { ext.push({ max: true, i: mxI, y: mx }); mn = v; mnI = i; lookForMax = false; }
    } else if (v - mn > delta) { ext.push({ max: false, i: mnI, y: mn }); mx = v; mxI = i; lookForMax = true; }
  }
  const rising: number[] = []; const falling: number[] = [];
  for (let k = 0; k < ext.length; k++) {
    if (ext[k].max) res.numPeaks++;
    if (k === 0) continue;
    const a = ext[k - 1], b = ext[k];
    const dt = (b.i - a.i) * secondsPerFrame;
    if (dt <= 0) continue;
    if (b.max) rising.push((b.y - a.y) / dt); else falling.push((a.y - b.y) / dt);
  }
  const ms = (v: number[]): [number, number] => {
    if (v.length === 0) return [0, 0];
    const m = v.reduce((s, u) => s + u, 0) / v.length;
    return [m, Math.sqrt(v.reduce((s, u) => s + (u - m) * (u - m), 0) / v.length)];
  };
  [res.meanRisingSlope, res.stddevRisingSlope] = ms(rising);
  [res.meanFallingSlope, res.stddevFallingSlope] = ms(falling);
  return res;
}

/** Lengths (in frames) of the runs where `voiced(x[i])` holds. */
export function runLengths(x: Float64Array, voiced: boolean): number[] {
  const out: number[] = [];
  let run = 0;
  for (let i = 0; i < x.length; i++) {
    if ((x[i] !== 0) === voiced) run++;
    else if (run > 0) { out.push(run); run = 0; }
  }
  if (run > 0) out.push(run);
  return out;
}

export function meanStd(v: number[]): [number, number] {
  if (v.length === 0) return [0, 0];
  const m = v.reduce((s, u) => s + u, 0) / v.length;
  return [m, Math.sqrt(v.reduce((s, u) => s + (u - m) * (u - m), 0) / v.length)];
}

/**
 * Segments of a contour as openSMILE's cFunctionalSegments finds them with `nonX` (runs of values
 * ≠ 0) or `eqX` (runs of 0), X = 0, segMinLng = 3, pauseMinLng = 2: a run counts once it has 3
 * frames (a single frame of the other kind inside a candidate is tolerated), it ends after 2
 * frames of the other kind (so single-frame gaps are bridged), and its length is counted as
 * (last frame − first frame), i.e. one frame short, as openSMILE does. Lengths in frames.
 */
export function segmentLengths(x: ArrayLike<number>, zeros: boolean): number[] {
  const out: number[] = [];
  const inSeg = (v: number) => (zeros ? v === 0 : v !== 0);
  let state = 0, segStart = 0, segEnd = 0, startIdx = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    if (inSeg(x[i])) {
      if (state === 1) { segEnd = 0; segStart++; if (segStart >= 3) { segStart = 0; state = 2; } }
      else if (state === 0) { segStart++; startIdx = i; state = 1; }
      else segEnd = 0;
    } else if (state === 2) {
      segStart = 0; segEnd++;
      if (segEnd >= 2) { state = 0; out.push(i - segEnd - startIdx); segEnd = 0; }
    } else if (state === 1) {
      segEnd++;
      if (segEnd >= 2) { state = 0; segEnd = 0; segStart = 0; }
    }
  }
  if (state === 2) { segEnd++; out.push(n - segEnd - startIdx); }
  return out;
}

/** openSMILE's segment-length mean and standard deviation (population; σ = 0 for fewer than 2 segments). */
export function segmentStats(lens: number[]): [number, number] {
  if (lens.length === 0) return [0, 0];
  const m = lens.reduce((s, u) => s + u, 0) / lens.length;
  if (lens.length < 2) return [m, 0];
  return [m, Math.sqrt(lens.reduce((s, u) => s + (u - m) * (u - m), 0) / lens.length)];
}
