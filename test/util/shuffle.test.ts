import { describe, expect, it } from 'vitest';
import { secureShuffle } from '../../src/util/shuffle.js';

describe('secureShuffle', () => {
  it('returns a permutation and leaves the input alone', () => {
    const a = ['vigorous', 'gloomy', 'concerned', 'happy', 'unpleasant', 'anxious', 'cheerful', 'depressed', 'worried'];
    const copy = [...a];
    const s = secureShuffle(a);
    expect(a).toEqual(copy);
    expect([...s].sort()).toEqual([...a].sort());
  });
  it('makes every order of three items about equally likely', () => {
    const counts = new Map<string, number>();
    const n = 60_000;
    for (let i = 0; i < n; i++) { const k = secureShuffle([1, 2, 3]).join(''); counts.set(k, (counts.get(k) ?? 0) + 1); }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c / n - 1 / 6)).toBeLessThan(0.01);
  });
});
