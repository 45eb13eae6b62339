/** `gradpool train`: a training run from the command line, with progress, checkpoints and resumption (the library's `train()`). */
import os from 'node:os';
import { dirname, join } from 'node:path';
import { ACTIVATIONS } from '../kernels/two-layer.js';
import { MAX_THREADS } from '../parallel/gradient-pool.js';
import { OPTIMIZER_NAMES } from '../train/optimizers.js';
import { SAMPLINGS } from '../train/batch-sampler.js';
import { TRAINING_DEFAULTS, type TrainConfig } from '../train/train-config.js';
import { describeEngine, ENGINES, LEGACY_ENGINE_NAMES } from '../engine.js';
import { InputError } from '../errors.js';
import { RunDivergedError } from '../run/run-errors.js';
import { train } from '../run/train.js';
import type { OptionNames, TrainOptions } from '../run/train-options.js';
import { helpText, parseOptions, type OptionTable } from './options.js';
import { createProgress } from './progress.js';
import { formatDuration } from '../report/format-duration.js';
import { ignoreLaterErrors, type CommandIo } from './io.js';
import { shellWord } from './shell-word.js';
import { trainInvocation } from './npm-script.js';

export { describeWriteError } from '../run/run-files.js';

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
  resume: { type: 'string', placeholder: 'RUN', description: 'Continue a run: its directory or its checkpoint.json (with --lr, at another learning rate)' },
  json: { type: 'boolean', description: 'JSON-lines events and a final summary on stdout' },
  quiet: { type: 'boolean', description: 'No progress output' },
} as const satisfies OptionTable;

/** Options that may differ when a run is resumed; the rest must stay as saved. */
const RESUMABLE_OVERRIDES = new Set(['iters', 'epochs', 'threads', 'out', 'json', 'quiet', 'resume', 'eval-limit', 'lr']);

/** The flag of each of `train()`'s options, for messages. */
const FLAGS: Record<string, string> = {
  batchSize: '--batch', threads: '--threads', out: '--out', resume: '--resume', iterations: '--iters', epochs: '--epochs', evaluationLimit: '--eval-limit',
  hiddenSize: '--hidden', learningRate: '--lr', weightInitStd: '--weight-init-std',
};
const flagOf: OptionNames = (field) => FLAGS[field] ?? `--${field}`;

/** How long a step may still run after the first Ctrl-C before it is aborted. */
const STOP_GRACE_MILLISECONDS = 2000;

export async function trainCommand(argv: string[], io: CommandIo): Promise<number> {
  const options = parseOptions('train', TRAIN_OPTIONS, argv);
  if (options.help) {
    io.stdout.write(`${helpText('train', 'Train TwoLayerNet with parallel numerical gradients (defaults: the book\'s chapter 4 recipe).', TRAIN_OPTIONS)}\n`);
    return 0;
  }
  if (options.explicit.has('iters') && options.explicit.has('epochs')) {
    throw new InputError('Expected either `--iters` or `--epochs`, got both');
  }
  if (options.resume !== undefined) {
    const conflicting = [...options.explicit].filter((name) => !RESUMABLE_OVERRIDES.has(name));
    if (conflicting.length > 0) {
      const typed = options.oldNames.get(conflicting[0])?.oldName ?? conflicting[0];
      throw new InputError(`Expected only --iters, --epochs, --threads, --out, --eval-limit, --lr, --json or --quiet with \`--resume\` (the rest comes from the checkpoint), got \`--${typed}\``);
    }
  }
  const given = <T>(flag: string, value: T): T | undefined => (options.explicit.has(flag) ? value : undefined);
  const run: TrainOptions = options.resume !== undefined
    ? {
      resume: options.resume,
      iterations: given('iters', options.iters),
      epochs: options.epochs,
      evaluationLimit: options['eval-limit'],
      learningRate: given('lr', options.lr),
    }
    : {
      dataset: options.dataset,
      hiddenSize: options.hidden,
      activation: options.activation as TrainConfig['activation'],
      batchSize: options.batch,
      learningRate: options.lr,
      iterations: options.epochs === undefined ? options.iters : undefined,
      epochs: options.epochs,
      engine: options.engine as TrainConfig['engine'],
      optimizer: options.optimizer as TrainConfig['optimizer'],
      sampling: options.sampling as TrainConfig['sampling'],
      seed: options.seed,
      weightInitStd: options['weight-init-std'],
      evaluationLimit: options['eval-limit'],
    };
  run.threads = options.threads;
  run.out = options.out;

  const mode = options.json ? 'json' : options.quiet ? 'quiet' : io.stderr.isTTY ? 'bar' : 'lines';
  const progress = createProgress(mode, io.stderr, io.stdout);
  const warn = (message: string): void => {
    if (mode === 'json') progress.event({ event: 'warning', message });
    // Mid-run (the pool's loss) the line goes above the live bar, which would draw over it.
    else if (mode === 'bar') progress.message(`gradpool train: warning: ${message}`);
    else io.stderr.write(`gradpool train: warning: ${message}\n`);
  };
  for (const [option, { oldName, value }] of options.oldNames) {
    warn(`\`--${oldName}\` is the old name of \`--${option}\` and will be removed in the next version: use \`--${option} ${value}\``);
  }
  let totalIterations = 0;
  let runDirectory: string | undefined;
  run.onEvent = (event) => {
    if (event.event === 'iteration') {
      const { event: _kind, ...iteration } = event;
      progress.iteration(iteration);
    } else if (event.event === 'epoch') {
      const { event: _kind, totalEpochs, ...epoch } = event;
      progress.epoch(epoch, totalEpochs);
    } else if (event.event === 'warning') {
      warn(event.message);
    } else {
      const { directory, config, threads, iterationsPerEpoch, shape, trainRows, testRows, startIteration, resumedFrom } = event;
      totalIterations = config.iterations;
      runDirectory = directory;
      progress.event({ event: 'start', directory, config, threads, iterationsPerEpoch, startIteration, resumedFrom: resumedFrom ?? null });
      if (resumedFrom !== undefined) progress.message(`gradpool: resuming ${resumedFrom} at iteration ${startIteration} of ${config.iterations}`);
      progress.message(`gradpool: ${config.dataset} ${trainRows}/${testRows}, ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} ${shape.activation}, `
        + `${describeEngine(config.engine)} on ${config.engine === 'backprop' ? 'the main thread' : `${threads} thread${threads === 1 ? '' : 's'}`}, batch ${config.batchSize}, lr ${config.learningRate}, `
        + `${config.iterations} iterations (${iterationsPerEpoch} per epoch) → ${directory}`);
      progress.start(totalIterations, startIteration);
    }
  };

  // First Ctrl-C: stop after the current step, said at once; a step still running after
  // STOP_GRACE_MILLISECONDS (a naive one can take a minute), or a second Ctrl-C, is aborted
  // (its workers terminated; the trainer keeps the last finished step); a third exits at once.
  // A reader that goes away (`gradpool train --json | head`, or `2>&1 | head`) stops the run the
  // same way, with its checkpoint: nothing more reaches it.
  let signal: NodeJS.Signals | undefined;
  let outputLost: NodeJS.ErrnoException | undefined;
  let interrupts = 0;
  const stop = new AbortController();
  const stepAbort = new AbortController();
  run.signal = stop.signal;
  run.abortStep = stepAbort.signal;
  const abortStep = (why: string) => {
    if (stepAbort.signal.aborted) return;
    io.stderr.write(`gradpool train: ${why}: aborting the current step\n`);
    stepAbort.abort(new Error(why));
  };
  let grace: NodeJS.Timeout | undefined;
  const beginStop = (line: string) => {
    if (stop.signal.aborted) return;
    stop.abort();
    io.stderr.write(`${line}\n`);
    grace = setTimeout(() => abortStep(`the step is still running after ${STOP_GRACE_MILLISECONDS / 1000} s`), STOP_GRACE_MILLISECONDS);
    grace.unref();
  };
  const onSignal = (name: NodeJS.Signals) => {
    signal = name;
    interrupts += 1;
    if (interrupts === 1) {
      const again = name === 'SIGINT' ? 'press Ctrl-C again' : `send ${name} again`;
      beginStop(`gradpool train: ${name}: stopping after the current step and saving a checkpoint (${again} to abort the step)`);
    } else if (interrupts === 2) {
      abortStep(`${name} again`);
    } else {
      io.stderr.write(`gradpool train: ${name} a third time: exiting without saving (the last checkpoint is kept)\n`);
      process.exit(130);
    }
  };
  const onOutputError = (error: NodeJS.ErrnoException) => {
    outputLost ??= error;
    beginStop(`gradpool train: ${describeOutputError(error)}: stopping after the current step and saving a checkpoint`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (const stream of [io.stdout, io.stderr]) {
    ignoreLaterErrors(stream);
    stream.on('error', onOutputError);
  }

  try {
    const result = await train(run, flagOf);
    clearTimeout(grace);
    progress.stop();
    if (result.stopped && (signal !== undefined || outputLost !== undefined)) {
      const checkpoint = join(result.directory, 'checkpoint.json');
      const stopped = signal !== undefined ? `Interrupted (${signal}) at iteration ${result.iterations}` : `Stopped at iteration ${result.iterations}, its ${describeOutputError(outputLost!)}`;
      const command = `${trainInvocation()} --resume ${shellWord(checkpoint)}`;
      io.stderr.write(`${stopped}; checkpoint saved. Resume with: ${command}\n`);
      progress.event({ event: 'interrupted', signal: signal ?? (outputLost!.code === 'EPIPE' ? 'SIGPIPE' : null), iteration: result.iterations, checkpoint, command });
      // 128 + the signal's number, as a shell reports a process it ended; 141 is SIGPIPE's, a reader gone.
      if (signal !== undefined) return 130;
      return outputLost!.code === 'EPIPE' ? 141 : 1;
    }
    const summary = {
      event: 'summary', directory: result.directory, startIteration: result.startIteration, iterations: result.iterations, seconds: result.milliseconds / 1000,
      trainAccuracy: result.trainAccuracy, testAccuracy: result.testAccuracy, finalLoss: result.finalLoss, threads: result.threads,
    };
    if (mode === 'json') io.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      // The time is this session's alone: a resumed run says which iterations it covers.
      const { startIteration, iterations } = result;
      const done = startIteration === 0 ? `${iterations} iterations in ${formatDuration(result.milliseconds)}`
        : iterations === startIteration ? `nothing left to train (the run was already at its last iteration, ${iterations})`
          : `iterations ${startIteration + 1} to ${iterations} in ${formatDuration(result.milliseconds)}`;
      io.stdout.write(`Done: ${done}; train acc ${result.trainAccuracy?.toFixed(4)}, test acc ${result.testAccuracy?.toFixed(4)}. Run saved in ${result.directory}\n`);
    }
    return 0;
  } catch (error) {
    progress.stop();
    if (error instanceof RunDivergedError) {
      const rate = error.suggestedLearningRate;
      // Only for a checkpoint of this run's own directory: one resumed into a new --out that diverged
      // before its first save names the old run's, which going on from would extend in place.
      const own = error.checkpoint !== undefined && runDirectory !== undefined && dirname(error.checkpoint) === runDirectory;
      // With no checkpoint the run's directory restarts from its config.json. --iters: the checkpoint
      // may record fewer iterations than this run was to train.
      const from = own ? error.checkpoint : error.checkpoint === undefined ? runDirectory : undefined;
      const command = rate === undefined || from === undefined ? undefined : `${trainInvocation()} --resume ${shellWord(from)} --iters ${totalIterations} --lr ${rate}`;
      const saved = error.checkpoint === undefined ? ` No checkpoint was written: the run diverged before its first one${command === undefined ? '.' : ` (start it again: ${command}).`}`
        : ` Last good checkpoint: ${error.checkpoint}${command === undefined ? '' : ` (go on from it: ${command})`}`;
      io.stderr.write(`gradpool train: ${error.message}${saved}\n`);
      progress.event({
        event: 'diverged', message: error.message, iteration: error.iteration, checkpoint: error.checkpoint ?? null,
        suggestedLearningRate: rate ?? null, command: command ?? null,
      });
      return 1;
    }
    throw error;
  } finally {
    clearTimeout(grace);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    io.stdout.off('error', onOutputError);
    io.stderr.off('error', onOutputError);
  }
}

function describeOutputError(error: NodeJS.ErrnoException): string {
  return error.code === 'EPIPE' ? 'output closed (EPIPE)' : `output failed (${error.code ?? error.message})`;
}
