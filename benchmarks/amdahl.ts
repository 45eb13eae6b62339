/**
 * Amdahl's law, S(n) = 1 / (s + (1 − s) / n), and a least-squares fit of the
 * serial fraction s to measured speedups.
 */

export interface SpeedupPoint {
  threads: number;
  speedup: number;
}

export interface AmdahlFit {
  /** Serial fraction s in [0, 1]. */
  serialFraction: number;
  /** Root mean square of S_measured(n) − S_fit(n) over the points used. */
  rmse: number;
  /** Thread counts of the points used. */
  threadsUsed: number[];
  /** The fitted law's speedup at larger thread counts. */
  predictions: SpeedupPoint[];
}

/** Thread counts the fitted law is evaluated at. */
export const AMDAHL_PREDICT_AT: readonly number[] = [8, 16, 64];

/** Amdahl's speedup on `threads` threads for serial fraction `serialFraction`. */
export function amdahlSpeedup(serialFraction: number, threads: number): number {
  return 1 / (serialFraction + (1 - serialFraction) / threads);
}

/**
 * The largest serial fraction with which Amdahl's law still gives `speedup` on
 * `threads` threads: s = (1/S − 1/n) / (1 − 1/n), the inverse of
 * {@link amdahlSpeedup} (12× at 16 threads needs s ≤ 1/45). For 1 ≤ S ≤ n, n ≥ 2.
 */
export function serialFractionFor(speedup: number, threads: number): number {
  if (!(Number.isInteger(threads) && threads >= 2 && speedup >= 1 && speedup <= threads)) {
    throw new RangeError(`Expected 2 ≤ threads and 1 ≤ speedup ≤ threads, got ${speedup}× on ${threads} threads`);
  }
  return (1 / speedup - 1 / threads) / (1 - 1 / threads);
}

/**
 * The serial fraction s ∈ [0, 1] minimising Σ (S_i − 1/(s + (1 − s)/n_i))² over
 * the points (the residuals of the speedups themselves, not of 1/S). Points with
 * a non-finite or non-positive speedup are ignored. A superlinear speedup pulls
 * s to 0, a slowdown to 1. Returns `null` without a point at 2 or more threads
 * (S(1) = 1 for every s, so it carries no information).
 */
export function fitAmdahl(points: readonly SpeedupPoint[], predictAt: readonly number[] = AMDAHL_PREDICT_AT): AmdahlFit | null {
  const used = points.filter((p) => Number.isInteger(p.threads) && p.threads >= 1 && Number.isFinite(p.speedup) && p.speedup > 0);
  if (!used.some((p) => p.threads >= 2)) return null;
  const sse = (s: number) => used.reduce((sum, p) => sum + (p.speedup - amdahlSpeedup(s, p.threads)) ** 2, 0);

  // A coarse grid finds the basin, golden-section search refines it.
  const steps = 1000;
  let best = 0;
  let bestValue = sse(0);
  for (let i = 1; i <= steps; i++) {
    const value = sse(i / steps);
    if (value < bestValue) {
      best = i / steps;
      bestValue = value;
    }
  }
  let lo = Math.max(0, best - 1 / steps);
  let hi = Math.min(1, best + 1 / steps);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let c = hi - ratio * (hi - lo);
  let d = lo + ratio * (hi - lo);
  let fc = sse(c);
  let fd = sse(d);
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    if (fc < fd) {
      hi = d;
      d = c;
      fd = fc;
      c = hi - ratio * (hi - lo);
      fc = sse(c);
    } else {
      lo = c;
      c = d;
      fc = fd;
      d = lo + ratio * (hi - lo);
      fd = sse(d);
    }
  }
  const refined = (lo + hi) / 2;
  const serialFraction = sse(refined) <= bestValue ? refined : best;
  return {
    serialFraction,
    rmse: Math.sqrt(sse(serialFraction) / used.length),
    threadsUsed: used.map((p) => p.threads),
    predictions: predictAt.map((threads) => ({ threads, speedup: amdahlSpeedup(serialFraction, threads) })),
  };
}
