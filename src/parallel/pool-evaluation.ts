/**
 * The main thread's side of an evaluation in the pool (`GradientPool#evaluate`):
 * its options and result, its arguments checked, the splits in shared memory
 * (sent to each worker once, then named by id: see buffer-registry.ts) and the
 * chunks' sums added up in chunk order, as `evaluateSplit` adds them.
 */
import { assertSplit, type Split } from '../data/dataset.js';
import { evaluationChunks, type SplitScore } from '../kernels/score.js';

export type { SplitScore };
import { argumentTypeError, assertEvaluationLimit } from '../validate.js';
import type { PoolCallOptions } from './pool-call.js';
import type { EvaluationSplit } from './protocol.js';
import { sharedCopy } from './shared-copy.js';

/** Options of {@link GradientPool.evaluate}: how many rows of each split, and the call's `signal` and `timeout`. */
export interface PoolEvaluationOptions extends PoolCallOptions {
  /**
   * Score at most this many evenly spaced rows of each split (as `evaluateSplit`'s
   * `limit`): an integer from 1 and up, or `Infinity` for every row.
   *
   * @default Infinity
   */
  limit?: number;
}

/** Checks an evaluation's limit and splits (at least one row of `inputSize` numbers each, one label per row). */
export function checkEvaluationArguments(splits: unknown, inputSize: number, limit: unknown): asserts splits is readonly Split[] {
  assertEvaluationLimit('limit', limit);
  if (!Array.isArray(splits)) throw argumentTypeError('splits', 'an array of splits ({ x, labels, rows })', splits);
  splits.forEach((split: unknown, index) => assertSplit(split as Split, inputSize, `splits[${index}]`));
}

/**
 * Copies of arrays that do not live in shared memory, made at their first
 * evaluation and kept as long as the array is: a split is sent to the workers
 * once, not copied every epoch.
 */
export class SharedSplits {
  #copies = new WeakMap<Float64Array | Int32Array, Float64Array | Int32Array>();

  /** `array` itself over a SharedArrayBuffer, else its shared copy (made once). */
  shared<T extends Float64Array | Int32Array>(array: T): T {
    if (array.buffer instanceof SharedArrayBuffer) return array;
    let copy = this.#copies.get(array) as T | undefined;
    if (copy === undefined) this.#copies.set(array, copy = sharedCopy(array));
    return copy;
  }

  /** The task's view of `split`, `limit` rows of it scored. */
  evaluationSplit(split: Split, limit: number): EvaluationSplit {
    return { x: this.shared(split.x), labels: this.shared(split.labels), rows: split.rows, used: Math.min(limit, split.rows) };
  }
}

/** The chunks of an evaluation of `splits`. */
export function evaluationChunkCount(splits: readonly Pick<EvaluationSplit, 'used'>[]): number {
  return splits.reduce((sum, split) => sum + evaluationChunks(split.used), 0);
}

/**
 * Each split's accuracy and loss from its chunks' sums (`results[2c]` the
 * correct count, `results[2c + 1]` the log-likelihood of chunk c, chunks
 * numbered across the splits), added in chunk order from 0 as
 * `evaluateSplit` adds them: equal bit for bit.
 */
export function combineChunks(results: Float64Array, splits: readonly Pick<EvaluationSplit, 'used'>[]): SplitScore[] {
  let chunk = 0;
  return splits.map(({ used }) => {
    let correct = 0;
    let logLikelihood = 0;
    for (let c = 0, chunks = evaluationChunks(used); c < chunks; c++, chunk++) {
      correct += results[2 * chunk];
      logLikelihood += results[2 * chunk + 1];
    }
    return { accuracy: correct / used, loss: -logLikelihood / used };
  });
}
