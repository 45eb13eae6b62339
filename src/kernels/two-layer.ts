/**
 * Pure forward and backward kernels of the book's TwoLayerNet over one flat
 * parameter vector [W1 | b1 | W2 | b2] (W row-major, inputSize × hiddenSize and
 * hiddenSize × outputSize). Shared by the main thread and the workers.
 */
import { CROSS_ENTROPY_DELTA, reluScalar, sigmoidScalar, softmaxRow, sumLogLikelihood } from '../functions.js';

/**
 * The sizes of the book's TwoLayerNet and its hidden activation: all a kernel
 * needs to find its way in the flat parameter vector (`net.shape`, and what a
 * checkpoint records to rebuild the net).
 */
export interface NetShape {
  /** Inputs per sample (784 for 28×28 digits): the rows of W1. */
  inputSize: number;
  /** Hidden units (the book's 50): the columns of W1, the rows of W2. */
  hiddenSize: number;
  /** Classes (10 for digits): the columns of W2, the width of the softmax. */
  outputSize: number;
  /** The hidden layer's activation. */
  activation: Activation;
}

/** The hidden layer's activations: the book's sigmoid, and ReLU. */
export const ACTIVATIONS = ['sigmoid', 'relu'] as const;

/**
 * A hidden activation: `'sigmoid'` (the book's TwoLayerNet) or `'relu'`
 * (max(0, x), the other activation of the book's chapter 3).
 *
 * @useDeclaredType
 */
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * Where each tensor starts in the flat parameter vector [W1 | b1 | W2 | b2]
 * (`net.layout`): offsets into `net.params` and into every gradient's `flat`.
 */
export interface ParameterLayout {
  /** Offset of W1 (inputSize × hiddenSize, row-major): always 0. */
  W1: number;
  /** Offset of b1 (hiddenSize values): inputSize × hiddenSize. */
  b1: number;
  /** Offset of W2 (hiddenSize × outputSize, row-major). */
  W2: number;
  /** Offset of b2 (outputSize values). */
  b2: number;
  /** Number of parameters in all. */
  size: number;
}

export function parameterLayout({ inputSize, hiddenSize, outputSize }: NetShape): ParameterLayout {
  const b1 = inputSize * hiddenSize;
  const W2 = b1 + hiddenSize;
  const b2 = W2 + hiddenSize * outputSize;
  return { W1: 0, b1, W2, b2, size: b2 + outputSize };
}

/** The name of parameter `index` in the flat vector, e.g. `W1[3][7]` or `b2[0]`. */
export function parameterName(shape: NetShape, index: number): string {
  const layout = parameterLayout(shape);
  if (index < layout.b1) return `W1[${Math.floor(index / shape.hiddenSize)}][${index % shape.hiddenSize}]`;
  if (index < layout.W2) return `b1[${index - layout.b1}]`;
  if (index < layout.b2) {
    const k = index - layout.W2;
    return `W2[${Math.floor(k / shape.outputSize)}][${k % shape.outputSize}]`;
  }
  return `b2[${index - layout.b2}]`;
}

/** `parameters 10–19 (W1[0][10] to W1[0][19])` for [start, end). */
export function describeParameterRange(shape: NetShape, start: number, end: number): string {
  return `parameters ${start}–${end - 1} (${parameterName(shape, start)} to ${parameterName(shape, end - 1)})`;
}

/** Working memory for a forward pass over up to `rows` samples. */
export interface ForwardScratch {
  /** Pre-activations a1 = x·W1 + b1, rows × hiddenSize. */
  hiddenInput: Float64Array;
  /** Activations z1, rows × hiddenSize. */
  hidden: Float64Array;
  /** Scores a2 = z1·W2 + b2, rows × outputSize. */
  scores: Float64Array;
  /** Softmax of the scores, rows × outputSize. */
  probs: Float64Array;
}

export function createForwardScratch(shape: NetShape, rows: number): ForwardScratch {
  return {
    hiddenInput: new Float64Array(rows * shape.hiddenSize),
    hidden: new Float64Array(rows * shape.hiddenSize),
    scores: new Float64Array(rows * shape.outputSize),
    probs: new Float64Array(rows * shape.outputSize),
  };
}

/**
 * Σ_c v[c]·params[base + idx[c]·stride + j] for j = j0 … j0 + 8 (one accumulator
 * each, added in ascending c), plus params[bias + j], into out[outOffset + j].
 * The inner loop of {@link layerRow}: eight outputs per pass over the nonzero
 * inputs, accumulated in registers.
 */
function dotBlock8(
  weights: Float64Array, base: number, stride: number, biases: Float64Array, bias: number, idx: Int32Array, v: Float64Array, count: number,
  j0: number, out: Float64Array, outOffset: number,
): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  const w0 = base + j0;
  for (let c = 0; c < count; c++) {
    const xi = v[c];
    const w = w0 + idx[c] * stride;
    a0 += xi * weights[w];
    a1 += xi * weights[w + 1];
    a2 += xi * weights[w + 2];
    a3 += xi * weights[w + 3];
    a4 += xi * weights[w + 4];
    a5 += xi * weights[w + 5];
    a6 += xi * weights[w + 6];
    a7 += xi * weights[w + 7];
  }
  const b = bias + j0;
  const o = outOffset + j0;
  out[o] = a0 + biases[b];
  out[o + 1] = a1 + biases[b + 1];
  out[o + 2] = a2 + biases[b + 2];
  out[o + 3] = a3 + biases[b + 3];
  out[o + 4] = a4 + biases[b + 4];
  out[o + 5] = a5 + biases[b + 5];
  out[o + 6] = a6 + biases[b + 6];
  out[o + 7] = a7 + biases[b + 7];
}

/** As {@link dotBlock8} for the two outputs j0, j0 + 1. */
function dotBlock2(
  weights: Float64Array, base: number, stride: number, biases: Float64Array, bias: number, idx: Int32Array, v: Float64Array, count: number,
  j0: number, out: Float64Array, outOffset: number,
): void {
  let a0 = 0, a1 = 0;
  const w0 = base + j0;
  for (let c = 0; c < count; c++) {
    const w = w0 + idx[c] * stride;
    a0 += v[c] * weights[w];
    a1 += v[c] * weights[w + 1];
  }
  out[outOffset + j0] = a0 + biases[bias + j0];
  out[outOffset + j0 + 1] = a1 + biases[bias + j0 + 1];
}

/** As {@link dotBlock8} for the one output j0. */
function dotBlock1(
  weights: Float64Array, base: number, stride: number, biases: Float64Array, bias: number, idx: Int32Array, v: Float64Array, count: number,
  j0: number, out: Float64Array, outOffset: number,
): void {
  let a0 = 0;
  const w0 = base + j0;
  for (let c = 0; c < count; c++) a0 += v[c] * weights[w0 + idx[c] * stride];
  out[outOffset + j0] = a0 + biases[bias + j0];
}

/**
 * out[outOffset + j] = Σ_c v[c]·weights[base + idx[c]·stride + j] + biases[bias + j]
 * for 0 ≤ j < width: per output, the products in ascending c from +0, then the bias.
 */
function sparseAffine(
  weights: Float64Array, base: number, stride: number, biases: Float64Array, bias: number, idx: Int32Array, v: Float64Array, count: number,
  width: number, out: Float64Array, outOffset: number,
): void {
  let j = 0;
  for (; j + 8 <= width; j += 8) dotBlock8(weights, base, stride, biases, bias, idx, v, count, j, out, outOffset);
  for (; j + 2 <= width; j += 2) dotBlock2(weights, base, stride, biases, bias, idx, v, count, j, out, outOffset);
  if (j < width) dotBlock1(weights, base, stride, biases, bias, idx, v, count, j, out, outOffset);
}

/** The nonzero entries of values[offset … offset + length): their indices into idx, values into v; returns their count. */
function gatherNonzero(values: ArrayLike<number>, offset: number, length: number, idx: Int32Array, v: Float64Array): number {
  let count = 0;
  for (let i = 0; i < length; i++) {
    const value = values[offset + i];
    if (value === 0) continue;
    idx[count] = i;
    v[count++] = value;
  }
  return count;
}

/** Scratch of the sparse dot products: indices and values of one row's nonzero entries. */
export interface SparseRowScratch {
  idx: Int32Array;
  v: Float64Array;
}

/** Scratch for rows of up to `length` entries. */
export function createSparseRowScratch(length: number): SparseRowScratch {
  return { idx: new Int32Array(length), v: new Float64Array(length) };
}

/**
 * One sample through one dense layer whose weights (inputs × outputs, at
 * params[weights…]) and biases (params[bias…]) are in the parameter vector:
 * out[outOffset + j] = Σ_i in[i]·W[i][j] + b[j], the dot products first, then
 * the bias, as numpy's `np.dot(x, W) + b` (a1 = x·W1 + b1, then
 * a2 = z1·W2 + b2). Zero inputs are skipped: they add exactly +0 or −0, which
 * changes no sum. Per output j the sum runs over the nonzero inputs i in
 * ascending order (acc += in_i·W[i][j], from +0), then adds b[j].
 */
function layerRow(
  params: Float64Array, weights: number, bias: number, inputs: number, outputs: number,
  values: Float64Array, offset: number, out: Float64Array, outOffset: number, scratch: SparseRowScratch,
): void {
  const count = gatherNonzero(values, offset, inputs, scratch.idx, scratch.v);
  sparseAffine(params, weights, outputs, params, bias, scratch.idx, scratch.v, count, outputs, out, outOffset);
}

/** The full forward pass of `rows` samples of `x` (rows × inputSize) into `scratch` (`sparse`: rows of at least max(inputSize, hiddenSize)). */
export function forward(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, scratch: ForwardScratch,
  sparse: SparseRowScratch = createSparseRowScratch(Math.max(shape.inputSize, shape.hiddenSize)),
): void {
  forwardRows(params, shape, x, 0, rows, scratch, sparse);
}

/**
 * {@link forward} of the samples [start, end) of `x` only, each into its own
 * row of `scratch` (which holds at least `end` rows): a sample's pass does
 * not depend on the others, so any split of the rows gives the same bits.
 */
function forwardRows(
  params: Float64Array, shape: NetShape, x: Float64Array, start: number, end: number, scratch: ForwardScratch, sparse: SparseRowScratch,
): void {
  const { inputSize, hiddenSize, outputSize } = shape;
  const sigmoid = shape.activation === 'sigmoid';
  const layout = parameterLayout(shape);
  const { hiddenInput, hidden, scores, probs } = scratch;
  for (let n = start; n < end; n++) {
    const h = n * hiddenSize;
    layerRow(params, layout.W1, layout.b1, inputSize, hiddenSize, x, n * inputSize, hiddenInput, h, sparse);
    if (sigmoid) for (let j = 0; j < hiddenSize; j++) hidden[h + j] = sigmoidScalar(hiddenInput[h + j]);
    else for (let j = 0; j < hiddenSize; j++) hidden[h + j] = reluScalar(hiddenInput[h + j]);
    layerRow(params, layout.W2, layout.b2, hiddenSize, outputSize, hidden, h, scores, n * outputSize, sparse);
    softmaxRow(scores, n * outputSize, probs, n * outputSize, outputSize);
  }
}

/**
 * Each sample's term of the book's loss for the samples [start, end):
 * out[n] = log(y[n][t_n] + 1e-7), as {@link sumLogLikelihood} adds them, so
 * that adding out[0 … rows) in order and dividing by −rows is
 * {@link batchLoss} bit for bit, whoever computed which samples.
 */
export function sampleLogLikelihoods(
  params: Float64Array, shape: NetShape, x: Float64Array, labels: ArrayLike<number>, start: number, end: number,
  scratch: ForwardScratch, sparse: SparseRowScratch, out: Float64Array,
): void {
  forwardRows(params, shape, x, start, end, scratch, sparse);
  const { outputSize } = shape;
  for (let n = start; n < end; n++) out[n] = Math.log(scratch.probs[n * outputSize + labels[n]] + CROSS_ENTROPY_DELTA);
}

/** The book's loss: mean cross-entropy of the forward pass. */
export function batchLoss(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: ArrayLike<number>, scratch: ForwardScratch,
  sparse?: SparseRowScratch,
): number {
  forward(params, shape, x, rows, scratch, sparse);
  return -sumLogLikelihood(scratch.probs, labels, rows, shape.outputSize) / rows;
}

/**
 * Backpropagation (the book's chapter 5) into `grad` (same layout as `params`).
 * `exact: false` is the book's gradient (y − t)/N, which ignores the 1e-7 inside
 * the log; `exact: true` is the derivative of the loss as computed, scaling each
 * row by y_t / (y_t + 1e-7).
 */
export function backprop(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: ArrayLike<number>,
  grad: Float64Array, exact: boolean, scratch: ForwardScratch = createForwardScratch(shape, rows),
): number {
  const { inputSize, hiddenSize, outputSize } = shape;
  const sigmoid = shape.activation === 'sigmoid';
  const layout = parameterLayout(shape);
  forward(params, shape, x, rows, scratch);
  const { hiddenInput, hidden, probs } = scratch;
  grad.fill(0);
  const dScores = new Float64Array(outputSize);
  const dHidden = new Float64Array(rows * hiddenSize);
  for (let n = 0; n < rows; n++) {
    const label = labels[n];
    const yt = probs[n * outputSize + label];
    const scale = exact ? yt / (yt + CROSS_ENTROPY_DELTA) / rows : 1 / rows;
    for (let k = 0; k < outputSize; k++) dScores[k] = (probs[n * outputSize + k] - (k === label ? 1 : 0)) * scale;
    for (let k = 0; k < outputSize; k++) grad[layout.b2 + k] += dScores[k];
    for (let j = 0; j < hiddenSize; j++) {
      const h = n * hiddenSize + j;
      const zj = hidden[h];
      const w = layout.W2 + j * outputSize;
      let back = 0;
      for (let k = 0; k < outputSize; k++) {
        grad[w + k] += zj * dScores[k];
        back += dScores[k] * params[w + k];
      }
      dHidden[h] = back * (sigmoid ? zj * (1 - zj) : hiddenInput[h] > 0 ? 1 : 0);
      grad[layout.b1 + j] += dHidden[h];
    }
  }
  inputGradient(x, rows, inputSize, hiddenSize, dHidden, grad, layout.W1);
  return -sumLogLikelihood(probs, labels, rows, outputSize) / rows;
}

/**
 * dW1[i][j] = Σₙ x[n][i]·dHidden[n][j] over the samples with x[n][i] ≠ 0, in
 * ascending n from +0: the sum a row-by-row `grad += x·dHidden` would make, bit
 * for bit, but accumulated in registers one input (one W1 row) at a time rather
 * than loaded and stored back for every sample. It is the
 * forward pass's sparse affine map with dHidden as the matrix and a zero bias
 * (a sum from +0 is never −0, so adding +0 changes no bit).
 */
function inputGradient(
  x: Float64Array, rows: number, inputSize: number, hiddenSize: number, dHidden: Float64Array, grad: Float64Array, offset: number,
): void {
  const samples = new Int32Array(rows);
  const values = new Float64Array(rows);
  const zeroBias = new Float64Array(hiddenSize);
  for (let i = 0; i < inputSize; i++) {
    let count = 0;
    for (let n = 0; n < rows; n++) {
      const value = x[n * inputSize + i];
      if (value === 0) continue;
      samples[count] = n;
      values[count++] = value;
    }
    if (count > 0) sparseAffine(dHidden, 0, hiddenSize, zeroBias, 0, samples, values, count, hiddenSize, grad, offset + i * hiddenSize);
  }
}

/** Index of the largest of `length` values from `offset` (first one on ties, like numpy). */
export function argmaxRow(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let k = 1; k < length; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}
