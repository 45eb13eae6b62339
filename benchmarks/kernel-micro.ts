/**
 * Micro-benchmark of the gradient kernels on one thread: TwoLayerNet 784-50-10
 * with the book's init (weightInitStd 0.01, seed 1) and a batch of 100 real
 * MNIST digits (10 of each). Prints JSON:
 *
 * - incrementalMs: median over `reps` runs of incrementalGradientRange over all
 *   parameters (after warm-up); prepareBaseMs: median of prepareIncrementalBase
 *   (one forward pass plus the series, once per batch); incrementalWithBaseMs:
 *   median of the two together.
 * - paths: how many parameters take each evaluation path (incrementalPath).
 * - naiveMs: median of naiveGradientRange over a fixed sample of parameters
 *   from every tensor, extrapolated to all parameters (naive work is the same
 *   per parameter: two forward passes).
 * - speedup = naiveMs / incrementalMs (speedupWithBase: / incrementalWithBaseMs);
 *   maxAbsDiff between the two engines on the sampled parameters.
 *
 * Usage: node --import tsx benchmarks/kernel-micro.ts [--reps 10] [--naive-samples 60]
 *        [--activation sigmoid|relu] [--per-digit 10] [--w2-scale 1]
 * (--w2-scale multiplies W2 after the init, to see the slower general path.)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type IncrementalPath, incrementalGradientRange, incrementalPath, prepareIncrementalBase } from '../src/kernels/incremental/index.js';
import { naiveGradientRange } from '../src/kernels/naive.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { Random } from '../src/random.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '10' },
    'naive-samples': { type: 'string', default: '60' },
    activation: { type: 'string', default: 'sigmoid' },
    'per-digit': { type: 'string', default: '10' },
    'w2-scale': { type: 'string', default: '1' },
  },
});
const reps = Number(values.reps);
const naiveSamples = Number(values['naive-samples']);
const activation = values.activation === 'relu' ? 'relu' : 'sigmoid';
const perDigit = Number(values['per-digit']);
const w2Scale = Number(values['w2-scale']);

function loadDigits(count: number): { x: Float64Array; labels: Int32Array; rows: number } {
  const require = createRequire(import.meta.url);
  const folder = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const rows = 10 * count;
  const x = new Float64Array(rows * 784);
  const labels = new Int32Array(rows);
  for (let digit = 0; digit < 10; digit++) {
    const { data } = JSON.parse(readFileSync(join(folder, `${digit}.json`), 'utf8')) as { data: number[] };
    for (let s = 0; s < count; s++) {
      const n = s * 10 + digit; // interleaved, like a shuffled batch
      x.set(data.slice(s * 784, (s + 1) * 784), n * 784);
      labels[n] = digit;
    }
  }
  return { x, labels, rows };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10, weightInitStd: 0.01, seed: 1, activation });
for (let i = 0; i < net.W2.length; i++) net.W2[i] *= w2Scale;
const { x, labels, rows } = loadDigits(perDigit);
const { shape, params } = net;
const size = params.length;
let nonzero = 0;
for (let i = 0; i < x.length; i++) if (x[i] !== 0) nonzero++;

// Incremental, all parameters.
const incremental = new Float64Array(size);
const prepareTimes: number[] = [];
const kernelTimes: number[] = [];
const totalTimes: number[] = [];
const warmup = 3;
for (let rep = 0; rep < warmup + reps; rep++) {
  const t0 = performance.now();
  const base = prepareIncrementalBase(params, shape, x, rows, labels);
  const t1 = performance.now();
  incrementalGradientRange(params, shape, x, rows, labels, base, 0, size, incremental);
  const t2 = performance.now();
  if (rep >= warmup) {
    prepareTimes.push(t1 - t0);
    kernelTimes.push(t2 - t1);
    totalTimes.push(t2 - t0);
  }
}
const base = prepareIncrementalBase(params, shape, x, rows, labels);
const paths: Record<IncrementalPath, number> = { 'empty': 0, 'series-odd': 0, 'series-full': 0, 'general': 0 };
for (let p = 0; p < size; p++) paths[incrementalPath(params, shape, base, p)]++;

// Naive, a fixed random sample of parameters from every tensor.
const layout = net.layout;
const random = new Random(7);
const tensors: Array<[number, number]> = [[layout.W1, layout.b1], [layout.b1, layout.W2], [layout.W2, layout.b2], [layout.b2, layout.size]];
const sample: number[] = [];
for (let s = 0; s < naiveSamples; s++) {
  const [from, to] = tensors[s % tensors.length];
  sample.push(from + random.int(to - from));
}
const naive = new Float64Array(size);
const copy = params.slice();
naiveGradientRange(copy, shape, x, rows, labels, sample[0], sample[0] + 1, naive); // warm-up
const naiveTimes: number[] = [];
for (const p of sample) {
  const t0 = performance.now();
  naiveGradientRange(copy, shape, x, rows, labels, p, p + 1, naive);
  naiveTimes.push(performance.now() - t0);
}
let maxAbsDiff = 0;
for (const p of sample) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(naive[p] - incremental[p]));

const incrementalMs = median(kernelTimes);
const naiveMs = median(naiveTimes) * size;
console.log(JSON.stringify({
  net: `784-50-10 ${activation}`,
  weightInitStd: 0.01,
  w2Scale,
  seed: 1,
  rows,
  parameters: size,
  inputDensity: Number((nonzero / x.length).toFixed(4)),
  reps,
  incrementalMs: Number(incrementalMs.toFixed(2)),
  incrementalMinMs: Number(Math.min(...kernelTimes).toFixed(2)),
  prepareBaseMs: Number(median(prepareTimes).toFixed(2)),
  incrementalWithBaseMs: Number(median(totalTimes).toFixed(2)),
  paths,
  naiveSampledParameters: sample.length,
  naiveMsPerParameter: Number(median(naiveTimes).toFixed(4)),
  naiveMs: Number(naiveMs.toFixed(0)),
  speedup: Number((naiveMs / incrementalMs).toFixed(0)),
  speedupWithBase: Number((naiveMs / median(totalTimes)).toFixed(0)),
  maxAbsDiff,
}, null, 2));
