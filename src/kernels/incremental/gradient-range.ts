/**
 * The incremental kernel's driver: the gradient over a parameter range, each
 * parameter by the cheapest evaluation path its error bound allows (see
 * README.md). Each out[p] depends only on (params, batch, base, p, h), so any
 * split of the parameters gives the same bits.
 */
import { DEFAULT_H } from '../../numerical.js';
import { checkBatch, checkGradientRange } from '../check-batch.js';
import { type NetShape, parameterLayout } from '../two-layer.js';
import type { IncrementalBase } from './base-layout.js';
import * as layoutModule from './base-layout.js';
import { hiddenTerm } from './exact-paths.js';
import { anyKinkWithinReach, kinkWithinReach, seriesProduct, unitSeriesSum } from './hot-loops.js';
import { type OutputScratch, createOutputScratch, outputMode, outputRow } from './output-params.js';
import * as seriesModule from './series.js';

// Module constants rather than imported bindings, for what runs per parameter
// or per sample (README.md, "Performance notes").
const { DIM_HIDDEN_SIZE, DIM_OUTPUT_SIZE, DIM_ROWS, checkBase, isSigmoid } = layoutModule;
const { GENERAL, LOSS_SERIES_DEGREE, SERIES_FULL, SERIES_ODD, SERIES_ODD3, SERIES_TOLERANCE, perturbationPowers, seriesMode } = seriesModule;

/**
 * {@link seriesMode} of a hidden parameter with d₊ + d₋ = 0, written out: its
 * even Δ_m are 0, and so is seriesMode's bound on the even terms (the same
 * arithmetic otherwise). `fifth` is seriesMode's fifth-degree term,
 * 1.01·fifthMax·xMax⁵·|Δ_5|.
 */
function symmetricMode(deltaMax: number, inverse: number, bound: number, scale: number, fifth: number): number {
  if (bound === 0) return SERIES_ODD3;
  const q = deltaMax * inverse;
  if (!(q < 0.5)) return GENERAL;
  const budget = SERIES_TOLERANCE * scale;
  const q2 = q * q;
  const tail = 4 * bound * q2 * q2 * q2 * q;
  if (!(tail <= budget)) return GENERAL;
  return tail + fifth <= budget ? SERIES_ODD3 : SERIES_ODD;
}

/**
 * The modes of the hidden parameters at paramOffset + j, j0 ≤ j < j1 (a row
 * of W1 for input column `col`, or b1 for the bias column), perturbed by
 * d± = fl(θ ± h) − θ: writes d₊, d₋, max|d±|, Δ_m = d₊^m − d₋^m (at j·6) and
 * the mode into the scratch, per unit. While d₊ + d₋ = 0 (nearly always)
 * the even Δ_m are 0, only the odd ones are computed (by perturbationPowers'
 * expressions) and the mode is {@link symmetricMode}'s. incrementalPath uses
 * it, and the kernel's fast path in {@link hiddenColumn} does the same
 * arithmetic, so they agree.
 */
function hiddenModes(
  params: Float64Array, base: IncrementalBase, col: number, paramOffset: number, j0: number, j1: number, h: number, scratch: ColumnScratch,
): void {
  const { dPlus, dMinus, dAbs, powers: P, mode, unitInverse } = scratch;
  const { outputWeightMax, hiddenSeriesRadius: radii, fifthMax } = base;
  const xMax = base.colMaxAbs[col];
  const x2 = xMax * xMax;
  const x5 = x2 * x2 * xMax;
  // The first-order scale of the change: max |σ'| is 1/4, ReLU's slope 1.
  const slope = isSigmoid(base) ? 0.25 : 1;
  for (let j = j0; j < j1; j++) {
    const w = params[paramOffset + j];
    const dp = (w + h) - w;
    const dm = (w - h) - w;
    const dmax = Math.max(Math.abs(dp), Math.abs(dm));
    dPlus[j] = dp;
    dMinus[j] = dm;
    dAbs[j] = dmax;
    const g = j * 6;
    const deltaMax = xMax * dmax * (1 + 1e-15);
    const scale = deltaMax * outputWeightMax[j] * slope;
    const bound = radii[2 * j + 1];
    if (dp + dm !== 0) {
      perturbationPowers(dp, dm, P, g);
      mode[j] = seriesMode(deltaMax, xMax, unitInverse[j], bound, scale, P, g, fifthMax[j]);
      continue;
    }
    const diff = dp - dm;
    const p2 = dp * dp;
    const m2 = dm * dm;
    const delta5 = diff * (p2 * p2 + p2 * dp * dm + p2 * m2 + dp * dm * m2 + m2 * m2);
    P[g] = diff;
    P[g + 1] = 0;
    P[g + 2] = diff * (p2 + dp * dm + m2);
    P[g + 3] = 0;
    P[g + 4] = delta5;
    P[g + 5] = 0;
    mode[j] = symmetricMode(deltaMax, unitInverse[j], bound, scale, 1.01 * fifthMax[j] * x5 * Math.abs(delta5));
  }
}

/** 1/R_j per unit into scratch.unitInverse, for {@link hiddenModes}. */
function unitInverses(base: IncrementalBase, H: number, scratch: ColumnScratch): void {
  for (let j = 0; j < H; j++) scratch.unitInverse[j] = 1 / base.hiddenSeriesRadius[2 * j];
}

export type IncrementalPath = 'empty' | 'series-odd' | 'series-full' | 'general';

/**
 * How {@link incrementalGradientRange} evaluates parameter p (diagnostics and
 * tests): 'empty' (a W1 row whose input is 0 in every sample: exactly 0),
 * 'series-odd' / 'series-full' (the cached loss series, path 1, with the odd
 * terms only — F_1, F_3, F_5, or F_1, F_3 where the fifth-degree term fits the
 * budget too — or all six), or 'general' (paths 2–3, per sample). For ReLU, the
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
  let mode: number;
  if (p < layout.W2) {
    const col = p < layout.b1 ? Math.floor(p / H) : I;
    const j = p < layout.b1 ? p - col * H : p - layout.b1;
    if (base.colCount[col] === 0) return 'empty';
    const scratch = createColumnScratch(H, 1);
    unitInverses(base, H, scratch);
    hiddenModes(params, base, col, p - j, j, j + 1, h, scratch);
    mode = scratch.mode[j];
  } else {
    mode = outputMode(base, p < layout.b2 ? Math.floor((p - layout.W2) / K) : -1, dp, dm, new Float64Array(LOSS_SERIES_DEGREE), 0);
  }
  return mode === SERIES_ODD || mode === SERIES_ODD3 ? 'series-odd' : mode === SERIES_FULL ? 'series-full' : 'general';
}

/** Per-call scratch of {@link hiddenColumn}: one slot per hidden unit, or per sample of the column. */
interface ColumnScratch {
  dPlus: Float64Array;
  dMinus: Float64Array;
  dAbs: Float64Array;
  /** Δ_m per unit, H × 6. */
  powers: Float64Array;
  mode: Uint8Array;
  /** The odd sums S_1, S_3, S_5 per unit, 3 × H. */
  sums: Float64Array;
  /** Per sample of the column: n·H, and x, x³, x⁵. */
  rowStart: Int32Array;
  x1: Float64Array;
  x3: Float64Array;
  x5: Float64Array;
  /** The scratch of outputRow. */
  output: OutputScratch;
  /** 1/R_j per unit (R_j the Cauchy radius of its loss series). */
  unitInverse: Float64Array;
}

function createColumnScratch(H: number, rows: number): ColumnScratch {
  return {
    dPlus: new Float64Array(H), dMinus: new Float64Array(H), dAbs: new Float64Array(H),
    powers: new Float64Array(H * 6), mode: new Uint8Array(H), sums: new Float64Array(3 * H),
    rowStart: new Int32Array(rows), x1: new Float64Array(rows), x3: new Float64Array(rows), x5: new Float64Array(rows),
    output: createOutputScratch(), unitInverse: new Float64Array(H),
  };
}

/**
 * This thread's column scratch for H units and `rows` samples, reused from
 * call to call: a worker computes dozens of chunks per gradient, and fresh
 * scratch for each grew its young generation by tens of megabytes over a
 * training run. Calls on one thread never overlap, and every entry is written
 * before it is read.
 */
let columnScratchCache: ColumnScratch | undefined;
function columnScratch(H: number, rows: number): ColumnScratch {
  const cached = columnScratchCache;
  if (cached !== undefined && cached.dPlus.length === H && cached.rowStart.length >= rows) return cached;
  columnScratchCache = createColumnScratch(H, rows);
  return columnScratchCache;
}

/**
 * Σ_n D_n over the samples of input column `col` for hidden units j0 ≤ j < j1,
 * the parameters at paramOffset + j (a row of W1, or b1 for the bias column),
 * into out[paramOffset + j]:
 * - SERIES_ODD3 and SERIES_ODD (nearly every parameter): Δ_1·S_1 + Δ_3·S_3
 *   (+ Δ_5·S_5) from the column's odd sums S_m = Σ_n F_m[n][j]·x^m
 *   (`seriesProduct`: S_1 and S_3 of every unit, S_5 of a unit that needs
 *   it), unless it is a ReLU unit with a sample's kink within reach;
 * - otherwise the unit alone: its series terms in sample order (all six for
 *   SERIES_FULL; none for GENERAL), then, in sample order, the terms the
 *   series left to paths 2–3 (every sample for GENERAL, the ReLU samples with
 *   the kink within reach).
 * The common case, d₊ + d₋ = 0 and no kink, is decided and written in one
 * pass (the arithmetic of {@link hiddenModes}); the rest go through
 * hiddenModes. Which applies, and every sum, depends only on the parameter
 * and the batch, never on j0, j1.
 */
function hiddenColumn(
  params: Float64Array, base: IncrementalBase, w2: number, labels: Int32Array, col: number,
  paramOffset: number, j0: number, j1: number, h: number, out: Float64Array, scratch: ColumnScratch,
): void {
  const H = base.dims[DIM_HIDDEN_SIZE];
  const K = base.dims[DIM_OUTPUT_SIZE];
  const rows = base.dims[DIM_ROWS];
  const NH = rows * H;
  const { colCount, colRows, colValues, oddSeries: F, hiddenSeries: FT, kinkDistance, outputWeightMax, hiddenSeriesRadius: radii, fifthMax } = base;
  const relu = !isSigmoid(base);
  const A = relu ? base.hiddenInput : EMPTY;
  const { dPlus, dMinus, dAbs, powers, mode, sums, rowStart, x1, x3, x5, unitInverse } = scratch;
  const q0 = col * rows;
  const count = colCount[col];
  const q1 = q0 + count;
  if (count === 0) {
    for (let j = j0; j < j1; j++) out[paramOffset + j] = 0;
    return;
  }
  for (let c = 0; c < count; c++) {
    const x = colValues[q0 + c];
    rowStart[c] = colRows[q0 + c] * H;
    x1[c] = x;
    x3[c] = x * (x * x);
  }
  // S_1 and S_3 of every unit; x⁵ and S_5 when a unit needs them.
  const product = seriesProduct;
  product(F, 0, rowStart, x1, count, j0, j1, sums, 0);
  product(F, NH, rowStart, x3, count, j0, j1, sums, H);
  let fifthReady = false;
  const xMax = base.colMaxAbs[col];
  const xMax2 = xMax * xMax;
  const xMax5 = xMax2 * xMax2 * xMax;
  const slope = relu ? 1 : 0.25;
  const symmetric = symmetricMode;
  const modes = hiddenModes;
  const anyKink = anyKinkWithinReach;
  const unitSum = unitSeriesSum;
  const nearKink = kinkWithinReach;
  const term = hiddenTerm;
  for (let j = j0; j < j1; j++) {
    const w = params[paramOffset + j];
    const dp = (w + h) - w;
    const dm = (w - h) - w;
    const dmax = Math.max(Math.abs(dp), Math.abs(dm));
    // ReLU: min_n |a1| above the largest move rules out every kink at once (rounding is monotonic).
    const farFromKinks = !relu || kinkDistance[j] > xMax * dmax;
    let unitMode: number;
    let delta1: number, delta3: number, delta5: number;
    let kinks = false;
    if (dp + dm === 0 && farFromKinks) {
      // The fast path: hiddenModes' arithmetic for d₊ + d₋ = 0.
      const diff = dp - dm;
      const p2 = dp * dp;
      const m2 = dm * dm;
      delta1 = diff;
      delta3 = diff * (p2 + dp * dm + m2);
      delta5 = diff * (p2 * p2 + p2 * dp * dm + p2 * m2 + dp * dm * m2 + m2 * m2);
      const deltaMax = xMax * dmax * (1 + 1e-15);
      const scale = deltaMax * outputWeightMax[j] * slope;
      unitMode = symmetric(deltaMax, unitInverse[j], radii[2 * j + 1], scale, 1.01 * fifthMax[j] * xMax5 * Math.abs(delta5));
    } else {
      modes(params, base, col, paramOffset, j, j + 1, h, scratch);
      unitMode = mode[j];
      const g = j * 6;
      delta1 = powers[g];
      delta3 = powers[g + 2];
      delta5 = powers[g + 4];
      kinks = !farFromKinks && unitMode !== GENERAL && anyKink(A, colRows, colValues, q0, q1, H, j, dmax);
    }
    if (unitMode === SERIES_ODD3 && !kinks) {
      out[paramOffset + j] = (sums[j] * delta1 + sums[H + j] * delta3) / rows / (2 * h);
      continue;
    }
    if (unitMode === SERIES_ODD && !kinks) {
      if (!fifthReady) {
        for (let c = 0; c < count; c++) x5[c] = x3[c] * (x1[c] * x1[c]);
        fifthReady = true;
      }
      product(F, 2 * NH, rowStart, x5, count, j, j + 1, sums, 2 * H);
      out[paramOffset + j] = (sums[j] * delta1 + sums[H + j] * delta3 + sums[2 * H + j] * delta5) / rows / (2 * h);
      continue;
    }
    // The rest (rare): the unit alone, from hiddenModes' scratch.
    if (dp + dm === 0 && farFromKinks) modes(params, base, col, paramOffset, j, j + 1, h, scratch);
    // (SERIES_ODD3 near a kink sums F_5 too: more terms never hurt.)
    let sum = unitMode === GENERAL ? 0 : unitSum(FT, rows, H, A, colRows, colValues, q0, q1, j, unitMode === SERIES_FULL, powers, j * 6, dAbs[j]);
    if (unitMode === GENERAL || kinks) {
      for (let q = q0; q < q1; q++) {
        const n = colRows[q];
        const xv = colValues[q];
        // A ReLU series unit leaves only the samples with the kink within reach.
        if (unitMode !== GENERAL && !nearKink(A[n * H + j], xv, dAbs[j])) continue;
        sum += term(base, params, w2, K, n, j, labels[n], xv, dPlus[j], dMinus[j]);
      }
    }
    out[paramOffset + j] = sum / rows / (2 * h);
  }
}

const EMPTY = new Float64Array(0);

/**
 * Writes out[p] for p in [start, end): the book's central difference
 * (L(θ + d₊e_p) − L(θ + d₋e_p)) / (2h), d± = fl(θ_p ± h) − θ_p, recomputing
 * only what p changes from `base` (which must be built from the same params,
 * shape, x, rows, labels, e.g. by prepareIncrementalBase).
 * `params` is only read. `out` is the full-length gradient; only
 * out[start..end) is written.
 */
export function incrementalGradientRange(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: Int32Array,
  base: IncrementalBase, start: number, end: number, out: Float64Array, h = DEFAULT_H,
): void {
  const size = checkBatch(params, shape, x, rows, labels);
  checkBase(base, shape, rows);
  checkGradientRange(start, end, out, size);
  if (!(h > 0 && h < Infinity)) throw new RangeError(`Expected \`h\` to be a finite number greater than 0, got ${h}`);
  const { inputSize: I, hiddenSize: H, outputSize: K } = shape;
  const layout = parameterLayout(shape);
  const scratch = columnScratch(H, rows);
  unitInverses(base, H, scratch);

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
  // W2 and b2, row by row: one score moves, by t = z·d (b2: z = 1).
  const outputScratch = scratch.output;
  for (let p = Math.max(start, layout.W2); p < end;) {
    const isW2 = p < layout.b2;
    const j = isW2 ? Math.floor((p - layout.W2) / K) : -1;
    const rowStart = isW2 ? layout.W2 + j * K : layout.b2;
    const k1 = Math.min(K, end - rowStart);
    outputRow(params, base, labels, j, rowStart, p - rowStart, k1, h, out, outputScratch);
    p = rowStart + k1;
  }
}
