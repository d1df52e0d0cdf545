/** "Did you mean …?" for a mistyped name: the closest known name by edit distance, if close enough. */

/** Levenshtein distance (insertions, deletions, substitutions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase(); b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The known name closest to `word`, when at most max(2, a third of its length) edits away. */
export function closestName(word: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined, bestD = Infinity;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestD) { best = k; bestD = d; }
  }
  return bestD <= limit ? best : undefined;
}
