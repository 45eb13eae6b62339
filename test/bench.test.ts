import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { AMDAHL_PREDICT_AT, amdahlSpeedup, fitAmdahl, serialFractionFor } from '../benchmarks/amdahl.js';
import { benchCommand, benchSettings, defaultThreadCounts, parseIntegerList } from '../benchmarks/bench-command.js';
import { chartBase, chartRows } from '../benchmarks/chart.js';
import { EPOCH_FALLBACK_STEPS, measureEpoch } from '../benchmarks/epoch.js';
import { loadDataset } from '../datasets/index.js';
import { incrementalGradientRange, prepareIncrementalBase } from '../src/kernels/incremental/index.js';
import { validateJson } from '../benchmarks/json-schema.js';
import { LoadMeter } from '../benchmarks/machine.js';
import { extrapolateMilliseconds, measureNaiveSample, sampleParameters, sampledCount } from '../benchmarks/naive-sample.js';
import { checkNumpy, maxAbsDifference, measureNumpy } from '../benchmarks/numpy.js';
import { BENCH_RESULT_SCHEMA, validateBenchResult, type BenchResult } from '../benchmarks/result.js';
import { medianSerialParts, splitSerialPart } from '../benchmarks/serial-parts.js';
import { summarize } from '../benchmarks/stats.js';
import { formatMs, formatReport } from '../benchmarks/table.js';
import { computeSplitGradients, computeWholeGradients, roundThroughput, splitRoundThroughput, splitTaskFor, type CeilingTaskResult, type SplitTask } from '../benchmarks/ceiling.js';
import { Piscina } from 'piscina';
import { siblingModule, workerStart } from '../src/parallel/worker-loader.js';
import { naivePoolDecision } from '../benchmarks/scaling.js';
import { GOALS, goalChecks, goalStatus, judgedByGoals, kernelRatioOf, ofCeilingAllowed, serialPartOf } from '../benchmarks/goals.js';
import { measureKernelPair } from '../benchmarks/kernel-ratio.js';
import { TrainerCallWatch } from '../benchmarks/trainer-calls.js';
import { measureWakeRoundTrip, WAKE_ROUND_TRIP_DESCRIPTION, WakeProbe } from '../benchmarks/wake-round-trip.js';
import { GradientPool, type PoolCallStatistics } from '../src/parallel/gradient-pool.js';
import { busyWork, libraryInputs } from '../benchmarks/library-pattern.js';
import { loadTfjs } from '../benchmarks/tfjs-peer.js';
import type { EngineMeasurement, GoalCheck } from '../benchmarks/result.js';
import { main } from '../src/cli/main.js';
import { InputError } from '../src/errors.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';

/** A stream double that keeps what is written (typed as a non-TTY WriteStream, as CommandIo wants). */
function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { stream: Object.assign(stream, { isTTY: false }) as unknown as NodeJS.WriteStream, text: () => text };
}

const numpy = checkNumpy('python3');
const python = spawnSync('python3', ['--version']);

/** A tiny random batch for direct kernel calls (no dataset needed). */
function tinyBatch(net: TwoLayerNet, rows: number) {
  const x = new Float64Array(rows * net.shape.inputSize);
  for (let i = 0; i < x.length; i++) x[i] = (i * 7919) % 13 === 0 ? ((i % 97) / 97) : 0;
  const labels = Int32Array.from({ length: rows }, (_, n) => n % net.shape.outputSize);
  return net.prepare({ data: x, rows, columns: net.shape.inputSize }, labels);
}

t.test('Amdahl fit recovers a known serial fraction from synthetic speedups', async (t) => {
  // s = 0.1: S(n) = 1 / (0.1 + 0.9 / n), computed by hand.
  const points = [
    { threads: 1, speedup: 1 },
    { threads: 2, speedup: 1 / 0.55 }, // 1.8181…
    { threads: 4, speedup: 1 / 0.325 }, // 3.0769…
    { threads: 8, speedup: 1 / 0.2125 }, // 4.7058…
  ];
  const fit = fitAmdahl(points)!;
  t.ok(Math.abs(fit.serialFraction - 0.1) < 1e-9, `s = ${fit.serialFraction}`);
  t.ok(fit.rmse < 1e-9);
  t.same(fit.threadsUsed, [1, 2, 4, 8]);
  t.same(fit.predictions.map((p) => p.threads), [...AMDAHL_PREDICT_AT]);
  // 8: 1/0.2125 = 4.70588…, 16: 1/(0.1 + 0.05625) = 6.4, 64: 1/(0.1 + 0.0140625) = 8.76712…
  const expected = [4.705882352941177, 6.4, 8.767123287671232];
  fit.predictions.forEach((p, i) => t.ok(Math.abs(p.speedup - expected[i]) < 1e-6, `S(${p.threads}) = ${p.speedup}`));

  // One point beyond 1 thread: s solved from S(2) = 1.6 → 2/1.6 − 1 = 0.25.
  t.ok(Math.abs(fitAmdahl([{ threads: 1, speedup: 1 }, { threads: 2, speedup: 1.6 }])!.serialFraction - 0.25) < 1e-9);
  // Noisy speedups around s = 0.2 still land near it.
  const noisy = [2, 3, 4, 6].map((n, i) => ({ threads: n, speedup: amdahlSpeedup(0.2, n) * (i % 2 === 0 ? 1.01 : 0.99) }));
  t.ok(Math.abs(fitAmdahl(noisy)!.serialFraction - 0.2) < 0.02);
  // Clamped to [0, 1]: superlinear → 0, slowdown → 1.
  t.equal(fitAmdahl([{ threads: 2, speedup: 2.5 }])!.serialFraction, 0);
  t.equal(fitAmdahl([{ threads: 2, speedup: 0.5 }])!.serialFraction, 1);
  // The inverse: 12× at 16 threads needs 1/12 = s + (1 − s)/16, s = (1/12 − 1/16)/(15/16) = 1/45.
  t.ok(Math.abs(serialFractionFor(12, 16) - 1 / 45) < 1e-15, `s = ${serialFractionFor(12, 16)}`);
  t.ok(Math.abs(amdahlSpeedup(serialFractionFor(3.2, 8), 8) - 3.2) < 1e-12, 'S(s(3.2×, 8)) = 3.2×');
  t.equal(serialFractionFor(8, 8), 0);
  t.equal(serialFractionFor(1, 8), 1);
  t.throws(() => serialFractionFor(17, 16), /Expected 2 ≤ threads and 1 ≤ speedup ≤ threads, got 17× on 16 threads/);
  t.throws(() => serialFractionFor(1, 1), RangeError);
  // Nothing to fit without a point at 2+ threads.
  t.equal(fitAmdahl([{ threads: 1, speedup: 1 }]), null);
  t.equal(fitAmdahl([{ threads: 2, speedup: Number.NaN }]), null);
});

t.test('summaries, samples and extrapolation', async (t) => {
  t.same(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, mean: 2 });
  t.equal(summarize([4, 1, 3, 2]).median, 2.5);
  t.ok(Number.isNaN(summarize([]).median));

  const net = new TwoLayerNet({ inputSize: 6, hiddenSize: 3, outputSize: 2 });
  const samples = sampleParameters(net.shape, 4);
  t.same(samples.map((s) => s.tensor), ['W1', 'b1', 'W2', 'b2']);
  t.same(samples.map((s) => s.size), [18, 3, 6, 2]);
  t.same(samples.map((s) => s.indices.length), [4, 3, 4, 2], 'every tensor sampled, small ones in full');
  t.same(samples[0].indices, [2, 6, 11, 15]);
  t.equal(sampledCount(samples), 13);
  // 1 ms per sampled parameter everywhere → 29 parameters → 29 ms.
  t.equal(extrapolateMilliseconds(samples, samples.map((s) => s.indices.length)), 29);

  const batch = tinyBatch(net, 4);
  const run = measureNaiveSample(net, batch, samples, 2, 1, 1e-4);
  t.equal(run.extrapolatedMs.length, 2);
  const reference = net.numericalGradient({ data: batch.x, rows: batch.rows, columns: 6 }, batch.labels).flat;
  const expected = samples.flatMap((s) => s.indices.map((i) => reference[s.offset + i]));
  t.same([...run.values], expected, 'the sampled naive gradient is the book\'s gradient, bit for bit');
});

t.test('the book\'s numpy code agrees with the TypeScript naive gradient on the same batch', { skip: numpy.available ? false : `numpy not available: ${numpy.reason}` }, async (t) => {
  const net = new TwoLayerNet({ inputSize: 8, hiddenSize: 3, outputSize: 3, seed: 2, weightInitStd: 0.5 });
  const batch = tinyBatch(net, 5);
  const samples = sampleParameters(net.shape, 3);
  const ts = measureNaiveSample(net, batch, samples, 1, 0, 1e-4);
  const py = await measureNumpy('python3', net, batch, samples, 1, 0, 1e-4);
  t.equal(py.extrapolatedMs.length, 1);
  t.ok(maxAbsDifference(py.values, ts.values) < 1e-8, `max difference ${maxAbsDifference(py.values, ts.values)}`);
  t.ok(Math.abs(py.output.loss - net.loss({ data: batch.x, rows: 5, columns: 8 }, batch.labels)) < 1e-12);
  t.ok('OPENBLAS_CORETYPE' in py.output.env, 'the BLAS environment is reported as found');
  t.same(checkNumpy('/nonexistent/python3').available, false);
});

t.test('options: lists, defaults, --quick, and one-line InputErrors', async (t) => {
  t.same(parseIntegerList('threads', '3,1,2,2', 1, 64), [1, 2, 3]);
  t.same(parseIntegerList('threads', '1-3,8', 1, 64), [1, 2, 3, 8]);
  t.same(defaultThreadCounts(2), [1, 2, 3]);
  t.same(defaultThreadCounts(64), Array.from({ length: 64 }, (_, i) => i + 1));
  t.same(benchSettings(['--threads', '2,4']).settings.threads, [1, 2, 4], '1 is always measured as the baseline');
  const quick = benchSettings(['--quick', '--reps', '3']).settings;
  t.match(quick, { threads: [1, 2], hidden: [4], batch: [5], reps: 3, naiveReps: 1, epochIterations: 2, ceilingGradients: 1, quick: true });
  t.match(benchSettings([]).settings, { ceilingGradients: 4, reps: 200, block: 5, warmup: 100 });
  t.match(benchSettings(['--reps', '7', '--block', '3']).settings, { reps: 7, block: 3 });
  t.equal(benchSettings(['--quick', '--ceiling-gradients', '0']).settings.ceilingGradients, 0, 'an explicit option wins over --quick');
  t.match(benchSettings([]).settings, { hidden: [50], batch: [100], weightInitStd: 0.01, epochIterations: null });
  t.equal(benchSettings(['--epoch-iters', '0']).settings.epochIterations, 0);
  t.equal(benchSettings([]).settings.libraryGapMs, 3);
  t.equal(benchSettings(['--quick']).settings.libraryGapMs, 1);
  t.equal(benchSettings(['--quick', '--library-gap', '0']).settings.libraryGapMs, 0);

  const bad: Array<[string[], RegExp]> = [
    [['--threads', '0'], /^Expected `--threads` to be a comma-separated list of integers from 1 to 64 .*got `0`/],
    [['--threads', '65'], /`--threads`.*got `65`/],
    [['--threads', '1,x'], /`--threads`.*got `1,x`/],
    [['--threads', '3-1'], /empty range `3-1`/],
    [['--threads', ''], /`--threads`/],
    [['--hidden', '0'], /`--hidden`.*got `0`/],
    [['--batch', '10,,20'], /`--batch`/],
    [['--reps', '0'], /`--reps` to be an integer from 1/],
    [['--busy-threshold=-1'], /`--busy-threshold`/],
    [['--library-gap', '-1'], /`--library-gap`/],
    [['--bogus'], /Unknown option `--bogus`/],
    [['--python', ''], /`--python`/],
    [['--out', 'test'], /^Expected `--out` to be a file path, got the directory `test`$/],
    [['--out', 'package.json/result.json'], /^Expected `--out` to be a file path in a directory, got `package.json\/result.json`, but `.*package\.json` is a file$/],
    [['--chart', 'package.json/x/chart'], /^Expected `--chart` to be a file path in a directory, got `package.json\/x\/chart`, but `.*package\.json` is a file$/],
  ];
  for (const [argv, message] of bad) t.throws(() => benchSettings(argv), { name: 'InputError', message }, argv.join(' '));
  t.ok((() => { try { benchSettings(['--threads', '0']); } catch (error) { return error instanceof InputError; } return false; })());

  // Through the CLI: exit code 2 and one line on stderr.
  const stdout = capture();
  const stderr = capture();
  t.equal(await main(['bench', '--threads', '0'], { stdout: stdout.stream, stderr: stderr.stream }), 2);
  t.match(stderr.text(), /^gradpool bench: Expected `--threads`[^\n]*\n$/);
  t.equal(stdout.text(), '');

  const help = capture();
  t.equal(await benchCommand(['--help'], { stdout: help.stream, stderr: capture().stream }), 0);
  t.match(help.text(), /--with-numpy/);
  // --quick says everything it sets, as the settings above show it does.
  t.match(help.text(), /--quick +A seconds-long smoke run, its figures not judged against the goals: --threads 1,2 --hidden 4 --batch 5 --reps 1 --block 1 --naive-reps 1 --warmup 1 --naive-sample 2 --epoch-iters 2 --ceiling-gradients 1 --library-gap 1 \(explicit options still win\)/);
  const schema = capture();
  t.equal(await benchCommand(['--schema'], { stdout: schema.stream, stderr: capture().stream }), 0);
  t.same(JSON.parse(schema.text()), JSON.parse(JSON.stringify(BENCH_RESULT_SCHEMA)));
});

t.test('the JSON validator', async (t) => {
  const schema = {
    type: 'object', required: ['a', 'b'], additionalProperties: false,
    properties: { a: { type: 'integer', minimum: 1 }, b: { type: ['string', 'null'], enum: ['x', null] }, c: { type: 'array', items: { type: 'number' }, minItems: 1 } },
  } as const;
  t.same(validateJson(schema, { a: 1, b: null, c: [1.5] }), []);
  t.match(validateJson(schema, { a: 0, b: 'y', c: [], d: 1 }), [/\$\.a: expected ≥ 1/, /\$\.b: expected one of/, /\$\.c: expected at least 1 items/, /unexpected property `d`/]);
  t.match(validateJson(schema, { b: 'x' }), [/missing required property `a`/]);
  t.match(validateJson(schema, { a: 1.5, b: 'x' }), [/\$\.a: expected integer/]);
  t.match(validateJson({ type: 'number' }, Number.NaN), [/expected number/]);
});

t.test('LoadMeter: own CPU, others and the busy flag', async (t) => {
  const meter = new LoadMeter(1000, 2);
  const wallStart = performance.now();
  meter.start();
  // Spin until this process has used 50 ms of CPU, however busy the machine.
  const cpuStart = process.cpuUsage();
  let spin = 0;
  let used = 0;
  while (used < 50_000) {
    spin++;
    const cpu = process.cpuUsage(cpuStart);
    used = cpu.user + cpu.system;
  }
  meter.stop();
  const wallMs = performance.now() - wallStart;
  const sample = meter.sample();
  t.ok(spin > 0);
  t.equal(sample.windows, 1);
  t.ok(sample.wallMilliseconds > 0 && sample.wallMilliseconds <= wallMs);
  const ownMs = sample.ownCores * sample.wallMilliseconds;
  // process.cpuUsage() also counts V8's own threads (GC, compiler), hence the margin above the spin.
  t.ok(ownMs >= 49 && ownMs <= used / 1000 + 25, `own CPU ${ownMs} ms, spun ${used / 1000} ms`);
  t.equal(sample.busy, false, 'a threshold of 1000 cores is never exceeded');
  if (sample.othersCores !== null) t.ok(sample.othersCores >= 0 && sample.resolutionCores! > 0);
  t.throws(() => new LoadMeter(0).stop(), /without start/);
});

t.test('the naive engine is timed in the pools only within its budget', async (t) => {
  const settings = { threads: [1, 2], naiveReps: 3, warmup: 5, naivePoolBudgetMs: 100 };
  // 3 reps + 1 warm-up per pool: 4·40 ms on one thread + 4·40/2 ms on two = 240 ms.
  t.match(naivePoolDecision(40, settings), { measured: true, reason: /estimated 40\.0 ms .* ≤ 100 ms: timed in full in the pool \(~240 ms in all\)/ });
  t.match(naivePoolDecision(100, settings), { measured: true });
  t.match(naivePoolDecision(100.5, settings), { measured: false, reason: /> 100 ms: not timed in full; the main-thread sample is extrapolated/ });
});

t.test('a tiny benchmark end to end: JSON shape, efficiency, chart files, table', async (t) => {
  const directory = await mkdtemp(join(os.tmpdir(), 'gradpool-bench-test-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const out = join(directory, 'results', 'tiny.json');
  const stdout = capture();
  const stderr = capture();
  const code = await benchCommand(
    ['--quick', '--hidden', '4', '--batch', '5', '--threads', '1,2', '--reps', '1', '--naive-sample', '2', '--naive-pool-budget', '1e12', '--with-numpy', '--python', '/nonexistent/python3', '--json', '--out', out],
    { stdout: stdout.stream, stderr: stderr.stream },
  );
  t.equal(code, 0, stderr.text());
  t.match(stderr.text(), /^\[bench\] /m, 'progress lines on stderr');
  const printed = JSON.parse(stdout.text()) as BenchResult;
  const written = JSON.parse(await readFile(out, 'utf8')) as BenchResult;
  t.same(written, printed, '--json and --out carry the same result');
  t.same(validateBenchResult(written), [], 'validates against the documented schema');

  t.equal(written.schemaVersion, 10);
  t.same(written.settings.threads, [1, 2]);
  t.equal(written.configurations.length, 1);
  const c = written.configurations[0];
  t.match(c, { label: '784-4-10 b5', parameters: 784 * 4 + 4 + 4 * 10 + 10, batch: 5 });
  t.same([...new Set(c.measurements.map((m) => m.engine))].sort(), ['backprop', 'incremental', 'naive']);
  const naiveMain = c.measurements.find((m) => m.engine === 'naive' && m.where === 'main-thread')!;
  t.match(naiveMain, { method: 'sampled-extrapolated', sampledParameters: 8, speedup: null });
  const pooled = c.measurements.filter((m) => m.where === 'pool');
  t.same(pooled.filter((m) => m.engine === 'incremental').map((m) => m.threads), [1, 2]);
  for (const m of pooled) {
    t.equal(m.efficiency, m.speedup! / m.threads, `efficiency = speedup / threads (${m.engine}, ${m.threads})`);
    if (m.threads === 1) t.equal(m.speedup, 1);
    t.equal(m.speedupOfMin, pooled.find((b) => b.engine === m.engine && b.threads === 1)!.msPerGradient.min / m.msPerGradient.min, 'min/min speedup');
    t.equal(m.speedup, pooled.find((b) => b.engine === m.engine && b.threads === 1)!.msPerGradient.median / m.msPerGradient.median, 'speedup = median at 1 thread / median');
  }
  t.equal(c.naivePool.measured, true, 'a budget no estimate exceeds times the naive engine in the pool');
  t.same(pooled.filter((m) => m.engine === 'naive').map((m) => m.threads), [1, 2]);
  // The machine's ceiling: one gradient per worker (--quick) in a round after each round of the pools (reps 1):
  // one after the Trainer's pattern, one after the library pattern.
  t.same(c.ceiling.map((m) => [m.threads, m.rounds, m.gradientsPerRound, m.msPerGradient.samples.length]), [[1, 2, 1, 2], [2, 2, 1, 4]]);
  t.equal(c.ceiling[0].speedup, 1);
  const twoWorkers = c.ceiling[1];
  t.ok(twoWorkers.speedup! > 0 && Number.isFinite(twoWorkers.speedup!), `two workers: ${twoWorkers.speedup}×`);
  // The split floor: from two workers, a round of split gradients after each round of whole ones.
  t.equal(c.ceiling[0].split, null, 'no split floor for one worker');
  t.equal(twoWorkers.split!.msPerGradient.samples.length, 2, 'one sample a round');
  t.ok(twoWorkers.split!.speedup! > 0 && Number.isFinite(twoWorkers.split!.speedup!), `split: ${twoWorkers.split!.speedup}×`);
  t.equal(twoWorkers.split!.ofCeiling, twoWorkers.split!.speedup! / twoWorkers.speedup!);
  for (const m of pooled) {
    const expected = m.engine === 'incremental' ? m.speedup! / c.ceiling.find((x) => x.threads === m.threads)!.speedup! : null;
    t.equal(m.ofCeiling, expected, `of ceiling (${m.engine}, ${m.threads})`);
  }
  t.same(c.epochs.map((e) => `${e.engine}:${e.threads}:${e.method}`), ['incremental:1:extrapolated', 'incremental:2:extrapolated', 'backprop:1:extrapolated', 'naive:1:computed']);
  for (const e of c.epochs) t.ok(Math.abs(e.epochMs - (e.iterationsPerEpoch * e.msPerIteration + e.evaluationMs)) < 1e-6);
  // The Trainer's own gradient calls: one per timed iteration in the pool, none on the main thread.
  t.same(c.epochs.map((e) => e.gradientCalls?.calls ?? null), [c.epochs[0].iterationsTimed, c.epochs[1].iterationsTimed, null, null]);
  t.equal(c.epochs[0].iterationsPerEpoch, Math.ceil(written.dataset.trainRows / 5));
  t.same(c.amdahl.map((a) => a.engine), ['incremental', 'naive']);
  t.match(written.numpy, { requested: true, available: false, reason: /nonexistent/ });
  t.equal(c.numpy, null);

  // 1. The kernel ratio, from the interleaved main-thread rows of the same run.
  const main = (engine: string) => c.measurements.find((m) => m.engine === engine && m.where === 'main-thread')!;
  t.match(main('incremental'), { threads: 1, method: 'measured', reps: 1, speedup: null, ofCeiling: null });
  t.equal(main('incremental').msPerGradient.samples.length, main('backprop').msPerGradient.samples.length, 'as many incremental as backprop calls (interleaved)');
  t.equal(c.kernelRatio.incrementalMs, main('incremental').msPerGradient.median);
  t.equal(c.kernelRatio.backpropMs, main('backprop').msPerGradient.median);
  t.equal(c.kernelRatio.ratio, main('incremental').msPerGradient.median / main('backprop').msPerGradient.median, 'ratio = incremental / backprop');
  const poolOne = pooled.find((m) => m.engine === 'incremental' && m.threads === 1)!;
  t.equal(c.kernelRatio.poolOneThreadMs, poolOne.msPerGradient.median);
  t.equal(c.kernelRatio.poolOneThreadRatio, poolOne.msPerGradient.median / main('backprop').msPerGradient.median);

  // 3. The library pattern: a row for each thread count, speedup against its own one thread, of ceiling against the same ceiling.
  t.match(c.libraryPattern, { gapMs: 1, description: /number\[\]\[\].*numericalGradient/ });
  const library = c.libraryPattern.measurements;
  t.same(library.map((m) => [m.engine, m.where, m.threads]), written.settings.threads.map((n) => ['incremental', 'pool', n]), 'a library-pattern row for each thread count');
  const libraryOne = library.find((m) => m.threads === 1)!;
  for (const m of library) {
    t.equal(m.speedup, libraryOne.msPerGradient.median / m.msPerGradient.median, `library speedup (${m.threads})`);
    t.equal(m.ofCeiling, m.speedup! / c.ceiling.find((x) => x.threads === m.threads)!.speedup!, `library of ceiling (${m.threads})`);
    t.ok(m.overheadMs !== null && m.imbalance !== null, 'the pool reported its tasks');
  }
  t.ok(chartRows(written).some((r) => r.engine === 'incremental, library pattern' && r.threads === 2), 'the library pattern in the chart');

  // 2. The serial part, measured per call, and Amdahl's law applied to the serial fraction it gives.
  t.same(c.serial.map((p) => p.pattern), ['trainer', 'library']);
  const cores = written.machine.availableParallelism;
  for (const part of c.serial) {
    const rows = (part.pattern === 'trainer' ? pooled.filter((m) => m.engine === 'incremental') : library);
    const expectedThreads = Math.max(...rows.filter((m) => m.threads <= cores).map((m) => m.threads));
    t.equal(part.threads, expectedThreads, 'the largest thread count within the cores');
    t.equal(part.serialMs, rows.find((m) => m.threads === part.threads)!.overheadMs);
    t.same(part.byThreads, rows.map((m) => ({ threads: m.threads, serialMs: m.overheadMs })));
    t.equal(part.oneThreadMs, rows.find((m) => m.threads === 1)!.msPerGradient.median);
    t.equal(part.serialFraction, Math.min(1, Math.max(0, part.serialMs / part.oneThreadMs)));
    t.same(part.predictions.map((p) => p.threads), [8, 16, 64]);
    for (const p of part.predictions) {
      const s = part.serialFraction;
      t.ok(Math.abs(p.speedup - 1 / (s + (1 - s) / p.threads)) < 1e-12, `Amdahl at ${p.threads}: 1 / (s + (1 − s)/n)`);
    }
  }

  // Calls by their place in the block (here blocks of one: every call at the first place).
  t.equal(written.settings.block, 1);
  for (const m of [...c.measurements, ...library]) {
    t.same(m.msByBlockPosition, m.where === 'main-thread' ? null : [m.msPerGradient.median], `${m.engine} ${m.where} ${m.threads}: by place in the block`);
    t.same(m.overheadMsByBlockPosition, m.overheadMs === null ? null : [m.overheadMs], `${m.engine} ${m.where} ${m.threads}: serial part by place in the block`);
  }
  t.notMatch(formatReport(written), /by their place in a block/, 'no line for blocks of one');
  const blocks = structuredClone(written);
  blocks.settings.block = 3;
  for (const m of blocks.configurations[0].measurements) {
    if (m.engine !== 'incremental' || m.where !== 'pool') continue;
    m.msByBlockPosition = m.threads === 1 ? [2.5, 2.25, 2.125] : [1.75, 1.5, 1.25];
    m.overheadMsByBlockPosition = m.threads === 1 ? [0.5, 0.25, 0.125] : [0.375, 0.25, 0.0625];
  }
  t.match(formatReport(blocks), /Incremental calls by their place in a block of 3 \(median ms; the first follows [^)]*\): 1 thread 2\.500, 2\.250, 2\.125; 2 threads 1\.750, 1\.500, 1\.250\n/);
  t.match(formatReport(blocks), /Their serial part by the same place \(wall − slowest task, median ms; [^)]*\): 1 thread 0\.500, 0\.250, 0\.125; 2 threads 0\.375, 0\.250, 0\.063\n/);
  const blockGoals = goalChecks(blocks.configurations[0], null);
  const backToBack = blockGoals.find((g) => g.id === 'serialMsBackToBack')!;
  const serialThreads = blocks.configurations[0].serial[0].threads;
  t.equal(serialThreads, Math.min(2, os.availableParallelism()), 'the serial part at the most threads within the cores');
  t.match(backToBack, {
    value: serialThreads === 1 ? 0.125 : 0.0625, status: 'info',
    note: `median ms at each place: ${serialThreads === 1 ? '0.500, 0.250, 0.125' : '0.375, 0.250, 0.063'}; the first follows the threads' sleep`,
  }, 'the last place, at the serial part\'s thread count');
  const blockWake = blocks.configurations[0].wakeAfterRound!;
  // A serving session ends after 200 ms without a call; a pool's gap is a round give or take the other pools' blocks.
  const sessionNote = (pauseMs: number) => (pauseMs > 200 ? '; rounds this long outlast a serving session\'s 200 ms idle end: most first calls also start a new session'
    : pauseMs > 150 ? '; rounds this long come near a serving session\'s 200 ms idle end: some first calls may also start a new session' : '');
  t.match(blockGoals.find((g) => g.id === 'wakeAfterRoundMs'), {
    value: blockWake.ms.median, status: 'info',
    note: `asleep ${blockWake.pauseMs.toFixed(1)} ms (median), woken once per round; the first place's serial part ${serialThreads === 1 ? '0.500' : '0.375'} ms, the last's ${serialThreads === 1 ? '0.125' : '0.063'} ms${sessionNote(blockWake.pauseMs)}`,
  }, 'the host\'s wake-up beside the first and last places');
  const hostLine = (pauseMs: number) => `The host's part of a first place: ${serialThreads} bare thread${serialThreads === 1 ? '' : 's'} asleep about as long as a pool's between its blocks (${formatMs(pauseMs)} ms, the median round), `
    + `woken once per round with nothing else running and waited for: median ${formatMs(blockWake.ms.median)} ms, min ${formatMs(blockWake.ms.min)} ms (1 round)${sessionNote(pauseMs)}\n`;
  t.ok(formatReport(blocks).includes(hostLine(blockWake.pauseMs)), 'the host\'s part, under the places');
  const longRounds = structuredClone(blocks);
  for (const pauseMs of [250, 170, 120]) {
    longRounds.configurations[0].wakeAfterRound!.pauseMs = pauseMs;
    t.ok(formatReport(longRounds).includes(hostLine(pauseMs)), `rounds of ${pauseMs} ms`);
  }
  t.match(goalChecks(longRounds.configurations[0], null).find((g) => g.id === 'wakeAfterRoundMs')!.note, /0\.063 ms$|0\.125 ms$/, 'rounds of 120 ms: no word of the idle end');
  // Where it goes: every served (incremental) pool row splits its serial part; main-thread rows have nothing to split.
  for (const m of [...c.measurements, ...library]) {
    const served = m.engine === 'incremental' && m.where === 'pool';
    t.equal(m.serialParts !== null, served, `${m.engine} ${m.where} ${m.threads}: serial parts ${served ? '' : 'not '}split`);
  }

  // The floor under the serial part: round trips to a sleeping worker, summarized from their own samples.
  const wake = written.wakeRoundTrip;
  t.equal(wake.pauseMs, 1);
  t.equal(wake.ms.samples.length, 40, 'every round trip after the untimed first');
  t.ok(wake.ms.samples.every((ms) => ms > 0), 'each round trip takes time');
  const sortedWake = [...wake.ms.samples].sort((a, b) => a - b);
  t.same([wake.ms.min, wake.ms.median, wake.ms.max], [sortedWake[0], (sortedWake[19] + sortedWake[20]) / 2, sortedWake[39]]);
  t.equal(wake.workers, 1);
  // The host's part of a block's first call: as many threads as the serial part's pool, woken once per round of the Trainer's pattern.
  const wakeAfter = c.wakeAfterRound!;
  t.match(wakeAfter, { workers: c.serial[0].threads, description: /once per round of the Trainer's pattern/ });
  t.equal(wakeAfter.ms.samples.length, Math.ceil(written.settings.reps / written.settings.block), 'one round trip per round');
  t.ok(wakeAfter.ms.samples.every((ms) => ms > 0), 'each round trip takes time');
  t.ok(wakeAfter.pauseMs > 0, 'the probe\'s threads slept before their round trip');

  // 4. The optional tfjs peer of the epoch line.
  if (written.tfjs.available) {
    t.ok(c.peerEpoch !== null && c.peerEpoch.overBackprop === c.peerEpoch.epochMs / c.epochs.find((e) => e.engine === 'backprop')!.epochMs);
  } else {
    t.match(written.tfjs, { attempted: true, available: false, reason: /@tensorflow\/tfjs/, version: null, backend: null });
    t.notMatch(written.tfjs.reason!, /\n/, 'one line');
    t.equal(c.peerEpoch, null);
  }

  // The goals block: every figure, its goal, met or not, checked against the figures above.
  const goal = (id: GoalCheck['id']) => c.goals.find((g) => g.id === id)!;
  t.same(c.goals.map((g) => g.id), ['kernelRatio', 'kernelRatioPool', 'serialMs', 'serialMsBackToBack', 'wakeAfterRoundMs', 'serialMsTrainerRun', 'serialMsLibrary', 'amdahlAt8', 'amdahlAt16', 'amdahlAt64', 'amdahlAt16WakeUpsOnly', 'ofCeilingTrainer', 'ofCeilingLibrary', 'ofCeilingAllowedTrainer', 'ofCeilingAllowedLibrary', 'ofCeilingFloorLibrary', 'ofCeilingSplit', 'speedupLibrary', 'epochIncremental', 'epochBackprop', 'epochPeer']);
  t.match(goal('kernelRatio'), { value: c.kernelRatio.ratio, comparison: '<=', goal: 2.5, must: 3.5 });
  t.match(goal('serialMs'), { value: c.serial[0].serialMs, comparison: '<=', goal: 0.1, must: 0.25 });
  t.match(goal('serialMsLibrary'), { value: c.serial[1].serialMs, goal: null, status: 'info' });
  t.match(goal('serialMsBackToBack'), { value: null, status: 'n/a', note: 'blocks of one call: no call back to back' });
  const runCalls = c.epochs.find((e) => e.engine === 'incremental' && e.threads === c.serial[0].threads)!.gradientCalls!;
  t.match(goal('serialMsTrainerRun'), { value: runCalls.serialMs, comparison: null, note: new RegExp(`^${runCalls.calls} calls \\(extrapolated epoch\\)`) }, 'the epoch at the serial part\'s thread count');
  t.match(goal('amdahlAt16'), { value: c.serial[0].predictions[1].speedup, comparison: '>=', goal: 12, must: null });
  // The serial part the goal allows: s ≤ 1/45 of the one-thread call.
  t.equal(goal('amdahlAt16').note, `12× needs a serial part ≤ ${(c.serial[0].oneThreadMs / 45).toFixed(3)} ms (fraction ≤ ${(1 / 45).toFixed(4)}) of this run's ${c.serial[0].oneThreadMs.toFixed(2)} ms one-thread call`);
  t.equal(goal('amdahlAt8').note, null);
  t.match(goal('ofCeilingTrainer'), { value: pooled.find((m) => m.engine === 'incremental' && m.threads === 2)!.ofCeiling, comparison: '>=', goal: 0.9 });
  t.match(goal('ofCeilingLibrary'), { value: library.find((m) => m.threads === 2)!.ofCeiling, comparison: '>=', goal: 0.9 });
  t.match(goal('ofCeilingSplit'), { value: c.ceiling[1].split!.ofCeiling, comparison: null, status: 'info' });
  for (const [id, rows] of [['ofCeilingAllowedTrainer', pooled], ['ofCeilingAllowedLibrary', library]] as const) {
    const one = rows.find((m) => m.engine === 'incremental' && m.threads === 1)!;
    const two = rows.find((m) => m.engine === 'incremental' && m.threads === 2)!;
    const c2 = c.ceiling[1].speedup!;
    t.match(goal(id), { value: one.msPerGradient.median / (two.overheadMs! + (one.msPerGradient.median - one.overheadMs!) / c2) / c2, comparison: null, status: 'info' }, id);
  }
  // The floors: the same laws with only the threads' wake-ups as the serial part, from the rows' own medians.
  const trainerAt = pooled.find((m) => m.engine === 'incremental' && m.threads === c.serial[0].threads)!;
  const wakeFraction = Math.min(1, Math.max(0, trainerAt.serialParts!.wakeUpsMs / c.serial[0].oneThreadMs));
  t.ok(Math.abs(goal('amdahlAt16WakeUpsOnly').value! - 1 / (wakeFraction + (1 - wakeFraction) / 16)) < 1e-12, 'Amdahl at 16 from the wake-ups alone');
  t.match(goal('amdahlAt16WakeUpsOnly'), { comparison: null, status: 'info', note: new RegExp(`^Atomics.notify \\+ the worker's wake-up \\+ the main thread's: ${trainerAt.serialParts!.wakeUpsMs.toFixed(3)} ms of the ${c.serial[0].serialMs.toFixed(3)} ms serial part at ${c.serial[0].threads} threads`) });
  for (const m of [...pooled.filter((m) => m.engine === 'incremental'), ...library]) {
    t.ok(m.slowestTaskMs !== null && m.slowestTaskMs > 0 && m.slowestTaskMs <= m.msPerGradient.max, `${m.threads} threads: the slowest task (${m.slowestTaskMs}) within the calls' wall times`);
  }
  const libraryOneRow = library.find((m) => m.threads === 1)!;
  const libraryTwoRow = library.find((m) => m.threads === 2)!;
  const floor = (libraryOneRow.slowestTaskMs! + libraryOneRow.serialParts!.wakeUpsMs) / (libraryTwoRow.slowestTaskMs! + libraryTwoRow.serialParts!.wakeUpsMs) / c.ceiling[1].speedup!;
  t.ok(Math.abs(goal('ofCeilingFloorLibrary').value! - floor) < 1e-12, 'the library pattern\'s floor from its tasks and wake-ups');
  t.equal(goal('speedupLibrary').value, library.find((m) => m.threads === 2)!.speedup);
  t.equal(goal('epochIncremental').value, Math.min(...c.epochs.filter((e) => e.engine === 'incremental').map((e) => e.epochMs)));
  t.equal(goal('epochBackprop').value, c.epochs.find((e) => e.engine === 'backprop')!.epochMs);
  if (!written.tfjs.available) t.match(goal('epochPeer'), { value: null, status: 'n/a', note: written.tfjs.reason });
  // 784-4-10 at batch 5, not the book's net the goals are for: every figure is shown beside its goal, none judged.
  t.equal(c.goalsJudged, false);
  for (const g of c.goals) t.equal(g.status, g.value === null ? 'n/a' : 'info', `status of ${g.id}`);
  t.equal(c.goals.find((g) => g.id === 'kernelRatio')!.goal, 2.5, 'the goal is still given');
  // The same figures judged (as for 784-50-10 at batch 100).
  for (const g of goalChecks(c, written.tfjs.available ? null : written.tfjs.reason)) {
    const expected = g.value === null ? 'n/a' : g.goal === null ? 'info'
      : (g.comparison === '<=' ? g.value <= g.goal : g.value >= g.goal) ? 'met'
        : g.must !== null && (g.comparison === '<=' ? g.value <= g.must : g.value >= g.must) ? 'must-met' : 'missed';
    t.equal(g.status, expected, `judged: status of ${g.id}`);
  }
  t.ok(judgedByGoals({ inputSize: 784, hiddenSize: 50, outputSize: 10 }, 100), 'the book\'s net at batch 100 is judged');
  for (const [shape, batch] of [[{ inputSize: 784, hiddenSize: 4, outputSize: 10 }, 100], [{ inputSize: 784, hiddenSize: 50, outputSize: 10 }, 32], [{ inputSize: 2, hiddenSize: 50, outputSize: 10 }, 100], [{ inputSize: 784, hiddenSize: 50, outputSize: 3 }, 100]] as const) {
    t.notOk(judgedByGoals(shape, batch), `${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} at batch ${batch} is not`);
  }

  // Chart next to the JSON.
  t.same(written.outputs.chart, { svg: join(directory, 'results', 'tiny.svg'), png: join(directory, 'results', 'tiny.png') });
  const svg = await readFile(written.outputs.chart!.svg, 'utf8');
  t.match(svg, /^<svg /);
  const png = await readFile(written.outputs.chart!.png);
  t.same([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  t.equal(chartBase('a/b.json'), 'a/b');
  t.equal(chartBase('a/b.svg'), 'a/b');
  t.equal(chartBase('a/b'), 'a/b');
  t.ok(chartRows(written).some((r) => r.engine === 'incremental' && r.threads === 2));
  t.same(chartRows(written).filter((r) => r.engine === 'machine ceiling').map((r) => [r.threads, r.speedup, r.msPerGradient]), c.ceiling.map((m) => [m.threads, m.speedup, Number.NaN]), 'the ceiling, speedup panel only');
  t.same(chartRows(written).filter((r) => r.engine === 'split, no pool').map((r) => [r.threads, r.speedup]), [[1, 1], [2, c.ceiling[1].split!.speedup]], 'the split alone from the same one-worker start');

  // The table, including the busy marker.
  const busy = structuredClone(written);
  busy.configurations[0].measurements[0].load = { ...busy.configurations[0].measurements[0].load, busy: true, othersCores: 1.5, reason: 'test' };
  busy.load.unreliable = true;
  const report = formatReport(busy);
  t.match(report, /TwoLayerNet 784-4-10 sigmoid, batch 5/);
  t.match(report, /The machine's ceiling: N workers computing whole gradients at once on private copies, nothing shared \(2 rounds of 1 gradient each\)/);
  t.match(report, /\(only 2 rounds: too few to judge the machine; 5 or more with more --reps\)/);
  const short = structuredClone(written);
  for (const m of short.configurations[0].ceiling) m.rounds = 8;
  short.configurations[0].ceiling[1].speedup = 2.5;
  t.match(formatReport(short), /→ 2 workers measured 2\.50×, more than 2×: the one-worker rounds were slowed by something else; this ceiling is unreliable\./);
  t.notMatch(formatReport(short), /workers get/, 'no SMT conclusion from an unreliable ceiling');
  short.configurations[0].ceiling[1].speedup = 1.12;
  t.match(formatReport(short), /→ 2 workers get 1\.12× one worker's throughput, not ~2×: these logical cores share physical ones \(SMT\) or the host is busy/);
  short.configurations[0].ceiling[1].speedup = 1.95;
  t.notMatch(formatReport(short), /workers get/, 'no warning near the cores');
  t.match(report, /incremental\s+2\s/);
  t.match(report, /1\.50 !/);
  t.match(report, /BUSY/);
  t.match(report, /numpy: not available/);
  t.match(report, /Amdahl fit \(incremental/);
  t.match(report, new RegExp(`Floor under the serial part of a pool call here: waking a sleeping worker .* 1 ms apart\\): median ${formatMs(busy.wakeRoundTrip.ms.median).replace('.', '\\.')} ms`));
  t.match(report, /incremental \(main\)\s+1\s/);
  t.match(report, /A library caller's pattern: number\[\]\[\] through pool\.numericalGradient\(net, x, t\), 1\.000 ms of busy main-thread work before each call:/);
  t.match(report, /Kernel ratio: incremental .* ÷ backprop .* = \d+\.\d\d× \(goal ≤ 2\.5×, must ≤ 3\.5×\)/);
  t.match(report, /Serial part of a pool call \(Trainer's pattern, wall − slowest task, median\): .* → Amdahl 8 threads .*16 threads .*64 threads/);
  t.match(report, /Serial part of a pool call \(library pattern/);
  t.match(report, /Serial part of a pool call \(Trainer's pattern[^\n]*\n {4}where it goes at \d threads? \(medians\): main thread to post -?[\d.,]+ ms, Atomics\.notify -?[\d.,]+, the slowest task's worker awake -?[\d.,]+ (later|before notify returned \(it was polling, or it took the main thread's core\)), the other workers done -?[\d.,]+ after it, the main thread sees it -?[\d.,]+ later and returns in -?[\d.,]+\n/);
  t.match(report, /\n {2}Goals \(issue 12\) are set for TwoLayerNet 784-50-10 at batch 100: this configuration's figures beside them, not judged\n/, 'a smoke run says its goals are not judged');
  t.match(report, /kernel ratio: incremental on 1 thread ÷ backprop .*≤ 2\.50×\s+≤ 3\.50×/);
  t.match(report, /of ceiling at 2 threads, library pattern/);
  if (!written.tfjs.available) t.match(report, /\n {4}peer: @tensorflow\/tfjs[^\n]*no tfjs epoch[^\n]*\n/, 'one line when the peer is absent');
  const met = structuredClone(written);
  met.configurations[0].goalsJudged = true;
  met.configurations[0].goals = goalChecks({ ...met.configurations[0], kernelRatio: { ...met.configurations[0].kernelRatio, ratio: 3 } }, null);
  t.match(formatReport(met), /kernel ratio: [^\n]*3\.00×\s+≤ 2\.50×\s+≤ 3\.50×\s+must met, goal missed/);
  t.match(formatReport(met), /\n {2}Goals \(issue 12\), all from this run: \d of 5 goals met, \d more within the must/);
  // With the peer (as a tfjs run reports it): its epoch line, its goal row, and the shape.
  const peered = structuredClone(written);
  const backpropEpochMs = peered.configurations[0].epochs.find((e) => e.engine === 'backprop')!.epochMs;
  peered.tfjs = { attempted: true, available: true, reason: null, version: '4.22.0', backend: 'wasm 4.22.0, single-threaded' };
  peered.configurations[0].peerEpoch = {
    library: '@tensorflow/tfjs', version: '4.22.0', backend: 'wasm 4.22.0, single-threaded', description: 'test', iterationsPerEpoch: 1600,
    msPerIteration: 1, evaluationMs: 200, epochMs: 1800, overBackprop: 1800 / backpropEpochMs, load: peered.configurations[0].measurements[0].load,
  };
  peered.configurations[0].goals = goalChecks(peered.configurations[0], null);
  t.same(validateBenchResult(peered), []);
  t.match(formatReport(peered), /\n {4}peer: @tensorflow\/tfjs 4\.22\.0 \(wasm 4\.22\.0, single-threaded\), backprop: epoch 1\.80s, 1\.000 ms\/iteration, evaluation 200\.0 ms = \d+\.\d\d× gradpool's backprop epoch/);
  t.match(peered.configurations[0].goals.find((g) => g.id === 'epochPeer'), { value: 1800, status: 'info', note: /× gradpool's backprop epoch/ });

  // The schema rejects a result with a missing or mistyped field.
  const broken = structuredClone(written) as unknown as Record<string, unknown>;
  delete broken.machine;
  (broken.settings as Record<string, unknown>).reps = 'seven';
  const errors = validateBenchResult(broken);
  t.ok(errors.some((e) => /missing required property `machine`/.test(e)));
  t.ok(errors.some((e) => /\$\.settings\.reps: expected integer/.test(e)));
  const noGoals = structuredClone(written) as unknown as { configurations: Array<Record<string, unknown>> };
  delete noGoals.configurations[0].goals;
  (noGoals.configurations[0].serial as Array<Record<string, unknown>>)[0].serialFraction = 1.5;
  const goalErrors = validateBenchResult(noGoals);
  t.ok(goalErrors.some((e) => /missing required property `goals`/.test(e)));
  t.ok(goalErrors.some((e) => /serial\[0\]\.serialFraction: expected ≤ 1/.test(e)));
});

t.test('a serial part split along the slowest task: a hand-made timeline', async (t) => {
  // Slot 0 woke 0.06 ms after the call's start and worked 2.00 ms; slot 1 woke at 0.09 and worked 1.99 ms.
  const timeline = { posted: 0.03, notified: 0.05, woke: [0.06, 0.09], reported: [2.06, 2.08], collected: 2.1 };
  const parts = splitSerialPart({ taskMilliseconds: [2.0, 1.99], timeline }, 2.13);
  // Waking: notify 0.02 + the slowest task's worker 0.01 + the main thread 0.02 = 0.05.
  const expected = { postMs: 0.03, notifyMs: 0.02, wakeMs: 0.01, tailMs: 0.02, seenMs: 0.02, returnMs: 0.03, wakeUpsMs: 0.05 };
  for (const key of Object.keys(expected) as Array<keyof typeof expected>) t.ok(Math.abs(parts[key] - expected[key]) < 1e-12, `${key}: ${expected[key]}`);
  const sum = parts.postMs + parts.notifyMs + parts.wakeMs + parts.tailMs + parts.seenMs + parts.returnMs;
  t.ok(Math.abs(sum - (2.13 - 2.0)) < 1e-12, 'the six parts add up to wall − the slowest task');
  // A worker that was polling may see the call before the main thread is back from notify.
  const polled = splitSerialPart({ taskMilliseconds: [2.0, 1.99], timeline: { ...timeline, woke: [0.04, 0.09], reported: [2.04, 2.08] } }, 2.13);
  t.ok(Math.abs(polled.wakeMs + 0.01) < 1e-12, 'a negative wake-up');
  // notify + wake-up is woke − posted, never negative: 0.02 − 0.01 + seen (2.1 − 2.08 = 0.02) = 0.03.
  t.ok(Math.abs(polled.wakeUpsMs - 0.03) < 1e-12, `the wake-ups stay non-negative: ${polled.wakeUpsMs}`);
  t.same(medianSerialParts([]), null);
  t.same(medianSerialParts([expected, { ...expected, postMs: 0.5 }, { ...expected, postMs: 0.04, wakeUpsMs: 0.01 }]), { ...expected, postMs: 0.04 }, 'the median of each part');
  // The wake-ups' median is of per-call sums, not a sum of medians: each call woke slowly in a different part.
  const zero = { postMs: 0, notifyMs: 0, wakeMs: 0, tailMs: 0, seenMs: 0, returnMs: 0 };
  t.same(medianSerialParts([{ ...zero, notifyMs: 1, wakeUpsMs: 1 }, { ...zero, wakeMs: 1, wakeUpsMs: 1 }, { ...zero, seenMs: 1, wakeUpsMs: 1 }]), { ...zero, wakeUpsMs: 1 }, 'the median of the wake-ups, per call');
});

t.test('goal figures from synthetic measurements: status, serial part and Amdahl, kernel ratio', async (t) => {
  t.equal(goalStatus(2.5, '<=', 2.5, 3.5), 'met');
  t.equal(goalStatus(3.5, '<=', 2.5, 3.5), 'must-met');
  t.equal(goalStatus(3.6, '<=', 2.5, 3.5), 'missed');
  t.equal(goalStatus(0.9, '>=', 0.9, null), 'met');
  t.equal(goalStatus(0.89, '>=', 0.9, null), 'missed');
  t.equal(goalStatus(null, '>=', 0.9, null), 'n/a');
  t.equal(goalStatus(Number.NaN, '<=', 1, null), 'n/a');
  t.equal(goalStatus(7, null, null, null), 'info');
  t.same(GOALS, {
    kernelRatio: { comparison: '<=', goal: 2.5, must: 3.5 }, serialMs: { comparison: '<=', goal: 0.1, must: 0.25 },
    amdahlAt16: { comparison: '>=', goal: 12, must: null }, ofCeiling: { comparison: '>=', goal: 0.9, must: null },
  }, 'the goals of issue 12');

  const row = (engine: EngineMeasurement['engine'], where: EngineMeasurement['where'], threads: number, median: number, overheadMs: number | null): EngineMeasurement => ({
    engine, where, threads, method: 'measured', sampledParameters: null, reps: 1, warmup: 0,
    msPerGradient: { median, min: median, max: median, mean: median, samples: [median] },
    speedup: null, efficiency: null, speedupOfMin: null, oversubscribed: threads > 2, overheadMs, slowestTaskMs: null, serialParts: null, msByBlockPosition: null, overheadMsByBlockPosition: null, imbalance: 1, ofCeiling: null,
    load: new LoadMeter(1).sample(),
  });
  // 10 ms on one thread; 0.08 ms serial at 2 threads (within 2 cores), 0.5 ms at 3 (oversubscribed, not used).
  const rows = [row('incremental', 'pool', 1, 10, 0.05), row('incremental', 'pool', 2, 5.2, 0.08), row('incremental', 'pool', 3, 4, 0.5), row('naive', 'pool', 1, 99, 9)];
  const part = serialPartOf('trainer', rows, 2)!;
  t.match(part, { pattern: 'trainer', threads: 2, serialMs: 0.08, oneThreadMs: 10 });
  t.ok(Math.abs(part.serialFraction - 0.008) < 1e-15);
  t.same(part.byThreads, [{ threads: 1, serialMs: 0.05 }, { threads: 2, serialMs: 0.08 }, { threads: 3, serialMs: 0.5 }]);
  // s = 0.008: S(16) = 1 / (0.008 + 0.992/16) = 1 / 0.07 = 14.2857…
  t.ok(Math.abs(part.predictions[1].speedup - 1 / 0.07) < 1e-9, `S(16) = ${part.predictions[1].speedup}`);
  t.equal(serialPartOf('trainer', rows, 1)!.threads, 1, 'one core: the one-thread call');
  t.equal(serialPartOf('trainer', [row('incremental', 'pool', 2, 5, 0.1)], 2), null, 'no one-thread row: nothing to divide by');
  t.equal(serialPartOf('library', [row('incremental', 'pool', 1, 1, 3)], 2)!.serialFraction, 1, 'clamped to 1');

  const kernel = kernelRatioOf([row('backprop', 'main-thread', 1, 4, null), row('incremental', 'main-thread', 1, 10, null), ...rows]);
  t.match(kernel, { incrementalMs: 10, backpropMs: 4, ratio: 2.5, poolOneThreadMs: 10, poolOneThreadRatio: 2.5 });
  t.match(kernelRatioOf(rows), { ratio: null, poolOneThreadRatio: null });

  const checks = goalChecks({
    measurements: [row('backprop', 'main-thread', 1, 4, null), row('incremental', 'main-thread', 1, 10, null), ...rows.slice(0, 2).map((m) => ({ ...m, speedup: 10 / m.msPerGradient.median, ofCeiling: m.threads === 2 ? 0.95 : 1 }))],
    kernelRatio: kernel, serial: [part], libraryPattern: { description: '', gapMs: 3, measurements: [] }, epochs: [], peerEpoch: null,
    // Two workers: 1.9× one worker's throughput whole, 1.6× splitting.
    ceiling: [{
      threads: 2, rounds: 5, gradientsPerRound: 4, msPerGradient: { median: 10, min: 10, max: 10, mean: 10, samples: [10] }, speedup: 1.9,
      split: { msPerGradient: { median: 6, min: 6, max: 6, mean: 6, samples: [6] }, speedup: 1.6, ofCeiling: 1.6 / 1.9 }, load: new LoadMeter(1).sample(),
    }],
  }, 'absent');
  const byId = Object.fromEntries(checks.map((g) => [g.id, g]));
  // By place in the block: the serial part's thread count (2, within the cores), not the oversubscribed 3.
  const placed = rows.slice(0, 3).map((m, i) => ({ ...m, msByBlockPosition: [3, 2], overheadMsByBlockPosition: [[0.3, 0.05], [0.2, 0.07], [0.9, 0.6]][i] }));
  const placedGoals = goalChecks({ measurements: placed, kernelRatio: kernel, serial: [part], libraryPattern: { description: '', gapMs: 3, measurements: [] }, epochs: [], peerEpoch: null, ceiling: [] }, 'absent');
  t.match(placedGoals.find((g) => g.id === 'serialMsBackToBack'), { value: 0.07, note: 'median ms at each place: 0.200, 0.070; the first follows the threads\' sleep' });
  const unplaced = placed.map((m) => ({ ...m, overheadMsByBlockPosition: null }));
  const unplacedGoals = goalChecks({ measurements: unplaced, kernelRatio: kernel, serial: [part], libraryPattern: { description: '', gapMs: 3, measurements: [] }, epochs: [], peerEpoch: null, ceiling: [] }, 'absent');
  t.match(unplacedGoals.find((g) => g.id === 'serialMsBackToBack'), { value: null, note: 'no serial part by place (calls that reported no tasks)' });
  t.match(byId.kernelRatio, { value: 2.5, status: 'met' });
  t.match(byId.serialMs, { value: 0.08, status: 'met' });
  t.match(byId.amdahlAt16, { status: 'met' });
  t.match(byId.ofCeilingTrainer, { value: 0.95, status: 'met' });
  t.match(byId.ofCeilingLibrary, { value: null, status: 'n/a', note: /no 2-thread pool/ });
  t.match(byId.ofCeilingSplit, { value: 1.6 / 1.9, status: 'info', note: 'speedup 1.60×' });
  // 10 ms on one thread, 0.05 of it serial, 0.08 serial at 2 threads, ceiling 1.9: 10 / (0.08 + 9.95 / 1.9) / 1.9 = 0.98990…
  t.ok(Math.abs(byId.ofCeilingAllowedTrainer.value! - 0.9899029895) < 1e-9, `allowed ${byId.ofCeilingAllowedTrainer.value}`);
  t.match(byId.ofCeilingAllowedTrainer, { status: 'info', note: 'serial 0.080 ms of a 10.000 ms one-thread call (0.050 of it serial), ceiling 1.90×' });
  t.match(byId.ofCeilingAllowedLibrary, { value: null, status: 'n/a', note: 'no one-thread pool row that reported its tasks' });
  // A serial part as long as the tasks' share: 4 ms, 2 of them serial, 2 at 2 threads, ceiling 2: 4 / (2 + 2 / 2) / 2 = 2/3.
  t.ok(Math.abs(ofCeilingAllowed(4, 2, 2, 2) - 2 / 3) < 1e-15);
  t.match(byId.amdahlAt16WakeUpsOnly, { value: null, status: 'n/a', note: 'no served pool row at the serial part\'s thread count' });
  t.match(byId.ofCeilingFloorLibrary, { value: null, status: 'n/a', note: 'no served one-thread or 2-thread pool row, or no ceiling' });
  // With the wake-ups split out: 0.05 ms of waking in a 10 ms one-thread call, s = 0.005: S(16) = 1 / (0.005 + 0.995/16) = 14.8837…
  const parts = (wakeUpsMs: number) => ({ postMs: 0, notifyMs: 0, wakeMs: 0, tailMs: 0, seenMs: 0, returnMs: 0, wakeUpsMs });
  const woken = rows.slice(0, 2).map((m) => ({ ...m, serialParts: parts(0.05) }));
  // The library pattern: slowest tasks 3.0 and 1.7 ms, 0.1 ms of wake-ups each, ceiling 1.9: 3.1 / 1.8 / 1.9 = 0.90643…, the tasks alone 3 / 1.7 / 1.9 = 0.9288.
  const libraryRows = [{ ...rows[0], slowestTaskMs: 3, serialParts: parts(0.1) }, { ...rows[1], slowestTaskMs: 1.7, serialParts: parts(0.1) }];
  const floors = Object.fromEntries(goalChecks({
    measurements: woken, kernelRatio: kernel, serial: [part], libraryPattern: { description: '', gapMs: 3, measurements: libraryRows }, epochs: [], peerEpoch: null,
    ceiling: [{ threads: 2, rounds: 5, gradientsPerRound: 4, msPerGradient: { median: 10, min: 10, max: 10, mean: 10, samples: [10] }, speedup: 1.9, split: null, load: new LoadMeter(1).sample() }],
  }, 'absent').map((g) => [g.id, g]));
  t.ok(Math.abs(floors.amdahlAt16WakeUpsOnly.value! - 1 / (0.005 + 0.995 / 16)) < 1e-12, `S(16) from the wake-ups alone ${floors.amdahlAt16WakeUpsOnly.value}`);
  t.match(floors.amdahlAt16WakeUpsOnly, { status: 'info', note: 'Atomics.notify + the worker\'s wake-up + the main thread\'s: 0.050 ms of the 0.080 ms serial part at 2 threads (median per call); 12× at 16 threads needs a serial part ≤ 0.222 ms' });
  t.ok(Math.abs(floors.ofCeilingFloorLibrary.value! - 3.1 / 1.8 / 1.9) < 1e-12, `library floor ${floors.ofCeilingFloorLibrary.value}`);
  t.match(floors.ofCeilingFloorLibrary, { status: 'info', note: 'its tasks alone 93 % (slowest task 3.000 ms on 1 thread, 1.700 on 2); wake-ups 0.100 and 0.100 ms on 1 and 2 threads (sums of medians)' });
  t.match(byId.epochPeer, { value: null, status: 'n/a', note: 'absent' });
  t.match(byId.epochBackprop, { value: null, note: 'epochs not measured' });
  t.match(byId.serialMsTrainerRun, { value: null, status: 'n/a', note: 'no incremental epoch at 2 threads (epochs not measured)' });
  t.match(byId.wakeAfterRoundMs, { value: null, status: 'n/a', note: 'not measured (no round ran)' });
  // The Trainer's own calls come from the epoch at the serial part's thread count (2), not another.
  const epoch = (threads: number, serialMs: number) => ({
    engine: 'incremental' as const, where: 'pool' as const, threads, method: 'measured' as const, description: '', iterationsPerEpoch: 3, iterationsTimed: 3, msPerIteration: 2, evaluationMs: 1, epochMs: 7,
    gradientCalls: { description: '', calls: 3, msPerCall: 1.5, serialMs, slowestTaskMs: 1.4, serialParts: parts(0.04) }, load: null,
  });
  const run = goalChecks({
    measurements: rows, kernelRatio: kernel, serial: [part], libraryPattern: { description: '', gapMs: 3, measurements: [] }, epochs: [epoch(1, 0.5), epoch(2, 0.09), epoch(3, 0.7)], peerEpoch: null, ceiling: [],
  }, 'absent').find((g) => g.id === 'serialMsTrainerRun');
  t.match(run, { value: 0.09, status: 'info', note: '3 calls (measured epoch), each after the Trainer\'s update, batch loss and next batch; wall 1.500 ms, slowest task 1.400 ms, wake-ups 0.040 ms' });
});

t.test('the kernel pair: the incremental kernel agrees with backprop; library inputs; busy work', async (t) => {
  const net = new TwoLayerNet({ inputSize: 6, hiddenSize: 3, outputSize: 2, seed: 3, weightInitStd: 0.5 });
  const batch = tinyBatch(net, 4);
  const run = measureKernelPair(net, batch, 3, 1, 1e-4, 1000);
  t.equal(run.incrementalMs.length, 3);
  t.equal(run.backpropMs.length, 3);
  t.equal(run.incrementalLoad.windows, 3);
  const difference = maxAbsDifference(run.incrementalGradient, run.backpropGradient);
  t.ok(difference < 1e-6, `central differences (h = 1e-4) ≈ backprop (max difference ${difference})`);

  const inputs = libraryInputs(batch, 6);
  t.equal(inputs.x.length, 4);
  t.ok(inputs.x.every((r) => Array.isArray(r) && r.length === 6));
  t.same(inputs.x.flat(), [...batch.x.subarray(0, 24)]);
  t.same(inputs.t, [...batch.labels]);
  const started = performance.now();
  busyWork(5);
  t.ok(performance.now() - started >= 5, 'busy work lasts at least its time');
  busyWork(0);
});

t.test('the tfjs peer: absent or broken is one line, never a failure', async (t) => {
  const missing = await loadTfjs(async (name) => { throw new Error(`Cannot find package '${name}' imported from /x/y.ts\nmore`); });
  t.same(missing.availability, { attempted: true, available: false, reason: "@tensorflow/tfjs is not importable (Cannot find package '@tensorflow/tfjs')", version: null, backend: null });
  t.equal(missing.tf, null);
  const noWasm = await loadTfjs(async (name) => { if (name.endsWith('wasm')) throw new Error('nope'); return {}; });
  t.match(noWasm.availability, { available: false, reason: '@tensorflow/tfjs-backend-wasm is not importable (nope)' });
  const refused = await loadTfjs(async () => ({ setBackend: async () => false, ready: async () => undefined }));
  t.match(refused.availability, { available: false, reason: /setBackend\('wasm'\) failed/ });
  const fake = { setBackend: async () => true, ready: async () => undefined, env: () => ({ getBool: () => false }), version: { tfjs: '9.9.9' } };
  const loaded = await loadTfjs(async (name) => (name.endsWith('wasm') ? { version_wasm: '9.9.9' } : fake));
  t.same(loaded.availability, { attempted: true, available: true, reason: null, version: '9.9.9', backend: 'wasm 9.9.9, single-threaded' });
  t.equal(loaded.tf, fake);
  // The real import, here: whatever is installed, it never throws.
  const real = await loadTfjs();
  t.equal(real.availability.attempted, true);
});

t.test('the ceiling worker computes on private copies after the start line (also run on the main thread)', async (t) => {
  const net = new TwoLayerNet({ inputSize: 6, hiddenSize: 3, outputSize: 2, seed: 2 });
  const before = net.params.slice();
  const x = Float64Array.of(0, 1, 0.5, 0, 0, 2, 1, 0, 0, 0, 0.25, 0);
  const labels = Int32Array.of(1, 0);
  const start = new Int32Array(new SharedArrayBuffer(4));
  start[0] = 1; // the other worker is already at the start line
  const result = computeWholeGradients({ shape: net.shape, params: net.params, x, labels, rows: 2, h: 1e-4, gradients: 3, start, workers: 2 });
  t.equal(start[0], 2, 'this worker arrived');
  t.ok(result.endedAt >= result.startedAt && result.msPerGradient === (result.endedAt - result.startedAt) / 3);
  t.same([...net.params], [...before], 'the weights are not touched');
  // Throughput of a round, by hand: 2 workers × 2 gradients from t = 0 to t = 12 ms.
  t.equal(roundThroughput([{ startedAt: 0, endedAt: 10, msPerGradient: 5 }, { startedAt: 2, endedAt: 12, msPerGradient: 5 }], 2), 4 / 12);
});

t.test('the split floor\'s worker splits gradients as the pool does: the one-thread kernel\'s gradient bit for bit (also run on the main thread)', async (t) => {
  const dataset = await loadDataset('mnist');
  const net = new TwoLayerNet({ inputSize: dataset.inputSize, hiddenSize: 7, outputSize: dataset.classes, weightInitStd: 0.5, seed: 4 });
  const rows = 12;
  const x = dataset.train.x.subarray(0, rows * dataset.inputSize);
  const labels = dataset.train.labels.subarray(0, rows);
  const expected = new Float64Array(net.params.length);
  incrementalGradientRange(net.params, net.shape, x, rows, labels, prepareIncrementalBase(net.params, net.shape, x, rows, labels), 0, expected.length, expected, 1e-4);
  const task = { shape: net.shape, params: net.params, x, labels, rows, h: 1e-4 };
  // The pool's cuts for one thread (the whole base, one chunk), then for two (4 parts and 16 chunks a thread), all on this thread.
  for (const [cutFor, cuts] of [[1, [1, 1]], [2, [8, 32]]] as const) {
    const split = splitTaskFor(task, cutFor, 3);
    t.same([split.parts, split.chunks], cuts, `the pool's cuts for ${cutFor} thread${cutFor === 1 ? '' : 's'}`);
    const result = await computeSplitGradients({ ...split, workers: 1 });
    t.ok(Buffer.from(split.task.gradient.buffer).equals(Buffer.from(expected.buffer)), `the same bytes, in ${split.parts} parts and ${split.chunks} chunks`);
    t.ok(result.endedAt > result.startedAt && result.msPerGradient === (result.endedAt - result.startedAt) / 3);
    t.same(Array.from(split.barrier), [0, 6], 'the barrier met twice per gradient and left empty');
  }
  // A partner that never comes: the start line gives up, then the barrier throws, naming it.
  const alone = splitTaskFor(task, 2, 1);
  await t.rejects(computeSplitGradients({ ...alone, timeoutMs: 20 }), { message: 'Expected all 2 workers of the split alone at its barrier within 20 ms, got 1 of them there' });

  // Two workers on threads of their own, as the bench runs them: the same bytes, every gradient.
  const filename = siblingModule(new URL('../benchmarks/ceiling.ts', import.meta.url).href, './ceiling.worker');
  const pool = new Piscina<SplitTask, CeilingTaskResult>({ filename, minThreads: 2, maxThreads: 2, ...workerStart(filename) });
  pool.on('error', (error: Error) => t.fail(`ceiling worker: ${error.message}`));
  try {
    const split = { ...splitTaskFor(task, 2, 3), timeoutMs: 30_000 };
    const results = await Promise.all([pool.run(split), pool.run(split)]);
    t.ok(Buffer.from(split.task.gradient.buffer).equals(Buffer.from(expected.buffer)), 'two threads: the same bytes');
    t.same(Array.from(split.barrier), [0, 6], 'two threads met twice per gradient');
    t.equal(results.length, 2);
  } finally {
    await pool.destroy();
  }
  // Throughput of a split round, by hand: 3 gradients, each shared by both workers, from t = 0 to t = 12 ms.
  t.equal(splitRoundThroughput([{ startedAt: 0, endedAt: 9, msPerGradient: 3 }, { startedAt: 1, endedAt: 12, msPerGradient: 11 / 3 }], 3), 3 / 12);
});

t.test('epoch time: a whole Trainer epoch when within budget, else extrapolated', async (t) => {
  const dataset = await loadDataset('mnist');
  const net = new TwoLayerNet({ inputSize: dataset.inputSize, hiddenSize: 4, outputSize: dataset.classes });
  const common = { net, dataset, batchSize: 1000, learningRate: 0.1, seed: 0, busyThresholdCores: 0.25 };
  const ipe = Math.ceil(dataset.train.rows / 1000);
  const measured = await measureEpoch({ ...common, iterations: null, budgetMs: 600_000 });
  t.match(measured, { engine: 'backprop', where: 'main-thread', threads: 1, method: 'measured', iterationsPerEpoch: ipe, iterationsTimed: ipe });
  t.ok(measured.evaluationMs > 0 && measured.evaluationMs < measured.epochMs);
  t.ok(Math.abs(measured.epochMs - (ipe * measured.msPerIteration + measured.evaluationMs)) < 1e-6);
  const extrapolated = await measureEpoch({ ...common, iterations: null, budgetMs: 0 });
  t.match(extrapolated, { method: 'extrapolated', iterationsTimed: EPOCH_FALLBACK_STEPS });
  t.match(await measureEpoch({ ...common, iterations: 2, budgetMs: 600_000 }), { method: 'extrapolated', iterationsTimed: 2 });
  t.equal(net.params[0], new TwoLayerNet({ inputSize: dataset.inputSize, hiddenSize: 4, outputSize: dataset.classes }).params[0], 'the benchmark net is not trained');
});

t.test('the Trainer\'s calls watched: each call made while recording timed, the pool otherwise the same', async (t) => {
  const net = new TwoLayerNet({ inputSize: 6, hiddenSize: 3, outputSize: 2, seed: 3, weightInitStd: 0.5 });
  const batch = tinyBatch(net, 4);
  const pool = new GradientPool({ threads: 2 });
  try {
    const watch = new TrainerCallWatch(pool);
    t.equal(watch.pool.threads, 2, 'its getters read the pool');
    const plain = await pool.gradientOfBatch(net, batch);
    await watch.pool.gradientOfBatch(net, batch);
    t.equal(watch.summary(), null, 'a call while not recording is not counted');
    const seen: PoolCallStatistics[] = [];
    watch.recording = true;
    const watched = await watch.pool.gradientOfBatch(net, batch, { onStatistics: (statistics) => seen.push(statistics) });
    watch.recording = false;
    t.ok(Buffer.from(watched.flat.buffer, watched.flat.byteOffset, watched.flat.byteLength).equals(Buffer.from(plain.flat.buffer, plain.flat.byteOffset, plain.flat.byteLength)), 'the same gradient, bit for bit');
    t.equal(seen.length, 1, 'the caller\'s own onStatistics still hears of the call');
    const summary = watch.summary()!;
    t.match(summary, { calls: 1, slowestTaskMs: Math.max(...seen[0].taskMilliseconds) });
    t.ok(Math.abs(summary.msPerCall - summary.slowestTaskMs - summary.serialMs) < 1e-9, 'the serial part is the wall time less the slowest task');
    t.not(summary.serialParts, null, 'a served call: its serial part split');
    t.equal(await watch.pool.lossOfBatch(net, batch), await pool.lossOfBatch(net, batch), 'its other methods run on the pool itself');
  } finally {
    await pool.destroy();
  }
});

t.test('numpy_naive.py is valid Python', { skip: python.error ? 'python3 not available' : false }, async (t) => {
  const probe = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', new URL('../benchmarks/numpy_naive.py', import.meta.url).pathname], { encoding: 'utf8' });
  t.equal(probe.status, 0, probe.stderr);
});

t.test('the wake-up probe: threads woken together, the last answer awaited; refused once stopped', async (t) => {
  const probe = await WakeProbe.start(2);
  t.equal(probe.results('none yet'), null, 'no round trip before the first');
  const times = [probe.roundTrip(), probe.roundTrip(), probe.roundTrip()];
  const results = probe.results('three')!;
  t.match(results, { description: 'three', workers: 2 });
  t.same(results.ms.samples, times, 'every round trip, in order');
  t.ok(times.every((ms) => ms > 0) && results.pauseMs >= 0);
  await probe.stop();
  await probe.stop();
  t.throws(() => probe.roundTrip(), { message: /^The wake-up round trip failed: a wake-up worker exited with code \d+$/ }, 'its threads gone, a round trip says why');
  t.same(probe.results('three')!.ms.samples, times, 'the failed round trip is not recorded');

  const alone = await measureWakeRoundTrip(3, 1);
  t.match(alone, { description: WAKE_ROUND_TRIP_DESCRIPTION, workers: 1, pauseMs: 1 });
  t.equal(alone.ms.samples.length, 3);
  await t.rejects(measureWakeRoundTrip(0, 1), { name: 'RangeError', message: 'Expected `samples` to be an integer from 1 and up, got 0' });
});
