import os from 'node:os';
import { Piscina } from 'piscina';
import type { BatchInput, TargetInput } from '../batch.js';
import { partitionByCost, partitionEvenly, partitionParametersByCost } from '../kernels/cost.js';
import { finishIncrementalBase, incrementalBaseBytes, incrementalBaseViews, startIncrementalBase } from '../kernels/incremental.js';
import { parameterLayout, type NetShape } from '../kernels/two-layer.js';
import type { NetGradient, PreparedBatch, TwoLayerNet } from '../nets/two-layer-net.js';
import { DEFAULT_H } from '../numerical.js';
import { assertInteger, assertOneOf, assertPositiveFinite, describe } from '../validate.js';
import { NET_ENGINES, type GradientTask, type GradientTaskResult, type NetBaseTask, type NetEngine, type NetGradientTask } from './protocol.js';

export interface GradientPoolOptions {
  /** Worker threads, 1 to 64. Default: `os.availableParallelism()`. */
  threads?: number;
}

export interface PoolGradientOptions {
  /**
   * `'incremental'` (default): exact central differences from cached base
   * activations, recomputing only what each parameter changes. `'naive'`: the
   * book's full forward pass per perturbation (the reference; very slow).
   */
  engine?: NetEngine;
  /** Finite-difference step. Default 1e-4 (the book's). */
  h?: number;
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

function workerFilename(): string {
  // Same extension as this file: `.ts` from src/ under tsx, `.js` from dist/.
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`../../workers/gradient.worker${extension}`, import.meta.url).href;
}

function workerExecArgv(filename: string): string[] {
  const inherited = process.execArgv;
  // Workers of the TypeScript sources need a loader. Keep one the process already
  // has (tsx, or ts-node under tap, so coverage maps workers' code the same way);
  // otherwise resolve tsx from here, not from the working directory.
  const hasLoader = inherited.some((arg) => /tsx|ts-node|@tapjs[\\/]typescript/.test(arg));
  if (filename.endsWith('.ts') && !hasLoader) return [...inherited, '--import', import.meta.resolve('tsx')];
  return inherited;
}

function tensorAt(shape: NetShape, index: number): string {
  const layout = parameterLayout(shape);
  if (index < layout.b1) return `W1[${Math.floor(index / shape.hiddenSize)}][${index % shape.hiddenSize}]`;
  if (index < layout.W2) return `b1[${index - layout.b1}]`;
  if (index < layout.b2) {
    const k = index - layout.W2;
    return `W2[${Math.floor(k / shape.outputSize)}][${k % shape.outputSize}]`;
  }
  return `b2[${index - layout.b2}]`;
}

/** `a–b` for the indices [start, end), or `none`. */
function span(start: number, end: number): string {
  return start < end ? `${start}–${end - 1}` : 'none';
}

/**
 * A pool of worker threads (Piscina) that computes numerical gradients in
 * parallel: the parameters are split into ranges of equal work, each worker
 * reads the shared weights and batch and writes only its own slice of a shared
 * gradient. Results are bit-identical whatever the thread count.
 *
 * The incremental engine on more than one thread runs in two phases: first
 * the workers build the per-batch base together in a SharedArrayBuffer (each
 * a range of samples, of input columns and of hidden units), then, once every
 * part is done, each computes a parameter range from that one base. Between
 * the phases the main thread takes the batch-wide maxima and splits the
 * parameters by cost, from the column counts the first phase wrote. On one
 * thread, a single task builds the base and computes everything.
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
  #queue: Promise<unknown> = Promise.resolve();
  #destroyed = false;
  #poolError: Error | undefined;
  /**
   * Per-range worker times of the last call, in milliseconds (for benchmarks).
   * For the two-phase incremental engine, range i's time is that of base part i
   * plus that of gradient range i.
   */
  lastTaskMilliseconds: number[] = [];

  constructor({ threads = os.availableParallelism() }: GradientPoolOptions = {}) {
    assertInteger('threads', threads, 1, MAX_THREADS);
    this.threads = threads;
    const filename = workerFilename();
    this.#pool = new Piscina<GradientTask, GradientTaskResult>({
      filename,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
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
    return this.gradientOfBatch(net, net.prepare(x, t), options);
  }

  /** As {@link numericalGradient}, for a batch already validated by `net.prepare`. */
  async gradientOfBatch(net: TwoLayerNet, batch: PreparedBatch, { engine = 'incremental', h = DEFAULT_H }: PoolGradientOptions = {}): Promise<NetGradient> {
    assertOneOf('engine', engine, NET_ENGINES);
    assertPositiveFinite('h', h);
    if (!(net.params.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError(`Expected \`net.params\` to live in a SharedArrayBuffer, got ${describe(net.params.buffer)}`);
    }
    return this.#serialized(async () => {
      const { shape } = net;
      const size = net.layout.size;
      const rows = batch.rows;
      this.#writeBatch(batch, shape.inputSize);
      // One shared gradient buffer for the life of the pool (the ranges cover every
      // parameter, so nothing stale survives); callers get a private copy. A fresh
      // SharedArrayBuffer per call is freed only when every thread has collected it,
      // which let a 10,000-iteration run's memory grow by hundreds of megabytes.
      const gradientBytes = size * Float64Array.BYTES_PER_ELEMENT;
      if (this.#gradient.byteLength < gradientBytes) this.#gradient = new SharedArrayBuffer(gradientBytes);
      const gradient = this.#gradient;
      const result = () => net.views(new Float64Array(gradient, 0, size).slice());
      const common = { shape, params: net.params.buffer as SharedArrayBuffer, x: this.#batchX, labels: this.#batchLabels, rows };
      const describeRange = (task: GradientTask): string => `parameters ${task.start}–${task.end - 1} (${tensorAt(shape, task.start)} to ${tensorAt(shape, task.end - 1)})`;
      const gradientTasks = (ranges: Array<[number, number]>, base?: SharedArrayBuffer): NetGradientTask[] =>
        ranges.map(([start, end]) => ({ kind: 'net', engine, ...common, gradient, start, end, h, ...(base === undefined ? {} : { base }) }));
      if (engine === 'naive' || this.threads === 1) {
        // The naive engine, or one thread: one phase (on one thread a single
        // task builds its own base and computes every parameter).
        const ranges = engine === 'naive' ? partitionByCost(new Float64Array(size).fill(1), this.threads) : [[0, size] as [number, number]];
        this.lastTaskMilliseconds = await this.#runAll(gradientTasks(ranges), describeRange);
        return result();
      }
      // Phase 1: the base in shared memory, one part per thread.
      const bytes = incrementalBaseBytes(shape, rows);
      if (this.#base.byteLength < bytes) this.#base = new SharedArrayBuffer(bytes);
      const base = incrementalBaseViews(this.#base, shape, rows);
      startIncrementalBase(base, shape, rows);
      const samples = partitionEvenly(rows, this.threads);
      const columns = partitionEvenly(shape.inputSize + 1, this.threads);
      const units = partitionEvenly(shape.hiddenSize, this.threads);
      const baseTasks: NetBaseTask[] = samples.map(([start, end], part) => ({
        kind: 'net-base', ...common, base: this.#base, start, end, columns: columns[part], units: units[part],
      }));
      const baseMilliseconds = await this.#runAll(baseTasks, (task) => {
        const { columns, units } = task as NetBaseTask;
        return `building the base (samples ${span(task.start, task.end)}, input columns ${span(...columns)}, hidden units ${span(...units)})`;
      });
      // Between the phases (every part is done): the batch-wide maxima, and
      // the parameters split by cost from the column counts.
      finishIncrementalBase(base);
      const ranges = partitionParametersByCost(shape, base.colCount.subarray(0, shape.inputSize), rows, this.threads);
      // Phase 2: the parameter ranges, all reading the one base.
      const gradientMilliseconds = await this.#runAll(gradientTasks(ranges, this.#base), describeRange);
      this.lastTaskMilliseconds = baseMilliseconds.map((ms, i) => ms + (gradientMilliseconds[i] ?? 0));
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
      const gradient = new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT);
      const ranges = partitionByCost(new Float64Array(length).fill(1), this.threads);
      this.lastTaskMilliseconds = await this.#runAll(ranges.map(([start, end]) => ({
        kind: 'function', module: moduleUrl, exportName, x: point.buffer as SharedArrayBuffer, length, context, gradient, start, end, h,
      })), (task) => `elements ${task.start}–${task.end - 1} of \`x\` (${exportName} from ${moduleUrl})`);
      return new Float64Array(gradient);
    });
  }

  /** Stops the workers after the call in progress (if any) has finished. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await this.#queue.catch(() => undefined);
    await this.#pool.destroy();
  }

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    if (this.#destroyed) return Promise.reject(new Error('This GradientPool has been destroyed; create a new one'));
    const result = this.#queue.catch(() => undefined).then(work);
    this.#queue = result;
    return result;
  }

  #writeBatch(batch: PreparedBatch, inputSize: number): void {
    const xBytes = batch.rows * inputSize * Float64Array.BYTES_PER_ELEMENT;
    if (this.#batchX.byteLength < xBytes) this.#batchX = new SharedArrayBuffer(xBytes);
    if (this.#batchLabels.byteLength < batch.rows * 4) this.#batchLabels = new SharedArrayBuffer(batch.rows * 4);
    new Float64Array(this.#batchX, 0, batch.rows * inputSize).set(batch.x.subarray(0, batch.rows * inputSize));
    new Int32Array(this.#batchLabels, 0, batch.rows).set(batch.labels.subarray(0, batch.rows));
  }

  /**
   * Runs every task and waits for all of them, failed or not (so no worker
   * still writes once this returns); rejects naming the first failed task's
   * range. Resolves to the worker time of each task, in milliseconds.
   */
  async #runAll(tasks: GradientTask[], describeTask: (task: GradientTask) => string): Promise<number[]> {
    this.#poolError = undefined;
    const settled = await Promise.allSettled(tasks.map((task) => this.#pool.run(task)));
    const failedIndex = settled.findIndex((outcome) => outcome.status === 'rejected');
    if (failedIndex >= 0) {
      const reason = (settled[failedIndex] as PromiseRejectedResult).reason as unknown;
      const cause = reason instanceof Error ? reason : (this.#poolError ?? new Error(String(reason)));
      throw new Error(`Gradient worker failed on ${describeTask(tasks[failedIndex])}: ${cause.message}`, { cause });
    }
    return settled.map((outcome) => (outcome as PromiseFulfilledResult<GradientTaskResult>).value.milliseconds);
  }
}
