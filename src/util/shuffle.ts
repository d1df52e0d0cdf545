/**
 * A fresh, unpredictable order for the items of every prompt (SPEC §1: items shown in a random
 * order each time, against order effects). Fisher–Yates with the platform's CSPRNG
 * (`crypto.getRandomValues`, in Node 20 and every browser) and rejection sampling, so every
 * order is equally likely. Seeded, reproducible shuffles are `Rng.shuffle` in ./random.ts.
 */
export function secureShuffle<T>(a: readonly T[]): T[] {
  const out = [...a];
  const word = new Uint32Array(1);
  for (let i = out.length - 1; i > 0; i--) {
    const n = i + 1, limit = Math.floor(0x100000000 / n) * n;
    let r: number;
    do { globalThis.crypto.getRandomValues(word); r = word[0]; } while (r >= limit);
    const j = r % n;
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
