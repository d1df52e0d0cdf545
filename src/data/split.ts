/**
 * Train / development / test splits of instances. Deterministic; every instance is in exactly
 * one set. Pure (no I/O).
 */
import { Rng } from '../util/random.js';
import type { Dataset, Split } from './dataset.js';

type SplitInput = Pick<Dataset, 'n' | 'participant' | 'time' | 'reportIds'>;

/** Instance indices of each participant, in chronological order (ties: report id). */
export function instancesByParticipant(ds: SplitInput): Map<number, number[]> {
  const by = new Map<number, number[]>();
  for (let i = 0; i < ds.n; i++) {
    const p = ds.participant[i];
    let a = by.get(p);
    if (!a) { a = []; by.set(p, a); }
    a.push(i);
  }
  for (const a of by.values()) {
    a.sort((x, y) => (ds.time[x] - ds.time[y]) || (ds.reportIds[x] < ds.reportIds[y] ? -1 : ds.reportIds[x] > ds.reportIds[y] ? 1 : 0));
  }
  return new Map([...by.entries()].sort((a, b) => a[0] - b[0]));
}

export interface ChronologicalOptions {
  /** Fraction of each participant's instances, earliest first, for training (0.7 in the paper). */
  train?: number;
  /** Next fraction for development (0.15); the rest is test. */
  dev?: number;
}

/**
 * The paper's split (MM): per participant, chronologically, the first 70 % of that participant's
 * instances train, the next 15 % development, the last 15 % test. Counts: dev = max(1, round(n·dev)),
 * test = max(1, round(n·test)), train = the rest, so every participant with ≥ 3 instances is in all
 * three sets. With 2 instances: one train, one test; with 1: train only.
 */
export function chronologicalSplit(ds: SplitInput, opts: ChronologicalOptions = {}): Split {
  const trainF = opts.train ?? 0.7, devF = opts.dev ?? 0.15;
  const testF = 1 - trainF - devF;
  if (!(trainF > 0) || !(devF >= 0) || testF < -1e-9) throw new RangeError(`bad split fractions: train ${trainF}, dev ${devF}`);
  const train: number[] = [], dev: number[] = [], test: number[] = [];
  for (const idx of instancesByParticipant(ds).values()) {
    const n = idx.length;
    let nDev: number, nTest: number;
    if (n >= 3) {
      nDev = devF > 0 ? Math.max(1, Math.round(n * devF)) : 0;
      nTest = testF > 1e-9 ? Math.max(1, Math.round(n * testF)) : 0;
      while (n - nDev - nTest < 1) { if (nDev >= nTest && nDev > 1) nDev--; else nTest--; }
    } else if (n === 2) { nDev = 0; nTest = testF > 1e-9 ? 1 : 0; } else { nDev = 0; nTest = 0; }
    const nTrain = n - nDev - nTest;
    train.push(...idx.slice(0, nTrain));
    dev.push(...idx.slice(nTrain, nTrain + nDev));
    test.push(...idx.slice(nTrain + nDev));
  }
  return { kind: 'chronological', train: Int32Array.from(train), dev: Int32Array.from(dev), test: Int32Array.from(test) };
}

export interface HeldOutOptions {
  /** Fraction of participants held out for test (default 0.15). */
  testFraction?: number;
  /** Fraction of participants held out for development (default 0.15). */
  devFraction?: number;
  seed?: number;
}

/**
 * New-participant split (SPEC §6): participants are shuffled with a seeded Rng and whole
 * participants go to test (round(P·testFraction), at least 1), then development
 * (round(P·devFraction), at least 1 when devFraction > 0), the rest train. Development
 * participants are disjoint from both train and test, so early stopping and calibration on dev
 * measure new-participant performance too. Only participants with instances are split.
 * Also returns which participants went where.
 */
export function participantHeldOutSplit(ds: SplitInput, opts: HeldOutOptions = {}): Split & {
  participants: { train: number[]; dev: number[]; test: number[] };
} {
  const testF = opts.testFraction ?? 0.15, devF = opts.devFraction ?? 0.15;
  if (testF <= 0 || devF < 0 || testF + devF >= 1) throw new RangeError(`bad held-out fractions: test ${testF}, dev ${devF}`);
  const by = instancesByParticipant(ds);
  const ps = [...by.keys()];
  if (ps.length < 3) throw new RangeError(`a participant-held-out split needs at least 3 participants with instances, got ${ps.length}`);
  new Rng(opts.seed ?? 0).shuffle(ps);
  const P = ps.length;
  const nTest = Math.max(1, Math.round(P * testF));
  const nDev = devF > 0 ? Math.max(1, Math.round(P * devF)) : 0;
  if (P - nTest - nDev < 1) throw new RangeError(`too few participants (${P}) for test ${nTest} + dev ${nDev} + train ≥ 1`);
  const testP = ps.slice(0, nTest).sort((a, b) => a - b);
  const devP = ps.slice(nTest, nTest + nDev).sort((a, b) => a - b);
  const trainP = ps.slice(nTest + nDev).sort((a, b) => a - b);
  const gather = (set: number[]) => Int32Array.from(set.flatMap((p) => by.get(p)!));
  return {
    kind: 'participant-held-out',
    train: gather(trainP), dev: gather(devP), test: gather(testP),
    participants: { train: trainP, dev: devP, test: testP },
  };
}
