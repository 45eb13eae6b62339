/**
 * The figures issue 12 sets goals for, computed from one run's measurements
 * (nothing here is timed): the kernel ratio, the serial part of a pool call
 * and Amdahl's law applied to it, the share of the machine's ceiling in the
 * Trainer's and a library caller's pattern, and the epoch times; each with its
 * goal, its must and whether they are met.
 */
import { SERVE_IDLE_MILLISECONDS } from '../src/parallel/serving.js';
import { AMDAHL_PREDICT_AT, amdahlSpeedup, serialFractionFor } from './amdahl.js';
import type { ConfigurationResult, EngineMeasurement, GoalCheck, KernelRatio, SerialPart } from './result.js';

/** The goals (and the musts) of issue 12. */
export const GOALS = {
  /** Incremental kernel on one thread ÷ backprop. */
  kernelRatio: { comparison: '<=', goal: 2.5, must: 3.5 },
  /** Serial ms per pool call (Trainer's pattern). */
  serialMs: { comparison: '<=', goal: 0.1, must: 0.25 },
  /** Amdahl's speedup at 16 threads from the measured serial fraction. */
  amdahlAt16: { comparison: '>=', goal: 12, must: null },
  /** Speedup ÷ the machine's ceiling at 2 threads, either pattern. */
  ofCeiling: { comparison: '>=', goal: 0.9, must: null },
} as const satisfies Record<string, { comparison: '<=' | '>='; goal: number; must: number | null }>;

/** The net and batch issue 12 sets its goals for: the book's TwoLayerNet(784-50-10) at batch 100. */
export const GOAL_CONFIGURATION = { inputSize: 784, hiddenSize: 50, outputSize: 10, batch: 100 } as const;

/** Whether the goals judge a configuration: only the book's net at batch 100 (not `--quick`'s 784-4-10, not other sizes). */
export function judgedByGoals(shape: { inputSize: number; hiddenSize: number; outputSize: number }, batch: number): boolean {
  return shape.inputSize === GOAL_CONFIGURATION.inputSize && shape.hiddenSize === GOAL_CONFIGURATION.hiddenSize
    && shape.outputSize === GOAL_CONFIGURATION.outputSize && batch === GOAL_CONFIGURATION.batch;
}

/** The thread count the of-ceiling goals are read at. */
export const OF_CEILING_THREADS = 2;

/** Whether `value` meets the goal, only the must, or neither; `info` without a goal, `n/a` without a value. */
export function goalStatus(value: number | null, comparison: '<=' | '>=' | null, goal: number | null, must: number | null): GoalCheck['status'] {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  if (comparison === null || goal === null) return 'info';
  const meets = (limit: number) => (comparison === '<=' ? value <= limit : value >= limit);
  if (meets(goal)) return 'met';
  return must !== null && meets(must) ? 'must-met' : 'missed';
}

/** The incremental engine's pool rows, by thread count. */
export const poolRows = (measurements: readonly EngineMeasurement[]) => measurements
  .filter((m) => m.engine === 'incremental' && m.where === 'pool')
  .sort((a, b) => a.threads - b.threads);

/** incremental ÷ backprop from the main-thread rows (interleaved), and the one-thread pool call ÷ backprop. */
export function kernelRatioOf(measurements: readonly EngineMeasurement[]): KernelRatio {
  const main = (engine: string) => measurements.find((m) => m.engine === engine && m.where === 'main-thread');
  const incremental = main('incremental');
  const backprop = main('backprop');
  const poolOne = poolRows(measurements).find((m) => m.threads === 1);
  const incrementalMs = incremental?.msPerGradient.median ?? Number.NaN;
  const backpropMs = backprop?.msPerGradient.median ?? Number.NaN;
  const ratio = incrementalMs / backpropMs;
  const poolRatio = (poolOne?.msPerGradient.median ?? Number.NaN) / backpropMs;
  return {
    description: 'median ms of the incremental kernel (base + every parameter) on the main thread ÷ median ms of backprop, timed interleaved call by call on the same batch and weights',
    incrementalMs,
    backpropMs,
    ratio: Number.isFinite(ratio) ? ratio : null,
    poolOneThreadMs: poolOne?.msPerGradient.median ?? null,
    poolOneThreadRatio: Number.isFinite(poolRatio) ? poolRatio : null,
  };
}

/**
 * The serial part of a call from the pool rows of one pattern: the median
 * (wall − slowest task) at the largest thread count within the cores, over the
 * median wall time on one thread, and Amdahl's law for that fraction. Null
 * without a one-thread row that reported its tasks.
 */
export function serialPartOf(pattern: SerialPart['pattern'], measurements: readonly EngineMeasurement[], cores: number, predictAt: readonly number[] = AMDAHL_PREDICT_AT): SerialPart | null {
  const rows = poolRows(measurements).filter((m) => m.overheadMs !== null);
  const one = rows.find((m) => m.threads === 1);
  if (one === undefined) return null;
  const at = rows.filter((m) => m.threads <= cores).at(-1) ?? one;
  const serialMs = at.overheadMs as number;
  const oneThreadMs = one.msPerGradient.median;
  const serialFraction = Math.min(1, Math.max(0, serialMs / oneThreadMs));
  return {
    pattern,
    threads: at.threads,
    serialMs,
    byThreads: rows.map((m) => ({ threads: m.threads, serialMs: m.overheadMs as number })),
    oneThreadMs,
    serialFraction,
    predictions: predictAt.map((threads) => ({ threads, speedup: amdahlSpeedup(serialFraction, threads) })),
  };
}

/**
 * The share of the ceiling `c` that a pattern's calls could reach at most with
 * their serial parts as measured, were their tasks split at the ceiling itself:
 * T₁ / (s₂ + (T₁ − s₁)/c) / c, where T₁ is the median call on one thread, s₁
 * its serial part and s₂ the serial part at the thread count of `c`. What the
 * serial part alone costs of the ceiling, beside what the pattern got.
 */
export function ofCeilingAllowed(oneThreadMs: number, oneThreadSerialMs: number, serialMs: number, ceiling: number): number {
  const tasksMs = Math.max(0, oneThreadMs - oneThreadSerialMs);
  return oneThreadMs / (serialMs + tasksMs / ceiling) / ceiling;
}

/**
 * The share of the ceiling a pattern's calls would get were the serial part
 * only the threads' wake-ups: (task₁ + wake₁) / (task₂ + wake₂) / ceiling,
 * each the median slowest task and the median wake-ups per call (a sum of
 * medians), as measured: the tasks after the caller's other work, as slow as it
 * left them, and holding the new result array the main thread makes meanwhile.
 */
function libraryFloor(one: EngineMeasurement | undefined, two: EngineMeasurement | undefined, ceiling: number | null): { value: number | null; note: string } {
  const parts = (m: EngineMeasurement | undefined) => (m?.slowestTaskMs == null || m.serialParts == null ? null : { taskMs: m.slowestTaskMs, wakeUpsMs: m.serialParts.wakeUpsMs });
  const a = parts(one);
  const b = parts(two);
  if (a === null || b === null || ceiling === null) return { value: null, note: `no served one-thread or ${OF_CEILING_THREADS}-thread pool row, or no ceiling` };
  const tasksAlone = a.taskMs / b.taskMs / ceiling;
  return {
    value: (a.taskMs + a.wakeUpsMs) / (b.taskMs + b.wakeUpsMs) / ceiling,
    note: `its tasks alone ${(tasksAlone * 100).toFixed(0)} % (slowest task ${a.taskMs.toFixed(3)} ms on 1 thread, ${b.taskMs.toFixed(3)} on ${OF_CEILING_THREADS}); wake-ups ${a.wakeUpsMs.toFixed(3)} and ${b.wakeUpsMs.toFixed(3)} ms on 1 and ${OF_CEILING_THREADS} threads (sums of medians)`,
  };
}

/**
 * What rounds of `pauseMs` mean for the pools' first calls: a serving session
 * ends after SERVE_IDLE_MILLISECONDS without a call, and a pool's gap between
 * its blocks is a round give or take the other pools' blocks (they rotate).
 * Null when the rounds are well within it.
 */
export function sessionEndNote(pauseMs: number): string | null {
  if (pauseMs > SERVE_IDLE_MILLISECONDS) return `rounds this long outlast a serving session's ${SERVE_IDLE_MILLISECONDS} ms idle end: most first calls also start a new session`;
  if (pauseMs > 0.75 * SERVE_IDLE_MILLISECONDS) return `rounds this long come near a serving session's ${SERVE_IDLE_MILLISECONDS} ms idle end: some first calls may also start a new session`;
  return null;
}

type Figures = Pick<ConfigurationResult, 'measurements' | 'ceiling' | 'kernelRatio' | 'serial' | 'libraryPattern' | 'epochs' | 'peerEpoch'> & Partial<Pick<ConfigurationResult, 'wakeAfterRound'>>;

/**
 * The goals block of a configuration; `peerReason` says why there is no peer
 * epoch (null: epochs not measured). Not `judged` (another net or batch than
 * the goals are for), every figure with a value is `info`: its goal is shown
 * beside it, not met or missed.
 */
export function goalChecks(c: Figures, peerReason: string | null, judged = true): GoalCheck[] {
  const checks: GoalCheck[] = [];
  const add = (
    id: GoalCheck['id'], figure: string, value: number | null, unit: GoalCheck['unit'],
    target: { comparison: '<=' | '>='; goal: number; must: number | null } | null, note: string | null = null,
  ) => {
    const comparison = target?.comparison ?? null;
    const goal = target?.goal ?? null;
    const must = target?.must ?? null;
    const status = judged ? goalStatus(value, comparison, goal, must) : goalStatus(value, null, null, null);
    checks.push({ id, figure, value, unit, comparison, goal, must, status, note });
  };

  add('kernelRatio', 'kernel ratio: incremental on 1 thread ÷ backprop (main thread, interleaved, same batch)', c.kernelRatio.ratio, 'ratio', GOALS.kernelRatio);
  add('kernelRatioPool', 'a one-thread pool call ÷ backprop (kernel + the call\'s serial part)', c.kernelRatio.poolOneThreadRatio, 'ratio', null);

  const trainer = c.serial.find((s) => s.pattern === 'trainer') ?? null;
  const library = c.serial.find((s) => s.pattern === 'library') ?? null;
  add('serialMs', `serial part of a pool call, Trainer's pattern${trainer ? ` (${trainer.threads} thread${trainer.threads === 1 ? '' : 's'})` : ''}, median ms per call`, trainer?.serialMs ?? null, 'ms', GOALS.serialMs,
    trainer ? `wall − slowest task; serial fraction ${trainer.serialFraction.toFixed(4)} of ${trainer.oneThreadMs.toFixed(2)} ms on 1 thread` : 'no one-thread pool row');
  const trainerRow = trainer === null ? undefined : poolRows(c.measurements).find((m) => m.threads === trainer.threads);
  const byPlace = trainerRow?.overheadMsByBlockPosition ?? null;
  add('serialMsBackToBack', `serial part of a pool call, Trainer's pattern${trainer ? ` (${trainer.threads} thread${trainer.threads === 1 ? '' : 's'})` : ''}, the last place in the block (back to back)`,
    byPlace !== null && byPlace.length > 1 ? byPlace.at(-1)! : null, 'ms', null,
    byPlace !== null && byPlace.length > 1 ? `median ms at each place: ${byPlace.map((ms) => ms.toFixed(3)).join(', ')}; the first follows the threads' sleep`
      : (trainerRow?.msByBlockPosition?.length ?? 0) > 1 ? 'no serial part by place (calls that reported no tasks)' : 'blocks of one call: no call back to back');
  // What the host alone takes to wake threads that slept about as long as a pool's between its blocks: the host's part of a block's first calls.
  const wake = c.wakeAfterRound ?? null;
  const sessionEnd = wake === null ? null : sessionEndNote(wake.pauseMs);
  add('wakeAfterRoundMs', `the host's wake-up of ${wake === null ? 'threads' : `${wake.workers} thread${wake.workers === 1 ? '' : 's'}`} asleep about as long as a pool's between its blocks (nothing else running), median ms`, wake?.ms.median ?? null, 'ms', null,
    wake === null ? 'not measured (no round ran)'
      : `asleep ${wake.pauseMs.toFixed(1)} ms (median), woken once per round; ${byPlace !== null && byPlace.length > 1 ? `the first place's serial part ${byPlace[0].toFixed(3)} ms, the last's ${byPlace.at(-1)!.toFixed(3)} ms` : 'no serial part by place'}`
        + (sessionEnd === null ? '' : `; ${sessionEnd}`));
  // The Trainer's own calls in its timed epoch, at the serial part's thread count: the bench's blocks aside (their first calls follow a pause).
  const runThreads = trainer?.threads ?? null;
  const runEpoch = runThreads === null ? null : c.epochs.find((e) => e.engine === 'incremental' && e.where === 'pool' && e.threads === runThreads) ?? null;
  const runCalls = runEpoch?.gradientCalls ?? null;
  add('serialMsTrainerRun', `serial part of a pool call, the Trainer's own gradient calls in its timed epoch${runThreads === null ? '' : ` (${runThreads} thread${runThreads === 1 ? '' : 's'})`}, median ms per call`, runCalls?.serialMs ?? null, 'ms', null,
    runCalls !== null
      ? `${runCalls.calls} calls (${runEpoch!.method} epoch), each after the Trainer's update, batch loss and next batch; wall ${runCalls.msPerCall.toFixed(3)} ms, slowest task ${runCalls.slowestTaskMs.toFixed(3)} ms${runCalls.serialParts === null ? '' : `, wake-ups ${runCalls.serialParts.wakeUpsMs.toFixed(3)} ms`}`
      : runThreads === null ? 'no one-thread pool row' : runEpoch === null ? `no incremental epoch at ${runThreads} thread${runThreads === 1 ? '' : 's'} (epochs not measured)` : 'no gradient call of the epoch reported its tasks');
  add('serialMsLibrary', `serial part of a pool call, library pattern${library ? ` (${library.threads} thread${library.threads === 1 ? '' : 's'})` : ''}, median ms per call`, library?.serialMs ?? null, 'ms', null,
    'includes net.prepare of the number[][] batch, the weight scan and the copy into the new result');
  for (const threads of AMDAHL_PREDICT_AT) {
    const id = `amdahlAt${threads}` as GoalCheck['id'];
    const speedup = trainer?.predictions.find((p) => p.threads === threads)?.speedup ?? null;
    const target = threads === 16 ? GOALS.amdahlAt16 : null;
    // What the goal asks of the serial part, in this run's milliseconds: the figure to hold beside the machine's wake-up round trip.
    let note: string | null = null;
    if (target !== null && trainer !== null) {
      const fraction = serialFractionFor(target.goal, threads);
      note = `${target.goal}× needs a serial part ≤ ${(fraction * trainer.oneThreadMs).toFixed(3)} ms (fraction ≤ ${fraction.toFixed(4)}) of this run's ${trainer.oneThreadMs.toFixed(2)} ms one-thread call`;
    }
    add(id, `Amdahl's law at ${threads} threads from the measured serial fraction (Trainer's pattern)`, speedup, 'speedup', target, note);
  }
  // The same law with only the threads' wake-ups as the serial part (as measured at the serial part's thread count, the threads
  // sleeping between calls): what trimming the call's own code cannot pass here without changing how the threads wait.
  const wakeUps = trainerRow?.serialParts?.wakeUpsMs ?? null;
  const wakeUpsOnly = trainer === null || wakeUps === null ? null : amdahlSpeedup(Math.min(1, Math.max(0, wakeUps / trainer.oneThreadMs)), 16);
  add('amdahlAt16WakeUpsOnly', 'Amdahl\'s law at 16 threads were the serial part only the threads\' wake-ups (Trainer\'s pattern, the threads sleeping between calls)', wakeUpsOnly, 'speedup', null,
    trainer === null ? 'no one-thread pool row that reported its tasks' : wakeUps === null ? 'no served pool row at the serial part\'s thread count'
      : `Atomics.notify + the worker's wake-up + the main thread's: ${wakeUps.toFixed(3)} ms of the ${trainer.serialMs.toFixed(3)} ms serial part at ${trainer.threads} thread${trainer.threads === 1 ? '' : 's'} (median per call); `
        + `${GOALS.amdahlAt16.goal}× at 16 threads needs a serial part ≤ ${(serialFractionFor(GOALS.amdahlAt16.goal, 16) * trainer.oneThreadMs).toFixed(3)} ms`);

  const at = (threads: number) => (rows: readonly EngineMeasurement[]) => rows.find((m) => m.engine === 'incremental' && m.where === 'pool' && m.threads === threads);
  const atOne = at(1);
  const atTwo = at(OF_CEILING_THREADS);
  const trainerTwo = atTwo(c.measurements);
  const libraryTwo = atTwo(c.libraryPattern.measurements);
  const noTwo = `no ${OF_CEILING_THREADS}-thread pool or no ceiling in this run`;
  add('ofCeilingTrainer', `of ceiling at ${OF_CEILING_THREADS} threads, Trainer's pattern (speedup ÷ the machine's ceiling)`, trainerTwo?.ofCeiling ?? null, 'fraction', GOALS.ofCeiling,
    trainerTwo?.ofCeiling != null ? `speedup ${trainerTwo.speedup?.toFixed(2)}×` : noTwo);
  add('ofCeilingLibrary', `of ceiling at ${OF_CEILING_THREADS} threads, library pattern (speedup ÷ the machine's ceiling)`, libraryTwo?.ofCeiling ?? null, 'fraction', GOALS.ofCeiling,
    libraryTwo?.ofCeiling != null ? `speedup ${libraryTwo.speedup?.toFixed(2)}×` : noTwo);
  const ceilingTwo = c.ceiling.find((m) => m.threads === OF_CEILING_THREADS)?.speedup ?? null;
  const allowed = (rows: readonly EngineMeasurement[], two: EngineMeasurement | undefined): { value: number | null; note: string } => {
    const one = atOne(rows);
    if (one?.overheadMs == null) return { value: null, note: 'no one-thread pool row that reported its tasks' };
    if (two?.overheadMs == null || ceilingTwo === null) return { value: null, note: noTwo };
    return {
      value: ofCeilingAllowed(one.msPerGradient.median, one.overheadMs, two.overheadMs, ceilingTwo),
      note: `serial ${two.overheadMs.toFixed(3)} ms of a ${one.msPerGradient.median.toFixed(3)} ms one-thread call (${one.overheadMs.toFixed(3)} of it serial), ceiling ${ceilingTwo.toFixed(2)}×`,
    };
  };
  const allowedTrainer = allowed(c.measurements, trainerTwo);
  add('ofCeilingAllowedTrainer', `of ceiling at ${OF_CEILING_THREADS} threads the serial part allows, Trainer's pattern (its tasks split at the ceiling)`, allowedTrainer.value, 'fraction', null, allowedTrainer.note);
  const allowedLibrary = allowed(c.libraryPattern.measurements, libraryTwo);
  add('ofCeilingAllowedLibrary', `of ceiling at ${OF_CEILING_THREADS} threads the serial part allows, library pattern (its tasks split at the ceiling)`, allowedLibrary.value, 'fraction', null, allowedLibrary.note);
  const floorLibrary = libraryFloor(atOne(c.libraryPattern.measurements), libraryTwo, ceilingTwo);
  add('ofCeilingFloorLibrary', `of ceiling at ${OF_CEILING_THREADS} threads the library pattern's tasks and wake-ups allow (no conversion, checks or copy into the result)`, floorLibrary.value, 'fraction', null, floorLibrary.note);
  const splitTwo = c.ceiling.find((m) => m.threads === OF_CEILING_THREADS)?.split ?? null;
  add('ofCeilingSplit', `of ceiling at ${OF_CEILING_THREADS} threads, the split alone (within one task, no pool's dispatch)`, splitTwo?.ofCeiling ?? null, 'fraction', null,
    splitTwo?.ofCeiling != null ? `speedup ${splitTwo.speedup?.toFixed(2)}×` : noTwo);
  add('speedupLibrary', `speedup at ${OF_CEILING_THREADS} threads, library pattern (vs its own 1 thread)`, libraryTwo?.speedup ?? null, 'speedup', null);

  const incrementalEpochs = c.epochs.filter((e) => e.engine === 'incremental');
  const bestEpoch = incrementalEpochs.reduce<typeof incrementalEpochs[number] | null>((b, e) => (b === null || e.epochMs < b.epochMs ? e : b), null);
  const backpropEpoch = c.epochs.find((e) => e.engine === 'backprop') ?? null;
  add('epochIncremental', `epoch, incremental${bestEpoch ? ` (its best, ${bestEpoch.threads} thread${bestEpoch.threads === 1 ? '' : 's'})` : ''}`, bestEpoch?.epochMs ?? null, 'ms', null, bestEpoch ? bestEpoch.method : 'epochs not measured');
  add('epochBackprop', 'epoch, backprop (main thread)', backpropEpoch?.epochMs ?? null, 'ms', null, backpropEpoch ? backpropEpoch.method : 'epochs not measured');
  add('epochPeer', c.peerEpoch ? `epoch, ${c.peerEpoch.library} (${c.peerEpoch.backend}), backprop` : 'epoch, @tensorflow/tfjs (wasm), backprop', c.peerEpoch?.epochMs ?? null, 'ms', null,
    c.peerEpoch ? (c.peerEpoch.overBackprop === null ? null : `${c.peerEpoch.overBackprop.toFixed(2)}× gradpool's backprop epoch`) : (peerReason ?? 'epochs not measured'));
  return checks;
}
