/**
 * The gradient kernels against independent references:
 * - naiveGradientRange against TwoLayerNet#numericalGradient (bit for bit);
 * - incrementalGradientRange against the naive engine (≤ 1e-9 everywhere) and
 *   against an exact reference in 256-bit fixed point (BigInt), which shows it
 *   computes the book's finite difference to a few ulps, where the naive
 *   engine itself is off by ~1e-12;
 * - any split of [0, P) into ranges gives the same bytes;
 * - the base built in pieces (any split of samples, columns and units, in
 *   any order, in shared memory) equals the serial base byte for byte;
 * - the blocked forward pass equals the plain one bit for bit;
 * - partitionByCost covers [0, P) and balances; partitionParametersByCost
 *   gives the same ranges from the column counts.
 */
import fc from 'fast-check';
import t from 'tap';
import { CROSS_ENTROPY_DELTA } from '../src/functions.js';
import { parameterCosts, parameterCostsOfColumns, partitionParametersByCost } from '../src/kernels/cost.js';
import {
  type IncrementalBase, type IncrementalPath,
  finishIncrementalBase, incrementalBaseBytes, incrementalBaseViews, incrementalGradientRange,
  incrementalPath, prepareBaseColumns, prepareBaseSamples, prepareBaseUnits, prepareIncrementalBase,
  startIncrementalBase,
} from '../src/kernels/incremental/index.js';
import {
  EXPM1_SERIES_BOUND, LOG1P_SERIES_BOUND, LOSS_SERIES_DEGREE, expm1Small, hiddenSeriesRadius, log1pSmall, logRatioBound,
} from '../src/kernels/incremental/series.js';
import { partitionByCost, partitionEvenly, taperedRange } from '../src/parallel/partition.js';
import { naiveGradientRange } from '../src/kernels/naive.js';
import { type Activation, type NetShape, createForwardScratch, forward, parameterLayout } from '../src/kernels/two-layer.js';
import { sigmoidScalar, softmaxRow } from '../src/functions.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { Random } from '../src/random.js';
import { DIM_ROWS } from '../src/kernels/incremental/base-layout.js';
import { cyclingDigits, type DigitBatch } from './fixtures/mnist-digits.js';

// ---------------------------------------------------------------------------
// Data

type Batch = DigitBatch;

/** `rows` real MNIST digits, cycling 0…9, starting at sample `offset` of each digit; optionally only some pixels. */
const digits = cyclingDigits;

/** Dense random inputs, N(0, 1), with random labels. */
function dense(rows: number, inputSize: number, classes: number, seed: number): Batch {
  const random = new Random(seed);
  const x = new Float64Array(rows * inputSize);
  random.fillNormal(x, 1);
  const labels = new Int32Array(rows);
  for (let n = 0; n < rows; n++) labels[n] = random.int(classes);
  return { x, labels, rows };
}

interface NetOptions {
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  activation: Activation;
  std: number;
  /** Multiplies W2 after the init (10 with std 1 gives W2 of std 10). */
  w2Scale?: number;
  seed: number;
}

/** A TwoLayerNet with random weights and (unlike the book's init) random biases. */
function makeNet({ inputSize, hiddenSize, outputSize, activation, std, w2Scale = 1, seed }: NetOptions): TwoLayerNet {
  const net = new TwoLayerNet({ inputSize, hiddenSize, outputSize, activation, weightInitStd: std, seed });
  const random = new Random(seed + 1000);
  random.fillNormal(net.b1, std);
  random.fillNormal(net.b2, std);
  for (let i = 0; i < net.W2.length; i++) net.W2[i] *= w2Scale;
  return net;
}

function incremental(net: TwoLayerNet, batch: Batch, h = 1e-4, start = 0, end = net.params.length): Float64Array {
  const out = new Float64Array(net.params.length);
  const base = prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, batch.labels);
  incrementalGradientRange(net.params, net.shape, batch.x, batch.rows, batch.labels, base, start, end, out, h);
  return out;
}

function naive(net: TwoLayerNet, batch: Batch, h = 1e-4, indices?: number[]): Float64Array {
  const out = new Float64Array(net.params.length);
  const copy = net.params.slice();
  if (indices === undefined) naiveGradientRange(copy, net.shape, batch.x, batch.rows, batch.labels, 0, net.params.length, out, h);
  else for (const p of indices) naiveGradientRange(copy, net.shape, batch.x, batch.rows, batch.labels, p, p + 1, out, h);
  return out;
}

function bytes(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function maxAbsDiff(a: Float64Array, b: Float64Array, indices?: number[]): { max: number; at: number } {
  let max = 0;
  let at = -1;
  const each = indices ?? Array.from(a.keys());
  for (const p of each) {
    const d = Math.abs(a[p] - b[p]);
    if (!(d <= max)) {
      max = d;
      at = p;
    }
  }
  return { max, at };
}

function pathsOf(net: TwoLayerNet, base: IncrementalBase, h = 1e-4, from = 0, to = net.params.length): Record<IncrementalPath, number> {
  const counts: Record<IncrementalPath, number> = { 'empty': 0, 'series-odd': 0, 'series-full': 0, 'general': 0 };
  for (let p = from; p < to; p++) counts[incrementalPath(net.params, net.shape, base, p, h)]++;
  return counts;
}

// ---------------------------------------------------------------------------
// An exact reference: the book's finite difference in 256-bit fixed point.

const S = 256n;
const ONE = 1n << S;
const TWO_POW_S = 2 ** 256;

/** The exact value of a double, as a fixed-point BigInt (values below 2^-256 vanish). */
function fixed(v: number): bigint {
  if (v === 0) return 0n;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let e: number;
  if (exponent === 0) e = -1074;
  else {
    mantissa |= 1n << 52n;
    e = exponent - 1075;
  }
  const shift = BigInt(e) + S;
  const magnitude = shift >= 0n ? mantissa << shift : mantissa >> -shift;
  return bits >> 63n ? -magnitude : magnitude;
}

function toNumber(a: bigint): number {
  return Number(a) / TWO_POW_S;
}

const mul = (a: bigint, b: bigint): bigint => (a * b) >> S;
const div = (a: bigint, b: bigint): bigint => (a << S) / b;

const LN2 = (() => {
  // ln 2 = Σ_{n≥1} 1/(n·2^n), with 32 guard bits.
  const G = 32n;
  let sum = 0n;
  for (let n = 1n; n < 300n; n++) sum += (ONE << G) / (n << n);
  return sum >> G;
})();

function exactExp(x: bigint): bigint {
  const k = BigInt(Math.round(toNumber(x) / Math.LN2));
  const r = x - k * LN2;
  let term = ONE;
  let sum = ONE;
  for (let n = 1n; ; n++) {
    term = mul(term, r) / n;
    if (term === 0n) break;
    sum += term;
  }
  return k >= 0n ? sum << k : sum >> -k;
}

function exactLog(y: bigint): bigint {
  if (y <= 0n) throw new RangeError('log of a non-positive number');
  const k = y.toString(2).length - 1 - Number(S);
  const m = k >= 0 ? y >> BigInt(k) : y << BigInt(-k); // in [1, 2)
  const u = div(m - ONE, m + ONE);
  const u2 = mul(u, u);
  let term = u;
  let sum = u;
  for (let n = 3n; ; n += 2n) {
    term = mul(term, u2);
    const add = term / n;
    if (add === 0n) break;
    sum += add;
  }
  return 2n * sum + BigInt(k) * LN2;
}

const DELTA = fixed(CROSS_ENTROPY_DELTA);

/** l_n = −log(softmax(scores)_t + 1e-7) of each sample, exactly, for parameters `params`. */
function exactSampleLosses(params: bigint[], shape: NetShape, x: bigint[], rows: number, labels: Int32Array): bigint[] {
  const { inputSize: I, hiddenSize: H, outputSize: K } = shape;
  const layout = parameterLayout(shape);
  const losses: bigint[] = [];
  for (let n = 0; n < rows; n++) {
    const z: bigint[] = [];
    for (let j = 0; j < H; j++) {
      let a = 0n;
      for (let i = 0; i < I; i++) if (x[n * I + i] !== 0n) a += mul(x[n * I + i], params[layout.W1 + i * H + j]);
      a += params[layout.b1 + j];
      z.push(shape.activation === 'sigmoid' ? div(ONE, ONE + exactExp(-a)) : a > 0n ? a : 0n);
    }
    const scores: bigint[] = [];
    for (let k = 0; k < K; k++) {
      let s = params[layout.b2 + k];
      for (let j = 0; j < H; j++) s += mul(z[j], params[layout.W2 + j * K + k]);
      scores.push(s);
    }
    const max = scores.reduce((m, s) => (s > m ? s : m));
    const e = scores.map((s) => exactExp(s - max));
    const sum = e.reduce((acc, v) => acc + v, 0n);
    losses.push(-exactLog(div(e[labels[n]], sum) + DELTA));
  }
  return losses;
}

/**
 * The book's central difference of parameter p, exactly: θ_p set to the doubles
 * fl(θ_p + h) and fl(θ_p − h), everything else exact. Also Σ_n |l_n(+) − l_n(−)|
 * scaled the same way, the size of the terms the kernels sum.
 */
function exactGradient(net: TwoLayerNet, batch: Batch, p: number, h: number): { value: number; termScale: number } {
  const params = Array.from(net.params, fixed);
  const x = Array.from(batch.x, fixed);
  const w = net.params[p];
  params[p] = fixed(w + h);
  const plus = exactSampleLosses(params, net.shape, x, batch.rows, batch.labels);
  params[p] = fixed(w - h);
  const minus = exactSampleLosses(params, net.shape, x, batch.rows, batch.labels);
  let sum = 0n;
  let abs = 0n;
  for (let n = 0; n < batch.rows; n++) {
    const d = plus[n] - minus[n];
    sum += d;
    abs += d < 0n ? -d : d;
  }
  return { value: toNumber(sum) / batch.rows / (2 * h), termScale: toNumber(abs) / batch.rows / (2 * h) };
}

// ---------------------------------------------------------------------------

t.test('naiveGradientRange equals TwoLayerNet#numericalGradient bit for bit', async (t) => {
  const cases: Array<[string, TwoLayerNet, Batch]> = [
    ['20-5-3 sigmoid, dense inputs', makeNet({ inputSize: 20, hiddenSize: 5, outputSize: 3, activation: 'sigmoid', std: 0.5, seed: 1 }), dense(4, 20, 3, 11)],
    ['20-5-3 relu, dense inputs', makeNet({ inputSize: 20, hiddenSize: 5, outputSize: 3, activation: 'relu', std: 0.5, seed: 2 }), dense(4, 20, 3, 12)],
    ['784-8-10 sigmoid, 2 real digits', makeNet({ inputSize: 784, hiddenSize: 8, outputSize: 10, activation: 'sigmoid', std: 0.01, seed: 3 }), digits(2)],
  ];
  for (const [name, net, batch] of cases) {
    const reference = net.numericalGradient({ data: batch.x, rows: batch.rows, columns: net.shape.inputSize }, batch.labels).flat;
    const P = net.params.length;
    const before = bytes(net.params.slice());
    // The whole vector, and ranges cut anywhere (also inside a tensor).
    const whole = new Float64Array(P);
    naiveGradientRange(net.params.slice(), net.shape, batch.x, batch.rows, batch.labels, 0, P, whole);
    t.ok(bytes(whole).equals(bytes(reference)), `${name}: all parameters`);
    const copy = net.params.slice();
    const pieces = new Float64Array(P).fill(Number.NaN);
    const cuts = [0, 7, Math.floor(P / 3), net.layout.b1 + 2, net.layout.W2 + 1, P];
    for (let c = 0; c + 1 < cuts.length; c++) {
      naiveGradientRange(copy, net.shape, batch.x, batch.rows, batch.labels, cuts[c], cuts[c + 1], pieces);
    }
    t.ok(bytes(pieces).equals(bytes(reference)), `${name}: split into ranges`);
    t.ok(bytes(copy).equals(before), `${name}: the private copy is restored exactly`);
    const partial = new Float64Array(P).fill(7);
    naiveGradientRange(net.params.slice(), net.shape, batch.x, batch.rows, batch.labels, 3, 9, partial);
    t.ok(partial.every((v, p) => (p >= 3 && p < 9 ? Object.is(v, reference[p]) : v === 7)), `${name}: only out[start..end) is written`);
  }
  t.throws(() => naiveGradientRange(new Float64Array(3), cases[0][1].shape, cases[0][2].x, 4, cases[0][2].labels, 0, 1, new Float64Array(3)), RangeError);
  t.throws(() => naiveGradientRange(cases[0][1].params.slice(), cases[0][1].shape, cases[0][2].x, 4, cases[0][2].labels, 5, 2, new Float64Array(cases[0][1].params.length)), RangeError);
  {
    const [, net, batch] = cases[0];
    const out = new Float64Array(net.params.length);
    const labels = Int32Array.from(batch.labels);
    labels[1] = net.shape.outputSize;
    t.throws(() => naiveGradientRange(net.params.slice(), net.shape, batch.x, batch.rows, labels, 0, 1, out), {
      name: 'RangeError', message: `Expected label 1 to be an integer from 0 to ${net.shape.outputSize - 1}, got ${net.shape.outputSize}`,
    });
    t.throws(() => naiveGradientRange(net.params.slice(), net.shape, batch.x, batch.rows + 1, batch.labels, 0, 1, out), {
      name: 'RangeError', message: `Expected rows ≥ 1 with ${net.shape.inputSize} inputs and a label each, got ${batch.rows + 1} rows, ${batch.x.length} inputs and ${batch.labels.length} labels`,
    });
  }
});

t.test('incremental equals the exact finite difference to a few ulps (256-bit reference)', async (t) => {
  // Small nets, so the BigInt reference stays fast. Inputs: 10 real pixels of
  // each digit (zeros included) or dense normal values.
  const pixels = [150, 180, 210, 300, 330, 400, 430, 460, 520, 600];
  const configs: Array<{ name: string; net: NetOptions; batch: Batch; h?: number }> = [
    { name: 'sigmoid, book init, digits', net: { inputSize: 10, hiddenSize: 3, outputSize: 4, activation: 'sigmoid', std: 0.01, seed: 21 }, batch: digits(3, 5, pixels) },
    { name: 'relu, book init, digits', net: { inputSize: 10, hiddenSize: 3, outputSize: 4, activation: 'relu', std: 0.01, seed: 22 }, batch: digits(3, 5, pixels) },
    { name: 'sigmoid, std 1, dense', net: { inputSize: 6, hiddenSize: 3, outputSize: 3, activation: 'sigmoid', std: 1, seed: 23 }, batch: dense(3, 6, 3, 31) },
    { name: 'relu, std 1, dense', net: { inputSize: 6, hiddenSize: 3, outputSize: 3, activation: 'relu', std: 1, seed: 24 }, batch: dense(3, 6, 3, 32) },
    { name: 'sigmoid, W2 std 10, dense', net: { inputSize: 6, hiddenSize: 3, outputSize: 3, activation: 'sigmoid', std: 1, w2Scale: 10, seed: 25 }, batch: dense(3, 6, 3, 33) },
    { name: 'relu, W2 std 10, dense', net: { inputSize: 6, hiddenSize: 3, outputSize: 3, activation: 'relu', std: 1, w2Scale: 10, seed: 26 }, batch: dense(3, 6, 3, 34) },
    { name: 'sigmoid, W2 std 10, h = 0.5', net: { inputSize: 6, hiddenSize: 3, outputSize: 3, activation: 'sigmoid', std: 1, w2Scale: 10, seed: 27 }, batch: dense(3, 6, 3, 35), h: 0.5 },
    { name: 'relu, W2 std 10, h = 2', net: { inputSize: 6, hiddenSize: 3, outputSize: 3, activation: 'relu', std: 1, w2Scale: 10, seed: 28 }, batch: dense(3, 6, 3, 36), h: 2 },
  ];
  for (const { name, net: options, batch, h = 1e-4 } of configs) {
    const net = makeNet(options);
    const fast = incremental(net, batch, h);
    const book = naive(net, batch, h);
    let worst = 0;
    let worstNaive = 0;
    let failures = 0;
    for (let p = 0; p < net.params.length; p++) {
      const exact = exactGradient(net, batch, p, h);
      // A few ulps of the terms summed (base activations and probabilities
      // are doubles), nothing like the naive engine's ~1e-12.
      const error = Math.abs(fast[p] - exact.value) / (exact.termScale + 1e-300);
      worst = Math.max(worst, exact.termScale === 0 ? (fast[p] === 0 ? 0 : Infinity) : error);
      worstNaive = Math.max(worstNaive, Math.abs(book[p] - exact.value) / (exact.termScale + 1e-300));
      if (!(fast[p] === exact.value || error <= 1e-13)) failures++;
    }
    t.equal(failures, 0, `${name}: every parameter within 1e-13 of its term scale (worst ${worst.toExponential(2)}; naive engine ${worstNaive.toExponential(2)})`);
  }
});

t.test('incremental vs naive: max |difference| ≤ 1e-9 over all parameters', async (t) => {
  const weights: Array<[string, number, number]> = [['std 0.01', 0.01, 1], ['std 1', 1, 1], ['W2 std 10', 1, 10]];
  let seed = 100;
  for (const activation of ['sigmoid', 'relu'] as const) {
    for (const [weightName, std, w2Scale] of weights) {
      for (const rows of [1, 7, 100]) {
        seed++;
        // Real digits: 784 inputs (a smaller hidden layer for 100 rows).
        const mnistNet = makeNet({ inputSize: 784, hiddenSize: rows === 100 ? 2 : 4, outputSize: 10, activation, std, w2Scale, seed });
        const mnist = digits(rows, seed % 50);
        const a = maxAbsDiff(incremental(mnistNet, mnist), naive(mnistNet, mnist));
        t.ok(a.max <= 1e-9, `${activation}, ${weightName}, ${rows} digits: ${a.max.toExponential(2)} (at ${a.at})`);
        // Dense random inputs.
        const denseNet = makeNet({ inputSize: 30, hiddenSize: 6, outputSize: 5, activation, std, w2Scale, seed });
        const batch = dense(rows, 30, 5, seed);
        const b = maxAbsDiff(incremental(denseNet, batch), naive(denseNet, batch));
        t.ok(b.max <= 1e-9, `${activation}, ${weightName}, ${rows} dense rows: ${b.max.toExponential(2)} (at ${b.at})`);
      }
    }
  }
});

t.test('incremental vs naive on the real 784-50-10 net, 100 digits, sampled parameters', async (t) => {
  for (const activation of ['sigmoid', 'relu'] as const) {
    const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10, activation, weightInitStd: 0.01, seed: 1 });
    const batch = digits(100, 20);
    const fast = incremental(net, batch);
    // 12 random parameters of each tensor, plus W1 rows of pixels that are 0 in the whole batch.
    const random = new Random(activation === 'sigmoid' ? 5 : 6);
    const L = net.layout;
    const sample: number[] = [];
    for (const [from, to] of [[L.W1, L.b1], [L.b1, L.W2], [L.W2, L.b2], [L.b2, L.size]]) {
      for (let s = 0; s < 12; s++) sample.push(from + random.int(to - from));
    }
    sample.push(0, 49, 27 * 50 + 3);
    const reference = naive(net, batch, 1e-4, sample);
    const d = maxAbsDiff(fast, reference, sample);
    t.ok(d.max <= 1e-9, `${activation}: ${d.max.toExponential(2)} over ${sample.length} parameters (at ${d.at})`);
    t.equal(fast[0], 0, 'a pixel that is 0 in every sample has gradient exactly 0');
  }
});

t.test('fast-check: incremental vs naive on random small nets', async (t) => {
  fc.assert(fc.property(
    fc.record({
      inputSize: fc.integer({ min: 1, max: 9 }),
      hiddenSize: fc.integer({ min: 1, max: 5 }),
      outputSize: fc.integer({ min: 2, max: 5 }),
      activation: fc.constantFrom<Activation>('sigmoid', 'relu'),
      std: fc.constantFrom(0.01, 0.1, 1),
      w2Scale: fc.constantFrom(1, 10),
      rows: fc.integer({ min: 1, max: 8 }),
      sparsity: fc.constantFrom(0, 0.5, 0.9),
      h: fc.constantFrom(1e-4, 1e-4, 1e-3, 0.1),
      seed: fc.integer({ min: 0, max: 1e6 }),
    }),
    ({ inputSize, hiddenSize, outputSize, activation, std, w2Scale, rows, sparsity, h, seed }) => {
      const net = makeNet({ inputSize, hiddenSize, outputSize, activation, std, w2Scale, seed });
      const batch = dense(rows, inputSize, outputSize, seed + 1);
      const random = new Random(seed + 2);
      for (let e = 0; e < batch.x.length; e++) if (random.uniform() < sparsity) batch.x[e] = 0;
      const d = maxAbsDiff(incremental(net, batch, h), naive(net, batch, h));
      return d.max <= 1e-9;
    },
  ), { numRuns: 60 });
  t.pass('60 random nets');
});

t.test('any split of [0, P) into ranges gives bit-identical output', async (t) => {
  // A net where every path occurs: ReLU kinks, large W1 entries (all six
  // series terms), W2 std 10 (general path) and empty input columns.
  const net = makeNet({ inputSize: 784, hiddenSize: 6, outputSize: 10, activation: 'relu', std: 0.05, seed: 7 });
  for (let p = 0; p < 784 * 6; p += 37) net.params[p] = 2.5 + p / 1000;
  for (let p = net.layout.W2; p < net.layout.W2 + 10; p++) net.params[p] *= 200;
  const batch = digits(30, 40);
  const base = prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, batch.labels);
  const P = net.params.length;
  const whole = new Float64Array(P);
  incrementalGradientRange(net.params, net.shape, batch.x, batch.rows, batch.labels, base, 0, P, whole);
  const paths = pathsOf(net, base);
  t.ok(paths['series-odd'] > 0 && paths['series-full'] > 0 && paths.general > 0 && paths.empty > 0, `all paths occur: ${JSON.stringify(paths)}`);
  fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: P - 1 }), { maxLength: 40 }), (cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), P];
    const split = new Float64Array(P).fill(Number.NaN);
    for (let c = 0; c + 1 < points.length; c++) {
      incrementalGradientRange(net.params, net.shape, batch.x, batch.rows, batch.labels, base, points[c], points[c + 1], split);
    }
    return bytes(split).equals(bytes(whole));
  }), { numRuns: 40 });
  // Thread-count-like splits from the cost partition, and a fresh base.
  for (const parts of [2, 3, 8, 64]) {
    const ranges = partitionByCost(parameterCosts(net.shape, batch.x, batch.rows), parts);
    const split = new Float64Array(P);
    for (const [start, end] of ranges) {
      const own = prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, batch.labels);
      incrementalGradientRange(net.params, net.shape, batch.x, batch.rows, batch.labels, own, start, end, split);
    }
    t.ok(bytes(split).equals(bytes(whole)), `${parts} cost-balanced ranges`);
  }
});

t.test('evaluation paths', async (t) => {
  const h = 1e-4;
  t.test('book init: everything through the loss series, nearly all odd', async (t) => {
    for (const activation of ['sigmoid', 'relu'] as const) {
      const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 8, outputSize: 10, activation, weightInitStd: 0.01, seed: 1 });
      const batch = digits(20);
      const base = prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, batch.labels);
      const paths = pathsOf(net, base);
      t.ok(paths.general === 0 && paths['series-full'] <= 0.01 * paths['series-odd'], `${activation}: ${JSON.stringify(paths)}`);
    }
  });

  t.test('W1 entries just below a power of 2: all six series terms, still exact', async (t) => {
    // d₊ + d₋ = fl(θ + h) + fl(θ − h) − 2θ is 0 while θ ± h stay in θ's binade;
    // when θ + h crosses a power of 2 it is an ulp of θ and the even terms
    // F_m x^m (d₊^m − d₋^m) can exceed the error budget.
    const net = makeNet({ inputSize: 8, hiddenSize: 3, outputSize: 3, activation: 'sigmoid', std: 0.02, seed: 41 });
    const near = [1 - 2e-5, -(2 - 7e-5), 4 - 3e-5, 0.5 - 1e-5, -(1 - 9e-5), 2 - 5e-5, 8 - 7e-5];
    for (let p = 0; p < 14; p += 2) net.params[p] = near[p / 2];
    const batch = dense(3, 8, 3, 42);
    const base = prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, batch.labels);
    const asymmetric = [0, 2, 4, 6, 8, 10, 12].filter((p) => {
      const w = net.params[p];
      return (w + h) - w + ((w - h) - w) !== 0;
    });
    t.ok(asymmetric.length >= 3, `d₊ + d₋ ≠ 0 for W1 parameters ${asymmetric.join(', ')}`);
    t.equal(incrementalPath(net.params, net.shape, base, 1, h), 'series-odd', 'a small entry: odd terms only');
    for (const p of asymmetric) t.equal(incrementalPath(net.params, net.shape, base, p, h), 'series-full', `parameter ${p}`);
    const fast = incremental(net, batch, h);
    for (const p of asymmetric) {
      const exact = exactGradient(net, batch, p, h);
      t.ok(Math.abs(fast[p] - exact.value) <= 1e-13 * exact.termScale, `W1 parameter ${p}: ${fast[p]} vs exact ${exact.value}`);
    }
  });

  t.test('W2 std 10 and large h: the general path with large score shifts', async (t) => {
    for (const activation of ['sigmoid', 'relu'] as const) {
      const net = makeNet({ inputSize: 6, hiddenSize: 4, outputSize: 4, activation, std: 1, w2Scale: 10, seed: 51 });
      const batch = dense(4, 6, 4, 52);
      for (const step of [1e-4, 1e-2, 1, 20]) {
        const base = prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, batch.labels);
        const paths = pathsOf(net, base, step);
        const fast = incremental(net, batch, step);
        const book = naive(net, batch, step);
        const d = maxAbsDiff(fast, book);
        t.ok(paths.general > 0 && d.max <= 1e-9, `${activation}, h = ${step}: ${JSON.stringify(paths)}, max |Δ| vs naive ${d.max.toExponential(2)}`);
        t.ok(fast.every(Number.isFinite), 'finite');
      }
      // Scores moved by more than 709, where exp overflows without the shift.
      const huge = incremental(net, batch, 1000);
      const hugeBook = naive(net, batch, 1000);
      t.ok(maxAbsDiff(huge, hugeBook).max <= 1e-12, `${activation}, h = 1000: ${maxAbsDiff(huge, hugeBook).max.toExponential(2)}`);
    }
  });

  t.test('ReLU kinks within reach of the perturbation', async (t) => {
    const net = makeNet({ inputSize: 6, hiddenSize: 3, outputSize: 3, activation: 'relu', std: 0.5, seed: 61 });
    // Two entries just below a power of 2, for kinks on the all-terms path too.
    net.W1[0] = 1 - 2e-5;
    net.W1[4] = -(2 - 7e-5);
    const batch = dense(3, 6, 3, 62);
    // Move b1 so that hidden pre-activations of sample 0 sit within ±3e-5 of 0.
    const probe = prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, batch.labels);
    for (let j = 0; j < 3; j++) net.b1[j] -= probe.hiddenInput[j] + (j - 1) * 3e-5;
    const base = prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, batch.labels);
    t.ok(Math.max(...Array.from(base.hiddenInput.subarray(0, 3), Math.abs)) < 1e-4, 'kinks within reach');
    t.same([incrementalPath(net.params, net.shape, base, 0, h), incrementalPath(net.params, net.shape, base, 4, h)], ['series-full', 'series-full']);
    const fast = incremental(net, batch);
    t.ok(maxAbsDiff(fast, naive(net, batch)).max <= 1e-9, 'vs naive');
    const aScale = [0, 1, 2].map((j) => {
      let worst = 0;
      for (let n = 0; n < batch.rows; n++) {
        let sum = Math.abs(net.b1[j]);
        for (let i = 0; i < 6; i++) sum += Math.abs(batch.x[n * 6 + i] * net.W1[i * 3 + j]);
        worst = Math.max(worst, sum);
      }
      return worst;
    });
    let failures = 0;
    for (let p = 0; p < net.layout.W2; p++) {
      const exact = exactGradient(net, batch, p, h);
      // Near a kink Δz = −a1 or a1 + δ: the result inherits the rounding of
      // the double a1 itself (≤ (I+1)·2⁻⁵³·Σ|x_i W1_ij| + |b1_j|), through
      // |∂l/∂z_j| ≤ 2·max|W2[j]|.
      const j = p < net.layout.b1 ? p % 3 : p - net.layout.b1;
      const inherited = (7 * 2 ** -53 * aScale[j] * 2 * base.outputWeightMax[j]) / (batch.rows * 2 * h);
      if (!(Math.abs(fast[p] - exact.value) <= 1e-13 * exact.termScale + inherited)) failures++;
    }
    t.equal(failures, 0, 'W1 and b1 exact to 1e-13 of their term scale, plus the rounding of a1 they inherit');
  });

  t.test('guarded series against exact expm1 and log1p', async (t) => {
    const exactExpm1 = (u: number) => toNumber(exactExp(fixed(u)) - ONE);
    const exactLog1p = (r: number) => toNumber(exactLog(ONE + fixed(r)));
    for (const scale of [1e-9, 1e-6, 1e-4, 0.5, 0.999, 1, 1.001, 3]) {
      for (const sign of [1, -1]) {
        const u = sign * scale * EXPM1_SERIES_BOUND;
        const r = sign * scale * LOG1P_SERIES_BOUND;
        const e = exactExpm1(u);
        const l = exactLog1p(r);
        t.ok(Math.abs(expm1Small(u) - e) <= 2.3e-16 * Math.abs(e), `expm1Small(${u})`);
        t.ok(Math.abs(log1pSmall(r) - l) <= 2.3e-16 * Math.abs(l), `log1pSmall(${r})`);
        if (scale > 1) {
          t.equal(expm1Small(u), Math.expm1(u), 'beyond the bound: Math.expm1');
          t.equal(log1pSmall(r), Math.log1p(r), 'beyond the bound: Math.log1p');
        }
      }
    }
  });

  t.test('the cached loss series obey their Cauchy bound', async (t) => {
    // |F_m| ≤ B/R^m is what the choice of series rests on.
    for (const activation of ['sigmoid', 'relu'] as const) {
      for (const [std, w2Scale] of [[0.01, 1], [1, 1], [1, 10]]) {
        const net = makeNet({ inputSize: 10, hiddenSize: 5, outputSize: 6, activation, std, w2Scale, seed: 71 });
        const batch = dense(6, 10, 6, 72);
        const base = prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, batch.labels);
        const order = [1, 3, 5, 2, 4, 6];
        let worst = 0;
        for (let j = 0; j < 5; j++) {
          const [radius, bound] = hiddenSeriesRadius(base.outputWeightMax[j], activation === 'sigmoid');
          t.equal(radius, base.hiddenSeriesRadius[2 * j]);
          for (let n = 0; n < 6; n++) {
            for (let s = 0; s < 6; s++) {
              const F = base.hiddenSeries[(j * batch.rows + n) * 6 + s];
              worst = Math.max(worst, (Math.abs(F) * radius ** order[s]) / bound);
            }
          }
        }
        t.ok(worst <= 1, `${activation}, std ${std}, W2 ×${w2Scale}: max |F_m|·R^m/B = ${worst.toFixed(3)}`);
      }
    }
  });
});

t.test('incrementalGradientRange checks its arguments', async (t) => {
  const net = makeNet({ inputSize: 4, hiddenSize: 2, outputSize: 3, activation: 'sigmoid', std: 0.1, seed: 81 });
  const batch = dense(2, 4, 3, 82);
  const base = prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, batch.labels);
  const P = net.params.length;
  const out = new Float64Array(P);
  const run = (b: IncrementalBase, start: number, end: number, o = out, h = 1e-4) =>
    () => incrementalGradientRange(net.params, net.shape, batch.x, batch.rows, batch.labels, b, start, end, o, h);
  t.throws(run(base, -1, 2), RangeError);
  t.throws(run(base, 3, 2), RangeError);
  t.throws(run(base, 0, P + 1), RangeError);
  t.throws(run(base, 0, P, new Float64Array(P - 1)), RangeError);
  t.throws(run(base, 0, P, out, 0), RangeError);
  const other = prepareIncrementalBase(net.params, net.shape, batch.x, 1, batch.labels);
  t.throws(run(other, 0, P), RangeError, 'a base for another batch size');
  t.throws(() => prepareIncrementalBase(net.params, net.shape, batch.x, batch.rows, Int32Array.of(0, 3)), RangeError, 'label out of range');
  t.throws(() => incrementalPath(net.params, net.shape, base, P), RangeError);
  t.doesNotThrow(run(base, 5, 5), 'an empty range');
});

t.test('partitionByCost', async (t) => {
  const check = (costs: Float64Array, parts: number): string | null => {
    const ranges = partitionByCost(costs, parts);
    const P = costs.length;
    if (ranges.length !== Math.min(parts, P)) return `expected ${Math.min(parts, P)} ranges, got ${ranges.length}`;
    let next = 0;
    let total = 0;
    let maxSingle = 0;
    for (const c of costs) {
      total += c;
      maxSingle = Math.max(maxSingle, c);
    }
    for (const [start, end] of ranges) {
      if (start !== next) return `range starts at ${start}, expected ${next}`;
      if (!(end > start)) return `empty range [${start}, ${end})`;
      let cost = 0;
      for (let p = start; p < end; p++) cost += costs[p];
      if (total > 0 && cost > total / ranges.length + maxSingle + 1e-9 * total) return `range [${start}, ${end}) costs ${cost} > mean ${total / ranges.length} + max ${maxSingle}`;
      next = end;
    }
    if (next !== P) return `ranges end at ${next}, expected ${P}`;
    return null;
  };
  fc.assert(fc.property(
    fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 10, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true })), { maxLength: 300 }),
    fc.integer({ min: 1, max: 40 }),
    (values, parts) => check(Float64Array.from(values), parts) === null,
  ), { numRuns: 300 });
  // Some explicit cases.
  t.same(partitionByCost(new Float64Array(0), 4), []);
  t.same(partitionByCost(Float64Array.of(1, 1), 4), [[0, 1], [1, 2]]);
  t.same(partitionByCost(new Float64Array(6), 3), [[0, 2], [2, 4], [4, 6]], 'all zero: by count');
  t.same(partitionByCost(Float64Array.of(100, 1, 1, 1), 3), [[0, 1], [1, 2], [2, 4]], 'a spike');
  t.equal(check(Float64Array.of(0, 0, 0, 50, 0, 0), 4), null);
  t.throws(() => partitionByCost(Float64Array.of(1, Number.NaN), 2), RangeError);
  t.throws(() => partitionByCost(Float64Array.of(1), 0), RangeError);

  // The real costs: deterministic, and balanced on 784-50-10 with 100 digits.
  const shape: NetShape = { inputSize: 784, hiddenSize: 50, outputSize: 10, activation: 'sigmoid' };
  const batch = digits(100, 3);
  const costs = parameterCosts(shape, batch.x, batch.rows);
  t.ok(bytes(costs).equals(bytes(parameterCosts(shape, batch.x, batch.rows))), 'parameterCosts is deterministic');
  let nonzero = 0;
  for (let n = 0; n < 100; n++) if (batch.x[n * 784 + 400] !== 0) nonzero++;
  t.ok(costs[400 * 50 + 7] > costs[0] && costs[400 * 50 + 7] - costs[400 * 50] === 0, 'a W1 row costs the same for every unit');
  t.ok(costs[400 * 50] > nonzero && costs[400 * 50] < nonzero + 10, `W1 cost grows with the samples of its pixel (${nonzero})`);
  for (const parts of [1, 2, 7, 16]) t.equal(check(costs, parts), null, `${parts} parts`);
  t.throws(() => parameterCosts(shape, batch.x, 101), RangeError, 'x too short');
  t.throws(() => parameterCosts(shape, batch.x, 1.5), RangeError);
});

// ---------------------------------------------------------------------------
// The base built in pieces (what the pool's workers do, here on one thread).

/** The meaningful bytes of a base: every array, but of each column slot only its colCount[i] entries. */
function baseContent(base: IncrementalBase): Buffer {
  const parts: Buffer[] = [];
  const rows = base.dims[DIM_ROWS];
  for (const [name, array] of Object.entries(base) as Array<[string, Float64Array | Int32Array]>) {
    if (name === 'colRows' || name === 'colValues') {
      for (let i = 0; i < base.colCount.length; i++) {
        const used = array.subarray(i * rows, i * rows + base.colCount[i]);
        parts.push(Buffer.from(used.buffer, used.byteOffset, used.byteLength));
      }
    } else {
      parts.push(Buffer.from(array.buffer, array.byteOffset, array.byteLength));
    }
  }
  return Buffer.concat(parts);
}

interface BasePiece {
  samples: [number, number];
  columns: [number, number];
  units: [number, number];
}

/** Builds the base in a new SharedArrayBuffer (filled with `fill` first), piece by piece in the given order. */
function buildInPieces(net: TwoLayerNet, batch: Batch, pieces: BasePiece[], fill: number): { base: IncrementalBase; buffer: SharedArrayBuffer } {
  const { shape, params } = net;
  const buffer = new SharedArrayBuffer(incrementalBaseBytes(shape, batch.rows) + 24);
  new Uint8Array(buffer).fill(fill);
  const base = incrementalBaseViews(buffer, shape, batch.rows);
  startIncrementalBase(base, shape, batch.rows);
  for (const { samples, columns, units } of pieces) {
    prepareBaseSamples(params, shape, batch.x, batch.rows, batch.labels, base, samples[0], samples[1]);
    prepareBaseColumns(shape, batch.x, batch.rows, base, columns[0], columns[1]);
    prepareBaseUnits(params, shape, base, units[0], units[1]);
  }
  finishIncrementalBase(base);
  return { base, buffer };
}

/** Ranges [0, n) cut at the given points (sorted, deduplicated, within (0, n)). */
function rangesAt(n: number, cuts: number[]): Array<[number, number]> {
  const points = [0, ...[...new Set(cuts.filter((c) => c > 0 && c < n))].sort((a, b) => a - b), n];
  return points.slice(1).map((end, k) => [points[k], end]);
}

t.test('the base built in pieces equals prepareIncrementalBase byte for byte, for any split and order', async (t) => {
  const cases: Array<[string, TwoLayerNet, Batch]> = [
    ['784-12-10 sigmoid, 30 digits', makeNet({ inputSize: 784, hiddenSize: 12, outputSize: 10, activation: 'sigmoid', std: 0.05, seed: 91 }), digits(30, 5)],
    ['784-9-10 relu, W2 ×30, 23 digits', makeNet({ inputSize: 784, hiddenSize: 9, outputSize: 10, activation: 'relu', std: 0.05, w2Scale: 30, seed: 92 }), digits(23, 11)],
    ['7-5-3 sigmoid, dense inputs with zeros', makeNet({ inputSize: 7, hiddenSize: 5, outputSize: 3, activation: 'sigmoid', std: 1, seed: 93 }), dense(11, 7, 3, 94)],
  ];
  cases[2][2].x.forEach((v, e) => { if (e % 3 === 0) cases[2][2].x[e] = 0; });
  for (const [name, net, batch] of cases) {
    const { shape } = net;
    const serial = prepareIncrementalBase(net.params, shape, batch.x, batch.rows, batch.labels);
    const bytesOfBase = incrementalBaseBytes(shape, batch.rows);
    t.equal(serial.dims.buffer.byteLength, bytesOfBase, `${name}: the serial base fills a buffer of incrementalBaseBytes`);
    const serialAll = Buffer.from(serial.dims.buffer as ArrayBuffer, 0, bytesOfBase);
    const serialContent = baseContent(serial);
    const I1 = shape.inputSize + 1;
    // The pool's split: one piece per worker, the same count of each kind; the pieces in reverse order.
    for (const parts of [1, 2, 3, 7, 64]) {
      const samples = partitionEvenly(batch.rows, parts);
      const columns = partitionEvenly(I1, parts);
      const units = partitionEvenly(shape.hiddenSize, parts);
      const pieces = samples.map((s, k) => ({ samples: s, columns: columns[k], units: units[k] })).reverse();
      const zeroed = buildInPieces(net, batch, pieces, 0);
      t.ok(Buffer.from(zeroed.buffer, 0, bytesOfBase).equals(serialAll), `${name}: ${parts} pieces, zeroed buffer: the whole buffer equal`);
      t.ok(new Uint8Array(zeroed.buffer, bytesOfBase).every((b) => b === 0), `${name}: ${parts} pieces: nothing written past the base`);
      const dirty = buildInPieces(net, batch, pieces, 0xa5);
      t.ok(baseContent(dirty.base).equals(serialContent), `${name}: ${parts} pieces over garbage: every array equal`);
    }
    // Independent random splits of samples, columns and units, pieces in random order.
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: batch.rows - 1 }), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: I1 - 1 }), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: shape.hiddenSize - 1 }), { maxLength: 4 }),
      fc.integer({ min: 0, max: 1000 }),
      (sampleCuts, columnCuts, unitCuts, seed) => {
        const samples = rangesAt(batch.rows, sampleCuts);
        const columns = rangesAt(I1, columnCuts);
        const units = rangesAt(shape.hiddenSize, unitCuts);
        const count = Math.max(samples.length, columns.length, units.length);
        const empty: [number, number] = [0, 0];
        const pieces = Array.from({ length: count }, (_, k) => ({ samples: samples[k] ?? empty, columns: columns[k] ?? empty, units: units[k] ?? empty }));
        const random = new Random(seed);
        for (let k = pieces.length - 1; k > 0; k--) {
          const m = random.int(k + 1);
          [pieces[k], pieces[m]] = [pieces[m], pieces[k]];
        }
        return baseContent(buildInPieces(net, batch, pieces, 0xff).base).equals(serialContent);
      },
    ), { numRuns: 25 });
    t.pass(`${name}: 25 random splits in random order`);
    // And the gradient from the pieced base is the serial one.
    const pieced = buildInPieces(net, batch, partitionEvenly(batch.rows, 2).map((s, k) => ({
      samples: s, columns: partitionEvenly(I1, 2)[k], units: partitionEvenly(shape.hiddenSize, 2)[k],
    })), 0x5a).base;
    const P = net.params.length;
    const fromPieces = new Float64Array(P);
    for (const [start, end] of partitionByCost(parameterCosts(shape, batch.x, batch.rows), 3)) {
      incrementalGradientRange(net.params, shape, batch.x, batch.rows, batch.labels, pieced, start, end, fromPieces);
    }
    t.ok(bytes(fromPieces).equals(bytes(incremental(net, batch))), `${name}: the gradient from the pieced base is the serial one bit for bit`);
  }
  // A buffer reused from a bigger net and batch (as the pool does) gives the same base.
  const [, small, smallBatch] = cases[2];
  const [, big, bigBatch] = cases[0];
  const buffer = new SharedArrayBuffer(incrementalBaseBytes(big.shape, bigBatch.rows));
  prepareIncrementalBase(big.params, big.shape, bigBatch.x, bigBatch.rows, bigBatch.labels, buffer);
  const reused = prepareIncrementalBase(small.params, small.shape, smallBatch.x, smallBatch.rows, smallBatch.labels, buffer);
  t.equal(reused.dims.buffer, buffer, 'built in the given buffer');
  t.ok(baseContent(reused).equals(baseContent(prepareIncrementalBase(small.params, small.shape, smallBatch.x, smallBatch.rows, smallBatch.labels))), 'a reused buffer: the same base');
});

t.test('the base pieces check their arguments', async (t) => {
  const net = makeNet({ inputSize: 4, hiddenSize: 3, outputSize: 2, activation: 'relu', std: 0.5, seed: 95 });
  const { shape, params } = net;
  const batch = dense(3, 4, 2, 96);
  const bytesOfBase = incrementalBaseBytes(shape, 3);
  t.throws(() => incrementalBaseBytes(shape, 0), RangeError, 'rows from 1');
  t.throws(() => incrementalBaseViews(new ArrayBuffer(bytesOfBase - 8), shape, 3), { name: 'RangeError', message: /at least \d+ bytes/ });
  const base = incrementalBaseViews(new ArrayBuffer(bytesOfBase), shape, 3);
  t.throws(() => prepareBaseSamples(params, shape, batch.x, 3, batch.labels, base, 0, 3), { name: 'RangeError', message: /Expected `base` to be prepared for 4-3-2 relu over 3 rows, got 0,0,0,0,0/ }, 'not started');
  t.throws(() => startIncrementalBase(base, { ...shape, inputSize: 5 }, 3), RangeError, 'views of another shape');
  startIncrementalBase(base, shape, 3);
  t.throws(() => prepareBaseSamples(params, shape, batch.x, 3, batch.labels, base, 0, 4), { name: 'RangeError', message: 'Expected 0 ≤ start ≤ end ≤ 3 for the samples, got [0, 4)' });
  t.throws(() => prepareBaseSamples(params, shape, batch.x, 3, batch.labels, base, 2, 1), RangeError);
  t.throws(() => prepareBaseSamples(params, shape, batch.x, 3, Int32Array.of(0, 2, 0), base, 0, 1), RangeError, 'label out of range');
  t.throws(() => prepareBaseSamples(params, shape, batch.x, 2, batch.labels, base, 0, 1), RangeError, 'a base for another batch size');
  t.throws(() => prepareBaseColumns(shape, batch.x, 3, base, 0, 6), { name: 'RangeError', message: 'Expected 0 ≤ start ≤ end ≤ 5 for the columns, got [0, 6)' });
  t.throws(() => prepareBaseColumns(shape, batch.x.subarray(0, 8), 3, base, 0, 5), RangeError, 'x too short');
  t.throws(() => prepareBaseUnits(params, shape, base, 1, 4), { name: 'RangeError', message: 'Expected 0 ≤ start ≤ end ≤ 3 for the units, got [1, 4)' });
  t.throws(() => prepareBaseUnits(params.subarray(1), shape, base, 0, 3), RangeError, 'params of another size');
  t.doesNotThrow(() => {
    prepareBaseSamples(params, shape, batch.x, 3, batch.labels, base, 1, 1);
    prepareBaseColumns(shape, batch.x, 3, base, 2, 2);
    prepareBaseUnits(params, shape, base, 3, 3);
  }, 'empty pieces');
});

t.test('hiddenSeriesRadius equals its plain definition bit for bit (grid cached)', async (t) => {
  const plain = (wmax: number, sigmoid: boolean): [number, number] => {
    if (!(wmax > 0)) return [Infinity, 0];
    let best: [number, number] = [0, Infinity];
    let bestScore = Infinity;
    for (let s = 0; s < 30; s++) {
      let radius: number;
      let c: number;
      if (sigmoid) {
        radius = 3 * Math.pow(0.75, s);
        const half = Math.cos(radius / 2);
        c = (radius / (4 * half * half)) * wmax;
      } else {
        c = 0.28 * Math.pow(0.75, s);
        radius = c / wmax;
      }
      const bound = logRatioBound(c, 2);
      const score = bound / Math.pow(radius, LOSS_SERIES_DEGREE + 1);
      if (score < bestScore) {
        bestScore = score;
        best = [radius, bound];
      }
    }
    return best;
  };
  const random = new Random(97);
  for (const sigmoid of [true, false]) {
    const differing: number[] = [];
    for (let k = 0; k < 1500; k++) {
      const wmax = Math.pow(10, -9 + 12 * random.uniform());
      const [r, b] = hiddenSeriesRadius(wmax, sigmoid);
      const [pr, pb] = plain(wmax, sigmoid);
      if (!Object.is(r, pr) || !Object.is(b, pb)) differing.push(wmax);
    }
    t.same(differing, [], `${sigmoid ? 'sigmoid' : 'relu'}: 1500 values of max|W2[j]| from 1e-9 to 1e3`);
    for (const wmax of [0, -1, Number.NaN, Infinity, 1e-300, 1e300]) t.same(hiddenSeriesRadius(wmax, sigmoid), plain(wmax, sigmoid), `${sigmoid ? 'sigmoid' : 'relu'}, wmax ${wmax}`);
  }
});

t.test('the blocked forward pass equals the plain one bit for bit', async (t) => {
  // The plain pass: per output, acc = +0, then acc += x_i·W[i][j] over the nonzero inputs in order, then + b[j].
  const plainForward = (params: Float64Array, shape: NetShape, x: Float64Array, rows: number) => {
    const { inputSize: I, hiddenSize: H, outputSize: K, activation } = shape;
    const layout = parameterLayout(shape);
    const hiddenInput = new Float64Array(rows * H);
    const hidden = new Float64Array(rows * H);
    const scores = new Float64Array(rows * K);
    const probs = new Float64Array(rows * K);
    for (let n = 0; n < rows; n++) {
      for (let i = 0; i < I; i++) {
        const xi = x[n * I + i];
        if (xi === 0) continue;
        for (let j = 0; j < H; j++) hiddenInput[n * H + j] += xi * params[layout.W1 + i * H + j];
      }
      for (let j = 0; j < H; j++) {
        hiddenInput[n * H + j] += params[layout.b1 + j];
        const a = hiddenInput[n * H + j];
        hidden[n * H + j] = activation === 'sigmoid' ? sigmoidScalar(a) : a > 0 ? a : 0;
      }
      for (let j = 0; j < H; j++) {
        const z = hidden[n * H + j];
        if (z === 0) continue;
        for (let k = 0; k < K; k++) scores[n * K + k] += z * params[layout.W2 + j * K + k];
      }
      for (let k = 0; k < K; k++) scores[n * K + k] += params[layout.b2 + k];
      softmaxRow(scores, n * K, probs, n * K, K);
    }
    return { hiddenInput, hidden, scores, probs };
  };
  // Widths around the blocks of 8, 2 and 1; zeros and −0 among the inputs; both activations.
  for (const [I, H, K] of [[784, 50, 10], [9, 13, 3], [5, 1, 2], [6, 8, 2], [11, 17, 9]]) {
    for (const activation of ['sigmoid', 'relu'] as const) {
      const net = makeNet({ inputSize: I, hiddenSize: H, outputSize: K, activation, std: 0.7, seed: I * 100 + H });
      const batch = I === 784 ? digits(20, 2) : dense(7, I, K, H);
      for (let e = 0; e < batch.x.length; e += 4) batch.x[e] = e % 8 === 0 ? 0 : -0;
      const scratch = createForwardScratch(net.shape, batch.rows);
      forward(net.params, net.shape, batch.x, batch.rows, scratch);
      const reference = plainForward(net.params, net.shape, batch.x, batch.rows);
      const same = (['hiddenInput', 'hidden', 'scores', 'probs'] as const).every((k) => bytes(scratch[k]).equals(bytes(reference[k])));
      t.ok(same, `${I}-${H}-${K} ${activation}`);
    }
  }
});

t.test('partitionParametersByCost and partitionEvenly', async (t) => {
  // The same ranges as partitionByCost over parameterCostsOfColumns, which equals parameterCosts.
  const shape: NetShape = { inputSize: 784, hiddenSize: 50, outputSize: 10, activation: 'sigmoid' };
  const batch = digits(100, 7);
  const counts = new Int32Array(784);
  for (let n = 0; n < 100; n++) for (let i = 0; i < 784; i++) if (batch.x[n * 784 + i] !== 0) counts[i]++;
  const costs = parameterCostsOfColumns(shape, counts, 100);
  t.ok(bytes(costs).equals(bytes(parameterCosts(shape, batch.x, 100))), 'parameterCostsOfColumns = parameterCosts');
  for (const parts of [1, 2, 3, 7, 16, 64]) t.same(partitionParametersByCost(shape, counts, 100, parts), partitionByCost(costs, parts), `784-50-10, ${parts} parts`);
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 40 }),
    fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 1e6 }),
    (I, H, K, rows, parts, seed) => {
      const s: NetShape = { inputSize: I, hiddenSize: H, outputSize: K, activation: 'relu' };
      const random = new Random(seed);
      const c = Int32Array.from({ length: I }, () => (random.uniform() < 0.4 ? 0 : random.int(rows + 1)));
      return JSON.stringify(partitionParametersByCost(s, c, rows, parts)) === JSON.stringify(partitionByCost(parameterCostsOfColumns(s, c, rows), parts));
    },
  ), { numRuns: 500 });
  t.pass('500 random shapes, counts and part counts');
  t.throws(() => partitionParametersByCost(shape, counts, 100, 0), RangeError);
  t.throws(() => partitionParametersByCost(shape, counts.subarray(1), 100, 2), RangeError);
  t.throws(() => parameterCostsOfColumns(shape, counts, -1), RangeError);
  t.same(partitionEvenly(10, 3), [[0, 3], [3, 6], [6, 10]]);
  t.same(partitionEvenly(2, 4), [[0, 0], [0, 1], [1, 1], [1, 2]], 'fewer indices than parts: some empty');
  t.same(partitionEvenly(0, 2), [[0, 0], [0, 0]]);
  t.throws(() => partitionEvenly(3, 0), RangeError);
  t.throws(() => partitionEvenly(-1, 2), RangeError);
});

t.test('taperedRange: contiguous ranges whose lengths fall in a straight line', async (t) => {
  // By hand: 4 parts of 100, lengths 1.5, 1.1667, 0.8333, 0.5 times the mean 25 = 37.5, 29.17, 20.83, 12.5;
  // the bounds 37.5, 66.67, 87.5 rounded down.
  t.same([0, 1, 2, 3].map((k) => taperedRange(100, k, 4, 0.5)), [[0, 37], [37, 66], [66, 87], [87, 100]]);
  t.same(taperedRange(7, 0, 1, 0.5), [0, 7], 'one part: all of it');
  t.same([0, 1, 2].map((k) => taperedRange(1, k, 3, 0.5)), [[0, 0], [0, 0], [0, 1]], 'fewer indices than parts: the first ones empty');
  fc.assert(fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 300 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (count, parts, tail) => {
    const ranges = Array.from({ length: parts }, (_, k) => taperedRange(count, k, parts, tail));
    const mean = count / parts;
    return ranges.every(([start, end], k) => {
      // The straight line from (2 − tail)·mean to tail·mean, computed directly.
      const line = parts === 1 ? count : mean * ((2 - tail) - ((2 - 2 * tail) * k) / (parts - 1));
      // Each length within one of it (plus the line's own rounding).
      return start === (k === 0 ? 0 : ranges[k - 1][1]) && end >= start && Math.abs(end - start - line) <= 1 + 1e-9;
    }) && ranges[parts - 1][1] === count;
  }), { numRuns: 1000 });
  t.pass('1000 random counts, part counts and last shares');
  fc.assert(fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 300 }), (count, parts) =>
    JSON.stringify(Array.from({ length: parts }, (_, k) => taperedRange(count, k, parts, 1))) === JSON.stringify(partitionEvenly(count, parts))), { numRuns: 500 });
  t.pass('a last share of 1 is partitionEvenly, for 500 random counts and part counts');
  t.throws(() => taperedRange(10, 0, 2, 0), /`lastShare` to be a number in \(0, 1\], got 0/);
  t.throws(() => taperedRange(10, 0, 2, 1.5), RangeError);
});
