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
import { incrementalGradientRange, prepareIncrementalBase } from '../src/kernels/incremental.js';
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
}

/** Worker side (also callable directly): milliseconds per gradient, copies excluded. */
export function computeWholeGradients(task: CeilingTask): number {
  const params = task.params.slice();
  const x = task.x.slice();
  const labels = task.labels.slice();
  const out = new Float64Array(params.length);
  let buffer: ArrayBufferLike | undefined;
  const started = performance.now();
  for (let g = 0; g < task.gradients; g++) {
    const base = prepareIncrementalBase(params, task.shape, x, task.rows, labels, buffer);
    buffer = base.dims.buffer;
    incrementalGradientRange(params, task.shape, x, task.rows, labels, base, 0, params.length, out, task.h);
  }
  return (performance.now() - started) / task.gradients;
}

export interface CeilingOptions {
  threads: readonly number[];
  /** Whole gradients per worker per round. */
  gradients: number;
  busyThresholdCores: number;
  task: Omit<CeilingTask, 'gradients'>;
}

/**
 * Workers for the ceiling: `start` them (with a warm-up round per thread
 * count), call `round` once per benchmark round (between the pool's own
 * rounds, so that both see the same machine), then `results` and `destroy`.
 */
export class CeilingProbe {
  readonly #options: CeilingOptions;
  readonly #pool: Piscina<CeilingTask, number>;
  #poolError: Error | undefined;
  readonly #samples: Map<number, { ms: number[]; throughput: number[]; meter: LoadMeter }>;
  #rounds = 0;

  private constructor(options: CeilingOptions) {
    this.#options = options;
    const most = Math.max(...options.threads);
    const filename = siblingModule(import.meta.url, './ceiling.worker');
    this.#pool = new Piscina<CeilingTask, number>({
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

  async #run(count: number): Promise<number[]> {
    try {
      return await Promise.all(Array.from({ length: count }, () => this.#pool.run({ ...this.#options.task, gradients: this.#options.gradients })));
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
      const ms = await this.#run(count);
      entry.meter.stop();
      entry.ms.push(...ms);
      entry.throughput.push(ms.reduce((sum, each) => sum + 1 / each, 0));
    }
    this.#rounds++;
  }

  /** Per thread count; speedup = median throughput (Σ over workers of 1 / ms per gradient) / the median with one worker. */
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
