/** The book's TwoLayerNet: predict, loss, accuracy, the numerical gradient and backprop over one shared parameter vector. */
import { type BatchInput, type FlatMatrix, type TargetInput, toFlatMatrix, toLabels } from '../batch.js';
import { numericalGradient as numericalGradientOf, DEFAULT_H } from '../numerical.js';
import { Random } from '../random.js';
import {
  ACTIVATIONS, type Activation, type NetShape, type ParameterLayout,
  backprop, batchLoss, createForwardScratch, forward, parameterLayout, parameterName,
} from '../kernels/two-layer.js';
import { scoreBatch } from '../kernels/score.js';
import { assertAllFinite, assertInteger, assertOneOf, assertPositiveFinite, describe, expectationError, firstNonFinite } from '../validate.js';

export interface TwoLayerNetOptions {
  /** Inputs per sample, e.g. 784 for 28×28 digits. */
  inputSize: number;
  /** Hidden units, e.g. 50 (the book's). */
  hiddenSize: number;
  /** Classes, e.g. 10. */
  outputSize: number;
  /** Standard deviation of the normal initial weights. Default 0.01 (the book's). */
  weightInitStd?: number;
  /** Hidden activation. Default `'sigmoid'` (the book's). */
  activation?: Activation;
  /** Seed of the initial weights. Default 0. */
  seed?: number;
}

/** A gradient with the same layout as the parameters: `flat` and named views into it. */
export interface NetGradient {
  flat: Float64Array;
  W1: Float64Array;
  b1: Float64Array;
  W2: Float64Array;
  b2: Float64Array;
}

/** A validated batch: flat inputs and integer labels. */
export interface PreparedBatch {
  x: Float64Array;
  labels: Int32Array;
  rows: number;
}

export interface GradientOptions {
  /**
   * `false` (default): the book's backprop, (y − t)/N, which ignores the 1e-7 in
   * the log. `true`: the exact derivative of the loss as computed.
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

export function validateShape(shape: Partial<NetShape>, prefix = ''): NetShape {
  assertInteger(`${prefix}inputSize`, shape.inputSize, 1);
  assertInteger(`${prefix}hiddenSize`, shape.hiddenSize, 1);
  assertInteger(`${prefix}outputSize`, shape.outputSize, 2);
  const activation = shape.activation ?? 'sigmoid';
  assertOneOf(`${prefix}activation`, activation, ACTIVATIONS);
  return { inputSize: shape.inputSize, hiddenSize: shape.hiddenSize, outputSize: shape.outputSize, activation };
}

/**
 * Throws a RangeError naming the first non-finite parameter of `net`. The
 * parameters are state a diverged update may have broken; a NaN weight must not
 * give a NaN loss or, through ReLU's max(0, NaN) = 0, a finite but wrong result.
 */
export function assertFiniteParameters(net: Pick<TwoLayerNet, 'params' | 'shape'>): void {
  const i = firstNonFinite(net.params);
  if (i >= 0) {
    throw new RangeError(`Expected the net's parameters to be finite, got \`${net.params[i]}\` at ${parameterName(net.shape, i)} (did training diverge? try a smaller learning rate)`);
  }
}

/**
 * The book's two-layer net: affine → sigmoid (or ReLU) → affine → softmax, with
 * the cross-entropy loss. All parameters live in one Float64Array over a
 * SharedArrayBuffer, [W1 | b1 | W2 | b2], so worker threads can read them
 * without a copy; `W1`, `b1`, `W2`, `b2` are views into it.
 *
 * @example
 * const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10, seed: 1 });
 * const grads = net.numericalGradient(xBatch, tBatch); // the book's method
 * for (let i = 0; i < net.params.length; i++) net.params[i] -= 0.1 * grads.flat[i];
 */
export class TwoLayerNet {
  readonly shape: NetShape;
  readonly layout: ParameterLayout;
  /** All parameters, [W1 | b1 | W2 | b2], over a SharedArrayBuffer. */
  readonly params: Float64Array;
  readonly W1: Float64Array;
  readonly b1: Float64Array;
  readonly W2: Float64Array;
  readonly b2: Float64Array;

  constructor(options: TwoLayerNetOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`Expected \`options\` to be an object with inputSize, hiddenSize and outputSize, got ${describe(options)}`);
    }
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

  /** A net with the given shape and a copy of `params` (e.g. from a checkpoint). */
  static fromParameters(shape: Partial<NetShape>, params: ArrayLike<number>): TwoLayerNet {
    const valid = validateShape(shape);
    const net = new TwoLayerNet({ ...valid, seed: 0 });
    if (typeof params !== 'object' || params === null || typeof params.length !== 'number') {
      throw new TypeError(`Expected \`params\` to be an array or a Float64Array of ${net.layout.size} values, got ${describe(params)}`);
    }
    if (params.length !== net.layout.size) {
      throw new RangeError(`Expected \`params\` to have ${net.layout.size} values for ${valid.inputSize}-${valid.hiddenSize}-${valid.outputSize}, got ${params.length}`);
    }
    assertAllFinite('params', params);
    net.params.set(params);
    return net;
  }

  /** An independent copy with its own shared buffer. */
  clone(): TwoLayerNet {
    return TwoLayerNet.fromParameters(this.shape, this.params);
  }

  /** Validates and flattens a batch and its targets once, for repeated use. */
  prepare(x: BatchInput, t: TargetInput): PreparedBatch {
    const flat = this.#inputs(x);
    return { x: flat.data, labels: toLabels(t, flat.rows, this.shape.outputSize, 't'), rows: flat.rows };
  }

  /** Class probabilities, rows × outputSize. */
  predict(x: BatchInput): FlatMatrix {
    const flat = this.#inputs(x);
    assertFiniteParameters(this);
    const scratch = createForwardScratch(this.shape, flat.rows);
    forward(this.params, this.shape, flat.data, flat.rows, scratch);
    return { data: scratch.probs, rows: flat.rows, columns: this.shape.outputSize };
  }

  /** Mean cross-entropy of the batch; `t` one-hot or labels. */
  loss(x: BatchInput, t: TargetInput): number {
    const batch = this.prepare(x, t);
    assertFiniteParameters(this);
    return batchLoss(this.params, this.shape, batch.x, batch.rows, batch.labels, createForwardScratch(this.shape, batch.rows));
  }

  /** Fraction of samples whose most probable class is the target's. */
  accuracy(x: BatchInput, t: TargetInput): number {
    const batch = this.prepare(x, t);
    assertFiniteParameters(this);
    const { correct } = scoreBatch(this.params, this.shape, batch.x, batch.rows, batch.labels, createForwardScratch(this.shape, batch.rows));
    return correct / batch.rows;
  }

  /**
   * The book's numerical gradient, serially: one full forward pass of the batch
   * for each of the 2·P perturbations. The reference for every faster engine;
   * slow for real sizes (use a GradientPool).
   */
  numericalGradient(x: BatchInput, t: TargetInput, h = DEFAULT_H): NetGradient {
    const batch = this.prepare(x, t);
    assertFiniteParameters(this);
    const scratch = createForwardScratch(this.shape, batch.rows);
    const lossOfParams = (params: Float64Array) => batchLoss(params, this.shape, batch.x, batch.rows, batch.labels, scratch);
    return viewsOf(numericalGradientOf(lossOfParams, this.params, h), this.layout);
  }

  /** Backpropagation (the book's chapter 5), for gradient checks and fast training. */
  gradient(x: BatchInput, t: TargetInput, options: GradientOptions = {}): NetGradient {
    if (typeof options !== 'object' || options === null) throw new TypeError(expectationError('options', 'an object such as { exact: true }', options));
    const { exact = false } = options;
    if (typeof exact !== 'boolean') throw new TypeError(expectationError('exact', 'true or false', exact));
    const batch = this.prepare(x, t);
    assertFiniteParameters(this);
    const grad = new Float64Array(this.layout.size);
    backprop(this.params, this.shape, batch.x, batch.rows, batch.labels, grad, exact);
    return viewsOf(grad, this.layout);
  }

  /** Named views over a flat gradient or parameter vector of this net's layout. */
  views(flat: Float64Array): NetGradient {
    if (!(flat instanceof Float64Array)) throw new TypeError(`Expected \`flat\` to be a Float64Array, got ${describe(flat)}`);
    if (flat.length !== this.layout.size) {
      throw new RangeError(`Expected \`flat\` to have ${this.layout.size} values (the parameter layout of this net), got ${flat.length}`);
    }
    return viewsOf(flat, this.layout);
  }

  #inputs(x: BatchInput): FlatMatrix {
    const flat = toFlatMatrix(x, 'x');
    if (flat.columns !== this.shape.inputSize) {
      throw new RangeError(`Expected \`x\` to have ${this.shape.inputSize} columns (inputSize), got ${flat.columns}`);
    }
    return flat;
  }
}
