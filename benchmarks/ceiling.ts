/**
 * The machine's own ceiling for a thread count: N workers that each compute
 * whole gradients (the same incremental kernel, batch and weights as the pool)
 * on private copies, at the same time, with nothing shared and nothing to
 * coordinate. Their combined throughput over one worker's is the most any
 * parallel split of the gradient could get from this machine at that moment.
 *
 * On a machine whose logical cores are SMT siblings of one physical core, or
 * whose host runs other tenants on them, this ceiling is well below N; the
 * pool's speedup is then bounded by it, and its ratio to the ceiling (how much
 * of the attainable speedup the pool gets) is the figure that says something
 * about gradpool rather than about the host.
 */
import { Piscina } from 'piscina';
import { performance } from 'node:perf_hooks';
import { incrementalGradientRange, prepareIncrementalBase } from '../src/kernels/incremental/index.js';
import type { NetShape } from '../src/kernels/two-layer.js';
import { siblingModule, workerExecArgv } from '../src/parallel/worker-loader.js';
import { LoadMeter } from './machine.js';
import { finiteOrNull, summarize } from './stats.js';
import type { CeilingMeasurement } from './result.js';

/** One worker's share of a round: `gradients` whole gradients on private copies. */
export interface CeilingTask {
  shape: NetShape;
  params: Float64Array;
  x: Float64Array;
  labels: Int32Array;
  rows: number;
  h: number;
  gradients: number;
  /** Start line: one Int32 cell, 0 at the round's start; every worker adds 1 and waits for `workers`. */
  start: Int32Array;
  workers: number;
}

export interface CeilingTaskResult {
  /** performance.timeOrigin + performance.now() at the start line and at the end (comparable across threads). */
  startedAt: number;
  endedAt: number;
  msPerGradient: number;
}

/** Longest wait at the start line: a worker that never comes must not stall the benchmark. */
const START_LINE_TIMEOUT_MS = 2000;

/** Worker side (also callable directly). Copies first, then all workers start together, so their gradients overlap. */
export function computeWholeGradients(task: CeilingTask): CeilingTaskResult {
  const params = task.params.slice();
  const x = task.x.slice();
  const labels = task.labels.slice();
  const out = new Float64Array(params.length);
  const arrived = Atomics.add(task.start, 0, 1) + 1;
  if (arrived >= task.workers) Atomics.notify(task.start, 0);
  const giveUpAt = performance.now() + START_LINE_TIMEOUT_MS;
  for (let seen = arrived; seen < task.workers && performance.now() < giveUpAt; seen = Atomics.load(task.start, 0)) {
    Atomics.wait(task.start, 0, seen, 10);
  }
  let buffer: ArrayBufferLike | undefined;
  const startedAt = performance.timeOrigin + performance.now();
  for (let g = 0; g < task.gradients; g++) {
    const base = prepareIncrementalBase(params, task.shape, x, task.rows, labels, buffer);
    buffer = base.dims.buffer;
    incrementalGradientRange(params, task.shape, x, task.rows, labels, base, 0, params.length, out, task.h);
  }
  const endedAt = performance.timeOrigin + performance.now();
  return { startedAt, endedAt, msPerGradient: (endedAt - startedAt) / task.gradients };
}

/** Gradients per millisecond of a round: all the workers' gradients over the span from the first start to the last end. */
export function roundThroughput(results: readonly CeilingTaskResult[], gradients: number): number {
  const span = Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
  return (results.length * gradients) / span;
}

export interface CeilingOptions {
  threads: readonly number[];
  /** Whole gradients per worker per round. */
  gradients: number;
  busyThresholdCores: number;
  task: Omit<CeilingTask, 'gradients' | 'start' | 'workers'>;
}

/**
 * Workers for the ceiling: `start` them (with a warm-up round per thread
 * count), call `round` once per benchmark round (between the pool's own
 * rounds, so that both see the same machine), then `results` and `destroy`.
 */
export class CeilingProbe {
  readonly #options: CeilingOptions;
  readonly #pool: Piscina<CeilingTask, CeilingTaskResult>;
  readonly #start = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  #poolError: Error | undefined;
  readonly #samples: Map<number, { ms: number[]; throughput: number[]; meter: LoadMeter }>;
  #rounds = 0;

  private constructor(options: CeilingOptions) {
    this.#options = options;
    const most = Math.max(...options.threads);
    const filename = siblingModule(import.meta.url, './ceiling.worker');
    this.#pool = new Piscina<CeilingTask, CeilingTaskResult>({
      filename, minThreads: most, maxThreads: most, idleTimeout: Number.POSITIVE_INFINITY, execArgv: workerExecArgv(filename),
    });
    this.#pool.on('error', (error: Error) => {
      this.#poolError = error;
    });
    this.#samples = new Map(options.threads.map((count) => [count, { ms: [], throughput: [], meter: new LoadMeter(options.busyThresholdCores) }]));
  }

  static async start(options: CeilingOptions): Promise<CeilingProbe> {
    const probe = new CeilingProbe(options);
    try {
      for (const count of options.threads) await probe.#run(count); // start-up and JIT
    } catch (error) {
      await probe.destroy();
      throw error;
    }
    return probe;
  }

  async #run(count: number): Promise<CeilingTaskResult[]> {
    Atomics.store(this.#start, 0, 0);
    const task: CeilingTask = { ...this.#options.task, gradients: this.#options.gradients, start: this.#start, workers: count };
    try {
      return await Promise.all(Array.from({ length: count }, () => this.#pool.run(task)));
    } catch (error) {
      throw this.#poolError ?? error;
    }
  }

  /** One timed round: every thread count in turn, rotating which goes first. */
  async round(): Promise<void> {
    const { threads } = this.#options;
    for (let k = 0; k < threads.length; k++) {
      const count = threads[(k + this.#rounds) % threads.length];
      const entry = this.#samples.get(count)!;
      entry.meter.start();
      const results = await this.#run(count);
      entry.meter.stop();
      entry.ms.push(...results.map((r) => r.msPerGradient));
      entry.throughput.push(roundThroughput(results, this.#options.gradients));
    }
    this.#rounds++;
  }

  /** Per thread count; speedup = median round throughput (see {@link roundThroughput}) / the median with one worker. */
  results(): CeilingMeasurement[] {
    const baseline = summarize(this.#samples.get(1)?.throughput ?? []).median;
    return this.#options.threads.map((count) => {
      const entry = this.#samples.get(count)!;
      const ms = summarize(entry.ms);
      return {
        threads: count, rounds: this.#rounds, gradientsPerRound: this.#options.gradients,
        msPerGradient: { median: ms.median, min: ms.min, max: ms.max, mean: ms.mean, samples: entry.ms },
        speedup: finiteOrNull(summarize(entry.throughput).median / baseline),
        load: entry.meter.sample(),
      };
    });
  }

  async destroy(): Promise<void> {
    await this.#pool.destroy();
  }
}
