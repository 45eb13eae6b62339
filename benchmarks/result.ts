/**
 * The JSON that `gradpool bench` writes (`--json`, `--out FILE.json`): a
 * TypeScript interface and the equivalent JSON Schema (`BENCH_RESULT_SCHEMA`,
 * printed by `gradpool bench --schema`). All times are milliseconds; numbers
 * that cannot be computed are `null`, never NaN.
 */
import type { AmdahlFit, SpeedupPoint } from './amdahl.js';
import type { JsonSchema } from './json-schema.js';
import { validateJson } from './json-schema.js';
import { ENGINES, type Engine } from '../src/engine.js';
import type { LoadSample, MachineInfo } from './machine.js';
import type { SerialParts } from './serial-parts.js';
import type { WakeRoundTrip } from './wake-round-trip.js';

/** 2: kernelRatio, serial, libraryPattern, peerEpoch, goals per configuration; tfjs and settings.libraryGapMs at the top. 3: wakeRoundTrip. 4: serialParts and msByBlockPosition of each measurement. 5: ceiling[].split. 6: overheadMsByBlockPosition. 7: goal rows ofCeilingAllowedTrainer/Library, goalsJudged (another net or batch than the goals': every status info). 8: serialParts.wakeUpsMs, slowestTaskMs of each measurement, goal rows amdahlAt16WakeUpsOnly and ofCeilingFloorLibrary. 9: epochs[].gradientCalls, goal row serialMsTrainerRun. 10: wakeRoundTrip.workers, configurations[].wakeAfterRound, goal row wakeAfterRoundMs. */
export const BENCH_SCHEMA_VERSION = 10;

export interface TimingSummary {
  median: number;
  min: number;
  max: number;
  mean: number;
  /** Every timed repetition, in order. */
  samples: number[];
}

/** Milliseconds per gradient of one engine on one thread count. */
export interface EngineMeasurement {
  engine: Engine;
  /** `pool`: a GradientPool of `threads` workers; `main-thread`: called directly, one thread. */
  where: 'pool' | 'main-thread';
  threads: number;
  /** `measured`: full gradients timed; `sampled-extrapolated`: a sample of parameters timed, scaled to all (naive only). */
  method: 'measured' | 'sampled-extrapolated';
  /** Parameters timed when sampled, else null. */
  sampledParameters: number | null;
  reps: number;
  warmup: number;
  msPerGradient: TimingSummary;
  /** Median at 1 thread / median here, same engine in the pool; null on the main thread. */
  speedup: number | null;
  /** speedup / threads; null on the main thread. */
  efficiency: number | null;
  /** Min at 1 thread / min here: the best case, less sensitive to interference than the medians; null on the main thread. */
  speedupOfMin: number | null;
  /** More threads than `os.availableParallelism()`. */
  oversubscribed: boolean;
  /** The serial part of a call: median of (wall time − slowest worker's task time): dispatch, wake-up, main-thread work, collecting. Pool only. */
  overheadMs: number | null;
  /** Median of the slowest worker's task time per call: the part of a call the serial part is not. Pool only, null unless the calls reported their tasks. */
  slowestTaskMs: number | null;
  /** The serial part split where it goes (serial-parts.ts), medians; null unless the calls were served (incremental) in a pool. */
  serialParts: SerialParts | null;
  /**
   * Median ms of the calls at each place in their block of `--block` calls
   * (pool only): the first comes after the other pools' blocks and a round of
   * the ceiling (if measured), its threads asleep meanwhile (or its serving
   * session ended, after 200 ms); the later ones back to back.
   */
  msByBlockPosition: number[] | null;
  /**
   * The serial part (as `overheadMs`) of the calls at each place in their
   * block, medians: what waking threads that slept costs, against calls back
   * to back. Pool only; null unless every place has calls that reported their tasks.
   */
  overheadMsByBlockPosition: number[] | null;
  /** Median of (slowest / mean worker task time): 1 is a perfect split. Pool only. */
  imbalance: number | null;
  /** speedup / the machine's ceiling at this thread count (see CeilingMeasurement); null without one. Pool only. */
  ofCeiling: number | null;
  load: LoadSample;
}

/**
 * The machine's ceiling at one thread count: that many workers computing whole
 * gradients at once on private copies (same kernel, batch and weights), with
 * nothing shared: the most any split of the gradient could gain here.
 */
export interface CeilingMeasurement {
  threads: number;
  rounds: number;
  /** Whole gradients per worker per round. */
  gradientsPerRound: number;
  /** One worker's ms per gradient while `threads` run at once, every worker of every round. */
  msPerGradient: TimingSummary;
  /** Median throughput of the rounds (all workers' gradients / time from the first start to the last end) / the median with one worker. */
  speedup: number | null;
  /**
   * The split alone (from 2 workers; null for one): the same workers splitting
   * each gradient as the pool's workers do (base parts, then chunks, over one
   * work board), gradient after gradient within one task, meeting at a barrier
   * before and after each: no dispatch, no main thread. What the split itself
   * gets of the ceiling; a pool call adds its dispatch and wake-ups to it.
   */
  split: {
    /** Wall ms per split gradient, per round (the slowest worker's span / gradients). */
    msPerGradient: TimingSummary;
    /** Median throughput of the rounds (gradients / the round's span) / the same one-worker median as `speedup`'s. */
    speedup: number | null;
    /** split.speedup / speedup. */
    ofCeiling: number | null;
  } | null;
  load: LoadSample;
}

/** Time per training epoch end to end. */
export interface EpochEstimate {
  engine: Engine;
  where: 'pool' | 'main-thread';
  threads: number;
  /**
   * `measured`: one whole epoch run by the Trainer and timed; `extrapolated`: some Trainer
   * iterations and one evaluation timed, scaled to an epoch; `computed`: from the gradient time alone.
   */
  method: 'measured' | 'extrapolated' | 'computed';
  description: string;
  iterationsPerEpoch: number;
  /** Trainer iterations timed (the whole epoch when measured, 0 when computed). */
  iterationsTimed: number;
  /** Mean milliseconds per iteration (gradient, update, batch loss). */
  msPerIteration: number;
  /** Milliseconds of the epoch evaluation (accuracy and loss on the train and test splits). */
  evaluationMs: number;
  /** iterationsPerEpoch × msPerIteration + evaluationMs. */
  epochMs: number;
  /** The Trainer's own gradient calls in the timed iterations (trainer-calls.ts); null on the main thread, or when no call reported its tasks. */
  gradientCalls: TrainerCalls | null;
  load: LoadSample | null;
}

/** A Trainer's gradient calls as it made them in an epoch's timed iterations, medians over the calls. */
export interface TrainerCalls {
  description: string;
  calls: number;
  /** Wall milliseconds per call, as the Trainer awaits it. */
  msPerCall: number;
  /** Wall − the slowest worker's task. */
  serialMs: number;
  slowestTaskMs: number;
  /** The serial part split along the worker of the slowest task (serial-parts.ts); null for calls that were not served. */
  serialParts: SerialParts | null;
}

export interface AmdahlResult extends AmdahlFit {
  engine: Engine;
  /** Only thread counts up to this many (the cores) were fitted. */
  coresLimit: number;
}

/** The book's numpy code on the same batch and weights. */
export interface NumpyComparison {
  method: 'sampled-extrapolated';
  sampledParameters: number;
  reps: number;
  msPerGradient: TimingSummary;
  /** The book's loss of the batch at the initial weights, computed by numpy. */
  loss: number;
  /** Largest |numpy − TypeScript naive| over the sampled gradient entries (same parameters). */
  maxAbsDifferenceVsTypeScriptNaive: number | null;
  ratios: {
    /** numpy ms / incremental ms at its fastest thread count: how much faster than the book's approach. */
    overIncrementalBest: number | null;
    incrementalBestThreads: number | null;
    overIncrementalOneThread: number | null;
    /** numpy ms / TypeScript naive ms (one thread, both extrapolated). */
    overTypeScriptNaive: number | null;
  };
  load: LoadSample;
}

/**
 * The kernel ratio: the incremental kernel on one thread ÷ backprop, both
 * called directly on the main thread, interleaved call by call on the same
 * batch and weights (the `incremental` and `backprop` main-thread rows).
 */
export interface KernelRatio {
  description: string;
  /** Median ms of the incremental kernel (base + all parameters), main thread. */
  incrementalMs: number;
  /** Median ms of backprop, main thread, interleaved with the above. */
  backpropMs: number;
  /** incrementalMs / backpropMs. */
  ratio: number | null;
  /** Median ms of a one-thread pool call (Trainer's pattern): the kernel plus the call's serial part. */
  poolOneThreadMs: number | null;
  /** poolOneThreadMs / backpropMs. */
  poolOneThreadRatio: number | null;
}

/**
 * The serial part of a pool call, measured directly: the median over calls of
 * (wall time of the call − the slowest worker's task time): dispatch, wake-up,
 * the main thread's work (and, in the library pattern, `net.prepare` and the
 * weight scan), collecting. Amdahl's law applied to the serial fraction
 * serialMs / oneThreadMs.
 */
export interface SerialPart {
  pattern: 'trainer' | 'library';
  /** The thread count whose serial ms is used: the largest measured within the cores. */
  threads: number;
  /** Median ms per call of (wall − slowest task) at `threads`. */
  serialMs: number;
  /** The same median at every thread count measured. */
  byThreads: Array<{ threads: number; serialMs: number }>;
  /** Median wall ms of a call on one thread, same pattern. */
  oneThreadMs: number;
  /** min(1, serialMs / oneThreadMs). */
  serialFraction: number;
  /** amdahlSpeedup(serialFraction, n) = 1 / (s + (1 − s) / n). */
  predictions: SpeedupPoint[];
}

/**
 * A library caller's pattern: plain `number[][]` rows and `number[]` labels
 * through `pool.numericalGradient(net, x, t)` (a fresh result per call), each
 * call preceded by `gapMs` of busy work on the main thread.
 */
export interface LibraryPattern {
  description: string;
  gapMs: number;
  /** Incremental engine, `where: 'pool'`, one row per thread count; speedup against this pattern's one thread, ofCeiling against the same ceiling. */
  measurements: EngineMeasurement[];
}

/** A peer library's epoch of the same net (backprop) on the same training digits. */
export interface PeerEpoch {
  library: string;
  version: string;
  backend: string;
  description: string;
  iterationsPerEpoch: number;
  msPerIteration: number;
  evaluationMs: number;
  epochMs: number;
  /** epochMs / gradpool's backprop epoch (main thread), same run; null without it. */
  overBackprop: number | null;
  load: LoadSample;
}

export const GOAL_IDS = [
  'kernelRatio', 'kernelRatioPool', 'serialMs', 'serialMsBackToBack', 'wakeAfterRoundMs', 'serialMsTrainerRun', 'serialMsLibrary', 'amdahlAt8', 'amdahlAt16', 'amdahlAt64', 'amdahlAt16WakeUpsOnly',
  'ofCeilingTrainer', 'ofCeilingLibrary', 'ofCeilingAllowedTrainer', 'ofCeilingAllowedLibrary', 'ofCeilingFloorLibrary', 'ofCeilingSplit', 'speedupLibrary', 'epochIncremental', 'epochBackprop', 'epochPeer',
] as const;

/** One figure of the goals block: its value, the goal and the must (when it has them), and whether they are met. */
export interface GoalCheck {
  id: (typeof GOAL_IDS)[number];
  figure: string;
  /** null: not measured in this run (e.g. no 2-thread pool, no peer). */
  value: number | null;
  unit: 'ratio' | 'ms' | 'fraction' | 'speedup';
  comparison: '<=' | '>=' | null;
  goal: number | null;
  must: number | null;
  /** met: the goal; must-met: only the must; missed: neither; info: a figure without a goal; n/a: no value. */
  status: 'met' | 'must-met' | 'missed' | 'info' | 'n/a';
  note: string | null;
}

export interface ConfigurationResult {
  /** e.g. `784-50-10 b100`. */
  label: string;
  shape: { inputSize: number; hiddenSize: number; outputSize: number; activation: 'sigmoid' | 'relu' };
  batch: number;
  parameters: number;
  /** Loss of the batch at the initial weights (a sanity check across runs). */
  loss: number;
  measurements: EngineMeasurement[];
  /** Whether the naive engine was also timed in full in the pool (only when cheap). */
  naivePool: { measured: boolean; reason: string };
  /** The machine's ceiling per thread count, a round after each of the pools' rounds; empty with --ceiling-gradients 0. */
  ceiling: CeilingMeasurement[];
  /** Waking threads asleep since the last round, once per round of the Trainer's pattern: what a block's first call pays the host; null if no round ran. */
  wakeAfterRound: WakeRoundTrip | null;
  epochs: EpochEstimate[];
  amdahl: AmdahlResult[];
  numpy: NumpyComparison | null;
  kernelRatio: KernelRatio;
  /** Trainer's pattern first, then the library pattern; empty without a one-thread pool. */
  serial: SerialPart[];
  libraryPattern: LibraryPattern;
  /** @tensorflow/tfjs on its wasm backend, when importable and epochs are measured. */
  peerEpoch: PeerEpoch | null;
  /** Whether the goals judge this configuration: only the book's 784-50-10 at batch 100 (goals.ts, `judgedByGoals`); otherwise every goal row with a value is `info`. */
  goalsJudged: boolean;
  goals: GoalCheck[];
}

export interface BenchSettings {
  threads: number[];
  hidden: number[];
  batch: number[];
  reps: number;
  /** Consecutive calls per pool in each round of the incremental engine. */
  block: number;
  naiveReps: number;
  warmup: number;
  naiveSamplePerTensor: number;
  /** null: a whole epoch when it is estimated within epochBudgetMs, else extrapolated; 0: no epochs; N: extrapolated from N iterations. */
  epochIterations: number | null;
  epochBudgetMs: number;
  busyThresholdCores: number;
  withNumpy: boolean;
  python: string;
  seed: number;
  weightInitStd: number;
  h: number;
  learningRate: number;
  /** The naive engine runs in full in the pool when one gradient is estimated below this on one thread. */
  naivePoolBudgetMs: number;
  /** Whole gradients per worker in each round of the machine's ceiling (0: no ceiling). */
  ceilingGradients: number;
  /** Busy main-thread work before each call of the library pattern. */
  libraryGapMs: number;
  quick: boolean;
}

export interface BenchResult {
  schemaVersion: typeof BENCH_SCHEMA_VERSION;
  tool: 'gradpool bench';
  /** Stopped by Ctrl-C: the configurations and rounds measured until then (see `notes`). */
  interrupted: boolean;
  startedAt: string;
  finishedAt: string;
  wallMilliseconds: number;
  argv: string[];
  machine: MachineInfo;
  settings: BenchSettings;
  dataset: { name: string; trainRows: number; testRows: number; inputSize: number; classes: number; batchSource: string };
  numpy: {
    requested: boolean;
    available: boolean;
    reason: string | null;
    pythonVersion: string | null;
    numpyVersion: string | null;
    blas: string | null;
    /** BLAS threading variables as numpy saw them (null: unset). Never changed by gradpool. */
    env: Record<string, string | null> | null;
  };
  /** The optional peer `@tensorflow/tfjs` + `@tensorflow/tfjs-backend-wasm` for the epoch line. */
  tfjs: { attempted: boolean; available: boolean; reason: string | null; version: string | null; backend: string | null };
  /** The machine's floor under a pool call's serial part (wake-round-trip.ts), measured before the configurations. */
  wakeRoundTrip: WakeRoundTrip;
  configurations: ConfigurationResult[];
  load: { overall: LoadSample; busyMeasurements: number; unreliable: boolean; thresholdCores: number };
  notes: string[];
  outputs: { json: string | null; chart: { svg: string; png: string } | null };
}

// Schema builders: every object is closed (additionalProperties: false) and all its properties are required.
const num: JsonSchema = { type: 'number' };
const nonNegative: JsonSchema = { type: 'number', minimum: 0 };
const int = (minimum = 0): JsonSchema => ({ type: 'integer', minimum });
const str: JsonSchema = { type: 'string' };
const bool: JsonSchema = { type: 'boolean' };
const nullable = (schema: JsonSchema): JsonSchema => ({ ...schema, type: [schema.type as 'number', 'null'] });
const array = (items: JsonSchema, minItems = 0): JsonSchema => ({ type: 'array', items, minItems });
const object = (properties: Record<string, JsonSchema>, description?: string): JsonSchema => ({
  type: 'object', ...(description ? { description } : {}), properties, required: Object.keys(properties), additionalProperties: false,
});
const oneOf = (...values: string[]): JsonSchema => ({ type: 'string', enum: values });

const timing = object({ median: nonNegative, min: nonNegative, max: nonNegative, mean: nonNegative, samples: array(nonNegative, 1) }, 'Milliseconds over the timed repetitions');

const loadSample = object({
  wallMilliseconds: nonNegative,
  windows: int(0),
  ownCores: nonNegative,
  othersCores: nullable(nonNegative),
  stealCores: nullable(nonNegative),
  resolutionCores: nullable(nonNegative),
  loadAverage1: object({ start: nonNegative, end: nonNegative }),
  busy: bool,
  reason: nullable(str),
}, 'CPU use while measuring; others = machine busy time (/proc/stat) − our process (process.cpuUsage)');

const engine = oneOf(...ENGINES);
const where = oneOf('pool', 'main-thread');

const wakeRoundTripFields = { description: str, workers: int(1), pauseMs: nonNegative, ms: timing };
const serialPartsSchema = object({ postMs: num, notifyMs: num, wakeMs: num, tailMs: num, seenMs: num, returnMs: num, wakeUpsMs: num },
  'The serial part of a served call split along the worker of its slowest task (medians, ms): posting, Atomics.notify, its wake-up, the later workers, the main thread seeing the last report, returning; wakeUpsMs = notify + wake-up + seeing, per call');

const measurement = object({
  engine, where, threads: int(1),
  method: oneOf('measured', 'sampled-extrapolated'),
  sampledParameters: nullable(int(1)),
  reps: int(1), warmup: int(0),
  msPerGradient: timing,
  speedup: nullable(nonNegative), efficiency: nullable(nonNegative), speedupOfMin: nullable(nonNegative),
  oversubscribed: bool,
  overheadMs: nullable(num),
  slowestTaskMs: { ...nullable(nonNegative), description: 'Pool only: median of the slowest worker\'s task time per call (ms); null unless the calls reported their tasks' },
  serialParts: nullable(serialPartsSchema),
  msByBlockPosition: {
    ...nullable(array(nonNegative)),
    description: 'Pool only: median ms of the calls at each place in their block of --block calls; the first follows the other pools\' blocks and a round of the ceiling, the later ones are back to back',
  },
  overheadMsByBlockPosition: {
    ...nullable(array(num)),
    description: 'Pool only: the serial part (wall − slowest task) of the calls at each place in their block, medians; null unless every place has calls that reported their tasks',
  },
  imbalance: nullable(nonNegative), ofCeiling: nullable(nonNegative),
  load: loadSample,
});

const speedupPoint = object({ threads: int(1), speedup: nonNegative });

export const BENCH_RESULT_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `urn:gradpool:bench-result:${BENCH_SCHEMA_VERSION}`,
  title: 'gradpool bench result',
  ...object({
    schemaVersion: { type: 'integer', const: BENCH_SCHEMA_VERSION },
    tool: { type: 'string', const: 'gradpool bench' },
    interrupted: bool,
    startedAt: { type: 'string', minLength: 20 },
    finishedAt: { type: 'string', minLength: 20 },
    wallMilliseconds: nonNegative,
    argv: array(str),
    machine: object({
      cpuModel: str, logicalCores: int(1), availableParallelism: int(1), nodeVersion: str, v8Version: str,
      platform: str, arch: str, osRelease: str, totalMemoryBytes: nonNegative, loadAverageAtStart: array(nonNegative),
    }),
    settings: object({
      threads: array(int(1), 1), hidden: array(int(1), 1), batch: array(int(1), 1), reps: int(1), block: int(1), naiveReps: int(1), warmup: int(0),
      naiveSamplePerTensor: int(1), epochIterations: nullable(int(0)), epochBudgetMs: nonNegative, busyThresholdCores: nonNegative, withNumpy: bool, python: str,
      seed: int(0), weightInitStd: nonNegative, h: nonNegative, learningRate: nonNegative, naivePoolBudgetMs: nonNegative, ceilingGradients: int(0), libraryGapMs: nonNegative, quick: bool,
    }),
    dataset: object({ name: str, trainRows: int(1), testRows: int(0), inputSize: int(1), classes: int(2), batchSource: str }),
    numpy: object({
      requested: bool, available: bool, reason: nullable(str), pythonVersion: nullable(str), numpyVersion: nullable(str), blas: nullable(str),
      env: { type: ['object', 'null'], additionalProperties: { type: ['string', 'null'] } },
    }),
    tfjs: object({ attempted: bool, available: bool, reason: nullable(str), version: nullable(str), backend: nullable(str) }),
    wakeRoundTrip: object(wakeRoundTripFields, 'Waking a sleeping worker thread and being woken back, as a served pool call does: the floor under its serial part'),
    configurations: array(object({
      label: str,
      shape: object({ inputSize: int(1), hiddenSize: int(1), outputSize: int(2), activation: oneOf('sigmoid', 'relu') }),
      batch: int(1),
      parameters: int(1),
      loss: num,
      measurements: array(measurement, 1),
      naivePool: object({ measured: bool, reason: str }),
      ceiling: array(object({
        threads: int(1), rounds: int(1), gradientsPerRound: int(1), msPerGradient: timing, speedup: nullable(nonNegative),
        split: nullable(object({ msPerGradient: timing, speedup: nullable(nonNegative), ofCeiling: nullable(nonNegative) },
          'The split alone: the same workers splitting each gradient as the pool does, within one task, no dispatch')),
        load: loadSample,
      })),
      wakeAfterRound: nullable(object(wakeRoundTripFields, 'Waking threads asleep since the last round, once per round of the Trainer\'s pattern: what the first call of a block pays the host')),
      epochs: array(object({
        engine, where, threads: int(1),
        method: oneOf('measured', 'extrapolated', 'computed'),
        description: str,
        iterationsPerEpoch: int(1), iterationsTimed: int(0),
        msPerIteration: nonNegative, evaluationMs: nonNegative, epochMs: nonNegative,
        gradientCalls: nullable(object({
          description: str, calls: int(1), msPerCall: nonNegative, serialMs: num, slowestTaskMs: nonNegative, serialParts: nullable(serialPartsSchema),
        }, 'The Trainer\'s own gradient calls in the timed iterations (medians, ms); null on the main thread')),
        load: { ...loadSample, type: ['object', 'null'] },
      })),
      amdahl: array(object({
        engine, coresLimit: int(1),
        serialFraction: { type: 'number', minimum: 0, maximum: 1 },
        rmse: nonNegative,
        threadsUsed: array(int(1), 1),
        predictions: array(speedupPoint),
      })),
      numpy: {
        ...object({
          method: { type: 'string', const: 'sampled-extrapolated' },
          sampledParameters: int(1), reps: int(1), msPerGradient: timing, loss: num,
          maxAbsDifferenceVsTypeScriptNaive: nullable(nonNegative),
          ratios: object({
            overIncrementalBest: nullable(nonNegative), incrementalBestThreads: nullable(int(1)),
            overIncrementalOneThread: nullable(nonNegative), overTypeScriptNaive: nullable(nonNegative),
          }),
          load: loadSample,
        }),
        type: ['object', 'null'],
      },
      kernelRatio: object({
        description: str, incrementalMs: nonNegative, backpropMs: nonNegative, ratio: nullable(nonNegative),
        poolOneThreadMs: nullable(nonNegative), poolOneThreadRatio: nullable(nonNegative),
      }, 'Incremental kernel on one thread ÷ backprop, interleaved on the main thread, same batch'),
      serial: array(object({
        pattern: oneOf('trainer', 'library'), threads: int(1), serialMs: num,
        byThreads: array(object({ threads: int(1), serialMs: num })),
        oneThreadMs: nonNegative, serialFraction: { type: 'number', minimum: 0, maximum: 1 },
        predictions: array(speedupPoint),
      }, 'Serial part of a pool call: median of (wall − slowest task), and Amdahl from serialMs / oneThreadMs')),
      libraryPattern: object({ description: str, gapMs: nonNegative, measurements: array(measurement) }),
      peerEpoch: {
        ...object({
          library: str, version: str, backend: str, description: str, iterationsPerEpoch: int(1),
          msPerIteration: nonNegative, evaluationMs: nonNegative, epochMs: nonNegative, overBackprop: nullable(nonNegative), load: loadSample,
        }),
        type: ['object', 'null'],
      },
      goalsJudged: { type: 'boolean', description: 'The goals judge only the book\'s TwoLayerNet 784-50-10 at batch 100; for any other configuration every goal row with a value is info' },
      goals: array(object({
        id: oneOf(...GOAL_IDS), figure: str, value: nullable(num), unit: oneOf('ratio', 'ms', 'fraction', 'speedup'),
        comparison: { type: ['string', 'null'], enum: ['<=', '>=', null] }, goal: nullable(num), must: nullable(num),
        status: oneOf('met', 'must-met', 'missed', 'info', 'n/a'), note: nullable(str),
      })),
    }), 1),
    load: object({ overall: loadSample, busyMeasurements: int(0), unreliable: bool, thresholdCores: nonNegative }),
    notes: array(str),
    outputs: object({
      json: nullable(str),
      chart: { ...object({ svg: str, png: str }), type: ['object', 'null'] },
    }),
  }),
};

/** Where `value` breaks the documented shape (empty when it is a valid BenchResult). */
export function validateBenchResult(value: unknown): string[] {
  return validateJson(BENCH_RESULT_SCHEMA, value);
}
