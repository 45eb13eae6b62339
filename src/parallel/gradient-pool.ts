/**
 * The main-thread side of the worker pool: validates a gradient call, puts its
 * inputs in shared memory, sends the workers their tasks and collects the result.
 */
import os from 'node:os';
import { Piscina } from 'piscina';
import type { BatchInput, TargetInput } from '../batch.js';
import { incrementalBaseBytes, incrementalBaseViews, startIncrementalBase } from '../kernels/incremental/index.js';
import { describeParameterRange } from '../kernels/two-layer.js';
import { assertFiniteParameters, type NetGradient, type PreparedBatch, type TwoLayerNet } from '../nets/two-layer-net.js';
import { DEFAULT_H } from '../numerical.js';
import { assertInteger, assertOneOf, assertPositiveFinite, describe } from '../validate.js';
import { DEFAULT_ENGINE, NUMERICAL_ENGINES, type NumericalEngine } from '../engine.js';
import { partitionByCost } from './partition.js';
import type { GradientTask, GradientTaskResult, FunctionGradientTask, IncrementalGradientTask, NaiveGradientTask } from './protocol.js';
import { WorkBoard } from './work-board.js';
import { siblingModule, workerExecArgv } from './worker-loader.js';

export interface GradientPoolOptions {
  /** Worker threads, 1 to 64. Default: `os.availableParallelism()`. */
  threads?: number;
  /**
   * The workers' module (a URL string): for instrumentation and failure tests,
   * a module whose default export takes each task on to `runGradientTask`
   * (src/parallel/run-task.ts). Default: workers/gradient.worker.
   */
  workerModule?: string;
}

export interface PoolGradientOptions {
  /**
   * `'incremental'` (default): exact central differences from cached base
   * activations, recomputing only what each parameter changes. `'naive'`: the
   * book's full forward pass per perturbation (the reference; very slow).
   */
  engine?: NumericalEngine;
  /** Finite-difference step. Default 1e-4 (the book's). */
  h?: number;
  /**
   * Where to put the gradient (as many values as parameters): its views are
   * returned. Over a SharedArrayBuffer, the workers write into it directly (so
   * a call that fails may leave it partly written); otherwise it is copied in
   * once the call has succeeded. It must not be the weights or the batch (the
   * check compares buffer objects: memory shared under another
   * SharedArrayBuffer object is not caught). Default: a new array per call.
   */
  out?: Float64Array;
  /** Called once the call has succeeded, with how long each worker task took (for benchmarks and profiling). */
  onStatistics?: (statistics: PoolCallStatistics) => void;
}

/** What a pool call reports to `onStatistics`. */
export interface PoolCallStatistics {
  /** Time each worker task took, in milliseconds, measured in the worker: one task per thread for the incremental engine. */
  taskMilliseconds: number[];
}

export interface FunctionGradientOptions {
  /** URL (or `file:` URL string) of an ES module the workers can import. */
  module: URL | string;
  /** The export to call as `f(x, context)`. Default `'default'`. */
  exportName?: string;
  /** The point; not modified. */
  x: ArrayLike<number>;
  /** Extra data passed to every call (structured-cloneable). */
  context?: unknown;
  /** Finite-difference step. Default 1e-4. */
  h?: number;
}

export const MAX_THREADS = 64;

/** Whether two arrays share any byte of memory. */
function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

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
 *
 * @example
 * const pool = new GradientPool({ threads: 2 });
 * try {
 *   const grads = await pool.numericalGradient(net, xBatch, tBatch);
 * } finally {
 *   await pool.destroy();
 * }
 */
export class GradientPool {
  readonly threads: number;
  #pool: Piscina<GradientTask, GradientTaskResult>;
  #batchX = new SharedArrayBuffer(0);
  #batchLabels = new SharedArrayBuffer(0);
  /** The incremental engine's shared base (its layout depends only on shape and rows), reused while large enough. */
  #base = new SharedArrayBuffer(0);
  #gradient = new SharedArrayBuffer(0);
  #board = new SharedArrayBuffer(WorkBoard.bytes(CHUNKS_PER_THREAD * MAX_THREADS));
  #queue: Promise<unknown> = Promise.resolve();
  #destroyed = false;
  #poolError: Error | undefined;

  constructor({ threads = os.availableParallelism(), workerModule }: GradientPoolOptions = {}) {
    assertInteger('threads', threads, 1, MAX_THREADS);
    if (workerModule !== undefined && (typeof workerModule !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(workerModule))) {
      throw new TypeError(`Expected \`workerModule\` to be a URL string, got ${describe(workerModule)}`);
    }
    this.threads = threads;
    const filename = workerModule ?? siblingModule(import.meta.url, '../../workers/gradient.worker');
    this.#pool = new Piscina<GradientTask, GradientTaskResult>({
      filename,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      recordTiming: false,
      execArgv: workerExecArgv(filename),
    });
    this.#pool.on('error', (error: Error) => {
      this.#poolError = error;
    });
  }

  /**
   * The numerical gradient of `net.loss(x, t)` with respect to all parameters,
   * computed across the pool's threads. Equal bit for bit to the same engine on
   * one thread; the `naive` engine equals `net.numericalGradient(x, t)`.
   */
  async numericalGradient(net: TwoLayerNet, x: BatchInput, t: TargetInput, options: PoolGradientOptions = {}): Promise<NetGradient> {
    const batch = net.prepare(x, t);
    // Not in gradientOfBatch, the Trainer's path: it checks the weights after every update itself.
    assertFiniteParameters(net);
    return this.gradientOfBatch(net, batch, options);
  }

  /**
   * As {@link numericalGradient}, for a batch already validated by `net.prepare`.
   * A batch whose arrays live in SharedArrayBuffers is read in place (it must
   * not change until the call resolves); any other is copied to shared memory.
   * Unlike {@link numericalGradient} it does not scan the weights for NaN or
   * ±Infinity (a scan of every weight, on the path of every training step):
   * the caller does, as the Trainer does after every update.
   */
  async gradientOfBatch(net: TwoLayerNet, batch: PreparedBatch, { engine = DEFAULT_ENGINE, h = DEFAULT_H, out, onStatistics }: PoolGradientOptions = {}): Promise<NetGradient> {
    assertOneOf('engine', engine, NUMERICAL_ENGINES);
    assertPositiveFinite('h', h);
    if (!(net.params.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError(`Expected \`net.params\` to live in a SharedArrayBuffer, got ${describe(net.params.buffer)}`);
    }
    const size = net.layout.size;
    if (out !== undefined) {
      if (!(out instanceof Float64Array)) throw new TypeError(`Expected \`out\` to be a Float64Array of ${size} values (one per parameter), got ${describe(out)}`);
      if (out.length !== size) throw new RangeError(`Expected \`out\` to be a Float64Array of ${size} values (one per parameter), got ${describe(out)}`);
      if (overlaps(out, net.params) || overlaps(out, batch.x) || overlaps(out, batch.labels)) {
        throw new RangeError('Expected `out` not to share memory with `net.params` or the batch');
      }
    }
    return this.#serialized(async () => {
      const { shape } = net;
      const rows = batch.rows;
      const { x, labels } = this.#sharedBatch(batch, shape.inputSize);
      // Workers write into `out` when it is shared; else into one shared buffer
      // kept for the life of the pool (a fresh SharedArrayBuffer per call is freed
      // only when every thread has collected it, which let a 10,000-iteration
      // run's memory grow by hundreds of megabytes), then copied out.
      let gradient: Float64Array;
      if (out !== undefined && out.buffer instanceof SharedArrayBuffer) gradient = out;
      else {
        const gradientBytes = size * Float64Array.BYTES_PER_ELEMENT;
        if (this.#gradient.byteLength < gradientBytes) this.#gradient = new SharedArrayBuffer(gradientBytes);
        gradient = new Float64Array(this.#gradient, 0, size);
      }
      const result = (): NetGradient => {
        if (gradient === out) return net.views(out);
        if (out === undefined) return net.views(gradient.slice());
        out.set(gradient);
        return net.views(out);
      };
      const common = { shape, params: net.params, x, labels, rows, gradient, h };
      if (engine === 'naive') {
        const ranges = partitionByCost(new Float64Array(size).fill(1), this.threads);
        const tasks = ranges.map(([start, end]): NaiveGradientTask => ({ kind: 'naive', ...common, start, end }));
        const taskMilliseconds = await this.#runAll(tasks, (task) => `on ${describeParameterRange(shape, (task as NaiveGradientTask).start, (task as NaiveGradientTask).end)}`);
        onStatistics?.({ taskMilliseconds });
        return result();
      }
      const bytes = incrementalBaseBytes(shape, rows);
      if (this.#base.byteLength < bytes) this.#base = new SharedArrayBuffer(bytes);
      startIncrementalBase(incrementalBaseViews(this.#base, shape, rows), shape, rows);
      const board = new WorkBoard(this.#board);
      const parts = this.threads === 1 ? 1 : this.threads * BASE_PARTS_PER_THREAD;
      board.reset(parts, Math.min(this.threads === 1 ? 1 : this.threads * CHUNKS_PER_THREAD, size));
      const task: IncrementalGradientTask = { kind: 'incremental', ...common, base: this.#base, board: this.#board };
      // The tasks' own errors name the piece that failed; a worker that died
      // names nothing, and the others must stop waiting for its part.
      const taskMilliseconds = await this.#runAll(new Array<GradientTask>(this.threads).fill(task), () => '', () => board.abort());
      if (!board.complete) {
        throw new Error(`Gradient workers stopped early: board state ${board.state}, ${board.chunks} chunks (please report this)`);
      }
      onStatistics?.({ taskMilliseconds });
      return result();
    });
  }

  /**
   * The book's numerical gradient of a user's function, split across threads.
   * The function must live in a module the workers can import (closures cannot
   * cross threads). Equal bit for bit to `numericalGradient(f, x)`.
   *
   * @example
   * // function2.ts: export const function2 = (x: Float64Array) => x[0] ** 2 + x[1] ** 2;
   * await pool.functionGradient({ module: new URL('./function2.ts', import.meta.url), exportName: 'function2', x: [3, 4] });
   */
  async functionGradient({ module, exportName = 'default', x, context, h = DEFAULT_H }: FunctionGradientOptions): Promise<Float64Array> {
    const moduleUrl = module instanceof URL ? module.href : module;
    if (typeof moduleUrl !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(moduleUrl)) {
      throw new TypeError(`Expected \`module\` to be a URL (e.g. new URL('./f.js', import.meta.url)), got ${describe(module)}`);
    }
    if (typeof exportName !== 'string' || exportName === '') throw new TypeError(`Expected \`exportName\` to be a non-empty string, got ${describe(exportName)}`);
    assertPositiveFinite('h', h);
    const length = x?.length;
    assertInteger('x.length', length, 1);
    const point = new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
    point.set(x);
    for (let i = 0; i < length; i++) {
      if (!Number.isFinite(point[i])) throw new RangeError(`Expected \`x\` to contain only finite numbers, got \`${point[i]}\` at index ${i}`);
    }
    return this.#serialized(async () => {
      const gradient = new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
      const ranges = partitionByCost(new Float64Array(length).fill(1), this.threads);
      await this.#runAll(ranges.map(([start, end]) => ({
        kind: 'function', module: moduleUrl, exportName, x: point, context, gradient, start, end, h,
      })), (task) => `on elements ${(task as FunctionGradientTask).start}–${(task as FunctionGradientTask).end - 1} of \`x\` (${exportName} from ${moduleUrl})`);
      return gradient;
    });
  }

  /** Stops the workers after the call in progress (if any) has finished. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await this.#queue.catch(() => undefined);
    await this.#pool.destroy();
  }

  /**
   * Runs `work` after every earlier call has settled. Calls share the pool's
   * buffers (the batch copy, the base, the gradient, the work board) and an
   * incremental call needs every thread at once (its tasks wait for each
   * other's base parts), so two calls must never overlap.
   */
  #serialized<T>(work: () => Promise<T>): Promise<T> {
    if (this.#destroyed) return Promise.reject(new Error('This GradientPool has been destroyed; create a new one'));
    const result = this.#queue.catch(() => undefined).then(work);
    this.#queue = result;
    return result;
  }

  /** The batch over shared memory: in place when it already is, else copied to the pool's buffers. */
  #sharedBatch(batch: PreparedBatch, inputSize: number): { x: Float64Array; labels: Int32Array } {
    const length = batch.rows * inputSize;
    let x = batch.x.subarray(0, length);
    let labels = batch.labels.subarray(0, batch.rows);
    if (!(x.buffer instanceof SharedArrayBuffer)) {
      if (this.#batchX.byteLength < length * Float64Array.BYTES_PER_ELEMENT) this.#batchX = new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT);
      x = new Float64Array(this.#batchX, 0, length);
      x.set(batch.x.subarray(0, length));
    }
    if (!(labels.buffer instanceof SharedArrayBuffer)) {
      if (this.#batchLabels.byteLength < batch.rows * Int32Array.BYTES_PER_ELEMENT) this.#batchLabels = new SharedArrayBuffer(batch.rows * Int32Array.BYTES_PER_ELEMENT);
      labels = new Int32Array(this.#batchLabels, 0, batch.rows);
      labels.set(batch.labels.subarray(0, batch.rows));
    }
    return { x, labels };
  }

  /**
   * Runs every task and waits for all of them, failed or not (so no worker
   * still writes once this returns); rejects naming the first failed task
   * (`describeTask` gives `on …`, or nothing when the error names it). On the
   * first failure, calls `onFailure` at once. Resolves to the worker time of
   * each task, in milliseconds.
   */
  async #runAll(tasks: GradientTask[], describeTask: (task: GradientTask) => string, onFailure?: () => void): Promise<number[]> {
    this.#poolError = undefined;
    const settled = await Promise.allSettled(tasks.map((task) => this.#pool.run(task).catch((error: unknown) => {
      onFailure?.();
      throw error;
    })));
    const failedIndex = settled.findIndex((outcome) => outcome.status === 'rejected');
    if (failedIndex >= 0) {
      const reason = (settled[failedIndex] as PromiseRejectedResult).reason as unknown;
      // An error from a worker may arrive as a plain object (its class did not cross threads): keep its message.
      const message = (reason as { message?: unknown } | null)?.message;
      const cause = reason instanceof Error ? reason
        : this.#poolError ?? new Error(typeof message === 'string' ? message : String(reason), { cause: reason });
      const where = describeTask(tasks[failedIndex]);
      throw new Error(`Gradient worker failed${where === '' ? '' : ` ${where}`}: ${cause.message}`, { cause });
    }
    return settled.map((outcome) => (outcome as PromiseFulfilledResult<GradientTaskResult>).value.milliseconds);
  }
}
