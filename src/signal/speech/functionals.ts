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

/**
 * 3-frame moving average over non-zero frames only ("sma3nz"): zeros stay zero and are not averaged
 * in; the edge frames repeat themselves as in `sma3`.
 */
export function sma3nz(x: Float64Array): Float64Array {
  const n = x.length; const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (x[i] === 0) continue;
    let s = x[i], c = 1;
    const l = i > 0 ? x[i - 1] : n > 1 ? x[0] : 0;
    const r = i < n - 1 ? x[i + 1] : n > 1 ? x[n - 1] : 0;
    if (l !== 0) { s += l; c++; }
    if (r !== 0) { s += r; c++; }
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
 * Peaks and slopes as openSMILE's cFunctionalPeaks2 defines them for eGeMAPS (relThresh 0.1 of the
 * contour's range, absolute threshold, norm = seconds); our implementation of its documented steps:
 *  1. every strict local maximum / minimum at frames 2 … n−3;
 *  2. a maximum that rises less than the threshold over the previous extremum is kept only if it
 *     clears the last kept minimum by the threshold and beats the last maximum by 5 % (then that
 *     one goes) or follows a minimum; a minimum counts as the last minimum only if it fell by the
 *     threshold; then minima less than the threshold below the last maximum are dropped;
 *  3. of consecutive extrema of one kind, the highest maximum / lowest minimum stays.
 * Slopes run from the contour's first value (as both last max and last min) along the list, plus one
 * closing slope to the last frame (signed: rising after a minimum, falling after a maximum); with no
 * extremum at all, one slope (x[n−1] − x[0]) / n per frame. Means over all the slopes, standard
 * deviations over the list's slopes divided by the same count. numPeaks counts the maxima.
 */
export function peaks(x: Float64Array, secondsPerFrame: number, relThresh = 0.1): PeakStats {
  const n = x.length;
  const res: PeakStats = { numPeaks: 0, meanRisingSlope: 0, stddevRisingSlope: 0, meanFallingSlope: 0, stddevFallingSlope: 0 };
  if (n === 0) return res;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) { if (x[i] < lo) lo = x[i]; if (x[i] > hi) hi = x[i]; }
  const thr = relThresh * (hi - lo);
  const below = (d: number) => d < thr;
  // step 1
  let list: Array<{ max: boolean; i: number; y: number; gone?: boolean }> = [];
  for (let i = 2; i < n - 2; i++) {
    if (x[i] > x[i - 1] && x[i] > x[i + 1]) list.push({ max: true, i, y: x[i] });
    else if (x[i] < x[i - 1] && x[i] < x[i + 1]) list.push({ max: false, i, y: x[i] });
  }
  // step 2a
  {
    let lastVal = x[0], lastMin = x[0], lastMax = x[0]; let minFlag = false;
    let lastMaxEl: (typeof list)[number] | null = null;
    for (const el of list) {
      if (el.max) {
        if (below(Math.abs(el.y - lastVal))) {
          if (below(el.y - lastMin)) el.gone = true;
          else {
            if (el.y > lastMax * 1.05) {
              if (lastMaxEl) lastMaxEl.gone = true;
              lastMax = el.y; lastMaxEl = el;
            } else if (minFlag) { lastMax = el.y; lastMaxEl = el; } else el.gone = true;
            minFlag = false;
          }
        } else { minFlag = false; lastMax = el.y; lastMaxEl = el; }
      } else if (!below(Math.abs(el.y - lastVal))) { minFlag = true; lastMin = el.y; }
      lastVal = el.y; // the value of every visited element, removed or not
    }
    list = list.filter((e) => !e.gone);
  }
  // step 2b
  {
    let lastMax = x[0];
    for (const el of list) {
      if (!el.max) { if (below(lastMax - el.y)) el.gone = true; } else lastMax = el.y;
    }
    list = list.filter((e) => !e.gone);
  }
  // step 3
  {
    let init = true, minFlag = false;
    let lastMinEl: (typeof list)[number] | null = null, lastMaxEl: (typeof list)[number] | null = null;
    for (const el of list) {
      if (!el.max) {
        if (!minFlag || init) { lastMinEl = el; minFlag = true; init = false; }
        else if (el.y >= lastMinEl!.y) el.gone = true;
        else { lastMinEl!.gone = true; lastMinEl = el; }
      } else if (minFlag || init) { lastMaxEl = el; minFlag = false; init = false; }
      else if (el.y <= lastMaxEl!.y) el.gone = true;
      else { lastMaxEl!.gone = true; lastMaxEl = el; }
    }
    list = list.filter((e) => !e.gone);
  }
  for (const el of list) if (el.max) res.numPeaks++;
  // slopes
  const T = secondsPerFrame;
  const rising: number[] = [], falling: number[] = [];
  let lastMax = x[0], lastMaxPos = 0, lastMin = x[0], lastMinPos = 0; let lastIsMax = -1;
  for (const el of list) {
    if (!el.max) {
      lastMin = el.y; lastMinPos = el.i;
      if (lastMinPos > lastMaxPos) { falling.push((lastMax - lastMin) / ((lastMinPos - lastMaxPos) * T)); lastIsMax = 0; }
    } else {
      lastMax = el.y; lastMaxPos = el.i;
      if (lastMaxPos > lastMinPos) { rising.push((lastMax - lastMin) / ((lastMaxPos - lastMinPos) * T)); lastIsMax = 1; }
    }
  }
  const listRising = rising.length, listFalling = falling.length;
  if (lastIsMax === 1) { if (n - 1 > lastMaxPos) falling.push((x[n - 1] - lastMax) / ((n - 1 - lastMaxPos) * T)); }
  else if (lastIsMax === 0) { if (n - 1 > lastMinPos) rising.push((x[n - 1] - lastMin) / ((n - 1 - lastMinPos) * T)); }
  else {
    const sl = (x[n - 1] - x[0]) / n;
    if (sl > 0) rising.push(sl); else if (sl < 0) falling.push(sl);
  }
  const stats = (v: number[], nList: number): [number, number] => {
    if (v.length === 0) return [0, 0];
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    let ss = 0; for (let k = 0; k < nList; k++) ss += (v[k] - m) * (v[k] - m);
    if (v.length > 1) ss /= v.length;
    return [m, ss > 0 ? Math.sqrt(ss) : 0];
  };
  [res.meanRisingSlope, res.stddevRisingSlope] = stats(rising, listRising);
  [res.meanFallingSlope, res.stddevFallingSlope] = stats(falling, listFalling);
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
