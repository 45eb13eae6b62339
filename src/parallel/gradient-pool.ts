import os from 'node:os';
import { Piscina } from 'piscina';
import type { BatchInput, TargetInput } from '../batch.js';
import { parameterCosts, partitionByCost } from '../kernels/cost.js';
import { parameterLayout, type NetShape } from '../kernels/two-layer.js';
import type { NetGradient, PreparedBatch, TwoLayerNet } from '../nets/two-layer-net.js';
import { DEFAULT_H } from '../numerical.js';
import { assertInteger, assertOneOf, assertPositiveFinite, describe } from '../validate.js';
import { NET_ENGINES, type GradientTask, type GradientTaskResult, type NetEngine } from './protocol.js';

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
  // Workers of the TypeScript sources need a loader; resolve tsx from here, not
  // from the working directory, so the CLI runs from any directory.
  if (filename.endsWith('.ts') && !inherited.some((arg) => arg.includes('tsx'))) return [...inherited, '--import', import.meta.resolve('tsx')];
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

/**
 * A pool of worker threads (Piscina) that computes numerical gradients in
 * parallel: the parameters are split into ranges of equal work, each worker
 * reads the shared weights and batch and writes only its own slice of a shared
 * gradient. Results are bit-identical whatever the thread count.
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
  #queue: Promise<unknown> = Promise.resolve();
  #destroyed = false;
  #poolError: Error | undefined;
  /** Per-range worker times of the last call, in milliseconds (for benchmarks). */
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
      this.#writeBatch(batch, shape.inputSize);
      const gradient = new SharedArrayBuffer(size * Float64Array.BYTES_PER_ELEMENT);
      const costs = engine === 'naive' ? new Float64Array(size).fill(1) : parameterCosts(shape, batch.x, batch.rows);
      const ranges = partitionByCost(costs, this.threads);
      await this.#runAll(ranges.map(([start, end]) => ({
        kind: 'net', engine, shape, params: net.params.buffer as SharedArrayBuffer, x: this.#batchX, labels: this.#batchLabels,
        rows: batch.rows, gradient, start, end, h,
      })), (start, end) => `parameters ${start}–${end - 1} (${tensorAt(shape, start)} to ${tensorAt(shape, end - 1)})`);
      return net.views(new Float64Array(gradient));
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
      await this.#runAll(ranges.map(([start, end]) => ({
        kind: 'function', module: moduleUrl, exportName, x: point.buffer as SharedArrayBuffer, length, context, gradient, start, end, h,
      })), (start, end) => `elements ${start}–${end - 1} of \`x\` (${exportName} from ${moduleUrl})`);
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

  async #runAll(tasks: GradientTask[], describeRange: (start: number, end: number) => string): Promise<void> {
    this.#poolError = undefined;
    // Wait for every range, failed or not, so no worker still writes once we return.
    const settled = await Promise.allSettled(tasks.map((task) => this.#pool.run(task)));
    const failedIndex = settled.findIndex((outcome) => outcome.status === 'rejected');
    if (failedIndex >= 0) {
      const reason = (settled[failedIndex] as PromiseRejectedResult).reason as unknown;
      const cause = reason instanceof Error ? reason : (this.#poolError ?? new Error(String(reason)));
      const { start, end } = tasks[failedIndex];
      throw new Error(`Gradient worker failed on ${describeRange(start, end)}: ${cause.message}`, { cause });
    }
    this.lastTaskMilliseconds = settled.map((outcome) => (outcome as PromiseFulfilledResult<GradientTaskResult>).value.milliseconds);
  }
}
