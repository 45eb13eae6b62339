/**
 * The book's activation and loss functions (chapter 3–4), as pure functions over
 * numbers and Float64Arrays. The row kernels (`softmaxRow`, `sigmoidScalar`, …)
 * are what the nets and the worker kernels call in their hot loops, so every
 * path computes the same floating-point operations in the same order.
 */
import { type BatchInput, type FlatMatrix, type TargetInput, toFlatMatrix, toLabels } from './batch.js';
import { expectationError } from './validate.js';

/** Added inside the log of the cross-entropy, as in the book's code, so log(0) is finite. */
export const CROSS_ENTROPY_DELTA = 1e-7;

/**
 * 1 / (1 + exp(−x)), the book's formula. In IEEE doubles it cannot produce NaN:
 * exp(−x) overflows to Infinity for x < −709 and the result is exactly 0.
 */
export function sigmoidScalar(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function reluScalar(x: number): number {
  return x > 0 ? x : 0;
}

/**
 * Applies a scalar activation element by element, with the shapes of
 * {@link softmax}: a number gives a number, a 1-D array a Float64Array, a batch a
 * {@link FlatMatrix}. NaN and ±Infinity are refused like everywhere else (relu
 * would turn NaN into 0 silently).
 */
function elementwise(x: number | BatchInput | NumericTypedArray, scalar: (value: number) => number): number | Float64Array | FlatMatrix {
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) throw new RangeError(expectationError('x', 'a finite number', x));
    return scalar(x);
  }
  if (typeof x !== 'object' || x === null) {
    throw new TypeError(expectationError('x', 'a number, an array or typed array, number[][], an ml-matrix Matrix or { data, rows, columns }', x));
  }
  // Other typed arrays (Float32Array, Uint8Array pixels, …) are 1-D inputs too.
  const input: BatchInput = ArrayBuffer.isView(x) && !(x instanceof Float64Array) ? Float64Array.from(x as NumericTypedArray) : x as BatchInput;
  const flat = toFlatMatrix(input, 'x');
  const data = new Float64Array(flat.data.length);
  for (let i = 0; i < data.length; i++) data[i] = scalar(flat.data[i]);
  return isOneDimensional(input) ? data : { data, rows: flat.rows, columns: flat.columns };
}

/** Typed arrays of numbers other than Float64Array (e.g. Uint8Array pixels): 1-D inputs of {@link sigmoid} and {@link relu}. */
export type NumericTypedArray = Float32Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

function isOneDimensional(x: BatchInput): x is number[] | Float64Array {
  return x instanceof Float64Array || (Array.isArray(x) && !Array.isArray(x[0]));
}

/** Element-wise sigmoid of a number, a 1-D array (gives a Float64Array) or a batch (gives a {@link FlatMatrix}). */
export function sigmoid(x: number): number;
export function sigmoid(x: number[] | Float64Array | NumericTypedArray): Float64Array;
export function sigmoid(x: BatchInput): FlatMatrix;
export function sigmoid(x: number | BatchInput | NumericTypedArray): number | Float64Array | FlatMatrix {
  return elementwise(x, sigmoidScalar);
}

/** Element-wise max(0, x), with the shapes of {@link sigmoid}. */
export function relu(x: number): number;
export function relu(x: number[] | Float64Array | NumericTypedArray): Float64Array;
export function relu(x: BatchInput): FlatMatrix;
export function relu(x: number | BatchInput | NumericTypedArray): number | Float64Array | FlatMatrix {
  return elementwise(x, reluScalar);
}

/**
 * Softmax of `length` values starting at `from[fromOffset]`, written to
 * `to[toOffset…]`. Subtracts the maximum first (the book's overflow guard).
 */
export function softmaxRow(from: ArrayLike<number>, fromOffset: number, to: Float64Array, toOffset: number, length: number): void {
  let max = from[fromOffset];
  for (let k = 1; k < length; k++) if (from[fromOffset + k] > max) max = from[fromOffset + k];
  let sum = 0;
  for (let k = 0; k < length; k++) {
    const e = Math.exp(from[fromOffset + k] - max);
    to[toOffset + k] = e;
    sum += e;
  }
  for (let k = 0; k < length; k++) to[toOffset + k] = to[toOffset + k] / sum;
}

/**
 * Softmax. A 1-D input (number[] or Float64Array) gives a Float64Array; a batch
 * (number[][], ml-matrix, or `{ data, rows, columns }`) is normalised row by row
 * and gives a {@link FlatMatrix}.
 */
export function softmax(a: number[] | Float64Array): Float64Array;
export function softmax(a: BatchInput): FlatMatrix;
export function softmax(a: BatchInput): Float64Array | FlatMatrix {
  const flat = toFlatMatrix(a, 'a');
  const data = new Float64Array(flat.data.length);
  for (let r = 0; r < flat.rows; r++) softmaxRow(flat.data, r * flat.columns, data, r * flat.columns, flat.columns);
  return isOneDimensional(a) ? data : { data, rows: flat.rows, columns: flat.columns };
}

/**
 * Sum of −log(y[n, label_n] + 1e-7) over the batch, in row order. Callers divide
 * by the batch size, negated, exactly as the book's code does.
 */
export function sumLogLikelihood(y: ArrayLike<number>, labels: ArrayLike<number>, rows: number, classes: number): number {
  let sum = 0;
  for (let n = 0; n < rows; n++) sum += Math.log(y[n * classes + labels[n]] + CROSS_ENTROPY_DELTA);
  return sum;
}

/**
 * The book's mini-batch cross-entropy error: the mean over the batch of
 * −log(y[n, t_n] + 1e-7). `t` may be one-hot (same shape as `y`, exactly one 1
 * and zeros elsewhere in every row) or integer labels; a 1-D `y` is a batch of
 * one. Every element of `y` must be in [0, 1]; rows need not sum to 1, as in the
 * book.
 */
export function crossEntropyError(y: BatchInput, t: TargetInput): number {
  const probs = toFlatMatrix(y, 'y');
  const labels = toLabels(t, probs.rows, probs.columns, 't');
  const { data, rows, columns } = probs;
  for (let n = 0; n < rows; n++) {
    // log(y + 1e-7) is NaN below −1e-7: y must be probabilities, as softmax gives.
    // Checked before the rest of y because it is the value the loss reads.
    const p = data[n * columns + labels[n]];
    if (p < 0) {
      throw new RangeError(`Expected \`y\` to be probabilities (0 and up), got \`${p}\` at row ${n}, column ${labels[n]} (the target class)`);
    }
  }
  // The loss reads only the target's probability, but a value above 1 there makes
  // it negative, and one outside [0, 1] anywhere means `y` is not probabilities
  // (scores passed instead of softmax(scores)) and the loss means nothing.
  for (let i = 0; i < data.length; i++) {
    const p = data[i];
    if (!(p >= 0 && p <= 1)) {
      const n = Math.floor(i / columns);
      const c = i - n * columns;
      const target = c === labels[n] ? ' (the target class)' : '';
      throw new RangeError(`Expected \`y\` to be probabilities (from 0 to 1), got \`${String(p)}\` at row ${n}, column ${c}${target}`);
    }
  }
  return -sumLogLikelihood(data, labels, rows, columns) / rows;
}

/**
 * 0.5 · Σ (y − t)² over all elements, with no division by the batch size (the
 * book's errata name it `sum_squared_error`).
 */
export function sumSquaredError(y: ArrayLike<number> | BatchInput, t: ArrayLike<number> | BatchInput): number {
  const yFlat = toFlatMatrix(y as BatchInput, 'y');
  const tFlat = toFlatMatrix(t as BatchInput, 't');
  if (yFlat.rows !== tFlat.rows || yFlat.columns !== tFlat.columns) {
    throw new RangeError(`Expected \`t\` to have the shape of \`y\` (${yFlat.rows} × ${yFlat.columns}), got ${tFlat.rows} × ${tFlat.columns}`);
  }
  let sum = 0;
  for (let i = 0; i < yFlat.data.length; i++) {
    const d = yFlat.data[i] - tFlat.data[i];
    sum += d * d;
  }
  return 0.5 * sum;
}

/**
 * The study memo's name for {@link sumSquaredError}: the same function,
 * 0.5 · Σ (y − t)², not a mean despite the name.
 */
export const meanSquaredError = sumSquaredError;
