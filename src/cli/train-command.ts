/** `gradpool train`: a training run from the command line, with progress, checkpoints and resumption. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { loadDataset } from '../../datasets/index.js';
import { ACTIVATIONS } from '../kernels/two-layer.js';
import { TwoLayerNet } from '../nets/two-layer-net.js';
import { GradientPool, MAX_THREADS } from '../parallel/gradient-pool.js';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { removeTemporaryFiles, TEMPORARY_FILE } from '../io/atomic-write.js';
import { savedFilePath } from './model-file.js';
import { createOptimizer, OPTIMIZER_NAMES } from '../train/optimizers.js';
import { RunRecorder } from '../train/run-recorder.js';
import { SAMPLINGS } from '../train/batch-sampler.js';
import { DivergenceError, Trainer, type TrainerState } from '../train/trainer.js';
import { TRAINING_DEFAULTS, type TrainConfig } from '../train/train-config.js';
import { describeEngine, ENGINES, LEGACY_ENGINE_NAMES } from '../engine.js';
import { GradientAbortError, InputError } from '../errors.js';
import { makeDirectory } from '../io/make-directory.js';
import { helpText, parseOptions, type OptionTable } from './options.js';
import { createProgress } from './progress.js';
import { formatDuration } from '../report/format-duration.js';
import type { CommandIo } from './io.js';

export const TRAIN_OPTIONS = {
  dataset: { type: 'string', default: TRAINING_DEFAULTS.dataset, placeholder: 'SPEC', description: 'mnist (bundled 8,000/2,000 digits), idx:DIR, csv:FILE[,TEST], spiral or xor' },
  hidden: { type: 'integer', min: 1, max: 100_000, default: TRAINING_DEFAULTS.hiddenSize, description: 'Hidden units' },
  activation: { type: 'choice', choices: ACTIVATIONS, default: TRAINING_DEFAULTS.activation, description: 'Hidden activation' },
  batch: { type: 'integer', min: 1, max: 1_000_000, default: TRAINING_DEFAULTS.batchSize, description: 'Mini-batch size' },
  lr: { type: 'number', min: 0, exclusiveMin: true, default: TRAINING_DEFAULTS.learningRate, placeholder: 'RATE', description: 'Learning rate' },
  iters: { type: 'integer', min: 0, default: TRAINING_DEFAULTS.iterations, description: 'Iterations (updates); see also --epochs' },
  epochs: { type: 'integer', min: 1, description: 'Epochs of ⌈train size / batch⌉ iterations (instead of --iters)' },
  threads: { type: 'integer', min: 1, max: MAX_THREADS, default: os.availableParallelism(), description: 'Worker threads for the gradient' },
  engine: { type: 'choice', choices: ENGINES, default: TRAINING_DEFAULTS.engine, description: 'Gradient: exact numerical (incremental, parallel), the book\'s naive numerical (parallel), or backprop' },
  grad: { type: 'alias', of: 'engine', values: LEGACY_ENGINE_NAMES, description: 'Old name of --engine (numerical = incremental), kept for one version' },
  optimizer: { type: 'choice', choices: OPTIMIZER_NAMES, default: TRAINING_DEFAULTS.optimizer, description: 'Parameter update' },
  sampling: { type: 'choice', choices: SAMPLINGS, default: TRAINING_DEFAULTS.sampling, description: 'Batches drawn at random with replacement (the book) or shuffled epochs' },
  seed: { type: 'integer', min: 0, max: 0xffffffff, default: TRAINING_DEFAULTS.seed, description: 'Seed of the initial weights and the batch sampling' },
  'weight-init-std': { type: 'number', min: 0, exclusiveMin: true, default: TRAINING_DEFAULTS.weightInitStd, placeholder: 'STD', description: 'Standard deviation of the initial weights' },
  'eval-limit': { type: 'integer', min: 1, description: 'Evaluate accuracy on N evenly spaced samples of each split (default: all)' },
  out: { type: 'string', placeholder: 'DIR', description: 'Run directory, new or without another run in it (default: runs/<timestamp>)' },
  resume: { type: 'string', placeholder: 'RUN', description: 'Continue a run: its directory or its checkpoint.json' },
  json: { type: 'boolean', description: 'JSON-lines events and a final summary on stdout' },
  quiet: { type: 'boolean', description: 'No progress output' },
} as const satisfies OptionTable;

/** A run's saved configuration with the names of version 0.1 (`gradient: 'numerical'`) read as today's. */
function upgradeConfig(saved: Record<string, unknown>): TrainConfig {
  const { gradient, ...rest } = saved;
  if (rest.engine === undefined && typeof gradient === 'string') rest.engine = LEGACY_ENGINE_NAMES.get(gradient) ?? gradient;
  return rest as unknown as TrainConfig;
}

/** Options that may differ when a run is resumed; the rest must stay as saved. */
const RESUMABLE_OVERRIDES = new Set(['iters', 'epochs', 'threads', 'out', 'json', 'quiet', 'resume', 'eval-limit']);

function timestamp(): string {
  return new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
}

/** How long a step may still run after the first Ctrl-C before it is aborted. */
const STOP_GRACE_MILLISECONDS = 2000;

/** Files whose presence marks a directory as holding a run. */
const RUN_FILES = ['checkpoint.json', 'checkpoint.safetensors', 'model.json', 'model.safetensors', 'config.json', 'metrics.jsonl'] as const;

/** What `--resume RUN` continues: a checkpoint, or a run killed before its first one, restarted from its config.json. */
type Resumption =
  | { kind: 'checkpoint'; file: string; directory: string; checkpoint: Checkpoint }
  | { kind: 'restart'; directory: string; config: TrainConfig };

async function resolveResume(path: string): Promise<Resumption> {
  if (existsSync(path) && statSync(path).isDirectory()
    && !existsSync(join(path, 'checkpoint.json')) && !existsSync(join(path, 'checkpoint.safetensors')) && existsSync(join(path, 'config.json'))) {
    const file = join(path, 'config.json');
    let saved: unknown;
    try {
      saved = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new InputError(`${file}: expected the run's configuration as JSON, found ${(error as Error).message}`);
    }
    // config.json also records what the run ran with (threads, shape): not part of its configuration.
    const { threads: _threads, shape: _shape, ...recorded } = saved as Record<string, unknown>;
    return { kind: 'restart', directory: resolve(path), config: upgradeConfig(recorded) };
  }
  const file = savedFilePath('--resume', path, 'checkpoint.json');
  return { kind: 'checkpoint', file, directory: dirname(resolve(file)), checkpoint: await loadCheckpoint(file) };
}

/** The one line for a file the run could not write: the file, the errno and what it means. */
export function describeWriteError(error: unknown): string {
  const { code, path } = error as NodeJS.ErrnoException;
  const meaning: Record<string, string> = {
    ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EACCES: 'permission denied', EPERM: 'operation not permitted',
    EROFS: 'read-only file system', EIO: 'input/output error', ENOTDIR: 'a file is in the way of a directory', EISDIR: 'a directory is in the way',
    ENOENT: 'the directory is gone', EMFILE: 'too many open files',
  };
  const what = code === undefined ? (error as Error).message : `${code}${Object.hasOwn(meaning, code) ? ` (${meaning[code]})` : ''}`;
  return path === undefined ? what : `\`${path}\`: ${what}`;
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

export async function trainCommand(argv: string[], io: CommandIo): Promise<number> {
  const options = parseOptions('train', TRAIN_OPTIONS, argv);
  if (options.help) {
    io.stdout.write(`${helpText('train', 'Train TwoLayerNet with parallel numerical gradients (defaults: the book\'s chapter 4 recipe).', TRAIN_OPTIONS)}\n`);
    return 0;
  }
  if (options.explicit.has('iters') && options.explicit.has('epochs')) {
    throw new InputError('Expected either `--iters` or `--epochs`, got both');
  }

  let config: TrainConfig = {
    dataset: options.dataset,
    hiddenSize: options.hidden,
    activation: options.activation as TrainConfig['activation'],
    batchSize: options.batch,
    learningRate: options.lr,
    iterations: options.iters,
    engine: options.engine as TrainConfig['engine'],
    optimizer: options.optimizer as TrainConfig['optimizer'],
    sampling: options.sampling as TrainConfig['sampling'],
    seed: options.seed,
    weightInitStd: options['weight-init-std'],
    ...(options['eval-limit'] === undefined ? {} : { evaluationLimit: options['eval-limit'] }),
  };

  const resumption = options.resume === undefined ? undefined : await resolveResume(options.resume);
  const checkpoint = resumption?.kind === 'checkpoint' ? resumption.checkpoint : undefined;
  const resumeFile = resumption?.kind === 'checkpoint' ? resumption.file : undefined;
  if (resumption) {
    const conflicting = [...options.explicit].filter((name) => !RESUMABLE_OVERRIDES.has(name));
    if (conflicting.length > 0) {
      throw new InputError(`Expected only --iters, --epochs, --threads, --out, --eval-limit, --json or --quiet with \`--resume\` (the rest comes from the checkpoint), got \`--${conflicting[0]}\``);
    }
    const saved = checkpoint ? upgradeConfig(checkpoint.meta.config) : (resumption as { config: TrainConfig }).config;
    config = { ...saved, iterations: options.explicit.has('iters') ? options.iters : saved.iterations };
    if (options['eval-limit'] !== undefined) config.evaluationLimit = options['eval-limit'];
  }

  // --out is checked before the dataset loads: a taken directory should not cost a large dataset's load.
  const resumedDirectory = resumption?.directory;
  if (options.out === '') throw new InputError('Expected `--out` to be a directory for the run, got an empty path');
  if (options.out !== undefined && existsSync(options.out) && !statSync(options.out).isDirectory()) {
    throw new InputError(`Expected \`--out\` to be a directory for the run, got \`${options.out}\`, which is a file`);
  }
  // Another run's files would be overwritten and its curves mixed with this run's.
  const held = options.out === undefined || resolve(options.out) === resumedDirectory ? undefined : RUN_FILES.find((file) => existsSync(join(options.out!, file)));
  if (held !== undefined) {
    throw new InputError(`Expected \`--out\` to be a directory without another run, got \`${options.out}\`, which holds one (${held}); choose another directory, or continue that run with \`--resume ${options.out}\``);
  }
  // A run's nine files scattered among someone else's (the system's temporary folder, say) are hard to find and to remove.
  const foreign = options.out === undefined || resolve(options.out) === resumedDirectory || !existsSync(options.out) ? undefined
    : readdirSync(options.out).find((name) => !TEMPORARY_FILE.test(name));
  if (foreign !== undefined) {
    throw new InputError(`Expected \`--out\` to be a new or empty directory, got \`${options.out}\`, which holds other files (e.g. \`${foreign}\`); choose a new directory such as \`${join(options.out!, 'run')}\``);
  }

  const mode = options.json ? 'json' : options.quiet ? 'quiet' : io.stderr.isTTY ? 'bar' : 'lines';
  const progress = createProgress(mode, io.stderr, io.stdout);
  const dataset = await loadDataset(config.dataset);
  /** A value the run uses other than the one asked for, or a choice likely to hurt: said at once, never silently. */
  const warn = (message: string) => {
    if (mode === 'json') progress.event({ event: 'warning', message });
    else io.stderr.write(`gradpool train: warning: ${message}\n`);
  };
  if (config.batchSize > dataset.train.rows) {
    warn(`\`--batch ${config.batchSize}\` is more than the ${dataset.train.rows} training rows of ${config.dataset}: using batches of ${dataset.train.rows}`);
    config.requestedBatchSize = config.batchSize;
    config.batchSize = dataset.train.rows;
  }
  const cores = os.availableParallelism();
  if (config.engine !== 'backprop' && options.threads > cores) {
    warn(`\`--threads ${options.threads}\` is more than the ${cores} cores of this machine: the extra threads share cores and each costs memory; \`--threads ${cores}\` is usually fastest`);
  }
  const iterationsPerEpoch = Math.ceil(dataset.train.rows / config.batchSize);
  if (options.epochs !== undefined) config.iterations = options.epochs * iterationsPerEpoch;

  const shape = { inputSize: dataset.inputSize, hiddenSize: config.hiddenSize, outputSize: dataset.classes, activation: config.activation };
  const net = checkpoint ? TwoLayerNet.fromParameters(checkpoint.shape, checkpoint.params) : new TwoLayerNet({ ...shape, weightInitStd: config.weightInitStd, seed: config.seed });
  if (checkpoint && (checkpoint.shape.inputSize !== dataset.inputSize || checkpoint.shape.outputSize !== dataset.classes)) {
    throw new InputError(`${resumeFile}: expected a checkpoint for ${dataset.inputSize} inputs and ${dataset.classes} classes (dataset ${config.dataset}), found ${checkpoint.shape.inputSize} and ${checkpoint.shape.outputSize}`);
  }

  // A checkpoint that already holds every iteration (killed after its final save) only needs its model and charts written.
  if (checkpoint && config.iterations < checkpoint.meta.iteration) {
    const given = options.epochs !== undefined ? `\`--epochs ${options.epochs}\` (${config.iterations} iterations)` : `${config.iterations} iterations`;
    throw new InputError(`Expected at least the checkpoint's ${checkpoint.meta.iteration} iterations to resume to, got ${given}; raise \`--iters\` or \`--epochs\``);
  }
  let directory: string;
  if (options.out !== undefined) {
    directory = resolve(options.out);
    try {
      await makeDirectory(directory);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'a file is in the way' : (error as Error).message;
      throw new InputError(`Expected \`--out\` to be a directory gradpool can create, got \`${options.out}\`: ${reason}`);
    }
  } else {
    directory = resumedDirectory ?? await claimRunDirectory(join('runs', timestamp()));
  }
  const recorder = new RunRecorder(directory);

  const pool = config.engine === 'backprop' ? undefined : new GradientPool({ threads: options.threads });
  const optimizer = createOptimizer(config.optimizer, { learningRate: config.learningRate });
  const trainer = new Trainer({
    net, dataset, optimizer, pool, batchSize: config.batchSize, iterations: config.iterations, engine: config.engine,
    sampling: config.sampling, seed: config.seed, ...(config.evaluationLimit === undefined ? {} : { evaluationLimit: config.evaluationLimit }),
  });
  // Kills midway through earlier saves leave temporary files; nothing refers to them.
  await removeTemporaryFiles(directory);
  // First, so that a directory with anything else in it can be restarted by --resume.
  await recorder.writeConfig({ ...config, threads: options.threads, dataset: config.dataset, shape });
  if (checkpoint) {
    const saved = checkpoint.meta.trainer as unknown as Pick<TrainerState, 'sampler' | 'epochs'>;
    trainer.setState({
      iteration: checkpoint.meta.iteration,
      sampler: saved.sampler,
      optimizer: { stepCount: checkpoint.meta.optimizer.step, state: checkpoint.optimizerState },
      epochs: saved.epochs,
    });
    await recorder.loadUntil(resumedDirectory ?? directory, trainer.iteration, trainer.epochs);
  } else {
    await recorder.start();
  }

  const checkpointPath = join(directory, 'checkpoint');
  let writes: Promise<void> = Promise.resolve();
  /** The first save that failed: the run stops at the next step boundary and reports it. */
  let saveError: unknown;
  // Captured synchronously at the step boundary, written in the background: metrics
  // first, then the checkpoint, whose rename is the save's commit point.
  const saveState = (path: string, selfContained = true) => {
    const params = net.params.slice();
    const state = trainer.getState();
    const meta = {
      iteration: state.iteration,
      epoch: state.iteration / iterationsPerEpoch,
      config: { ...config },
      optimizer: { name: optimizer.name, hyperparameters: optimizer.hyperparameters, step: state.optimizer.stepCount },
      random: state.sampler.random,
      trainer: { sampler: state.sampler, epochs: state.epochs },
    };
    writes = writes.then(async () => {
      if (saveError !== undefined) return;
      try {
        await recorder.flushMetrics(state.iteration);
        await saveCheckpoint(path, { params, shape: net.shape, optimizerState: state.optimizer.state, meta, selfContained });
        await recorder.writeCsv();
      } catch (error) {
        saveError = error;
        trainer.stop();
      }
    });
    return writes;
  };
  /** Throws the first failed save as one line: which file, the errno, and the last checkpoint that is intact. */
  const throwSaveError = async () => {
    await writes;
    if (saveError === undefined) return;
    const last = await loadCheckpoint(checkpointPath).then((c) => `the last good checkpoint (iteration ${c.meta.iteration}) is intact: ${checkpointPath}.safetensors`, () => 'no checkpoint was saved');
    throw new Error(`Cannot save the run: ${describeWriteError(saveError)}; ${last}`);
  };

  const totalEpochs = Math.ceil(config.iterations / iterationsPerEpoch);
  trainer.on('iteration', (event) => {
    recorder.iterations.push(event);
    progress.iteration(event);
  });
  trainer.on('epoch', (event) => {
    recorder.epochs.push(event);
    progress.epoch(event, totalEpochs);
    if (event.iteration > 0) void saveState(checkpointPath);
  });

  // First Ctrl-C: stop after the current step, said at once; a step still running after
  // STOP_GRACE_MILLISECONDS (a naive one can take a minute), or a second Ctrl-C, is aborted
  // (its workers terminated; the trainer keeps the last finished step); a third exits at once.
  let signal: NodeJS.Signals | undefined;
  let interrupts = 0;
  const stepAbort = new AbortController();
  const abortStep = (why: string) => {
    if (stepAbort.signal.aborted) return;
    io.stderr.write(`gradpool train: ${why}: aborting the current step\n`);
    stepAbort.abort(new Error(why));
  };
  let grace: NodeJS.Timeout | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    signal = name;
    interrupts += 1;
    if (interrupts === 1) {
      trainer.stop();
      io.stderr.write(`gradpool train: ${name}: stopping after the current step and saving a checkpoint (press Ctrl-C again to abort the step)\n`);
      grace = setTimeout(() => abortStep(`the step is still running after ${STOP_GRACE_MILLISECONDS / 1000} s`), STOP_GRACE_MILLISECONDS);
      grace.unref();
    } else if (interrupts === 2) {
      abortStep(`${name} again`);
    } else {
      io.stderr.write(`gradpool train: ${name} a third time: exiting without saving (the last checkpoint is kept)\n`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  progress.event({ event: 'start', directory, config, threads: options.threads, iterationsPerEpoch });
  progress.message(`gradpool: ${config.dataset} ${dataset.train.rows}/${dataset.test.rows}, ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} ${shape.activation}, `
    + `${describeEngine(config.engine)} on ${pool ? `${options.threads} thread${options.threads === 1 ? '' : 's'}` : 'the main thread'}, batch ${config.batchSize}, lr ${config.learningRate}, `
    + `${config.iterations} iterations (${iterationsPerEpoch} per epoch) → ${directory}`);
  progress.start(config.iterations, trainer.iteration);
  try {
    const runStarted = performance.now();
    const summary = await trainer.run({ signal: stepAbort.signal }).catch((error: unknown) => {
      // An aborted step leaves the trainer at the last finished one: that is what gets saved.
      if (!(signal !== undefined && error instanceof GradientAbortError)) throw error;
      return { iterations: trainer.iteration, epochs: [...trainer.epochs], finalLoss: Number.NaN, stopped: true, milliseconds: performance.now() - runStarted };
    });
    clearTimeout(grace);
    progress.stop();
    await throwSaveError();
    await saveState(checkpointPath);
    await throwSaveError();
    const last = summary.epochs.at(-1);
    if (signal !== undefined) {
      const message = `Interrupted (${signal}) at iteration ${summary.iterations}; checkpoint saved. Resume with: gradpool train --resume ${join(directory, 'checkpoint.json')}`;
      io.stderr.write(`${message}\n`);
      progress.event({ event: 'interrupted', signal, iteration: summary.iterations, checkpoint: `${checkpointPath}.json` });
      return 130;
    }
    // The model of a run already at its last iteration: rewritten whole, so a kill during its writes is undone.
    await saveState(join(directory, 'model'), false);
    await throwSaveError();
    await recorder.writeCharts(`TwoLayerNet ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} on ${config.dataset} (${config.engine} gradient)`);
    const result = {
      event: 'summary', directory, iterations: summary.iterations, seconds: summary.milliseconds / 1000,
      trainAccuracy: last?.trainAccuracy, testAccuracy: last?.testAccuracy, finalLoss: summary.finalLoss, threads: options.threads,
    };
    if (mode === 'json') io.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      io.stdout.write(`Done: ${summary.iterations} iterations in ${formatDuration(summary.milliseconds)}; `
        + `train acc ${last?.trainAccuracy.toFixed(4)}, test acc ${last?.testAccuracy.toFixed(4)}. Run saved in ${directory}\n`);
    }
    return 0;
  } catch (error) {
    progress.stop();
    await writes.catch(() => undefined);
    if (error instanceof DivergenceError) {
      await recorder.flushMetrics(trainer.iteration).then(() => recorder.writeCsv(), () => undefined);
      // Resumed into a new directory and diverged before its first epoch: the resumed checkpoint is the last good one.
      const good = existsSync(`${checkpointPath}.safetensors`) ? `${checkpointPath}.json` : resumeFile;
      const saved = good !== undefined ? ` Last good checkpoint: ${good}` : ' No checkpoint was written (no epoch had ended).';
      io.stderr.write(`gradpool train: ${error.message}${saved}\n`);
      progress.event({ event: 'diverged', message: error.message, iteration: trainer.iteration, checkpoint: good ?? null });
      return 1;
    }
    throw error;
  } finally {
    clearTimeout(grace);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await writes.catch(() => undefined);
    await pool?.destroy();
  }
}
