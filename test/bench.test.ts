import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { AMDAHL_PREDICT_AT, amdahlSpeedup, fitAmdahl } from '../benchmarks/amdahl.js';
import { benchCommand, benchSettings, defaultThreadCounts, parseIntegerList } from '../benchmarks/bench-command.js';
import { chartBase, chartRows } from '../benchmarks/chart.js';
import { EPOCH_FALLBACK_STEPS, measureEpoch } from '../benchmarks/epoch.js';
import { loadDataset } from '../datasets/index.js';
import { validateJson } from '../benchmarks/json-schema.js';
import { LoadMeter } from '../benchmarks/machine.js';
import { extrapolateMilliseconds, measureNaiveSample, sampleParameters, sampledCount } from '../benchmarks/naive-sample.js';
import { checkNumpy, maxAbsDifference, measureNumpy } from '../benchmarks/numpy.js';
import { BENCH_RESULT_SCHEMA, validateBenchResult, type BenchResult } from '../benchmarks/result.js';
import { summarize } from '../benchmarks/stats.js';
import { formatReport } from '../benchmarks/table.js';
import { computeWholeGradients, roundThroughput } from '../benchmarks/ceiling.js';
import { naivePoolDecision } from '../benchmarks/scaling.js';
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
  t.match(benchSettings([]).settings, { ceilingGradients: 4, reps: 40, block: 5 });
  t.match(benchSettings(['--reps', '7', '--block', '3']).settings, { reps: 7, block: 3 });
  t.equal(benchSettings(['--quick', '--ceiling-gradients', '0']).settings.ceilingGradients, 0, 'an explicit option wins over --quick');
  t.match(benchSettings([]).settings, { hidden: [50], batch: [100], weightInitStd: 0.01, epochIterations: null });
  t.equal(benchSettings(['--epoch-iters', '0']).settings.epochIterations, 0);

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
  t.ok(ownMs >= 49 && ownMs <= used / 1000 + 10, `own CPU ${ownMs} ms, spun ${used / 1000} ms`);
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

  t.equal(written.schemaVersion, 1);
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
  // The machine's ceiling: one round (reps 1) of one gradient per worker (--quick), after the pools' round.
  t.same(c.ceiling.map((m) => [m.threads, m.rounds, m.gradientsPerRound, m.msPerGradient.samples.length]), [[1, 1, 1, 1], [2, 1, 1, 2]]);
  t.equal(c.ceiling[0].speedup, 1);
  const twoWorkers = c.ceiling[1];
  t.ok(twoWorkers.speedup! > 0 && Number.isFinite(twoWorkers.speedup!), `two workers: ${twoWorkers.speedup}×`);
  for (const m of pooled) {
    const expected = m.engine === 'incremental' ? m.speedup! / c.ceiling.find((x) => x.threads === m.threads)!.speedup! : null;
    t.equal(m.ofCeiling, expected, `of ceiling (${m.engine}, ${m.threads})`);
  }
  t.same(c.epochs.map((e) => `${e.engine}:${e.threads}:${e.method}`), ['incremental:1:extrapolated', 'incremental:2:extrapolated', 'backprop:1:extrapolated', 'naive:1:computed']);
  for (const e of c.epochs) t.ok(Math.abs(e.epochMs - (e.iterationsPerEpoch * e.msPerIteration + e.evaluationMs)) < 1e-6);
  t.equal(c.epochs[0].iterationsPerEpoch, Math.ceil(written.dataset.trainRows / 5));
  t.same(c.amdahl.map((a) => a.engine), ['incremental', 'naive']);
  t.match(written.numpy, { requested: true, available: false, reason: /nonexistent/ });
  t.equal(c.numpy, null);

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

  // The table, including the busy marker.
  const busy = structuredClone(written);
  busy.configurations[0].measurements[0].load = { ...busy.configurations[0].measurements[0].load, busy: true, othersCores: 1.5, reason: 'test' };
  busy.load.unreliable = true;
  const report = formatReport(busy);
  t.match(report, /TwoLayerNet 784-4-10 sigmoid, batch 5/);
  t.match(report, /The machine's ceiling: N workers computing whole gradients at once on private copies, nothing shared \(1 round of 1 gradient each\)/);
  t.match(report, /\(only 1 round: too few to judge the machine; 5 or more with more --reps\)/);
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

  // The schema rejects a result with a missing or mistyped field.
  const broken = structuredClone(written) as unknown as Record<string, unknown>;
  delete broken.machine;
  (broken.settings as Record<string, unknown>).reps = 'seven';
  const errors = validateBenchResult(broken);
  t.ok(errors.some((e) => /missing required property `machine`/.test(e)));
  t.ok(errors.some((e) => /\$\.settings\.reps: expected integer/.test(e)));
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

t.test('numpy_naive.py is valid Python', { skip: python.error ? 'python3 not available' : false }, async (t) => {
  const probe = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', new URL('../benchmarks/numpy_naive.py', import.meta.url).pathname], { encoding: 'utf8' });
  t.equal(probe.status, 0, probe.stderr);
});
