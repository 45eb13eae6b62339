/**
 * The layout of the incremental kernel's per-batch base in one buffer: its
 * arrays, how they are carved, and the check that a base fits a shape (see
 * README.md, "The base").
 */
import type { NetShape } from '../two-layer.js';
import { LOSS_SERIES_DEGREE, MOMENT_SERIES_DEGREE } from './series.js';

/** Slots of {@link IncrementalBase.dims}. */
export const DIM_INPUT_SIZE = 0;
export const DIM_HIDDEN_SIZE = 1;
export const DIM_OUTPUT_SIZE = 2;
export const DIM_ROWS = 3;
export const DIM_ACTIVATION = 4;
const DIM_COUNT = 5;

/** Values of dims[DIM_ACTIVATION]. */
export const ACTIVATION_SIGMOID = 0;
export const ACTIVATION_RELU = 1;

/**
 * The per-batch cache of the incremental kernel, built from a base forward
 * pass, serially or in pieces by several workers: the same bytes either way.
 * Only typed arrays, views of one buffer (see {@link incrementalBaseViews}),
 * so it lives in shared memory. N = rows, I = inputSize, H = hiddenSize,
 * K = outputSize, M = {@link LOSS_SERIES_DEGREE}, Mm = {@link MOMENT_SERIES_DEGREE};
 * matrices are row-major.
 */
export interface IncrementalBase {
  /** inputSize, hiddenSize, outputSize, rows, activation, at DIM_INPUT_SIZE … DIM_ACTIVATION. */
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
   * Per (j, n) (unit-major), at (j·N + n)·6: Taylor coefficients of
   * f(δ) = l_n(a1[n][j] + δ) − l_n in δ (path 1), in the order F_1, F_3, F_5,
   * F_2, F_4, F_6 (odd ones first). For ReLU they are the coefficients of an
   * active unit away from its kink (Δz = δ), and 0 for an inactive one.
   */
  hiddenSeries: Float64Array;
  /**
   * F_1, F_3, F_5 of hiddenSeries again, in three planes of N × H
   * (sample-major, like a1, so that the hot loop reads a sample's units
   * contiguously): F_m of (n, j) at s·N·H + n·H + j, s = 0, 1, 2 for m = 1, 3, 5.
   */
  oddSeries: Float64Array;
  /** ReLU only: min_n |a1[n][j]|, H: no kink is within reach of a move by at most this. */
  kinkDistance: Float64Array;
  /** max_n |F_5| of the loss series of unit j, H (see seriesMode). */
  fifthMax: Float64Array;
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

/** The dims[DIM_ACTIVATION] of a base for `shape`. */
export function activationCode(shape: NetShape): number {
  return shape.activation === 'relu' ? ACTIVATION_RELU : ACTIVATION_SIGMOID;
}

/** Whether `base` was built for a sigmoid net. */
export function isSigmoid(base: IncrementalBase): boolean {
  return base.dims[DIM_ACTIVATION] === ACTIVATION_SIGMOID;
}

/**
 * Carves the base's arrays from `buffer`, or only measures them (buffer
 * undefined), in a fixed order that depends only on (shape, rows): Float64
 * sections first, so every section is aligned.
 */
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
    hiddenSeries: f64(NH * M), oddSeries: f64(NH * 3), kinkDistance: f64(sigmoid ? 0 : H), fifthMax: f64(H), hiddenSeriesRadius: f64(2 * H),
    outputSeries: f64(rows * K * M), outputSeriesRadius: f64(2), moments: f64(NH * 2 * Mm),
    colValues: f64((I + 1) * rows), colMaxAbs: f64(I + 1),
  };
  const i = { dims: i32(DIM_COUNT), colCount: i32(I + 1), colRows: i32((I + 1) * rows) };
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

/** Throws unless `base` was started for `shape` over `rows` samples (a base of another batch would give a wrong gradient, silently). */
export function checkBase(base: IncrementalBase, shape: NetShape, rows: number): void {
  const dims = base.dims;
  if (dims[DIM_INPUT_SIZE] !== shape.inputSize || dims[DIM_HIDDEN_SIZE] !== shape.hiddenSize || dims[DIM_OUTPUT_SIZE] !== shape.outputSize
    || dims[DIM_ROWS] !== rows || dims[DIM_ACTIVATION] !== activationCode(shape)) {
    throw new RangeError(`Expected \`base\` to be prepared for ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} ${shape.activation} over ${rows} rows, got ${Array.from(dims).join(',')}`);
  }
}
