/**
 * One call of the gradient pool from the main thread's side: the options every
 * call takes (`signal`, `timeout`, `out`, …), the call's state while it is
 * queued or running, and the words for what a stopped call's workers were doing.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { NumericalEngine } from '../engine.js';
import { ArgumentRangeError, ArgumentTypeError, GradientPoolError } from '../errors.js';
import { assertInteger, assertPositiveFinite, describe } from '../validate.js';

/**
 * Options of `new GradientPool(…)`: how many worker threads it keeps, and
 * (for tests and profiling) which module they run.
 */
export interface GradientPoolOptions {
  /**
   * Worker threads, 1 to 64 ({@link MAX_THREADS}): started with the pool and
   * kept until `destroy()`, each computing its share of every call. More
   * threads than cores only adds switching.
   *
   * @default `os.availableParallelism()`, one per core
   */
  threads?: number;
  /**
   * The workers' module (a URL string): for instrumentation and failure tests,
   * a module whose default export takes each task on to `runGradientTask`
   * (src/parallel/run-task.ts). A `.ts` module needs the optional peer `tsx`.
   *
   * @default the package's `workers/gradient.worker`
   */
  workerModule?: string;
  /**
   * The longest this pool's calls may hold the calling thread in a blocking
   * `Atomics.wait` for their workers, in a row, before its event loop must
   * turn (counted from the first such call since the last turn): a call
   * with too little of it left lets the event loop turn first, and one whose
   * blocking wait still runs out waits on with `Atomics.waitAsync`. A blocked thread is woken by the
   * workers' futex directly, 0.01–0.03 ms sooner per call at 2 threads than
   * through its event loop on the development machine (0.08 at 1 thread);
   * meanwhile its timers, I/O and signals wait. `0`: never block (for a
   * server whose event loop must answer at once). A call never blocks past
   * its own `timeout`, and returns its promise before it blocks.
   *
   * @default 10 (`MAX_BLOCK_MILLISECONDS`)
   */
  maxBlockMilliseconds?: number;
}

/** How long a call may run, and how to stop it: options of every pool call. */
export interface PoolCallOptions {
  /**
   * Stops the call when aborted: the workers still running its tasks are
   * terminated (the pool starts new ones) and it rejects with a
   * `GradientAbortError` (its `cause` the signal's reason) naming what they
   * were computing. Already aborted: rejects at once, running nothing.
   *
   * @default `undefined`: the call cannot be aborted (`destroy()` still stops it)
   */
  signal?: AbortSignal;
  /**
   * Milliseconds from the call until it must have settled, time spent waiting
   * for earlier calls of the pool included; past it the call is stopped as by
   * `signal` and rejects with a `GradientTimeoutError`. A user function that
   * may never return, or a machine that may stall, is what it is for.
   *
   * @default `undefined`: no limit
   */
  timeout?: number;
}

/**
 * Options of {@link GradientPool.numericalGradient} and
 * {@link GradientPool.gradientOfBatch}: the engine and step, where the result
 * goes, and the call's `signal` and `timeout`.
 */
export interface PoolGradientOptions extends PoolCallOptions {
  /**
   * `'incremental'`: exact central differences from cached base activations,
   * recomputing only what each parameter changes. `'naive'`: the book's full
   * forward pass per perturbation (the reference; very slow). Both give the
   * book's central differences; they differ in cost, not in meaning.
   *
   * @default 'incremental'
   */
  engine?: NumericalEngine;
  /**
   * Finite-difference step: each parameter is evaluated at p + h and p − h.
   *
   * @default 1e-4
   */
  h?: number;
  /**
   * Where to put the gradient (as many values as parameters): its views are
   * returned. Over a SharedArrayBuffer, the workers write into it directly (so
   * a call that fails may leave it partly written); otherwise it is copied in
   * once the call has succeeded. It must not be the weights or the batch (the
   * check compares buffer objects: memory shared under another
   * SharedArrayBuffer object is not caught). Reusing one saves allocating a
   * gradient per call (the Trainer passes its own, every step).
   *
   * @default `undefined`: a new array per call
   */
  out?: Float64Array;
  /**
   * Called once the call has succeeded, with how long each worker task took
   * (for benchmarks and profiling: `gradpool bench` reports the imbalance).
   *
   * @param statistics - The worker time of each task.
   * @default `undefined`: no report
   */
  onStatistics?: (statistics: PoolCallStatistics) => void;
}

/** What a pool call reports to `onStatistics`. */
export interface PoolCallStatistics {
  /** Time each worker task took, in milliseconds, measured in the worker: one task per thread for the incremental engine. */
  taskMilliseconds: number[];
  /** Where the call's time went, for an incremental call (served through shared memory); absent for the others. */
  timeline?: PoolCallTimeline;
}

/**
 * The moments of an incremental call, in milliseconds from the call's start
 * (when the pool's method was called), on a clock the threads share: what
 * `gradpool bench` splits the serial part of a call into.
 */
export interface PoolCallTimeline {
  /**
   * The call posted to the workers: its checks done, its turn come (after any
   * earlier call), the batch in shared memory, the board set, and for the
   * first call of a serving session the session started.
   */
  posted: number;
  /** The main thread back from waking the workers that were asleep (`Atomics.notify`). */
  notified: number;
  /** When each thread's worker saw the call (its task's start), by slot. */
  woke: number[];
  /** When each thread's worker reported it done (its start plus its task time). */
  reported: number[];
  /** When the main thread saw the last report. */
  collected: number;
}

/**
 * Options of {@link GradientPool.functionGradient}: where the function lives
 * (closures cannot cross threads, so it is named by module and export), the
 * point, and the call's `signal` and `timeout`.
 */
export interface FunctionGradientOptions extends PoolCallOptions {
  /**
   * URL (or `file:` URL string) of an ES module the workers can import, e.g.
   * `new URL('./f.js', import.meta.url)`; a `.ts` module needs the optional
   * peer `tsx`.
   */
  module: URL | string;
  /**
   * The export to call as `f(x, context)`; it must return a finite number.
   *
   * @default 'default'
   */
  exportName?: string;
  /** The point, 1 element and up, all finite; not modified. */
  x: ArrayLike<number>;
  /**
   * Extra data passed to every call as `f`'s second argument (structured-cloneable:
   * it is copied into every task of the call).
   *
   * @default `undefined`
   */
  context?: unknown;
  /**
   * Finite-difference step.
   *
   * @default 1e-4
   */
  h?: number;
}

/**
 * How long a stopped call waits for the workers it terminated to exit, so
 * that none still writes into `out` or the pool's buffers when the next call
 * starts. A thread running JavaScript exits within milliseconds; one blocked
 * in native code may never, and must not block the pool: the pool's buffers
 * are replaced anyway (see `#renewBuffers`).
 */
export const EXIT_WAIT_MILLISECONDS = 2000;

/** Why a call is stopped before it settles. */
export type StopKind = 'abort' | 'timeout' | 'destroy';

/** A call from the moment it is made until it settles. */
export interface PoolCall {
  readonly controller: AbortController;
  readonly timeout: number | undefined;
  /** When `timeout` runs out, in `performance.now()` milliseconds; Infinity without one. */
  readonly deadline: number;
  /** `queued` behind earlier calls, `running` its tasks, `finishing` once they have all settled (too late to stop). */
  phase: 'queued' | 'running' | 'finishing';
  /** While running: what each unsettled task is doing, in words. */
  running: (() => string[]) | undefined;
  /** Set when stopped: what the call rejects with. */
  error: GradientPoolError | undefined;
  /** When stopped: the exits of the workers it terminated. */
  exits: Promise<unknown>;
  /** Rejects with `error` when stopped (for a call still waiting its turn). */
  stopped: Promise<never>;
  stop: (error: GradientPoolError) => void;
  dispose: () => void;
  /** While a served call runs (serving.ts): terminates the workers still on it; else the call's `controller` aborts its tasks. */
  terminate?: ((error: GradientPoolError) => void) | undefined;
}

const SETTLED: Promise<unknown> = Promise.resolve();

/**
 * A call's state as the pool runs it: a class rather than an object literal
 * with getters, for one is made on the path of every gradient. Its timeout
 * and its signal call `stop` (the runner's) with the reason.
 */
export class PoolCallState implements PoolCall {
  readonly timeout: number | undefined;
  readonly deadline: number;
  phase: PoolCall['phase'] = 'queued';
  running: (() => string[]) | undefined = undefined;
  error: GradientPoolError | undefined = undefined;
  exits: Promise<unknown> = SETTLED;
  terminate: ((error: GradientPoolError) => void) | undefined = undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  #controller: AbortController | undefined;
  #stopped: Promise<never> | undefined;
  #reject: ((error: GradientPoolError) => void) | undefined;

  constructor(signal: AbortSignal | undefined, timeout: number | undefined, stop: (call: PoolCall, kind: StopKind, reason: unknown) => void) {
    this.timeout = timeout;
    this.deadline = timeout === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeout;
    this.#signal = signal;
    if (timeout !== undefined) this.#timer = setTimeout(() => stop(this, 'timeout', undefined), timeout);
    if (signal !== undefined) {
      const onAbort = () => stop(this, 'abort', signal.reason);
      this.#onAbort = onAbort;
      signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  /** Made when first needed: a served call never needs one. */
  get controller(): AbortController {
    return this.#controller ??= new AbortController();
  }

  /** Made when first needed: only a call that waits its turn awaits it. */
  get stopped(): Promise<never> {
    if (this.#stopped === undefined) {
      this.#stopped = new Promise<never>((_, reject) => {
        this.#reject = reject;
      });
      // Never an unhandled rejection: a call stopped after its turn came does not await it.
      this.#stopped.catch(() => undefined);
      if (this.error !== undefined) this.#reject!(this.error);
    }
    return this.#stopped;
  }

  stop(error: GradientPoolError): void {
    this.error = error;
    this.#reject?.(error);
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}

/** A signal's reason in words, for a one-line message. */
export function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : describe(reason);
}

/**
 * What the unsettled tasks of a call were doing, as ``a worker was still
 * computing …`` and as the `piece` of its error; equal phrases among others
 * are counted (`…; waiting for the base (×3)`).
 */
export function describeRunning(phrases: string[]): { text: string; piece: string } {
  const counts = new Map<string, number>();
  for (const phrase of phrases) counts.set(phrase, (counts.get(phrase) ?? 0) + 1);
  const piece = counts.size === 1 ? phrases[0] : [...counts].map(([phrase, n]) => (n === 1 ? phrase : `${phrase} (×${n})`)).join('; ');
  return { text: `${phrases.length === 1 ? 'a worker was' : `${phrases.length} workers were`} still ${piece}`, piece };
}

/**
 * The error of a call whose task failed with `reason` (`poolError`: the pool's
 * last `error` event, for a reason that is not an Error): ``Gradient worker
 * failed <where>: <message>``, `piece` naming what the task was doing.
 */
export function taskFailure(reason: unknown, poolError: Error | undefined, where: string, piece: string): GradientPoolError {
  // An error from a worker may arrive as a plain object (its class did not cross threads): keep its message.
  const message = (reason as { message?: unknown } | null)?.message;
  const cause = reason instanceof Error ? reason : poolError ?? new Error(typeof message === 'string' ? message : String(reason), { cause: reason });
  return new GradientPoolError(`Gradient worker failed${where === '' ? '' : ` ${where}`}: ${cause.message}`, piece, { cause });
}

/** Resolves when `worker` has exited, or after `milliseconds` (without keeping the process alive). */
export function exitOf(worker: Worker, milliseconds: number): Promise<void> {
  if (worker.threadId === -1) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, milliseconds);
    timer.unref();
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The options every call takes: `signal` an AbortSignal, `timeout` as the other numbers are checked. */
export function checkCallOptions(signal: unknown, timeout: unknown): void {
  if (timeout !== undefined) assertPositiveFinite('timeout', timeout);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new ArgumentTypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
}

/** Whether two arrays share any byte of memory. */
function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** A gradient call's `out`: absent, or a Float64Array of one value per parameter sharing no memory with the call's inputs. */
export function checkGradientOut(out: unknown, size: number, inputs: ArrayBufferView[]): asserts out is Float64Array | undefined {
  if (out === undefined) return;
  if (!(out instanceof Float64Array)) throw new ArgumentTypeError(`Expected \`out\` to be a Float64Array of ${size} values (one per parameter), got ${describe(out)}`);
  if (out.length !== size) throw new ArgumentRangeError(`Expected \`out\` to be a Float64Array of ${size} values (one per parameter), got ${describe(out)}`);
  if (inputs.some((input) => overlaps(out, input))) throw new ArgumentRangeError('Expected `out` not to share memory with `net.params` or the batch');
}

/** The arguments of `functionGradient`, checked: the module's URL, and `x` copied to shared memory. */
export function checkFunctionGradientArguments(
  { module, exportName, x, h, signal, timeout }: Pick<FunctionGradientOptions, 'module' | 'exportName' | 'x' | 'h' | 'signal' | 'timeout'>,
): { moduleUrl: string; point: Float64Array } {
  const moduleUrl: unknown = module instanceof URL ? module.href : module;
  if (typeof moduleUrl !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(moduleUrl)) {
    throw new ArgumentTypeError(`Expected \`module\` to be a URL (e.g. new URL('./f.js', import.meta.url)), got ${describe(module)}`);
  }
  // Said here, in the caller's terms, rather than by each worker's import.
  if (moduleUrl.startsWith('file:') && !existsSync(fileURLToPath(moduleUrl))) {
    throw new ArgumentRangeError(`Expected \`module\` to be a module file, got \`${moduleUrl}\`: no such file`);
  }
  if (typeof exportName !== 'string' || exportName === '') throw new ArgumentTypeError(`Expected \`exportName\` to be a non-empty string, got ${describe(exportName)}`);
  assertPositiveFinite('h', h);
  checkCallOptions(signal, timeout);
  const length: unknown = x?.length;
  assertInteger('x.length', length, 1);
  const point = new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
  point.set(x);
  for (let i = 0; i < length; i++) {
    if (!Number.isFinite(point[i])) throw new ArgumentRangeError(`Expected \`x\` to contain only finite numbers, got \`${point[i]}\` at index ${i}`);
  }
  return { moduleUrl, point };
}
