/**
 * The incremental kernel's Taylor series and their error bounds: which series
 * may replace expm1, log1p and the loss change, and where (see README.md,
 * "Three evaluation paths").
 */

/** Relative truncation error every series is held to (half an ulp of 1 is 1.1e-16). */
export const SERIES_TOLERANCE = 1e-17;

/*
 * The degrees are not settings: the series records (six slots per sample),
 * perturbationPowers, compose6, the moment sums and the hot loops are written
 * out for exactly these degrees, and the bounds below are derived for them.
 */
/** Degree of the cached loss series (path 1). Fixed: six coefficients per record, unrolled loops. */
export const LOSS_SERIES_DEGREE = 6;
/** Degree of the moment series of path 2 (at most 6: the base computes six moments). Fixed. */
export const MOMENT_SERIES_DEGREE = 5;
/** Degree of {@link expm1Small}'s series, written out there. Fixed. */
const EXPM1_SERIES_DEGREE = 5;
/** Degree of {@link log1pSmall}'s series, written out there. Fixed. */
const LOG1P_SERIES_DEGREE = 6;

function factorial(m: number): number {
  let f = 1;
  for (let i = 2; i <= m; i++) f *= i;
  return f;
}

/**
 * expm1(u) = Σ_{m≥1} u^m/m!. Truncated after degree M the tail is at most
 * |u|^(M+1)/(M+1)! · 1/(1 − |u|/(M+2)), and |expm1(u)| ≥ |u|(1 − |u|/2), so the
 * relative error is about |u|^M/(M+1)!: the bound solves |u|^M/(M+1)! = tol,
 * with 1 % margin for the neglected factors (both < 1.001 here).
 * Degree 5: 1.47e-3 (MNIST inputs are ≤ 1, so |δ| ≤ 1.0000001e-4).
 */
export const EXPM1_SERIES_BOUND = 0.99 * Math.pow(factorial(EXPM1_SERIES_DEGREE + 1) * SERIES_TOLERANCE, 1 / EXPM1_SERIES_DEGREE);

/**
 * Σ_k p_k expm1(τ_k) and Σ_k p_k (expm1(τ_t) − expm1(τ_k)) with |τ_k| ≤ τ: the
 * truncation errors are at most τ^(M+1)/(M+1)! and twice that, against a first
 * order term of size τ: the bound solves 2τ^M/(M+1)! = tol, 1 % margin.
 * Degree 5: 1.28e-3.
 */
export const MOMENT_SERIES_BOUND = 0.99 * Math.pow(factorial(MOMENT_SERIES_DEGREE + 1) * SERIES_TOLERANCE / 2, 1 / MOMENT_SERIES_DEGREE);

/**
 * log1p(r) = Σ_{m≥1} (−1)^(m+1) r^m/m: the tail after degree M is at most
 * |r|^(M+1)/(M+1) / (1 − |r|), relative about |r|^M/(M+1): the bound solves
 * |r|^M/(M+1) = tol, 1 % margin. Degree 6: 2.0e-3.
 */
export const LOG1P_SERIES_BOUND = 0.99 * Math.pow((LOG1P_SERIES_DEGREE + 1) * SERIES_TOLERANCE, 1 / LOG1P_SERIES_DEGREE);

const C2 = 1 / 2;
const C3 = 1 / 6;
const C4 = 1 / 24;
const C5 = 1 / 120;
const L3 = 1 / 3;
const L5 = 1 / 5;
const L6 = 1 / 6;

/** expm1(u): the degree-5 series when |u| ≤ {@link EXPM1_SERIES_BOUND}, else Math.expm1. */
export function expm1Small(u: number): number {
  if (Math.abs(u) <= EXPM1_SERIES_BOUND) return u * (1 + u * (C2 + u * (C3 + u * (C4 + u * C5))));
  return Math.expm1(u);
}

/** log1p(r): the degree-6 series when |r| ≤ {@link LOG1P_SERIES_BOUND}, else Math.log1p. */
export function log1pSmall(r: number): number {
  if (Math.abs(r) <= LOG1P_SERIES_BOUND) return r * (1 - r * (C2 - r * (L3 - r * (0.25 - r * (L5 - r * L6)))));
  return Math.log1p(r);
}

/**
 * Bound on |log1p(r)| when r = ρ·N/(1 + S) with |S| ≤ η and |N| ≤ nScale·η,
 * η = e^c − 1 (every moved score within the complex disk |t| ≤ c), ρ ≤ 1.
 * Infinity when the bound on |r| reaches 1.
 */
export function logRatioBound(c: number, nScale: number): number {
  const eta = Math.expm1(c);
  const rb = (nScale * eta) / (1 - eta);
  return eta < 1 && rb < 1 ? -Math.log1p(-rb) : Infinity;
}

/**
 * The Cauchy radius for the loss series of a hidden unit whose W2 row has
 * max |w| = wmax: the R minimising B(R)/R^(M+1) over a geometric grid, and B(R),
 * the bound on |f| on the disk |δ| ≤ R. Sigmoid: |Δz| ≤ L(R)|δ| with
 * L(R) = 1/(4cos²(R/2)) (R < π); ReLU (active, no kink within R): Δz = δ.
 */
export function hiddenSeriesRadius(wmax: number, sigmoid: boolean): [radius: number, bound: number] {
  if (!(wmax > 0)) return [Infinity, 0];
  const grid = radiusGrid();
  let best: [number, number] = [0, Infinity];
  let bestScore = Infinity;
  for (let s = 0; s < RADIUS_GRID_SIZE; s++) {
    let radius: number;
    let bound: number;
    let score: number;
    if (sigmoid) {
      radius = grid.sigmoidRadius[s];
      // c = the largest score move on the disk; log1p needs 2η/(1 − η) < 1, i.e. c < log(4/3).
      bound = logRatioBound(grid.sigmoidLipschitz[s] * wmax, 2);
      score = bound / grid.sigmoidRadiusPower[s];
    } else {
      radius = grid.reluMove[s] / wmax;
      bound = grid.reluBound[s];
      score = bound / Math.pow(radius, LOSS_SERIES_DEGREE + 1);
    }
    if (score < bestScore) {
      bestScore = score;
      best = [radius, bound];
    }
  }
  return best;
}

/** The grid of {@link hiddenSeriesRadius}: 30 radii (sigmoid) or score moves (ReLU), shrinking by 3/4. */
const RADIUS_GRID_SIZE = 30;

interface RadiusGrid {
  /** Sigmoid: R_s = 3·(3/4)^s, R_s/(4cos²(R_s/2)) (the largest |Δz| per unit δ, times R_s) and R_s^(M+1). */
  sigmoidRadius: Float64Array;
  sigmoidLipschitz: Float64Array;
  sigmoidRadiusPower: Float64Array;
  /** ReLU: c_s = 0.28·(3/4)^s (the largest score move; R = c/max|w|) and the bound for it. */
  reluMove: Float64Array;
  reluBound: Float64Array;
}

let radiusGridCache: RadiusGrid | undefined;

/**
 * The parts of {@link hiddenSeriesRadius} that do not depend on the unit,
 * computed once, by the very expressions a per-unit evaluation would use (so
 * the results are the same bits).
 */
function radiusGrid(): RadiusGrid {
  if (radiusGridCache !== undefined) return radiusGridCache;
  const n = RADIUS_GRID_SIZE;
  const grid: RadiusGrid = {
    sigmoidRadius: new Float64Array(n), sigmoidLipschitz: new Float64Array(n), sigmoidRadiusPower: new Float64Array(n),
    reluMove: new Float64Array(n), reluBound: new Float64Array(n),
  };
  for (let s = 0; s < n; s++) {
    const radius = 3 * Math.pow(0.75, s);
    const half = Math.cos(radius / 2);
    grid.sigmoidRadius[s] = radius;
    grid.sigmoidLipschitz[s] = radius / (4 * half * half);
    grid.sigmoidRadiusPower[s] = Math.pow(radius, LOSS_SERIES_DEGREE + 1);
    const c = 0.28 * Math.pow(0.75, s);
    grid.reluMove[s] = c;
    grid.reluBound[s] = logRatioBound(c, 2);
  }
  radiusGridCache = grid;
  return grid;
}

/**
 * As {@link hiddenSeriesRadius} for the loss series of one score moved by t:
 * |e^t − 1| ≤ η on |t| ≤ R, |N| ≤ η, |1 + S| ≥ 1 − η.
 */
export function outputSeriesRadius(): [radius: number, bound: number] {
  const M = LOSS_SERIES_DEGREE;
  let best: [number, number] = [0, Infinity];
  let bestScore = Infinity;
  for (let s = 0; s < 64; s++) {
    const c = 0.45 * Math.pow(0.9, s);
    const bound = logRatioBound(c, 1);
    const score = bound / Math.pow(c, M + 1);
    if (score < bestScore) {
      bestScore = score;
      best = [c, bound];
    }
  }
  return best;
}

/**
 * Σ_{k=1…6} c_k·s(u)^k truncated to degree 6, for a power series s without
 * constant term (coefficients at index 1…6): out[1…6].
 */
export function compose6(s: Float64Array, c: Float64Array, out: Float64Array): void {
  const s1 = s[1], s2 = s[2], s3 = s[3], s4 = s[4], s5 = s[5], s6 = s[6];
  const c1 = c[1], c2 = c[2], c3 = c[3], c4 = c[4], c5 = c[5], c6 = c[6];
  const s11 = s1 * s1;
  const s111 = s11 * s1;
  const s1111 = s111 * s1;
  out[1] = c1 * s1;
  out[2] = c1 * s2 + c2 * s11;
  out[3] = c1 * s3 + c2 * 2 * s1 * s2 + c3 * s111;
  out[4] = c1 * s4 + c2 * (2 * s1 * s3 + s2 * s2) + c3 * 3 * s11 * s2 + c4 * s1111;
  out[5] = c1 * s5 + c2 * 2 * (s1 * s4 + s2 * s3) + c3 * (3 * s11 * s3 + 3 * s1 * s2 * s2) + c4 * 4 * s111 * s2 + c5 * s1111 * s1;
  out[6] = c1 * s6 + c2 * (2 * (s1 * s5 + s2 * s4) + s3 * s3) + c3 * (3 * s11 * s4 + 6 * s1 * s2 * s3 + s2 * s2 * s2)
    + c4 * (4 * s111 * s3 + 6 * s11 * s2 * s2) + c5 * 5 * s1111 * s2 + c6 * s1111 * s11;
}

/** −log1p(r) = Σ_k (−1)^k r^k / k. */
const NEG_LOG1P = Float64Array.of(0, -1, 1 / 2, -1 / 3, 1 / 4, -1 / 5, 1 / 6);
/** 1/(1 + v) − 1 = Σ_k (−1)^k v^k. */
export const RECIPROCAL = Float64Array.of(0, -1, 1, -1, 1, -1, 1);
export const INVERSE_FACTORIAL = Float64Array.of(1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720);
/** Where coefficient m = 1…6 is stored in a series record: odd ones first (the hot loops mostly need only those). */
export const SERIES_SLOT = Int32Array.of(-1, 0, 3, 1, 4, 2, 5);

/**
 * Series of −log1p(ρ·num/(1 + den)) with num, den power series without
 * constant term (index 1…6), into out; `q` is scratch.
 */
export function negLog1pRatioSeries(num: Float64Array, den: Float64Array, rho: number, q: Float64Array, out: Float64Array): void {
  // q = ρ·num/(1 + den): q_m = ρ·num_m − Σ_{i<m} q_i den_{m−i}, subtracted in
  // ascending i (written out: it runs per sample and hidden unit).
  const d1 = den[1], d2 = den[2], d3 = den[3], d4 = den[4], d5 = den[5];
  const q1 = rho * num[1];
  const q2 = rho * num[2] - q1 * d1;
  const q3 = rho * num[3] - q1 * d2 - q2 * d1;
  const q4 = rho * num[4] - q1 * d3 - q2 * d2 - q3 * d1;
  const q5 = rho * num[5] - q1 * d4 - q2 * d3 - q3 * d2 - q4 * d1;
  const q6 = rho * num[6] - q1 * d5 - q2 * d4 - q3 * d3 - q4 * d2 - q5 * d1;
  q[1] = q1; q[2] = q2; q[3] = q3; q[4] = q4; q[5] = q5; q[6] = q6;
  compose6(q, NEG_LOG1P, out);
}

/** Loss series evaluation modes of one parameter (see {@link seriesMode}). */
export const GENERAL = 0;
export const SERIES_FULL = 1;
export const SERIES_ODD = 2;
export const SERIES_ODD3 = 3;

/**
 * How a parameter may use the loss series, when its samples move the argument
 * by at most `argMax` = xMax·max|d±| and the series has Cauchy radius R
 * (`inverse` = 1/R) and bound `bound` (|F_m| ≤ bound/R^m). `dPowers[o…o+6)` are
 * Δ_m = d₊^m − d₋^m. The error budget is {@link SERIES_TOLERANCE}·scale, with
 * `scale` the first-order size of the change:
 * - the tail past degree 6 of f(δ₊) − f(δ₋) is at most 2·bound·q⁷/(1 − q)
 *   ≤ 4·bound·q⁷, q = argMax/R < 1/2;
 * - the even terms F_m x^m Δ_m (m = 2, 4, 6) are at most
 *   bound·Σ (xMax/R)^m |Δ_m|: tiny while θ_p is small, since then
 *   d₊ + d₋ = fl(θ+h) + fl(θ−h) − 2θ is a few ulps of h;
 * - the fifth-degree term F_5 x⁵ Δ_5 is at most fifthMax·xMax⁵·|Δ_5|, with
 *   `fifthMax` the largest |F_5| of the samples (Infinity: unknown).
 * SERIES_ODD3 when tail, even terms and fifth-degree term fit (only F_1 and
 * F_3 are needed), SERIES_ODD when tail and even terms fit (F_1, F_3, F_5),
 * SERIES_FULL when the tail fits, else GENERAL.
 */
export function seriesMode(
  argMax: number, xMax: number, inverse: number, bound: number, scale: number, dPowers: Float64Array, o: number, fifthMax: number,
): number {
  if (bound === 0) return SERIES_ODD3; // W2[j] = 0: nothing moves
  const q = argMax * inverse;
  if (!(q < 0.5)) return GENERAL;
  const budget = SERIES_TOLERANCE * scale;
  const q2 = q * q;
  const tail = 4 * bound * q2 * q2 * q2 * q; // ≥ 2·bound·q⁷/(1 − q) for q < 1/2
  if (!(tail <= budget)) return GENERAL;
  const u2 = xMax * inverse * (xMax * inverse);
  const even = bound * u2 * (Math.abs(dPowers[o + 1]) + u2 * (Math.abs(dPowers[o + 3]) + u2 * Math.abs(dPowers[o + 5])));
  if (!(tail + even <= budget)) return SERIES_FULL;
  const x2 = xMax * xMax;
  // 1 % margin for the rounding of F_5 and of this product.
  const fifth = 1.01 * fifthMax * (x2 * x2 * xMax) * Math.abs(dPowers[o + 4]);
  return tail + even + fifth <= budget ? SERIES_ODD3 : SERIES_ODD;
}

/** Δ_m = d₊^m − d₋^m, m = 1…6, factored so that no power cancels. */
export function perturbationPowers(dp: number, dm: number, out: Float64Array, o: number): void {
  const diff = dp - dm; // ≈ 2h, no cancellation
  const sum = dp + dm; // exact (Sterbenz), ≈ 0
  const p2 = dp * dp;
  const m2 = dm * dm;
  const q2 = p2 + m2;
  out[o] = diff;
  out[o + 1] = diff * sum;
  out[o + 2] = diff * (p2 + dp * dm + m2);
  out[o + 3] = diff * sum * q2;
  out[o + 4] = diff * (p2 * p2 + p2 * dp * dm + p2 * m2 + dp * dm * m2 + m2 * m2);
  out[o + 5] = diff * sum * (p2 + dp * dm + m2) * (p2 - dp * dm + m2);
}
