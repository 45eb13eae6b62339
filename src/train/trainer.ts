/**
 * The book's mini-batch training loop, with events, stopping and exact
 * resumption; the gradient comes from the worker pool or from backprop.
 */
import { EventEmitter } from 'node:events';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import type { Dataset, Split } from '../data/dataset.js';
import { ENGINES, type Engine } from '../engine.js';
import { scoreBatch } from '../kernels/score.js';
import {
  type ForwardScratch, type SparseRowScratch, backprop, batchLoss, createForwardScratch, createSparseRowScratch,
} from '../kernels/two-layer.js';
import { TwoLayerNet, type PreparedBatch } from '../nets/two-layer-net.js';
import type { GradientPool } from '../parallel/gradient-pool.js';
import { CROSS_ENTROPY_DELTA } from '../functions.js';
import { ArgumentRangeError, ArgumentTypeError, DivergenceError, GradientAbortError } from '../errors.js';
import {
  argumentRangeError, argumentTypeError, assertEvaluationLimit, assertInteger, assertKnownKeys, assertOneOf, assertOptionsObject, describe, firstNonFinite,
} from '../validate.js';
import { evaluateSplit } from './evaluate-split.js';
import { assertDataset } from '../data/dataset.js';
import { BatchSampler, SAMPLINGS, type Sampling, type SamplerState } from './batch-sampler.js';
import { Optimizer } from './optimizers.js';
import { TRAINING_DEFAULTS, type TrainConfig } from './train-config.js';
import { type Checkpoint, type CheckpointFiles, saveCheckpoint } from './checkpoint.js';
import { restoredTrainer, trainerCheckpoint, type RestoreTrainerOptions } from './trainer-checkpoint.js';
import {
  TRAINER_OPTION_KEYS, type EpochEvent, type IterationEvent, type StepOptions, type TrainerEvents, type TrainerOptions, type TrainerState, type TrainingSummary,
} from './trainer-types.js';

export { DivergenceError };
export type { EpochEvent, IterationEvent, StepOptions, TrainerEvents, TrainerOptions, TrainerState, TrainingSummary } from './trainer-types.js';


/** How long a run may keep the event loop busy before it lets other work in. */
const YIELD_MILLISECONDS = 4;

/** The largest batch loss the book's cross-entropy can take: −log(1e-7), when every right class gets probability 0. */
export const LOSS_CEILING = -Math.log(CROSS_ENTROPY_DELTA);
/** A batch loss this close to the ceiling means the softmax has saturated on wrong classes: the run diverged. */
export const SATURATED_LOSS = 0.9 * LOSS_CEILING;
/** An epoch's train loss above this many times max(log classes, the first evaluation's) stops the run as diverged. */
export const DIVERGED_LOSS_FACTOR = 2;
/**
 * A rate that diverges within this many iterations of the run's start, or of
 * a resume at another rate (`Trainer.fromCheckpoint` with `learningRate`), is
 * far too large: the advice is a tenth of it, not half (from `--lr 1000`,
 * halving took several tries to come down to a rate that trains).
 */
export const EARLY_DIVERGENCE_STEPS = 10;

/**
 * Tells `trainer` that its learning rate was changed as it resumed, at its
 * current iteration (a resume at another rate: {@link Trainer.fromCheckpoint}
 * with `learningRate`, `train({ resume, learningRate })`), so that a
 * divergence soon after is advised a tenth of the rate (see
 * {@link EARLY_DIVERGENCE_STEPS}). Internal: not re-exported by the package.
 */
export let markLearningRateChanged: (trainer: Trainer) => void;

/**
 * Mini-batch training, the book's chapter 4 loop: draw a batch, compute the
 * gradient (in the worker pool for numerical gradients), apply the update on this
 * thread, record the batch loss at the new weights (in the pool too for the
 * incremental engine, bit for bit the same); every epoch (⌈trainSize / batchSize⌉ iterations,
 * and once before the first update) evaluate train and test accuracy.
 */
export class Trainer extends EventEmitter<TrainerEvents> {
  /** The net being trained: every step updates its `params` in place. */
  readonly net: TwoLayerNet;
  /** The train split feeds the batches; both splits are evaluated every epoch. */
  readonly dataset: Dataset;
  /** Applies each update; its state is part of {@link getState}. */
  readonly optimizer: Optimizer;
  /** Samples per mini-batch, as given (a batch holds at most the train split's rows). */
  readonly batchSize: number;
  /** The update count {@link run} trains up to (not a number of further updates). */
  readonly iterations: number;
  /** How the gradient is computed: `'incremental'` or `'naive'` in the pool, or `'backprop'` on this thread. */
  readonly engine: Engine;
  /** Updates per epoch: ⌈train rows / batch rows⌉; an evaluation follows every multiple of it. */
  readonly iterationsPerEpoch: number;
  readonly #pool: GradientPool | undefined;
  readonly #sampler: BatchSampler;
  /** Reused every step: the pool's workers write the gradient here directly (shared memory). */
  readonly #gradientBuffer: Float64Array;
  /** The weights before the step, to restore if it diverges. */
  readonly #previousParams: Float64Array;
  /** The forward pass of the step's batch loss, reused every step. */
  readonly #lossScratch: ForwardScratch;
  readonly #lossSparse: SparseRowScratch;
  readonly #evaluationLimit: number;
  /** How batches are drawn (see {@link BatchSampler}). */
  readonly sampling: Sampling;
  /** The seed of the batch sampling. */
  readonly seed: number;
  /** Rows of each split an evaluation uses at most (`Infinity`: all). */
  readonly evaluationLimit: number;
  #iteration = 0;
  #epochs: EpochEvent[] = [];
  #stopRequested = false;
  /** Set when a step diverged: its optimizer state is the failed step's, so the trainer refuses to go on until {@link setState}. */
  #divergedAt: number | undefined;
  /** The iteration a resume changed the learning rate at ({@link markLearningRateChanged}), for the advice after an early divergence. */
  #rateChangedAt: number | undefined;

  static {
    markLearningRateChanged = (trainer) => {
      trainer.#rateChangedAt = trainer.iteration;
    };
  }

  /** The step in progress, between its first and its last line (the state mixes two iterations meanwhile); a token of its own, so that a step's end clears only its own. */
  #stepping: object | undefined;
  /** What the step in progress has to say in a `warning` event once it is whole. */
  #stepWarning: string | undefined;
  /** Whether the batch loss is asked of the pool (until a call of it fails for another reason than an abort). */
  #poolLoss = true;

  /**
   * @param options - see {@link TrainerOptions}: `net`, `dataset` and `optimizer` are required, and only its keys are accepted.
   * @throws {ArgumentTypeError} for an option of the wrong type: ``Expected `net` to be a TwoLayerNet, got `undefined` ``;
   * ``Expected `pool` (a GradientPool) for `engine` `incremental`, got `undefined` ``.
   * @throws {ArgumentRangeError} for an option out of range: ``Expected `batchSize` to be an integer from 1 and up, got `0` (number)``;
   * ``Expected `evaluationLimit` to be an integer from 1 and up, or Infinity (every sample), got `0` (number)``;
   * ``Expected the net (3 inputs, 3 classes) to match dataset `spiral` (2 inputs, 3 classes)``; an unknown option.
   */
  constructor(options: TrainerOptions) {
    super();
    assertOptionsObject('options', options, '{ net, dataset, optimizer, engine: \'backprop\' }');
    assertKnownKeys('options', options as unknown as Record<string, unknown>, TRAINER_OPTION_KEYS, 'Trainer');
    const {
      net, dataset, optimizer, pool, batchSize = TRAINING_DEFAULTS.batchSize, iterations = TRAINING_DEFAULTS.iterations,
      engine = TRAINING_DEFAULTS.engine, sampling = TRAINING_DEFAULTS.sampling, seed = TRAINING_DEFAULTS.seed,
      evaluationLimit = Number.POSITIVE_INFINITY,
    } = options;
    if (!(net instanceof TwoLayerNet)) throw new ArgumentTypeError(`Expected \`net\` to be a TwoLayerNet, got ${describe(net)}`);
    if (!(optimizer instanceof Optimizer)) throw new ArgumentTypeError(`Expected \`optimizer\` to be an Optimizer (e.g. createOptimizer('sgd')), got ${describe(optimizer)}`);
    assertDataset('dataset', dataset);
    assertInteger('batchSize', batchSize, 1);
    assertInteger('iterations', iterations, 0);
    assertOneOf('engine', engine, ENGINES);
    assertOneOf('sampling', sampling, SAMPLINGS);
    assertInteger('seed', seed, 0, 0xffffffff);
    assertEvaluationLimit('evaluationLimit', evaluationLimit);
    if (engine !== 'backprop' && pool === undefined) {
      throw new ArgumentTypeError(`Expected \`pool\` (a GradientPool) for \`engine\` \`${engine}\`, got \`undefined\``);
    }
    if (pool !== undefined && typeof (pool as Partial<GradientPool> | null)?.gradientOfBatch !== 'function') {
      throw new ArgumentTypeError(`Expected \`pool\` to be a GradientPool, got ${describe(pool)}`);
    }
    if (dataset.inputSize !== net.shape.inputSize || dataset.classes !== net.shape.outputSize) {
      throw new ArgumentRangeError(`Expected the net (${net.shape.inputSize} inputs, ${net.shape.outputSize} classes) to match dataset \`${dataset.name}\` (${dataset.inputSize} inputs, ${dataset.classes} classes)`);
    }
    this.net = net;
    this.dataset = dataset;
    this.optimizer = optimizer;
    this.#pool = pool;
    this.batchSize = batchSize;
    this.iterations = iterations;
    this.engine = engine;
    this.iterationsPerEpoch = Math.ceil(dataset.train.rows / Math.min(batchSize, dataset.train.rows));
    this.#sampler = new BatchSampler(dataset.train, dataset.inputSize, batchSize, sampling, seed);
    this.#evaluationLimit = evaluationLimit;
    this.sampling = sampling;
    this.seed = seed;
    this.evaluationLimit = evaluationLimit;
    this.#gradientBuffer = new Float64Array(new SharedArrayBuffer(net.layout.size * Float64Array.BYTES_PER_ELEMENT));
    this.#previousParams = new Float64Array(net.layout.size);
    this.#lossScratch = createForwardScratch(net.shape, this.#sampler.batchSize);
    this.#lossSparse = createSparseRowScratch(Math.max(net.shape.inputSize, net.shape.hiddenSize));
  }

  /** Updates done so far (restored ones included). */
  get iteration(): number {
    return this.#iteration;
  }

  /** Every evaluation so far, oldest first (the live list: copy it to keep it). */
  get epochs(): readonly EpochEvent[] {
    return this.#epochs;
  }

  /** Asks the run to stop at the next step boundary. */
  stop(): void {
    this.#stopRequested = true;
  }

  /**
   * Saves a checkpoint of the trainer as it is now (call it between steps):
   * `<path>.safetensors` (the weights and optimizer state, with the whole
   * checkpoint in its header: its rename commits the save) and `<path>.json`,
   * the files `gradpool train --resume` and {@link Trainer.fromCheckpoint}
   * read. `config` adds to what the trainer records of its configuration
   * (e.g. `{ dataset: 'mnist', weightInitStd: 0.01 }`).
   *
   * @returns the two files.
   * @throws the file system's error (ENOSPC, EACCES, …) when a file cannot be written; the previous checkpoint at `path` is then intact.
   * @throws {Error} (as a rejection) after a step diverged, until {@link setState}, or while a step is in progress: the state would mix two iterations.
   * @example
   * await trainer.saveCheckpoint('runs/mine/checkpoint');
   * const again = await Trainer.fromCheckpoint('runs/mine/checkpoint.json', { dataset, pool });
   */
  async saveCheckpoint(path: string, { config }: { config?: Partial<TrainConfig> } = {}): Promise<CheckpointFiles> {
    this.#assertNotDiverged();
    return saveCheckpoint(path, trainerCheckpoint(this, config));
  }

  /** A smaller learning rate to try after a divergence: `fraction` of the optimizer's (six significant digits); undefined without one, or below the smallest number. */
  #smallerRate(fraction: number): number | undefined {
    const rate = this.optimizer.hyperparameters.learningRate;
    const smaller = rate === undefined ? 0 : Number((rate * fraction).toPrecision(6));
    return smaller > 0 ? smaller : undefined;
  }

  /** The advice for {@link #smallerRate}, `share` naming the fraction: "e.g. 0.05, half of 0.1". */
  #smallerRateAdvice(fraction: number, share: string): string {
    const smaller = this.#smallerRate(fraction);
    return smaller === undefined ? `e.g. ${share} of it` : `e.g. ${smaller}, ${share} of ${this.optimizer.hyperparameters.learningRate}`;
  }

  /**
   * After a step diverged the weights are back at the last good iteration but
   * the optimizer's state is not (it would take a copy of it on every step):
   * going on, or saving, would mix the two.
   */
  #assertNotDiverged(): void {
    if (this.#divergedAt !== undefined) {
      throw new Error(`This Trainer diverged at iteration ${this.#divergedAt}: its weights are those of iteration ${this.#divergedAt - 1} but its optimizer's state is not; give it a whole state with setState (a getState() from before the step, say), or continue in a new Trainer from a checkpoint (Trainer.fromCheckpoint)`);
    }
  }

  /**
   * While a step awaits the pool the sampler has drawn its batch, and while it
   * awaits the loss the weights and the optimizer are updated but the
   * iteration is not counted: a state taken then would continue wrongly.
   */
  #assertNotStepping(what: string): void {
    if (this.#stepping !== undefined) {
      throw new Error(`Expected ${what} between steps, got a call during step ${this.#iteration + 1}: await the step, or call it in an \`iteration\` or \`epoch\` listener`);
    }
  }

  /**
   * A trainer that continues a checkpoint exactly (bit for bit, as if never
   * stopped; unless given another `learningRate`): the net's weights, the
   * optimizer and its state, the sampler's position and the epochs so far,
   * from a checkpoint saved by {@link saveCheckpoint}, by `train()` or by
   * `gradpool train`.
   *
   * @param path - a run directory (its checkpoint.json), a checkpoint's .json or .safetensors, or its stem; or a {@link Checkpoint} already loaded.
   * @param options - the dataset (same inputs and classes), the pool for a numerical engine, and optionally new `iterations`, `evaluationLimit` or `learningRate` (e.g. a DivergenceError's `suggestedLearningRate`).
   * @throws {InputError} naming the file and the field, for a missing or damaged checkpoint, or a dataset of another shape.
   * @throws {ArgumentRangeError} ``Expected `learningRate` to be a finite number greater than 0, got `0` (number)``.
   */
  static async fromCheckpoint(path: string | Checkpoint, options: RestoreTrainerOptions): Promise<Trainer> {
    const restored = await restoredTrainer(path, options);
    const trainer = new Trainer(restored.options);
    trainer.setState(restored.state);
    if (options.learningRate !== undefined && options.learningRate !== restored.config.learningRate) markLearningRateChanged(trainer);
    return trainer;
  }

  /**
   * A copy of the run's position (iteration, sampler, optimizer, epochs) for {@link setState}; the weights are `net.params`.
   *
   * @throws {Error} after a step diverged, until {@link setState}, or while a step is in progress (``Expected getState() between steps, got a call during step 4: …``): the state would mix two iterations.
   */
  getState(): TrainerState {
    this.#assertNotDiverged();
    this.#assertNotStepping('getState()');
    return {
      iteration: this.#iteration,
      sampler: this.#sampler.getState(),
      optimizer: { stepCount: this.optimizer.stepCount, state: this.optimizer.state() },
      epochs: this.#epochs.map((e) => ({ ...e })),
    };
  }

  /**
   * Continues from a saved state (the net's weights must already be restored).
   *
   * @throws {Error} while a step is in progress (it would finish on top of the new state).
   */
  setState(state: TrainerState): void {
    this.#assertNotStepping('setState()');
    assertInteger('state.iteration', state.iteration, 0);
    this.#iteration = state.iteration;
    this.#divergedAt = undefined;
    this.#sampler.setState(state.sampler);
    this.optimizer.loadState(state.optimizer.state, state.optimizer.stepCount);
    this.#epochs = state.epochs.map((e) => ({ ...e }));
  }

  /**
   * Evaluates the net now and records it as the epoch ending at the current
   * iteration: in the pool's threads for a numerical engine
   * ({@link GradientPool.evaluate}), else on this thread ({@link evaluateSplit});
   * the two agree bit for bit.
   *
   * @throws {DivergenceError} when the train loss shows the run diverged (as a rejection).
   * @throws {GradientPoolError} when a pool's worker fails.
   * @throws {Error} (as a rejection) while a step is in progress: the weights may be halfway through it.
   */
  async evaluate(): Promise<EpochEvent> {
    this.#assertNotDiverged();
    this.#assertNotStepping('evaluate()');
    const [train, test] = this.#pool !== undefined && this.engine !== 'backprop'
      ? await this.#pool.evaluate(this.net, [this.dataset.train, this.dataset.test], { limit: this.#evaluationLimit })
      : [evaluateSplit(this.net, this.dataset.train, this.#evaluationLimit), evaluateSplit(this.net, this.dataset.test, this.#evaluationLimit)];
    const event: EpochEvent = {
      epoch: this.#iteration / this.iterationsPerEpoch,
      iteration: this.#iteration,
      trainAccuracy: train.accuracy,
      testAccuracy: test.accuracy,
      trainLoss: train.loss,
      testLoss: test.loss,
    };
    // Worse than twice a uniform guess (and than twice where the run started): not learning, diverged.
    // Checked before the event goes out: listeners checkpoint on it, and a diverged state must not
    // replace the last good checkpoint.
    const uniformLoss = Math.log(this.dataset.classes);
    const firstLoss = this.#epochs[0]?.trainLoss ?? train.loss;
    if (this.#iteration > 0 && train.loss > DIVERGED_LOSS_FACTOR * Math.max(uniformLoss, firstLoss)) {
      throw new DivergenceError(`Training diverged by iteration ${this.#iteration}: the train loss is ${train.loss.toFixed(3)}, more than ${DIVERGED_LOSS_FACTOR}× both a uniform guess's (log ${this.dataset.classes} = ${uniformLoss.toFixed(3)}) and the first evaluation's (${firstLoss.toFixed(3)}); try a smaller learning rate (${this.#smallerRateAdvice(0.1, 'a tenth')}).`, { suggestedLearningRate: this.#smallerRate(0.1) });
    }
    this.#epochs.push(event);
    this.emit('epoch', event);
    return event;
  }

  /**
   * One update on one mini-batch. A gradient that fails or is aborted through
   * `signal` leaves the trainer as it was before the step (the batch is drawn
   * again by the next step), so a checkpoint taken then continues exactly.
   *
   * Once the update is made the step ends: `signal` aborting while the batch loss is computed (in the pool, for
   * the incremental engine) only moves that loss to this thread. {@link getState}, {@link setState},
   * {@link evaluate} and another `step()` refuse to run until the step is done (the state mixes two iterations meanwhile); `iteration` listeners may.
   *
   * @throws {DivergenceError} (as a rejection) when the update made the batch loss non-finite or saturated, or a
   * weight non-finite: the weights and the iteration stay at the last good step, but the optimizer's state cannot,
   * so the trainer then refuses to step, run, evaluate or save until {@link setState}.
   */
  async step(options: StepOptions = {}): Promise<IterationEvent> {
    this.#assertNotDiverged();
    this.#assertNotStepping('step()');
    const token = {};
    this.#stepping = token;
    try {
      return await this.#step(options, token);
    } finally {
      if (this.#stepping === token) this.#stepping = undefined;
      this.#stepWarning = undefined;
    }
  }

  /**
   * {@link step}'s work, while `#stepping` holds `token`; its events (a
   * `warning`, `iteration`) go out once the step is whole, when a listener
   * may take the state, or throw without leaving the step half done.
   */
  async #step({ signal }: StepOptions, token: object): Promise<IterationEvent> {
    const samplerState = this.#sampler.getState();
    const batch = this.#sampler.next();
    const started = performance.now();
    let grad: Float64Array;
    try {
      grad = await this.#gradientOf(batch, signal);
    } catch (error) {
      this.#sampler.setState(samplerState);
      throw error;
    }
    const gradientMilliseconds = performance.now() - started;
    const previous = this.#previousParams;
    previous.set(this.net.params);
    this.optimizer.step(this.net.params, grad);
    const loss = await this.#lossOf(batch, signal);
    // The 1e-7 in the log bounds the loss, so overflowing weights show up as NaN or as non-finite weights.
    const badWeight = firstNonFinite(this.net.params);
    if (!Number.isFinite(loss) || badWeight >= 0 || loss >= SATURATED_LOSS) {
      // The weights and the iteration stay at the last good step; the optimizer's state cannot, so the trainer refuses to go on.
      this.net.params.set(previous);
      const failed = this.#iteration + 1;
      this.#divergedAt = failed;
      const what = badWeight >= 0 ? `weight ${badWeight} became non-finite`
        : !Number.isFinite(loss) ? `the loss became ${loss}`
          : `the loss reached ${loss.toFixed(2)}, near its ceiling of ${LOSS_CEILING.toFixed(2)} (−log 1e-7: the right class gets almost no probability)`;
      const early = failed <= EARLY_DIVERGENCE_STEPS || (this.#rateChangedAt !== undefined && failed - this.#rateChangedAt <= EARLY_DIVERGENCE_STEPS);
      const [fraction, share] = early ? [0.1, 'a tenth'] : [0.5, 'half'];
      const diagnosis = `Training diverged at iteration ${failed}: ${what}; try a smaller learning rate (${this.#smallerRateAdvice(fraction, share)}).`;
      this.#endStep(token);
      throw new DivergenceError(`${diagnosis} The weights of iteration ${this.#iteration} are kept.`, { diagnosis, suggestedLearningRate: this.#smallerRate(fraction) });
    }
    this.#iteration++;
    const event: IterationEvent = { iteration: this.#iteration, loss, gradientMilliseconds };
    // Listeners may checkpoint: the step is whole now.
    this.#endStep(token);
    this.emit('iteration', event);
    return event;
  }

  /** The step of `token` is whole (or has diverged): the state may be taken again, and its warning goes out. */
  #endStep(token: object): void {
    if (this.#stepping === token) this.#stepping = undefined;
    const warning = this.#stepWarning;
    this.#stepWarning = undefined;
    if (warning !== undefined) this.emit('warning', warning);
  }

  /**
   * Runs until `iterations` updates are done or {@link stop} is called. `signal`
   * aborts the step in progress (see {@link step}). It yields to the event loop
   * every few milliseconds whatever the engine, so signals, timers and output
   * are handled during a run (a backprop step never waits on anything).
   */
  async run({ signal }: StepOptions = {}): Promise<TrainingSummary> {
    this.#assertNotDiverged();
    this.#assertNotStepping('run()');
    const started = performance.now();
    this.#stopRequested = false;
    let finalLoss = Number.NaN;
    let lastYield = performance.now();
    if (this.#iteration === 0 && this.#epochs.length === 0) await this.evaluate();
    while (this.#iteration < this.iterations && !this.#stopRequested) {
      if (performance.now() - lastYield >= YIELD_MILLISECONDS) {
        await setImmediatePromise();
        lastYield = performance.now();
        if (this.#stopRequested) break;
      }
      finalLoss = (await this.step({ signal })).loss;
      if (this.#iteration % this.iterationsPerEpoch === 0 || this.#iteration === this.iterations) await this.evaluate();
    }
    return {
      iterations: this.#iteration,
      epochs: this.#epochs.map((e) => ({ ...e })),
      finalLoss,
      stopped: this.#iteration < this.iterations,
      milliseconds: performance.now() - started,
    };
  }

  /**
   * The batch's loss at the updated weights: on the pool's threads for the
   * incremental engine (they still serve this batch; equal bit for bit), else
   * here. The update is made by then, so the step must end: a pool call that
   * fails or is aborted is computed here instead (the same value); a failure
   * other than an abort is said in a `warning` event, and the later losses
   * are computed here (a failing call would cost a call and a session on every step).
   */
  async #lossOf(batch: PreparedBatch, signal: AbortSignal | undefined): Promise<number> {
    if (this.#poolLoss && this.engine === 'incremental' && typeof this.#pool?.lossOfBatch === 'function') {
      try {
        return await this.#pool.lossOfBatch(this.net, batch, { signal });
      } catch (error) {
        // An abort stops the run at the next step; anything else is said once, and the pool is not asked again.
        if (!(error instanceof GradientAbortError)) {
          this.#poolLoss = false;
          this.#stepWarning = `The pool could not compute the batch loss at iteration ${this.#iteration + 1} (${error instanceof Error ? error.message : String(error)}); computing it on the main thread from now on, the same value`;
        }
      }
    }
    return batchLoss(this.net.params, this.net.shape, batch.x, batch.rows, batch.labels, this.#lossScratch, this.#lossSparse);
  }

  async #gradientOf(batch: PreparedBatch, signal: AbortSignal | undefined): Promise<Float64Array> {
    const engine = this.engine;
    if (engine === 'backprop') {
      backprop(this.net.params, this.net.shape, batch.x, batch.rows, batch.labels, this.#gradientBuffer, false);
      return this.#gradientBuffer;
    }
    return (await this.#pool!.gradientOfBatch(this.net, batch, { engine, out: this.#gradientBuffer, signal })).flat;
  }
}
