import { describe, expect, it } from 'vitest';
import { chronologicalSplit, participantHeldOutSplit } from '../../src/data/index.js';

/** A minimal instance table: participant p has counts[p] instances at shuffled times. */
function table(counts: number[]) {
  const participant: number[] = [], time: number[] = [], reportIds: string[] = [];
  counts.forEach((c, p) => {
    for (let k = 0; k < c; k++) {
      participant.push(p);
      time.push(((k * 7919) % c) * 1000 + p); // a permutation of times, not in file order
      reportIds.push(`p${p}-${k}`);
    }
  });
  return { n: participant.length, participant: Int32Array.from(participant), time: Float64Array.from(time), reportIds };
}

function checkPartition(n: number, s: { train: Int32Array; dev: Int32Array; test: Int32Array }) {
  const all = [...s.train, ...s.dev, ...s.test];
  expect(all).toHaveLength(n);
  expect(new Set(all).size).toBe(n); // no report in two sets
}

describe('splits', () => {
  it('chronological 70/15/15 per participant; everyone in all sets; deterministic', () => {
    const counts = [20, 3, 4, 10, 67, 2, 1];
    const ds = table(counts);
    const s = chronologicalSplit(ds, { train: 0.7, dev: 0.15 });
    checkPartition(ds.n, s);
    expect(s).toEqual(chronologicalSplit(ds));
    counts.forEach((c, p) => {
      const of = (a: Int32Array) => [...a].filter((i) => ds.participant[i] === p);
      const tr = of(s.train), dv = of(s.dev), te = of(s.test);
      if (c >= 3) { expect(tr.length).toBeGreaterThan(0); expect(dv.length).toBeGreaterThan(0); expect(te.length).toBeGreaterThan(0); }
      // Chronological: every train instance precedes every dev, every dev precedes every test.
      const maxT = (a: number[]) => Math.max(...a.map((i) => ds.time[i]));
      const minT = (a: number[]) => Math.min(...a.map((i) => ds.time[i]));
      if (tr.length && dv.length) expect(maxT(tr)).toBeLessThan(minT(dv));
      if (dv.length && te.length) expect(maxT(dv)).toBeLessThan(minT(te));
      if (tr.length && te.length) expect(maxT(tr)).toBeLessThan(minT(te));
    });
    const of = (a: Int32Array, p: number) => [...a].filter((i) => ds.participant[i] === p).length;
    expect([of(s.train, 0), of(s.dev, 0), of(s.test, 0)]).toEqual([14, 3, 3]);
    expect([of(s.train, 4), of(s.dev, 4), of(s.test, 4)]).toEqual([47, 10, 10]);
    expect([of(s.train, 1), of(s.dev, 1), of(s.test, 1)]).toEqual([1, 1, 1]);
    expect([of(s.train, 5), of(s.dev, 5), of(s.test, 5)]).toEqual([1, 0, 1]);
    expect([of(s.train, 6), of(s.dev, 6), of(s.test, 6)]).toEqual([1, 0, 0]);
  });

  it('participant-held-out: disjoint participants, deterministic by seed', () => {
    const counts = Array.from({ length: 40 }, (_, p) => 5 + (p % 7));
    const ds = table(counts);
    const s = participantHeldOutSplit(ds, { testFraction: 0.2, devFraction: 0.1, seed: 7 });
    checkPartition(ds.n, s);
    const ps = (a: Int32Array) => new Set([...a].map((i) => ds.participant[i]));
    const tr = ps(s.train), dv = ps(s.dev), te = ps(s.test);
    expect(te.size).toBe(8);
    expect(dv.size).toBe(4);
    expect(tr.size).toBe(28);
    for (const p of te) { expect(tr.has(p)).toBe(false); expect(dv.has(p)).toBe(false); }
    for (const p of dv) expect(tr.has(p)).toBe(false);
    expect([...s.participants.test]).toEqual([...te].sort((a, b) => a - b));
    expect(participantHeldOutSplit(ds, { testFraction: 0.2, devFraction: 0.1, seed: 7 })).toEqual(s);
    expect(participantHeldOutSplit(ds, { testFraction: 0.2, devFraction: 0.1, seed: 8 }).participants.test).not.toEqual(s.participants.test);
    expect(() => participantHeldOutSplit(table([3, 3]), {})).toThrow(/at least 3 participants/);
  });
});
