/**
 * `train(options)`: what `gradpool train` does, for scripts. It loads the
 * dataset, builds the net, the pool and the Trainer, writes the run directory
 * (config.json, metrics, a checkpoint every epoch, the final model, charts)
 * and resumes a run from its directory. The CLI is this call plus option
 * parsing, progress output and Ctrl-C.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { assertDataset, type Dataset } from '../data/dataset.js';
import { ArgumentTypeError, DivergenceError, GradientAbortError, InputError } from '../errors.js';
import { removeTemporaryFiles } from '../io/atomic-write.js';
import { makeDirectory } from '../io/make-directory.js';
import type { NetShape } from '../kernels/two-layer.js';
import { TwoLayerNet } from '../nets/two-layer-net.js';
import { GradientPool, MAX_THREADS } from '../parallel/gradient-pool.js';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.js';
import { trainerCheckpoint, trainerStateOf } from '../train/trainer-checkpoint.js';
import { createOptimizer } from '../train/optimizers.js';
import { RunRecorder } from '../train/run-recorder.js';
import { TRAINING_DEFAULTS, type TrainConfig } from '../train/train-config.js';
import { markLearningRateChanged, Trainer } from '../train/trainer.js';
import { assertInteger, assertOptionsObject, assertPositiveFinite, describe } from '../validate.js';
import { loadDatasetSpec, loadRecordedDatasetSpec } from './load-dataset-spec.js';
import { checkOut, claimRunDirectory, resolveResume, timestamp, type RunSession } from './run-directory.js';
import { RunDivergedError, RunSaveError } from './run-errors.js';
import { describeWriteError } from './run-files.js';
import { configOf, FIELD_NAMES, OPTION_KEYS, RESUMABLE_OPTIONS, type OptionNames, type RunControl, type RunEvent, type TrainOptions, type TrainResult } from './train-options.js';

/**
 * Trains TwoLayerNet as `gradpool train` does and saves the run in a
 * directory: config.json, metrics.jsonl/.csv, a checkpoint at every epoch
 * (kill-safe: see checkpoint.ts), and at the end model.safetensors/.json and
 * the training charts. Resumes a run (`resume`) exactly, bit for bit; with
 * a `learningRate` of its own (as after a divergence, from the last good
 * checkpoint) it goes on at that rate, and says so in a `warning` event.
 *
 * @param options - see {@link TrainOptions}; every field is optional (the book's recipe on the bundled MNIST digits).
 * @param names - how messages name an option (the CLI passes its flags); by default the field names.
 * @returns the run's summary and its net.
 * @throws {InputError} for a bad dataset, run directory or checkpoint (one line naming the file or option).
 * @throws {ArgumentTypeError} / {ArgumentRangeError} for an option of the wrong type or range.
 * @throws {RunDivergedError} when training diverges (the last good checkpoint is named).
 * @throws {RunSaveError} when a file of the run cannot be written (disk full, …).
 * @example
 * const result = await train({ dataset: 'spiral', hiddenSize: 20, weightInitStd: 1, learningRate: 2, batchSize: 20, epochs: 60, threads: 2, out: 'runs/spiral' });
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
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new ArgumentTypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(options.signal)}`);
  if (options.abortStep !== undefined && !(options.abortStep instanceof AbortSignal)) throw new ArgumentTypeError(`Expected \`abortStep\` to be an AbortSignal, got ${describe(options.abortStep)}`);
  const emit = options.onEvent ?? (() => undefined);

  const resumption = options.resume === undefined ? undefined : await resolveResume(options.resume, names, options.learningRate);
  const checkpoint = resumption?.kind === 'checkpoint' ? resumption.checkpoint : undefined;
  let config: TrainConfig;
  let rateChange: string | undefined;
  let rateChangedAtResume = false;
  if (resumption) {
    const given = Object.keys(options).find((key) => !(RESUMABLE_OPTIONS as readonly string[]).includes(key) && options[key as keyof TrainOptions] !== undefined);
    if (given !== undefined) {
      throw new InputError(`Expected only ${names('iterations')}, ${names('epochs')}, ${names('threads')}, ${names('out')}, ${names('evaluationLimit')} or ${names('learningRate')} with \`${names('resume')}\` (the rest comes from the checkpoint), got \`${names(given)}\``);
    }
    // A stopped resume into another directory goes on as it was asked to unless told otherwise.
    const branch = resumption.kind === 'checkpoint' ? resumption.intoConfig : undefined;
    config = { ...resumption.config, iterations: options.iterations ?? branch?.iterations ?? resumption.config.iterations };
    if (branch?.evaluationLimit !== undefined) config.evaluationLimit = branch.evaluationLimit;
    const inherited = options.learningRate === undefined ? branch?.learningRate : undefined;
    const rate = options.learningRate ?? inherited;
    if (rate !== undefined) {
      assertPositiveFinite(names('learningRate'), rate);
      const subject = inherited === undefined ? `\`${names('learningRate')} ${rate}\`` : `the stopped resume's learning rate ${rate}`;
      if (rate !== config.learningRate) {
        const from = resumption.kind === 'checkpoint' ? resumption.checkpoint.meta.iteration : 0;
        const total = options.epochs === undefined ? config.iterations : undefined;
        // A run with nothing left to train keeps the rate it was trained at, in its files too.
        if (total !== undefined && total <= from) {
          rateChange = `${subject} changes nothing: the run has no iterations left after ${from} (raise \`${names('iterations')}\` or \`${names('epochs')}\`)`;
        } else {
          rateChangedAtResume = true;
          rateChange = `${subject} replaces the run's learning rate ${config.learningRate} from iteration ${from} on `
            + `(config.json and the checkpoints from now on record ${rate}; config.json's sessions keep each session's rate)`;
          config.learningRate = rate;
        }
      }
    }
    if (options.evaluationLimit !== undefined) {
      assertInteger(names('evaluationLimit'), options.evaluationLimit, 1);
      config.evaluationLimit = options.evaluationLimit;
    }
  } else {
    const spec: unknown = options.dataset === undefined ? TRAINING_DEFAULTS.dataset : options.dataset;
    if (typeof spec !== 'string') {
      if (typeof spec !== 'object' || spec === null) {
        throw new ArgumentTypeError(`Expected \`${names('dataset')}\` to be a dataset spec (e.g. 'mnist', 'csv:FILE') or a loaded Dataset, got ${describe(spec)}`);
      }
      assertDataset(names('dataset'), spec as Dataset);
    }
    config = configOf(options, typeof spec === 'string' ? spec : (spec as Dataset).name);
  }

  // Checked before the dataset loads: a taken directory should not cost a large dataset's load.
  const resumedDirectory = resumption?.directory;
  const into = resumption?.kind === 'checkpoint' ? resumption.into : undefined;
  if (options.out !== undefined && resolve(options.out) !== into) checkOut(options.out, resumedDirectory, names);

  const dataset = typeof options.dataset === 'object' && !resumption ? options.dataset
    : resumption !== undefined ? await loadRecordedDatasetSpec(config.dataset, names('dataset')) : await loadDatasetSpec(config.dataset, names('dataset'));
  const warnings: string[] = [];
  /** A value the run uses other than the one asked for, or a choice likely to hurt: said at once, never silently. */
  const warn = (message: string) => {
    warnings.push(message);
    emit({ event: 'warning', message });
  };
  if (into !== undefined && resumption?.kind === 'checkpoint') {
    warn(`\`${names('resume')}\` \`${options.resume}\` holds no checkpoint: it is a resume of \`${resolve(resumption.checkpoint.files.json)}\` stopped before its first save; resuming that checkpoint again`);
  }
  if (rateChange !== undefined) warn(rateChange);
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
    directory = into ?? resumedDirectory ?? await claimRunDirectory(join('runs', timestamp()));
  }
  const recorder = new RunRecorder(directory);

  const pool = config.engine === 'backprop' ? undefined : new GradientPool({ threads });
  try {
    const optimizer = createOptimizer(config.optimizer, { learningRate: config.learningRate });
    const trainer = new Trainer({
      net, dataset, optimizer, pool, batchSize: config.batchSize, iterations: config.iterations, engine: config.engine,
      sampling: config.sampling, seed: config.seed, ...(config.evaluationLimit === undefined ? {} : { evaluationLimit: config.evaluationLimit }),
    });
    trainer.on('warning', warn);
    // Kills midway through earlier saves leave temporary files; nothing refers to them.
    await removeTemporaryFiles(directory);
    // First, so that a directory with anything else in it can be restarted by `resume`.
    const session: RunSession = {
      startedAt: new Date().toISOString(), fromIteration: checkpoint?.meta.iteration ?? 0, learningRate: config.learningRate, threads,
      ...(resumption?.kind === 'checkpoint' ? { resumedFrom: resolve(resumption.checkpoint.files.json) } : {}),
    };
    await recorder.writeConfig({ ...config, threads, dataset: config.dataset, shape, sessions: [...(resumption?.sessions ?? []), session] });
    if (resumption?.kind === 'checkpoint') {
      trainer.setState(trainerStateOf(resumption.read));
      if (rateChangedAtResume) markLearningRateChanged(trainer);
      await recorder.loadUntil(resumedDirectory ?? directory, trainer.iteration, trainer.epochs);
    } else {
      await recorder.start();
    }
    return await runTrainer({ trainer, recorder, config, shape, directory, threads, iterationsPerEpoch, options, emit, warnings, dataset, resumeFile: resumption?.kind === 'checkpoint' ? resumption.file : undefined, releasePool: async () => pool?.destroy() });
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
  /** Stops the pool's threads once training is over: the final saves and charts do without their memory. */
  releasePool: () => Promise<void>;
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
  /** Why the run failed, once it has: a checkpoint asked for afterwards gets it, as the ones waiting then did (a diverged state must not replace the last good checkpoint). */
  let failure: unknown;
  const control: RunControl = {
    net,
    directory,
    checkpoint(path = checkpointPath) {
      if (typeof path !== 'string' || path === '') return Promise.reject(new ArgumentTypeError(`Expected \`path\` to be a checkpoint path, got ${describe(path)}`));
      if (failure !== undefined) return Promise.reject(failure);
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
  options.signal?.addEventListener('abort', onStop);
  const startIteration = trainer.iteration;
  emit({ event: 'start', directory, config, threads, iterationsPerEpoch, startIteration, resumedFrom: context.resumeFile, trainRows: dataset.train.rows, testRows: dataset.test.rows, shape });
  options.onReady?.(control);
  try {
    const runStarted = performance.now();
    stepping = true;
    const running = trainer.run({ signal: options.abortStep });
    // run() clears any earlier stop request as it starts: a stop asked for during the set-up is asked again.
    if (options.signal?.aborted) trainer.stop();
    const summary = await running.catch((error: unknown) => {
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
      failure = error;
      for (const request of requests.splice(0)) request.reject(error);
      throw error;
    });
    await context.releasePool();
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
      directory, config, startIteration, iterations: summary.iterations, stopped, milliseconds: summary.milliseconds,
      trainAccuracy: last?.trainAccuracy, testAccuracy: last?.testAccuracy, finalLoss: summary.finalLoss, threads, epochs: summary.epochs, warnings, net,
    };
  } catch (error) {
    await writes.catch(() => undefined);
    if (error instanceof DivergenceError && !(error instanceof RunDivergedError)) {
      await recorder.flushMetrics(trainer.iteration).then(() => recorder.writeCsv(), () => undefined);
      // Resumed into a new directory and diverged before its first epoch: the resumed checkpoint is the last good one.
      const good = existsSync(`${checkpointPath}.safetensors`) ? `${checkpointPath}.json` : context.resumeFile;
      // The Trainer's message says its net keeps the last good weights, but train()'s caller never gets that net: it gets the checkpoint instead.
      throw new RunDivergedError(error.diagnosis, { checkpoint: good, iteration: trainer.iteration, cause: error, suggestedLearningRate: error.suggestedLearningRate });
    }
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onStop);
    await writes.catch(() => undefined);
  }
}

