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
 *
 * The same workers also split gradients as the pool's workers do, gradient
 * after gradient within one task (the split alone): its share of the ceiling
 * carries the split's own costs (threads reading the base another built,
 * waiting for its last part) and not the pool's (dispatch, collection, a
 * sleeping worker's wake-up), which tells the two apart.
 */
import { Piscina } from 'piscina';
import { performance } from 'node:perf_hooks';
import {
  incrementalBaseBytes, incrementalBaseViews, incrementalGradientRange, prepareIncrementalBase, startIncrementalBase,
} from '../src/kernels/incremental/index.js';
import type { NetShape } from '../src/kernels/two-layer.js';
import { boardCuts } from '../src/parallel/gradient-pool.js';
import type { IncrementalGradientTask } from '../src/parallel/protocol.js';
import { runGradientTask } from '../src/parallel/run-task.js';
import { SERVE_SPIN_MILLISECONDS } from '../src/parallel/serving.js';
import { sharedCopy } from '../src/parallel/shared-copy.js';
import { WorkBoard } from '../src/parallel/work-board.js';
import { siblingModule, workerStart } from '../src/parallel/worker-loader.js';
import { LoadMeter } from './machine.js';
import { finiteOrNull, summarize } from './stats.js';
import type { CeilingMeasurement } from './result.js';

/** One worker's share of a round: `gradients` whole gradients on private copies. */
export interface CeilingTask {
  kind?: 'whole';
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

/**
 * One worker's share of a round of the split alone: `gradients` gradients,
 * each split among `workers` workers as the pool splits it (`runGradientTask`
 * over one work board, `parts` base parts and `chunks` chunks), with a
 * barrier before and after each instead of the pool's dispatch.
 */
export interface SplitTask {
  kind: 'split';
  /** The incremental task every worker runs for every gradient: shared weights, batch, base, board and gradient. */
  task: IncrementalGradientTask & { gradient: Float64Array; base: SharedArrayBuffer; board: SharedArrayBuffer };
  parts: number;
  chunks: number;
  gradients: number;
  /** Start line, as in {@link CeilingTask}; the first to arrive resets the board before each gradient. */
  start: Int32Array;
  /** Two cells: workers at the barrier, and its generation. */
  barrier: Int32Array;
  workers: number;
  /** Longest wait at the start line and at a barrier, ms (default {@link START_LINE_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** Longest wait at the start line or a barrier: a worker that never comes must not stall the benchmark. */
const START_LINE_TIMEOUT_MS = 2000;
/** The same in the warm-up round, while the probe's threads may still be starting (loading the modules, under tsx too). */
const WARM_UP_TIMEOUT_MS = 30_000;

/** Arrives at the start line; returns how many had arrived before this worker, once all have (or after the timeout). */
function startLine(start: Int32Array, workers: number, timeoutMs = START_LINE_TIMEOUT_MS): number {
  const before = Atomics.add(start, 0, 1);
  if (before + 1 >= workers) Atomics.notify(start, 0);
  const giveUpAt = performance.now() + timeoutMs;
  for (let seen = before + 1; seen < workers && performance.now() < giveUpAt; seen = Atomics.load(start, 0)) {
    Atomics.wait(start, 0, seen, 10);
  }
  return before;
}

/** Waits until all `workers` have arrived (polling as long as the pool's workers poll for the next call, then sleeping); throws if one has not within the timeout. */
function meet(barrier: Int32Array, workers: number, timeoutMs: number): void {
  const generation = Atomics.load(barrier, 1);
  if (Atomics.add(barrier, 0, 1) === workers - 1) {
    Atomics.store(barrier, 0, 0);
    Atomics.add(barrier, 1, 1);
    Atomics.notify(barrier, 1);
    return;
  }
  const spinUntil = performance.now() + SERVE_SPIN_MILLISECONDS;
  const giveUpAt = performance.now() + timeoutMs;
  while (Atomics.load(barrier, 1) === generation) {
    const now = performance.now();
    if (now > giveUpAt) throw new Error(`Expected all ${workers} workers of the split alone at its barrier within ${timeoutMs} ms, got ${Atomics.load(barrier, 0)} of them there`);
    if (now > spinUntil) Atomics.wait(barrier, 1, generation, 10);
  }
}

/**
 * This thread's base buffer, kept from round to round as the pool keeps its
 * own: a new one every round made each round's first gradient fault in and
 * zero 1.9 MB (784-50-10, batch 100), which with 4 gradients a round slowed
 * them by half.
 */
let keptBase: ArrayBuffer | undefined;

/** Worker side (also callable directly). Copies first, then all workers start together, so their gradients overlap. */
export function computeWholeGradients(task: CeilingTask): CeilingTaskResult {
  const params = task.params.slice();
  const x = task.x.slice();
  const labels = task.labels.slice();
  const out = new Float64Array(params.length);
  const bytes = incrementalBaseBytes(task.shape, task.rows);
  if (keptBase === undefined || keptBase.byteLength < bytes) keptBase = new ArrayBuffer(bytes);
  const buffer = keptBase;
  startLine(task.start, task.workers);
  const startedAt = performance.timeOrigin + performance.now();
  for (let g = 0; g < task.gradients; g++) {
    const base = prepareIncrementalBase(params, task.shape, x, task.rows, labels, buffer);
    incrementalGradientRange(params, task.shape, x, task.rows, labels, base, 0, params.length, out, task.h);
  }
  const endedAt = performance.timeOrigin + performance.now();
  return { startedAt, endedAt, msPerGradient: (endedAt - startedAt) / task.gradients };
}

/** Worker side of the split alone (also callable directly, as its only worker). */
export async function computeSplitGradients(split: SplitTask): Promise<CeilingTaskResult> {
  const { task, workers } = split;
  const timeoutMs = split.timeoutMs ?? START_LINE_TIMEOUT_MS;
  const leads = startLine(split.start, workers, timeoutMs) === 0;
  const board = new WorkBoard(task.board);
  const base = incrementalBaseViews(task.base, task.shape, task.rows);
  const startedAt = performance.timeOrigin + performance.now();
  for (let g = 0; g < split.gradients; g++) {
    if (leads) {
      startIncrementalBase(base, task.shape, task.rows);
      board.reset(split.parts, split.chunks);
    }
    meet(split.barrier, workers, timeoutMs);
    const result = await runGradientTask(task);
    if (result.missing === true) throw new Error('the split alone\'s worker lost its buffers (please report this)');
    meet(split.barrier, workers, timeoutMs);
    // As the pool checks its calls: a gradient with a chunk left out must not be timed as a whole one.
    if (leads && !board.complete) throw new Error(`The split alone stopped early: board state ${board.state}, ${board.chunks} chunks (please report this)`);
  }
  const endedAt = performance.timeOrigin + performance.now();
  return { startedAt, endedAt, msPerGradient: (endedAt - startedAt) / split.gradients };
}

/** Shared copies of the ceiling's weights and batch, and the base, board and gradient the split's workers share; the pool's cuts for `workers` threads. */
export function splitTaskFor(task: CeilingOptions['task'], workers: number, gradients: number): SplitTask {
  const { parts, chunks } = boardCuts(workers, task.params.length);
  return {
    kind: 'split',
    task: {
      kind: 'incremental', shape: task.shape, params: sharedCopy(task.params), x: sharedCopy(task.x), labels: sharedCopy(task.labels), rows: task.rows, h: task.h,
      gradient: new Float64Array(new SharedArrayBuffer(task.params.byteLength)),
      base: new SharedArrayBuffer(incrementalBaseBytes(task.shape, task.rows)),
      board: new SharedArrayBuffer(WorkBoard.bytes(chunks)),
    },
    parts, chunks, gradients,
    start: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)),
    barrier: new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT)),
    workers,
  };
}

/** Milliseconds from the first worker's start to the last one's end. */
function roundSpan(results: readonly CeilingTaskResult[]): number {
  return Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
}

/** Gradients per millisecond of a round: all the workers' gradients over the span from the first start to the last end. */
export function roundThroughput(results: readonly CeilingTaskResult[], gradients: number): number {
  return (results.length * gradients) / roundSpan(results);
}

/** Gradients per millisecond of a round of the split alone, whose workers all take part in each of its `gradients`. */
export function splitRoundThroughput(results: readonly CeilingTaskResult[], gradients: number): number {
  return gradients / roundSpan(results);
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
  readonly #pool: Piscina<CeilingTask | SplitTask, CeilingTaskResult>;
  readonly #start = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  #poolError: Error | undefined;
  readonly #samples: Map<number, { ms: number[]; throughput: number[]; meter: LoadMeter; split: SplitTask | null; splitMs: number[]; splitThroughput: number[] }>;
  #rounds = 0;

  private constructor(options: CeilingOptions) {
    this.#options = options;
    const most = Math.max(...options.threads);
    const filename = siblingModule(import.meta.url, './ceiling.worker');
    this.#pool = new Piscina<CeilingTask | SplitTask, CeilingTaskResult>({
      filename, minThreads: most, maxThreads: most, idleTimeout: Number.POSITIVE_INFINITY, ...workerStart(filename),
    });
    this.#pool.on('error', (error: Error) => {
      this.#poolError = error;
    });
    this.#samples = new Map(options.threads.map((count) => [count, {
      ms: [], throughput: [], meter: new LoadMeter(options.busyThresholdCores),
      // As much work as the round's whole gradients: `gradients` per worker.
      split: count === 1 ? null : splitTaskFor(options.task, count, count * options.gradients), splitMs: [], splitThroughput: [],
    }]));
  }

  static async start(options: CeilingOptions): Promise<CeilingProbe> {
    const probe = new CeilingProbe(options);
    try {
      for (const count of options.threads) await probe.#run(count, WARM_UP_TIMEOUT_MS); // start-up and JIT
    } catch (error) {
      await probe.destroy();
      throw error;
    }
    return probe;
  }

  /** Whole gradients on `count` workers, then (from 2) the same work split among them, whose workers wait for each other up to `timeoutMs`. */
  async #run(count: number, timeoutMs?: number): Promise<{ whole: CeilingTaskResult[]; split: CeilingTaskResult[] | null }> {
    const kept = this.#samples.get(count)!.split;
    const split = kept === null || timeoutMs === undefined ? kept : { ...kept, timeoutMs };
    try {
      Atomics.store(this.#start, 0, 0);
      const task: CeilingTask = { ...this.#options.task, gradients: this.#options.gradients, start: this.#start, workers: count };
      const whole = await Promise.all(Array.from({ length: count }, () => this.#pool.run(task)));
      if (split === null) return { whole, split: null };
      Atomics.store(split.start, 0, 0);
      return { whole, split: await Promise.all(Array.from({ length: count }, () => this.#pool.run(split))) };
    } catch (error) {
      // A split worker that failed may leave the others waiting for its base part: they end too.
      if (split !== null) new WorkBoard(split.task.board).abort();
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
      const { whole, split } = await this.#run(count);
      entry.meter.stop();
      entry.ms.push(...whole.map((r) => r.msPerGradient));
      entry.throughput.push(roundThroughput(whole, this.#options.gradients));
      if (split !== null) {
        entry.splitMs.push(Math.max(...split.map((r) => r.msPerGradient)));
        entry.splitThroughput.push(splitRoundThroughput(split, entry.split!.gradients));
      }
    }
    this.#rounds++;
  }

  /**
   * Per thread count; speedup = median round throughput (see {@link roundThroughput}) / the median with one worker,
   * and the split alone's the same way, over the same one-worker median.
   */
  results(): CeilingMeasurement[] {
    const baseline = summarize(this.#samples.get(1)?.throughput ?? []).median;
    return this.#options.threads.map((count) => {
      const entry = this.#samples.get(count)!;
      const ms = summarize(entry.ms);
      const speedup = finiteOrNull(summarize(entry.throughput).median / baseline);
      let split: CeilingMeasurement['split'] = null;
      if (entry.split !== null && entry.splitMs.length > 0) {
        const splitMs = summarize(entry.splitMs);
        const splitSpeedup = finiteOrNull(summarize(entry.splitThroughput).median / baseline);
        split = {
          msPerGradient: { median: splitMs.median, min: splitMs.min, max: splitMs.max, mean: splitMs.mean, samples: entry.splitMs },
          speedup: splitSpeedup,
          ofCeiling: splitSpeedup === null || speedup === null ? null : splitSpeedup / speedup,
        };
      }
      return {
        threads: count, rounds: this.#rounds, gradientsPerRound: this.#options.gradients,
        msPerGradient: { median: ms.median, min: ms.min, max: ms.max, mean: ms.mean, samples: entry.ms },
        speedup, split,
        load: entry.meter.sample(),
      };
    });
  }

  async destroy(): Promise<void> {
    await this.#pool.destroy();
  }
}
