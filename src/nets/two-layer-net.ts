/** The book's TwoLayerNet: predict, loss, accuracy, the numerical gradient and backprop over one shared parameter vector. */
import type { AbstractMatrix, Matrix } from 'ml-matrix';
import { type BatchInput, type BatchOutput, type FlatMatrix, type TargetInput, shapeLike, toFlatMatrix, toLabels } from '../batch.js';
import type { Split } from '../data/dataset.js';
import { numericalGradient as numericalGradientOf, DEFAULT_H } from '../numerical.js';
import { Random } from '../random.js';
import {
  ACTIVATIONS, type Activation, type NetShape, type ParameterLayout,
  backprop, batchLoss, createForwardScratch, forward, parameterLayout, parameterName,
} from '../kernels/two-layer.js';
import { scoreBatch } from '../kernels/score.js';
import { ArgumentRangeError, ArgumentTypeError } from '../errors.js';
import {
  argumentTypeError, assertAllFinite, assertInteger, assertKnownKeys, assertOneOf, assertPositiveFinite, describe, firstNonFinite,
} from '../validate.js';

/** The options of `new TwoLayerNet(…)`: its shape, and how its weights are drawn. */
export interface TwoLayerNetOptions {
  /** Inputs per sample, 1 and up, e.g. 784 for 28×28 digits. */
  inputSize: number;
  /** Hidden units, 1 and up, e.g. 50 (the book's). */
  hiddenSize: number;
  /** Classes, 2 and up, e.g. 10. */
  outputSize: number;
  /**
   * Standard deviation of the normal initial weights, a finite number above 0:
   * the book's `weight_init_std`.
   *
   * @default 0.01
   */
  weightInitStd?: number;
  /**
   * Hidden activation: the book's TwoLayerNet uses sigmoid.
   *
   * @default 'sigmoid'
   */
  activation?: Activation;
  /**
   * Seed of the initial weights, an integer from 0 to 2³² − 1: the same seed
   * gives the same net, so runs are reproducible.
   *
   * @default 0
   */
  seed?: number;
}

/** Every key of {@link TwoLayerNetOptions}: `new TwoLayerNet` refuses any other (a misspelled option would be ignored). */
const TWO_LAYER_NET_OPTION_KEYS: readonly (keyof TwoLayerNetOptions)[] = ['inputSize', 'hiddenSize', 'outputSize', 'weightInitStd', 'activation', 'seed'];

/**
 * A gradient with the same layout as the parameters: `flat` and named views
 * into it (SimpleNet's gradients have the same form, `{ flat, W }`).
 */
export interface NetGradient {
  /** All partial derivatives, in the order of `net.params`: [W1 | b1 | W2 | b2]. */
  flat: Float64Array;
  /** dL/dW1, inputSize × hiddenSize row-major: a view into `flat`. */
  W1: Float64Array;
  /** dL/db1, hiddenSize values: a view into `flat`. */
  b1: Float64Array;
  /** dL/dW2, hiddenSize × outputSize row-major: a view into `flat`. */
  W2: Float64Array;
  /** dL/db2, outputSize values: a view into `flat`. */
  b2: Float64Array;
}

/**
 * A validated batch: flat inputs and integer labels, what {@link TwoLayerNet.prepare} returns.
 *
 * @deprecated use Split (the same type, from `gradpool/datasets`)
 */
export type PreparedBatch = Split;

/** Options of {@link TwoLayerNet.gradient}. */
export interface GradientOptions {
  /**
   * `false`: the book's backprop, (y − t)/N, which ignores the 1e-7 in the
   * log. `true`: the exact derivative of the loss as computed, which a
   * numerical gradient approaches to more digits (for gradient checks).
   *
   * @default false
   */
  exact?: boolean;
}

function viewsOf(flat: Float64Array, layout: ParameterLayout): NetGradient {
  return {
    flat,
    W1: flat.subarray(layout.W1, layout.b1),
    b1: flat.subarray(layout.b1, layout.W2),
    W2: flat.subarray(layout.W2, layout.b2),
    b2: flat.subarray(layout.b2, layout.size),
  };
}

/**
 * Checks a net's shape and fills in the default activation.
 *
 * @param shape - `inputSize` (1 and up), `hiddenSize` (1 and up), `outputSize` (2 and up), `activation` (default `'sigmoid'`).
 * @param prefix - Put before each option's name in messages (e.g. `'net.'`). Default none.
 * @returns The shape with its activation.
 * @throws TypeError or RangeError naming the first bad option, its expectation and its value.
 */
export function validateShape(shape: Partial<NetShape>, prefix = ''): NetShape {
  assertInteger(`${prefix}inputSize`, shape.inputSize, 1);
  assertInteger(`${prefix}hiddenSize`, shape.hiddenSize, 1);
  assertInteger(`${prefix}outputSize`, shape.outputSize, 2);
  const activation = shape.activation ?? 'sigmoid';
  assertOneOf(`${prefix}activation`, activation, ACTIVATIONS);
  return { inputSize: shape.inputSize, hiddenSize: shape.hiddenSize, outputSize: shape.outputSize, activation };
}

/**
 * Throws an ArgumentRangeError naming the first non-finite parameter of `net`. The
 * parameters are state a diverged update may have broken; a NaN weight must not
 * give a NaN loss or, through ReLU's max(0, NaN) = 0, a finite but wrong result.
 *
 * @param net - A net, or anything with its `params` and `shape`.
 * @throws {ArgumentRangeError} naming the first NaN or ±Infinity parameter (e.g. `W1[1][2]`): the caller's net is unusable, not a bug of gradpool.
 */
export function assertFiniteParameters(net: Pick<TwoLayerNet, 'params' | 'shape'>): void {
  const i = firstNonFinite(net.params);
  if (i >= 0) {
    throw new ArgumentRangeError(`Expected the net's parameters to be finite, got \`${net.params[i]}\` at ${parameterName(net.shape, i)} (did training diverge? try a smaller learning rate)`);
  }
}

/**
 * The book's two-layer net: affine → sigmoid (or ReLU) → affine → softmax, with
 * the cross-entropy loss. All parameters live in one Float64Array over a
 * SharedArrayBuffer, [W1 | b1 | W2 | b2], so worker threads can read them
 * without a copy; `W1`, `b1`, `W2`, `b2` are views into it.
 *
 * @example
 * // One step of the book's training loop, on a 2-3-2 net and a batch of two samples.
 * const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 2, seed: 1 });
 * const x = [[0.5, -1], [1, 2]], t = [0, 1];
 * net.loss(x, t);                               // 0.6930914131662016
 * const grads = net.numericalGradient(x, t);    // the book's method (a GradientPool for real sizes)
 * for (let i = 0; i < net.params.length; i++) net.params[i] -= 0.1 * grads.flat[i];
 * net.loss(x, t);                               // 0.693076606819701, lower
 */
export class TwoLayerNet {
  /** Sizes and activation, validated, the activation filled in. */
  readonly shape: NetShape;
  /** Where each tensor starts in `params`, and its total size. */
  readonly layout: ParameterLayout;
  /** All parameters, [W1 | b1 | W2 | b2], over a SharedArrayBuffer. */
  readonly params: Float64Array;
  /** inputSize × hiddenSize weights, row-major: a view into `params`. */
  readonly W1: Float64Array;
  /** hiddenSize biases (0 at first): a view into `params`. */
  readonly b1: Float64Array;
  /** hiddenSize × outputSize weights, row-major: a view into `params`. */
  readonly W2: Float64Array;
  /** outputSize biases (0 at first): a view into `params`. */
  readonly b2: Float64Array;

  /**
   * @param options - The sizes, `weightInitStd` (default 0.01), `activation` (default `'sigmoid'`) and `seed` (default 0) of the normal initial weights; the biases start at 0.
   * @throws {ArgumentTypeError} ``Expected `options` to be an object with inputSize, hiddenSize and outputSize, got `null` ``, or for an option of the wrong type.
   * @throws {ArgumentRangeError} for an unknown key (``Expected `options` of TwoLayerNet to have only the keys `inputSize`, …, got the key `hidden` ``), or naming the first bad option, its expectation and its value: ``Expected `outputSize` to be an integer from 2 and up, got `1` (number)``, ``Expected `activation` to be one of `sigmoid`, `relu`, got `"tanh"` (string)``.
   */
  constructor(options: TwoLayerNetOptions) {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new ArgumentTypeError(`Expected \`options\` to be an object with inputSize, hiddenSize and outputSize, got ${describe(options)}`);
    }
    assertKnownKeys('options', options as unknown as Record<string, unknown>, TWO_LAYER_NET_OPTION_KEYS, 'TwoLayerNet');
    const { weightInitStd = 0.01, seed = 0 } = options;
    this.shape = validateShape(options);
    assertPositiveFinite('weightInitStd', weightInitStd);
    this.layout = parameterLayout(this.shape);
    this.params = new Float64Array(new SharedArrayBuffer(this.layout.size * Float64Array.BYTES_PER_ELEMENT));
    ({ W1: this.W1, b1: this.b1, W2: this.W2, b2: this.b2 } = viewsOf(this.params, this.layout));
    const random = new Random(seed);
    random.fillNormal(this.W1, weightInitStd);
    random.fillNormal(this.W2, weightInitStd);
  }

  /**
   * A net with the given shape and a copy of `params` (e.g. from a checkpoint).
   *
   * @param shape - `inputSize`, `hiddenSize`, `outputSize` and `activation` (default `'sigmoid'`).
   * @param params - All parameters, [W1 | b1 | W2 | b2], any array or typed array.
   * @returns A new net over its own SharedArrayBuffer.
   * @throws {TypeError} ``Expected `params` to be an array or a Float64Array of 17 values, got …``; an {@link ArgumentTypeError} for a shape field of the wrong type.
   * @throws {RangeError} ``Expected `params` to have 17 values for 2-3-2, got 2``; an {@link ArgumentRangeError} for a bad shape or ``Expected `params` to contain only finite numbers, got `NaN` at index 0``.
   */
  static fromParameters(shape: Partial<NetShape>, params: ArrayLike<number>): TwoLayerNet {
    const valid = validateShape(shape);
    const net = new TwoLayerNet({ ...valid, seed: 0 });
    if (typeof params !== 'object' || params === null || typeof params.length !== 'number') {
      throw new ArgumentTypeError(`Expected \`params\` to be an array or a Float64Array of ${net.layout.size} values, got ${describe(params)}`);
    }
    if (params.length !== net.layout.size) {
      throw new ArgumentRangeError(`Expected \`params\` to have ${net.layout.size} values for ${valid.inputSize}-${valid.hiddenSize}-${valid.outputSize}, got ${params.length}`);
    }
    assertAllFinite('params', params);
    net.params.set(params);
    return net;
  }

  /**
   * An independent copy with its own shared buffer.
   *
   * @returns A net with the same shape and a copy of the parameters.
   */
  clone(): TwoLayerNet {
    return TwoLayerNet.fromParameters(this.shape, this.params);
  }

  /**
   * Validates and flattens a batch and its targets once, for repeated use
   * (e.g. `pool.gradientOfBatch(net, batch)`).
   *
   * @param x - One sample or a batch, as for {@link TwoLayerNet.predict}.
   * @param t - One-hot rows or integer labels, one per row of `x`.
   * @param allocate - Where `number[][]` and ml-matrix input is copied, as for {@link toFlatMatrix} (default a new Float64Array).
   * @returns A {@link Split}: `x` flat (a Float64Array input is used as it is, not copied), integer `labels`, `rows`.
   * @throws {TypeError} or RangeError for a bad `x` or `t`, naming it, as {@link toFlatMatrix} and {@link toLabels}; ``Expected `x` to have 784 columns (inputSize), got 3``.
   */
  prepare(x: BatchInput, t: TargetInput, allocate?: (length: number) => Float64Array): Split {
    const flat = this.#inputs(x, allocate);
    return { x: flat.data, labels: toLabels(t, flat.rows, this.shape.outputSize, 't'), rows: flat.rows };
  }

  /**
   * Class probabilities, softmax(act(x·W1 + b1)·W2 + b2), in the shape of `x`:
   * outputSize values per row.
   *
   * @param x - One sample (a number[] or Float64Array of inputSize values), or a batch of rows of inputSize: `number[][]`, an ml-matrix, or `{ data, rows, columns }`.
   * @returns A Float64Array of outputSize for one sample, `number[][]` for `number[][]`, a `Matrix` for an ml-matrix, `{ data, rows, columns: outputSize }` for `{ data, rows, columns }`.
   * @throws {TypeError} for another kind of value or a non-number element, as {@link toFlatMatrix}.
   * @throws {RangeError} ``Expected `x` to have 784 columns (inputSize), got 3``; ``Expected the net's parameters to be finite, got `NaN` at W1[0][0] (did training diverge? try a smaller learning rate)``; NaN or ±Infinity in `x`, ragged rows or an empty batch, as {@link toFlatMatrix}.
   * @example
   * const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 2 });
   * net.predict([0.5, -1]);           // Float64Array [0.49952234946961055, 0.5004776505303894]
   * net.predict([[0.5, -1], [1, 2]]); // [[0.49952234946961055, 0.5004776505303894], [0.49951183656401865, 0.5004881634359813]]
   */
  predict(x: number[] | Float64Array): Float64Array;
  predict(x: number[][]): number[][];
  predict(x: AbstractMatrix): Matrix;
  predict(x: FlatMatrix): FlatMatrix;
  predict(x: BatchInput): BatchOutput;
  predict(x: BatchInput): BatchOutput {
    const flat = this.#inputs(x);
    assertFiniteParameters(this);
    const scratch = createForwardScratch(this.shape, flat.rows);
    forward(this.params, this.shape, flat.data, flat.rows, scratch);
    return shapeLike(x, { data: scratch.probs, rows: flat.rows, columns: this.shape.outputSize });
  }

  /**
   * The book's loss: the mean cross-entropy of the batch.
   *
   * @param x - One sample or a batch, as for {@link TwoLayerNet.predict}.
   * @param t - One-hot rows or integer labels, one per row of `x`.
   * @returns The mean loss, a number ≥ 0.
   * @throws {TypeError} or RangeError for a bad `x` or `t`, as {@link TwoLayerNet.prepare}.
   * @throws {RangeError} ``Expected the net's parameters to be finite, got `NaN` at W1[0][0] (…)``.
   */
  loss(x: BatchInput, t: TargetInput): number {
    const batch = this.prepare(x, t);
    assertFiniteParameters(this);
    return batchLoss(this.params, this.shape, batch.x, batch.rows, batch.labels, createForwardScratch(this.shape, batch.rows));
  }

  /**
   * The fraction of samples whose most probable class is the target's.
   *
   * @param x - One sample or a batch, as for {@link TwoLayerNet.predict}.
   * @param t - One-hot rows or integer labels, one per row of `x`.
   * @returns A number from 0 to 1.
   * @throws {TypeError} or RangeError for a bad `x` or `t`, as {@link TwoLayerNet.prepare}.
   * @throws {RangeError} ``Expected the net's parameters to be finite, got `NaN` at W1[0][0] (…)``.
   */
  accuracy(x: BatchInput, t: TargetInput): number {
    const batch = this.prepare(x, t);
    assertFiniteParameters(this);
    const { correct } = scoreBatch(this.params, this.shape, batch.x, batch.rows, batch.labels, createForwardScratch(this.shape, batch.rows));
    return correct / batch.rows;
  }

  /**
   * The book's numerical gradient, serially: one full forward pass of the batch
   * for each of the 2·P perturbations. The reference for every faster engine;
   * slow for real sizes (use a GradientPool). The parameters are perturbed in
   * place and restored.
   *
   * @param x - One sample or a batch, as for {@link TwoLayerNet.predict}.
   * @param t - One-hot rows or integer labels, one per row of `x`.
   * @param h - The step. Default 1e-4 (the book's).
   * @returns A {@link NetGradient}: `flat` and the views `W1`, `b1`, `W2`, `b2`.
   * @throws {TypeError} or RangeError for a bad `x` or `t`, as {@link TwoLayerNet.prepare}.
   * @throws {RangeError} ``Expected the net's parameters to be finite, got `NaN` at W1[0][0] (…)``; an {@link ArgumentRangeError} ``Expected `h` to be a finite number greater than 0, got `0` (number)``.
   */
  numericalGradient(x: BatchInput, t: TargetInput, h = DEFAULT_H): NetGradient {
    const batch = this.prepare(x, t);
    assertFiniteParameters(this);
    const scratch = createForwardScratch(this.shape, batch.rows);
    const lossOfParams = (params: Float64Array) => batchLoss(params, this.shape, batch.x, batch.rows, batch.labels, scratch);
    return viewsOf(numericalGradientOf(lossOfParams, this.params, h), this.layout);
  }

  /**
   * Backpropagation (the book's chapter 5), for gradient checks and fast training.
   *
   * @param x - One sample or a batch, as for {@link TwoLayerNet.predict}.
   * @param t - One-hot rows or integer labels, one per row of `x`.
   * @param options - `exact` (default `false`): see {@link GradientOptions}.
   * @returns A {@link NetGradient}: `flat` and the views `W1`, `b1`, `W2`, `b2`.
   * @throws {TypeError} ``Expected `exact` to be true or false, got `1` (number)`` or ``Expected `options` to be an object such as { exact: true }, got …``; a TypeError or RangeError for a bad `x` or `t`, as {@link TwoLayerNet.prepare}.
   * @throws {RangeError} ``Expected the net's parameters to be finite, got `NaN` at W1[0][0] (…)``.
   */
  gradient(x: BatchInput, t: TargetInput, options: GradientOptions = {}): NetGradient {
    if (typeof options !== 'object' || options === null) throw argumentTypeError('options', 'an object such as { exact: true }', options);
    const { exact = false } = options;
    if (typeof exact !== 'boolean') throw argumentTypeError('exact', 'true or false', exact);
    const batch = this.prepare(x, t);
    assertFiniteParameters(this);
    const grad = new Float64Array(this.layout.size);
    backprop(this.params, this.shape, batch.x, batch.rows, batch.labels, grad, exact);
    return viewsOf(grad, this.layout);
  }

  /**
   * Named views over a flat gradient or parameter vector of this net's layout.
   *
   * @param flat - A Float64Array of `layout.size` values.
   * @returns `{ flat, W1, b1, W2, b2 }`, the views sharing `flat`'s memory.
   * @throws {TypeError} ``Expected `flat` to be a Float64Array, got …``.
   * @throws {RangeError} ``Expected `flat` to have 17 values (the parameter layout of this net), got 3``.
   */
  views(flat: Float64Array): NetGradient {
    if (!(flat instanceof Float64Array)) throw new ArgumentTypeError(`Expected \`flat\` to be a Float64Array, got ${describe(flat)}`);
    if (flat.length !== this.layout.size) {
      throw new ArgumentRangeError(`Expected \`flat\` to have ${this.layout.size} values (the parameter layout of this net), got ${flat.length}`);
    }
    // The four views of the last array viewed are kept: the Trainer's pool calls view the same shared
    // gradient every step, and four new views per call were work on its path. A new object each call.
    if (this.#lastViews?.flat !== flat) this.#lastViews = viewsOf(flat, this.layout);
    return { ...this.#lastViews };
  }

  /** What {@link views} returned last, kept for the next call on the same array. */
  #lastViews: NetGradient | undefined;

  #inputs(x: BatchInput, allocate?: (length: number) => Float64Array): FlatMatrix {
    const flat = toFlatMatrix(x, 'x', allocate);
    if (flat.columns !== this.shape.inputSize) {
      throw new ArgumentRangeError(`Expected \`x\` to have ${this.shape.inputSize} columns (inputSize), got ${flat.columns}`);
    }
    return flat;
  }
}
