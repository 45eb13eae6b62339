/**
 * The known name a mistyped one was most likely meant to be, for a "did you
 * mean" hint: the nearest by edit distance (insertions, deletions,
 * substitutions and swaps of two neighbours), at most 2 edits away and fewer
 * than half the typed name's length; or the only known name the typed one
 * begins. `undefined` when none is that close, or two are equally close.
 */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  const byPrefix = known.filter((name) => name.startsWith(typed));
  if (typed.length >= 3 && byPrefix.length === 1) return byPrefix[0];
  const limit = Math.min(2, Math.ceil(typed.length / 2) - 1);
  const distances = known.map((name) => editDistance(typed, name));
  const nearest = Math.min(...distances);
  if (nearest > limit) return undefined;
  const candidates = known.filter((_, i) => distances[i] === nearest);
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** Optimal string alignment distance between `a` and `b`. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const d: number[] = new Array<number>(rows * columns);
  for (let i = 0; i < rows; i++) d[i * columns] = i;
  for (let j = 0; j < columns; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < columns; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[(i - 1) * columns + j] + 1, d[i * columns + j - 1] + 1, d[(i - 1) * columns + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[(i - 2) * columns + j - 2] + 1);
      d[i * columns + j] = value;
    }
  }
  return d[rows * columns - 1];
}
