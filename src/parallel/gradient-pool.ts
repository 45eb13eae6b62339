/**
 * The main-thread side of the worker pool: validates a gradient call, puts its
 * inputs in shared memory, sends the workers their tasks and collects the result.
 */
import os from 'node:os';
import { Piscina } from 'piscina';
import type { BatchInput, TargetInput } from '../batch.js';
import type { Split } from '../data/dataset.js';
import { describeParameterRange } from '../kernels/two-layer.js';
import { assertFiniteParameters, type NetGradient, type PreparedBatch, TwoLayerNet } from '../nets/two-layer-net.js';
import { DEFAULT_H } from '../numerical.js';
import { assertInteger, assertKnownKeys, assertOneOf, assertOptionsObject, assertPositiveFinite, describe } from '../validate.js';
import { DEFAULT_ENGINE, NUMERICAL_ENGINES } from '../engine.js';
import { ArgumentTypeError, GradientPoolError } from '../errors.js';
import { MAX_BLOCK_MILLISECONDS } from './blocking-budget.js';
import { partitionByCost } from './partition.js';
import type { EvaluationTask, FunctionGradientTask, GradientTask, GradientTaskResult, NaiveGradientTask } from './protocol.js';
import { PoolScratch } from './pool-scratch.js';
import { PoolRunner } from './pool-runner.js';
import {
  SharedSplits, checkEvaluationArguments, combineChunks, evaluationChunkCount, type PoolEvaluationOptions, type SplitScore,
} from './pool-evaluation.js';
import { touchedArray } from './touched-array.js';
import { siblingModule, workerStart } from './worker-loader.js';
import { CALL_LOSS, sharedClock, type ServeTask } from './serve-loop.js';
import type { ServedTask } from './serving.js';
import {
  checkCallOptions, checkFunctionGradientArguments, checkGradientOut, type FunctionGradientOptions, type GradientPoolOptions, type PoolCallStatistics,
  type PoolGradientOptions,
} from './pool-call.js';

export type { FunctionGradientOptions, GradientPoolOptions, PoolCallOptions, PoolCallStatistics, PoolCallTimeline, PoolGradientOptions } from './pool-call.js';
export type { PoolEvaluationOptions, SplitScore } from './pool-evaluation.js';

/**
 * The most worker threads a pool may have: the pool's shared work board and
 * task status slots are allocated once, for this many threads.
 */
export const MAX_THREADS = 64;

/** The young generation of each worker thread's heap, in megabytes (see the constructor). */
const WORKER_YOUNG_GENERATION_MB = 2;

/**
 * Whether incremental calls are served (serving.ts): workers wait in one long
 * task for the next call, posted through shared memory. Off: one Piscina task
 * per thread per call. `GRADPOOL_SERVING=0` in the environment turns it off.
 */
const SERVING = process.env.GRADPOOL_SERVING !== '0';

/** Every key of {@link GradientPoolOptions}: `new GradientPool` refuses any other (a misspelled option would be ignored). */
const GRADIENT_POOL_OPTION_KEYS: readonly (keyof GradientPoolOptions)[] = ['threads', 'workerModule', 'maxBlockMilliseconds'];

/** The largest `maxBlockMilliseconds` a pool takes: a minute. */
const MAX_BLOCK_OPTION_MILLISECONDS = 60_000;

/**
 * Pieces per thread for the incremental engine: many, so that a thread that
 * starts late or is slowed by another process takes fewer and the others take
 * its share (first come, first served), and the threads finish within one
 * piece of each other: the last thread to finish waits at most one chunk's
 * length, so chunks are kept short; a claim costs one atomic add
 * (`gradpool bench` reports the imbalance between the threads' tasks).
 */
export const BASE_PARTS_PER_THREAD = 4;
export const CHUNKS_PER_THREAD = 16;
/** Ranges of samples per thread for a batch loss ({@link GradientPool.lossOfBatch}): every sample costs the same, so a few suffice for a late thread to take fewer. */
const LOSS_RANGES_PER_THREAD = 4;

/** A pool computes TwoLayerNet's gradient only: anything else would fail deep inside with a message about its fields. */
function assertNet(net: unknown): void {
  if (!(net instanceof TwoLayerNet)) throw new ArgumentTypeError(`Expected \`net\` to be a TwoLayerNet, got ${describe(net)}`);
}

/** The workers read the weights in place: they must be in shared memory (every TwoLayerNet's are; a net built by hand may not be). */
function assertSharedParams(net: TwoLayerNet): void {
  if (!(net?.params?.buffer instanceof SharedArrayBuffer)) {
    throw new ArgumentTypeError(`Expected \`net.params\` to live in a SharedArrayBuffer, got ${describe(net?.params?.buffer)}`);
  }
}

/** The work board's base parts and chunks for a call on `threads` threads over `size` parameters: one of each on one thread. */
export function boardCuts(threads: number, size: number): { parts: number; chunks: number } {
  return threads === 1 ? { parts: 1, chunks: 1 } : { parts: threads * BASE_PARTS_PER_THREAD, chunks: Math.min(threads * CHUNKS_PER_THREAD, size) };
}

/**
 * A pool of worker threads (Piscina) that computes numerical gradients in
 * parallel: the parameters are split into ranges of equal work, each worker
 * reads the shared weights and batch and writes only its own slice of a shared
 * gradient. Results are bit-identical whatever the thread count.
 *
 * The incremental engine sends each thread the same task; through a shared
 * work board (see work-board.ts) the threads first build the per-batch base
 * together in a SharedArrayBuffer, part by part, then compute the parameters
 * chunk by chunk from that one base, chunks cut by cost (zero inputs make
 * rows of W1 cheap). The main thread only starts the call and waits for it.
 * Repeated calls of the same task (the Trainer's, step after step) are
 * served (serving.ts): each thread stays in one long task and is woken for
 * the next call through shared memory, with no message per call.
 *
 * Every call takes a `timeout` and a `signal`: a call stopped by either (or by
 * `destroy()`) terminates the workers still running its tasks, rejects naming
 * what they were computing (each task records its current piece in shared
 * memory, which the main thread reads without asking the stuck worker), and
 * leaves the pool usable.
 *
 * Calls on one pool run one after another, in the order they were made (an
 * incremental call needs every thread at once). Every error of a call is a
 * rejection of its promise, bad arguments included.
 *
 * @example
 * const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 2, seed: 1 });
 * const pool = new GradientPool({ threads: 2 });
 * try {
 *   const grads = await pool.numericalGradient(net, [[0.5, -1], [1, 2]], [0, 1], { timeout: 60_000 });
 *   grads.flat; // Float64Array of 17 values ≈ net.numericalGradient(x, t) (equal with { engine: 'naive' })
 * } finally {
 *   await pool.destroy();
 * }
 */
export class GradientPool {
  /** The number of worker threads, as given or defaulted: each call uses all of them. */
  readonly threads: number;
  /** Runs the calls: their queue, deadlines, tasks and errors (pool-runner.ts). */
  #runner: PoolRunner;
  /** Shared copies of the splits evaluated that were not in shared memory, made once. */
  #splits = new SharedSplits();
  #destroying: Promise<void> | undefined;
  /** The sample ranges of the last batch loss, for its number of rows (made once: the Trainer's loss is on the path of every step). */
  #lossRanges: { rows: number; ranges: [number, number][] } | undefined;

  /**
   * Starts the worker threads at once (they are kept until {@link destroy}), so
   * the first call does not pay for their start.
   *
   * @param options - `threads` (default `os.availableParallelism()`), `maxBlockMilliseconds` (default 10) and, for tests, `workerModule`.
   * @throws {ArgumentRangeError} ``Expected `threads` to be an integer from 1 to 64, got `0` (number)`` (an {@link ArgumentTypeError} for a non-number), likewise ``Expected `maxBlockMilliseconds` to be an integer from 0 to 60000, got `-1` (number)``; ``Expected `options` of GradientPool to have only the keys `threads`, `workerModule`, `maxBlockMilliseconds`, got the key `thread` ``.
   * @throws {ArgumentTypeError} ``Expected `options` to be an object such as { threads: 4 }, got `null` ``; ``Expected `workerModule` to be a URL string, got `"./x.js"` (string)``.
   */
  constructor(options: GradientPoolOptions = {}) {
    assertOptionsObject('options', options, '{ threads: 4 }');
    assertKnownKeys('options', options, GRADIENT_POOL_OPTION_KEYS, 'GradientPool');
    const { threads = os.availableParallelism(), workerModule, maxBlockMilliseconds = MAX_BLOCK_MILLISECONDS } = options;
    assertInteger('threads', threads, 1, MAX_THREADS);
    assertInteger('maxBlockMilliseconds', maxBlockMilliseconds, 0, MAX_BLOCK_OPTION_MILLISECONDS);
    if (workerModule !== undefined && (typeof workerModule !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(workerModule))) {
      throw new ArgumentTypeError(`Expected \`workerModule\` to be a URL string, got ${describe(workerModule)}`);
    }
    this.threads = threads;
    const filename = workerModule ?? siblingModule(import.meta.url, '../../workers/gradient.worker');
    const pool = new Piscina<GradientTask | ServeTask, GradientTaskResult>({
      filename,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      recordTiming: false,
      // A small young generation: a task allocates little (typed arrays over shared memory, a few
      // small objects), and V8's default let each thread's heap grow by 6 MB of unused semi-space.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      ...workerStart(filename),
    });
    this.#runner = new PoolRunner(pool, threads, workerModule, new PoolScratch(CHUNKS_PER_THREAD * MAX_THREADS, MAX_THREADS), MAX_THREADS, maxBlockMilliseconds);
  }

  /**
   * The numerical gradient of `net.loss(x, t)` with respect to all parameters,
   * computed across the pool's threads. Equal bit for bit to the same engine on
   * one thread; the `naive` engine equals `net.numericalGradient(x, t)`, the
   * `incremental` one computes the same central differences with less
   * rounding error (it differences each sample's loss close to a cached
   * forward pass instead of two batch sums), so the two agree to the naive
   * one's rounding.
   *
   * @param net - The net; its `params` (over a SharedArrayBuffer) are read in place and must not change until the call settles.
   * @param x - One sample or a batch, as for {@link TwoLayerNet.predict}.
   * @param t - One-hot rows or integer labels, one per row of `x`.
   * @param options - `engine` (default `'incremental'`), `h` (default 1e-4), `out`, `onStatistics`, `signal`, `timeout`: see {@link PoolGradientOptions}.
   * @returns A {@link NetGradient}: `flat` (a new array, or `out`) and the views `W1`, `b1`, `W2`, `b2`.
   * @throws {TypeError} or {@link ArgumentRangeError} for a bad `net`, `x`, `t` or option, as a rejection: ``Expected `net` to be a TwoLayerNet, got `undefined` ``, ``Expected `x` to have 2 columns (inputSize), got 3``, ``Expected `engine` to be one of `naive`, `incremental`, got `"backprop"` (string)``.
   * @throws {RangeError} ``Expected the net's parameters to be finite, got `NaN` at W1[0][0] (did training diverge? try a smaller learning rate)``.
   * @throws {GradientPoolError} when a worker fails: ``Gradient worker failed …: <the worker's error>``, its `piece` naming what it was computing.
   * @throws {GradientTimeoutError} ``Gradient call timed out after 500 ms: a worker was still …`` past `timeout`.
   * @throws {GradientAbortError} ``Gradient call aborted (<reason>)…`` when `signal` aborts, or ``Gradient call aborted: the GradientPool was destroyed …``.
   * @throws {Error} ``This GradientPool has been destroyed; create a new one`` for a call after {@link destroy}.
   */
  async numericalGradient(net: TwoLayerNet, x: BatchInput, t: TargetInput, options: PoolGradientOptions = {}): Promise<NetGradient> {
    const start = sharedClock();
    assertNet(net);
    // With no call in flight the kept batch buffer is free until this call runs, which is at once:
    // the rows go straight into shared memory (a fresh array per call costs page faults, then a copy).
    const scratch = this.#runner.scratch;
    const lent = this.#runner.idle && scratch.lendBatch();
    try {
      const { inputSize } = net.shape;
      // A batch of another width fails the column check: it must not grow the kept buffer first.
      const batch = lent ? net.prepare(x, t, (length) => (length % inputSize === 0 ? scratch.lentBatchInputs(length) : new Float64Array(length))) : net.prepare(x, t);
      // Not in gradientOfBatch, the Trainer's path: it checks the weights after every update itself.
      assertFiniteParameters(net);
      return await this.#gradientOfBatch(net, batch, options, start);
    } finally {
      if (lent) scratch.returnBatch();
    }
  }

  /**
   * As {@link numericalGradient}, for a batch already validated by `net.prepare`.
   * A batch whose arrays live in SharedArrayBuffers is read in place (it must
   * not change until the call resolves); any other is copied to shared memory.
   * Unlike {@link numericalGradient} it does not scan the weights for NaN or
   * ±Infinity (a scan of every weight, on the path of every training step):
   * the caller does, as the Trainer does after every update.
   *
   * @param net - The net; its `params` must live in a SharedArrayBuffer (as every TwoLayerNet's do).
   * @param batch - What `net.prepare(x, t)` returned for this net.
   * @param options - `engine` (default `'incremental'`), `h` (default 1e-4), `out`, `onStatistics`, `signal`, `timeout`: see {@link PoolGradientOptions}.
   * @returns A {@link NetGradient}: `flat` (a new array, or `out`) and the views `W1`, `b1`, `W2`, `b2`.
   * @throws {TypeError} or {@link ArgumentRangeError} for a bad option, as a rejection: ``Expected `out` to be a Float64Array of 17 values (one per parameter), got a Float64Array of length 3``, ``Expected `net.params` to live in a SharedArrayBuffer, got …``.
   * @throws {GradientPoolError} when a worker fails, {@link GradientTimeoutError} past `timeout`, {@link GradientAbortError} when stopped, as {@link numericalGradient}.
   * @throws {Error} ``This GradientPool has been destroyed; create a new one`` for a call after {@link destroy}.
   */
  async gradientOfBatch(net: TwoLayerNet, batch: PreparedBatch, options: PoolGradientOptions = {}): Promise<NetGradient> {
    assertNet(net);
    return this.#gradientOfBatch(net, batch, options, sharedClock());
  }

  /** {@link gradientOfBatch}, for a call that started at `start` ({@link sharedClock}): its timeline counts from then. */
  async #gradientOfBatch(
    net: TwoLayerNet, batch: PreparedBatch, { engine = DEFAULT_ENGINE, h = DEFAULT_H, out, onStatistics, signal, timeout }: PoolGradientOptions, start: number,
  ): Promise<NetGradient> {
    assertOneOf('engine', engine, NUMERICAL_ENGINES);
    assertPositiveFinite('h', h);
    checkCallOptions(signal, timeout);
    assertSharedParams(net);
    const size = net.layout.size;
    checkGradientOut(out, size, [net.params, batch.x, batch.labels]);
    return this.#runner.serialized(signal, timeout, async (call) => {
      const { shape } = net;
      const rows = batch.rows;
      const { x, labels } = this.#runner.scratch.sharedBatch(batch, shape.inputSize);
      // Workers write into `out` when it is shared; else into one shared buffer
      // kept for the life of the pool (a fresh SharedArrayBuffer per call is freed
      // only when every thread has collected it, which let a 10,000-iteration
      // run's memory grow by hundreds of megabytes), then copied out.
      const gradient = out !== undefined && out.buffer instanceof SharedArrayBuffer ? out : this.#runner.scratch.gradientOf(size);
      // The new array a call without `out` returns, made while the workers compute (on the served
      // incremental path): fresh memory costs a page fault per 4 KiB at first write (~0.2 ms per
      // 39,760 values on average on the development machine, up to 1).
      let fresh: Float64Array | undefined;
      const makeFresh = out === undefined ? () => {
        fresh = touchedArray(size);
      } : undefined;
      const result = (): NetGradient => {
        if (gradient === out) return net.views(out);
        const into = out ?? fresh ?? new Float64Array(size);
        into.set(gradient);
        return net.views(into);
      };
      const common = { shape, params: net.params, x, labels, rows, gradient, h };
      if (engine === 'naive') {
        const ranges = partitionByCost(new Float64Array(size).fill(1), this.threads);
        const tasks = ranges.map(([start, end]): NaiveGradientTask => ({ kind: 'naive', ...common, start, end }));
        const taskMilliseconds = await this.#runner.runAll(call, tasks, (task) => `on ${describeParameterRange(shape, (task as NaiveGradientTask).start, (task as NaiveGradientTask).end)}`);
        onStatistics?.({ taskMilliseconds });
        return result();
      }
      this.#runner.scratch.startedBase(shape, rows);
      const board = this.#runner.scratch.workBoard();
      const { parts, chunks } = boardCuts(this.threads, size);
      board.reset(parts, chunks);
      const task: ServedTask = { kind: 'incremental', ...common, base: this.#runner.scratch.base, board: this.#runner.scratch.board };
      // The tasks' own errors name the piece that failed; a worker that died
      // names nothing, and the others must stop waiting for its part.
      const statistics: PoolCallStatistics | undefined = SERVING ? await this.#runner.runServed(call, task, () => board.abort(), onStatistics === undefined ? undefined : start, makeFresh)
        : { taskMilliseconds: await this.#runner.runAll(call, new Array<GradientTask>(this.threads).fill(task), () => '', () => board.abort()) };
      if (!board.complete) {
        throw new GradientPoolError(`Gradient workers stopped early: board state ${board.state}, ${board.chunks} chunks (please report this)`, 'the work board');
      }
      if (statistics !== undefined) onStatistics?.(statistics);
      return result();
    });
  }

  /**
   * The book's loss of `net` on `batch` (`net.loss` of its rows and labels),
   * computed by the pool's threads, each scoring ranges of samples, added in
   * sample order on this thread: equal bit for bit to `net.loss(x, t)`,
   * whatever the thread count. Posted to the threads that serve the last
   * incremental gradient when it read these very weights and batch arrays (the
   * Trainer's loss after each update, on the batch of its gradient), with no
   * message; else it starts their session as an incremental call would.
   *
   * @param net - The net; its `params` (over a SharedArrayBuffer) are read in place and must not change until the call settles.
   * @param batch - What `net.prepare(x, t)` returned for this net; read in place when its arrays are shared, else copied.
   * @param options - `signal`, `timeout`: see {@link PoolGradientOptions}.
   * @returns The mean cross-entropy of the batch.
   * @throws {GradientPoolError} when a worker fails (its `piece` naming the samples it was scoring), {@link GradientTimeoutError} past `timeout`, {@link GradientAbortError} when stopped, as {@link numericalGradient}.
   * @throws {Error} ``This GradientPool has been destroyed; create a new one`` for a call after {@link destroy}.
   * @example
   * await pool.gradientOfBatch(net, batch, { out });
   * // … update net.params …
   * const loss = await pool.lossOfBatch(net, batch); // === net.loss(x, t)
   */
  async lossOfBatch(net: TwoLayerNet, batch: PreparedBatch, { signal, timeout }: Pick<PoolGradientOptions, 'signal' | 'timeout'> = {}): Promise<number> {
    assertNet(net);
    checkCallOptions(signal, timeout);
    assertSharedParams(net);
    return this.#runner.serialized(signal, timeout, async (call) => {
      const { shape } = net;
      const { rows } = batch;
      const scratch = this.#runner.scratch;
      const { x, labels } = scratch.sharedBatch(batch, shape.inputSize);
      const { lossCells } = scratch.startedBase(shape, rows);
      const inputs = { shape, params: net.params, x, labels, rows };
      const task: ServedTask = this.#runner.servedTaskFor(inputs) ?? {
        kind: 'incremental', ...inputs, gradient: scratch.gradientOf(net.layout.size), h: DEFAULT_H, base: scratch.base, board: scratch.board,
      };
      const board = scratch.workBoard();
      const ranges = this.#lossRangesOf(rows);
      board.reset(1, ranges.length);
      board.publish(ranges);
      if (SERVING) await this.#runner.runServed(call, task, () => board.abort(), undefined, undefined, CALL_LOSS);
      else await this.#runner.runAll(call, new Array<GradientTask>(this.threads).fill({ ...task, kind: 'batch-loss' }), () => '', () => board.abort());
      if (!board.complete) {
        throw new GradientPoolError(`Loss workers stopped early: board state ${board.state}, ${board.chunks} ranges (please report this)`, 'the work board');
      }
      // As sumLogLikelihood adds them, in sample order.
      let sum = 0;
      for (let n = 0; n < rows; n++) sum += lossCells[n];
      return -sum / rows;
    });
  }

  /** [start, end) ranges of equal length covering `rows` samples, {@link LOSS_RANGES_PER_THREAD} per thread at most. */
  #lossRangesOf(rows: number): [number, number][] {
    if (this.#lossRanges?.rows !== rows) {
      const count = Math.min(rows, this.threads * LOSS_RANGES_PER_THREAD);
      const ranges = Array.from({ length: count }, (_, r): [number, number] => [Math.floor((r * rows) / count), Math.floor(((r + 1) * rows) / count)]);
      this.#lossRanges = { rows, ranges };
    }
    return this.#lossRanges.ranges;
  }

  /**
   * Accuracy and mean loss of `net` on each of `splits`, a forward pass split
   * across the pool's threads by chunks of 1,000 rows: each chunk is scored
   * as `evaluateSplit` scores it and the chunks' sums are added in chunk
   * order, so the result equals `evaluateSplit(net, split, limit)` bit for
   * bit, whatever the thread count. The Trainer's epoch evaluation.
   *
   * A split whose arrays live in SharedArrayBuffers is read in place; any
   * other is copied to shared memory at its first evaluation and that copy is
   * kept (as long as the array is) and reused, so it must not change
   * afterwards. Each split goes to each worker once; later calls name it.
   *
   * @param net - The net; its `params` (over a SharedArrayBuffer) are read in place and must not change until the call settles.
   * @param splits - Splits of at least one row of `net.shape.inputSize` numbers and one label per row, from 0 to outputSize − 1.
   * @param options - `limit` (default `Infinity`: every row), `signal`, `timeout`: see {@link PoolEvaluationOptions}.
   * @returns One `{ accuracy, loss }` per split, in order.
   * @throws {ArgumentTypeError} or {@link ArgumentRangeError} for a bad split or `limit`, as a rejection: ``Expected `limit` to be an integer from 1 and up, or Infinity (every sample), got `0` (number)``.
   * @throws {GradientPoolError} when a worker fails (``Gradient worker failed: …``, its `piece` naming the rows it was scoring), {@link GradientTimeoutError} past `timeout`, {@link GradientAbortError} when stopped, as {@link numericalGradient}.
   * @throws {Error} ``This GradientPool has been destroyed; create a new one`` for a call after {@link destroy}.
   * @example
   * const [train, test] = await pool.evaluate(net, [dataset.train, dataset.test]);
   * train.accuracy === evaluateSplit(net, dataset.train).accuracy; // true
   */
  async evaluate(net: TwoLayerNet, splits: readonly Split[], { limit = Number.POSITIVE_INFINITY, signal, timeout }: PoolEvaluationOptions = {}): Promise<SplitScore[]> {
    checkCallOptions(signal, timeout);
    assertSharedParams(net);
    checkEvaluationArguments(splits, net.shape.inputSize, limit);
    const used = splits.map((split) => this.#splits.evaluationSplit(split, limit));
    return this.#runner.serialized(signal, timeout, async (call) => {
      const chunks = evaluationChunkCount(used);
      const { results, counter } = this.#runner.scratch.evaluationOf(chunks);
      const task: EvaluationTask = { kind: 'evaluate', shape: net.shape, params: net.params, splits: used, results, counter };
      // Chunks are claimed, not assigned: more tasks than chunks would only wait.
      await this.#runner.runAll(call, new Array<GradientTask>(Math.min(this.threads, chunks)).fill(task), () => '');
      // Every task claims until the counter passes the last chunk (a failed task rejected above).
      if (Atomics.load(counter, 0) < chunks) {
        throw new GradientPoolError(`Evaluation workers stopped early: ${Atomics.load(counter, 0)} of ${chunks} chunks claimed (please report this)`, 'the evaluation');
      }
      return combineChunks(results, used);
    });
  }

  /**
   * The book's numerical gradient of a user's function, split across threads.
   * The function must live in a module the workers can import (closures cannot
   * cross threads). Equal bit for bit to `numericalGradient(f, x)`. A function
   * that may not return is what `timeout` and `signal` are for.
   *
   * @param options - `module`, `exportName` (default `'default'`), `x`, `context`, `h` (default 1e-4), `signal`, `timeout`: see {@link FunctionGradientOptions}.
   * @returns A new Float64Array (over a SharedArrayBuffer) of the length of `x`: the partial derivatives.
   * @throws {TypeError} for a bad `module`, `exportName` or `signal`, as a rejection: ``Expected `module` to be a URL (e.g. new URL('./f.js', import.meta.url)), got `"./f.js"` (string)``.
   * @throws {RangeError} ``Expected `x` to contain only finite numbers, got `NaN` at index 0``; an {@link ArgumentRangeError} for an empty `x` or a bad `h` or `timeout`.
   * @throws {GradientPoolError} when the module cannot be loaded, the export is not a function, or `f` throws or returns anything but a finite number: ``Gradient worker failed on elements 0–0 of `x` (f from file:///…): Expected `f` to return a finite number, got `NaN` (number) at x[0] + h``.
   * @throws {GradientTimeoutError} past `timeout`, {@link GradientAbortError} when stopped, as {@link numericalGradient}.
   * @example
   * // function2.ts: export const function2 = (x: Float64Array) => x[0] ** 2 + x[1] ** 2;
   * await pool.functionGradient({ module: new URL('./function2.ts', import.meta.url), exportName: 'function2', x: [3, 4] });
   * // Float64Array [6.00000000000378, 7.999999999999119], as numericalGradient(function2, Float64Array.of(3, 4))
   */
  async functionGradient(options: FunctionGradientOptions): Promise<Float64Array> {
    assertOptionsObject('options', options, '{ module, exportName, x }');
    const { module, exportName = 'default', x, context, h = DEFAULT_H, signal, timeout } = options;
    const { moduleUrl, point } = checkFunctionGradientArguments({ module, exportName, x, h, signal, timeout });
    const { length } = point;
    return this.#runner.serialized(signal, timeout, async (call) => {
      const gradient = new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
      const ranges = partitionByCost(new Float64Array(length).fill(1), this.threads);
      await this.#runner.runAll(call, ranges.map(([start, end]) => ({
        kind: 'function', module: moduleUrl, exportName, x: point, context, gradient, start, end, h,
      })), (task) => `on elements ${(task as FunctionGradientTask).start}–${(task as FunctionGradientTask).end - 1} of \`x\` (${exportName} from ${moduleUrl})`);
      return gradient;
    });
  }

  /**
   * Stops the workers. A call in progress or waiting its turn is stopped first
   * (it rejects with a `GradientAbortError` saying the pool was destroyed), so
   * this resolves promptly even while a worker is stuck. Call it when done
   * with the pool (in a `finally`): its threads and their shared buffers live
   * until then. Calling it again returns the same promise.
   *
   * @returns Resolves once every worker has stopped and every call has settled.
   */
  destroy(): Promise<void> {
    if (this.#destroying === undefined) {
      this.#destroying = this.#runner.destroy();
    }
    return this.#destroying;
  }
}
