/**
 * `gradpool bench`: scaling benchmark of the numerical gradient by thread
 * count. A table on stdout (or JSON with --json), progress on stderr, JSON
 * written atomically with --out, a chart next to it. See benchmarks/README.md.
 */
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { loadDataset } from '../datasets/index.js';
import { InputError } from '../src/errors.js';
import { helpText, parseOptions, type OptionTable } from '../src/cli/options.js';
import type { CommandIo } from '../src/cli/io.js';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import { makeDirectory } from '../src/io/make-directory.js';
import { DEFAULT_H } from '../src/numerical.js';
import { MAX_THREADS } from '../src/parallel/gradient-pool.js';
import { writeBenchChart } from './chart.js';
import { BENCH_RESULT_SCHEMA, type BenchSettings } from './result.js';
import { runBenchmark } from './scaling.js';
import { formatReport } from './table.js';

/** 1, 2, …, availableParallelism, and one more to show oversubscription. */
export function defaultThreadCounts(cores = os.availableParallelism()): number[] {
  const top = Math.min(cores + 1, MAX_THREADS);
  return Array.from({ length: top }, (_, i) => i + 1);
}

/** The settings `--quick` implies for the options not given explicitly. */
export const QUICK_DEFAULTS: Record<string, string | number> = {
  threads: '1,2', hidden: '4', batch: '5', reps: 1, block: 1, 'naive-reps': 1, warmup: 1, 'naive-sample': 2, 'epoch-iters': 2, 'ceiling-gradients': 1, 'library-gap': 1,
};

export const BENCH_OPTIONS = {
  threads: { type: 'string', placeholder: 'LIST', description: `Thread counts, e.g. 1,2,4 or 1-4 (default: 1-${Math.min(os.availableParallelism() + 1, MAX_THREADS)}, up to the cores plus one to show oversubscription; 1 is always added as the baseline)` },
  hidden: { type: 'string', default: '50', placeholder: 'LIST', description: 'Hidden sizes of TwoLayerNet 784-H-10, e.g. 50,100,300' },
  batch: { type: 'string', default: '100', placeholder: 'LIST', description: 'Batch sizes (random training digits, drawn as the Trainer does), e.g. 32,100,256' },
  // 200, not 40: on this shared 2-core host, three runs at 200 gave 85–86 % of the ceiling for the Trainer's pattern
  // and 0.056–0.060 ms of serial part, where seven runs at 40 gave 77–114 % and 0.058–0.077 ms (bench --epoch-iters 0,
  // one quiet hour of 2026-12-05, while the main thread still polled for the last worker).
  reps: { type: 'integer', min: 1, max: 10_000, default: 200, description: 'Timed repetitions per incremental and backprop measurement' },
  block: { type: 'integer', min: 1, max: 10_000, default: 5, description: 'Consecutive incremental gradients per pool in each round, as training calls its pool (1: switch pools on every call; cold caches)' },
  'naive-reps': { type: 'integer', min: 1, max: 10_000, default: 3, description: 'Timed repetitions of the naive (and numpy) samples' },
  // 100, not 10: after 10 (each pool's, and the main-thread kernels'), the calls of the first two or three rounds still took 2–4 times as long and pulled the medians.
  warmup: { type: 'integer', min: 0, max: 1000, default: 100, description: 'Untimed gradients per pool before timing (0: the first includes worker start-up)' },
  'naive-sample': { type: 'integer', min: 1, max: 1_000_000, default: 32, description: 'Parameters per tensor (W1, b1, W2, b2) timed for the extrapolated naive and numpy times' },
  'epoch-iters': { type: 'integer', min: 0, max: 100_000, description: 'Extrapolate the epoch time from N timed Trainer iterations; 0: no epochs (default: run and time a whole epoch when estimated within --epoch-budget, else extrapolate from 10)' },
  'epoch-budget': { type: 'number', min: 0, default: 15_000, placeholder: 'MS', description: 'Longest epoch (per engine and thread count) run in full by default' },
  'naive-pool-budget': { type: 'number', min: 0, default: 2000, placeholder: 'MS', description: 'Also time the naive engine in full in the pool when one gradient is estimated below this on one thread' },
  'ceiling-gradients': { type: 'integer', min: 0, max: 10_000, default: 4, description: 'The machine\'s ceiling, measured between the pools\' rounds: N workers computing this many whole gradients each at once, nothing shared (0: skip)' },
  'library-gap': { type: 'number', min: 0, default: 3, placeholder: 'MS', description: 'Busy main-thread work before each call of the library pattern (number[][] through pool.numericalGradient)' },
  'busy-threshold': { type: 'number', min: 0, default: 0.25, placeholder: 'CORES', description: 'Flag a measurement as unreliable when other processes used more cores than this' },
  'with-numpy': { type: 'boolean', description: 'Also time the book\'s numpy code (benchmarks/numpy_naive.py) on the same batch, if numpy is installed' },
  python: { type: 'string', default: 'python3', placeholder: 'CMD', description: 'Python interpreter for --with-numpy' },
  seed: { type: 'integer', min: 0, max: 0xffffffff, default: 0, description: 'Seed of the initial weights (std 0.01, the book\'s) and the Trainer\'s batches' },
  quick: {
    type: 'boolean',
    description: `A seconds-long smoke run, its figures not judged against the goals: ${Object.entries(QUICK_DEFAULTS).map(([name, value]) => `--${name} ${value}`).join(' ')} (explicit options still win)`,
  },
  json: { type: 'boolean', description: 'Print the result as JSON on stdout instead of the table' },
  out: { type: 'string', placeholder: 'FILE.json', description: 'Also write the JSON result here (atomically)' },
  chart: { type: 'string', placeholder: 'PATH', description: 'Write the chart to PATH.svg and PATH.png (default: next to --out)' },
  schema: { type: 'boolean', description: 'Print the JSON Schema of the result and exit' },
  quiet: { type: 'boolean', description: 'No progress lines on stderr' },
} as const satisfies OptionTable;

/**
 * A comma-separated list of integers from `min` to `max`; `a-b` is a range.
 * Sorted, duplicates removed. Bad input is an InputError naming the option.
 */
export function parseIntegerList(name: string, raw: string, min: number, max: number): number[] {
  const expected = `Expected \`--${name}\` to be a comma-separated list of integers from ${min} to ${max} (ranges like 1-4 allowed)`;
  const values = new Set<number>();
  const items = raw.split(',').map((item) => item.trim());
  for (const item of items) {
    const match = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(item.replaceAll('_', ''));
    if (match === null) throw new InputError(`${expected}, got \`${raw}\``);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    for (const value of [from, to]) {
      if (!Number.isSafeInteger(value) || value < min || value > max) throw new InputError(`${expected}, got \`${value}\` in \`${raw}\``);
    }
    if (to < from) throw new InputError(`${expected}, got the empty range \`${item}\``);
    if (to - from > 10_000) throw new InputError(`${expected}, got the range \`${item}\` of more than 10,000 values`);
    for (let v = from; v <= to; v++) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * Fails before a minutes-long run, not after it, when `path` cannot be
 * written: it is a directory, or a part of its directory is a file.
 */
function checkWritablePath(option: string, path: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) throw new InputError(`Expected \`${option}\` to be a file path, got the directory \`${path}\``);
  for (let parent = dirname(resolve(path)); ; parent = dirname(parent)) {
    if (existsSync(parent)) {
      if (!statSync(parent).isDirectory()) throw new InputError(`Expected \`${option}\` to be a file path in a directory, got \`${path}\`, but \`${parent}\` is a file`);
      return;
    }
    if (dirname(parent) === parent) return;
  }
}

/** Parsed options → benchmark settings (throws InputError). */
export function benchSettings(argv: string[]): { settings: BenchSettings; options: ReturnType<typeof parseOptions<typeof BENCH_OPTIONS>> } {
  const options = parseOptions('bench', BENCH_OPTIONS, argv);
  const given = (name: keyof typeof BENCH_OPTIONS) => options.explicit.has(name) || !options.quick || !(name in QUICK_DEFAULTS);
  const pick = <T extends string | number>(name: keyof typeof BENCH_OPTIONS, value: T): T => (given(name) ? value : QUICK_DEFAULTS[name] as T);
  const threadsRaw = options.threads ?? (options.quick ? String(QUICK_DEFAULTS.threads) : undefined);
  let threads = threadsRaw === undefined ? defaultThreadCounts() : parseIntegerList('threads', threadsRaw, 1, MAX_THREADS);
  if (!threads.includes(1)) threads = [1, ...threads];
  const settings: BenchSettings = {
    threads,
    hidden: parseIntegerList('hidden', pick('hidden', options.hidden), 1, 100_000),
    batch: parseIntegerList('batch', pick('batch', options.batch), 1, 1_000_000),
    reps: pick('reps', options.reps),
    block: pick('block', options.block),
    naiveReps: pick('naive-reps', options['naive-reps']),
    warmup: pick('warmup', options.warmup),
    naiveSamplePerTensor: pick('naive-sample', options['naive-sample']),
    epochIterations: options.explicit.has('epoch-iters') || !options.quick ? options['epoch-iters'] ?? null : Number(QUICK_DEFAULTS['epoch-iters']),
    epochBudgetMs: options['epoch-budget'],
    busyThresholdCores: options['busy-threshold'],
    withNumpy: options['with-numpy'],
    python: options.python,
    seed: options.seed,
    weightInitStd: 0.01,
    h: DEFAULT_H,
    learningRate: 0.1,
    naivePoolBudgetMs: options['naive-pool-budget'],
    ceilingGradients: pick('ceiling-gradients', options['ceiling-gradients']),
    libraryGapMs: pick('library-gap', options['library-gap']),
    quick: options.quick,
  };
  if (options.python.trim() === '') throw new InputError('Expected `--python` to be a command, got an empty string');
  if (options.out !== undefined && options.out.trim() === '') throw new InputError('Expected `--out` to be a file path, got an empty string');
  if (options.out !== undefined) checkWritablePath('--out', options.out);
  if (options.chart !== undefined) checkWritablePath('--chart', options.chart);
  if (options.chart !== undefined && options.chart.trim() === '') throw new InputError('Expected `--chart` to be a path, got an empty string');
  return { settings, options };
}

export async function benchCommand(argv: string[], io: CommandIo): Promise<number> {
  const { settings, options } = benchSettings(argv);
  if (options.help) {
    io.stdout.write(`${helpText('bench', 'Scaling benchmark of the numerical gradient by thread count: ms per gradient (naive, incremental, backprop), speedup, efficiency, the machine\'s ceiling, the kernel ratio, the serial part of a pool call and Amdahl\'s law, the Trainer\'s and a library caller\'s pattern, epoch time (and tfjs, if installed); a goals block; table, JSON and chart.', BENCH_OPTIONS)}\n`);
    return 0;
  }
  if (options.schema) {
    io.stdout.write(`${JSON.stringify(BENCH_RESULT_SCHEMA, null, 2)}\n`);
    return 0;
  }
  const progress = options.quiet ? () => undefined : (line: string) => { io.stderr.write(`[bench] ${line}\n`); };
  progress(`threads ${settings.threads.join(',')}; hidden ${settings.hidden.join(',')}; batch ${settings.batch.join(',')}; reps ${settings.reps} (naive ${settings.naiveReps}), warm-up ${settings.warmup}`);
  const datasetName = 'mnist';
  const dataset = await loadDataset(datasetName);
  // Ctrl-C: the first stops at the next round boundary and prints the rows
  // measured so far (exit 130); a second quits at once.
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
    io.stderr.write(`gradpool bench: ${signal}: stopping after the current round and printing the rows measured so far (press Ctrl-C again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: Awaited<ReturnType<typeof runBenchmark>>;
  try {
    result = await runBenchmark({ settings, dataset, datasetName, argv, progress, signal: interrupt.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  let exitCode = 0;
  const chartPath = options.chart ?? (options.out === undefined ? undefined : options.out);
  if (chartPath !== undefined) {
    try {
      result.outputs.chart = await writeBenchChart(chartPath, result);
    } catch (error) {
      io.stderr.write(`gradpool bench: could not write the chart: ${(error as Error).message}\n`);
      exitCode = 1;
    }
  }
  if (options.out !== undefined) {
    result.outputs.json = options.out;
    await makeDirectory(dirname(options.out));
    await writeFileAtomic(options.out, `${JSON.stringify(result, null, 2)}\n`);
  }
  io.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatReport(result));
  return result.interrupted ? 130 : exitCode;
}
