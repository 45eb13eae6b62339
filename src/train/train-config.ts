/**
 * The configuration of a training run (what `gradpool train` takes, what
 * config.json and checkpoints record) and its defaults: the book's chapter 4
 * recipe. The Trainer and the CLI both read their defaults from here.
 */
import { DEFAULT_ENGINE, type Engine } from '../engine.js';
import type { Activation } from '../kernels/two-layer.js';
import type { Sampling } from './batch-sampler.js';
import type { OptimizerName } from './optimizers.js';

export interface TrainConfig {
  /** A dataset spec (`mnist`, `idx:DIR`, `csv:FILE[,TEST]`, `spiral`, `xor`). */
  dataset: string;
  hiddenSize: number;
  activation: Activation;
  /** Samples per mini-batch (at most the training split's rows). */
  batchSize: number;
  /** The batch size asked for, when it was more than the training split holds (and `batchSize` is that split's size). */
  requestedBatchSize?: number;
  learningRate: number;
  /** Total updates. */
  iterations: number;
  engine: Engine;
  optimizer: OptimizerName;
  sampling: Sampling;
  /** Seed of the initial weights and of the batch sampling. */
  seed: number;
  /** Standard deviation of the normal initial weights. */
  weightInitStd: number;
  /** Evaluate on at most this many evenly spaced samples of each split (absent: all). */
  evaluationLimit?: number;
}

/** The book's recipe: 784-50-10 sigmoid, batch 100, lr 0.1, 10,000 SGD updates, batches drawn with replacement. */
export const TRAINING_DEFAULTS: Readonly<Required<Omit<TrainConfig, 'evaluationLimit' | 'requestedBatchSize'>>> = Object.freeze({
  dataset: 'mnist',
  hiddenSize: 50,
  activation: 'sigmoid',
  batchSize: 100,
  learningRate: 0.1,
  iterations: 10_000,
  engine: DEFAULT_ENGINE,
  optimizer: 'sgd',
  sampling: 'replacement',
  seed: 0,
  weightInitStd: 0.01,
});
