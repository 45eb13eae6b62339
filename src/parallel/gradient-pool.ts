/**
 * The main-thread side of the worker pool: validates a gradient call, puts its
 * inputs in shared memory, sends the workers their tasks and collects the result.
 */
import os from 'node:os';
import { Piscina } from 'piscina';
import type { BatchInput, TargetInput } from '../batch.js';
import { type IncrementalBase, incrementalBaseBytes, incrementalBaseViews, startIncrementalBase } from '../kernels/incremental/index.js';
import { type NetShape, describeParameterRange } from '../kernels/two-layer.js';
import { assertFiniteParameters, type NetGradient, type PreparedBatch, type TwoLayerNet } from '../nets/two-layer-net.js';
import { DEFAULT_H } from '../numerical.js';
import { assertInteger, assertOneOf, assertPositiveFinite, describe } from '../validate.js';
import { DEFAULT_ENGINE, NUMERICAL_ENGINES } from '../engine.js';
import { GradientAbortError, GradientPoolError, GradientTimeoutError } from '../errors.js';
import { partitionByCost } from './partition.js';
import {
  MAX_RECEIVED_BUFFERS, STATUS_CELLS, describeStatus, type FunctionGradientTask, type GradientTask, type GradientTaskResult, type IncrementalGradientTask,
  type NaiveGradientTask, type SharedRef, type SharedView,
} from './protocol.js';
import { WorkBoard } from './work-board.js';
import { siblingModule, workerExecArgv } from './worker-loader.js';
import {
  EXIT_WAIT_MILLISECONDS, checkCallOptions, describeRunning, exitOf, reasonText,
  type FunctionGradientOptions, type GradientPoolOptions, type PoolCall, type PoolGradientOptions, type StopKind,
} from './pool-call.js';

export type { FunctionGradientOptions, GradientPoolOptions, PoolCallOptions, PoolCallStatistics, PoolGradientOptions } from './pool-call.js';

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
 * Every call takes a `timeout` and a `signal`: a call stopped by either (or by
 * `destroy()`) terminates the workers still running its tasks, rejects naming
 * what they were computing (each task records its current piece in shared
 * memory, which the main thread reads without asking the stuck worker), and
 * leaves the pool usable.
 *
 * @example
 * const pool = new GradientPool({ threads: 2 });
 * try {
 *   const grads = await pool.numericalGradient(net, xBatch, tBatch, { timeout: 60_000 });
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
  #lastBase: { buffer: SharedArrayBuffer; key: string; views: IncrementalBase } | undefined;
  #board = new SharedArrayBuffer(WorkBoard.bytes(CHUNKS_PER_THREAD * MAX_THREADS));
  /** What each task of the call in progress is doing (protocol.ts, `STATUS_CELLS`), one slot per task. */
  #status = new SharedArrayBuffer(STATUS_CELLS * MAX_THREADS * Int32Array.BYTES_PER_ELEMENT);
  /** Never rejects: settles once every call made so far has settled. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Calls made and not yet settled, running or waiting their turn. */
  #calls = new Set<PoolCall>();
  /** The id each SharedArrayBuffer is sent under (protocol.ts, `SharedRef`). */
  #bufferIds = new WeakMap<SharedArrayBuffer, number>();
  #nextBufferId = 1;
  /** By worker `threadId`: the ids of the buffers it keeps, as far as this thread knows (those of the tasks it ran). */
  #kept = new Map<number, Set<number>>();
  #destroyed = false;
  #destroying: Promise<void> | undefined;
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
  async gradientOfBatch(
    net: TwoLayerNet, batch: PreparedBatch, { engine = DEFAULT_ENGINE, h = DEFAULT_H, out, onStatistics, signal, timeout }: PoolGradientOptions = {},
  ): Promise<NetGradient> {
    assertOneOf('engine', engine, NUMERICAL_ENGINES);
    assertPositiveFinite('h', h);
    checkCallOptions(signal, timeout);
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
    return this.#serialized(signal, timeout, async (call) => {
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
        const taskMilliseconds = await this.#runAll(call, tasks, (task) => `on ${describeParameterRange(shape, (task as NaiveGradientTask).start, (task as NaiveGradientTask).end)}`);
        onStatistics?.({ taskMilliseconds });
        return result();
      }
      const bytes = incrementalBaseBytes(shape, rows);
      if (this.#base.byteLength < bytes) this.#base = new SharedArrayBuffer(bytes);
      startIncrementalBase(this.#baseViews(shape, rows), shape, rows);
      const board = new WorkBoard(this.#board);
      const parts = this.threads === 1 ? 1 : this.threads * BASE_PARTS_PER_THREAD;
      board.reset(parts, Math.min(this.threads === 1 ? 1 : this.threads * CHUNKS_PER_THREAD, size));
      const task: IncrementalGradientTask = { kind: 'incremental', ...common, base: this.#base, board: this.#board };
      // The tasks' own errors name the piece that failed; a worker that died
      // names nothing, and the others must stop waiting for its part.
      const taskMilliseconds = await this.#runAll(call, new Array<GradientTask>(this.threads).fill(task), () => '', () => board.abort());
      if (!board.complete) {
        throw new GradientPoolError(`Gradient workers stopped early: board state ${board.state}, ${board.chunks} chunks (please report this)`, 'the work board');
      }
      onStatistics?.({ taskMilliseconds });
      return result();
    });
  }

  /**
   * The book's numerical gradient of a user's function, split across threads.
   * The function must live in a module the workers can import (closures cannot
   * cross threads). Equal bit for bit to `numericalGradient(f, x)`. A function
   * that may not return is what `timeout` and `signal` are for.
   *
   * @example
   * // function2.ts: export const function2 = (x: Float64Array) => x[0] ** 2 + x[1] ** 2;
   * await pool.functionGradient({ module: new URL('./function2.ts', import.meta.url), exportName: 'function2', x: [3, 4] });
   */
  async functionGradient({ module, exportName = 'default', x, context, h = DEFAULT_H, signal, timeout }: FunctionGradientOptions): Promise<Float64Array> {
    const moduleUrl = module instanceof URL ? module.href : module;
    if (typeof moduleUrl !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(moduleUrl)) {
      throw new TypeError(`Expected \`module\` to be a URL (e.g. new URL('./f.js', import.meta.url)), got ${describe(module)}`);
    }
    if (typeof exportName !== 'string' || exportName === '') throw new TypeError(`Expected \`exportName\` to be a non-empty string, got ${describe(exportName)}`);
    assertPositiveFinite('h', h);
    checkCallOptions(signal, timeout);
    const length = x?.length;
    assertInteger('x.length', length, 1);
    const point = new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
    point.set(x);
    for (let i = 0; i < length; i++) {
      if (!Number.isFinite(point[i])) throw new RangeError(`Expected \`x\` to contain only finite numbers, got \`${point[i]}\` at index ${i}`);
    }
    return this.#serialized(signal, timeout, async (call) => {
      const gradient = new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
      const ranges = partitionByCost(new Float64Array(length).fill(1), this.threads);
      await this.#runAll(call, ranges.map(([start, end]) => ({
        kind: 'function', module: moduleUrl, exportName, x: point, context, gradient, start, end, h,
      })), (task) => `on elements ${(task as FunctionGradientTask).start}–${(task as FunctionGradientTask).end - 1} of \`x\` (${exportName} from ${moduleUrl})`);
      return gradient;
    });
  }

  /**
   * Stops the workers. A call in progress or waiting its turn is stopped first
   * (it rejects with a `GradientAbortError` saying the pool was destroyed), so
   * this resolves promptly even while a worker is stuck.
   */
  destroy(): Promise<void> {
    if (this.#destroying === undefined) {
      this.#destroyed = true;
      const reason = new Error('the GradientPool was destroyed');
      for (const call of this.#calls) this.#stop(call, 'destroy', reason);
      // Piscina's destroy terminates every worker, stuck or idle, and fails
      // their tasks without starting new workers (an abort would start some,
      // only to terminate them as they boot).
      this.#destroying = this.#pool.destroy().then(() => this.#queue).then(() => undefined);
    }
    return this.#destroying;
  }

  /**
   * Runs `work` after every earlier call has settled. Calls share the pool's
   * buffers (the batch copy, the base, the gradient, the work board, the task
   * status) and an incremental call needs every thread at once (its tasks wait
   * for each other's base parts), so two calls must never overlap. A call
   * stopped while waiting rejects at once; the calls after it still wait for
   * the earlier ones.
   */
  #serialized<T>(signal: AbortSignal | undefined, timeout: number | undefined, work: (call: PoolCall) => Promise<T>): Promise<T> {
    if (this.#destroyed) return Promise.reject(new Error('This GradientPool has been destroyed; create a new one'));
    if (signal?.aborted) {
      return Promise.reject(new GradientAbortError(`Gradient call aborted before it started (${reasonText(signal.reason)})`, 'none', { cause: signal.reason }));
    }
    const call = this.#newCall(signal, timeout);
    const earlier = this.#queue;
    const result = (async () => {
      try {
        await Promise.race([earlier, call.stopped]);
        // Stopped just as its turn came.
        if (call.error !== undefined) throw call.error;
        call.phase = 'running';
        return await work(call);
      } finally {
        call.dispose();
        this.#calls.delete(call);
      }
    })();
    // Settled to nothing: settled to the outcomes, each call's queue would hold
    // the one before it and every result, a chain as long as the pool's life.
    this.#queue = Promise.allSettled([earlier, result]).then(() => undefined);
    return result;
  }

  /** A call's controller, its timer and its signal's listener. */
  #newCall(signal: AbortSignal | undefined, timeout: number | undefined): PoolCall {
    let reject: (error: GradientPoolError) => void = () => undefined;
    const stopped = new Promise<never>((_, rejectStopped) => {
      reject = rejectStopped;
    });
    // Observed only by a call that is still waiting its turn.
    stopped.catch(() => undefined);
    const onAbort = () => this.#stop(call, 'abort', signal!.reason);
    const timer = timeout === undefined ? undefined : setTimeout(() => this.#stop(call, 'timeout', undefined), timeout);
    const call: PoolCall = {
      controller: new AbortController(),
      timeout,
      phase: 'queued',
      running: undefined,
      error: undefined,
      exits: Promise.resolve(),
      stopped,
      stop: (error) => {
        call.error = error;
        reject(error);
      },
      dispose: () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      },
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#calls.add(call);
    return call;
  }

  /**
   * Stops `call` unless it already is or its tasks have all settled: builds
   * its error from what its unsettled tasks are doing (read now, before their
   * workers go), then aborts them, which makes Piscina terminate the workers
   * running them and start new ones.
   */
  #stop(call: PoolCall, kind: StopKind, reason: unknown): void {
    if (call.error !== undefined || call.phase === 'finishing') return;
    const phrases = call.phase === 'running' ? call.running?.() ?? [] : undefined;
    const { text, piece } = phrases === undefined || phrases.length === 0
      ? { text: '', piece: phrases === undefined ? 'waiting for an earlier call' : 'none' }
      : describeRunning(phrases);
    const where = phrases === undefined ? ' while waiting for an earlier call to finish' : text === '' ? ' before any task started' : `: ${text}`;
    let error: GradientPoolError;
    if (kind === 'timeout') {
      error = new GradientTimeoutError(`Gradient call timed out after ${call.timeout} ms${where}`, piece);
    } else if (kind === 'abort') {
      error = new GradientAbortError(`Gradient call aborted (${reasonText(reason)})${where}`, piece, { cause: reason });
    } else {
      const when = phrases === undefined ? 'before the call started' : text === '' ? 'before any task started' : `while ${text}`;
      error = new GradientAbortError(`Gradient call aborted: the GradientPool was destroyed ${when}`, piece, { cause: reason });
    }
    call.stop(error);
    if (kind === 'destroy') return;
    const before = this.#pool.threads;
    call.controller.abort(error);
    const after = new Set(this.#pool.threads);
    call.exits = Promise.all(before.filter((worker) => !after.has(worker)).map((worker) => exitOf(worker, EXIT_WAIT_MILLISECONDS)));
  }

  /**
   * New buffers for the pool's own scratch memory, after a stopped call: a
   * terminated worker that has not exited yet writes only into the old ones.
   */
  #renewBuffers(): void {
    this.#batchX = new SharedArrayBuffer(0);
    this.#batchLabels = new SharedArrayBuffer(0);
    this.#base = new SharedArrayBuffer(0);
    this.#gradient = new SharedArrayBuffer(0);
    this.#board = new SharedArrayBuffer(this.#board.byteLength);
    this.#status = new SharedArrayBuffer(this.#status.byteLength);
  }

  /** Views of the base for `shape` and `rows`, kept while they stay the same (views made every call were garbage that outlived the young generation). */
  #baseViews(shape: NetShape, rows: number): IncrementalBase {
    const key = `${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} ${shape.activation} ${rows}`;
    if (this.#lastBase?.buffer !== this.#base || this.#lastBase.key !== key) {
      this.#lastBase = { buffer: this.#base, key, views: incrementalBaseViews(this.#base, shape, rows) };
    }
    return this.#lastBase.views;
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
   * `task` as sent, in slot `slot`: its shared buffers by reference
   * (protocol.ts), each with the buffer attached when `attach(id)`; the ids
   * go into `ids`. A user function's arrays are new every call and go as
   * they are.
   */
  #wire(task: GradientTask, slot: number, attach: (id: number) => boolean, ids: number[]): GradientTask {
    const ref = (buffer: SharedArrayBuffer | SharedRef): SharedRef => {
      if (!(buffer instanceof SharedArrayBuffer)) return buffer;
      let id = this.#bufferIds.get(buffer);
      if (id === undefined) this.#bufferIds.set(buffer, id = this.#nextBufferId++);
      ids.push(id);
      return attach(id) ? { id, buffer } : { id };
    };
    const view = (array: Float64Array | Int32Array | SharedView): SharedView => (ArrayBuffer.isView(array)
      ? { ref: ref(array.buffer as SharedArrayBuffer), byteOffset: array.byteOffset, length: array.length }
      : array);
    const status = ref(this.#status);
    if (task.kind === 'function') return { ...task, status, slot };
    const arrays = { params: view(task.params), x: view(task.x), labels: view(task.labels), gradient: view(task.gradient) };
    if (task.kind === 'naive') return { ...task, ...arrays, status, slot };
    return { ...task, ...arrays, base: ref(task.base), board: ref(task.board), status, slot };
  }

  /**
   * Runs every task and waits for all of them, failed or not (so no worker
   * still writes once this returns); rejects naming the first failed task
   * (`describeTask` gives `on …`, or nothing when the error names it). On the
   * first failure, calls `onFailure` at once. Resolves to the worker time of
   * each task, in milliseconds. A stopped call rejects with its own error once
   * the workers it terminated have exited.
   */
  async #runAll(call: PoolCall, tasks: GradientTask[], describeTask: (task: GradientTask) => string, onFailure?: () => void): Promise<number[]> {
    this.#poolError = undefined;
    const status = new Int32Array(this.#status, 0, tasks.length * STATUS_CELLS);
    status.fill(0);
    const slotOf = (index: number) => status.subarray(index * STATUS_CELLS, (index + 1) * STATUS_CELLS);
    // A buffer goes with the tasks until every thread is known to keep it:
    // the pool cannot choose which thread runs which task.
    const threads = this.#pool.threads.map((worker) => worker.threadId);
    for (const threadId of this.#kept.keys()) if (!threads.includes(threadId)) this.#kept.delete(threadId);
    const keptByAll = (id: number) => threads.length > 0 && threads.every((threadId) => this.#kept.get(threadId)?.has(id) === true);
    const runTask = async (index: number): Promise<GradientTaskResult> => {
      const ids: number[] = [];
      let result = await this.#pool.run(this.#wire(tasks[index], index, (id) => !keptByAll(id), ids), { signal: call.controller.signal });
      if (result.missing === true) {
        this.#kept.delete(result.threadId);
        result = await this.#pool.run(this.#wire(tasks[index], index, () => true, ids), { signal: call.controller.signal });
        if (result.missing === true) throw new Error('the worker lost the buffers sent with its task (please report this)');
      }
      let kept = this.#kept.get(result.threadId);
      if (kept === undefined || kept.size > 2 * MAX_RECEIVED_BUFFERS) this.#kept.set(result.threadId, kept = new Set());
      for (const id of ids) kept.add(id);
      return result;
    };
    const slotted = tasks.map((task, slot) => ({ ...task, slot }));
    const settled = new Array<boolean>(tasks.length).fill(false);
    let pending = tasks.length;
    const settle = (index: number) => {
      settled[index] = true;
      if (--pending === 0) call.phase = 'finishing';
    };
    call.running = () => slotted.flatMap((task, index) => (settled[index] ? [] : [describeStatus(task, slotOf(index))]));
    const outcomes = await Promise.allSettled(tasks.map((_, index) => runTask(index).then(
      (value) => {
        settle(index);
        return value;
      },
      (error: unknown) => {
        settle(index);
        onFailure?.();
        throw error;
      },
    )));
    call.running = undefined;
    if (call.error !== undefined) {
      await call.exits;
      this.#renewBuffers();
      throw call.error;
    }
    const failedIndex = outcomes.findIndex((outcome) => outcome.status === 'rejected');
    if (failedIndex >= 0) {
      const reason = (outcomes[failedIndex] as PromiseRejectedResult).reason as unknown;
      // An error from a worker may arrive as a plain object (its class did not cross threads): keep its message.
      const message = (reason as { message?: unknown } | null)?.message;
      const cause = reason instanceof Error ? reason
        : this.#poolError ?? new Error(typeof message === 'string' ? message : String(reason), { cause: reason });
      const where = describeTask(tasks[failedIndex]);
      const piece = describeStatus(slotted[failedIndex], slotOf(failedIndex));
      throw new GradientPoolError(`Gradient worker failed${where === '' ? '' : ` ${where}`}: ${cause.message}`, piece, { cause });
    }
    return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<GradientTaskResult>).value.milliseconds);
  }
}
