import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/random.js';

describe('Rng', () => {
  it('is deterministic by seed and differs across seeds', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xa);
  });
  it('draws uniforms in [0,1) and normals with the right moments', () => {
    const r = new Rng(1);
    let s = 0, s2 = 0, min = 1, max = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) { const u = r.next(); min = Math.min(min, u); max = Math.max(max, u); const z = r.normal(); s += z; s2 += z * z; }
    expect(min).toBeGreaterThanOrEqual(0); expect(max).toBeLessThan(1);
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });
});
