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
import { hiddenTerm, outputLogRatio } from './exact-paths.js';
import { kinkWithinReach, seriesColumnRelu, seriesColumnSigmoid } from './hot-loops.js';
import * as seriesModule from './series.js';

// Module constants rather than imported bindings, for what runs per parameter
// or per sample (README.md, "Performance notes").
const { DIM_OUTPUT_SIZE, DIM_ROWS, checkBase, isSigmoid } = layoutModule;
const { GENERAL, LOSS_SERIES_DEGREE, SERIES_FULL, SERIES_ODD, perturbationPowers, seriesMode } = seriesModule;

/**
 * The mode of the hidden parameter (input column `col`, unit j) perturbed by
 * d₊ = dp, d₋ = dm; writes Δ_m = d₊^m − d₋^m into P[o…o+6).
 */
function hiddenMode(base: IncrementalBase, col: number, j: number, dp: number, dm: number, P: Float64Array, o: number): number {
  perturbationPowers(dp, dm, P, o);
  const xMax = base.colMaxAbs[col];
  const deltaMax = xMax * Math.max(Math.abs(dp), Math.abs(dm)) * (1 + 1e-15);
  // The first-order scale of the change: max |σ'| is 1/4, ReLU's slope 1.
  const scale = deltaMax * base.outputWeightMax[j] * (isSigmoid(base) ? 0.25 : 1);
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
  const K = base.dims[DIM_OUTPUT_SIZE];
  const rows = base.dims[DIM_ROWS];
  const sigmoid = isSigmoid(base);
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
  // Local constants for the calls per sample (README.md, "Performance notes").
  const nearKink = kinkWithinReach;
  const term = hiddenTerm;
  for (let j = j0; j < j1; j++) {
    let sum = sums[j];
    if (mode[j] === GENERAL || kinks[j] !== 0) {
      const series = mode[j] !== GENERAL;
      for (let q = q0; q < q1; q++) {
        const n = colRows[q];
        const xv = colValues[q];
        // A ReLU series unit leaves only the samples with the kink within reach.
        if (series && !nearKink(AT[j * rows + n], xv, dAbs[j])) continue;
        sum += term(base, params, w2, K, n, j, labels[n], xv, dPlus[j], dMinus[j]);
      }
    }
    out[paramOffset + j] = sum / rows / (2 * h);
  }
}

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
