/**
 * The one mapping between a {@link Trainer} and its checkpoint: what a
 * checkpoint records of a trainer (its configuration, optimizer, sampler and
 * epochs), and a trainer rebuilt from one, checked against the checkpoint's
 * schemas (checkpoint-json.ts, train-config.ts). `Trainer#saveCheckpoint`,
 * `Trainer.fromCheckpoint`, `train()` and the CLI all go through here.
 */
import type { Dataset } from '../data/dataset.js';
import { InputError } from '../errors.js';
import { TwoLayerNet } from '../nets/two-layer-net.js';
import type { GradientPool } from '../parallel/gradient-pool.js';
import { argumentTypeError, assertOptionsObject } from '../validate.js';
import { type Checkpoint, loadCheckpoint, type SaveCheckpointInput } from './checkpoint.js';
import { savedFilePath } from './model-file.js';
import { parseTrainerSection, type TrainerSection } from './checkpoint-json.js';
import { createOptimizer } from './optimizers.js';
import { parseTrainConfig, type TrainConfig } from './train-config.js';
import type { Trainer, TrainerOptions, TrainerState } from './trainer.js';

/**
 * The configuration a trainer's checkpoint records: what the trainer knows
 * (shape, batch size, iterations, engine, optimizer and learning rate,
 * sampling, seed, evaluation limit, the dataset's name), over which `extra`
 * is laid (e.g. the dataset spec it was loaded from, the initial weights' std).
 */
export function trainerConfig(trainer: Trainer, extra: Partial<TrainConfig> = {}): TrainConfig {
  const { net, optimizer } = trainer;
  const learningRate = optimizer.hyperparameters.learningRate;
  return {
    dataset: trainer.dataset.name,
    hiddenSize: net.shape.hiddenSize,
    activation: net.shape.activation,
    batchSize: trainer.batchSize,
    learningRate: typeof learningRate === 'number' ? learningRate : Number.NaN,
    iterations: trainer.iterations,
    engine: trainer.engine,
    optimizer: optimizer.name as TrainConfig['optimizer'],
    sampling: trainer.sampling,
    seed: trainer.seed,
    ...(Number.isFinite(trainer.evaluationLimit) ? { evaluationLimit: trainer.evaluationLimit } : {}),
    ...extra,
  };
}

/**
 * The checkpoint of `trainer` as it is now, for `saveCheckpoint`: the weights
 * copied, so the trainer may go on while it is written. Call it at a step
 * boundary (between `step()` calls, or from an `iteration`/`epoch` listener).
 */
export function trainerCheckpoint(trainer: Trainer, config: Partial<TrainConfig> = {}): SaveCheckpointInput {
  const state = trainer.getState();
  const { net, optimizer } = trainer;
  return {
    params: net.params.slice(),
    shape: net.shape,
    optimizerState: state.optimizer.state,
    meta: {
      iteration: state.iteration,
      epoch: state.iteration / trainer.iterationsPerEpoch,
      config: { ...trainerConfig(trainer, config) },
      optimizer: { name: optimizer.name, hyperparameters: optimizer.hyperparameters, step: state.optimizer.stepCount },
      random: state.sampler.random,
      trainer: { sampler: state.sampler, epochs: state.epochs },
    },
  };
}

/** A checkpoint read for a trainer: its configuration and trainer section checked, with the file they came from. */
export interface TrainerCheckpoint {
  checkpoint: Checkpoint;
  config: TrainConfig;
  trainer: TrainerSection;
}

/** Checks what a trainer needs from `checkpoint`: every defect is an InputError naming the file and the field. */
export function readTrainerCheckpoint(checkpoint: Checkpoint): TrainerCheckpoint {
  const config = parseTrainConfig(checkpoint.meta.config, 'checkpoint', checkpoint.source, { field: 'config' });
  const trainer = parseTrainerSection(checkpoint.meta.trainer, checkpoint.source);
  if (trainer.sampler.sampling !== config.sampling) {
    throw new InputError(`Invalid checkpoint \`${checkpoint.source}\`: expected "trainer.sampler.sampling" to be "${config.sampling}" (the run's "sampling"), got "${trainer.sampler.sampling}"`);
  }
  return { checkpoint, config, trainer };
}

/** The state to give `Trainer#setState` to continue from a checkpoint read by {@link readTrainerCheckpoint}. */
export function trainerStateOf({ checkpoint, trainer }: TrainerCheckpoint): TrainerState {
  return {
    iteration: checkpoint.meta.iteration,
    sampler: trainer.sampler,
    optimizer: { stepCount: checkpoint.meta.optimizer.step, state: checkpoint.optimizerState },
    epochs: trainer.epochs,
  };
}

/** What `Trainer.fromCheckpoint` needs beside the checkpoint. */
export interface RestoreTrainerOptions {
  /** The dataset to go on training on (the checkpoint records only its name): same inputs and classes. */
  dataset: Dataset;
  /** The pool for a numerical engine (the checkpoint's `engine`); not needed for backprop. */
  pool?: GradientPool;
  /** Train to this many updates in all instead of the checkpoint's `iterations` (at least its iteration). */
  iterations?: number;
  /** Evaluate on at most this many rows of each split instead of the checkpoint's choice. */
  evaluationLimit?: number;
  /** Go on at this learning rate instead of the checkpoint's (e.g. a DivergenceError's `suggestedLearningRate`); its other hyperparameters and state are kept. */
  learningRate?: number;
}

/**
 * The Trainer options and state a checkpoint stands for: a net with its
 * weights, the optimizer with its hyperparameters and state, the sampler
 * where it was. `Trainer.fromCheckpoint` builds the trainer from them.
 */
export async function restoredTrainer(path: string | Checkpoint, options: RestoreTrainerOptions): Promise<{ options: TrainerOptions; state: TrainerState; config: TrainConfig }> {
  const given: unknown = options;
  assertOptionsObject('options', given, '{ dataset, pool }');
  const { dataset, pool, iterations, evaluationLimit, learningRate } = options;
  const pathGiven: unknown = path;
  const loaded = (value: unknown) => typeof value === 'object' && value !== null
    && (value as Checkpoint).params instanceof Float64Array && typeof (value as Checkpoint).shape === 'object' && typeof (value as Checkpoint).meta === 'object';
  if ((typeof pathGiven !== 'string' || pathGiven === '') && !loaded(pathGiven)) {
    throw argumentTypeError('path', 'a run directory, a checkpoint file or a Checkpoint from loadCheckpoint', pathGiven);
  }
  const checkpoint = typeof path === 'string' ? await loadCheckpoint(savedFilePath('path', path, 'checkpoint.json')) : path;
  const read = readTrainerCheckpoint(checkpoint);
  const { config } = read;
  if (dataset?.inputSize !== checkpoint.shape.inputSize || dataset?.classes !== checkpoint.shape.outputSize) {
    throw new InputError(`Expected \`dataset\` to have the checkpoint's ${checkpoint.shape.inputSize} inputs and ${checkpoint.shape.outputSize} classes, got ${dataset?.inputSize} and ${dataset?.classes} (${dataset?.name})`);
  }
  const net = TwoLayerNet.fromParameters(checkpoint.shape, checkpoint.params);
  const hyperparameters = checkpoint.meta.optimizer.hyperparameters as Record<string, number>;
  const optimizer = createOptimizer(checkpoint.meta.optimizer.name, learningRate === undefined ? hyperparameters : { ...hyperparameters, learningRate });
  const limit = evaluationLimit ?? config.evaluationLimit;
  return {
    options: {
      net, dataset, optimizer, pool, batchSize: config.batchSize, iterations: iterations ?? config.iterations, engine: config.engine,
      sampling: config.sampling, seed: config.seed, ...(limit === undefined ? {} : { evaluationLimit: limit }),
    },
    state: trainerStateOf(read),
    config,
  };
}
