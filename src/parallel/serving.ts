/**
 * The main thread's side of serving (serve-loop.ts): a session keeps one
 * long Piscina task on every thread, all running the same incremental task,
 * and posts each call of that task through shared memory (`Atomics.notify`),
 * waiting for the last worker with `Atomics.wait` within this thread's
 * blocking budget (blocking-budget.ts), else `Atomics.waitAsync`: no message,
 * no worker event loop turn per call. A call with other buffers, shape, rows or `h`
 * ends the session (its tasks return) and starts another; so does any other
 * kind of call, and a pool left idle (so that a process can exit).
 */
import { availableParallelism } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Piscina } from 'piscina';
import { blockingBudget, MAX_BLOCK_MILLISECONDS } from './blocking-budget.js';
import type { BufferRegistry } from './buffer-registry.js';
import type { PoolCallTimeline } from './pool-call.js';
import type { GradientTask, GradientTaskResult, IncrementalGradientTask } from './protocol.js';
import {
  CALL_GRADIENT, type CallKind, DONE, FINISHED, GENERATION, KIND, PARTICIPANTS, POSTED_AT, SLOT_DONE, STOP, type ServeTask, callMoments, sharedClock, slotTimes,
} from './serve-loop.js';

/** The incremental task a session serves, its arrays over shared memory (as `gradientOfBatch` builds it). */
export interface ServedTask extends IncrementalGradientTask {
  params: Float64Array;
  x: Float64Array;
  labels: Int32Array;
  gradient: Float64Array;
  base: SharedArrayBuffer;
  board: SharedArrayBuffer;
}

/**
 * How long a worker that finished a call polls for the next before it sleeps,
 * when the call before came within it (serve-loop.ts, `pollMilliseconds`).
 * The Trainer's gaps between calls (its update, its next batch) are 0.21–0.22 ms
 * at the median and 0.30–0.31 at the 90th percentile (1,500 steps at 2
 * threads, 2026-12-06). Polling 0.5 ms made its steps alone faster, but not
 * its `run()`, whose event-loop turns every few milliseconds lengthen some
 * gaps, polled through at the main thread's expense: epochs 0.929–1.028
 * times as long as with the last worker alone polling (median 1.003, six
 * runs in one process), against 0.944–0.991 with 0.3 ms (median 0.972, seven).
 */
export const SERVE_SPIN_MILLISECONDS = 0.3;
/** A session with no call for this long ends, so that the pool's threads no longer keep the process alive. */
export const SERVE_IDLE_MILLISECONDS = 200;

function sameView(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
}

/** Whether `a` and `b` are the same call: the same arrays, buffers, shape, rows and step. */
export function sameServedTask(a: ServedTask, b: ServedTask): boolean {
  return a.h === b.h && a.base === b.base && a.board === b.board && sameView(a.gradient, b.gradient) && sameServedInputs(a, b);
}

/** Whether `a` and `b` read the same inputs: the same weights and batch arrays, shape and rows. */
export function sameServedInputs(a: Pick<ServedTask, 'shape' | 'params' | 'x' | 'labels' | 'rows'>, b: Pick<ServedTask, 'shape' | 'params' | 'x' | 'labels' | 'rows'>): boolean {
  const s = a.shape;
  const t = b.shape;
  return a.rows === b.rows
    && (s === t || (s.inputSize === t.inputSize && s.hiddenSize === t.hiddenSize && s.outputSize === t.outputSize && s.activation === t.activation))
    && sameView(a.params, b.params) && sameView(a.x, b.x) && sameView(a.labels, b.labels);
}

/** `Atomics.waitAsync` (Node 16 and up; not in the ES2023 lib the sources compile against). */
export const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeout?: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

/** How a served call ended: every slot finished, or the session broke (a serve task settled: failed, died or terminated). */
export type ServedOutcome = 'finished' | 'broken';

export class ServingSession {
  readonly task: ServedTask;
  readonly status: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  /** Each slot's task as its worker runs it (`slot` set), for describing what it is doing. */
  readonly slotted: IncrementalGradientTask[];
  readonly #cells: Int32Array;
  readonly #times: ReturnType<typeof slotTimes>;
  readonly #moments: Float64Array;
  readonly #tasks: Promise<GradientTaskResult>[];
  readonly #controllers: AbortController[];
  /** The first serve task to settle (the session serves no more): its slot and, when it failed, why. */
  ended: { slot: number; failed: boolean; reason: unknown } | undefined;
  #generation = 0;
  #stopped = false;
  /** The last call's moments on the main thread ({@link sharedClock}): posted, notified, collected. */
  #posted = 0;
  #notified = 0;
  #collected = 0;
  #idle: NodeJS.Timeout;
  readonly #onIdle: () => void;
  /** A call is running (the session is not idle, however long it takes). */
  #running = false;
  /** When the last call finished (or the session started), by `performance.now()`. */
  #lastActive = performance.now();
  /** Milliseconds a call of this session takes, posted to collected: a moving average from its second call (0 before). */
  #typicalCall = 0;

  /**
   * Starts a serve task per slot (`threads` of them) for `task`, its buffers
   * attached. `onIdle` is called once the session has had no call for
   * {@link SERVE_IDLE_MILLISECONDS}.
   */
  constructor(
    pool: Piscina<GradientTask | ServeTask, GradientTaskResult>, registry: BufferRegistry, task: ServedTask, threads: number,
    status: SharedArrayBuffer, control: SharedArrayBuffer, maxSlots: number, module: string | undefined, onIdle: () => void,
  ) {
    this.task = task;
    this.status = status;
    this.control = control;
    this.#cells = new Int32Array(control, 0, SLOT_DONE + maxSlots);
    this.#times = slotTimes(control, maxSlots);
    this.#moments = callMoments(control, maxSlots);
    this.#cells.fill(0);
    this.#cells[PARTICIPANTS] = threads;
    this.slotted = [];
    this.#tasks = [];
    this.#controllers = [];
    // A worker that finished early polls only on a core of its own: with more threads than cores it
    // would take the core of one still at work (3 threads on this host's 2 vCPUs: steps 38–41 % slower).
    // Counted per pool: two pools serving at once, each with a thread per core, both poll.
    const everyWorkerPolls = threads <= availableParallelism();
    for (let slot = 0; slot < threads; slot++) {
      const ids: number[] = [];
      const call = registry.wire(task, slot, status, () => true, ids) as IncrementalGradientTask;
      this.slotted.push({ ...task, slot });
      const controller = new AbortController();
      this.#controllers.push(controller);
      const serve: ServeTask = { kind: 'serve', call, control, maxSlots, module, spinMilliseconds: SERVE_SPIN_MILLISECONDS, everyWorkerPolls };
      const settle = (failed: boolean, reason: unknown) => {
        this.ended ??= { slot, failed, reason };
        // Wakes a call waiting asynchronously in `run`, which then finds the session ended (runs on this
        // thread, so a call blocked in `Atomics.wait` sees it only once its blocking wait is over).
        Atomics.notify(this.#cells, FINISHED);
      };
      this.#tasks.push(pool.run(serve, { signal: controller.signal }).then((result) => {
        registry.record(result, ids);
        settle(false, undefined);
        return result;
      }, (error: unknown) => {
        settle(true, error);
        throw error;
      }));
    }
    // Observed by `settled()`; never an unhandled rejection meanwhile.
    for (const promise of this.#tasks) promise.catch(() => undefined);
    this.#onIdle = onIdle;
    this.#idle = this.#armIdle(SERVE_IDLE_MILLISECONDS);
  }

  /**
   * The idle timer is not refreshed by every call (two timer-list updates on the
   * path of every call): when it fires it looks at when the last call finished
   * and waits out the rest, so the session still ends once it has had no call
   * for {@link SERVE_IDLE_MILLISECONDS}.
   */
  #armIdle(milliseconds: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (this.#stopped) return;
      const left = this.#running ? SERVE_IDLE_MILLISECONDS : this.#lastActive + SERVE_IDLE_MILLISECONDS - performance.now();
      if (left > 0) {
        this.#idle = this.#armIdle(left);
        return;
      }
      this.#onIdle();
      // Not ended (the pool had a call that does not run in this session): looked at again later, as a refresh would.
      if (!this.#stopped) this.#idle = this.#armIdle(SERVE_IDLE_MILLISECONDS);
    }, milliseconds);
    timer.unref();
    return timer;
  }

  /** Whether this session can run `task` (it has not ended, and serves the same call). */
  serves(task: ServedTask, status: SharedArrayBuffer, control: SharedArrayBuffer): boolean {
    return this.live(status, control) && sameServedTask(this.task, task);
  }

  /** Whether this session can run another call, its status and control block still the pool's. */
  live(status: SharedArrayBuffer, control: SharedArrayBuffer): boolean {
    return this.ended === undefined && !this.#stopped && this.status === status && this.control === control;
  }

  /**
   * Posts a call of `kind` (the task's gradient, or its batch's loss) to
   * every slot and waits until they have all finished it, or the session
   * breaks. `whileWaiting` runs on this thread once the workers are woken:
   * work the call needs afterwards, done while they compute rather than after
   * (what it throws is thrown once they have finished). Then, after one
   * microtask (the caller's code after the call runs first), it blocks for
   * them within this thread's budget of `maxBlockMilliseconds`
   * (blocking-budget.ts) and never past `deadline` (`performance.now()`
   * milliseconds, when the call's timeout must fire); else it waits
   * asynchronously.
   */
  async run(whileWaiting?: () => void, kind: CallKind = CALL_GRADIENT, deadline = Number.POSITIVE_INFINITY, maxBlockMilliseconds = MAX_BLOCK_MILLISECONDS): Promise<ServedOutcome> {
    this.#running = true;
    const generation = ++this.#generation;
    const cells = this.#cells;
    Atomics.store(cells, DONE, 0);
    Atomics.store(cells, KIND, kind);
    this.#posted = sharedClock();
    this.#moments[POSTED_AT] = this.#posted;
    Atomics.store(cells, GENERATION, generation);
    Atomics.notify(cells, GENERATION);
    this.#notified = sharedClock();
    // Thrown now, it would end the call while the workers still read its batch: kept until they are done.
    let failure: { error: unknown } | undefined;
    try {
      whileWaiting?.();
    } catch (error) {
      failure = { error };
    }
    // The promise goes back to the caller before this thread blocks: code after the call, another pool's
    // call in a Promise.all, runs while the workers compute.
    await undefined;
    // Not in a session's first call: a worker still starting (a replacement for one that died or was
    // terminated) gets its serve task through this thread's event loop, which a blocked thread never
    // turns (a call with a minute's cap then waited a minute). From the second call on, every worker
    // has finished the one before, so all are in their serve loops.
    if (maxBlockMilliseconds > 0 && generation > 1) {
      let budget = blockingBudget(performance.now(), maxBlockMilliseconds);
      // Too little left for a typical call: the event loop turns now (timers, I/O), while the workers
      // compute, and the budget renews, rather than the blocking wait running out before they are done and
      // the call waiting on through the event loop (11 % of the bench's calls with a turn only once spent).
      if (budget <= 0 || budget < Math.min(maxBlockMilliseconds, 2 * this.#typicalCall)) {
        await nextTurn();
        budget = blockingBudget(performance.now(), maxBlockMilliseconds);
      }
      // Blocked until the last worker has finished (see blocking-budget.ts), but not past the call's
      // deadline, whose timer must run; the wait below then lets the event loop run. A worker that threw
      // stores -generation and notifies (serve-loop.ts): not blocked on that, as no one would wake it
      // again. A worker's death or a broken session (settled on this thread) is seen once the wait ends.
      const first = Atomics.load(cells, FINISHED);
      const blockFor = Math.min(budget, deadline - performance.now());
      if (first !== generation && first !== -generation && this.ended === undefined && blockFor > 0) Atomics.wait(cells, FINISHED, first, blockFor);
    }
    // Asleep until the last worker has finished, not polling for it once the first has: on 2 cores the
    // scheduler often put the polling main thread on the core of the worker still at work, so that
    // worker finished about 0.2 ms after the other (in about a third of the 2-thread calls of a
    // throwaway rotation of 1- and 2-thread pools, as the bench rotates them). Without the poll
    // (0.15 ms before 2026-12-05), 2,400 Trainer steps at 2 threads took 7.7–8.1 s against 8.1–8.9 s
    // (8 alternating pairs); calls back to back with nothing between them took from 3 µs less to
    // 33 µs more (4 pairs). The serial part (wall − slowest task) now holds this thread's own
    // wake-up, 20–40 µs that the poll had moved into the slower task.
    for (;;) {
      const finished = Atomics.load(cells, FINISHED);
      if (finished === generation) break;
      if (this.ended !== undefined) return 'broken';
      // On the value just seen: a wait on any other would return at once, and this loop would never yield.
      const waiting = waitAsync(cells, FINISHED, finished);
      if (waiting.async) await waiting.value;
    }
    this.#collected = sharedClock();
    // Not the session's first call, which includes the workers' start on their serve tasks.
    if (generation > 1) {
      const took = this.#collected - this.#posted;
      this.#typicalCall = this.#typicalCall === 0 ? took : 0.8 * this.#typicalCall + 0.2 * took;
    }
    this.#running = false;
    this.#lastActive = performance.now();
    if (failure !== undefined) throw failure.error;
    return 'finished';
  }

  /** The slots that have not finished the current call. */
  unfinished(): number[] {
    const slots: number[] = [];
    for (let slot = 0; slot < this.slotted.length; slot++) {
      if (Atomics.load(this.#cells, SLOT_DONE + slot) !== this.#generation) slots.push(slot);
    }
    return slots;
  }

  /** Each slot's time on the call just finished, in milliseconds. */
  milliseconds(): number[] {
    // A loop, not Array.from of a subarray (a view made and iterated on every call's path).
    const milliseconds = new Array<number>(this.slotted.length);
    for (let slot = 0; slot < milliseconds.length; slot++) milliseconds[slot] = this.#times.milliseconds[slot];
    return milliseconds;
  }

  /** The moments of the call just finished, in milliseconds from `start` (a {@link sharedClock} reading). */
  timeline(start: number): PoolCallTimeline {
    const woke = new Array<number>(this.slotted.length);
    const reported = new Array<number>(this.slotted.length);
    for (let slot = 0; slot < woke.length; slot++) {
      woke[slot] = this.#times.woke[slot] - start;
      reported[slot] = woke[slot] + this.#times.milliseconds[slot];
    }
    return { posted: this.#posted - start, notified: this.#notified - start, woke, reported, collected: this.#collected - start };
  }

  /** Ends the session: every worker returns from its serve task once done with the call it is on (if any). */
  stop(): void {
    clearTimeout(this.#idle);
    if (this.#stopped) return;
    this.#stopped = true;
    Atomics.store(this.#cells, STOP, 1);
    Atomics.add(this.#cells, GENERATION, 1);
    Atomics.notify(this.#cells, GENERATION);
  }

  /** Terminates the workers of `slots` (Piscina aborts their tasks and starts new threads) and stops the others. */
  terminate(slots: readonly number[], reason: unknown): void {
    for (const slot of slots) this.#controllers[slot].abort(reason);
    this.stop();
  }

  /** Settles once every serve task has (stopped, failed or terminated): their outcomes by slot. */
  settled(): Promise<PromiseSettledResult<GradientTaskResult>[]> {
    return Promise.allSettled(this.#tasks);
  }
}
