/**
 * The options of `train()` and what it gives back: the run's configuration,
 * its events, its result, and how messages name an option (the CLI's flags or
 * the library's field names).
 */
import type { Dataset } from '../data/dataset.js';
import { ENGINES, type Engine } from '../engine.js';
import { ACTIVATIONS, type NetShape } from '../kernels/two-layer.js';
import type { TwoLayerNet } from '../nets/two-layer-net.js';
import { SAMPLINGS } from '../train/batch-sampler.js';
import { OPTIMIZER_NAMES } from '../train/optimizers.js';
import { TRAINING_DEFAULTS, type TrainConfig } from '../train/train-config.js';
import type { EpochEvent, IterationEvent } from '../train/trainer.js';
import { assertInteger, assertOneOf, assertPositiveFinite } from '../validate.js';

/** The options of {@link train}: the run's configuration (defaults: the book's recipe) and where it goes. */
export interface TrainOptions {
  /** A dataset spec (`mnist`, `idx:DIR`, `csv:FILE[,TEST]`, `spiral`, `xor`) or a loaded Dataset. @default 'mnist' */
  dataset?: string | Dataset;
  /** @default 50 */
  hiddenSize?: number;
  /** @default 'sigmoid' */
  activation?: TrainConfig['activation'];
  /** Samples per mini-batch; more than the training rows uses them all (with a warning). @default 100 */
  batchSize?: number;
  /** With `resume`: the rate to go on at instead of the checkpoint's (a `warning` event says so; the default then is the checkpoint's). @default 0.1 */
  learningRate?: number;
  /** Total updates. @default 10000 */
  iterations?: number;
  /** Instead of `iterations`: epochs of ⌈train rows / batchSize⌉ updates. */
  epochs?: number;
  /** @default 'incremental' */
  engine?: Engine;
  /** @default 'sgd' */
  optimizer?: TrainConfig['optimizer'];
  /** @default 'replacement' */
  sampling?: TrainConfig['sampling'];
  /** Seed of the initial weights and of the batches. @default 0 */
  seed?: number;
  /** @default 0.01 */
  weightInitStd?: number;
  /** Evaluate on at most this many evenly spaced rows of each split. @default every row */
  evaluationLimit?: number;
  /** Worker threads for a numerical engine. @default os.availableParallelism() */
  threads?: number;
  /** The run directory: new, or empty. @default `runs/<timestamp>` (or the resumed run's directory) */
  out?: string;
  /**
   * Continue a run: its directory or its checkpoint.json. The configuration
   * comes from the checkpoint; only `iterations`, `epochs`, `threads`, `out`,
   * `evaluationLimit` and `learningRate` may be given with it. A directory
   * with no checkpoint restarts its run from its config.json, or, when it
   * holds a resume of another run's checkpoint stopped before its first save,
   * resumes that checkpoint again into it (with a warning).
   */
  resume?: string;
  /** Stops the run after the step in progress: a checkpoint is saved and the result has `stopped: true`. */
  signal?: AbortSignal;
  /** Aborts the step in progress as well (its workers are terminated); the checkpoint holds the last finished step. */
  abortStep?: AbortSignal;
  /** Called with every event of the run, in order (see {@link RunEvent}). */
  onEvent?: (event: RunEvent) => void;
  /** Called once the run is set up, before its first step: the net being trained, and checkpoints on request (see {@link RunControl}). */
  onReady?: (run: RunControl) => void;
}

/** A run in progress, as {@link TrainOptions.onReady} gives it. */
export interface RunControl {
  /** The net being trained: its `params` change in place with every update. */
  net: TwoLayerNet;
  /** The run directory, an absolute path: config.json, metrics, checkpoints and, at the end, the model go there. */
  directory: string;
  /**
   * Saves a checkpoint at the next step boundary (at once when no step is
   * running) and resolves to its .json path: by default the run's own
   * checkpoint, else `path` (a stem; `.json`/`.safetensors` dropped). A
   * failed save rejects this call only.
   */
  checkpoint(path?: string): Promise<string>;
}

/** What a run reports as it goes (the CLI's `--json` lines). */
export type RunEvent =
  | {
    /** The run is set up and about to take its first step. */
    event: 'start';
    /** The run directory, an absolute path. */
    directory: string;
    /** The configuration it trains with (a resumed run's comes from its checkpoint). */
    config: TrainConfig;
    /** Worker threads of the gradient pool (none is started for `backprop`). */
    threads: number;
    /** Updates per epoch, ⌈train rows / batch rows⌉. */
    iterationsPerEpoch: number;
    /** Updates already done: 0, or the resumed checkpoint's. */
    startIteration: number;
    /** The checkpoint a resumed run continues; undefined for a new run (or one restarted from its config.json, having no checkpoint). */
    resumedFrom: string | undefined;
    /** Rows of the train split. */
    trainRows: number;
    /** Rows of the test split. */
    testRows: number;
    /** The net's sizes and hidden activation. */
    shape: NetShape;
  }
  | {
    /** Something the run adjusted or advises (a batch larger than the data, more threads than cores), or, mid-run, that the pool could not compute a batch loss (the Trainer's `warning`); also in {@link TrainResult.warnings}. */
    event: 'warning';
    /** One line saying what and why. */
    message: string;
  }
  | ({
    /** One update done (see {@link IterationEvent}). */
    event: 'iteration';
  } & IterationEvent)
  | ({
    /** An evaluation: before a new run's first update, after each epoch and after the last update (see {@link EpochEvent}). */
    event: 'epoch';
    /** Epochs the whole run takes, ⌈iterations / iterationsPerEpoch⌉ (a last partial one counts). */
    totalEpochs: number;
  } & EpochEvent);

/** What {@link train} resolves to. */
export interface TrainResult {
  /** The run directory, an absolute path (config.json, metrics, checkpoint, and the model and charts when it finished). */
  directory: string;
  /** The configuration it trained with, as config.json records it: `iterations` the total (from `epochs` when given), `batchSize` at most the train rows. */
  config: TrainConfig;
  /** Updates already done when this call began: 0, or the resumed checkpoint's. */
  startIteration: number;
  /** Updates done in all (a resumed run counts the checkpoint's). */
  iterations: number;
  /** Whether it stopped early through `signal` (a checkpoint is saved; no model or charts). */
  stopped: boolean;
  /** Wall time of this call's training loop (the steps from `startIteration` on; a resumed run's earlier sessions are not included). */
  milliseconds: number;
  /** The last evaluation's train accuracy, from 0 to 1; `undefined` when none was made. */
  trainAccuracy: number | undefined;
  /** The last evaluation's test accuracy, from 0 to 1; `undefined` when none was made. */
  testAccuracy: number | undefined;
  /** The last step's batch loss (NaN when no step ran, or the last one was aborted). */
  finalLoss: number;
  /** Worker threads of the gradient pool, as asked for or one per core (none is started for `backprop`). */
  threads: number;
  /** Every evaluation of the run, oldest first (a resumed run's include the checkpoint's). */
  epochs: EpochEvent[];
  /** The messages of the run's `warning` events, in order. */
  warnings: string[];
  /** The trained net (its weights as at the end). */
  net: TwoLayerNet;
}

/** How messages name an option: the CLI passes its flags (`--batch`), the library its field names. */
export interface OptionNames {
  (field: 'batchSize' | 'threads' | 'out' | 'resume' | 'iterations' | 'epochs' | 'evaluationLimit' | string): string;
}

export const FIELD_NAMES: OptionNames = (field) => field;

export const RESUMABLE_OPTIONS = ['iterations', 'epochs', 'threads', 'out', 'evaluationLimit', 'learningRate', 'resume', 'signal', 'abortStep', 'onEvent', 'onReady'] as const;
export const OPTION_KEYS = new Set<string>([
  'dataset', 'hiddenSize', 'activation', 'batchSize', 'learningRate', 'optimizer', 'engine', 'sampling', 'seed', 'weightInitStd', ...RESUMABLE_OPTIONS,
]);

/** The options as a checked configuration (defaults filled in). */
export function configOf(options: TrainOptions, datasetName: string): TrainConfig {
  const d = TRAINING_DEFAULTS;
  const config: TrainConfig = {
    dataset: datasetName,
    hiddenSize: options.hiddenSize ?? d.hiddenSize,
    activation: options.activation ?? d.activation,
    batchSize: options.batchSize ?? d.batchSize,
    learningRate: options.learningRate ?? d.learningRate,
    iterations: options.iterations ?? d.iterations,
    engine: options.engine ?? d.engine,
    optimizer: options.optimizer ?? d.optimizer,
    sampling: options.sampling ?? d.sampling,
    seed: options.seed ?? d.seed,
    weightInitStd: options.weightInitStd ?? d.weightInitStd,
    ...(options.evaluationLimit === undefined ? {} : { evaluationLimit: options.evaluationLimit }),
  };
  assertInteger('hiddenSize', config.hiddenSize, 1);
  assertOneOf('activation', config.activation, ACTIVATIONS);
  assertInteger('batchSize', config.batchSize, 1);
  assertPositiveFinite('learningRate', config.learningRate);
  assertInteger('iterations', config.iterations, 0);
  assertOneOf('engine', config.engine, ENGINES);
  assertOneOf('optimizer', config.optimizer, OPTIMIZER_NAMES);
  assertOneOf('sampling', config.sampling, SAMPLINGS);
  assertInteger('seed', config.seed, 0, 0xffffffff);
  assertPositiveFinite('weightInitStd', config.weightInitStd);
  return config;
}
