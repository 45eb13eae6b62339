/**
 * Exact, fast numerical gradients of the book's TwoLayerNet over a parameter
 * range, from a per-batch cache.
 *
 * For every parameter p this computes the same quantity as the book's method
 * (see naive.ts),
 *
 *     out[p] = (L(θ + d₊·e_p) − L(θ + d₋·e_p)) / (2h),   d± = fl(θ_p ± h) − θ_p
 *
 * (the perturbation the book's code really applies: it stores fl(θ_p ± h)), but
 * instead of two forward passes of the whole batch it recomputes only what p
 * changes, from a base forward pass cached once per batch
 * ({@link prepareIncrementalBase}):
 *
 * - W1[i][j] (and b1[j], an input that is 1 for every sample) moves the hidden
 *   pre-activation a_j of the samples with x[n][i] ≠ 0 only, by δ = x[n][i]·d;
 *   then z_j by Δz, and every score by t_k = Δz·W2[j][k].
 * - W2[j][k] moves score k only, by t = z1[n][j]·d; b2[k] by t = d.
 *
 * Per sample, with p_k the base probabilities, t the label, e_k = expm1(t_k),
 * σ = Σ_k p_k e_k and ρ = p_t/(p_t + 1e-7), the new label probability is
 * p_t' = p_t(1 + e_t)/(1 + σ) and
 *
 *     l' − l = −log1p(r),  r = (p_t' − p_t)/(p_t + 1e-7) = ρ·Σ_{k≠t} p_k(e_t − e_k) / (1 + σ)
 *
 * (no cancellation: the k = t term vanishes, so p_t ≈ 1 is fine). The kernel
 * sums D_n = l_n(+) − l_n(−) over the affected samples and writes
 * out[p] = Σ_n D_n / rows / (2h): differencing each sample close to its base is
 * far better conditioned than differencing two batch sums of ~2.3.
 *
 * Sigmoid: Δz = z' − z = −expm1(−δ)·z(1−z) / (1 + (1−z)·expm1(−δ)), the algebra
 * of z' = 1/(1 + exp(−a)·exp(−δ)) without the cancellation of z' − z. ReLU:
 * Δz = max(0, a+δ) − max(0, a) exactly (δ while a and a+δ are both positive, −a
 * or a+δ when the sign changes); samples with Δz = 0 are skipped.
 *
 * Three evaluation paths, chosen per parameter (and per sample for a ReLU unit
 * near its kink) from bounds that do not depend on the range:
 *
 * 1. Loss series (the hot path). For one (sample n, hidden unit j) the loss
 *    change is an analytic function of δ alone, f(δ) = l_n(a_j + δ) − l_n, and
 *    likewise of t for one (sample, score). Its Taylor coefficients F_1…F_M are
 *    cached per (n, j) (and G_1…G_M per (n, k)), so a parameter's term is
 *        D_n = f(x·d₊) − f(x·d₋) = Σ_m F_m x^m (d₊^m − d₋^m),
 *    one short polynomial in x (M = 6): no exp, log or division per sample.
 *    The truncation is bounded rigorously by a Cauchy estimate: if |f| ≤ B on
 *    the complex disk |δ| ≤ R, then |F_m| ≤ B/R^m and the tail past degree M
 *    is at most B·q^(M+1)/(1 − q), q = |δ|max/R. B comes from
 *    |e^t − 1| ≤ e^|t| − 1 and, for the sigmoid, |σ'(w)| ≤ 1/(4cos²(R/2)) on
 *    that disk (R < π). The series is used only where twice that tail is below
 *    {@link SERIES_TOLERANCE} times the first-order scale
 *    |δ|max·max_k|W2[j][k]|·(1/4 sigmoid, 1 ReLU) (resp. |t|max for an output
 *    parameter). While θ_p ± h stay in θ_p's binade, d₊ + d₋ = 0 exactly and
 *    the even terms vanish; when their bound also fits the budget only F_1,
 *    F_3, F_5 are evaluated ('series-odd', nearly every parameter of the
 *    book's net), else all six ('series-full'). See {@link incrementalPath}.
 * 2. Score series: the per-sample formula above, with expm1 and log1p of tiny
 *    arguments replaced by Taylor series guarded by |argument| bounds
 *    ({@link expm1Small}, {@link log1pSmall}), and σ, Σ p_k(e_t − e_k) by their
 *    series in Δz from cached moments of W2[j] while τ = |Δz|·max|W2[j]| ≤
 *    {@link MOMENT_SERIES_BOUND}.
 * 3. Plain Math.expm1 / Math.log1p while every |t_k| ≤ 1; beyond, the ratio
 *    p_t'/p_t from a max-shifted softmax (no overflow) and
 *    l' − l = −log(ρ·p_t'/p_t + 1 − ρ), a log of a sum of positive terms (no
 *    cancellation when the label's probability collapses, r → −1). Sigmoid
 *    Δz for |δ| > 1 as a difference of two sigmoids (or of their complements).
 *
 * Each out[p] depends only on (params, batch, base, p, h), and samples are
 * always summed in ascending order, so any split of [0, P) into ranges (any
 * number of workers) gives bit-identical results.
 */
import { CROSS_ENTROPY_DELTA } from '../functions.js';
import { evenRange } from './cost.js';
import { DEFAULT_H } from '../numerical.js';
import { type NetShape, type SparseRowScratch, createSparseRowScratch, forward, parameterLayout } from './two-layer.js';

/** Relative truncation error every series is held to (half an ulp of 1 is 1.1e-16). */
export const SERIES_TOLERANCE = 1e-17;
/** Degree of the cached loss series (path 1); the hot loops are unrolled for it. */
export const LOSS_SERIES_DEGREE = 6;
export const EXPM1_SERIES_DEGREE = 5;
export const MOMENT_SERIES_DEGREE = 5;
export const LOG1P_SERIES_DEGREE = 6;

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

const OUTPUT_SERIES = outputSeriesRadius();

/** Loss series evaluation modes of one parameter. */
const GENERAL = 0;
const SERIES_FULL = 1;
const SERIES_ODD = 2;

/**
 * How a parameter may use the loss series, when its samples move the argument
 * by at most `argMax` = xMax·max|d±| and the series has Cauchy radius `radius`
 * and bound `bound` (|F_m| ≤ bound/radius^m). `dPowers[o…o+6)` are
 * Δ_m = d₊^m − d₋^m. The error budget is {@link SERIES_TOLERANCE}·scale, with
 * `scale` the first-order size of the change:
 * - the tail past degree 6 of f(δ₊) − f(δ₋) is at most 2·bound·q⁷/(1 − q)
 *   ≤ 4·bound·q⁷, q = argMax/radius < 1/2;
 * - the even terms F_m x^m Δ_m (m = 2, 4, 6) are at most
 *   bound·Σ (xMax/radius)^m |Δ_m|: tiny while θ_p is small, since then
 *   d₊ + d₋ = fl(θ+h) + fl(θ−h) − 2θ is a few ulps of h.
 * SERIES_ODD when tail and even terms fit (only F_1, F_3, F_5 are needed),
 * SERIES_FULL when the tail fits, else GENERAL.
 */
function seriesMode(argMax: number, xMax: number, radius: number, bound: number, scale: number, dPowers: Float64Array, o: number): number {
  if (bound === 0) return SERIES_ODD; // W2[j] = 0: nothing moves
  const inverse = 1 / radius;
  const q = argMax * inverse;
  if (!(q < 0.5)) return GENERAL;
  const budget = SERIES_TOLERANCE * scale;
  const q2 = q * q;
  const tail = 4 * bound * q2 * q2 * q2 * q; // ≥ 2·bound·q⁷/(1 − q) for q < 1/2
  if (!(tail <= budget)) return GENERAL;
  const u2 = xMax * inverse * (xMax * inverse);
  const even = bound * u2 * (Math.abs(dPowers[o + 1]) + u2 * (Math.abs(dPowers[o + 3]) + u2 * Math.abs(dPowers[o + 5])));
  return tail + even <= budget ? SERIES_ODD : SERIES_FULL;
}

/**
 * The per-batch cache of {@link incrementalGradientRange}, computed once by
 * {@link prepareIncrementalBase} from a base forward pass, or in pieces by
 * several workers (see {@link startIncrementalBase}): the same bytes either
 * way. Only typed arrays, views of one buffer (see {@link incrementalBaseViews}),
 * so it lives in shared memory. N = rows, I = inputSize, H = hiddenSize,
 * K = outputSize, M = {@link LOSS_SERIES_DEGREE}, Mm = {@link MOMENT_SERIES_DEGREE};
 * matrices are row-major.
 */
export interface IncrementalBase {
  /** [inputSize, hiddenSize, outputSize, rows, activation (0 sigmoid, 1 ReLU)]. */
  dims: Int32Array;
  /** Base pre-activations a1 = x·W1 + b1, N × H. */
  hiddenInput: Float64Array;
  /** Base activations z1, N × H. */
  hidden: Float64Array;
  /** Sigmoid only: 1 − z1 computed as 1/(1 + exp(a1)) (no cancellation, no overflow), N × H. */
  hiddenComplement: Float64Array;
  /** Base softmax probabilities p, N × K. */
  probs: Float64Array;
  /** ρ_n = p_t/(p_t + 1e-7) for the label t of sample n, N. */
  labelWeight: Float64Array;
  /** 1 − ρ_n = 1e-7/(p_t + 1e-7), N. */
  labelSlack: Float64Array;
  /** 1 − p_t computed as Σ_{k≠t} p_k (no cancellation when p_t ≈ 1), N. */
  labelComplement: Float64Array;
  /** max_k |W2[j][k]|, H. */
  outputWeightMax: Float64Array;
  /** max_n |z1[n][j]|, H. */
  hiddenMax: Float64Array;
  /**
   * Per (j, n) (unit-major, for the hot loop), at (j·N + n)·6: Taylor
   * coefficients of f(δ) = l_n(a1[n][j] + δ) − l_n in δ (path 1), in the order
   * F_1, F_3, F_5, F_2, F_4, F_6 (odd ones first). For ReLU they are the
   * coefficients of an active unit away from its kink (Δz = δ).
   */
  hiddenSeries: Float64Array;
  /** ReLU only: a1 transposed, H × N (a1[n][j] at j·N + n), for the kink test of the hot loop. */
  hiddenInputByUnit: Float64Array;
  /** Per j: [radius R_j, bound B_j] of the Cauchy estimate of hiddenSeries, H × 2. */
  hiddenSeriesRadius: Float64Array;
  /**
   * Per (n, k), at (n·K + k)·6: Taylor coefficients of g(t) = l_n(score k + t) − l_n
   * in t (path 1 for W2, b2), in the order G_1, G_3, G_5, G_2, G_4, G_6.
   */
  outputSeries: Float64Array;
  /** [radius, bound] of the Cauchy estimate of outputSeries (the same for all). */
  outputSeriesRadius: Float64Array;
  /**
   * Per (n, j), at (n·H + j)·2Mm (path 2): A_m = Σ_k p_k w_k^m / m!, then
   * B_m = Σ_{k≠t} p_k (w_t^m − w_k^m) / m!, m = 1…Mm, w = W2[j], t = label of n:
   * σ = Σ_m A_m Δz^m and Σ_k p_k(e_t − e_k) = Σ_m B_m Δz^m.
   */
  moments: Float64Array;
  /**
   * Compressed columns of x plus one bias column (index I, value 1 for every
   * sample), each in a slot of N entries: the samples of column i are
   * colRows[i·N … i·N + colCount[i]), ascending, with their nonzero values at
   * the same places of colValues. colCount has length I + 1, colRows and
   * colValues (I + 1)·N (a fixed layout: it does not depend on x).
   */
  colCount: Int32Array;
  colRows: Int32Array;
  colValues: Float64Array;
  /** max_n |x[n][i]| per column, and 1 for the bias column; I + 1. */
  colMaxAbs: Float64Array;
}

function activationCode(shape: NetShape): number {
  return shape.activation === 'relu' ? 1 : 0;
}

function checkArguments(params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: Int32Array): number {
  const size = parameterLayout(shape).size;
  if (params.length !== size) throw new RangeError(`Expected \`params\` to have ${size} values, got ${params.length}`);
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`Expected \`rows\` to be an integer from 1, got ${rows}`);
  if (x.length < rows * shape.inputSize) throw new RangeError(`Expected \`x\` to have at least ${rows * shape.inputSize} values, got ${x.length}`);
  if (labels.length < rows) throw new RangeError(`Expected \`labels\` to have at least ${rows} values, got ${labels.length}`);
  for (let n = 0; n < rows; n++) {
    const t = labels[n];
    if (!(t >= 0 && t < shape.outputSize)) throw new RangeError(`Expected label ${n} to be an integer from 0 to ${shape.outputSize - 1}, got ${t}`);
  }
  return size;
}

/**
 * Σ_{k=1…6} c_k·s(u)^k truncated to degree 6, for a power series s without
 * constant term (coefficients at index 1…6): out[1…6].
 */
function compose6(s: Float64Array, c: Float64Array, out: Float64Array): void {
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
const RECIPROCAL = Float64Array.of(0, -1, 1, -1, 1, -1, 1);
const INVERSE_FACTORIAL = Float64Array.of(1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720);
/** Where coefficient m = 1…6 is stored in a series record: odd ones first. */
const SERIES_SLOT = Int32Array.of(-1, 0, 3, 1, 4, 2, 5);

/**
 * Series of −log1p(ρ·num/(1 + den)) with num, den power series without
 * constant term (index 1…6), into out; `q` is scratch.
 */
function negLog1pRatioSeries(num: Float64Array, den: Float64Array, rho: number, q: Float64Array, out: Float64Array): void {
  // q = ρ·num/(1 + den): q_m = ρ·num_m − Σ_{i<m} q_i den_{m−i}.
  for (let m = 1; m <= 6; m++) {
    let v = rho * num[m];
    for (let i = 1; i < m; i++) v -= q[i] * den[m - i];
    q[m] = v;
  }
  compose6(q, NEG_LOG1P, out);
}

/*
 * The base lives in one buffer (an ArrayBuffer, or a SharedArrayBuffer that
 * the pool's workers fill in pieces), carved into the arrays of
 * IncrementalBase in a fixed order that depends only on (shape, rows). Float64
 * sections first, so every section is aligned.
 *
 * It is built in three steps; the middle one splits into any ranges, each
 * range writing only its own part and reading only params, x, labels and what
 * the previous step wrote:
 * 1. {@link startIncrementalBase}: dims and constants.
 * 2. {@link prepareBaseSamples} (samples [n0, n1): forward pass, label
 *    weights, moments, loss series of those samples),
 *    {@link prepareBaseColumns} (compressed input columns [c0, c1) of I + 1,
 *    column I being the bias) and {@link prepareBaseUnits} (hidden units
 *    [j0, j1): max|W2[j]| and the Cauchy radius).
 * 3. {@link finishIncrementalBase}: the batch-wide maxima max_n |z1[n][j]|.
 * Every value is computed by the same code from the same inputs whatever the
 * split (sums run over k or m within one sample, never across the split; the
 * one batch-wide reduction is a max), so the base is bit-identical for any
 * split and any number of workers.
 */

/** Carves the base's arrays from `buffer`, or only measures them (buffer undefined). */
function carveBase(buffer: ArrayBufferLike | undefined, shape: NetShape, rows: number): { base: IncrementalBase | undefined; bytes: number } {
  const { inputSize: I, hiddenSize: H, outputSize: K } = shape;
  const sigmoid = shape.activation === 'sigmoid';
  const M = LOSS_SERIES_DEGREE;
  const Mm = MOMENT_SERIES_DEGREE;
  let offset = 0;
  const f64 = (length: number): Float64Array => {
    const at = offset;
    offset += length * Float64Array.BYTES_PER_ELEMENT;
    return buffer === undefined ? EMPTY_F64 : new Float64Array(buffer, at, length);
  };
  const i32 = (length: number): Int32Array => {
    const at = offset;
    offset += length * Int32Array.BYTES_PER_ELEMENT;
    return buffer === undefined ? EMPTY_I32 : new Int32Array(buffer, at, length);
  };
  const NH = rows * H;
  const f = {
    hiddenInput: f64(NH), hidden: f64(NH), hiddenComplement: f64(sigmoid ? NH : 0), probs: f64(rows * K),
    labelWeight: f64(rows), labelSlack: f64(rows), labelComplement: f64(rows), outputWeightMax: f64(H), hiddenMax: f64(H),
    hiddenSeries: f64(NH * M), hiddenInputByUnit: f64(sigmoid ? 0 : NH), hiddenSeriesRadius: f64(2 * H),
    outputSeries: f64(rows * K * M), outputSeriesRadius: f64(2), moments: f64(NH * 2 * Mm),
    colValues: f64((I + 1) * rows), colMaxAbs: f64(I + 1),
  };
  const i = { dims: i32(5), colCount: i32(I + 1), colRows: i32((I + 1) * rows) };
  return { base: buffer === undefined ? undefined : { ...f, ...i }, bytes: offset };
}

const EMPTY_F64 = new Float64Array(0);
const EMPTY_I32 = new Int32Array(0);

/** Bytes of the buffer of a base for `shape` over `rows` samples. */
export function incrementalBaseBytes(shape: NetShape, rows: number): number {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`Expected \`rows\` to be an integer from 1, got ${rows}`);
  return carveBase(undefined, shape, rows).bytes;
}

/**
 * Views of an {@link IncrementalBase} over `buffer` (at least
 * {@link incrementalBaseBytes} long; any longer buffer is fine and the rest
 * is not touched). Only creates views: the contents are whatever the buffer holds.
 */
export function incrementalBaseViews(buffer: ArrayBufferLike, shape: NetShape, rows: number): IncrementalBase {
  const bytes = incrementalBaseBytes(shape, rows);
  if (buffer.byteLength < bytes) throw new RangeError(`Expected the base buffer to have at least ${bytes} bytes, got ${buffer.byteLength}`);
  return carveBase(buffer, shape, rows).base as IncrementalBase;
}

function checkBase(base: IncrementalBase, shape: NetShape, rows: number): void {
  const dims = base.dims;
  if (dims[0] !== shape.inputSize || dims[1] !== shape.hiddenSize || dims[2] !== shape.outputSize || dims[3] !== rows || dims[4] !== activationCode(shape)) {
    throw new RangeError(`Expected \`base\` to be prepared for ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} ${shape.activation} over ${rows} rows, got ${Array.from(dims).join(',')}`);
  }
}

function checkPieceRange(name: string, from: number, to: number, limit: number): void {
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= limit)) {
    throw new RangeError(`Expected 0 ≤ start ≤ end ≤ ${limit} for the ${name}, got [${from}, ${to})`);
  }
}

/**
 * Step 1 of building a base in `base` (views from {@link incrementalBaseViews}
 * for the same shape and rows): its dims and constants.
 */
export function startIncrementalBase(base: IncrementalBase, shape: NetShape, rows: number): void {
  if (base.colCount.length !== shape.inputSize + 1 || base.colRows.length !== (shape.inputSize + 1) * rows) {
    throw new RangeError(`Expected \`base\` to be views for ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} over ${rows} rows`);
  }
  base.dims.set([shape.inputSize, shape.hiddenSize, shape.outputSize, rows, activationCode(shape)]);
  base.outputSeriesRadius.set(OUTPUT_SERIES);
}

interface SampleScratch {
  sparse: SparseRowScratch;
  scores: Float64Array;
  series: { A: Float64Array; B: Float64Array; quotient: Float64Array; phi: Float64Array; v: Float64Array; dz: Float64Array; F: Float64Array };
}

/** This thread's scratch for {@link prepareBaseSamples}, reused (see `columnScratch`): entries are written before they are read. */
let sampleScratchCache: SampleScratch | undefined;
function sampleScratch(rowLength: number, scores: number): SampleScratch {
  const cached = sampleScratchCache;
  if (cached !== undefined && cached.sparse.idx.length >= rowLength && cached.scores.length >= scores) return cached;
  const series = () => new Float64Array(7);
  sampleScratchCache = {
    sparse: createSparseRowScratch(rowLength),
    scores: new Float64Array(scores),
    series: { A: series(), B: series(), quotient: series(), phi: series(), v: series(), dz: series(), F: series() },
  };
  return sampleScratchCache;
}

/**
 * Step 2, samples [n0, n1): the forward pass of those samples, their label
 * weights, the moments and the hidden and output loss series.
 */
export function prepareBaseSamples(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: Int32Array, base: IncrementalBase, n0: number, n1: number,
): void {
  checkArguments(params, shape, x, rows, labels);
  checkBase(base, shape, rows);
  checkPieceRange('samples', n0, n1, rows);
  if (n0 === n1) return;
  const { inputSize: I, hiddenSize: H, outputSize: K } = shape;
  const layout = parameterLayout(shape);
  const sigmoid = shape.activation === 'sigmoid';
  const { hiddenInput, hidden, hiddenComplement, probs, labelWeight, labelSlack, labelComplement, moments, hiddenSeries, hiddenInputByUnit, outputSeries } = base;
  const scratch = sampleScratch(Math.max(I, H), (n1 - n0) * K);
  forward(params, shape, x.subarray(n0 * I, n1 * I), n1 - n0, {
    hiddenInput: hiddenInput.subarray(n0 * H, n1 * H),
    hidden: hidden.subarray(n0 * H, n1 * H),
    scores: scratch.scores.subarray(0, (n1 - n0) * K),
    probs: probs.subarray(n0 * K, n1 * K),
  }, scratch.sparse);
  const M = LOSS_SERIES_DEGREE;
  const Mm = MOMENT_SERIES_DEGREE;

  for (let n = n0; n < n1; n++) {
    const t = labels[n];
    const pt = probs[n * K + t];
    labelWeight[n] = pt / (pt + CROSS_ENTROPY_DELTA);
    labelSlack[n] = CROSS_ENTROPY_DELTA / (pt + CROSS_ENTROPY_DELTA);
    let q = 0;
    for (let k = 0; k < K; k++) if (k !== t) q += probs[n * K + k];
    labelComplement[n] = q;
  }
  if (sigmoid) {
    for (let nj = n0 * H; nj < n1 * H; nj++) hiddenComplement[nj] = 1 / (1 + Math.exp(hiddenInput[nj]));
  }

  // Scratch series, index 1…6.
  const { A, B, quotient, phi, v, dz, F } = scratch.series;
  const W2 = layout.W2;

  for (let n = n0; n < n1; n++) {
    const t = labels[n];
    const pOff = n * K;
    const rho = labelWeight[n];
    for (let j = 0; j < H; j++) {
      const nj = n * H + j;
      const w = W2 + j * K;
      // A_m = Σ_k p_k w_k^m/m!, B_m = Σ_{k≠t} p_k (w_t^m − w_k^m)/m!.
      const wt1 = params[w + t];
      const wt2 = wt1 * wt1, wt3 = wt2 * wt1, wt4 = wt3 * wt1, wt5 = wt4 * wt1, wt6 = wt5 * wt1;
      let a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0;
      let b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
      for (let k = 0; k < K; k++) {
        const pk = probs[pOff + k];
        const w1 = params[w + k];
        const w2 = w1 * w1, w3 = w2 * w1, w4 = w3 * w1, w5 = w4 * w1, w6 = w5 * w1;
        a1 += pk * w1; a2 += pk * w2; a3 += pk * w3; a4 += pk * w4; a5 += pk * w5; a6 += pk * w6;
        if (k !== t) {
          b1 += pk * (wt1 - w1); b2 += pk * (wt2 - w2); b3 += pk * (wt3 - w3);
          b4 += pk * (wt4 - w4); b5 += pk * (wt5 - w5); b6 += pk * (wt6 - w6);
        }
      }
      A[1] = a1; A[2] = a2 / 2; A[3] = a3 / 6; A[4] = a4 / 24; A[5] = a5 / 120; A[6] = a6 / 720;
      B[1] = b1; B[2] = b2 / 2; B[3] = b3 / 6; B[4] = b4 / 24; B[5] = b5 / 120; B[6] = b6 / 720;
      const mo = nj * 2 * Mm;
      for (let m = 1; m <= Mm; m++) {
        moments[mo + m - 1] = A[m];
        moments[mo + Mm + m - 1] = B[m];
      }
      // φ(Δz) = −log1p(ρ·N(Δz)/(1 + S(Δz))), N = Σ B_m Δz^m, S = Σ A_m Δz^m.
      negLog1pRatioSeries(B, A, rho, quotient, phi);
      const o = (j * rows + n) * M;
      if (sigmoid) {
        // Δz(δ) = z·(1/(1 + v) − 1), v = (1 − z)·expm1(−δ); then f = φ∘Δz.
        const z = hidden[nj];
        const zc = hiddenComplement[nj];
        for (let m = 1; m <= 6; m++) v[m] = (m % 2 === 0 ? zc : -zc) * INVERSE_FACTORIAL[m];
        compose6(v, RECIPROCAL, dz);
        for (let m = 1; m <= 6; m++) dz[m] *= z;
        compose6(dz, phi, F);
        for (let m = 1; m <= M; m++) hiddenSeries[o + SERIES_SLOT[m]] = F[m];
      } else {
        // An inactive unit (a1 ≤ 0) stays inactive unless its kink is within
        // reach, which the kernel sends to the general path: F = 0.
        const a = hiddenInput[nj];
        for (let m = 1; m <= M; m++) hiddenSeries[o + SERIES_SLOT[m]] = a > 0 ? phi[m] : 0;
        hiddenInputByUnit[j * rows + n] = a;
      }
    }
  }

  // Output series per (n, k): −log1p(ρ·num/(1 + den)), e = expm1(t):
  // label: num = (1 − p_k)·e; other: num = −p_k·e; den = p_k·e.
  for (let n = n0; n < n1; n++) {
    const t = labels[n];
    for (let k = 0; k < K; k++) {
      const pk = probs[n * K + k];
      const c = k === t ? labelComplement[n] : -pk;
      for (let m = 1; m <= 6; m++) {
        A[m] = pk * INVERSE_FACTORIAL[m];
        B[m] = c * INVERSE_FACTORIAL[m];
      }
      negLog1pRatioSeries(B, A, labelWeight[n], quotient, phi);
      for (let m = 1; m <= M; m++) outputSeries[(n * K + k) * M + SERIES_SLOT[m]] = phi[m];
    }
  }
}

/**
 * Step 2, columns [c0, c1) of the I + 1 (column I is the bias, 1 for every
 * sample): each column's samples in ascending order, their values, their
 * count and the column's max |x|.
 */
export function prepareBaseColumns(shape: NetShape, x: Float64Array, rows: number, base: IncrementalBase, c0: number, c1: number): void {
  const I = shape.inputSize;
  checkBase(base, shape, rows);
  if (x.length < rows * I) throw new RangeError(`Expected \`x\` to have at least ${rows * I} values, got ${x.length}`);
  checkPieceRange('columns', c0, c1, I + 1);
  const { colCount, colRows, colValues, colMaxAbs } = base;
  const last = Math.min(c1, I); // input columns c0 … last − 1
  if (c0 < last) {
    // Row by row (x is row-major), appending to each column: ascending samples.
    colCount.fill(0, c0, last);
    colMaxAbs.fill(0, c0, last);
    for (let n = 0; n < rows; n++) {
      const row = n * I;
      for (let i = c0; i < last; i++) {
        const value = x[row + i];
        if (value === 0) continue;
        const at = i * rows + colCount[i]++;
        colRows[at] = n;
        colValues[at] = value;
        colMaxAbs[i] = Math.max(colMaxAbs[i], Math.abs(value));
      }
    }
  }
  if (c1 === I + 1) {
    for (let n = 0, at = I * rows; n < rows; n++, at++) {
      colRows[at] = n;
      colValues[at] = 1;
    }
    colCount[I] = rows;
    colMaxAbs[I] = 1;
  }
}

/** Step 2, hidden units [j0, j1): max_k |W2[j][k]| and the Cauchy radius of the unit's loss series. */
export function prepareBaseUnits(params: Float64Array, shape: NetShape, base: IncrementalBase, j0: number, j1: number): void {
  const { hiddenSize: H, outputSize: K } = shape;
  const layout = parameterLayout(shape);
  if (params.length !== layout.size) throw new RangeError(`Expected \`params\` to have ${layout.size} values, got ${params.length}`);
  checkBase(base, shape, base.dims[3]);
  checkPieceRange('units', j0, j1, H);
  const sigmoid = shape.activation === 'sigmoid';
  const { outputWeightMax, hiddenSeriesRadius: radii } = base;
  for (let j = j0; j < j1; j++) {
    let m = 0;
    for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(params[layout.W2 + j * K + k]));
    outputWeightMax[j] = m;
    const [radius, bound] = hiddenSeriesRadius(m, sigmoid);
    radii[2 * j] = radius;
    radii[2 * j + 1] = bound;
  }
}

/** Base part `part` of `parts`: its samples, input columns (of I + 1, the last is the bias) and hidden units, each split evenly. */
export interface BasePartRanges {
  samples: [number, number];
  columns: [number, number];
  units: [number, number];
}

export function basePartRanges(shape: NetShape, rows: number, part: number, parts: number): BasePartRanges {
  if (!(Number.isInteger(parts) && parts >= 1 && Number.isInteger(part) && part >= 0 && part < parts)) {
    throw new RangeError(`Expected part to be an integer from 0 to parts − 1, got part ${part} of ${parts}`);
  }
  return { samples: evenRange(rows, part, parts), columns: evenRange(shape.inputSize + 1, part, parts), units: evenRange(shape.hiddenSize, part, parts) };
}

/**
 * Step 2, part `part` of `parts` (see {@link basePartRanges}): the parts write
 * disjoint pieces of the base, in any order or at once on different threads,
 * and every value is the same whatever the number of parts.
 */
export function prepareBasePart(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: Int32Array, base: IncrementalBase, part: number, parts: number,
): void {
  const { samples, columns, units } = basePartRanges(shape, rows, part, parts);
  prepareBaseSamples(params, shape, x, rows, labels, base, samples[0], samples[1]);
  prepareBaseColumns(shape, x, rows, base, columns[0], columns[1]);
  prepareBaseUnits(params, shape, base, units[0], units[1]);
}

/** Step 3, after every sample of step 2: max_n |z1[n][j]| per unit (a max: the same whatever the order). */
export function finishIncrementalBase(base: IncrementalBase): void {
  const H = base.dims[1];
  const rows = base.dims[3];
  const { hidden, hiddenMax } = base;
  hiddenMax.fill(0);
  for (let n = 0; n < rows; n++) {
    const row = n * H;
    for (let j = 0; j < H; j++) hiddenMax[j] = Math.max(hiddenMax[j], Math.abs(hidden[row + j]));
  }
}

/**
 * Builds the per-batch cache serially: one forward pass, the input columns and
 * the series (every step over the whole batch). In `buffer` when given and
 * large enough (see {@link incrementalBaseBytes}), else in a new ArrayBuffer.
 */
export function prepareIncrementalBase(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: Int32Array, buffer?: ArrayBufferLike,
): IncrementalBase {
  checkArguments(params, shape, x, rows, labels);
  const bytes = incrementalBaseBytes(shape, rows);
  const base = incrementalBaseViews(buffer !== undefined && buffer.byteLength >= bytes ? buffer : new ArrayBuffer(bytes), shape, rows);
  startIncrementalBase(base, shape, rows);
  prepareBasePart(params, shape, x, rows, labels, base, 0, 1);
  finishIncrementalBase(base);
  return base;
}

/**
 * L = log1p(r) = log((p_t' + 1e-7)/(p_t + 1e-7)) (paths 2–3) for hidden unit j
 * of sample n moved by Δz, any size:
 * - τ = |Δz|·max|W2[j]| ≤ {@link MOMENT_SERIES_BOUND}: σ and Σ p_k(e_t − e_k)
 *   from the cached moment series, then log1p(r);
 * - τ ≤ 1: one expm1 per score (every 1 + e_k ≥ e⁻¹, no cancellation), log1p(r);
 * - beyond: 1 + r = ρ·p_t'/p_t + (1 − ρ), a sum of two positive terms, with
 *   p_t'/p_t = exp(t_t − m)/Σ_k p_k exp(t_k − m), m = max_k t_k (no overflow,
 *   and no cancellation when p_t' ≪ p_t, where r → −1).
 */
function hiddenLogRatio(base: IncrementalBase, params: Float64Array, w2: number, K: number, n: number, j: number, t: number, dz: number): number {
  if (dz === 0) return 0;
  const rho = base.labelWeight[n];
  const tau = Math.abs(dz) * base.outputWeightMax[j];
  const wOff = w2 + j * K;
  const pOff = n * K;
  const probs = base.probs;
  if (tau <= MOMENT_SERIES_BOUND) {
    const moments = base.moments;
    const Mm = MOMENT_SERIES_DEGREE;
    const o = (n * base.dims[1] + j) * 2 * Mm;
    let s = 0;
    let num = 0;
    for (let m = Mm - 1; m >= 0; m--) {
      s = dz * (moments[o + m] + s);
      num = dz * (moments[o + Mm + m] + num);
    }
    return log1pSmall(rho * num / (1 + s));
  }
  if (tau <= 1) {
    const et = Math.expm1(dz * params[wOff + t]);
    let s = 0;
    let num = 0;
    for (let k = 0; k < K; k++) {
      const pk = probs[pOff + k];
      const e = Math.expm1(dz * params[wOff + k]);
      s += pk * e;
      if (k !== t) num += pk * (et - e);
    }
    return log1pSmall(rho * num / (1 + s));
  }
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, dz * params[wOff + k]);
  let den = 0;
  for (let k = 0; k < K; k++) den += probs[pOff + k] * Math.exp(dz * params[wOff + k] - max);
  const ratio = Math.exp(dz * params[wOff + t] - max) / den;
  return Math.log(rho * ratio + base.labelSlack[n]);
}

/**
 * Δz of a sigmoid unit moved by δ, any size (paths 2–3). |δ| ≤ 1: the expm1
 * form (1 + (1−z)·expm1(−δ) ≥ e⁻¹, no cancellation); beyond, the difference of
 * the two sigmoids, taken between complements 1 − z when both sides are
 * positive (no cancellation near 1).
 */
function sigmoidDelta(base: IncrementalBase, nj: number, delta: number): number {
  const z = base.hidden[nj];
  const zc = base.hiddenComplement[nj];
  if (Math.abs(delta) <= 1) {
    const em = expm1Small(-delta);
    return -em * (z * zc) / (1 + zc * em);
  }
  const a = base.hiddenInput[nj];
  const s = a + delta;
  if (s > 0 && a > 0) return zc - 1 / (1 + Math.exp(s));
  return 1 / (1 + Math.exp(-s)) - z;
}

/** Δz = max(0, a + δ) − max(0, a), exactly. */
function reluDelta(a: number, delta: number): number {
  const s = a + delta;
  if (a > 0) return s > 0 ? delta : -a;
  return s > 0 ? s : 0;
}

/** D_n = l_n(+) − l_n(−) for hidden unit j of sample n, input value xv (paths 2–3). */
function hiddenTerm(
  base: IncrementalBase, params: Float64Array, w2: number, K: number, n: number, j: number, t: number,
  xv: number, dPlus: number, dMinus: number,
): number {
  const nj = n * base.dims[1] + j;
  const d1 = xv * dPlus;
  const d2 = xv * dMinus;
  let dz1: number;
  let dz2: number;
  if (base.dims[4] === 0) {
    dz1 = sigmoidDelta(base, nj, d1);
    dz2 = sigmoidDelta(base, nj, d2);
  } else {
    const a = base.hiddenInput[nj];
    dz1 = reluDelta(a, d1);
    dz2 = reluDelta(a, d2);
    if (dz1 === 0 && dz2 === 0) return 0;
  }
  return hiddenLogRatio(base, params, w2, K, n, j, t, dz2) - hiddenLogRatio(base, params, w2, K, n, j, t, dz1);
}

/** Δ_m = d₊^m − d₋^m, m = 1…6, factored so that no power cancels. */
function perturbationPowers(dp: number, dm: number, out: Float64Array, o: number): void {
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

/**
 * The hot loops (path 1), leaf functions over one column: for each unit
 * j0 ≤ j < j1 in a series mode, sums[j] = Σ over the column's samples of
 * D_n = Σ_m F_m x^m Δ_m, with F at FT[(j·N + n)·6 …] and Δ_m = P[j·6 + m − 1].
 * SERIES_ODD needs only F_1, F_3, F_5. The ReLU form leaves the samples with
 * the kink within reach (|a1| ≤ |x|·dmax) to the general pass and counts them
 * in kinks[j]; F = 0 for units inactive at the base, which then stay inactive
 * (Δz = 0), so the loop has no unpredictable branch.
 */
function seriesColumnSigmoid(
  FT: Float64Array, colRows: Int32Array, colValues: Float64Array, q0: number, q1: number, rows: number,
  j0: number, j1: number, mode: Uint8Array, P: Float64Array, sums: Float64Array,
): void {
  for (let j = j0; j < j1; j++) {
    const jRows = j * rows;
    const g = j * 6;
    let sum = 0;
    if (mode[j] === SERIES_ODD) {
      const P1 = P[g], P3 = P[g + 2], P5 = P[g + 4];
      for (let q = q0; q < q1; q++) {
        const x = colValues[q];
        const x2 = x * x;
        const f = (jRows + colRows[q]) * 6;
        sum += x * (FT[f] * P1 + x2 * (FT[f + 1] * P3 + x2 * (FT[f + 2] * P5)));
      }
    } else if (mode[j] === SERIES_FULL) {
      const P1 = P[g], P2 = P[g + 1], P3 = P[g + 2], P4 = P[g + 3], P5 = P[g + 4], P6 = P[g + 5];
      for (let q = q0; q < q1; q++) {
        const x = colValues[q];
        const f = (jRows + colRows[q]) * 6;
        sum += x * (FT[f] * P1 + x * (FT[f + 3] * P2 + x * (FT[f + 1] * P3 + x * (FT[f + 4] * P4 + x * (FT[f + 2] * P5 + x * (FT[f + 5] * P6))))));
      }
    }
    sums[j] = sum;
  }
}

function seriesColumnRelu(
  FT: Float64Array, AT: Float64Array, colRows: Int32Array, colValues: Float64Array, q0: number, q1: number, rows: number,
  j0: number, j1: number, mode: Uint8Array, P: Float64Array, dAbs: Float64Array, sums: Float64Array, kinks: Int32Array,
): void {
  for (let j = j0; j < j1; j++) {
    const jRows = j * rows;
    const g = j * 6;
    const dmax = dAbs[j];
    let sum = 0;
    let kink = 0;
    if (mode[j] === SERIES_ODD) {
      const P1 = P[g], P3 = P[g + 2], P5 = P[g + 4];
      for (let q = q0; q < q1; q++) {
        const x = colValues[q];
        const n = jRows + colRows[q];
        if (Math.abs(AT[n]) <= Math.abs(x) * dmax) {
          kink++;
          continue;
        }
        const x2 = x * x;
        const f = n * 6;
        sum += x * (FT[f] * P1 + x2 * (FT[f + 1] * P3 + x2 * (FT[f + 2] * P5)));
      }
    } else if (mode[j] === SERIES_FULL) {
      const P1 = P[g], P2 = P[g + 1], P3 = P[g + 2], P4 = P[g + 3], P5 = P[g + 4], P6 = P[g + 5];
      for (let q = q0; q < q1; q++) {
        const x = colValues[q];
        const n = jRows + colRows[q];
        if (Math.abs(AT[n]) <= Math.abs(x) * dmax) {
          kink++;
          continue;
        }
        const f = n * 6;
        sum += x * (FT[f] * P1 + x * (FT[f + 3] * P2 + x * (FT[f + 1] * P3 + x * (FT[f + 4] * P4 + x * (FT[f + 2] * P5 + x * (FT[f + 5] * P6))))));
      }
    }
    sums[j] = sum;
    kinks[j] = kink;
  }
}

/**
 * The mode of the hidden parameter (input column `col`, unit j) perturbed by
 * d₊ = dp, d₋ = dm; writes Δ_m = d₊^m − d₋^m into P[o…o+6).
 */
function hiddenMode(base: IncrementalBase, col: number, j: number, dp: number, dm: number, P: Float64Array, o: number): number {
  perturbationPowers(dp, dm, P, o);
  const xMax = base.colMaxAbs[col];
  const deltaMax = xMax * Math.max(Math.abs(dp), Math.abs(dm)) * (1 + 1e-15);
  const scale = deltaMax * base.outputWeightMax[j] * (base.dims[4] === 0 ? 0.25 : 1);
  return seriesMode(deltaMax, xMax, base.hiddenSeriesRadius[2 * j], base.hiddenSeriesRadius[2 * j + 1], scale, P, o);
}

/** The mode of an output parameter (W2[j][·], or b2 for j = −1); writes Δ_m into P. */
function outputMode(base: IncrementalBase, j: number, dp: number, dm: number, P: Float64Array): number {
  perturbationPowers(dp, dm, P, 0);
  const zMax = j >= 0 ? base.hiddenMax[j] : 1;
  const tMax = zMax * Math.max(Math.abs(dp), Math.abs(dm)) * (1 + 1e-15);
  return seriesMode(tMax, zMax, base.outputSeriesRadius[0], base.outputSeriesRadius[1], tMax, P, 0);
}

export type IncrementalPath = 'empty' | 'series-odd' | 'series-full' | 'general';

/**
 * How {@link incrementalGradientRange} evaluates parameter p (diagnostics and
 * tests): 'empty' (a W1 row whose input is 0 in every sample: exactly 0),
 * 'series-odd' / 'series-full' (the cached loss series, path 1, with the odd
 * terms only or all six), or 'general' (paths 2–3, per sample). For ReLU, the
 * samples whose kink is within reach of a series parameter still take the
 * general path.
 */
export function incrementalPath(params: Float64Array, shape: NetShape, base: IncrementalBase, p: number, h = DEFAULT_H): IncrementalPath {
  const layout = parameterLayout(shape);
  if (!(Number.isInteger(p) && p >= 0 && p < layout.size)) throw new RangeError(`Expected \`p\` to be an integer from 0 to ${layout.size - 1}, got ${p}`);
  const { inputSize: I, hiddenSize: H, outputSize: K } = shape;
  const w = params[p];
  const dp = (w + h) - w;
  const dm = (w - h) - w;
  const P = new Float64Array(LOSS_SERIES_DEGREE);
  let mode: number;
  if (p < layout.W2) {
    const col = p < layout.b1 ? Math.floor(p / H) : I;
    const j = p < layout.b1 ? p - col * H : p - layout.b1;
    if (base.colCount[col] === 0) return 'empty';
    mode = hiddenMode(base, col, j, dp, dm, P, 0);
  } else {
    mode = outputMode(base, p < layout.b2 ? Math.floor((p - layout.W2) / K) : -1, dp, dm, P);
  }
  return mode === SERIES_ODD ? 'series-odd' : mode === SERIES_FULL ? 'series-full' : 'general';
}

/** Per-call scratch of {@link hiddenColumn}, one slot per hidden unit. */
interface ColumnScratch {
  dPlus: Float64Array;
  dMinus: Float64Array;
  dAbs: Float64Array;
  /** Δ_m per unit, H × 6. */
  powers: Float64Array;
  mode: Uint8Array;
  sums: Float64Array;
  kinks: Int32Array;
  /** Δ_m of one output parameter, 6. */
  outputPowers: Float64Array;
}

function createColumnScratch(H: number): ColumnScratch {
  return {
    dPlus: new Float64Array(H), dMinus: new Float64Array(H), dAbs: new Float64Array(H),
    powers: new Float64Array(H * 6), mode: new Uint8Array(H), sums: new Float64Array(H), kinks: new Int32Array(H),
    outputPowers: new Float64Array(LOSS_SERIES_DEGREE),
  };
}

/**
 * This thread's column scratch for H units, reused from call to call: a
 * worker computes dozens of chunks per gradient, and fresh scratch for each
 * grew its young generation by tens of megabytes over a training run. Calls
 * on one thread never overlap, and every entry is written before it is read.
 */
let columnScratchCache: ColumnScratch | undefined;
function columnScratch(H: number): ColumnScratch {
  if (columnScratchCache === undefined || columnScratchCache.dPlus.length !== H) columnScratchCache = createColumnScratch(H);
  return columnScratchCache;
}

/**
 * Σ_n D_n over the samples of input column `col` for hidden units j0 ≤ j < j1,
 * the parameters at paramOffset + j (a row of W1, or b1 for the bias column),
 * into out[paramOffset + j]. Per unit, the loss series (path 1) is summed
 * first where it fits; then the terms it left are added in sample order:
 * every sample of a unit whose series does not fit, and ReLU samples with the
 * kink within reach (paths 2–3). This depends only on the parameter and the
 * sample, never on j0, j1.
 */
function hiddenColumn(
  params: Float64Array, base: IncrementalBase, w2: number, labels: Int32Array, col: number,
  paramOffset: number, j0: number, j1: number, h: number, out: Float64Array, scratch: ColumnScratch,
): void {
  const K = base.dims[2];
  const rows = base.dims[3];
  const sigmoid = base.dims[4] === 0;
  const { colCount, colRows, colValues, hiddenInputByUnit: AT } = base;
  const { dPlus, dMinus, dAbs, powers, mode, sums, kinks } = scratch;
  const q0 = col * rows;
  const q1 = q0 + colCount[col];
  if (q0 === q1) {
    for (let j = j0; j < j1; j++) out[paramOffset + j] = 0;
    return;
  }
  for (let j = j0; j < j1; j++) {
    const w = params[paramOffset + j];
    const dp = (w + h) - w;
    const dm = (w - h) - w;
    dPlus[j] = dp;
    dMinus[j] = dm;
    dAbs[j] = Math.max(Math.abs(dp), Math.abs(dm));
    mode[j] = hiddenMode(base, col, j, dp, dm, powers, j * 6);
    kinks[j] = 0;
  }
  if (sigmoid) seriesColumnSigmoid(base.hiddenSeries, colRows, colValues, q0, q1, rows, j0, j1, mode, powers, sums);
  else seriesColumnRelu(base.hiddenSeries, AT, colRows, colValues, q0, q1, rows, j0, j1, mode, powers, dAbs, sums, kinks);
  for (let j = j0; j < j1; j++) {
    let sum = sums[j];
    if (mode[j] === GENERAL || kinks[j] !== 0) {
      const series = mode[j] !== GENERAL;
      for (let q = q0; q < q1; q++) {
        const n = colRows[q];
        const xv = colValues[q];
        // A ReLU series unit leaves only the samples with the kink within reach.
        if (series && !(Math.abs(AT[j * rows + n]) <= Math.abs(xv) * dAbs[j])) continue;
        sum += hiddenTerm(base, params, w2, K, n, j, labels[n], xv, dPlus[j], dMinus[j]);
      }
    }
    out[paramOffset + j] = sum / rows / (2 * h);
  }
}

/** Σ_{m≠k} p_m: 1 − p_k without cancellation. */
function probsExcept(probs: Float64Array, pOff: number, K: number, k: number): number {
  let rest = 0;
  for (let m = 0; m < K; m++) if (m !== k) rest += probs[pOff + m];
  return rest;
}

/**
 * L = log((p_t' + 1e-7)/(p_t + 1e-7)) (paths 2–3) when only score k of a sample
 * moves, by t (W2[j][k]: t = z·d; b2[k]: t = d). With e = expm1(t),
 * (p_t' − p_t)/p_t is e(1 − p_k)/(1 + p_k e) if k is the label, −p_k e/(1 + p_k e)
 * otherwise: the form used for |t| ≤ 1. Beyond, 1 + r = ρ·p_t'/p_t + (1 − ρ)
 * with p_t'/p_t = e^t/((1 − p_k) + p_k e^t) (label) or 1/((1 − p_k) + p_k e^t),
 * scaled by e^−t for t > 0. `rest` is 1 − p_k when k is the label (cached), else
 * ignored; `slack` = 1 − ρ.
 */
function outputLogRatio(
  probs: Float64Array, K: number, pOff: number, k: number, isLabel: boolean, rest: number, rho: number, slack: number, t: number,
): number {
  if (t === 0) return 0;
  const pk = probs[pOff + k];
  if (Math.abs(t) <= 1) {
    const e = expm1Small(t);
    const num = isLabel ? e * rest : -pk * e;
    return log1pSmall(rho * num / (1 + pk * e));
  }
  const q = isLabel ? rest : probsExcept(probs, pOff, K, k);
  let ratio: number;
  if (t > 0) {
    const scaled = Math.exp(-t);
    ratio = (isLabel ? 1 : scaled) / (q * scaled + pk);
  } else {
    const e = Math.exp(t);
    ratio = (isLabel ? e : 1) / (q + pk * e);
  }
  return Math.log(rho * ratio + slack);
}

/**
 * Writes out[p] for p in [start, end): the book's central difference
 * (L(θ + d₊e_p) − L(θ + d₋e_p)) / (2h), d± = fl(θ_p ± h) − θ_p, recomputing
 * only what p changes from `base` (which must come from
 * {@link prepareIncrementalBase} with the same params, shape, x, rows, labels).
 * `params` is only read. `out` is the full-length gradient; only
 * out[start..end) is written.
 */
export function incrementalGradientRange(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: Int32Array,
  base: IncrementalBase, start: number, end: number, out: Float64Array, h = DEFAULT_H,
): void {
  const size = checkArguments(params, shape, x, rows, labels);
  const { inputSize: I, hiddenSize: H, outputSize: K } = shape;
  const dims = base.dims;
  if (dims[0] !== I || dims[1] !== H || dims[2] !== K || dims[3] !== rows || dims[4] !== activationCode(shape)) {
    throw new RangeError(`Expected \`base\` to be prepared for ${I}-${H}-${K} ${shape.activation} over ${rows} rows, got ${Array.from(dims).join(',')}`);
  }
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= size)) {
    throw new RangeError(`Expected 0 ≤ start ≤ end ≤ ${size}, got [${start}, ${end})`);
  }
  if (out.length !== size) throw new RangeError(`Expected \`out\` to have ${size} values, got ${out.length}`);
  if (!(h > 0 && h < Infinity)) throw new RangeError(`Expected \`h\` to be a finite number greater than 0, got ${h}`);
  const layout = parameterLayout(shape);
  const M = LOSS_SERIES_DEGREE;
  const scratch = columnScratch(H);
  const powers = scratch.outputPowers;

  // W1: row i of W1 is input column i, parameters i·H … i·H + H.
  const w1End = Math.min(end, layout.b1);
  for (let p = start; p < w1End;) {
    const i = Math.floor(p / H);
    const j0 = p - i * H;
    const j1 = Math.min(H, w1End - i * H);
    hiddenColumn(params, base, layout.W2, labels, i, layout.W1 + i * H, j0, j1, h, out, scratch);
    p = i * H + j1;
  }
  // b1: the bias column.
  const b1Start = Math.max(start, layout.b1);
  const b1End = Math.min(end, layout.W2);
  if (b1Start < b1End) {
    hiddenColumn(params, base, layout.W2, labels, I, layout.b1, b1Start - layout.b1, b1End - layout.b1, h, out, scratch);
  }
  // W2 and b2: one score moves, by t = z·d (b2: z = 1).
  const { probs, hidden, labelWeight, labelSlack, labelComplement, outputSeries: G } = base;
  for (let p = Math.max(start, layout.W2); p < end; p++) {
    const isW2 = p < layout.b2;
    const j = isW2 ? Math.floor((p - layout.W2) / K) : -1;
    const k = isW2 ? p - layout.W2 - j * K : p - layout.b2;
    const w = params[p];
    const dp = (w + h) - w;
    const dm = (w - h) - w;
    const mode = outputMode(base, j, dp, dm, powers);
    let sum = 0;
    if (mode !== GENERAL) {
      const P1 = powers[0], P2 = powers[1], P3 = powers[2], P4 = powers[3], P5 = powers[4], P6 = powers[5];
      const odd = mode === SERIES_ODD;
      for (let n = 0; n < rows; n++) {
        const z = isW2 ? hidden[n * H + j] : 1;
        if (z === 0) continue;
        const g = (n * K + k) * M;
        if (odd) {
          const z2 = z * z;
          sum += z * (G[g] * P1 + z2 * (G[g + 1] * P3 + z2 * (G[g + 2] * P5)));
        } else {
          sum += z * (G[g] * P1 + z * (G[g + 3] * P2 + z * (G[g + 1] * P3 + z * (G[g + 4] * P4 + z * (G[g + 2] * P5 + z * (G[g + 5] * P6))))));
        }
      }
    } else {
      for (let n = 0; n < rows; n++) {
        const z = isW2 ? hidden[n * H + j] : 1;
        if (z === 0) continue;
        const pOff = n * K;
        const isLabel = labels[n] === k;
        const rest = isLabel ? labelComplement[n] : 0;
        const rho = labelWeight[n];
        const slack = labelSlack[n];
        sum += outputLogRatio(probs, K, pOff, k, isLabel, rest, rho, slack, z * dm)
          - outputLogRatio(probs, K, pOff, k, isLabel, rest, rho, slack, z * dp);
      }
    }
    out[p] = sum / rows / (2 * h);
  }
}
