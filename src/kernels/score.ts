/** Accuracy and mean loss of a net on one split, as `evaluateSplit` returns them. */
export interface SplitScore {
  /** The fraction of rows whose most probable class is their label, from 0 to 1. */
  accuracy: number;
  /** The mean cross-entropy per row, −log(y[label] + 1e-7). */
  loss: number;
}

/**
 * Scoring a batch in one forward pass: how many samples the net classifies
 * right and the sum of their log-likelihoods. Accuracy and evaluation loss
 * everywhere (TwoLayerNet#accuracy, the Trainer's epoch evaluation) count
 * through here, so they agree bit for bit.
 */
import { sumLogLikelihood } from '../functions.js';
import {
  type ForwardScratch, type NetShape, type SparseRowScratch, argmaxRow, createForwardScratch, createSparseRowScratch, forward,
} from './two-layer.js';

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

/**
 * Rows per chunk of a split's evaluation: `evaluateSplit` (main thread) and
 * `GradientPool#evaluate` (workers) both score a split chunk by chunk through
 * {@link scoreSplitChunk} and add the chunks' sums in chunk order, so they
 * agree bit for bit whatever thread scored which chunk.
 */
export const EVALUATION_CHUNK_ROWS = 1000;

/** Scratch of {@link scoreSplitChunk}: the forward pass of one chunk and, for a subset, its gathered rows (made on first use). */
export interface ChunkScratch {
  forward: ForwardScratch;
  sparse: SparseRowScratch;
  x: Float64Array | null;
  labels: Int32Array | null;
}

/** Scratch for chunks of `shape` (one forward pass of {@link EVALUATION_CHUNK_ROWS} rows). */
export function createChunkScratch(shape: NetShape): ChunkScratch {
  return {
    forward: createForwardScratch(shape, EVALUATION_CHUNK_ROWS),
    sparse: createSparseRowScratch(Math.max(shape.inputSize, shape.hiddenSize)),
    x: null,
    labels: null,
  };
}

/** Chunks of an evaluation of `used` rows. */
export function evaluationChunks(used: number): number {
  return Math.ceil(used / EVALUATION_CHUNK_ROWS);
}

/**
 * Scores chunk `chunk` of the evaluation of `used` of a split's `rows` rows
 * (`x`: rows × inputSize, `labels`: one per row): rows chunk·1000 up to
 * 1000 more of the evaluation, which are the split's own rows when `used` is
 * all of them, else the evenly spaced rows ⌊k·rows/used⌋ (gathered into the
 * scratch, so a split stored class by class is still represented).
 */
export function scoreSplitChunk(
  params: Float64Array, shape: NetShape, x: Float64Array, labels: Int32Array, rows: number, used: number, chunk: number, scratch: ChunkScratch,
): BatchScore {
  const { inputSize } = shape;
  const from = chunk * EVALUATION_CHUNK_ROWS;
  const count = Math.min(EVALUATION_CHUNK_ROWS, used - from);
  let chunkX = x.subarray(from * inputSize, (from + count) * inputSize);
  let chunkLabels = labels.subarray(from, from + count);
  if (used < rows) {
    scratch.x ??= new Float64Array(EVALUATION_CHUNK_ROWS * inputSize);
    scratch.labels ??= new Int32Array(EVALUATION_CHUNK_ROWS);
    for (let n = 0; n < count; n++) {
      const row = Math.floor(((from + n) * rows) / used);
      scratch.x.set(x.subarray(row * inputSize, (row + 1) * inputSize), n * inputSize);
      scratch.labels[n] = labels[row];
    }
    chunkX = scratch.x.subarray(0, count * inputSize);
    chunkLabels = scratch.labels.subarray(0, count);
  }
  return scoreBatch(params, shape, chunkX, count, chunkLabels, scratch.forward, scratch.sparse);
}
