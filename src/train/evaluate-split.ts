/** Scoring a net on a whole split (or an evenly spaced subset): accuracy and mean loss. */
import { ArgumentTypeError } from '../errors.js';
import { createChunkScratch, evaluationChunks, scoreSplitChunk, type SplitScore } from '../kernels/score.js';
import { TwoLayerNet } from '../nets/two-layer-net.js';
import { assertEvaluationLimit, describe } from '../validate.js';
import { assertSplit, type Split } from '../data/dataset.js';

/**
 * Accuracy and mean loss of `net` on a split, in chunks (no per-sample
 * allocation). With `limit` below the split's size, an evenly spaced subset of
 * `limit` rows is used, so a split stored class by class is still represented.
 *
 * @param net - the net to score.
 * @param split - at least one row of `net.shape.inputSize` numbers, one label per row.
 * @param limit - at most this many rows: an integer from 1 and up, or `Infinity`. Default: every row.
 * @throws {ArgumentTypeError} when `net` is not a TwoLayerNet, or `split` not a split.
 * @throws {ArgumentRangeError} ``Expected `limit` to be an integer from 1 and up, or Infinity (every sample), got `0` (number)``;
 * a split without rows (see `assertSplit` in data/dataset.ts).
 */
export function evaluateSplit(net: TwoLayerNet, split: Split, limit = Number.POSITIVE_INFINITY): SplitScore {
  if (!(net instanceof TwoLayerNet)) throw new ArgumentTypeError(`Expected \`net\` to be a TwoLayerNet, got ${describe(net)}`);
  assertSplit(split, net.shape.inputSize, 'split');
  assertEvaluationLimit('limit', limit);
  const rows = Math.min(limit, split.rows);
  // Chunk by chunk, through the same function as the pool's workers (GradientPool#evaluate): equal bit for bit.
  const scratch = createChunkScratch(net.shape);
  let correct = 0;
  let logLikelihood = 0;
  for (let chunk = 0, chunks = evaluationChunks(rows); chunk < chunks; chunk++) {
    const score = scoreSplitChunk(net.params, net.shape, split.x, split.labels, split.rows, rows, chunk, scratch);
    correct += score.correct;
    logLikelihood += score.logLikelihood;
  }
  return { accuracy: correct / rows, loss: -logLikelihood / rows };
}
