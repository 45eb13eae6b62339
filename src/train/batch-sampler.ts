/**
 * Mini-batches drawn from a split into one reused buffer, from a seeded
 * stream that a checkpoint can save and continue exactly.
 */
import type { Split } from '../data/dataset.js';
import type { PreparedBatch } from '../nets/two-layer-net.js';
import { Random, type RandomState } from '../random.js';

/** How batches are drawn: with replacement (the book's `np.random.choice`), or shuffled epochs. */
export const SAMPLINGS = ['replacement', 'shuffle'] as const;
export type Sampling = (typeof SAMPLINGS)[number];

/** Where a sampler is in its stream: enough to continue it exactly. */
export interface SamplerState {
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
  readonly batchSize: number;
  readonly sampling: Sampling;
  readonly #split: Split;
  readonly #inputSize: number;
  #random: Random;
  #epochStartState: RandomState;
  #order: Int32Array | null = null;
  #position = 0;
  readonly #batch: PreparedBatch;

  constructor(split: Split, inputSize: number, batchSize: number, sampling: Sampling, seed: number) {
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

  getState(): SamplerState {
    return this.sampling === 'shuffle'
      ? { sampling: this.sampling, random: this.#epochStartState, position: this.#position }
      : { sampling: this.sampling, random: this.#random.getState(), position: 0 };
  }

  setState(state: SamplerState): void {
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
