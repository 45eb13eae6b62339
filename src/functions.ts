/**
 * The book's activation and loss functions (chapter 3–4), as pure functions over
 * numbers and Float64Arrays. Each function returns the shape it was given: a
 * number for a number, a Float64Array for a 1-D array (number[] or any typed
 * array), `number[][]` for `number[][]`, an ml-matrix `Matrix` for an ml-matrix,
 * `{ data, rows, columns }` for `{ data, rows, columns }`. The row kernels
 * (`softmaxRow`, `sigmoidScalar`, …) are what the nets and the worker kernels
 * call in their hot loops, so every path computes the same floating-point
 * operations in the same order.
 */
import type { AbstractMatrix, Matrix } from 'ml-matrix';
import {
  type BatchInput, type BatchOutput, type FlatMatrix, type TargetInput, type VectorInput,
  shapeLike, toFlatMatrixOfAny, toLabels,
} from './batch.js';
import { ArgumentRangeError, ArgumentTypeError } from './errors.js';
import { expectationError } from './validate.js';

/** Typed arrays other than Float64Array, 1-D inputs of these functions (defined in batch.ts with the other input types). */
export type { NumericTypedArray } from './batch.js';

/** Added inside the log of the cross-entropy, as in the book's code, so log(0) is finite: 1e-7. */
export const CROSS_ENTROPY_DELTA = 1e-7;

/**
 * 1 / (1 + exp(−x)), the book's formula, for one number and without checks (the
 * hot loops' kernel; {@link sigmoid} is the checked public form). In IEEE
 * doubles it cannot produce NaN from a finite x: exp(−x) overflows to Infinity
 * for x < −709 and the result is exactly 0.
 *
 * @param x - A number.
 * @returns sigmoid(x), in [0, 1].
 */
export function sigmoidScalar(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * max(0, x) for one number and without checks (the hot loops' kernel;
 * {@link relu} is the checked public form).
 *
 * @param x - A number.
 * @returns x if it is greater than 0, else 0.
 */
export function reluScalar(x: number): number {
  return x > 0 ? x : 0;
}

/**
 * Applies a scalar activation element by element and returns the input's
 * shape. NaN and ±Infinity are refused like everywhere else (relu would turn
 * NaN into 0 silently).
 */
function elementwise(x: number | VectorInput | BatchInput, scalar: (value: number) => number): number | BatchOutput {
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) throw new ArgumentRangeError(expectationError('x', 'a finite number', x));
    return scalar(x);
  }
  if (typeof x !== 'object' || x === null) {
    throw new ArgumentTypeError(expectationError('x', 'a number, an array or typed array, number[][], an ml-matrix Matrix or { data, rows, columns }', x));
  }
  const flat = toFlatMatrixOfAny(x, 'x');
  const data = new Float64Array(flat.data.length);
  for (let i = 0; i < data.length; i++) data[i] = scalar(flat.data[i]);
  return shapeLike(x, { data, rows: flat.rows, columns: flat.columns });
}

/**
 * The book's sigmoid, 1 / (1 + exp(−x)), element by element. Returns the shape
 * it was given, always a new value (the input is not modified).
 *
 * @param x - A number, a 1-D array (number[], Float64Array or another typed array), `number[][]`, an ml-matrix, or `{ data, rows, columns }`.
 * @returns A number for a number, a Float64Array for a 1-D array, `number[][]` for `number[][]`, a `Matrix` for an ml-matrix, `{ data, rows, columns }` for `{ data, rows, columns }`.
 * @throws {TypeError} ``Expected `x` to be a number, an array or typed array, …, got `"a"` (string)`` for another kind of value; ``Expected `x` to contain only numbers, got … at row 1, column 1`` for a non-number element.
 * @throws {RangeError} ``Expected `x` to contain only finite numbers, got `NaN` at index 1`` (``Expected `x` to be a finite number, got `Infinity` (number)`` for a number); also for ragged rows or an empty input.
 * @example
 * sigmoid(0);                // 0.5
 * sigmoid([-1, 1, 2]);       // Float64Array [0.2689414213699951, 0.7310585786300049, 0.8807970779778823]
 * sigmoid([[0], [2]]);       // [[0.5], [0.8807970779778823]]
 */
export function sigmoid(x: number): number;
export function sigmoid(x: VectorInput): Float64Array;
export function sigmoid(x: number[][]): number[][];
export function sigmoid(x: AbstractMatrix): Matrix;
export function sigmoid(x: FlatMatrix): FlatMatrix;
export function sigmoid(x: VectorInput | BatchInput): BatchOutput;
export function sigmoid(x: number | VectorInput | BatchInput): number | BatchOutput {
  return elementwise(x, sigmoidScalar);
}

/**
 * The book's ReLU, max(0, x), element by element, with the shapes of {@link sigmoid}.
 *
 * @param x - A number, a 1-D array (number[], Float64Array or another typed array), `number[][]`, an ml-matrix, or `{ data, rows, columns }`.
 * @returns A number for a number, a Float64Array for a 1-D array, `number[][]` for `number[][]`, a `Matrix` for an ml-matrix, `{ data, rows, columns }` for `{ data, rows, columns }`.
 * @throws {TypeError} for another kind of value or a non-number element, as {@link sigmoid}.
 * @throws {RangeError} ``Expected `x` to contain only finite numbers, got `NaN` at index 1`` for NaN or ±Infinity, which max(0, NaN) would turn into 0 silently; also for ragged rows or an empty input.
 * @example
 * relu(-2);                  // 0
 * relu(Int8Array.of(-3, 5)); // Float64Array [0, 5]
 */
export function relu(x: number): number;
export function relu(x: VectorInput): Float64Array;
export function relu(x: number[][]): number[][];
export function relu(x: AbstractMatrix): Matrix;
export function relu(x: FlatMatrix): FlatMatrix;
export function relu(x: VectorInput | BatchInput): BatchOutput;
export function relu(x: number | VectorInput | BatchInput): number | BatchOutput {
  return elementwise(x, reluScalar);
}

/**
 * Softmax of `length` values starting at `from[fromOffset]`, written to
 * `to[toOffset…]`, without checks (the hot loops' kernel; {@link softmax} is the
 * checked public form). Subtracts the maximum first (the book's overflow guard).
 *
 * @param from - The scores.
 * @param fromOffset - Index of the row's first score in `from`.
 * @param to - Where the probabilities go (may be `from` itself).
 * @param toOffset - Index of the row's first probability in `to`.
 * @param length - The row's length.
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
 * The book's softmax, which subtracts the maximum before exp (its overflow
 * guard). A 1-D input is one row; a batch is normalised row by row. Returns the
 * shape it was given.
 *
 * @param a - A 1-D array (number[], Float64Array or another typed array), `number[][]`, an ml-matrix, or `{ data, rows, columns }`.
 * @returns A Float64Array for a 1-D array, `number[][]` for `number[][]`, a `Matrix` for an ml-matrix, `{ data, rows, columns }` for `{ data, rows, columns }`; every row sums to 1.
 * @throws {TypeError} ``Expected `a` to be number[][], an ml-matrix Matrix, a Float64Array or { data: Float64Array, rows, columns }, got …`` for another kind of value; ``Expected `a` to contain only numbers, got …`` for a non-number element.
 * @throws {RangeError} ``Expected `a` to contain only finite numbers, got `NaN` at index 1``; ``Expected every row of `a` to have 2 columns like row 0, got …``; ``Expected `a` to be a non-empty batch, got 1 × 0``.
 * @example
 * softmax([0.3, 2.9, 4.0]);       // Float64Array [0.01821127329554753, 0.24519181293507386, 0.7365969137693786]
 * softmax([[0, 0], [1010, 990]]); // [[0.5, 0.5], [0.9999999979388463, 2.0611536181902033e-9]]
 */
export function softmax(a: VectorInput): Float64Array;
export function softmax(a: number[][]): number[][];
export function softmax(a: AbstractMatrix): Matrix;
export function softmax(a: FlatMatrix): FlatMatrix;
export function softmax(a: VectorInput | BatchInput): BatchOutput;
export function softmax(a: VectorInput | BatchInput): BatchOutput {
  const flat = toFlatMatrixOfAny(a, 'a');
  const data = new Float64Array(flat.data.length);
  for (let r = 0; r < flat.rows; r++) softmaxRow(flat.data, r * flat.columns, data, r * flat.columns, flat.columns);
  return shapeLike(a, { data, rows: flat.rows, columns: flat.columns });
}

/**
 * Sum of log(y[n, label_n] + 1e-7) over the batch, in row order, without checks
 * (the kernels' form of {@link crossEntropyError}). Callers divide by the batch
 * size, negated, exactly as the book's code does.
 *
 * @param y - Probabilities, rows × classes, row-major.
 * @param labels - One label per row, each from 0 to classes − 1.
 * @param rows - The number of rows.
 * @param classes - The number of columns of `y`.
 * @returns Σₙ log(y[n, labelₙ] + 1e-7), a number ≤ 0 for probabilities.
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
 *
 * @param y - Probabilities: a 1-D array (number[], Float64Array or another typed array), `number[][]`, an ml-matrix, or `{ data, rows, columns }`.
 * @param t - One-hot rows in any of those shapes, integer labels (any array or typed array), or one label for a 1-D `y`.
 * @returns The mean loss, a number ≥ 0.
 * @throws {TypeError} for another kind of `y` or `t`, or a non-number element: ``Expected `t` to be labels or one-hot rows (or one label), got …``.
 * @throws {RangeError} ``Expected `y` to be probabilities (from 0 to 1), got `2` at row 0, column 1 (the target class)``; ``Expected `t` labels to be integers from 0 to 9, got `10` at index 0``; ``Expected one-hot `t`: row 0 has exactly one 1 and zeros elsewhere, got `0.5` at column 1``; ``Expected `t` to have 2 labels (one per row of the batch) or 2 × 10 one-hot values, got 3 values``; and for NaN or ±Infinity.
 * @example
 * crossEntropyError([0.1, 0.05, 0.6, 0, 0.05, 0.1, 0, 0.1, 0, 0], 2); // 0.510825457099338 = −log(0.6 + 1e-7)
 */
export function crossEntropyError(y: VectorInput | BatchInput, t: TargetInput): number {
  const probs = toFlatMatrixOfAny(y, 'y');
  const labels = toLabels(t, probs.rows, probs.columns, 't');
  const { data, rows, columns } = probs;
  for (let n = 0; n < rows; n++) {
    // log(y + 1e-7) is NaN below −1e-7: y must be probabilities, as softmax gives.
    // Checked before the rest of y because it is the value the loss reads.
    const p = data[n * columns + labels[n]];
    if (p < 0) {
      throw new ArgumentRangeError(`Expected \`y\` to be probabilities (0 and up), got \`${p}\` at row ${n}, column ${labels[n]} (the target class)`);
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
      throw new ArgumentRangeError(`Expected \`y\` to be probabilities (from 0 to 1), got \`${String(p)}\` at row ${n}, column ${c}${target}`);
    }
  }
  return -sumLogLikelihood(data, labels, rows, columns) / rows;
}

/**
 * 0.5 · Σ (y − t)² over all elements, with no division by the batch size (the
 * book's errata name it `sum_squared_error`), summed left to right.
 *
 * @param y - Outputs: a 1-D array (number[], Float64Array or another typed array), `number[][]`, an ml-matrix, or `{ data, rows, columns }`.
 * @param t - Targets of the same shape (rows × columns) as `y`, in any of those forms.
 * @returns The sum, a number ≥ 0.
 * @throws {TypeError} for another kind of value or a non-number element, as {@link softmax} (naming `y` or `t`).
 * @throws {RangeError} ``Expected `t` to have the shape of `y` (1 × 2), got 1 × 3``; and for NaN or ±Infinity, ragged rows or an empty input, as {@link softmax}.
 * @example
 * sumSquaredError([0.1, 0.05, 0.6, 0, 0.05, 0.1, 0, 0.1, 0, 0], [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]); // 0.09750000000000003
 */
export function sumSquaredError(y: VectorInput | BatchInput, t: VectorInput | BatchInput): number {
  const yFlat = toFlatMatrixOfAny(y, 'y');
  const tFlat = toFlatMatrixOfAny(t, 't');
  if (yFlat.rows !== tFlat.rows || yFlat.columns !== tFlat.columns) {
    throw new ArgumentRangeError(`Expected \`t\` to have the shape of \`y\` (${yFlat.rows} × ${yFlat.columns}), got ${tFlat.rows} × ${tFlat.columns}`);
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
 *
 * @example
 * meanSquaredError([3], [1]); // 2 = 0.5 · (3 − 1)²
 */
export const meanSquaredError = sumSquaredError;
