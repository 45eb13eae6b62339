/**
 * Pure forward and backward kernels of the book's TwoLayerNet over one flat
 * parameter vector [W1 | b1 | W2 | b2] (W row-major, inputSize × hiddenSize and
 * hiddenSize × outputSize). Shared by the main thread and the workers.
 */
import { CROSS_ENTROPY_DELTA, reluScalar, sigmoidScalar, softmaxRow, sumLogLikelihood } from '../functions.js';

export type Activation = 'sigmoid' | 'relu';
export const ACTIVATIONS: readonly Activation[] = ['sigmoid', 'relu'];

export interface NetShape {
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  activation: Activation;
}

/** Where each tensor starts in the flat parameter vector. */
export interface ParameterLayout {
  W1: number;
  b1: number;
  W2: number;
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

export function activate(a: number, activation: Activation): number {
  return activation === 'sigmoid' ? sigmoidScalar(a) : reluScalar(a);
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
 * a1 = x·W1 + b1 for one sample, into `out[outOffset…]`: the dot products first,
 * then the bias, as numpy's `np.dot(x, W1) + b1`. Zero inputs are skipped: they
 * add exactly +0 or −0, which changes no sum.
 */
export function hiddenInputRow(
  params: Float64Array, layout: ParameterLayout, inputSize: number, hiddenSize: number,
  x: Float64Array, xOffset: number, out: Float64Array, outOffset: number,
): void {
  for (let j = 0; j < hiddenSize; j++) out[outOffset + j] = 0;
  for (let i = 0; i < inputSize; i++) {
    const xi = x[xOffset + i];
    if (xi === 0) continue;
    const w = layout.W1 + i * hiddenSize;
    for (let j = 0; j < hiddenSize; j++) out[outOffset + j] += xi * params[w + j];
  }
  for (let j = 0; j < hiddenSize; j++) out[outOffset + j] += params[layout.b1 + j];
}

/** a2 = z1·W2 + b2 for one sample. */
export function scoresRow(
  params: Float64Array, layout: ParameterLayout, hiddenSize: number, outputSize: number,
  hidden: Float64Array, hiddenOffset: number, out: Float64Array, outOffset: number,
): void {
  for (let k = 0; k < outputSize; k++) out[outOffset + k] = 0;
  for (let j = 0; j < hiddenSize; j++) {
    const zj = hidden[hiddenOffset + j];
    if (zj === 0) continue;
    const w = layout.W2 + j * outputSize;
    for (let k = 0; k < outputSize; k++) out[outOffset + k] += zj * params[w + k];
  }
  for (let k = 0; k < outputSize; k++) out[outOffset + k] += params[layout.b2 + k];
}

/** The full forward pass of `rows` samples of `x` (rows × inputSize) into `scratch`. */
export function forward(params: Float64Array, shape: NetShape, x: Float64Array, rows: number, scratch: ForwardScratch): void {
  const { inputSize, hiddenSize, outputSize, activation } = shape;
  const layout = parameterLayout(shape);
  const { hiddenInput, hidden, scores, probs } = scratch;
  for (let n = 0; n < rows; n++) {
    const h = n * hiddenSize;
    hiddenInputRow(params, layout, inputSize, hiddenSize, x, n * inputSize, hiddenInput, h);
    for (let j = 0; j < hiddenSize; j++) hidden[h + j] = activate(hiddenInput[h + j], activation);
    scoresRow(params, layout, hiddenSize, outputSize, hidden, h, scores, n * outputSize);
    softmaxRow(scores, n * outputSize, probs, n * outputSize, outputSize);
  }
}

/** The book's loss: mean cross-entropy of the forward pass. */
export function batchLoss(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: ArrayLike<number>, scratch: ForwardScratch,
): number {
  forward(params, shape, x, rows, scratch);
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
  const { inputSize, hiddenSize, outputSize, activation } = shape;
  const layout = parameterLayout(shape);
  forward(params, shape, x, rows, scratch);
  const { hiddenInput, hidden, probs } = scratch;
  grad.fill(0);
  const dScores = new Float64Array(outputSize);
  const dHidden = new Float64Array(hiddenSize);
  for (let n = 0; n < rows; n++) {
    const label = labels[n];
    const yt = probs[n * outputSize + label];
    const scale = exact ? yt / (yt + CROSS_ENTROPY_DELTA) / rows : 1 / rows;
    for (let k = 0; k < outputSize; k++) dScores[k] = (probs[n * outputSize + k] - (k === label ? 1 : 0)) * scale;
    for (let k = 0; k < outputSize; k++) grad[layout.b2 + k] += dScores[k];
    for (let j = 0; j < hiddenSize; j++) {
      const zj = hidden[n * hiddenSize + j];
      const w = layout.W2 + j * outputSize;
      let back = 0;
      for (let k = 0; k < outputSize; k++) {
        grad[w + k] += zj * dScores[k];
        back += dScores[k] * params[w + k];
      }
      const a = hiddenInput[n * hiddenSize + j];
      dHidden[j] = back * (activation === 'sigmoid' ? zj * (1 - zj) : a > 0 ? 1 : 0);
      grad[layout.b1 + j] += dHidden[j];
    }
    for (let i = 0; i < inputSize; i++) {
      const xi = x[n * inputSize + i];
      if (xi === 0) continue;
      const w = layout.W1 + i * hiddenSize;
      for (let j = 0; j < hiddenSize; j++) grad[w + j] += xi * dHidden[j];
    }
  }
  return -sumLogLikelihood(probs, labels, rows, outputSize) / rows;
}

/** Index of the largest of `length` values from `offset` (first one on ties, like numpy). */
export function argmaxRow(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let k = 1; k < length; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}
