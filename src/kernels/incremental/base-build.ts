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
import * as seriesModule from './series.js';

// Module constants rather than imported bindings, for what runs per (sample,
// unit) (README.md, "Performance notes").
const {
  INVERSE_FACTORIAL, LOSS_SERIES_DEGREE, MOMENT_SERIES_DEGREE, SERIES_SLOT,
  hiddenSeriesRadius, negLog1pRatioSeries, outputSeriesRadius,
} = seriesModule;

const OUTPUT_SERIES = outputSeriesRadius();
const THIRD = 1 / 3;
const FIFTH = 1 / 5;
const SIXTH = 1 / 6;

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
  series: { A: Float64Array; B: Float64Array; quotient: Float64Array; phi: Float64Array };
  /** w^m/m! of the W2 entries, H·K × 6. */
  powers: Float64Array;
}

/**
 * This thread's scratch for {@link prepareBaseSamples}, reused from call to
 * call (fresh scratch per piece is garbage for the young generation); calls on
 * one thread never overlap, and entries are written before they are read.
 */
let sampleScratchCache: SampleScratch | undefined;
function sampleScratch(rowLength: number, scores: number, weights: number): SampleScratch {
  const cached = sampleScratchCache;
  if (cached !== undefined && cached.sparse.idx.length >= rowLength && cached.scores.length >= scores && cached.powers.length >= 6 * weights) return cached;
  const series = () => new Float64Array(7);
  sampleScratchCache = {
    sparse: createSparseRowScratch(rowLength),
    scores: new Float64Array(scores),
    series: { A: series(), B: series(), quotient: series(), phi: series() },
    powers: new Float64Array(6 * weights),
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
  const { hiddenInput, hidden, hiddenComplement, probs, labelWeight, labelSlack, labelComplement, moments, hiddenSeries, oddSeries, outputSeries } = base;
  const scratch = sampleScratch(Math.max(I, H), (n1 - n0) * K, H * K);
  forward(params, shape, x.subarray(n0 * I, n1 * I), n1 - n0, {
    hiddenInput: hiddenInput.subarray(n0 * H, n1 * H),
    hidden: hidden.subarray(n0 * H, n1 * H),
    scores: scratch.scores.subarray(0, (n1 - n0) * K),
    probs: probs.subarray(n0 * K, n1 * K),
  }, scratch.sparse);
  const M = LOSS_SERIES_DEGREE;
  const Mm = MOMENT_SERIES_DEGREE;
  const NH = rows * H;

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
  const { A, B, quotient, phi } = scratch.series;
  // The powers w^m/m! of every W2 entry, at ((j·K + k)·6 + m − 1).
  const powers = scratch.powers;
  const W2 = layout.W2;
  for (let jk = 0; jk < H * K; jk++) {
    const w1 = params[W2 + jk];
    const w2 = w1 * w1, w3 = w2 * w1, w4 = w3 * w1, w5 = w4 * w1, w6 = w5 * w1;
    const o = jk * 6;
    powers[o] = w1; powers[o + 1] = w2 / 2; powers[o + 2] = w3 / 6; powers[o + 3] = w4 / 24; powers[o + 4] = w5 / 120; powers[o + 5] = w6 / 720;
  }

  for (let n = n0; n < n1; n++) {
    const t = labels[n];
    const pOff = n * K;
    const rho = labelWeight[n];
    const pt = probs[pOff + t];
    const rest = labelComplement[n];
    for (let j = 0; j < H; j++) {
      const nj = n * H + j;
      // C_m = Σ_{k≠t} p_k w_k^m/m!; A_m = Σ_k p_k w_k^m/m! = C_m + p_t w_t^m/m!,
      // B_m = Σ_{k≠t} p_k (w_t^m − w_k^m)/m! = (1 − p_t)·w_t^m/m! − C_m
      // (1 − p_t as Σ_{k≠t} p_k: neither subtraction cancels more than the sum itself).
      const wj = j * K * 6;
      let c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0;
      for (let k = 0; k < K; k++) {
        if (k === t) continue;
        const pk = probs[pOff + k];
        const o = wj + k * 6;
        c1 += pk * powers[o]; c2 += pk * powers[o + 1]; c3 += pk * powers[o + 2];
        c4 += pk * powers[o + 3]; c5 += pk * powers[o + 4]; c6 += pk * powers[o + 5];
      }
      const ot = wj + t * 6;
      const t1 = powers[ot], t2 = powers[ot + 1], t3 = powers[ot + 2], t4 = powers[ot + 3], t5 = powers[ot + 4], t6 = powers[ot + 5];
      const a1 = c1 + pt * t1, a2 = c2 + pt * t2, a3 = c3 + pt * t3, a4 = c4 + pt * t4, a5 = c5 + pt * t5;
      const b1 = rest * t1 - c1, b2 = rest * t2 - c2, b3 = rest * t3 - c3, b4 = rest * t4 - c4, b5 = rest * t5 - c5, b6 = rest * t6 - c6;
      const mo = nj * 2 * Mm;
      moments[mo] = a1; moments[mo + 1] = a2; moments[mo + 2] = a3; moments[mo + 3] = a4; moments[mo + 4] = a5;
      moments[mo + 5] = b1; moments[mo + 6] = b2; moments[mo + 7] = b3; moments[mo + 8] = b4; moments[mo + 9] = b5;
      // φ(Δz) = −log1p(ρ·N(Δz)/(1 + S(Δz))), N = Σ B_m Δz^m, S = Σ A_m Δz^m
      // (negLog1pRatioSeries written out, the same arithmetic; S's sixth
      // coefficient does not reach degree 6).
      const q1 = rho * b1;
      const q2 = rho * b2 - q1 * a1;
      const q3 = rho * b3 - q1 * a2 - q2 * a1;
      const q4 = rho * b4 - q1 * a3 - q2 * a2 - q3 * a1;
      const q5 = rho * b5 - q1 * a4 - q2 * a3 - q3 * a2 - q4 * a1;
      const q6 = rho * b6 - q1 * a5 - q2 * a4 - q3 * a3 - q4 * a2 - q5 * a1;
      // compose6(q, −log1p's coefficients −1, 1/2, −1/3, 1/4, −1/5, 1/6).
      const q11 = q1 * q1, q111 = q11 * q1, q1111 = q111 * q1;
      const f1 = -q1;
      const f2 = -q2 + 0.5 * q11;
      const f3 = -q3 + 0.5 * 2 * q1 * q2 - THIRD * q111;
      const f4 = -q4 + 0.5 * (2 * q1 * q3 + q2 * q2) - THIRD * 3 * q11 * q2 + 0.25 * q1111;
      const f5 = -q5 + 0.5 * 2 * (q1 * q4 + q2 * q3) - THIRD * (3 * q11 * q3 + 3 * q1 * q2 * q2) + 0.25 * 4 * q111 * q2 - FIFTH * q1111 * q1;
      const f6 = -q6 + 0.5 * (2 * (q1 * q5 + q2 * q4) + q3 * q3) - THIRD * (3 * q11 * q4 + 6 * q1 * q2 * q3 + q2 * q2 * q2)
        + 0.25 * (4 * q111 * q3 + 6 * q11 * q2 * q2) - FIFTH * 5 * q1111 * q2 + SIXTH * q1111 * q11;
      const o = (j * rows + n) * M;
      let F1: number, F2: number, F3: number, F4: number, F5: number, F6: number;
      if (sigmoid) {
        // Δz(δ) = Σ_m σ⁽ᵐ⁾(a)/m! δ^m, the logistic's derivatives as polynomials
        // in u = z(1 − z) and y = 1 − 2z = (1 − z) − z; then F = φ∘Δz
        // (compose6(Δz, φ) written out).
        const z = hidden[nj];
        const zc = hiddenComplement[nj];
        const u = z * zc;
        const y = zc - z;
        const uu = u * u;
        const s1 = u;
        const s2 = u * y / 2;
        const s3 = u * (1 - 6 * u) / 6;
        const s4 = u * y * (1 - 12 * u) / 24;
        const s5 = u * (1 - 30 * u + 120 * uu) / 120;
        const s6 = u * y * (1 - 60 * u + 360 * uu) / 720;
        const s11 = s1 * s1, s111 = s11 * s1, s1111 = s111 * s1;
        F1 = f1 * s1;
        F2 = f1 * s2 + f2 * s11;
        F3 = f1 * s3 + f2 * 2 * s1 * s2 + f3 * s111;
        F4 = f1 * s4 + f2 * (2 * s1 * s3 + s2 * s2) + f3 * 3 * s11 * s2 + f4 * s1111;
        F5 = f1 * s5 + f2 * 2 * (s1 * s4 + s2 * s3) + f3 * (3 * s11 * s3 + 3 * s1 * s2 * s2) + f4 * 4 * s111 * s2 + f5 * s1111 * s1;
        F6 = f1 * s6 + f2 * (2 * (s1 * s5 + s2 * s4) + s3 * s3) + f3 * (3 * s11 * s4 + 6 * s1 * s2 * s3 + s2 * s2 * s2)
          + f4 * (4 * s111 * s3 + 6 * s11 * s2 * s2) + f5 * 5 * s1111 * s2 + f6 * s1111 * s11;
      } else if (hiddenInput[nj] > 0) {
        // ReLU, active: Δz = δ, F = φ.
        F1 = f1; F2 = f2; F3 = f3; F4 = f4; F5 = f5; F6 = f6;
      } else {
        // An inactive unit (a1 ≤ 0) stays inactive unless its kink is within
        // reach, which the kernel sends to the general path: F = 0.
        F1 = 0; F2 = 0; F3 = 0; F4 = 0; F5 = 0; F6 = 0;
      }
      // The record, F_1, F_3, F_5, F_2, F_4, F_6 (SERIES_SLOT), and the odd planes.
      hiddenSeries[o] = F1; hiddenSeries[o + 1] = F3; hiddenSeries[o + 2] = F5;
      hiddenSeries[o + 3] = F2; hiddenSeries[o + 4] = F4; hiddenSeries[o + 5] = F6;
      oddSeries[nj] = F1;
      oddSeries[NH + nj] = F3;
      oddSeries[2 * NH + nj] = F5;
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

/**
 * Step 3, after every sample of step 2: per unit max_n |z1[n][j]|, the
 * largest |F_5| and, for ReLU, min_n |a1[n][j]| (maxima and a minimum: the
 * same whatever the order).
 */
export function finishIncrementalBase(base: IncrementalBase): void {
  const H = base.dims[DIM_HIDDEN_SIZE];
  const rows = base.dims[DIM_ROWS];
  const { hidden, hiddenMax, hiddenInput, oddSeries, fifthMax, kinkDistance } = base;
  const fifth = 2 * rows * H;
  // Unit by unit in locals rather than row by row through the arrays: 40 % less time (10 instead of
  // 17 µs at 100 × 50), on the path of every call since one worker finishes the base while the others wait.
  // A maximum is exact in any order, so the values are the same.
  for (let j = 0; j < H; j++) {
    let hiddenAbs = 0;
    let fifthAbs = 0;
    for (let at = j, end = rows * H; at < end; at += H) {
      hiddenAbs = Math.max(hiddenAbs, Math.abs(hidden[at]));
      fifthAbs = Math.max(fifthAbs, Math.abs(oddSeries[fifth + at]));
    }
    hiddenMax[j] = hiddenAbs;
    fifthMax[j] = fifthAbs;
  }
  if (kinkDistance.length === 0) return; // sigmoid
  kinkDistance.fill(Infinity);
  for (let n = 0; n < rows; n++) {
    const row = n * H;
    for (let j = 0; j < H; j++) kinkDistance[j] = Math.min(kinkDistance[j], Math.abs(hiddenInput[row + j]));
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
