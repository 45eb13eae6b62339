/**
 * Building the incremental kernel's base: step 1 (start), the three kinds of
 * step-2 pieces (samples, input columns, hidden units), step 3 (finish), and
 * all of them serially. The pieces may run in any split and order, on any
 * threads, and give the same bytes (see README.md, "The base").
 */
import { CROSS_ENTROPY_DELTA } from '../../functions.js';
import { checkBatch, checkParameters, checkRange, checkSamples } from '../check-batch.js';
import { type NetShape, type SparseRowScratch, createSparseRowScratch, forward, parameterLayout } from '../two-layer.js';
import {
  DIM_ACTIVATION, DIM_HIDDEN_SIZE, DIM_INPUT_SIZE, DIM_OUTPUT_SIZE, DIM_ROWS, type IncrementalBase,
  activationCode, checkBase, incrementalBaseBytes, incrementalBaseViews,
} from './base-layout.js';
import {
  INVERSE_FACTORIAL, LOSS_SERIES_DEGREE, MOMENT_SERIES_DEGREE, RECIPROCAL, SERIES_SLOT,
  compose6, hiddenSeriesRadius, negLog1pRatioSeries, outputSeriesRadius,
} from './series.js';

const OUTPUT_SERIES = outputSeriesRadius();

/**
 * Step 1 of building a base in `base` (views from {@link incrementalBaseViews}
 * for the same shape and rows): its dims and constants.
 */
export function startIncrementalBase(base: IncrementalBase, shape: NetShape, rows: number): void {
  if (base.colCount.length !== shape.inputSize + 1 || base.colRows.length !== (shape.inputSize + 1) * rows) {
    throw new RangeError(`Expected \`base\` to be views for ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} over ${rows} rows`);
  }
  const dims = base.dims;
  dims[DIM_INPUT_SIZE] = shape.inputSize;
  dims[DIM_HIDDEN_SIZE] = shape.hiddenSize;
  dims[DIM_OUTPUT_SIZE] = shape.outputSize;
  dims[DIM_ROWS] = rows;
  dims[DIM_ACTIVATION] = activationCode(shape);
  base.outputSeriesRadius.set(OUTPUT_SERIES);
}

interface SampleScratch {
  sparse: SparseRowScratch;
  scores: Float64Array;
  series: { A: Float64Array; B: Float64Array; quotient: Float64Array; phi: Float64Array; v: Float64Array; dz: Float64Array; F: Float64Array };
}

/**
 * This thread's scratch for {@link prepareBaseSamples}, reused from call to
 * call (fresh scratch per piece is garbage for the young generation); calls on
 * one thread never overlap, and entries are written before they are read.
 */
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
  checkBatch(params, shape, x, rows, labels);
  checkBase(base, shape, rows);
  checkRange(n0, n1, rows, 'samples');
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
  checkSamples(shape, x, rows);
  checkRange(c0, c1, I + 1, 'columns');
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
  checkParameters(params, shape);
  checkBase(base, shape, base.dims[DIM_ROWS]);
  checkRange(j0, j1, H, 'units');
  const W2 = parameterLayout(shape).W2;
  const sigmoid = shape.activation === 'sigmoid';
  const { outputWeightMax, hiddenSeriesRadius: radii } = base;
  for (let j = j0; j < j1; j++) {
    let m = 0;
    for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(params[W2 + j * K + k]));
    outputWeightMax[j] = m;
    const [radius, bound] = hiddenSeriesRadius(m, sigmoid);
    radii[2 * j] = radius;
    radii[2 * j + 1] = bound;
  }
}

/** Step 3, after every sample of step 2: max_n |z1[n][j]| per unit (a max: the same whatever the order). */
export function finishIncrementalBase(base: IncrementalBase): void {
  const H = base.dims[DIM_HIDDEN_SIZE];
  const rows = base.dims[DIM_ROWS];
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
  checkBatch(params, shape, x, rows, labels);
  const bytes = incrementalBaseBytes(shape, rows);
  const base = incrementalBaseViews(buffer !== undefined && buffer.byteLength >= bytes ? buffer : new ArrayBuffer(bytes), shape, rows);
  startIncrementalBase(base, shape, rows);
  prepareBaseSamples(params, shape, x, rows, labels, base, 0, rows);
  prepareBaseColumns(shape, x, rows, base, 0, shape.inputSize + 1);
  prepareBaseUnits(params, shape, base, 0, shape.hiddenSize);
  finishIncrementalBase(base);
  return base;
}
