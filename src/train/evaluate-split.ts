/** Scoring a net on a whole split (or an evenly spaced subset): accuracy and mean loss. */
import type { Split } from '../data/dataset.js';
import { ArgumentTypeError } from '../errors.js';
import { scoreBatch } from '../kernels/score.js';
import { createForwardScratch } from '../kernels/two-layer.js';
import { TwoLayerNet } from '../nets/two-layer-net.js';
import { argumentRangeError, argumentTypeError, describe } from '../validate.js';
import { assertSplit } from './batch-sampler.js';

/** An evaluation limit: an integer from 1 and up, or Infinity (every row); 0 would give a NaN accuracy. */
export function assertEvaluationLimit(name: string, value: unknown): asserts value is number {
  const expected = 'an integer from 1 and up, or Infinity (every sample)';
  if (typeof value !== 'number') throw argumentTypeError(name, expected, value);
  if (value !== Number.POSITIVE_INFINITY && !(Number.isInteger(value) && value >= 1)) throw argumentRangeError(name, expected, value);
}

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
 * a split without rows (see `assertSplit` in batch-sampler.ts).
 */
export function evaluateSplit(net: TwoLayerNet, split: Split, limit = Number.POSITIVE_INFINITY): { accuracy: number; loss: number } {
  if (!(net instanceof TwoLayerNet)) throw new ArgumentTypeError(`Expected \`net\` to be a TwoLayerNet, got ${describe(net)}`);
  assertSplit(split, net.shape.inputSize, 'split');
  assertEvaluationLimit('limit', limit);
  const rows = Math.min(limit, split.rows);
  const chunk = 1000;
  const scratch = createForwardScratch(net.shape, chunk);
  const { inputSize } = net.shape;
  const subset = rows < split.rows;
  const gathered = subset ? new Float64Array(chunk * inputSize) : null;
  const gatheredLabels = subset ? new Int32Array(chunk) : null;
  let correct = 0;
  let logLikelihood = 0;
  for (let from = 0; from < rows; from += chunk) {
    const count = Math.min(chunk, rows - from);
    let x = split.x.subarray(from * inputSize, (from + count) * inputSize);
    let labels = split.labels.subarray(from, from + count);
    if (gathered && gatheredLabels) {
      for (let n = 0; n < count; n++) {
        const row = Math.floor(((from + n) * split.rows) / rows);
        gathered.set(split.x.subarray(row * inputSize, (row + 1) * inputSize), n * inputSize);
        gatheredLabels[n] = split.labels[row];
      }
      x = gathered.subarray(0, count * inputSize);
      labels = gatheredLabels.subarray(0, count);
    }
    const score = scoreBatch(net.params, net.shape, x, count, labels, scratch);
    correct += score.correct;
    logLikelihood += score.logLikelihood;
  }
  return { accuracy: correct / rows, loss: -logLikelihood / rows };
}
