/**
 * How the gradient pool runs its calls, one after another: a call's state
 * from the moment it is made, its timeout and signal, the tasks sent through
 * Piscina (or served, serving.ts) and collected, and what a stopped or
 * failed call rejects with. `GradientPool` validates and builds the calls.
 */
import type { Piscina } from 'piscina';
import { GradientAbortError, GradientPoolError, GradientTimeoutError } from '../errors.js';
import { BufferRegistry } from './buffer-registry.js';
import {
  EXIT_WAIT_MILLISECONDS, PoolCallState, describeRunning, exitOf, reasonText, taskFailure, type PoolCall, type PoolCallStatistics, type StopKind,
} from './pool-call.js';
import { PoolScratch } from './pool-scratch.js';
import { STATUS_CELLS, describeStatus, type GradientTask, type GradientTaskResult } from './protocol.js';
import { CALL_GRADIENT, type CallKind, type ServeTask } from './serve-loop.js';
import { ServingSession, type ServedTask, sameServedInputs } from './serving.js';

function ignore(): void {}

export class PoolRunner {
  readonly threads: number;
  /** The pool's own shared memory (pool-scratch.ts). */
  readonly scratch: PoolScratch;
  #pool: Piscina<GradientTask | ServeTask, GradientTaskResult>;
  /** The workers' module when it is not the package's own (it must see every call, served ones included). */
  #module: string | undefined;
  /** The serving session of the last incremental calls, while it lasts. */
  #session: ServingSession | undefined;
  /** Settles once the last session ended has (its workers returned from their serve tasks). */
  #ending: Promise<unknown> = Promise.resolve();
  /** Never rejects: settles once every call made so far has settled. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Calls made and not yet settled, running or waiting their turn. */
  #calls = new Set<PoolCall>();
  #buffers = new BufferRegistry();
  #destroyed = false;
  #poolError: Error | undefined;
  /** Task slots of the status buffer and the serving control block (the pool's most threads). */
  #maxSlots: number;
  /** `maxBlockMilliseconds` of the pool (see GradientPoolOptions). */
  readonly #maxBlockMilliseconds: number;

  /** Runs calls on `pool`'s `threads` threads, in `scratch`, for up to `maxSlots` tasks per call. */
  constructor(
    pool: Piscina<GradientTask | ServeTask, GradientTaskResult>, threads: number, module: string | undefined, scratch: PoolScratch, maxSlots: number, maxBlockMilliseconds: number,
  ) {
    this.#pool = pool;
    this.#maxBlockMilliseconds = maxBlockMilliseconds;
    this.#maxSlots = maxSlots;
    this.threads = threads;
    this.#module = module;
    this.scratch = scratch;
    pool.on('error', (error: Error) => {
      this.#poolError = error;
    });
  }

  /**
   * Stops every call in progress or waiting (they reject saying the pool was
   * destroyed) and the workers; resolves once both are done.
   */
  destroy(): Promise<void> {
    this.#destroyed = true;
    const reason = new Error('the GradientPool was destroyed');
    for (const call of this.#calls) this.#stop(call, 'destroy', reason);
    this.#session = undefined;
    // Piscina's destroy terminates every worker, stuck or idle, and fails
    // their tasks without starting new workers (an abort would start some,
    // only to terminate them as they boot).
    return this.#pool.destroy().then(() => this.#queue).then(() => undefined);
  }

  /** No call is unsettled: a call made now runs at once, and the kept buffers are free until it does. */
  get idle(): boolean {
    return this.#calls.size === 0;
  }

  /**
   * Runs `work` after every earlier call has settled. Calls share the pool's
   * buffers (the batch copy, the base, the gradient, the work board, the task
   * status) and an incremental call needs every thread at once (its tasks wait
   * for each other's base parts), so two calls must never overlap. A call
   * stopped while waiting rejects at once; the calls after it still wait for
   * the earlier ones.
   */
  serialized<T>(signal: AbortSignal | undefined, timeout: number | undefined, work: (call: PoolCall) => Promise<T>): Promise<T> {
    if (this.#destroyed) return Promise.reject(new Error('This GradientPool has been destroyed; create a new one'));
    if (signal?.aborted) {
      return Promise.reject(new GradientAbortError(`Gradient call aborted before it started (${reasonText(signal.reason)})`, 'none', { cause: signal.reason }));
    }
    // With no call unsettled, the queue has nothing left to wait for.
    const idle = this.idle;
    const call = this.#newCall(signal, timeout);
    const earlier = this.#queue;
    const result = (async () => {
      try {
        if (!idle) await Promise.race([earlier, call.stopped]);
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
    // With none unsettled, the earlier calls' work is done: only this one is left to wait for.
    this.#queue = idle ? result.then(ignore, ignore) : Promise.allSettled([earlier, result]).then(ignore);
    return result;
  }

  /** A call's state, its timer and its signal's listener. */
  #newCall(signal: AbortSignal | undefined, timeout: number | undefined): PoolCall {
    const call = new PoolCallState(signal, timeout, this.#stopCall);
    this.#calls.add(call);
    return call;
  }

  /** {@link #stop}, as a call's timer and signal listener call it (made once: a call is made on the path of every gradient). */
  readonly #stopCall = (call: PoolCall, kind: StopKind, reason: unknown): void => this.#stop(call, kind, reason);

  /**
   * Stops `call` unless it already is or its tasks have all settled: builds
   * its error from what its unsettled tasks are doing (read now, before their
   * workers go), then aborts them, which makes Piscina terminate the workers
   * running them and start new ones.
   */
  #stop(call: PoolCall, kind: StopKind, reason: unknown): void {
    if (call.error !== undefined || call.phase === 'finishing') return;
    const phrases = call.phase === 'running' ? call.running?.() ?? [] : undefined;
    // A served call whose workers have all finished it is finishing.
    if (call.terminate !== undefined && phrases?.length === 0) return;
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
    if (call.terminate !== undefined) call.terminate(error);
    else call.controller.abort(error);
    const after = new Set(this.#pool.threads);
    call.exits = Promise.all(before.filter((worker) => !after.has(worker)).map((worker) => exitOf(worker, EXIT_WAIT_MILLISECONDS)));
  }

  /**
   * Runs every task and waits for all of them, failed or not (so no worker
   * still writes once this returns); rejects naming the first failed task
   * (`describeTask` gives `on …`, or nothing when the error names it). On the
   * first failure, calls `onFailure` at once. Resolves to the worker time of
   * each task, in milliseconds. A stopped call rejects with its own error once
   * the workers it terminated have exited.
   */
  async runAll(call: PoolCall, tasks: GradientTask[], describeTask: (task: GradientTask) => string, onFailure?: () => void): Promise<number[]> {
    // Its serve tasks hold the threads.
    await this.#endSession();
    this.#poolError = undefined;
    const statusBuffer = this.scratch.status;
    const status = new Int32Array(statusBuffer, 0, tasks.length * STATUS_CELLS);
    status.fill(0);
    const slotOf = (index: number) => status.subarray(index * STATUS_CELLS, (index + 1) * STATUS_CELLS);
    const attach = this.#buffers.attachFor(this.#pool.threads.map((worker) => worker.threadId));
    const runTask = async (index: number): Promise<GradientTaskResult> => {
      const ids: number[] = [];
      let result = await this.#pool.run(this.#buffers.wire(tasks[index], index, statusBuffer, attach, ids), { signal: call.controller.signal });
      if (result.missing === true) {
        this.#buffers.record(result, ids);
        result = await this.#pool.run(this.#buffers.wire(tasks[index], index, statusBuffer, () => true, ids), { signal: call.controller.signal });
        if (result.missing === true) throw new Error('the worker lost the buffers sent with its task (please report this)');
      }
      this.#buffers.record(result, ids);
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
      this.scratch.renew();
      throw call.error;
    }
    const failedIndex = outcomes.findIndex((outcome) => outcome.status === 'rejected');
    if (failedIndex >= 0) {
      const reason = (outcomes[failedIndex] as PromiseRejectedResult).reason as unknown;
      throw taskFailure(reason, this.#poolError, describeTask(tasks[failedIndex]), describeStatus(slotted[failedIndex], slotOf(failedIndex)));
    }
    return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<GradientTaskResult>).value.milliseconds);
  }

  /**
   * As {@link runAll} for an incremental call, through the serving session
   * (serving.ts), started first when there is none for this very call (new
   * buffers, shape, rows or step): every thread runs `task` once more.
   * With `start` (the call's start, a `sharedClock()` reading), resolves to
   * the call's statistics, its timeline included; without, to nothing. `whileWaiting` runs once the
   * workers are woken, while they compute ({@link ServingSession.run}). `kind`: the task's gradient, or its batch's loss.
   */
  async runServed(
    call: PoolCall, task: ServedTask, onFailure: () => void, start?: number, whileWaiting?: () => void, kind: CallKind = CALL_GRADIENT,
  ): Promise<PoolCallStatistics | undefined> {
    this.#poolError = undefined;
    const { status, control } = this.scratch;
    let session = this.#session;
    if (session === undefined || !session.serves(task, status, control)) {
      await this.#endSession();
      // Stopped while the last session ended.
      if (call.error !== undefined) throw call.error;
      const started: ServingSession = session = new ServingSession(
        this.#pool, this.#buffers, task, this.threads, status, control, this.#maxSlots, this.#module, () => {
          if (this.#session === started && this.#calls.size === 0) void this.#endSession();
        },
      );
      this.#session = started;
    }
    const served = session;
    const cells = this.scratch.statusCells(this.threads);
    const slotOf = (slot: number) => cells.subarray(slot * STATUS_CELLS, (slot + 1) * STATUS_CELLS);
    call.running = () => served.unfinished().map((slot) => describeStatus(served.slotted[slot], slotOf(slot)));
    call.terminate = (error) => served.terminate(served.unfinished(), error);
    if ((await served.run(whileWaiting, kind, call.deadline, this.#maxBlockMilliseconds)) === 'finished') {
      call.phase = 'finishing';
      call.running = undefined;
      call.terminate = undefined;
      return start === undefined ? undefined : { taskMilliseconds: served.milliseconds(), timeline: served.timeline(start) };
    }
    // A worker failed, died or was terminated: stop the others and wait for all.
    onFailure();
    if (this.#session === served) this.#session = undefined;
    served.stop();
    const outcomes = await served.settled();
    this.#ending = Promise.resolve();
    call.phase = 'finishing';
    call.running = undefined;
    call.terminate = undefined;
    if (call.error !== undefined) {
      await call.exits;
      this.scratch.renew();
      throw call.error;
    }
    const first = served.ended?.failed === true ? served.ended.slot : outcomes.findIndex((outcome) => outcome.status === 'rejected');
    if (first < 0) throw new GradientPoolError('Gradient workers stopped serving before the call was done (please report this)', 'the serving session');
    const reason = served.ended?.failed === true ? served.ended.reason : (outcomes[first] as PromiseRejectedResult).reason as unknown;
    throw taskFailure(reason, this.#poolError, '', describeStatus(served.slotted[first], slotOf(first)));
  }

  /**
   * The task of the serving session, when it serves these very inputs (its
   * gradient buffer and step aside): a batch loss posted to it reads what its
   * gradient calls read, so it need not start another session.
   */
  servedTaskFor(inputs: Pick<ServedTask, 'shape' | 'params' | 'x' | 'labels' | 'rows'>): ServedTask | undefined {
    const session = this.#session;
    return session !== undefined && session.live(this.scratch.status, this.scratch.control) && session.task.base === this.scratch.base
      && session.task.board === this.scratch.board && sameServedInputs(session.task, inputs)
      ? session.task : undefined;
  }

  /** Ends the serving session, if any; settles once its workers have returned from their serve tasks. */
  #endSession(): Promise<unknown> {
    const session = this.#session;
    if (session !== undefined) {
      this.#session = undefined;
      session.stop();
      this.#ending = session.settled();
    }
    return this.#ending;
  }
}
