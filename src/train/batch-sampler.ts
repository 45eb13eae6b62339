/**
 * Mini-batches drawn from a split into one reused buffer, from a seeded
 * stream that a checkpoint can save and continue exactly.
 */
import { assertSplit, type Split } from '../data/dataset.js';
import type { PreparedBatch } from '../nets/two-layer-net.js';
import { ArgumentRangeError, ArgumentTypeError } from '../errors.js';
import { Random, type RandomState } from '../random.js';
import { argumentRangeError, assertInteger, assertOneOf, assertOptionsObject, describe } from '../validate.js';

/** How batches are drawn: with replacement (the book's `np.random.choice`), or shuffled epochs. */
export const SAMPLINGS = ['replacement', 'shuffle'] as const;
/** `'replacement'`: each batch drawn at random with replacement (the book's); `'shuffle'`: a fresh permutation each epoch, without replacement. */
export type Sampling = (typeof SAMPLINGS)[number];

/** Where a sampler is in its stream: enough to continue it exactly. */
export interface SamplerState {
  /** The sampling of the sampler it came from; restoring it into a sampler of the other kind is refused. */
  sampling: Sampling;
  /** RNG state: the current one (replacement), or the one that drew the current epoch's order (shuffle). */
  random: RandomState;
  /** Position in the current epoch's order (shuffle only). */
  position: number;
}

/**
 * Draws mini-batches from a split into one reused buffer. `replacement` is the
 * book's `np.random.choice(train_size, batch_size)`: every batch drawn at random,
 * with replacement. `shuffle` walks a fresh permutation each epoch, without
 * replacement; the last batch of an epoch may be smaller.
 */
export class BatchSampler {
  /** Rows per batch: the `batchSize` asked for, capped at the split's rows (a shuffled epoch's last batch may hold fewer). */
  readonly batchSize: number;
  /** How batches are drawn: `'replacement'` or `'shuffle'`. */
  readonly sampling: Sampling;
  readonly #split: Split;
  readonly #inputSize: number;
  #random: Random;
  #epochStartState: RandomState;
  #order: Int32Array | null = null;
  #position = 0;
  readonly #batch: PreparedBatch;

  /**
   * @param split - the rows to draw from: at least 1 row of `inputSize` numbers, one label per row.
   * @param inputSize - numbers per row, an integer from 1 and up.
   * @param batchSize - rows per batch, an integer from 1 and up; more than `split.rows` draws batches of `split.rows`
   *   (and the `batchSize` property says so).
   * @param sampling - `'replacement'` (the book's) or `'shuffle'` (see {@link SAMPLINGS}).
   * @param seed - seed of the draws, an integer from 0 to 4294967295.
   * @throws {ArgumentTypeError} for an argument of the wrong type (the split: rows, width and labels are checked).
   * @throws {ArgumentRangeError} ``Expected `batchSize` to be an integer from 1 and up, got `0` (number)``;
   * ``Expected `sampling` to be one of `replacement`, `shuffle`, got `"foo"` (string)``; a seed out of range; a split that does not hold whole rows.
   */
  constructor(split: Split, inputSize: number, batchSize: number, sampling: Sampling, seed: number) {
    assertInteger('inputSize', inputSize, 1);
    assertSplit(split, inputSize, 'split');
    assertInteger('batchSize', batchSize, 1);
    assertOneOf('sampling', sampling, SAMPLINGS);
    assertInteger('seed', seed, 0, 0xffffffff);
    this.#split = split;
    this.#inputSize = inputSize;
    this.batchSize = Math.min(batchSize, split.rows);
    this.sampling = sampling;
    this.#random = new Random(seed);
    this.#epochStartState = this.#random.getState();
    // In shared memory, so the gradient pool's workers read the batch in place.
    this.#batch = {
      x: new Float64Array(new SharedArrayBuffer(this.batchSize * inputSize * Float64Array.BYTES_PER_ELEMENT)),
      labels: new Int32Array(new SharedArrayBuffer(this.batchSize * Int32Array.BYTES_PER_ELEMENT)),
      rows: this.batchSize,
    };
  }

  /** Where the sampler is now (JSON-serializable): a sampler given it through {@link setState} draws the same batches from here on. */
  getState(): SamplerState {
    return this.sampling === 'shuffle'
      ? { sampling: this.sampling, random: this.#epochStartState, position: this.#position }
      : { sampling: this.sampling, random: this.#random.getState(), position: 0 };
  }

  /**
   * Continues from what {@link getState} returned (on a sampler built with the same arguments).
   *
   * @throws {ArgumentTypeError} when `state` or `state.random` is not an object.
   * @throws {ArgumentRangeError} ``Expected `state.sampling` to be `shuffle` (this sampler's), got `"replacement"` (string)``;
   * a `state.position` that is not an integer from 0 to the split's rows; a bad `state.random` (see `Random.fromState`).
   */
  setState(state: SamplerState): void {
    assertOptionsObject('state', state, '{ sampling, random, position } from getState()');
    if (state.sampling !== this.sampling) throw argumentRangeError('state.sampling', `\`${this.sampling}\` (this sampler's)`, state.sampling);
    assertInteger('state.position', state.position, 0, this.sampling === 'shuffle' ? this.#split.rows : 0);
    this.#random = Random.fromState(state.random);
    this.#epochStartState = state.random;
    this.#order = null;
    this.#position = 0;
    if (this.sampling === 'shuffle' && state.position > 0) {
      this.#newEpochOrder();
      this.#position = state.position;
    }
  }

  /** The next batch; the returned object and its arrays are reused by the next call. */
  next(): PreparedBatch {
    const rows = this.#split.rows;
    let count = this.batchSize;
    if (this.sampling === 'shuffle') {
      if (this.#order === null || this.#position >= rows) this.#newEpochOrder();
      count = Math.min(this.batchSize, rows - this.#position);
    }
    for (let b = 0; b < count; b++) {
      const row = this.sampling === 'shuffle' ? this.#order![this.#position + b] : this.#random.int(rows);
      this.#batch.x.set(this.#split.x.subarray(row * this.#inputSize, (row + 1) * this.#inputSize), b * this.#inputSize);
      this.#batch.labels[b] = this.#split.labels[row];
    }
    if (this.sampling === 'shuffle') this.#position += count;
    this.#batch.rows = count;
    return this.#batch;
  }

  #newEpochOrder(): void {
    this.#epochStartState = this.#random.getState();
    this.#order = this.#random.permutation(this.#split.rows);
    this.#position = 0;
  }
}
