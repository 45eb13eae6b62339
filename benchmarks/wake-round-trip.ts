/**
 * The floor under the serial part of a pool call on this machine: how long
 * the main thread takes to wake a sleeping thread and be woken back by it,
 * with the primitives a served call uses (serving.ts): `Atomics.notify` to a
 * worker asleep in `Atomics.wait`, and back to the main thread asleep in
 * `Atomics.wait` too (as a call within the thread's blocking budget waits:
 * src/parallel/blocking-budget.ts). A call whose workers have gone to sleep
 * since the last one (calls further apart than their poll) pays about one
 * such round trip on top of its dispatch and collection, whatever the kernel.
 */
import { Worker } from 'node:worker_threads';
import type { TimingSummary } from './result.js';
import { summarize } from './stats.js';

export interface WakeRoundTrip {
  /** What was timed, in words. */
  description: string;
  /** Milliseconds the worker sleeps before each round trip. */
  pauseMs: number;
  /** Milliseconds per round trip. */
  ms: TimingSummary;
}

export const WAKE_ROUND_TRIP_DESCRIPTION = 'the main thread wakes a worker asleep in Atomics.wait (Atomics.notify) and waits in Atomics.wait until the worker wakes it back, as a served pool call within its blocking budget does';

/** Cells: 0 = the round the main thread posts (−1: stop), 1 = the round the worker has answered. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const cells = new Int32Array(workerData);
for (let seen = 0;;) {
  Atomics.wait(cells, 0, seen);
  seen = Atomics.load(cells, 0);
  if (seen < 0) break;
  Atomics.store(cells, 1, seen);
  Atomics.notify(cells, 1);
}`;

/** How long the main thread, blocked, waits for an answer before it gives up (the worker would have died). */
const ANSWER_TIMEOUT_MILLISECONDS = 1000;

/**
 * `samples` round trips (after one untimed, once the worker has started),
 * each after `pauseMs` in which the worker sleeps.
 */
export async function measureWakeRoundTrip(samples: number, pauseMs: number): Promise<WakeRoundTrip> {
  const cells = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: cells.buffer });
  // A worker that fails or exits early ends the measurement with its reason, not an unhandled 'error' or a long wait.
  let failure: Error | undefined;
  worker.once('error', (error) => { failure = error; });
  worker.once('exit', (code) => { failure ??= new Error(`the wake-up worker exited with code ${code}`); });
  const times: number[] = [];
  try {
    // Started before the first blocking wait: a blocked main thread would not see the worker's failure.
    await new Promise<void>((resolve) => {
      worker.once('online', resolve);
      worker.once('exit', () => resolve());
    });
    for (let round = 1; round <= samples + 1; round++) {
      if (failure !== undefined) throw new Error(`The wake-up round trip failed: ${failure.message}`, { cause: failure });
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      const started = performance.now();
      Atomics.store(cells, 0, round);
      Atomics.notify(cells, 0);
      if (Atomics.wait(cells, 1, round - 1, ANSWER_TIMEOUT_MILLISECONDS) === 'timed-out') {
        throw new Error(`The wake-up round trip got no answer within ${ANSWER_TIMEOUT_MILLISECONDS} ms`);
      }
      if (round > 1) times.push(performance.now() - started);
    }
  } finally {
    Atomics.store(cells, 0, -1);
    Atomics.notify(cells, 0);
    await worker.terminate();
  }
  return { description: WAKE_ROUND_TRIP_DESCRIPTION, pauseMs, ms: { ...summarize(times), samples: times } };
}
