/** The book's simpleNet (chapter 4): one 2 × 3 weight matrix, softmax and cross-entropy, for the numerical gradient by hand. */
import type { AbstractMatrix, Matrix } from 'ml-matrix';
import { type BatchInput, type BatchOutput, type FlatMatrix, type TargetInput, shapeLike, toFlatMatrix } from '../batch.js';
import { crossEntropyError, softmax } from '../functions.js';
import { numericalGradient, DEFAULT_H } from '../numerical.js';
import { Random } from '../random.js';
import { ArgumentRangeError, ArgumentTypeError } from '../errors.js';
import { assertAllFinite, assertKnownKeys, assertOptionsObject, describe } from '../validate.js';

/**
 * A gradient of {@link SimpleNet}, laid out like its parameters and like a
 * TwoLayerNet's `NetGradient`: `flat` holds every value, `W` is a view into it.
 */
export interface SimpleNetGradient {
  /** All 6 values, in the order of `net.params`. */
  flat: Float64Array;
  /** dL/dW, 2 × 3 row-major: a view into `flat`. */
  W: Float64Array;
}

/**
 * The book's `simpleNet`: a single 2×3 weight matrix, predict = x·W,
 * loss = cross-entropy of softmax(x·W). `W` is row-major and can be set.
 *
 * @example
 * const net = new SimpleNet({ W: [[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]] });
 * net.predict([0.6, 0.9]);                        // Float64Array [1.054148091, 0.630716529, 1.132807401]
 * net.predict([[0.6, 0.9], [0, 0]]);              // [[1.054148091, 0.630716529, 1.132807401], [0, 0, 0]]
 * net.loss([0.6, 0.9], [0, 0, 1]);                // 0.9280682857864075
 * net.numericalGradient([0.6, 0.9], [0, 0, 1]).W; // Float64Array [0.2192…, 0.1435…, −0.3628…, 0.3288…, 0.2153…, −0.5442…]
 */
export class SimpleNet {
  /** Inputs per sample: 2. */
  static readonly inputSize = 2;
  /** Classes: 3. */
  static readonly outputSize = 3;
  /** The weights, 2×3 row-major. */
  readonly W = new Float64Array(6);
  /** All parameters, as in TwoLayerNet: the same array as `W` (the net has no other). */
  readonly params: Float64Array = this.W;

  /**
   * @param options - `seed` (default 0) draws W from a standard normal, as the book's `np.random.randn(2, 3)`; `W` sets it instead (2 × 3, or 6 values row-major).
   * @throws {ArgumentTypeError} ``Expected `options` to be an object such as { seed: 0 } or { W: [[…], […]] }, got `null` ``; ``Expected `W` to be 2 × 3 (or 6 values row-major), got `5` (number)``.
   * @throws {ArgumentRangeError} ``Expected `options` of SimpleNet to have only the keys `seed`, `W`, got the key `w` ``; ``Expected `W` to be 2 × 3 (or 6 values row-major), got an array of length 1``; NaN or ±Infinity in `W` or a bad `seed`: ``Expected `seed` to be an integer from 0 to 4294967295, got `-1` (number)``.
   */
  constructor(options: {
    /**
     * Seed of the standard normal weights, an integer from 0 to 2³² − 1; ignored when `W` is given.
     *
     * @default 0
     */
    seed?: number;
    /**
     * The weights: 2 × 3 rows, or 6 values row-major (to reproduce the weights the book prints).
     *
     * @default `undefined`: drawn from `seed`
     */
    W?: number[][] | ArrayLike<number>;
  } = {}) {
    assertOptionsObject('options', options, '{ seed: 0 } or { W: [[…], […]] }');
    assertKnownKeys('options', options, ['seed', 'W'], 'SimpleNet');
    const { seed = 0, W } = options;
    if (W === undefined) new Random(seed).fillNormal(this.W);
    else this.setW(W);
  }

  /**
   * Replaces the weights.
   *
   * @param W - 2 × 3 rows, or 6 values row-major (any array or typed array).
   * @throws {TypeError} ``Expected `W` to be 2 × 3 (or 6 values row-major), got `5` (number)``.
   * @throws {RangeError} ``Expected `W` to be 2 × 3 (or 6 values row-major), got an array of length 1``; an {@link ArgumentRangeError} ``Expected `W` to contain only finite numbers, got `NaN` at index 0``.
   */
  setW(W: number[][] | ArrayLike<number>): void {
    if (typeof W !== 'object' || W === null || typeof (W as ArrayLike<number>).length !== 'number') {
      throw new ArgumentTypeError(`Expected \`W\` to be 2 × 3 (or 6 values row-major), got ${describe(W)}`);
    }
    const nested = Array.isArray(W) && Array.isArray(W[0]);
    const rowsOk = !nested || ((W as number[][]).length === 2 && (W as number[][]).every((row) => Array.isArray(row) && row.length === 3));
    const values = nested ? (W as number[][]).flat() : Array.from(W as ArrayLike<number>);
    if (!rowsOk || values.length !== 6) {
      throw new ArgumentRangeError(`Expected \`W\` to be 2 × 3 (or 6 values row-major), got ${describe(W)}`);
    }
    assertAllFinite('W', values);
    this.W.set(values);
  }

  /**
   * The scores x·W, for one sample or a batch, in the shape of `x` (as
   * TwoLayerNet's `predict`): 3 values per row.
   *
   * @param x - One sample (2 numbers, a number[] or Float64Array), or a batch of rows of 2: `number[][]`, an ml-matrix, or `{ data, rows, columns: 2 }`.
   * @returns A Float64Array of 3 for one sample, `number[][]` for `number[][]`, a `Matrix` for an ml-matrix, `{ data, rows, columns: 3 }` for `{ data, rows, columns }`.
   * @throws {TypeError} for another kind of value or a non-number element, as {@link toFlatMatrix}.
   * @throws {RangeError} ``Expected `x` to have 2 columns, got 3``; NaN or ±Infinity, ragged rows or an empty batch, as {@link toFlatMatrix}.
   */
  predict(x: number[] | Float64Array): Float64Array;
  predict(x: number[][]): number[][];
  predict(x: AbstractMatrix): Matrix;
  predict(x: FlatMatrix): FlatMatrix;
  predict(x: BatchInput): BatchOutput;
  predict(x: BatchInput): BatchOutput {
    return shapeLike(x, this.#scores(x));
  }

  /**
   * The mean cross-entropy of softmax(x·W) against `t`.
   *
   * @param x - One sample or a batch, as for {@link SimpleNet.predict}.
   * @param t - One-hot rows, labels (0, 1 or 2), or one label for one sample.
   * @returns The loss, a number ≥ 0.
   * @throws {TypeError} or RangeError for a bad `x` (as {@link SimpleNet.predict}) or `t` (as {@link crossEntropyError}).
   */
  loss(x: BatchInput, t: TargetInput): number {
    const y = softmax(this.#scores(x));
    return crossEntropyError(y, t);
  }

  /**
   * The book's `numerical_gradient(f, net.W)` with `f = w => net.loss(x, t)`:
   * dL/dW by central differences, each weight perturbed in place and restored.
   *
   * @param x - One sample or a batch, as for {@link SimpleNet.predict}.
   * @param t - One-hot rows, labels, or one label for one sample.
   * @param h - The step. Default 1e-4 (the book's).
   * @returns `{ flat, W }`: the 6 partial derivatives, `W` (2 × 3 row-major) a view into `flat`, like TwoLayerNet's gradients.
   * @throws {TypeError} or RangeError for a bad `x` or `t`, as {@link SimpleNet.loss}; an {@link ArgumentRangeError} ``Expected `h` to be a finite number greater than 0, got `0` (number)``.
   */
  numericalGradient(x: BatchInput, t: TargetInput, h = DEFAULT_H): SimpleNetGradient {
    const flat = numericalGradient(() => this.loss(x, t), this.W, h);
    return { flat, W: flat.subarray(0, 6) };
  }

  #scores(x: BatchInput): FlatMatrix {
    const flat = toFlatMatrix(x, 'x');
    if (flat.columns !== 2) throw new ArgumentRangeError(`Expected \`x\` to have 2 columns, got ${flat.columns}`);
    const out = new Float64Array(flat.rows * 3);
    for (let n = 0; n < flat.rows; n++) {
      for (let k = 0; k < 3; k++) out[n * 3 + k] = flat.data[n * 2] * this.W[k] + flat.data[n * 2 + 1] * this.W[3 + k];
    }
    return { data: out, rows: flat.rows, columns: 3 };
  }
}
