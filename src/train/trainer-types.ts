/** What a Trainer is given, what it reports (its events and summary) and the state that continues it exactly. */
import type { Dataset } from '../data/dataset.js';
import type { Engine } from '../engine.js';
import type { TwoLayerNet } from '../nets/two-layer-net.js';
import type { GradientPool } from '../parallel/gradient-pool.js';
import type { Sampling, SamplerState } from './batch-sampler.js';
import type { Optimizer } from './optimizers.js';

/** What a {@link Trainer} trains, on what, and how. */
export interface TrainerOptions {
  /** The net to train, in place: its `inputSize` and `outputSize` must match the dataset's `inputSize` and `classes`. */
  net: TwoLayerNet;
  /** Its train split feeds the batches; both splits are evaluated every epoch. Each needs at least one row, and labels from 0 to `classes` − 1. */
  dataset: Dataset;
  /** Applies each update, e.g. `createOptimizer('sgd', { learningRate: 0.1 })`. */
  optimizer: Optimizer;
  /** Computes numerical gradients and scores the epoch evaluations; required unless `engine` is `'backprop'` (where it is not used). */
  pool?: GradientPool;
  /**
   * Samples per mini-batch, an integer from 1 and up; more than the train split's rows trains on batches of all of them.
   * @default 100 (the book's)
   */
  batchSize?: number;
  /**
   * Total updates, an integer from 0 and up (0: evaluate only).
   * @default 10_000 (the book's)
   */
  iterations?: number;
  /**
   * How the gradient is computed (see {@link Engine}).
   * @default 'incremental'
   */
  engine?: Engine;
  /**
   * `'replacement'` (the book's `np.random.choice`) or `'shuffle'` (epochs without replacement).
   * @default 'replacement'
   */
  sampling?: Sampling;
  /**
   * Seed of the batch sampling, an integer from 0 to 4294967295.
   * @default 0
   */
  seed?: number;
  /**
   * Evaluate on at most this many evenly spaced samples of each split: an integer from 1 and up, or
   * `Infinity` for all of them.
   * @default Infinity (every sample)
   */
  evaluationLimit?: number;
}

/** The keys of {@link TrainerOptions}; `satisfies` fails the type check until a new option is added here too. */
export const TRAINER_OPTION_KEYS = Object.keys({
  net: true, dataset: true, optimizer: true, pool: true, batchSize: true, iterations: true, engine: true, sampling: true, seed: true, evaluationLimit: true,
} satisfies Record<keyof TrainerOptions, true>);

/** Options of {@link Trainer.step} and {@link Trainer.run}. */
export interface StepOptions {
  /** Aborts the gradient in progress (the pool's workers are terminated and replaced); the step then rejects. Once the update is made, an abort only moves the step's batch loss to the main thread and the step completes. */
  signal?: AbortSignal;
}

/** One update done: what {@link Trainer.step} resolves to and the trainer emits as `'iteration'`. */
export interface IterationEvent {
  /** Updates done so far, this one included (1 after the first step). */
  iteration: number;
  /** Loss of the mini-batch after the update (the book's `train_loss_list`). */
  loss: number;
  /** Milliseconds spent computing the gradient. */
  gradientMilliseconds: number;
}

/**
 * An evaluation of both splits (at most `evaluationLimit` evenly spaced rows of
 * each): what {@link Trainer.evaluate} returns and the trainer emits as `'epoch'`.
 */
export interface EpochEvent {
  /** Epochs done, `iteration / iterationsPerEpoch`: 0 before the first update, fractional for a run that ends mid-epoch. */
  epoch: number;
  /** Updates done when the net was evaluated. */
  iteration: number;
  /** The fraction of the train split classified right, from 0 to 1. */
  trainAccuracy: number;
  /** The fraction of the test split classified right, from 0 to 1. */
  testAccuracy: number;
  /** Mean cross-entropy per row on the train split (the book's loss, with its 1e-7). */
  trainLoss: number;
  /** Mean cross-entropy per row on the test split. */
  testLoss: number;
}

/** Everything needed to continue a run exactly (the net's weights are saved with it). */
export interface TrainerState {
  /** Updates done. */
  iteration: number;
  /** Where the batch sampler is in its seeded stream. */
  sampler: SamplerState;
  /** The optimizer's progress, as {@link Optimizer.loadState} takes it. */
  optimizer: {
    /** Updates the optimizer has applied (Adam's bias correction depends on it). */
    stepCount: number;
    /** Its state tensors by name (copies), e.g. `velocity`; `{}` for SGD or before the first step. */
    state: Record<string, Float64Array>;
  };
  /** Every evaluation so far, oldest first. */
  epochs: EpochEvent[];
}

/** What {@link Trainer.run} resolves to. */
export interface TrainingSummary {
  /** Updates done in all, those of earlier runs or a restored state included. */
  iterations: number;
  /** Every evaluation so far (copies), oldest first; the last is the net as it ends. */
  epochs: EpochEvent[];
  /** The last step's batch loss; NaN when this call took no step. */
  finalLoss: number;
  /** Whether {@link Trainer.stop} ended the run before its `iterations` were done. */
  stopped: boolean;
  /** Wall time of this call, in milliseconds. */
  milliseconds: number;
}

/** The events a {@link Trainer} emits, with their arguments. */
export interface TrainerEvents {
  iteration: [IterationEvent];
  epoch: [EpochEvent];
  /** Something the run does otherwise than it would, said once, when the step that found it is whole: e.g. the pool could not compute a batch loss, so the Trainer computes them on its own thread from then on. */
  warning: [string];
}
