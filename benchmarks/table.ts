/** The terminal report of a benchmark result: one table per configuration, then epochs, Amdahl and numpy. */
import { formatDuration } from '../src/report/format-duration.js';
import { GOAL_CONFIGURATION, GOALS, poolRows, sessionEndNote } from './goals.js';
import type { LoadSample } from './machine.js';
import type { BenchResult, ConfigurationResult, EngineMeasurement, GoalCheck } from './result.js';
import type { SerialParts } from './serial-parts.js';
import type { WakeRoundTrip } from './wake-round-trip.js';

/** Milliseconds with about four significant digits, for the tables. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms >= 10_000) return Math.round(ms).toLocaleString('en-US');
  if (ms >= 100) return ms.toFixed(1);
  if (ms >= 10) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** Milliseconds with about three significant digits and no separators, for progress lines and notes. */
export function formatMsShort(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/** Cores used by other processes: `!` busy, `?` window too short for /proc/stat to resolve. */
function others(load: LoadSample | null): string {
  if (load === null || load.othersCores === null) return 'n/a';
  const flag = load.busy ? ' !' : (load.resolutionCores ?? 0) >= 0.5 ? ' ?' : '';
  return `${load.othersCores.toFixed(2)}${flag}`;
}

function engineLabel(m: EngineMeasurement): string {
  return m.where === 'main-thread' ? `${m.engine} (main)` : m.engine;
}

function notesFor(m: EngineMeasurement, cores: number, parameters: number): string {
  const notes: string[] = [];
  if (m.method === 'sampled-extrapolated') notes.push(`est.: ${m.sampledParameters} of ${parameters.toLocaleString('en-US')} params timed, extrapolated`);
  if (m.oversubscribed) notes.push(`oversubscribed (${m.threads} > ${cores} cores)`);
  if (m.overheadMs !== null) notes.push(`serial ${formatMs(m.overheadMs)} ms, imbalance ${m.imbalance?.toFixed(2) ?? '?'}`);
  return notes.join('; ');
}

function table(header: string[], rows: string[][], rightAligned: boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : rightAligned[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

/** How far below `threads` (up to the cores) a ceiling may fall before the report says the cores do not scale. */
export const CEILING_WARNING_FRACTION = 0.85;
/** Fewer ceiling rounds than this are printed but not interpreted. */
export const CEILING_MIN_ROUNDS = 5;

function ceilingLines(c: ConfigurationResult, cores: number): string[] {
  if (c.ceiling.length === 0) return [];
  const first = c.ceiling[0];
  const lines = [
    '',
    `  The machine's ceiling: N workers computing whole gradients at once on private copies, nothing shared (${first.rounds} round${first.rounds === 1 ? '' : 's'} of ${first.gradientsPerRound} gradient${first.gradientsPerRound === 1 ? '' : 's'} each):`,
    ...table(
      ['workers', 'ms per gradient (each)', 'speedup', 'split: ms per gradient', 'split speedup', 'split of ceiling', 'others (cores)'],
      c.ceiling.map((m) => [
        String(m.threads), formatMs(m.msPerGradient.median), m.speedup === null ? '?' : `${m.speedup.toFixed(2)}×`,
        m.split === null ? '' : formatMs(m.split.msPerGradient.median), m.split?.speedup == null ? '' : `${m.split.speedup.toFixed(2)}×`,
        m.split?.ofCeiling == null ? '' : `${(m.split.ofCeiling * 100).toFixed(0)} %`, others(m.load),
      ]),
      [true, true, true, true, true, true, true],
    ).map((l) => `  ${l}`),
  ];
  if (c.ceiling.some((m) => m.split !== null)) {
    lines.push('  split = the same workers splitting each gradient as the pool does (base parts, then chunks), gradient after gradient within one task: the split alone, without the pool\'s dispatch and wake-ups.');
  }
  if (first.rounds < CEILING_MIN_ROUNDS) {
    lines.push(`  (only ${first.rounds} round${first.rounds === 1 ? '' : 's'}: too few to judge the machine; ${CEILING_MIN_ROUNDS} or more with more --reps)`);
    return lines;
  }
  const impossible = c.ceiling.filter((m) => m.speedup !== null && m.speedup > 1.1 * m.threads);
  for (const m of impossible) lines.push(`  → ${m.threads} workers measured ${m.speedup!.toFixed(2)}×, more than ${m.threads}×: the one-worker rounds were slowed by something else; this ceiling is unreliable.`);
  if (impossible.length > 0) return lines;
  const short = c.ceiling.filter((m) => m.threads > 1 && m.speedup !== null && m.speedup < CEILING_WARNING_FRACTION * Math.min(m.threads, cores));
  for (const m of short) {
    lines.push(`  → ${m.threads} workers get ${m.speedup!.toFixed(2)}× one worker's throughput, not ~${Math.min(m.threads, cores)}×: these logical cores share physical ones (SMT) or the host is busy; no split of the gradient can beat this here.`);
  }
  return lines;
}

/** The pools' calls by their place in a block: how much the first, after the threads slept, costs. */
function blockPositionLines(c: ConfigurationResult): string[] {
  const ceiling = c.ceiling.length > 0;
  // Blocks of one call have a single place: nothing to show.
  const rows = poolRows(c.measurements).filter((m) => m.msByBlockPosition !== null && m.msByBlockPosition.length > 1);
  if (rows.length === 0) return [];
  return [
    '',
    `  Incremental calls by their place in a block of ${Math.max(...rows.map((m) => m.msByBlockPosition!.length))} (median ms; the first follows the other pools' blocks${ceiling ? ' and a round of the ceiling' : ''}, this pool's threads asleep meanwhile or its session ended): `
      + rows.map((m) => `${m.threads} thread${m.threads === 1 ? '' : 's'} ${m.msByBlockPosition!.map(formatMs).join(', ')}`).join('; '),
    ...(rows.every((m) => m.overheadMsByBlockPosition === null) ? [] : [
      '  Their serial part by the same place (wall − slowest task, median ms; the later places are calls back to back): '
        + rows.filter((m) => m.overheadMsByBlockPosition !== null).map((m) => `${m.threads} thread${m.threads === 1 ? '' : 's'} ${m.overheadMsByBlockPosition!.map(formatMs).join(', ')}`).join('; '),
    ]),
    ...(c.wakeAfterRound === null ? [] : [hostPartLine(c.wakeAfterRound)]),
  ];
}

/** The host's wake-up after a round's sleep, under the places; with the serving session's idle end when the rounds come near it. */
function hostPartLine(wake: WakeRoundTrip): string {
  const sessionEnd = sessionEndNote(wake.pauseMs);
  return `  The host's part of a first place: ${wake.workers} bare thread${wake.workers === 1 ? '' : 's'} asleep about as long as a pool's between its blocks (${formatMs(wake.pauseMs)} ms, the median round), `
    + `woken once per round with nothing else running and waited for: median ${formatMs(wake.ms.median)} ms, min ${formatMs(wake.ms.min)} ms `
    + `(${wake.ms.samples.length} round${wake.ms.samples.length === 1 ? '' : 's'})${sessionEnd === null ? '' : `; ${sessionEnd}`}`;
}

function libraryLines(c: ConfigurationResult): string[] {
  const rows = c.libraryPattern.measurements;
  if (rows.length === 0) return [];
  return [
    '',
    `  A library caller's pattern: number[][] through pool.numericalGradient(net, x, t), ${formatMs(c.libraryPattern.gapMs)} ms of busy main-thread work before each call:`,
    ...table(
      ['threads', 'median ms', 'min ms', 'speedup', 'of ceiling', 'serial ms', 'imbalance', 'others (cores)'],
      rows.map((m) => [
        String(m.threads), formatMs(m.msPerGradient.median), formatMs(m.msPerGradient.min), m.speedup === null ? '' : `${m.speedup.toFixed(2)}×`,
        m.ofCeiling === null ? '' : `${(m.ofCeiling * 100).toFixed(0)} %`, m.overheadMs === null ? '' : formatMs(m.overheadMs), m.imbalance?.toFixed(2) ?? '', others(m.load),
      ]),
      [true, true, true, true, true, true, true, true],
    ).map((l) => `  ${l}`),
  ];
}

/** The parts of a serial part (serial-parts.ts), labelled: main-thread work, waking, collecting. */
export function serialPartsText(parts: SerialParts): string {
  return `main thread to post ${formatMs(parts.postMs)} ms, Atomics.notify ${formatMs(parts.notifyMs)}, `
    + `the slowest task's worker awake ${parts.wakeMs < 0 ? `${formatMs(-parts.wakeMs)} before notify returned (it was polling, or it took the main thread's core)` : `${formatMs(parts.wakeMs)} later`}, the other workers done ${formatMs(parts.tailMs)} after it, `
    + `the main thread sees it ${formatMs(parts.seenMs)} later and returns in ${formatMs(parts.returnMs)}`;
}

function kernelAndSerialLines(c: ConfigurationResult): string[] {
  const k = c.kernelRatio;
  const lines = [
    '',
    `  Kernel ratio: incremental ${formatMs(k.incrementalMs)} ms ÷ backprop ${formatMs(k.backpropMs)} ms (main thread, interleaved, same batch) = ${k.ratio === null ? '?' : `${k.ratio.toFixed(2)}×`}`
      + ` (goal ≤ ${GOALS.kernelRatio.goal}×, must ≤ ${GOALS.kernelRatio.must}×); a one-thread pool call ${k.poolOneThreadMs === null ? '?' : formatMs(k.poolOneThreadMs)} ms = ${k.poolOneThreadRatio === null ? '?' : `${k.poolOneThreadRatio.toFixed(2)}×`} backprop`,
  ];
  for (const part of c.serial) {
    lines.push(`  Serial part of a pool call (${part.pattern === 'trainer' ? 'Trainer\'s pattern' : 'library pattern'}, wall − slowest task, median): `
      + `${part.byThreads.map((b) => `${formatMs(b.serialMs)} ms at ${b.threads} thread${b.threads === 1 ? '' : 's'}`).join(', ')}; `
      + `s = ${formatMs(part.serialMs)} / ${formatMs(part.oneThreadMs)} ms = ${part.serialFraction.toFixed(4)} → Amdahl ${part.predictions.map((p) => `${p.threads} threads ${p.speedup.toFixed(1)}×`).join(', ')}`);
    const rows = part.pattern === 'trainer' ? poolRows(c.measurements) : c.libraryPattern.measurements;
    const parts = rows.find((m) => m.threads === part.threads)?.serialParts;
    if (parts) lines.push(`    where it goes at ${part.threads} thread${part.threads === 1 ? '' : 's'} (medians): ${serialPartsText(parts)}`);
  }
  return lines;
}

function goalValue(check: GoalCheck, value: number): string {
  switch (check.unit) {
    case 'ratio': return `${value.toFixed(2)}×`;
    case 'speedup': return `${value.toFixed(value >= 10 ? 1 : 2)}×`;
    case 'fraction': return `${(value * 100).toFixed(0)} %`;
    case 'ms': return value >= 100 ? formatDuration(value) : `${formatMs(value)} ms`;
  }
}

const STATUS_TEXT: Record<GoalCheck['status'], string> = {
  met: 'met', 'must-met': 'must met, goal missed', missed: 'MISSED', info: '', 'n/a': 'n/a',
};

/** The goals block: every figure of issue 12 with its goal, its must and whether they are met (not `judged`: shown beside them only). */
export function goalLines(goals: readonly GoalCheck[], judged = true): string[] {
  if (goals.length === 0) return [];
  const withGoal = goals.filter((g) => g.goal !== null);
  const met = withGoal.filter((g) => g.status === 'met');
  const mustOnly = withGoal.filter((g) => g.status === 'must-met');
  const summary = `${met.length} of ${withGoal.length} goals met${mustOnly.length > 0 ? `, ${mustOnly.length} more within the must` : ''}`
    + `${withGoal.some((g) => g.status === 'n/a') ? ` (${withGoal.filter((g) => g.status === 'n/a').length} not measured)` : ''}`;
  const limit = (check: GoalCheck, value: number | null) => (value === null || check.comparison === null ? '' : `${check.comparison === '<=' ? '≤' : '≥'} ${goalValue(check, value)}`);
  return [
    '',
    judged ? `  Goals (issue 12), all from this run: ${summary}`
      : `  Goals (issue 12) are set for TwoLayerNet ${GOAL_CONFIGURATION.inputSize}-${GOAL_CONFIGURATION.hiddenSize}-${GOAL_CONFIGURATION.outputSize} at batch ${GOAL_CONFIGURATION.batch}: this configuration's figures beside them, not judged`,
    ...table(
      ['figure', 'value', 'goal', 'must', 'status', 'notes'],
      goals.map((g) => [g.figure, g.value === null ? '—' : goalValue(g, g.value), limit(g, g.goal), limit(g, g.must), STATUS_TEXT[g.status], g.note ?? '']),
      [false, true, false, false, false, false],
    ).map((l) => `  ${l}`),
  ];
}

function configurationLines(result: BenchResult, c: ConfigurationResult): string[] {
  const cores = result.machine.availableParallelism;
  const lines = [
    '',
    `TwoLayerNet ${c.shape.inputSize}-${c.shape.hiddenSize}-${c.shape.outputSize} ${c.shape.activation}, batch ${c.batch} (random ${result.dataset.name} training digits, seed ${result.settings.seed}), `
      + `${c.parameters.toLocaleString('en-US')} parameters, loss ${c.loss.toFixed(4)}`,
  ];
  const rows = c.measurements.map((m) => [
    engineLabel(m), String(m.threads), formatMs(m.msPerGradient.median), formatMs(m.msPerGradient.min), formatMs(m.msPerGradient.max),
    m.speedup === null ? '' : `${m.speedup.toFixed(2)}×`, m.efficiency === null ? '' : `${(m.efficiency * 100).toFixed(0)} %`,
    m.speedupOfMin === null ? '' : `${m.speedupOfMin.toFixed(2)}×`,
    m.ofCeiling === null ? '' : `${(m.ofCeiling * 100).toFixed(0)} %`,
    others(m.load), notesFor(m, cores, c.parameters),
  ]);
  if (c.numpy) {
    rows.push(['numpy (book)', '(BLAS)', formatMs(c.numpy.msPerGradient.median), formatMs(c.numpy.msPerGradient.min), formatMs(c.numpy.msPerGradient.max),
      '', '', '', '', others(c.numpy.load), `est.: the book's numpy code, ${c.numpy.sampledParameters} params timed, extrapolated`]);
  }
  lines.push(...table(
    ['engine', 'threads', 'median ms', 'min ms', 'max ms', 'speedup', 'efficiency', 'min/min', 'of ceiling', 'others (cores)', 'notes'],
    rows, [false, true, true, true, true, true, true, true, true, true, false],
  ));
  if (!c.naivePool.measured) lines.push(`  naive in the pool: ${c.naivePool.reason}`);
  lines.push(...ceilingLines(c, cores));
  lines.push(...blockPositionLines(c));
  lines.push(...libraryLines(c));
  lines.push(...kernelAndSerialLines(c));

  if (c.epochs.length > 0) {
    const first = c.epochs[0];
    lines.push('', `  Epoch = ${first.iterationsPerEpoch} iterations of batch ${c.batch} + evaluation of ${result.dataset.trainRows.toLocaleString('en-US')} train and ${result.dataset.testRows.toLocaleString('en-US')} test samples:`);
    lines.push(...table(
      ['engine', 'threads', 'epoch', 'ms/iteration', 'evaluation', 'others (cores)', 'how'],
      c.epochs.map((e) => [
        e.where === 'main-thread' ? `${e.engine} (main)` : e.engine, String(e.threads), formatDuration(e.epochMs), formatMs(e.msPerIteration), `${formatMs(e.evaluationMs)} ms`,
        others(e.load), e.method === 'measured' ? `measured: one Trainer epoch run` : e.method === 'extrapolated' ? `extrapolated from ${e.iterationsTimed} timed Trainer iterations` : 'computed from the gradient time',
      ]),
      [false, true, true, true, true, true, false],
    ).map((l) => `  ${l}`));
  }
  if (c.peerEpoch) {
    const p = c.peerEpoch;
    lines.push(`    peer: ${p.library} ${p.version} (${p.backend}), backprop: epoch ${formatDuration(p.epochMs)}, ${formatMs(p.msPerIteration)} ms/iteration, evaluation ${formatMs(p.evaluationMs)} ms`
      + `${p.overBackprop === null ? '' : ` = ${p.overBackprop.toFixed(2)}× gradpool's backprop epoch`}; others ${others(p.load)} (measured: one epoch run, float32)`);
  } else if (c.epochs.length > 0 && !result.tfjs.available) {
    lines.push(`    peer: ${result.tfjs.reason ?? '@tensorflow/tfjs not available'}; no tfjs epoch (optional: npm i @tensorflow/tfjs @tensorflow/tfjs-backend-wasm)`);
  }

  for (const fit of c.amdahl) {
    lines.push('', `  Amdahl fit (${fit.engine}, threads ${fit.threadsUsed.join(', ')} ≤ ${fit.coresLimit} cores): serial fraction s = ${fit.serialFraction.toFixed(4)} (rmse ${fit.rmse.toFixed(3)})`
      + ` → predicted speedup ${fit.predictions.map((p) => `${p.threads} threads ${p.speedup.toFixed(2)}×`).join(', ')}`);
    if (fit.threadsUsed.filter((n) => n >= 2).length === 1) lines.push('  (one thread count above 1 within the cores: s is solved from it, not tested against more points)');
  }
  if (c.amdahl.length === 0) lines.push('', '  Amdahl fit: needs a measured speedup at 2 or more threads within the cores');

  if (c.numpy) {
    const r = c.numpy.ratios;
    lines.push('', `  The book's numpy naive gradient: ~${formatDuration(c.numpy.msPerGradient.median)} per gradient (extrapolated); `
      + `incremental is ${r.overIncrementalBest?.toFixed(0) ?? '?'}× faster (its best, ${r.incrementalBestThreads ?? '?'} thread${r.incrementalBestThreads === 1 ? '' : 's'})`
      + `${r.incrementalBestThreads === 1 ? '' : `, ${r.overIncrementalOneThread?.toFixed(0) ?? '?'}× on 1 thread`}; `
      + `TypeScript naive takes ${r.overTypeScriptNaive === null ? '?' : (1 / r.overTypeScriptNaive).toFixed(2)}× numpy's time; `
      + `max |numpy − TS naive| over the sampled entries ${c.numpy.maxAbsDifferenceVsTypeScriptNaive?.toExponential(2) ?? '?'}`);
  }
  lines.push(...goalLines(c.goals, c.goalsJudged));
  return lines;
}

/** The whole report, ending with a newline. */
export function formatReport(result: BenchResult): string {
  const m = result.machine;
  const overall = result.load.overall;
  const lines = [
    `gradpool bench: ${m.cpuModel}, ${m.logicalCores} logical cores (availableParallelism ${m.availableParallelism}), Node ${m.nodeVersion}, ${m.platform} ${m.arch}`,
    `Load average at start ${m.loadAverageAtStart.map((v) => v.toFixed(2)).join(' ')}; other processes used ${overall.othersCores === null ? 'n/a' : `${overall.othersCores.toFixed(2)} cores`}`
      + `${overall.stealCores === null ? '' : ` (steal ${overall.stealCores.toFixed(2)})`} on average during the run → ${result.load.unreliable ? 'BUSY: some timings are unreliable' : 'quiet enough'}`,
  ];
  const wake = result.wakeRoundTrip;
  lines.push(`Floor under the serial part of a pool call here: waking a sleeping worker and being woken back (Atomics.notify to Atomics.wait and back, as a served call does; ${wake.pauseMs} ms apart): `
    + `median ${formatMs(wake.ms.median)} ms, min ${formatMs(wake.ms.min)} ms; a call whose workers slept since the last one pays it on top of dispatch and collection`);
  if (result.settings.withNumpy && !result.numpy.available) lines.push(`numpy: not available (${result.numpy.reason}); no numpy comparison`);
  else if (result.numpy.available) lines.push(`numpy ${result.numpy.numpyVersion} on Python ${result.numpy.pythonVersion}, ${result.numpy.blas ?? 'BLAS ?'}; environment as found: ${Object.entries(result.numpy.env ?? {}).map(([k, v]) => `${k}=${v ?? '(unset)'}`).join(' ')}`);
  for (const c of result.configurations) lines.push(...configurationLines(result, c));
  lines.push('', `ms = milliseconds per gradient; speedup = median at 1 thread / median; efficiency = speedup / threads; min/min = the same with the minima (best case); of ceiling = speedup / the machine's ceiling at that thread count; serial = wall time of a pool call − its slowest worker's task (the serial note); others = cores used by other processes while measuring (! = above ${result.load.thresholdCores}: unreliable; ? = window too short to tell).`);
  for (const note of result.notes) lines.push(`Note: ${note}`);
  lines.push(`Wall time ${formatDuration(result.wallMilliseconds)}.`);
  if (result.outputs.json) lines.push(`JSON: ${result.outputs.json}`);
  if (result.outputs.chart) lines.push(`Chart: ${result.outputs.chart.svg}, ${result.outputs.chart.png}`);
  return `${lines.join('\n')}\n`;
}
