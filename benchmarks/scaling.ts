/**
 * The measurement: for every model configuration (hidden size × batch size),
 * milliseconds per gradient of each engine on each thread count (in the
 * Trainer's calling pattern and a library caller's), the kernel ratio, the
 * serial part of a pool call, the machine's ceiling, the epoch time, the Amdahl
 * fit, the goals block and (optionally) the book's numpy code and a tfjs epoch,
 * with the CPU load of other processes recorded for every measurement.
 *
 * Method. All pools of a configuration are started together and warmed up;
 * then the repetitions go round-robin over the thread counts (rotating which
 * goes first), so a burst of load from elsewhere hits every thread count alike
 * instead of one of them. A pool's time per gradient is wall time on the main
 * thread around `gradientOfBatch` (`numericalGradient` in the library
 * pattern): partitioning, messaging and the workers' kernel. Backprop (with the
 * incremental kernel interleaved) and the naive sample run on the main thread.
 */
import { InputError } from '../src/errors.js';
import { parameterLayout } from '../src/kernels/two-layer.js';
import { createForwardScratch, batchLoss } from '../src/kernels/two-layer.js';
import { TwoLayerNet, type PreparedBatch } from '../src/nets/two-layer-net.js';
import { GradientPool, type PoolCallStatistics } from '../src/parallel/gradient-pool.js';
import type { Engine } from '../src/engine.js';
import { BatchSampler } from '../src/train/batch-sampler.js';
import { AMDAHL_PREDICT_AT, fitAmdahl } from './amdahl.js';
import { CeilingProbe } from './ceiling.js';
import { computedEpoch, measureEpoch, type BenchDataset } from './epoch.js';
import { goalChecks, judgedByGoals, kernelRatioOf, serialPartOf } from './goals.js';
import { measureKernelPair } from './kernel-ratio.js';
import { LIBRARY_PATTERN_DESCRIPTION, busyWork, libraryInputs } from './library-pattern.js';
import { TFJS_PACKAGE, loadTfjs, measureTfjsEpoch, type TfjsAvailability } from './tfjs-peer.js';
import { LoadMeter, machineInfo, type LoadSample } from './machine.js';
import { measureNaiveSample, sampleParameters, sampledCount } from './naive-sample.js';
import { checkNumpy, maxAbsDifference, measureNumpy, type NumpyAvailability } from './numpy.js';
import type {
  AmdahlResult, BenchResult, BenchSettings, CeilingMeasurement, ConfigurationResult, EngineMeasurement, EpochEstimate, NumpyComparison, PeerEpoch, SerialPart, TimingSummary,
} from './result.js';
import { BENCH_SCHEMA_VERSION } from './result.js';
import { finiteOrNull, summarize } from './stats.js';
import { medianSerialParts, splitSerialPart, type SerialParts } from './serial-parts.js';
import { formatDuration } from '../src/report/format-duration.js';
import { formatMsShort } from './table.js';
import { SERVE_SPIN_MILLISECONDS } from '../src/parallel/serving.js';
import { measureWakeRoundTrip, WAKE_AFTER_ROUND_DESCRIPTION, WakeProbe, type WakeRoundTrip } from './wake-round-trip.js';

/** Wake-up round trips timed, and the pause before each (about a Trainer step's work between two calls). */
const WAKE_ROUND_TRIPS = 40;
const WAKE_PAUSE_MILLISECONDS = 1;

export type ProgressSink = (line: string) => void;

export interface RunOptions {
  settings: BenchSettings;
  dataset: BenchDataset;
  datasetName: string;
  argv: string[];
  progress?: ProgressSink;
  /**
   * Ctrl-C: the run stops at the next round boundary (after at least one
   * round of every pool), skips what it has not started, and reports what it
   * measured, marked `interrupted`.
   */
  signal?: AbortSignal;
}

function timing(samples: number[]): TimingSummary {
  return { ...summarize(samples), samples };
}

function loadNote(load: LoadSample): string {
  if (load.othersCores === null) return '';
  return `, others ${load.othersCores.toFixed(2)} cores${load.busy ? ' BUSY' : ''}`;
}

interface PoolSamples {
  ms: number[];
  /** The same calls by their place in their block: the first follows the other pools' blocks and the ceiling's round. */
  msByPosition: number[][];
  overheadMs: number[];
  /** Each call's slowest task. */
  slowestTaskMs: number[];
  /** The same serial parts by the call's place in its block. */
  overheadByPosition: number[][];
  /** Each served call's serial part, split (serial-parts.ts). */
  serialParts: SerialParts[];
  imbalance: number[];
  meter: LoadMeter;
}

/** One call of a pool as a pattern makes it, reporting the workers' task times to `onStatistics`. */
type PoolCaller = (pool: GradientPool, onStatistics: (statistics: PoolCallStatistics) => void) => Promise<unknown>;

interface MeasurePoolsOptions {
  pools: readonly GradientPool[];
  /** The call, e.g. `gradientOfBatch` as the Trainer makes it. */
  call: PoolCaller;
  /** For progress lines, e.g. `incremental`. */
  name: string;
  reps: number;
  warmup: number;
  block: number;
  settings: BenchSettings;
  progress: ProgressSink;
  label: string;
  /** Before every call (warm-up included), outside the timing: a library caller's own work. */
  beforeCall?: () => void;
  /** After each round: a round of the machine's ceiling. */
  afterRound?: () => Promise<void>;
  /** Stops after the current round (every pool has at least one timed call by then). */
  signal?: AbortSignal;
}

/**
 * Warm-up, then rounds over all pools (rotating which goes first) until each
 * has timed `reps` calls, in blocks of up to `block` consecutive calls per
 * pool and round: a training run calls its pool back to back, while switching
 * pools on every call leaves each thread's caches cold (another pool's threads
 * ran in between), which costs a two-thread call more than a one-thread one.
 * Each call's serial part is its wall time minus the slowest worker's task.
 */
async function measurePools(options: MeasurePoolsOptions): Promise<Map<number, PoolSamples>> {
  const { pools, call, name, reps, warmup, block, settings, progress, label, beforeCall, afterRound, signal } = options;
  const results = new Map<number, PoolSamples>();
  for (const pool of pools) {
    for (let i = 0; i < warmup; i++) {
      beforeCall?.();
      await call(pool, () => undefined);
    }
    results.set(pool.threads, { ms: [], msByPosition: [], overheadMs: [], slowestTaskMs: [], overheadByPosition: [], serialParts: [], imbalance: [], meter: new LoadMeter(settings.busyThresholdCores) });
  }
  const rounds = Math.ceil(reps / block);
  let lastProgress = performance.now();
  for (let r = 0; r < rounds; r++) {
    if (r > 0 && signal?.aborted === true) break;
    const calls = Math.min(block, reps - r * block);
    for (let k = 0; k < pools.length; k++) {
      const pool = pools[(k + r) % pools.length];
      const samples = results.get(pool.threads)!;
      // The load meter reads /proc/stat: around the block, not between its calls, which would then no longer be back to back.
      samples.meter.start();
      for (let c = 0; c < calls; c++) {
        beforeCall?.();
        const started = performance.now();
        let statistics: PoolCallStatistics | undefined;
        await call(pool, (reported) => { statistics = reported; });
        const ms = performance.now() - started;
        samples.ms.push(ms);
        (samples.msByPosition[c] ??= []).push(ms);
        const tasks = statistics?.taskMilliseconds ?? [];
        if (tasks.length > 0) {
          const slowest = Math.max(...tasks);
          const mean = tasks.reduce((sum, t) => sum + t, 0) / tasks.length;
          samples.overheadMs.push(ms - slowest);
          samples.slowestTaskMs.push(slowest);
          (samples.overheadByPosition[c] ??= []).push(ms - slowest);
          samples.imbalance.push(mean > 0 ? slowest / mean : 1);
        }
        if (statistics?.timeline !== undefined) samples.serialParts.push(splitSerialPart({ taskMilliseconds: tasks, timeline: statistics.timeline }, ms));
      }
      samples.meter.stop();
    }
    await afterRound?.();
    if (performance.now() - lastProgress >= 1000 || r === rounds - 1) {
      lastProgress = performance.now();
      progress(`${label}: ${name} round ${r + 1}/${rounds}: ${pools.map((p) => `${p.threads}t ${formatMsShort(results.get(p.threads)!.ms.at(-1)!)} ms`).join(', ')}`);
    }
  }
  return results;
}

function poolMeasurements(
  engine: Engine, results: Map<number, PoolSamples>, reps: number, warmup: number, cores: number,
): EngineMeasurement[] {
  const base = results.get(1);
  const baseSummary = base === undefined ? null : summarize(base.ms);
  const baseMedian = baseSummary?.median ?? Number.NaN;
  return [...results.entries()].sort(([a], [b]) => a - b).map(([threads, samples]) => {
    const ms = timing(samples.ms);
    const speedup = finiteOrNull(baseMedian / ms.median);
    return {
      engine, where: 'pool', threads, method: 'measured', sampledParameters: null, reps, warmup, msPerGradient: ms,
      speedup, efficiency: speedup === null ? null : speedup / threads, speedupOfMin: finiteOrNull((baseSummary?.min ?? Number.NaN) / ms.min),
      oversubscribed: threads > cores,
      overheadMs: samples.overheadMs.length > 0 ? summarize(samples.overheadMs).median : null,
      slowestTaskMs: samples.slowestTaskMs.length > 0 ? summarize(samples.slowestTaskMs).median : null,
      serialParts: medianSerialParts(samples.serialParts),
      msByBlockPosition: samples.msByPosition.map((calls) => summarize(calls).median),
      // Only when every place has calls that reported their tasks: a hole would misalign the places.
      overheadMsByBlockPosition: samples.msByPosition.length > 0 && samples.msByPosition.every((_, c) => (samples.overheadByPosition[c]?.length ?? 0) > 0)
        ? samples.msByPosition.map((_, c) => summarize(samples.overheadByPosition[c]).median) : null,
      imbalance: samples.imbalance.length > 0 ? summarize(samples.imbalance).median : null,
      ofCeiling: null,
      load: samples.meter.sample(),
    };
  });
}

function amdahlFor(engine: Engine, measurements: readonly EngineMeasurement[], cores: number): AmdahlResult | null {
  const points = measurements
    .filter((m) => m.engine === engine && m.where === 'pool' && m.threads <= cores && m.speedup !== null)
    .map((m) => ({ threads: m.threads, speedup: m.speedup as number }));
  const fit = fitAmdahl(points, AMDAHL_PREDICT_AT);
  return fit === null ? null : { engine, coresLimit: cores, ...fit };
}

function mainThreadMeasurement(
  engine: Engine, method: EngineMeasurement['method'], samples: number[], reps: number, warmup: number, load: LoadSample, sampledParameters: number | null,
): EngineMeasurement {
  return {
    engine, where: 'main-thread', threads: 1, method, sampledParameters, reps, warmup, msPerGradient: timing(samples),
    speedup: null, efficiency: null, speedupOfMin: null, oversubscribed: false, overheadMs: null, slowestTaskMs: null, serialParts: null, msByBlockPosition: null, overheadMsByBlockPosition: null, imbalance: null, ofCeiling: null, load,
  };
}

/** Where the benchmark batch comes from (recorded in the JSON). */
export const BATCH_SOURCE = 'the first mini-batch the Trainer\'s sampler draws with --seed: random training rows with replacement, as the book\'s np.random.choice(train_size, batch_size)';

/**
 * The benchmark batch: the first batch the Trainer's sampler draws with `seed`
 * (the training split is stored digit by digit, so its first rows would all be
 * zeros), in the sampler's shared memory as in training (this sampler draws
 * no other).
 */
export function benchBatch(dataset: BenchDataset, rows: number, seed: number): PreparedBatch {
  return new BatchSampler(dataset.train, dataset.inputSize, rows, 'replacement', seed).next();
}

/** BLAS name and threading environment as the numpy script reported them. */
interface NumpyMeta {
  blas: string | null;
  env: Record<string, string | null> | null;
}

/** The optional tfjs peer of the epoch line: loaded once per run. */
interface Peer {
  availability: TfjsAvailability;
  tf: unknown;
}

async function measureConfiguration(
  hiddenSize: number, batchSize: number, options: RunOptions, numpy: NumpyAvailability | null, numpyMeta: NumpyMeta, peer: Peer, cores: number, progress: ProgressSink,
): Promise<ConfigurationResult> {
  const { settings, dataset, signal } = options;
  const shape = { inputSize: dataset.inputSize, hiddenSize, outputSize: dataset.classes, activation: 'sigmoid' as const };
  const net = new TwoLayerNet({ ...shape, weightInitStd: settings.weightInitStd, seed: settings.seed });
  const batch = benchBatch(dataset, batchSize, settings.seed);
  const parameters = parameterLayout(shape).size;
  const label = `${shape.inputSize}-${hiddenSize}-${shape.outputSize} b${batchSize}`;
  const loss = batchLoss(net.params, net.shape, batch.x, batch.rows, batch.labels, createForwardScratch(net.shape, batch.rows));
  progress(`${label}: ${parameters.toLocaleString('en-US')} parameters, batch loss ${loss.toFixed(4)}`);
  const measurements: EngineMeasurement[] = [];
  const epochs: EpochEstimate[] = [];
  let peerEpoch: PeerEpoch | null = null;

  // Backprop (the reference) and the incremental kernel on the main thread, interleaved: the kernel ratio.
  {
    const warmup = Math.max(settings.warmup, 3);
    const pair = measureKernelPair(net, batch, settings.reps, warmup, settings.h, settings.busyThresholdCores);
    measurements.push(mainThreadMeasurement('backprop', 'measured', pair.backpropMs, settings.reps, warmup, pair.backpropLoad, null));
    measurements.push(mainThreadMeasurement('incremental', 'measured', pair.incrementalMs, settings.reps, warmup, pair.incrementalLoad, null));
    const backpropMs = summarize(pair.backpropMs).median;
    const incrementalMs = summarize(pair.incrementalMs).median;
    progress(`${label}: backprop (main thread): median ${formatMsShort(backpropMs)} ms${loadNote(pair.backpropLoad)}; incremental kernel (main thread, interleaved): median ${formatMsShort(incrementalMs)} ms${loadNote(pair.incrementalLoad)}; ratio ${(incrementalMs / backpropMs).toFixed(2)}×`);
  }

  // The book's naive method on a sample of parameters, main thread, extrapolated.
  const samples = sampleParameters(net.shape, settings.naiveSamplePerTensor);
  const naiveWarmup = Math.min(settings.warmup, 1);
  const naiveMeter = new LoadMeter(settings.busyThresholdCores);
  naiveMeter.start();
  const naive = measureNaiveSample(net, batch, samples, settings.naiveReps, naiveWarmup, settings.h);
  naiveMeter.stop();
  const naiveLoad = naiveMeter.sample();
  const naiveMeasurement = mainThreadMeasurement('naive', 'sampled-extrapolated', naive.extrapolatedMs, settings.naiveReps, naiveWarmup, naiveLoad, sampledCount(samples));
  measurements.push(naiveMeasurement);
  const naiveMs = naiveMeasurement.msPerGradient.median;
  progress(`${label}: naive (main thread, ${sampledCount(samples)} of ${parameters} parameters timed): ~${formatMsShort(naiveMs)} ms per gradient extrapolated${loadNote(naiveLoad)}`);

  // The pools.
  const naivePool = naivePoolDecision(naiveMs, settings);
  const epochOptions = {
    net, dataset, batchSize, iterations: settings.epochIterations, budgetMs: settings.epochBudgetMs,
    learningRate: settings.learningRate, seed: settings.seed, busyThresholdCores: settings.busyThresholdCores,
  };
  const pools: GradientPool[] = [];
  let ceiling: CeilingMeasurement[] = [];
  let libraryMeasurements: EngineMeasurement[] = [];
  let wakeAfterRound: WakeRoundTrip | null = null;
  try {
    for (const threads of settings.threads) pools.push(new GradientPool({ threads }));
    progress(`${label}: started pools of ${settings.threads.join(', ')} threads; warming up`);
    // The machine's ceiling, a round of it after each of the pools' rounds.
    const probe = settings.ceilingGradients === 0 ? null : await CeilingProbe.start({
      threads: settings.threads, gradients: settings.ceilingGradients, busyThresholdCores: settings.busyThresholdCores,
      task: { shape, params: net.params, x: batch.x.subarray(0, batch.rows * shape.inputSize), labels: batch.labels.subarray(0, batch.rows), rows: batch.rows, h: settings.h },
    });
    let incremental: Map<number, PoolSamples>;
    let library: Map<number, PoolSamples>;
    const afterRound = probe === null ? undefined : () => probe.round();
    let wakeProbe: WakeProbe | undefined;
    try {
      // As many threads as the serial part's pool, asleep about as long as its threads between their blocks, woken once a round.
      wakeProbe = await WakeProbe.start(Math.max(1, ...settings.threads.filter((threads) => threads <= cores)));
      const wake = wakeProbe;
      // The Trainer's pattern: the batch and the gradient in shared memory, reused, calls back to back.
      const out = new Float64Array(new SharedArrayBuffer(net.layout.size * Float64Array.BYTES_PER_ELEMENT));
      incremental = await measurePools({
        pools, name: 'incremental', reps: settings.reps, warmup: settings.warmup, block: settings.block, settings, progress, label, signal,
        // Before the ceiling's round: the next block's first call still follows other threads' work, as without the probe.
        // After the last block's workers have stopped polling (SERVE_SPIN_MILLISECONDS after their call): the host alone.
        afterRound: async () => {
          await new Promise((resolve) => setTimeout(resolve, Math.ceil(SERVE_SPIN_MILLISECONDS) + 1));
          wake.roundTrip();
          await afterRound?.();
        },
        call: (pool, onStatistics) => pool.gradientOfBatch(net, batch, { engine: 'incremental', h: settings.h, out, onStatistics }),
      });
      wakeAfterRound = wake.results(WAKE_AFTER_ROUND_DESCRIPTION);
      // A library caller's pattern: number[][] through numericalGradient, busy work between calls.
      const inputs = libraryInputs(batch, shape.inputSize);
      library = signal?.aborted === true ? new Map() : await measurePools({
        pools, name: 'incremental, library pattern', reps: settings.reps, warmup: settings.warmup, block: settings.block, settings, progress, label, afterRound, signal,
        beforeCall: () => busyWork(settings.libraryGapMs),
        call: (pool, onStatistics) => pool.numericalGradient(net, inputs.x, inputs.t, { engine: 'incremental', h: settings.h, onStatistics }),
      });
      ceiling = probe?.results() ?? [];
    } finally {
      await Promise.all([probe?.destroy(), wakeProbe?.stop()]);
    }
    measurements.push(...poolMeasurements('incremental', incremental, settings.reps, settings.warmup, cores));
    libraryMeasurements = poolMeasurements('incremental', library, settings.reps, settings.warmup, cores);
    if (naivePool.measured && signal?.aborted !== true) {
      const naiveOut = new Float64Array(new SharedArrayBuffer(net.layout.size * Float64Array.BYTES_PER_ELEMENT));
      const naiveResults = await measurePools({
        pools, name: 'naive', reps: settings.naiveReps, warmup: Math.min(settings.warmup, 1), block: 1, settings, progress, label,
        call: (pool, onStatistics) => pool.gradientOfBatch(net, batch, { engine: 'naive', h: settings.h, out: naiveOut, onStatistics }),
      });
      measurements.push(...poolMeasurements('naive', naiveResults, settings.naiveReps, Math.min(settings.warmup, 1), cores));
    }
    for (const c of ceiling) {
      progress(`${label}: ceiling, ${c.threads} worker${c.threads === 1 ? '' : 's'} at once: ${formatMsShort(c.msPerGradient.median)} ms per gradient each, speedup ${c.speedup?.toFixed(2) ?? '?'}${c.split === null ? '' : `; the split alone (as the pool splits, within one task): ${formatMsShort(c.split.msPerGradient.median)} ms per gradient, speedup ${c.split.speedup?.toFixed(2) ?? '?'}`}${loadNote(c.load)}`);
      for (const m of [...measurements, ...libraryMeasurements]) {
        if (m.engine === 'incremental' && m.where === 'pool' && m.threads === c.threads && m.speedup !== null && c.speedup !== null) m.ofCeiling = m.speedup / c.speedup;
      }
    }
    for (const m of measurements.filter((m) => m.where === 'pool')) {
      progress(`${label}: ${m.engine} ${m.threads} thread${m.threads === 1 ? '' : 's'}: median ${formatMsShort(m.msPerGradient.median)} ms, speedup ${m.speedup?.toFixed(2) ?? '?'}, serial ${m.overheadMs === null ? '?' : formatMsShort(m.overheadMs)} ms${loadNote(m.load)}`);
    }
    for (const m of libraryMeasurements) {
      progress(`${label}: library pattern ${m.threads} thread${m.threads === 1 ? '' : 's'}: median ${formatMsShort(m.msPerGradient.median)} ms, speedup ${m.speedup?.toFixed(2) ?? '?'}, serial ${m.overheadMs === null ? '?' : formatMsShort(m.overheadMs)} ms${loadNote(m.load)}`);
    }

    if (settings.epochIterations !== 0 && signal?.aborted !== true) {
      for (const pool of pools) {
        const epoch = await measureEpoch({ ...epochOptions, pool });
        epochs.push(epoch);
        progress(`${label}: epoch, incremental ${pool.threads} thread${pool.threads === 1 ? '' : 's'}: ${formatDuration(epoch.epochMs)} (${epoch.method})${epoch.load ? loadNote(epoch.load) : ''}`);
      }
    }
  } finally {
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
  if (settings.epochIterations !== 0 && signal?.aborted !== true) {
    const epoch = await measureEpoch(epochOptions);
    epochs.push(epoch);
    progress(`${label}: epoch, backprop (main thread): ${formatDuration(epoch.epochMs)} (${epoch.method})${epoch.load ? loadNote(epoch.load) : ''}`);
    epochs.push(computedEpoch('naive', naiveMs, epoch.iterationsPerEpoch, epoch.evaluationMs, 'the extrapolated naive ms per gradient (main thread)'));
    if (peer.tf !== null) {
      const run = await measureTfjsEpoch(peer.tf, peer.availability, {
        net, dataset, batchSize, learningRate: settings.learningRate, seed: settings.seed, iterationsPerEpoch: epoch.iterationsPerEpoch, busyThresholdCores: settings.busyThresholdCores,
      });
      peerEpoch = { ...run, overBackprop: finiteOrNull(run.epochMs / epoch.epochMs) };
      progress(`${label}: epoch, ${run.library} (${run.backend}), backprop: ${formatDuration(run.epochMs)} (measured), ${peerEpoch.overBackprop?.toFixed(2) ?? '?'}× gradpool's backprop epoch${loadNote(run.load)}`);
    }
  }

  const amdahl = (['incremental', 'naive'] as const)
    .map((engine) => amdahlFor(engine, measurements, cores))
    .filter((fit): fit is AmdahlResult => fit !== null);

  let numpyResult: NumpyComparison | null = null;
  if (numpy?.available && signal?.aborted !== true) {
    const meter = new LoadMeter(settings.busyThresholdCores);
    meter.start();
    const run = await measureNumpy(settings.python, net, batch, samples, settings.naiveReps, naiveWarmup, settings.h);
    meter.stop(run.output.cpuSeconds * 1e6);
    numpyMeta.blas = run.output.blas;
    numpyMeta.env = run.output.env;
    const ms = timing(run.extrapolatedMs);
    const incremental = measurements.filter((m) => m.engine === 'incremental' && m.where === 'pool');
    const best = incremental.reduce<EngineMeasurement | null>((b, m) => (b === null || m.msPerGradient.median < b.msPerGradient.median ? m : b), null);
    const one = incremental.find((m) => m.threads === 1);
    numpyResult = {
      method: 'sampled-extrapolated',
      sampledParameters: sampledCount(samples),
      reps: settings.naiveReps,
      msPerGradient: ms,
      loss: run.output.loss,
      maxAbsDifferenceVsTypeScriptNaive: finiteOrNull(maxAbsDifference(run.values, naive.values)),
      ratios: {
        overIncrementalBest: best ? finiteOrNull(ms.median / best.msPerGradient.median) : null,
        incrementalBestThreads: best?.threads ?? null,
        overIncrementalOneThread: one ? finiteOrNull(ms.median / one.msPerGradient.median) : null,
        overTypeScriptNaive: finiteOrNull(ms.median / naiveMs),
      },
      load: meter.sample(),
    };
    progress(`${label}: numpy (book's code, ${sampledCount(samples)} parameters timed): ~${formatMsShort(ms.median)} ms per gradient extrapolated${loadNote(numpyResult.load)}`);
  }

  const serial = [serialPartOf('trainer', measurements, cores), serialPartOf('library', libraryMeasurements, cores)].filter((part): part is SerialPart => part !== null);
  const figures = {
    measurements, epochs, peerEpoch, serial,
    kernelRatio: kernelRatioOf(measurements),
    libraryPattern: { description: LIBRARY_PATTERN_DESCRIPTION, gapMs: settings.libraryGapMs, measurements: libraryMeasurements },
  };
  const peerReason = settings.epochIterations === 0 ? null : peer.availability.reason;
  const goalsJudged = judgedByGoals(shape, batchSize);
  return {
    label, shape, batch: batchSize, parameters, loss, naivePool, ceiling, wakeAfterRound, amdahl, numpy: numpyResult, ...figures, goalsJudged, goals: goalChecks({ ...figures, ceiling, wakeAfterRound }, peerReason, goalsJudged),
  };
}

/** Runs every configuration of `settings`; the result validates against BENCH_RESULT_SCHEMA. */
export async function runBenchmark(options: RunOptions): Promise<BenchResult> {
  const { settings, dataset } = options;
  const progress = options.progress ?? (() => undefined);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const cores = machine.availableParallelism;
  const tooLarge = settings.batch.find((b) => b > dataset.train.rows);
  if (tooLarge !== undefined) {
    throw new InputError(`Expected \`--batch\` values of at most ${dataset.train.rows} (the training split of ${options.datasetName}), got \`${tooLarge}\``);
  }
  const overall = new LoadMeter(settings.busyThresholdCores);
  overall.start();
  const notes: string[] = [];
  let numpy: NumpyAvailability | null = null;
  const numpyMeta: NumpyMeta = { blas: null, env: null };
  if (settings.withNumpy) {
    numpy = checkNumpy(settings.python);
    if (!numpy.available) {
      notes.push(`numpy comparison skipped: ${numpy.reason}`);
      progress(`numpy unavailable, continuing without it: ${numpy.reason}`);
    }
  }
  // The optional peer of the epoch line, only when epochs are measured.
  const peer: Peer = settings.epochIterations === 0
    ? { availability: { attempted: false, available: false, reason: 'epochs not measured (--epoch-iters 0)', version: null, backend: null }, tf: null }
    : await loadTfjs();
  if (peer.availability.attempted) {
    progress(peer.availability.available ? `tfjs peer: ${TFJS_PACKAGE} ${peer.availability.version} on ${peer.availability.backend}` : `tfjs peer not available, continuing without it: ${peer.availability.reason}`);
  }
  const wakeRoundTrip = await measureWakeRoundTrip(WAKE_ROUND_TRIPS, WAKE_PAUSE_MILLISECONDS);
  progress(`wake-up round trip to a sleeping worker: median ${formatMsShort(wakeRoundTrip.ms.median)} ms (min ${formatMsShort(wakeRoundTrip.ms.min)} ms)`);
  const configurations: ConfigurationResult[] = [];
  for (const hidden of settings.hidden) {
    for (const batchSize of settings.batch) {
      if (options.signal?.aborted === true) break;
      configurations.push(await measureConfiguration(hidden, batchSize, options, numpy, numpyMeta, peer, cores, progress));
    }
  }
  overall.stop();
  const overallLoad = overall.sample();

  const allLoads = configurations.flatMap((c) => [
    ...c.measurements.map((m) => m.load), ...c.libraryPattern.measurements.map((m) => m.load), ...c.epochs.flatMap((e) => (e.load ? [e.load] : [])),
    ...(c.numpy ? [c.numpy.load] : []), ...(c.peerEpoch ? [c.peerEpoch.load] : []),
  ]);
  const busyMeasurements = allLoads.filter((load) => load.busy).length;
  if (settings.threads.some((n) => n > cores)) notes.push(`Thread counts above ${cores} (os.availableParallelism()) oversubscribe the cores: shown to see the cost, left out of the Amdahl fit.`);
  notes.push('Naive TypeScript times are extrapolated from a sample of parameters of every tensor (each parameter costs the same two forward passes) unless marked measured.');
  if (settings.epochIterations !== 0) {
    const methods = new Set(configurations.flatMap((c) => c.epochs.filter((e) => e.engine !== 'naive').map((e) => e.method)));
    notes.push(`Epoch times: ${[...methods].map((m) => (m === 'measured' ? 'measured = one whole Trainer epoch run and timed' : 'extrapolated = a few timed Trainer iterations × iterations per epoch + one timed evaluation')).join('; ')}; the naive epoch is computed from its gradient time.`);
  }
  const interrupted = options.signal?.aborted === true;
  if (interrupted) {
    const planned = settings.hidden.length * settings.batch.length;
    notes.push(`Interrupted (Ctrl-C): ${configurations.length} of ${planned} configuration(s), each with the rounds measured before the interruption (fewer than --reps) and without the phases not yet started.`);
  }
  if (busyMeasurements > 0 || overallLoad.busy) notes.push(`${busyMeasurements} measurement(s) ran while other processes kept the machine busy: treat them as unreliable.`);

  return {
    schemaVersion: BENCH_SCHEMA_VERSION,
    tool: 'gradpool bench',
    interrupted,
    startedAt,
    finishedAt: new Date().toISOString(),
    wallMilliseconds: performance.now() - started,
    argv: options.argv,
    machine,
    settings,
    dataset: {
      name: options.datasetName, trainRows: dataset.train.rows, testRows: dataset.test.rows, inputSize: dataset.inputSize, classes: dataset.classes,
      batchSource: BATCH_SOURCE,
    },
    numpy: {
      requested: settings.withNumpy,
      available: numpy?.available ?? false,
      reason: numpy === null ? 'not requested (--with-numpy)' : numpy.reason,
      pythonVersion: numpy?.pythonVersion ?? null,
      numpyVersion: numpy?.numpyVersion ?? null,
      blas: numpyMeta.blas,
      env: numpyMeta.env,
    },
    tfjs: peer.availability,
    wakeRoundTrip,
    configurations,
    load: { overall: overallLoad, busyMeasurements, unreliable: busyMeasurements > 0 || overallLoad.busy, thresholdCores: settings.busyThresholdCores },
    notes,
    outputs: { json: null, chart: null },
  };
}

/**
 * Whether the naive engine is also timed in full in the pools: only when the
 * main-thread extrapolation says one gradient fits `naivePoolBudgetMs`.
 */
export function naivePoolDecision(
  naiveMs: number,
  settings: Pick<BenchSettings, 'threads' | 'naiveReps' | 'warmup' | 'naivePoolBudgetMs'>,
): { measured: boolean; reason: string } {
  const naiveEstimate = naiveMs * settings.threads.reduce((sum, n) => sum + (settings.naiveReps + Math.min(settings.warmup, 1)) / n, 0);
  return naiveMs <= settings.naivePoolBudgetMs
    ? { measured: true, reason: `estimated ${formatMsShort(naiveMs)} ms per gradient on one thread ≤ ${settings.naivePoolBudgetMs} ms: timed in full in the pool (~${formatMsShort(naiveEstimate)} ms in all)` }
    : { measured: false, reason: `estimated ${formatMsShort(naiveMs)} ms per gradient on one thread > ${settings.naivePoolBudgetMs} ms: not timed in full; the main-thread sample is extrapolated` };
}
