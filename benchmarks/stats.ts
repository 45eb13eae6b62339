/** Summary statistics of repeated timings. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  mean: number;
}

/** Median (mean of the two middle values for an even count), min, max and mean; NaN for no samples. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], mean };
}

/** `value` if finite, else `null` (JSON has no NaN or Infinity). */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
