/**
 * Time per training epoch, end to end: the Trainer's own steps (batch draw,
 * gradient, update, batch loss) and its epoch evaluation (accuracy and loss on
 * all of the train and test splits), on a copy of the benchmark net.
 *
 * After one untimed evaluation and one untimed step (warm-up), a few steps are
 * timed to estimate the epoch. When the estimate fits the budget, a whole
 * epoch is then run and timed (`measured`: `trainer.run()` for one epoch of
 * iterations, which ends with the epoch evaluation); otherwise, or when a fixed
 * number of iterations is asked for, it is extrapolated:
 *
 *     epochMs = iterationsPerEpoch × mean ms per timed step + one timed evaluation
 *
 * Either way the Trainer's own gradient calls in the timed iterations (not the
 * probe's) are timed too, as it makes them (trainer-calls.ts).
 */
import type { loadDataset } from '../datasets/index.js';
import type { TwoLayerNet } from '../src/nets/two-layer-net.js';
import type { GradientPool } from '../src/parallel/gradient-pool.js';
import { createOptimizer } from '../src/train/optimizers.js';
import { Trainer } from '../src/train/trainer.js';
import { LoadMeter } from './machine.js';
import type { Engine } from '../src/engine.js';
import type { EpochEstimate } from './result.js';
import { TrainerCallWatch } from './trainer-calls.js';

export type BenchDataset = Awaited<ReturnType<typeof loadDataset>>;

/** Steps timed to decide between a full epoch and an extrapolation. */
export const EPOCH_PROBE_STEPS = 3;
/** Steps timed when the full epoch is over budget and no count was given. */
export const EPOCH_FALLBACK_STEPS = 10;

export interface EpochOptions {
  net: TwoLayerNet;
  dataset: BenchDataset;
  batchSize: number;
  /** The pool for numerical gradients; omit for backprop on the main thread. */
  pool?: GradientPool;
  /** `null`: a full epoch when estimated within `budgetMs`, else extrapolated; N: extrapolate from N timed steps. */
  iterations: number | null;
  budgetMs: number;
  learningRate: number;
  seed: number;
  busyThresholdCores: number;
}

export async function measureEpoch(options: EpochOptions): Promise<EpochEstimate> {
  const { net, dataset, batchSize, pool, iterations, budgetMs, learningRate, seed, busyThresholdCores } = options;
  const engine: Engine = pool === undefined ? 'backprop' : 'incremental';
  const watch = pool === undefined ? null : new TrainerCallWatch(pool);
  const recorded = async <T>(work: () => Promise<T>): Promise<T> => {
    if (watch !== null) watch.recording = true;
    try {
      return await work();
    } finally {
      if (watch !== null) watch.recording = false;
    }
  };
  const trainer = new Trainer({
    net: net.clone(), dataset, optimizer: createOptimizer('sgd', { learningRate }), pool: watch?.pool, batchSize,
    iterations: Number.MAX_SAFE_INTEGER, engine: pool === undefined ? 'backprop' : 'incremental', seed,
  });
  const ipe = trainer.iterationsPerEpoch;
  const threads = pool?.threads ?? 1;
  const where = pool === undefined ? 'main-thread' : 'pool';
  const splits = `${dataset.train.rows} train + ${dataset.test.rows} test samples`;
  const meter = new LoadMeter(busyThresholdCores);

  let started = performance.now();
  await trainer.evaluate();
  const warmEvaluationMs = performance.now() - started;
  await trainer.step();
  const timeSteps = async (count: number): Promise<number[]> => {
    const ms: number[] = [];
    for (let i = 0; i < count; i++) {
      meter.start();
      const t0 = performance.now();
      await trainer.step();
      ms.push(performance.now() - t0);
      meter.stop();
    }
    return ms;
  };
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

  if (iterations === null) {
    const probe = await timeSteps(EPOCH_PROBE_STEPS);
    const estimate = ipe * mean(probe) + warmEvaluationMs;
    if (estimate <= budgetMs) {
      // A whole epoch: exactly `ipe` steps, then the epoch evaluation, as in training.
      const full = new Trainer({
        net: net.clone(), dataset, optimizer: createOptimizer('sgd', { learningRate }), pool: watch?.pool, batchSize, iterations: ipe,
        engine: pool === undefined ? 'backprop' : 'incremental', seed,
      });
      await full.evaluate(); // the run's initial evaluation, not part of an epoch
      let lastStepAt = 0;
      let evaluatedAt = 0;
      full.on('iteration', () => { lastStepAt = performance.now(); });
      full.on('epoch', () => { evaluatedAt = performance.now(); });
      const fullMeter = new LoadMeter(busyThresholdCores);
      fullMeter.start();
      started = performance.now();
      const summary = await recorded(() => full.run());
      const totalMs = performance.now() - started;
      fullMeter.stop();
      const evaluationMs = evaluatedAt - lastStepAt;
      return {
        engine, where, threads, method: 'measured',
        description: `one Trainer epoch run and timed: ${ipe} iterations + the epoch evaluation (${splits})`,
        iterationsPerEpoch: ipe, iterationsTimed: summary.iterations,
        msPerIteration: (totalMs - evaluationMs) / ipe, evaluationMs, epochMs: totalMs, gradientCalls: watch?.summary() ?? null, load: fullMeter.sample(),
      };
    }
  }
  const count = iterations ?? EPOCH_FALLBACK_STEPS;
  const stepMs = await recorded(() => timeSteps(count));
  meter.start();
  started = performance.now();
  await trainer.evaluate();
  const evaluationMs = performance.now() - started;
  meter.stop();
  const msPerIteration = mean(stepMs);
  return {
    engine, where, threads, method: 'extrapolated',
    description: `${ipe} iterations × mean of ${count} timed Trainer iterations + 1 timed evaluation (${splits})`,
    iterationsPerEpoch: ipe, iterationsTimed: count, msPerIteration, evaluationMs, epochMs: ipe * msPerIteration + evaluationMs, gradientCalls: watch?.summary() ?? null, load: meter.sample(),
  };
}

/** An epoch of an engine too slow to run, computed from its time per gradient and a measured evaluation. */
export function computedEpoch(engine: Engine, msPerGradient: number, iterationsPerEpoch: number, evaluationMs: number, note: string): EpochEstimate {
  return {
    engine,
    where: 'main-thread',
    threads: 1,
    method: 'computed',
    description: `${iterationsPerEpoch} × ${note} + the measured evaluation (update and batch loss neglected)`,
    iterationsPerEpoch,
    iterationsTimed: 0,
    msPerIteration: msPerGradient,
    evaluationMs,
    epochMs: iterationsPerEpoch * msPerGradient + evaluationMs,
    gradientCalls: null,
    load: null,
  };
}
