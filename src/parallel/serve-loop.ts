/**
 * Serving: how a worker thread stays in one long Piscina task and runs the
 * pool's incremental calls as the main thread posts them through shared
 * memory, with no message per call. The control block's layout, shared by
 * both sides, and the worker's loop; the main thread's side is serving.ts.
 *
 * A serve task carries one incremental task (its buffers attached, so the
 * thread keeps them) and the control block. For every call the main thread
 * bumps `GENERATION` and notifies; each worker wakes from `Atomics.wait` (it
 * polls a little first when the calls come back to back, every worker when
 * each has a core of its own, else the last to finish the previous call:
 * waking a sleeping thread costs 0.05–0.1 ms on a virtual machine), runs the
 * task through the worker module's handler (so a module that wraps
 * `runGradientTask` sees every call), writes when it woke
 * and its time to its report (the call's timeline, for `onStatistics`) and
 * `SLOT_DONE`, and counts itself in `DONE`; the last one stores `FINISHED` and
 * notifies the main thread, which waits for it with `Atomics.wait` within its
 * blocking budget (blocking-budget.ts), else `Atomics.waitAsync`; a worker
 * whose call throws stores `-generation` and notifies, so that it wakes too.
 * `STOP` (with a bump of `GENERATION`) ends the task; a failure rejects it,
 * which ends the session. `KIND`, written before the bump, says what the call
 * is: the task's gradient, or the loss of its batch at the current weights
 * (the Trainer's loss after each update, on the same arrays).
 */
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import type { BatchLossTask, GradientTask, GradientTaskResult, IncrementalGradientTask } from './protocol.js';

/** Int32 cells of the control block. */
export const GENERATION = 0;
export const STOP = 1;
export const DONE = 2;
export const FINISHED = 3;
export const PARTICIPANTS = 4;
/** What the posted call computes: {@link CALL_GRADIENT} or {@link CALL_LOSS}. */
export const KIND = 5;
/** Cell SLOT_DONE + s: the last generation slot s finished. */
export const SLOT_DONE = 8;

/** The values of `KIND`. */
export const CALL_GRADIENT = 0;
export const CALL_LOSS = 1;
export type CallKind = typeof CALL_GRADIENT | typeof CALL_LOSS;

/** Bytes of a control block for up to `maxSlots` tasks: the cells, then two Float64 per slot ({@link slotTimes}), then the call's two moments ({@link callMoments}). */
export function controlBytes(maxSlots: number): number {
  return momentsOffset(maxSlots) + 2 * Float64Array.BYTES_PER_ELEMENT;
}

/** Milliseconds on a clock all threads of the process share (`performance.now()` alone is not: on newer Node versions a worker counts from its own start). */
export function sharedClock(): number {
  return performance.timeOrigin + performance.now();
}

/** Byte offset of the task times in a control block for `maxSlots` tasks. */
function timesOffset(maxSlots: number): number {
  return Math.ceil(((SLOT_DONE + maxSlots) * Int32Array.BYTES_PER_ELEMENT) / 8) * 8;
}

/** Byte offset of the call's moments in a control block for `maxSlots` tasks: after the two Float64 per slot. */
function momentsOffset(maxSlots: number): number {
  return timesOffset(maxSlots) + 2 * maxSlots * Float64Array.BYTES_PER_ELEMENT;
}

/** Per slot, in a control block for `maxSlots` tasks: its task's milliseconds on the last call, and when it woke for it ({@link sharedClock}). */
export function slotTimes(control: SharedArrayBuffer, maxSlots: number): { milliseconds: Float64Array; woke: Float64Array } {
  const offset = timesOffset(maxSlots);
  return {
    milliseconds: new Float64Array(control, offset, maxSlots),
    woke: new Float64Array(control, offset + maxSlots * Float64Array.BYTES_PER_ELEMENT, maxSlots),
  };
}

/** Float64 cells of {@link callMoments}: when the main thread posted the current call, and when the last worker finished the one before ({@link sharedClock}). */
export const POSTED_AT = 0;
export const FINISHED_AT = 1;

/**
 * The moments between two calls, in a control block for `maxSlots` tasks: the
 * main thread writes {@link POSTED_AT} before it bumps `GENERATION`, the last
 * worker of a call {@link FINISHED_AT} before it stores `FINISHED`; so a
 * worker woken for a call reads how long the gap before it was, on one clock,
 * whether it slept through that gap or not.
 */
export function callMoments(control: SharedArrayBuffer, maxSlots: number): Float64Array {
  return new Float64Array(control, momentsOffset(maxSlots), 2);
}

/**
 * How long a worker that has just finished a call polls for the next one
 * before it sleeps, in milliseconds: `spinMilliseconds` when the gap before
 * this call (`gapMilliseconds`, from the last worker's finish to the main
 * thread's post) was no longer, so the next gap is likely to be short too;
 * else 0. Only the last worker to finish polls unless `everyWorkerPolls`
 * (each has a core of its own): a worker that finished early polling on a
 * core shared with one still at work would slow it.
 */
export function pollMilliseconds(gapMilliseconds: number, spinMilliseconds: number, last: boolean, everyWorkerPolls: boolean): number {
  return (last || everyWorkerPolls) && gapMilliseconds <= spinMilliseconds ? spinMilliseconds : 0;
}

/** One thread's long task: run `call` at every generation posted on `control` until stopped. */
export interface ServeTask {
  kind: 'serve';
  /** The incremental task every call of the session runs (its slot included). */
  call: IncrementalGradientTask;
  /** The control block (see the cells above). */
  control: SharedArrayBuffer;
  /** Slots of the control block (its layout depends on it). */
  maxSlots: number;
  /** The worker module's URL when it is not the package's own: its default export runs each call. */
  module?: string;
  /** How long a worker that finished a call polls for the next before it sleeps, when the call before came within it ({@link pollMilliseconds}). */
  spinMilliseconds: number;
  /** Whether every worker polls after a call, not only the last to finish (the pool has no more threads than the machine has cores). */
  everyWorkerPolls: boolean;
}

/**
 * The next generation after `seen`, or -1 when the session is stopped:
 * polls until `spinMilliseconds` after call `seen` ended, then sleeps on the
 * cell. The call ended when its last worker finished ({@link FINISHED_AT}):
 * a worker that finished before it polls that much longer than it would from
 * its own finish, since the gap {@link pollMilliseconds} judges runs from the
 * call's end, not from each worker's.
 */
function nextCall(cells: Int32Array, moments: Float64Array, seen: number, spinMilliseconds: number): number {
  let generation = Atomics.load(cells, GENERATION);
  if (generation === seen && spinMilliseconds > 0) {
    let until = sharedClock() + spinMilliseconds;
    let ended = false;
    while (generation === seen) {
      if (!ended && Atomics.load(cells, FINISHED) === seen) {
        ended = true;
        until = Math.max(until, moments[FINISHED_AT] + spinMilliseconds);
      }
      if (sharedClock() >= until) break;
      generation = Atomics.load(cells, GENERATION);
    }
  }
  while (generation === seen) {
    Atomics.wait(cells, GENERATION, seen);
    generation = Atomics.load(cells, GENERATION);
  }
  return Atomics.load(cells, STOP) !== 0 ? -1 : generation;
}

type Handler = (task: GradientTask) => Promise<GradientTaskResult>;

/**
 * Runs the session's calls until it is stopped (resolving to the pieces done
 * in all) or one fails (rejecting with its error, as a task would).
 * `run` is `runGradientTask`; `load` imports a worker module.
 */
export async function serveCalls(task: ServeTask, run: Handler, load: (url: string) => Promise<Record<string, unknown>>): Promise<GradientTaskResult> {
  const cells = new Int32Array(task.control, 0, SLOT_DONE + task.maxSlots);
  const times = slotTimes(task.control, task.maxSlots);
  const moments = callMoments(task.control, task.maxSlots);
  let handler = run;
  if (task.module !== undefined) {
    const exported = (await load(task.module)).default;
    if (typeof exported === 'function') handler = exported as Handler;
  }
  const slot = task.call.slot ?? 0;
  // The same arrays, buffers and slot: a loss call reads the batch and the weights the gradient calls do.
  const lossCall: BatchLossTask = { ...task.call, kind: 'batch-loss' };
  let seen = 0;
  let pieces = 0;
  // Every worker polls after a call while the calls come that quickly (the
  // Trainer's update, or its next batch, between them), when each has a core
  // of its own: a worker asleep costs the main thread an `Atomics.notify`
  // (about 0.025 ms on this host's vCPUs) and itself a wake-up on the next
  // call. The main thread's own wake-up costs more when the worker that
  // finished first polls on the other core (0.033–0.039 against 0.023 ms at 2
  // threads, 2026-12-06), less than the two it saves.
  let spin = 0;
  for (;;) {
    const generation = nextCall(cells, moments, seen, spin);
    if (generation < 0) return { milliseconds: 0, pieces, threadId };
    // Unknown for this worker's first call of the session (the moment before it may be another session's).
    const gap = seen === 0 ? Number.POSITIVE_INFINITY : moments[POSTED_AT] - moments[FINISHED_AT];
    seen = generation;
    const woke = sharedClock();
    let result: GradientTaskResult;
    try {
      result = await handler(Atomics.load(cells, KIND) === CALL_LOSS ? lossCall : task.call);
      if (result.missing === true) throw new Error('the worker lost the buffers sent with its task (please report this)');
    } catch (error) {
      // Wakes a main thread blocked in `Atomics.wait` for this call (it would sleep out its budget): it
      // then waits through its event loop, where this task's rejection ends the session.
      Atomics.store(cells, FINISHED, -generation);
      Atomics.notify(cells, FINISHED);
      throw error;
    }
    pieces += result.pieces;
    // The worker's time on the call, from its wake-up to its report.
    const finished = sharedClock();
    times.milliseconds[slot] = finished - woke;
    times.woke[slot] = woke;
    Atomics.store(cells, SLOT_DONE + slot, generation);
    const done = Atomics.add(cells, DONE, 1) + 1;
    const last = done === Atomics.load(cells, PARTICIPANTS);
    spin = pollMilliseconds(gap, task.spinMilliseconds, last, task.everyWorkerPolls);
    if (last) {
      moments[FINISHED_AT] = finished;
      Atomics.store(cells, FINISHED, generation);
      Atomics.notify(cells, FINISHED);
    }
  }
}
