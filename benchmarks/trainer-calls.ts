/**
 * The Trainer's own gradient calls, timed as it makes them: a pool that hands
 * the Trainer every method of the real one, with `gradientOfBatch` wrapped to
 * take each call's statistics while recording. The bench's rounds time calls
 * in blocks that rotate between pools (scaling.ts), so that the first calls
 * of each block follow a pause; these are the calls of a real epoch, each
 * after the Trainer's update, batch loss and next batch, the evaluation's
 * calls aside.
 */
import { performance } from 'node:perf_hooks';
import type { GradientPool, PoolCallStatistics } from '../src/parallel/gradient-pool.js';
import type { TrainerCalls } from './result.js';
import { medianSerialParts, splitSerialPart, type SerialParts } from './serial-parts.js';
import { summarize } from './stats.js';

export class TrainerCallWatch {
  /** The pool to give the Trainer: the watched one, its `gradientOfBatch` timed while recording. */
  readonly pool: GradientPool;
  recording = false;
  readonly #ms: number[] = [];
  readonly #serialMs: number[] = [];
  readonly #slowestTaskMs: number[] = [];
  readonly #serialParts: SerialParts[] = [];

  constructor(target: GradientPool) {
    const gradientOfBatch: GradientPool['gradientOfBatch'] = async (net, batch, options = {}) => {
      if (!this.recording) return target.gradientOfBatch(net, batch, options);
      let statistics: PoolCallStatistics | undefined;
      const started = performance.now();
      const gradient = await target.gradientOfBatch(net, batch, {
        ...options,
        onStatistics: (reported) => {
          statistics = reported;
          options.onStatistics?.(reported);
        },
      });
      const ms = performance.now() - started;
      this.#ms.push(ms);
      const tasks = statistics?.taskMilliseconds ?? [];
      if (tasks.length > 0) {
        const slowest = Math.max(...tasks);
        this.#serialMs.push(ms - slowest);
        this.#slowestTaskMs.push(slowest);
        if (statistics?.timeline !== undefined) this.#serialParts.push(splitSerialPart({ taskMilliseconds: tasks, timeline: statistics.timeline }, ms));
      }
      return gradient;
    };
    // Methods bound to the pool itself: its private fields are not reachable through a proxy as `this`.
    this.pool = new Proxy(target, {
      get(pool, key) {
        if (key === 'gradientOfBatch') return gradientOfBatch;
        const value: unknown = Reflect.get(pool, key, pool);
        return typeof value === 'function' ? value.bind(pool) : value;
      },
    });
  }

  /** The medians over the calls recorded; null when none reported its tasks. */
  summary(): TrainerCalls | null {
    if (this.#serialMs.length === 0) return null;
    return {
      description: 'the Trainer\'s own gradientOfBatch calls in the timed iterations, each timed as it awaits it: medians of the wall time, of wall − slowest task (the serial part) and of the slowest task',
      calls: this.#ms.length,
      msPerCall: summarize(this.#ms).median,
      serialMs: summarize(this.#serialMs).median,
      slowestTaskMs: summarize(this.#slowestTaskMs).median,
      serialParts: medianSerialParts(this.#serialParts),
    };
  }
}
