/**
 * `train(options)`: what `gradpool train` does, for scripts. It loads the
 * dataset, builds the net, the pool and the Trainer, writes the run directory
 * (config.json, metrics, a checkpoint every epoch, the final model, charts)
 * and resumes a run from its directory. The CLI is this call plus option
 * parsing, progress output and Ctrl-C.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { loadDataset } from '../../datasets/index.js';
import type { Dataset } from '../data/dataset.js';
import { ENGINES, type Engine } from '../engine.js';
import { DivergenceError, GradientAbortError, InputError } from '../errors.js';
import { removeTemporaryFiles, TEMPORARY_FILE } from '../io/atomic-write.js';
import { makeDirectory } from '../io/make-directory.js';
import { ACTIVATIONS, type NetShape } from '../kernels/two-layer.js';
import { TwoLayerNet } from '../nets/two-layer-net.js';
import { GradientPool, MAX_THREADS } from '../parallel/gradient-pool.js';
import { SAMPLINGS } from '../train/batch-sampler.js';
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from '../train/checkpoint.js';
import { readTrainerCheckpoint, trainerCheckpoint, trainerStateOf, type TrainerCheckpoint } from '../train/trainer-checkpoint.js';
import { savedFilePath } from '../train/model-file.js';
import { createOptimizer, OPTIMIZER_NAMES } from '../train/optimizers.js';
import { RunRecorder } from '../train/run-recorder.js';
import { parseTrainConfig, TRAINING_DEFAULTS, type TrainConfig } from '../train/train-config.js';
import { type EpochEvent, type IterationEvent, Trainer } from '../train/trainer.js';
import { assertInteger, assertOneOf, assertOptionsObject, assertPositiveFinite, describe } from '../validate.js';
import { RUN_FILES, describeWriteError } from './run-files.js';

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
  /** @default 0.1 */
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
   * comes from the checkpoint; only `iterations`, `epochs`, `threads`, `out`
   * and `evaluationLimit` may be given with it.
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
  | { event: 'start'; directory: string; config: TrainConfig; threads: number; iterationsPerEpoch: number; startIteration: number; trainRows: number; testRows: number; shape: NetShape }
  | { event: 'warning'; message: string }
  | ({ event: 'iteration' } & IterationEvent)
  | ({ event: 'epoch'; totalEpochs: number } & EpochEvent);

/** What {@link train} resolves to. */
export interface TrainResult {
  directory: string;
  config: TrainConfig;
  /** Updates done in all (a resumed run counts the checkpoint's). */
  iterations: number;
  /** Whether it stopped early through `signal` (a checkpoint is saved; no model or charts). */
  stopped: boolean;
  /** Wall time of the training loop. */
  milliseconds: number;
  /** The last epoch's evaluation. */
  trainAccuracy: number | undefined;
  testAccuracy: number | undefined;
  /** The last step's batch loss (NaN when no step ran, or the last one was aborted). */
  finalLoss: number;
  threads: number;
  epochs: EpochEvent[];
  warnings: string[];
  /** The trained net (its weights as at the end). */
  net: TwoLayerNet;
}

/** A save that failed (disk full, no permission, …): the run stopped; the last good checkpoint is intact. */
export class RunSaveError extends Error {
  override name = 'RunSaveError';
}

/**
 * The run diverged; `checkpoint` is the last good checkpoint to resume from
 * (none when no epoch had ended). The metrics up to the divergence are saved.
 */
export class RunDivergedError extends DivergenceError {
  override name = 'RunDivergedError';
  readonly checkpoint: string | undefined;
  /** The iteration the run stopped at (its last good step). */
  readonly iteration: number;

  constructor(message: string, { checkpoint, iteration, cause }: { checkpoint: string | undefined; iteration: number; cause?: unknown }) {
    super(message, { cause });
    this.checkpoint = checkpoint;
    this.iteration = iteration;
  }
}

/** How messages name an option: the CLI passes its flags (`--batch`), the library its field names. */
export interface OptionNames {
  (field: 'batchSize' | 'threads' | 'out' | 'resume' | 'iterations' | 'epochs' | 'evaluationLimit' | string): string;
}

const FIELD_NAMES: OptionNames = (field) => field;

const RESUMABLE_OPTIONS = ['iterations', 'epochs', 'threads', 'out', 'evaluationLimit', 'resume', 'signal', 'abortStep', 'onEvent', 'onReady'] as const;
const OPTION_KEYS = new Set<string>([
  'dataset', 'hiddenSize', 'activation', 'batchSize', 'learningRate', 'optimizer', 'engine', 'sampling', 'seed', 'weightInitStd', ...RESUMABLE_OPTIONS,
]);
/** The configuration fields a resumed run may change (and that config.json may hold from a resume killed before its first save). */
const RESUMABLE_CONFIG_FIELDS = new Set<keyof TrainConfig>(['iterations', 'evaluationLimit']);
/** What config.json records beside the run's configuration (what it ran with). */
const RECORDED_FIELDS = { threads: z.int().min(1).optional(), shape: z.unknown().optional() };

function timestamp(): string {
  return new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
}

/**
 * Creates and returns `base`, or `base-2`, `base-3`, … when runs started within
 * the same second: the non-recursive mkdir claims a name atomically, so runs
 * started in parallel never share a directory.
 */
export async function claimRunDirectory(base: string): Promise<string> {
  await makeDirectory(dirname(resolve(base)));
  for (let n = 1; ; n += 1) {
    const candidate = resolve(n === 1 ? base : `${base}-${n}`);
    try {
      await mkdir(candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** The run configuration in `file` (a run's config.json), checked field by field. */
async function readRunConfig(file: string): Promise<TrainConfig> {
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError(`Invalid run configuration \`${file}\`: expected JSON, got ${(error as Error).message}`);
  }
  return parseTrainConfig(saved, 'run configuration', file, { extra: RECORDED_FIELDS });
}

/**
 * Refuses a config.json edited since the checkpoint was saved: the checkpoint's
 * configuration is what the run continues with, and an edit taking no effect
 * unseen would be worse than either.
 */
async function checkConfigUnchanged(directory: string, config: TrainConfig, source: string): Promise<void> {
  const file = join(directory, 'config.json');
  if (!existsSync(file)) return;
  const recorded = await readRunConfig(file);
  const keys = new Set([...Object.keys(config), ...Object.keys(recorded)] as Array<keyof TrainConfig>);
  for (const key of keys) {
    if (RESUMABLE_CONFIG_FIELDS.has(key) || recorded[key] === config[key]) continue;
    const shown = (value: unknown) => (value === undefined ? 'nothing' : `\`${JSON.stringify(value)}\``);
    throw new InputError(`Expected \`${file}\` to match the checkpoint \`${source}\`, got "${key}" ${shown(recorded[key])} there and ${shown(config[key])} in the checkpoint: `
      + 'a run keeps its configuration when resumed; undo the edit, or start a new run with the new value');
  }
}

/** What `resume` continues: a checkpoint, or a run killed before its first one, restarted from its config.json. */
type Resumption =
  | { kind: 'checkpoint'; file: string; directory: string; checkpoint: Checkpoint; config: TrainConfig; read: TrainerCheckpoint }
  | { kind: 'restart'; directory: string; config: TrainConfig };

async function resolveResume(path: string, name: OptionNames): Promise<Resumption> {
  if (existsSync(path) && statSync(path).isDirectory()
    && !existsSync(join(path, 'checkpoint.json')) && !existsSync(join(path, 'checkpoint.safetensors')) && existsSync(join(path, 'config.json'))) {
    return { kind: 'restart', directory: resolve(path), config: await readRunConfig(join(path, 'config.json')) };
  }
  const file = savedFilePath(name('resume'), path, 'checkpoint.json');
  const checkpoint = await loadCheckpoint(file);
  const read = readTrainerCheckpoint(checkpoint);
  const directory = dirname(resolve(file));
  await checkConfigUnchanged(directory, read.config, checkpoint.source);
  return { kind: 'checkpoint', file, directory, checkpoint, config: read.config, read };
}

/** The options as a checked configuration (defaults filled in). */
function configOf(options: TrainOptions, datasetName: string): TrainConfig {
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

/** Checks that `out` can hold a new run (not a file, not another run, nothing else in it), before any dataset loads. */
function checkOut(out: string, resumedDirectory: string | undefined, name: OptionNames): void {
  if (out === '') throw new InputError(`Expected \`${name('out')}\` to be a directory for the run, got an empty path`);
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new InputError(`Expected \`${name('out')}\` to be a directory for the run, got \`${out}\`, which is a file`);
  }
  if (resolve(out) === resumedDirectory || !existsSync(out)) return;
  // Another run's files would be overwritten and its curves mixed with this run's.
  const held = RUN_FILES.find((file) => existsSync(join(out, file)));
  if (held !== undefined) {
    throw new InputError(`Expected \`${name('out')}\` to be a directory without another run, got \`${out}\`, which holds one (${held}); choose another directory, or continue that run with \`${name('resume')} ${out}\``);
  }
  // A run's nine files scattered among someone else's (the system's temporary folder, say) are hard to find and to remove.
  const foreign = readdirSync(out).find((entry) => !TEMPORARY_FILE.test(entry));
  if (foreign !== undefined) {
    throw new InputError(`Expected \`${name('out')}\` to be a new or empty directory, got \`${out}\`, which holds other files (e.g. \`${foreign}\`); choose a new directory such as \`${join(out, 'run')}\``);
  }
}

/**
 * Trains TwoLayerNet as `gradpool train` does and saves the run in a
 * directory: config.json, metrics.jsonl/.csv, a checkpoint at every epoch
 * (kill-safe: see checkpoint.ts), and at the end model.safetensors/.json and
 * the training charts. Resumes a run (`resume`) exactly, bit for bit.
 *
 * @param options - see {@link TrainOptions}; every field is optional (the book's recipe on the bundled MNIST digits).
 * @param names - how messages name an option (the CLI passes its flags); by default the field names.
 * @returns the run's summary and its net.
 * @throws {InputError} for a bad dataset, run directory or checkpoint (one line naming the file or option).
 * @throws {ArgumentTypeError} / {ArgumentRangeError} for an option of the wrong type or range.
 * @throws {RunDivergedError} when training diverges (the last good checkpoint is named).
 * @throws {RunSaveError} when a file of the run cannot be written (disk full, …).
 * @example
 * const result = await train({ dataset: 'spiral', hiddenSize: 20, learningRate: 1, epochs: 5, threads: 2, out: 'runs/spiral' });
 * console.log(result.testAccuracy);
 */
export async function train(options: TrainOptions = {}, names: OptionNames = FIELD_NAMES): Promise<TrainResult> {
  const given: unknown = options;
  assertOptionsObject('options', given, '{ dataset: \'mnist\', epochs: 1 }');
  const unknown = Object.keys(options).find((key) => !OPTION_KEYS.has(key));
  if (unknown !== undefined) throw new InputError(`Unknown option \`${unknown}\` for train(); see TrainOptions`);
  if (options.iterations !== undefined && options.epochs !== undefined) {
    throw new InputError(`Expected either \`${names('iterations')}\` or \`${names('epochs')}\`, got both`);
  }
  if (options.epochs !== undefined) assertInteger(names('epochs'), options.epochs, 1);
  const threads = options.threads ?? os.availableParallelism();
  assertInteger(names('threads'), threads, 1, MAX_THREADS);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(options.signal)}`);
  if (options.abortStep !== undefined && !(options.abortStep instanceof AbortSignal)) throw new TypeError(`Expected \`abortStep\` to be an AbortSignal, got ${describe(options.abortStep)}`);
  const emit = options.onEvent ?? (() => undefined);

  const resumption = options.resume === undefined ? undefined : await resolveResume(options.resume, names);
  const checkpoint = resumption?.kind === 'checkpoint' ? resumption.checkpoint : undefined;
  let config: TrainConfig;
  if (resumption) {
    const given = Object.keys(options).find((key) => !(RESUMABLE_OPTIONS as readonly string[]).includes(key) && options[key as keyof TrainOptions] !== undefined);
    if (given !== undefined) {
      throw new InputError(`Expected only ${names('iterations')}, ${names('epochs')}, ${names('threads')}, ${names('out')} or ${names('evaluationLimit')} with \`${names('resume')}\` (the rest comes from the checkpoint), got \`${names(given)}\``);
    }
    config = { ...resumption.config, iterations: options.iterations ?? resumption.config.iterations };
    if (options.evaluationLimit !== undefined) {
      assertInteger(names('evaluationLimit'), options.evaluationLimit, 1);
      config.evaluationLimit = options.evaluationLimit;
    }
  } else {
    const spec = options.dataset ?? TRAINING_DEFAULTS.dataset;
    config = configOf(options, typeof spec === 'string' ? spec : spec.name);
  }

  // Checked before the dataset loads: a taken directory should not cost a large dataset's load.
  const resumedDirectory = resumption?.directory;
  if (options.out !== undefined) checkOut(options.out, resumedDirectory, names);

  const dataset = typeof options.dataset === 'object' && !resumption ? options.dataset : await loadDataset(config.dataset);
  const warnings: string[] = [];
  /** A value the run uses other than the one asked for, or a choice likely to hurt: said at once, never silently. */
  const warn = (message: string) => {
    warnings.push(message);
    emit({ event: 'warning', message });
  };
  if (config.batchSize > dataset.train.rows) {
    warn(`\`${names('batchSize')} ${config.batchSize}\` is more than the ${dataset.train.rows} training rows of ${config.dataset}: using batches of ${dataset.train.rows}`);
    config.requestedBatchSize = config.batchSize;
    config.batchSize = dataset.train.rows;
  }
  const cores = os.availableParallelism();
  if (config.engine !== 'backprop' && threads > cores) {
    warn(`\`${names('threads')} ${threads}\` is more than the ${cores} cores of this machine: the extra threads share cores and each costs memory; \`${names('threads')} ${cores}\` is usually fastest`);
  }
  const iterationsPerEpoch = Math.ceil(dataset.train.rows / config.batchSize);
  if (options.epochs !== undefined) config.iterations = options.epochs * iterationsPerEpoch;

  const shape: NetShape = { inputSize: dataset.inputSize, hiddenSize: config.hiddenSize, outputSize: dataset.classes, activation: config.activation };
  if (checkpoint && (checkpoint.shape.inputSize !== dataset.inputSize || checkpoint.shape.outputSize !== dataset.classes)) {
    throw new InputError(`${checkpoint.source}: expected a checkpoint for ${dataset.inputSize} inputs and ${dataset.classes} classes (dataset ${config.dataset}), found ${checkpoint.shape.inputSize} and ${checkpoint.shape.outputSize}`);
  }
  // A checkpoint that already holds every iteration (killed after its final save) only needs its model and charts written.
  if (checkpoint && config.iterations < checkpoint.meta.iteration) {
    const given = options.epochs !== undefined ? `\`${names('epochs')} ${options.epochs}\` (${config.iterations} iterations)` : `${config.iterations} iterations`;
    throw new InputError(`Expected at least the checkpoint's ${checkpoint.meta.iteration} iterations to resume to, got ${given}; raise \`${names('iterations')}\` or \`${names('epochs')}\``);
  }
  const net = checkpoint ? TwoLayerNet.fromParameters(checkpoint.shape, checkpoint.params) : new TwoLayerNet({ ...shape, weightInitStd: config.weightInitStd, seed: config.seed });

  let directory: string;
  if (options.out !== undefined) {
    directory = resolve(options.out);
    try {
      await makeDirectory(directory);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'a file is in the way' : (error as Error).message;
      throw new InputError(`Expected \`${names('out')}\` to be a directory gradpool can create, got \`${options.out}\`: ${reason}`);
    }
  } else {
    directory = resumedDirectory ?? await claimRunDirectory(join('runs', timestamp()));
  }
  const recorder = new RunRecorder(directory);

  const pool = config.engine === 'backprop' ? undefined : new GradientPool({ threads });
  try {
    const optimizer = createOptimizer(config.optimizer, { learningRate: config.learningRate });
    const trainer = new Trainer({
      net, dataset, optimizer, pool, batchSize: config.batchSize, iterations: config.iterations, engine: config.engine,
      sampling: config.sampling, seed: config.seed, ...(config.evaluationLimit === undefined ? {} : { evaluationLimit: config.evaluationLimit }),
    });
    // Kills midway through earlier saves leave temporary files; nothing refers to them.
    await removeTemporaryFiles(directory);
    // First, so that a directory with anything else in it can be restarted by `resume`.
    await recorder.writeConfig({ ...config, threads, dataset: config.dataset, shape });
    if (resumption?.kind === 'checkpoint') {
      trainer.setState(trainerStateOf(resumption.read));
      await recorder.loadUntil(resumedDirectory ?? directory, trainer.iteration, trainer.epochs);
    } else {
      await recorder.start();
    }
    return await runTrainer({ trainer, recorder, config, shape, directory, threads, iterationsPerEpoch, options, emit, warnings, dataset, resumeFile: resumption?.kind === 'checkpoint' ? resumption.file : undefined });
  } finally {
    await pool?.destroy();
  }
}

interface RunContext {
  trainer: Trainer;
  recorder: RunRecorder;
  config: TrainConfig;
  shape: NetShape;
  directory: string;
  threads: number;
  iterationsPerEpoch: number;
  options: TrainOptions;
  emit: (event: RunEvent) => void;
  warnings: string[];
  dataset: Dataset;
  resumeFile: string | undefined;
}

/** The training loop of a prepared run: checkpoints every epoch, stopping, divergence, the final model and charts. */
async function runTrainer(context: RunContext): Promise<TrainResult> {
  const { trainer, recorder, config, shape, directory, threads, iterationsPerEpoch, options, emit, warnings, dataset } = context;
  const { net, optimizer } = trainer;
  const checkpointPath = join(directory, 'checkpoint');
  let writes: Promise<void> = Promise.resolve();
  /** The first save that failed: the run stops at the next step boundary and reports it. */
  let saveError: unknown;
  /** The run's state now, for a checkpoint: call only at a step boundary. */
  const capture = () => trainerCheckpoint(trainer, config);
  // Captured synchronously at the step boundary, written in the background: metrics
  // first, then the checkpoint, whose rename is the save's commit point.
  const saveState = (path: string, selfContained = true) => {
    const checkpoint = capture();
    writes = writes.then(async () => {
      if (saveError !== undefined) return;
      try {
        await recorder.flushMetrics(checkpoint.meta.iteration);
        await saveCheckpoint(path, { ...checkpoint, selfContained });
        await recorder.writeCsv();
      } catch (error) {
        saveError = error;
        trainer.stop();
      }
    });
    return writes;
  };
  /** Checkpoints asked for through {@link RunControl.checkpoint}, saved at the next step boundary. */
  let requests: Array<{ path: string; resolve: (file: string) => void; reject: (error: unknown) => void }> = [];
  let stepping = false;
  const serveRequests = () => {
    const now = requests;
    requests = [];
    for (const { path, resolve: done, reject } of now) {
      const checkpoint = capture();
      const saved = writes.then(async () => {
        await recorder.flushMetrics(checkpoint.meta.iteration);
        await saveCheckpoint(path, checkpoint);
      });
      writes = saved.catch(() => undefined);
      saved.then(() => done(`${path.replace(/\.(json|safetensors)$/, '')}.json`), reject);
    }
  };
  const control: RunControl = {
    net,
    directory,
    checkpoint(path = checkpointPath) {
      if (typeof path !== 'string' || path === '') return Promise.reject(new TypeError(`Expected \`path\` to be a checkpoint path, got ${describe(path)}`));
      return new Promise((resolveRequest, reject) => {
        requests.push({ path: resolve(path), resolve: resolveRequest, reject });
        if (!stepping) serveRequests();
      });
    },
  };
  /** Throws the first failed save as one line: which file, the errno, and the last checkpoint that is intact. */
  const throwSaveError = async () => {
    await writes;
    if (saveError === undefined) return;
    const last = await loadCheckpoint(checkpointPath).then((c) => `the last good checkpoint (iteration ${c.meta.iteration}) is intact: ${checkpointPath}.safetensors`, () => 'no checkpoint was saved');
    throw new RunSaveError(`Cannot save the run: ${describeWriteError(saveError)}; ${last}`, { cause: saveError });
  };

  const totalEpochs = Math.ceil(config.iterations / iterationsPerEpoch);
  trainer.on('iteration', (event) => {
    recorder.iterations.push(event);
    emit({ event: 'iteration', ...event });
    // At an epoch's last step the state is complete only after its evaluation: the epoch event serves them.
    const evaluates = event.iteration % iterationsPerEpoch === 0 || event.iteration === config.iterations;
    if (requests.length > 0 && !evaluates) serveRequests();
  });
  trainer.on('epoch', (event) => {
    recorder.epochs.push(event);
    emit({ event: 'epoch', totalEpochs, ...event });
    if (event.iteration > 0) void saveState(checkpointPath);
    if (requests.length > 0) serveRequests();
  });
  const onStop = () => trainer.stop();
  if (options.signal?.aborted) trainer.stop();
  options.signal?.addEventListener('abort', onStop);
  emit({ event: 'start', directory, config, threads, iterationsPerEpoch, startIteration: trainer.iteration, trainRows: dataset.train.rows, testRows: dataset.test.rows, shape });
  options.onReady?.(control);
  try {
    const runStarted = performance.now();
    stepping = true;
    const summary = await trainer.run({ signal: options.abortStep }).catch((error: unknown) => {
      // An aborted step leaves the trainer at the last finished one: that is what gets saved.
      if (!(options.abortStep?.aborted === true && error instanceof GradientAbortError)) throw error;
      return { iterations: trainer.iteration, epochs: [...trainer.epochs], finalLoss: Number.NaN, stopped: true, milliseconds: performance.now() - runStarted };
    }).then((finished) => {
      stepping = false;
      serveRequests();
      return finished;
    }, (error: unknown) => {
      stepping = false;
      // A failed or diverged step leaves no state worth saving.
      for (const request of requests.splice(0)) request.reject(error);
      throw error;
    });
    await throwSaveError();
    await saveState(checkpointPath);
    await throwSaveError();
    const last = summary.epochs.at(-1);
    const stopped = summary.iterations < config.iterations;
    if (!stopped) {
      // The model of a run already at its last iteration: rewritten whole, so a kill during its writes is undone.
      await saveState(join(directory, 'model'), false);
      await throwSaveError();
      await recorder.writeCharts(`TwoLayerNet ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} on ${config.dataset} (${config.engine} gradient)`);
    }
    return {
      directory, config, iterations: summary.iterations, stopped, milliseconds: summary.milliseconds,
      trainAccuracy: last?.trainAccuracy, testAccuracy: last?.testAccuracy, finalLoss: summary.finalLoss, threads, epochs: summary.epochs, warnings, net,
    };
  } catch (error) {
    await writes.catch(() => undefined);
    if (error instanceof DivergenceError && !(error instanceof RunDivergedError)) {
      await recorder.flushMetrics(trainer.iteration).then(() => recorder.writeCsv(), () => undefined);
      // Resumed into a new directory and diverged before its first epoch: the resumed checkpoint is the last good one.
      const good = existsSync(`${checkpointPath}.safetensors`) ? `${checkpointPath}.json` : context.resumeFile;
      throw new RunDivergedError(error.message, { checkpoint: good, iteration: trainer.iteration, cause: error });
    }
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onStop);
    await writes.catch(() => undefined);
  }
}
