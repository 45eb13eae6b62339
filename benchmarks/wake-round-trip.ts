/**
 * The floor under the serial part of a pool call on this machine: how long
 * the main thread takes to wake a sleeping thread and be woken back by it,
 * with the primitives a served call uses (serving.ts): `Atomics.notify` to a
 * worker asleep in `Atomics.wait`, and back to the main thread asleep in
 * `Atomics.wait` too (as a call within the thread's blocking budget waits:
 * src/parallel/blocking-budget.ts). A call whose workers have gone to sleep
 * since the last one (calls further apart than their poll) pays about one
 * such round trip on top of its dispatch and collection, whatever the kernel.
 * The same probe, with a pool's thread count, measures it after the sleep of
 * the bench's rounds, beside the first calls of the pools' blocks (scaling.ts).
 */
import { Worker } from 'node:worker_threads';
import type { TimingSummary } from './result.js';
import { summarize } from './stats.js';

export interface WakeRoundTrip {
  /** What was timed, in words. */
  description: string;
  /** Threads woken at once in each round trip (the main thread waits for the last). */
  workers: number;
  /** Milliseconds the workers sleep before each round trip: the median, when the pause is whatever the rounds took. */
  pauseMs: number;
  /** Milliseconds per round trip. */
  ms: TimingSummary;
}

export const WAKE_ROUND_TRIP_DESCRIPTION = 'the main thread wakes a worker asleep in Atomics.wait (Atomics.notify) and waits in Atomics.wait until the worker wakes it back, as a served pool call within its blocking budget does';

export const WAKE_AFTER_ROUND_DESCRIPTION = 'once per round of the Trainer\'s pattern, before the ceiling\'s round and once the last block\'s workers have stopped polling: the main thread wakes threads asleep in Atomics.wait since the last round (about as long as a pool\'s threads between its blocks: the pools rotate, so a pool\'s gap is a round give or take the other pools\' blocks) and waits in Atomics.wait until the last has answered, as the first call of a block does';

/**
 * Cells: 0 = the round the main thread posts (−1: stop), 1 = answers so far,
 * counted over all rounds; the last worker of a round wakes the main thread.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const cells = new Int32Array(workerData.cells);
for (let seen = 0;;) {
  Atomics.wait(cells, 0, seen);
  seen = Atomics.load(cells, 0);
  if (seen < 0) break;
  if ((Atomics.add(cells, 1, 1) + 1) % workerData.workers === 0) Atomics.notify(cells, 1);
}`;

/** How long the main thread, blocked, waits for an answer before it gives up (a worker would have died). */
const ANSWER_TIMEOUT_MILLISECONDS = 1000;

/**
 * Threads that sleep in `Atomics.wait` until {@link roundTrip} wakes them all
 * and waits for the last to answer: the host's cost of waking threads after
 * however long they slept, with nothing else to do.
 */
export class WakeProbe {
  readonly workers: number;
  readonly #cells: Int32Array;
  readonly #threads: Worker[];
  readonly #times: number[] = [];
  readonly #pauses: number[] = [];
  #round = 0;
  #lastAnswer = 0;
  #failure: Error | undefined;

  private constructor(workers: number) {
    this.workers = workers;
    this.#cells = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
    this.#threads = [];
  }

  /** `workers` threads, online and asleep, after one untimed round trip. */
  static async start(workers: number): Promise<WakeProbe> {
    const probe = new WakeProbe(workers);
    try {
      // One by one into #threads, so that a failure to start the next still stops those made.
      for (let i = 0; i < workers; i++) probe.#threads.push(probe.#thread());
      // Online before the first blocking wait: a blocked main thread would not see a worker's failure.
      await Promise.all(probe.#threads.map((thread) => new Promise<void>((resolve) => {
        thread.once('online', resolve);
        thread.once('exit', () => resolve());
      })));
      probe.#wake();
    } catch (error) {
      await probe.stop();
      throw error;
    }
    return probe;
  }

  #thread(): Worker {
    const thread = new Worker(WORKER_SOURCE, { eval: true, workerData: { cells: this.#cells.buffer, workers: this.workers } });
    // A worker that fails or exits early ends the measurement with its reason, not an unhandled 'error' or a long wait.
    thread.once('error', (error) => { this.#failure ??= error; });
    thread.once('exit', (code) => { this.#failure ??= new Error(`a wake-up worker exited with code ${code}`); });
    return thread;
  }

  /** Wakes every worker and waits for the last to answer: returns the milliseconds, and records them and the pause before. */
  roundTrip(): number {
    const pause = performance.now() - this.#lastAnswer;
    const ms = this.#wake();
    this.#times.push(ms);
    this.#pauses.push(pause);
    return ms;
  }

  #wake(): number {
    if (this.#failure !== undefined) throw new Error(`The wake-up round trip failed: ${this.#failure.message}`, { cause: this.#failure });
    const round = ++this.#round;
    const answers = round * this.workers;
    const started = performance.now();
    Atomics.store(this.#cells, 0, round);
    Atomics.notify(this.#cells, 0);
    for (let seen = Atomics.load(this.#cells, 1); seen < answers; seen = Atomics.load(this.#cells, 1)) {
      if (Atomics.wait(this.#cells, 1, seen, ANSWER_TIMEOUT_MILLISECONDS) === 'timed-out') {
        // A worker that died meanwhile could not say so to a blocked thread. Failed for good: a late answer would count for the next round.
        this.#failure = new Error(`no answer from ${answers - Atomics.load(this.#cells, 1)} of ${this.workers} workers within ${ANSWER_TIMEOUT_MILLISECONDS} ms (one may have died)`);
        throw new Error(`The wake-up round trip failed: ${this.#failure.message}`);
      }
    }
    this.#lastAnswer = performance.now();
    return this.#lastAnswer - started;
  }

  /** The round trips so far, with the median pause before them; null before the first. */
  results(description: string): WakeRoundTrip | null {
    if (this.#times.length === 0) return null;
    return { description, workers: this.workers, pauseMs: summarize(this.#pauses).median, ms: { ...summarize(this.#times), samples: [...this.#times] } };
  }

  /** Ends the workers (asleep or not); the probe takes no more round trips. Safe to call twice. */
  async stop(): Promise<void> {
    Atomics.store(this.#cells, 0, -1);
    Atomics.notify(this.#cells, 0);
    await Promise.all(this.#threads.map((thread) => thread.terminate()));
  }
}

/**
 * `samples` round trips to one worker (after one untimed, once it has
 * started), each after `pauseMs` in which it sleeps.
 */
export async function measureWakeRoundTrip(samples: number, pauseMs: number): Promise<WakeRoundTrip> {
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`Expected \`samples\` to be an integer from 1 and up, got ${samples}`);
  const probe = await WakeProbe.start(1);
  try {
    for (let round = 0; round < samples; round++) {
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      probe.roundTrip();
    }
  } finally {
    await probe.stop();
  }
  // The pause asked for, as before: the timer's own lateness is not the worker's sleep.
  return { ...probe.results(WAKE_ROUND_TRIP_DESCRIPTION)!, pauseMs };
}
