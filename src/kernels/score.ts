/**
 * Scoring a batch in one forward pass: how many samples the net classifies
 * right and the sum of their log-likelihoods. Accuracy and evaluation loss
 * everywhere (TwoLayerNet#accuracy, the Trainer's epoch evaluation) count
 * through here, so they agree bit for bit.
 */
import { sumLogLikelihood } from '../functions.js';
import { type ForwardScratch, type NetShape, type SparseRowScratch, argmaxRow, forward } from './two-layer.js';

export interface BatchScore {
  /** Samples whose most probable class is their label (the first on ties, like numpy's argmax). */
  correct: number;
  /** Σ log(y[n, label_n] + 1e-7), in row order. */
  logLikelihood: number;
}

/** Scores `rows` samples of `x` against `labels`, using `scratch` for the forward pass. */
export function scoreBatch(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: ArrayLike<number>, scratch: ForwardScratch,
  sparse?: SparseRowScratch,
): BatchScore {
  const classes = shape.outputSize;
  forward(params, shape, x, rows, scratch, sparse);
  let correct = 0;
  for (let n = 0; n < rows; n++) if (argmaxRow(scratch.probs, n * classes, classes) === labels[n]) correct++;
  return { correct, logLikelihood: sumLogLikelihood(scratch.probs, labels, rows, classes) };
}
