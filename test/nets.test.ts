/**
 * SimpleNet and TwoLayerNet: the book's simpleNet numbers
 * (/work/shared/reference/book-values.md), an independent forward pass written
 * with ml-matrix, and the chapter 5 gradient check (numerical vs backprop) on
 * real MNIST digits and random inputs.
 */
import t, { type Test } from 'tap';
import { Matrix } from 'ml-matrix';
import { type Activation, type NetGradient, SimpleNet, TwoLayerNet, Random } from '../src/index.js';
import { createForwardScratch, forward } from '../src/kernels/two-layer.js';
import { rawDigitPixels } from './fixtures/mnist-digits.js';

function near(t: Test, actual: number, expected: number, rel: number, what: string): void {
  const ok = expected === 0 ? actual === 0 : Math.abs(actual - expected) <= rel * Math.abs(expected);
  t.ok(ok, `${what}: got ${actual}, expected ${expected} (relative tolerance ${rel})`);
}

function nearAbs(t: Test, actual: number, expected: number, abs: number, what: string): void {
  t.ok(Math.abs(actual - expected) <= abs, `${what}: got ${actual}, expected ${expected} (absolute tolerance ${abs})`);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** Plain softmax of one row: subtract the max, exp, divide by the sum. */
function naiveSoftmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - max));
  let sum = 0;
  for (const e of exps) sum += e;
  return exps.map((e) => e / sum);
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
  return best;
}

function randomRows(random: Random, rows: number, columns: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: columns }, () => random.normal()));
}

function oneHot(labels: readonly number[], classes: number): number[][] {
  return labels.map((label) => Array.from({ length: classes }, (_, k) => (k === label ? 1 : 0)));
}

/**
 * The book's TwoLayerNet.predict, independently, with ml-matrix:
 * softmax(act(x·W1 + b1)·W2 + b2), row by row.
 */
function referenceForward(net: TwoLayerNet, x: number[][]): number[][] {
  const { inputSize: I, hiddenSize: H, outputSize: O, activation } = net.shape;
  const W1 = Matrix.from1DArray(I, H, Array.from(net.W1));
  const W2 = Matrix.from1DArray(H, O, Array.from(net.W2));
  const a1 = new Matrix(x).mmul(W1).addRowVector(Array.from(net.b1));
  const z1 = new Matrix(a1.rows, a1.columns);
  for (let i = 0; i < a1.rows; i++) {
    for (let j = 0; j < a1.columns; j++) {
      const a = a1.get(i, j);
      z1.set(i, j, activation === 'sigmoid' ? 1 / (1 + Math.exp(-a)) : Math.max(0, a));
    }
  }
  const a2 = z1.mmul(W2).addRowVector(Array.from(net.b2));
  return a2.to2DArray().map(naiveSoftmax);
}

/** The book's loss from given probabilities: mean of −log(y[n, t_n] + 1e-7). */
function referenceLoss(probs: number[][], labels: readonly number[]): number {
  let sum = 0;
  for (let n = 0; n < probs.length; n++) sum += Math.log(probs[n][labels[n]] + 1e-7);
  return -sum / probs.length;
}

const TENSORS = ['W1', 'b1', 'W2', 'b2'] as const;

// ---------------------------------------------------------------------------
// SimpleNet (chapter 4.4.2)

const BOOK_W = [[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]];
const BOOK_X = [0.6, 0.9];
const BOOK_T = [0, 0, 1];

t.test('SimpleNet.predict reproduces the book', (t) => {
  const net = new SimpleNet({ W: BOOK_W });
  const p = net.predict(BOOK_X);
  // The book prints the prediction with 9 decimals: allow half a unit of the last digit.
  const printed = [1.054148091, 0.630716529, 1.132807401];
  for (let k = 0; k < 3; k++) nearAbs(t, p[k], printed[k], 5e-10, `predict(x)[${k}] vs the printed value`);
  for (let k = 0; k < 3; k++) t.equal(p[k], 0.6 * BOOK_W[0][k] + 0.9 * BOOK_W[1][k], `predict(x)[${k}] = x·W by hand`);
  t.end();
});

t.test('SimpleNet.loss reproduces the book', (t) => {
  const net = new SimpleNet({ W: BOOK_W });
  near(t, net.loss(BOOK_X, BOOK_T), 0.9280682857864075, 1e-12, 'loss(x, t)');
  near(t, net.loss(BOOK_X, [2]), 0.9280682857864075, 1e-12, 'loss(x, label 2)');
  t.end();
});

t.test('SimpleNet numerical dW reproduces the book', (t) => {
  const net = new SimpleNet({ W: BOOK_W });
  const W = Array.from(net.W);
  const { W: dW } = net.numericalGradient(BOOK_X, BOOK_T);
  t.same(Array.from(net.W), W, 'W is restored');
  const book = [0.2192475712392561, 0.14356242984070455, -0.3628100010055757, 0.3288713569016277, 0.21534364482433954, -0.5442150014739466];
  // Looser than 1e-12 relative: the perturbed losses are a few ulps (1.1e-16
  // each) away from numpy's (V8's Math.exp/log differ from glibc's in the last
  // bit), and the central difference divides that by 2h = 2e-4, so each ulp
  // moves dW by 5.6e-13. Observed: up to 2 ulps (1.1e-12); allow 4 (2.3e-12).
  for (let i = 0; i < 6; i++) nearAbs(t, dW[i], book[i], 2.3e-12, `dW[${Math.floor(i / 3)}][${i % 3}]`);
  t.end();
});

t.test('SimpleNet analytic dW = outer(x, softmax(p) − t) matches the book and our numerical dW', (t) => {
  const p = [0, 1, 2].map((k) => 0.6 * BOOK_W[0][k] + 0.9 * BOOK_W[1][k]);
  const y = naiveSoftmax(p);
  const analytic = [0, 1].flatMap((i) => [0, 1, 2].map((k) => BOOK_X[i] * (y[k] - BOOK_T[k])));
  const book = [0.2192476266788698, 0.14356246612192342, -0.3628100928007932, 0.3288714400183047, 0.21534369918288512, -0.5442151392011898];
  for (let i = 0; i < 6; i++) near(t, analytic[i], book[i], 1e-12, `hand-computed analytic dW[${i}] vs the book`);

  const numerical = new SimpleNet({ W: BOOK_W }).numericalGradient(BOOK_X, BOOK_T).W;
  // The analytic formula ignores the 1e-7 inside the log, which scales the true
  // gradient by y_t/(y_t + 1e-7) ≈ 1 − 2.5e-7: a gap of up to ~1.4e-7 here.
  for (let i = 0; i < 6; i++) nearAbs(t, numerical[i], analytic[i], 2e-7, `numerical vs book-analytic dW[${i}]`);
  // With that factor the analytic gradient is exact; what is left is the
  // central difference's O(h²) truncation and rounding, below 1e-9.
  const scale = y[2] / (y[2] + 1e-7);
  for (let i = 0; i < 6; i++) nearAbs(t, numerical[i], analytic[i] * scale, 1e-9, `numerical vs exact analytic dW[${i}]`);
  t.end();
});

t.test('SimpleNet: a batch is predicted row by row; W as 6 values row-major; seeded init', (t) => {
  const net = new SimpleNet({ W: BOOK_W.flat() });
  t.same(Array.from(net.W), BOOK_W.flat(), 'flat W accepted');
  const batch = [[0.6, 0.9], [-1, 2], [0, 0]];
  const out = net.predict(batch);
  t.equal(out.length, 3, 'number[][] in, three rows of number[] out');
  for (let n = 0; n < 3; n++) {
    for (let k = 0; k < 3; k++) t.equal(out[n][k], batch[n][0] * BOOK_W[0][k] + batch[n][1] * BOOK_W[1][k], `row ${n}, class ${k}`);
  }
  // Loss of a batch: mean of the per-row losses.
  const perRow = batch.map((x, n) => new SimpleNet({ W: BOOK_W }).loss(x, [n]));
  near(t, net.loss(batch, [0, 1, 2]), (perRow[0] + perRow[1] + perRow[2]) / 3, 1e-15, 'batch loss = mean of row losses');
  t.same(Array.from(new SimpleNet({ seed: 5 }).W), Array.from(new SimpleNet({ seed: 5 }).W), 'same seed, same W');
  t.notSame(Array.from(new SimpleNet({ seed: 5 }).W), Array.from(new SimpleNet({ seed: 6 }).W), 'different seeds, different W');
  t.end();
});

t.test('SimpleNet.predict answers in the shape of x, checked against ml-matrix x·W', (t) => {
  const net = new SimpleNet({ W: BOOK_W });
  const batch = [[0.6, 0.9], [-1, 2], [0, 0]];
  // Independent: ml-matrix's product of the batch and W.
  const expected = new Matrix(batch).mmul(new Matrix(BOOK_W)).to2DArray();
  const rows = net.predict(batch);
  t.ok(Array.isArray(rows) && rows.every(Array.isArray), 'number[][] gives number[][]');
  const matrix = net.predict(new Matrix(batch));
  t.ok(matrix instanceof Matrix, 'a Matrix gives a Matrix');
  const flat = net.predict({ data: Float64Array.from(batch.flat()), rows: 3, columns: 2 });
  t.same([flat.rows, flat.columns], [3, 3], '{ data, rows, columns: 2 } gives { data, rows, columns: 3 }');
  const one = net.predict(Float64Array.from(batch[1]));
  t.type(one, Float64Array, 'a Float64Array (one sample) gives a Float64Array');
  t.equal(one.length, 3, 'of 3 scores');
  for (let n = 0; n < 3; n++) {
    for (let k = 0; k < 3; k++) {
      nearAbs(t, rows[n][k], expected[n][k], 1e-15, `number[][]: row ${n}, class ${k}`);
      t.equal(matrix.get(n, k), rows[n][k], `Matrix: row ${n}, class ${k}`);
      t.equal(flat.data[n * 3 + k], rows[n][k], `flat: row ${n}, class ${k}`);
    }
  }
  t.same(Array.from(one), rows[1], 'one sample = its row of the batch');
  t.same(Array.from(net.predict(batch[1])), rows[1], 'a number[] is one sample too');
  t.end();
});

t.test('SimpleNet and TwoLayerNet agree: predict keeps the shape of x; gradients are { flat, …views } over params', (t) => {
  const simple = new SimpleNet({ W: BOOK_W });
  const two = new TwoLayerNet({ inputSize: 2, hiddenSize: 4, outputSize: 3, seed: 2, weightInitStd: 1 });
  const batch = [[0.6, 0.9], [-1, 2]];
  const forms = {
    'number[]': () => batch[0],
    Float64Array: () => Float64Array.from(batch[0]),
    'number[][]': () => batch,
    Matrix: () => new Matrix(batch),
    '{data, rows, columns}': () => ({ data: Float64Array.from(batch.flat()), rows: 2, columns: 2 }),
  };
  const kind = (value: unknown) => (value instanceof Float64Array ? 'Float64Array'
    : value instanceof Matrix ? 'Matrix'
    : Array.isArray(value) && value.every(Array.isArray) ? 'number[][]'
    : value !== null && typeof value === 'object' && 'data' in value ? '{data, rows, columns}' : 'something else');
  const expected = { 'number[]': 'Float64Array', Float64Array: 'Float64Array', 'number[][]': 'number[][]', Matrix: 'Matrix', '{data, rows, columns}': '{data, rows, columns}' };
  for (const [name, make] of Object.entries(forms)) {
    const want = expected[name as keyof typeof expected];
    t.equal(kind(simple.predict(make())), want, `SimpleNet.predict(${name}) is a ${want}`);
    t.equal(kind(two.predict(make())), want, `TwoLayerNet.predict(${name}) is a ${want}`);
  }
  // Gradients: `flat` over all parameters, in the order of `params`, and a view per tensor.
  t.equal(simple.params, simple.W, 'SimpleNet.params is W (its only tensor)');
  const sg = simple.numericalGradient(batch, [2, 0]);
  const tg = two.numericalGradient(batch, [2, 0]);
  t.same(Object.keys(sg).sort(), ['W', 'flat'], 'SimpleNet: { flat, W }');
  t.same(Object.keys(tg).sort(), ['W1', 'W2', 'b1', 'b2', 'flat'], 'TwoLayerNet: { flat, W1, b1, W2, b2 }');
  t.equal(sg.flat.length, simple.params.length, 'SimpleNet: flat has one value per parameter');
  t.equal(tg.flat.length, two.params.length, 'TwoLayerNet: flat has one value per parameter');
  t.ok(sg.W.buffer === sg.flat.buffer && sg.W.length === 6, 'SimpleNet: W is a view into flat');
  t.ok(tg.W1.buffer === tg.flat.buffer, 'TwoLayerNet: W1 is a view into flat');
  // The same update loop works for both.
  for (const [name, net, grad] of [['SimpleNet', simple, sg], ['TwoLayerNet', two, tg]] as const) {
    const before = net.loss(batch, [2, 0]);
    for (let i = 0; i < net.params.length; i++) net.params[i] -= 0.1 * grad.flat[i];
    t.ok(net.loss(batch, [2, 0]) < before, `${name}: params −= 0.1 · grad.flat lowers the loss`);
  }
  t.end();
});

// ---------------------------------------------------------------------------
// TwoLayerNet (chapter 4.5)

t.test('TwoLayerNet init: same seed, same parameters; different seeds differ; biases zero', (t) => {
  const shape = { inputSize: 12, hiddenSize: 5, outputSize: 3 };
  const a = new TwoLayerNet({ ...shape, seed: 42 });
  const b = new TwoLayerNet({ ...shape, seed: 42 });
  const c = new TwoLayerNet({ ...shape, seed: 43 });
  t.same(Array.from(a.params), Array.from(b.params), 'seed 42 twice: identical');
  t.not(a.params.buffer, b.params.buffer, 'but separate buffers');
  t.ok(maxAbsDiff(a.W1, c.W1) > 0 && maxAbsDiff(a.W2, c.W2) > 0, 'seed 43 gives other weights');
  t.ok(Array.from(a.b1).every((v) => v === 0) && Array.from(a.b2).every((v) => v === 0), 'b1 and b2 are zero');
  t.ok(Array.from(a.W1).every((v) => v !== 0), 'W1 is filled');
  const defaults = new TwoLayerNet(shape);
  const explicit = new TwoLayerNet({ ...shape, seed: 0, weightInitStd: 0.01, activation: 'sigmoid' });
  t.same(Array.from(defaults.params), Array.from(explicit.params), 'defaults: seed 0, weightInitStd 0.01 (the book\'s)');
  t.equal(defaults.shape.activation, 'sigmoid', 'default activation is the book\'s sigmoid');
  // W = std · randn: with the same seed, std 0.5 is exactly half of std 1
  // (multiplying by a power of two is exact).
  const one = new TwoLayerNet({ ...shape, seed: 7, weightInitStd: 1 });
  const half = new TwoLayerNet({ ...shape, seed: 7, weightInitStd: 0.5 });
  t.same(Array.from(half.params), Array.from(one.params).map((v) => v / 2), 'W scales with weightInitStd');
  t.end();
});

t.test('TwoLayerNet init: W has mean ≈ 0 and std ≈ weightInitStd over many draws', (t) => {
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10, seed: 3, weightInitStd: 0.01 });
  for (const [name, w] of [['W1', net.W1], ['W2', net.W2]] as const) {
    const n = w.length;
    let sum = 0;
    for (const v of w) sum += v;
    const mean = sum / n;
    let ss = 0;
    for (const v of w) ss += (v - mean) ** 2;
    const std = Math.sqrt(ss / (n - 1));
    // Standard errors for n normal draws: σ/√n for the mean, ≈ σ/√(2n) for the
    // sample std. Allow 5 standard errors (false alarm ≈ 6e-7 per check).
    t.ok(Math.abs(mean) < 5 * 0.01 / Math.sqrt(n), `${name} (${n} draws): mean ${mean} within 5 SE of 0`);
    t.ok(Math.abs(std - 0.01) < 5 * 0.01 / Math.sqrt(2 * n), `${name}: std ${std} within 5 SE of 0.01`);
  }
  t.end();
});

t.test('TwoLayerNet params live in a SharedArrayBuffer; W1, b1, W2, b2 are views at the right offsets', (t) => {
  const [I, H, O] = [7, 4, 3];
  const net = new TwoLayerNet({ inputSize: I, hiddenSize: H, outputSize: O, seed: 1 });
  t.ok(net.params.buffer instanceof SharedArrayBuffer, 'params.buffer is a SharedArrayBuffer');
  t.equal(net.params.length, I * H + H + H * O + O, 'I·H + H + H·O + O parameters');
  const expected = { W1: [0, I * H], b1: [I * H, H], W2: [I * H + H, H * O], b2: [I * H + H + H * O, O] } as const;
  for (const name of TENSORS) {
    const view = net[name];
    t.equal(view.buffer, net.params.buffer, `${name} shares the buffer`);
    t.equal(view.byteOffset, expected[name][0] * 8, `${name} starts at element ${expected[name][0]}`);
    t.equal(view.length, expected[name][1], `${name} has ${expected[name][1]} elements`);
  }
  t.same(net.layout, { W1: 0, b1: I * H, W2: I * H + H, b2: I * H + H + H * O, size: I * H + H + H * O + O }, 'layout');
  net.params[I * H + 2] = 1.5;
  t.equal(net.b1[2], 1.5, 'a write to params shows in b1');
  net.W2[H * O - 1] = -2.5;
  t.equal(net.params[I * H + H + H * O - 1], -2.5, 'a write to W2 shows in params');
  // W1 is row-major inputSize × hiddenSize: W1[i][j] at i·H + j.
  const x = Array.from({ length: I }, (_, i) => (i === 3 ? 1 : 0));
  net.b1.fill(0);
  const ref = referenceForward(net, [x]);
  t.ok(maxAbsDiff(net.predict([x])[0], ref[0]) <= 1e-15, 'row-major W1 (a one-hot x selects row 3)');
  t.end();
});

t.test('TwoLayerNet.predict equals an independent ml-matrix forward pass', (t) => {
  for (const activation of ['sigmoid', 'relu'] as const) {
    for (const [seed, weightInitStd] of [[1, 0.01], [2, 1], [3, 2]] as const) {
      const net = new TwoLayerNet({ inputSize: 9, hiddenSize: 6, outputSize: 4, activation, seed, weightInitStd });
      // Non-zero biases so the bias path is exercised too.
      const random = new Random(100 + seed);
      for (let j = 0; j < net.b1.length; j++) net.b1[j] = random.normal();
      for (let k = 0; k < net.b2.length; k++) net.b2[k] = random.normal();
      const x = randomRows(random, 8, 9);
      x[2][4] = 0; // exercise zero inputs
      const got = net.predict(x);
      t.equal(got.length, 8);
      t.ok(got.every((row) => row.length === 4));
      const ref = referenceForward(net, x);
      let worst = 0;
      for (let n = 0; n < 8; n++) {
        for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(got[n][k] - ref[n][k]) / ref[n][k]);
      }
      t.ok(worst <= 1e-12, `${activation}, seed ${seed}, std ${weightInitStd}: max relative difference ${worst}`);
    }
  }
  t.end();
});

t.test('TwoLayerNet.loss and accuracy equal hand computations; one-hot and labels agree', (t) => {
  for (const activation of ['sigmoid', 'relu'] as const) {
    const net = new TwoLayerNet({ inputSize: 5, hiddenSize: 8, outputSize: 4, activation, seed: 11, weightInitStd: 1 });
    const x = randomRows(new Random(12), 6, 5);
    const probs = referenceForward(net, x);
    const predicted = probs.map(argmax);
    // Rows 0, 2, 4 labelled with the predicted class, rows 1, 3, 5 with another: accuracy 1/2.
    const labels = predicted.map((k, n) => (n % 2 === 0 ? k : (k + 1) % 4));
    near(t, net.loss(x, labels), referenceLoss(probs, labels), 1e-12, `${activation}: loss with labels`);
    t.equal(net.loss(x, oneHot(labels, 4)), net.loss(x, labels), `${activation}: loss with one-hot = with labels`);
    t.equal(net.accuracy(x, labels), 0.5, `${activation}: accuracy with labels`);
    t.equal(net.accuracy(x, oneHot(labels, 4)), 0.5, `${activation}: accuracy with one-hot`);
    t.equal(net.accuracy(x, predicted), 1, `${activation}: all predicted classes: accuracy 1`);
    t.equal(net.accuracy(x, predicted.map((k) => (k + 2) % 4)), 0, `${activation}: none: accuracy 0`);
    t.equal(net.accuracy(x.slice(0, 1), Int32Array.of(predicted[0])), 1, `${activation}: a batch of one`);
  }
  t.end();
});

t.test('TwoLayerNet accepts number[][], Matrix, {data, rows, columns} and a 1-D sample with identical results', (t) => {
  const net = new TwoLayerNet({ inputSize: 6, hiddenSize: 5, outputSize: 3, activation: 'relu', seed: 4, weightInitStd: 0.7 });
  const rows = randomRows(new Random(5), 4, 6);
  const labels = [2, 0, 1, 1];
  const forms = {
    'number[][]': rows,
    Matrix: new Matrix(rows),
    '{data, rows, columns}': { data: Float64Array.from(rows.flat()), rows: 4, columns: 6 },
  };
  const base = Float64Array.from(net.predict(rows).flat());
  const baseGrad = net.gradient(rows, labels).flat;
  // predict answers in the shape it was given: read each answer back as flat rows.
  const flatPredict: Record<keyof typeof forms, () => ArrayLike<number>> = {
    'number[][]': () => net.predict(forms['number[][]']).flat(),
    Matrix: () => net.predict(forms.Matrix).to1DArray(),
    '{data, rows, columns}': () => net.predict(forms['{data, rows, columns}']).data,
  };
  for (const [name, x] of Object.entries(forms)) {
    t.same(Array.from(flatPredict[name as keyof typeof forms]()), Array.from(base), `${name}: predict`);
    t.equal(net.loss(x, labels), net.loss(rows, labels), `${name}: loss`);
    t.equal(net.accuracy(x, labels), net.accuracy(rows, labels), `${name}: accuracy`);
    t.same(Array.from(net.gradient(x, labels).flat), Array.from(baseGrad), `${name}: gradient`);
  }
  t.same(Array.from(net.predict(Float64Array.from(rows[1]))), Array.from(base.subarray(3, 6)), 'a Float64Array is one sample');
  t.same(Array.from(net.predict(rows[1])), Array.from(base.subarray(3, 6)), 'a number[] is one sample');
  t.end();
});

t.test('TwoLayerNet.prepare copies rows of arrays and ml-matrix input into what `allocate` gives, and a flat input not at all', (t) => {
  const net = new TwoLayerNet({ inputSize: 3, hiddenSize: 2, outputSize: 2, seed: 1 });
  const rows = [[1, 2, 3], [4, 5, 6]];
  const room = new Float64Array(new SharedArrayBuffer(8 * 8)).fill(-1);
  const asked: number[] = [];
  const allocate = (length: number) => {
    asked.push(length);
    return room.subarray(1, 1 + length);
  };
  for (const [name, x] of [['number[][]', rows], ['Matrix', new Matrix(rows)]] as const) {
    room.fill(-1);
    const batch = net.prepare(x, [1, 0], allocate);
    t.equal(batch.x.buffer, room.buffer, `${name}: into the given memory`);
    t.same(Array.from(room), [-1, 1, 2, 3, 4, 5, 6, -1], `${name}: row-major, nothing written outside it`);
    t.same(Array.from(batch.labels), [1, 0]);
  }
  t.same(asked, [6, 6], 'asked for rows × columns values');
  const flat = Float64Array.of(1, 2, 3);
  t.equal(net.prepare(flat, [0], allocate).x, flat, 'a Float64Array is used as it is');
  t.equal(asked.length, 2, 'without asking for memory');
  t.throws(() => net.prepare([[1, 2, 'a' as never]], [0], allocate), { name: 'TypeError', message: 'Expected `x` to contain only numbers, got `"a"` (string) at row 0, column 2' });
  t.throws(() => net.prepare(rows, [1, 0], () => new Float64Array(5)), { name: 'TypeError', message: 'Expected `allocate` to give a Float64Array of 6 values for `x`, got a Float64Array of length 5' });
  t.throws(() => net.prepare(new Matrix(rows), [1, 0], () => [] as never), { name: 'TypeError', message: 'Expected `allocate` to give a Float64Array of 6 values for `x`, got an array of length 0' });
  t.end();
});

t.test('TwoLayerNet.numericalGradient is the book\'s loop over the parameters and restores them', (t) => {
  const net = new TwoLayerNet({ inputSize: 4, hiddenSize: 3, outputSize: 3, seed: 9, weightInitStd: 0.8 });
  const x = randomRows(new Random(10), 5, 4);
  const labels = [0, 2, 1, 2, 0];
  const before = Array.from(net.params);
  const grad = net.numericalGradient(x, labels);
  t.same(Array.from(net.params), before, 'parameters restored exactly');
  t.equal(grad.flat.length, net.params.length);
  for (const name of TENSORS) t.equal(grad[name].length, net[name].length, `${name} view of the gradient`);
  t.equal(grad.W2.byteOffset, net.layout.W2 * 8, 'views at the same offsets as the parameters');
  // The book's loop, with the loss from the ml-matrix reference forward pass.
  const h = 1e-4;
  let worst = 0;
  for (let i = 0; i < net.params.length; i++) {
    const tmp = net.params[i];
    net.params[i] = tmp + h;
    const f1 = referenceLoss(referenceForward(net, x), labels);
    net.params[i] = tmp - h;
    const f2 = referenceLoss(referenceForward(net, x), labels);
    net.params[i] = tmp;
    worst = Math.max(worst, Math.abs(grad.flat[i] - (f1 - f2) / (2 * h)));
  }
  // The two losses agree to a few ulps (≈ 1e-16 × |L|); divided by 2h that is ≈ 1e-12.
  t.ok(worst < 1e-11, `max difference from the plain loop ${worst}`);
  t.end();
});

t.test('TwoLayerNet.clone and fromParameters copy the parameters into a new shared buffer', (t) => {
  const net = new TwoLayerNet({ inputSize: 3, hiddenSize: 2, outputSize: 2, activation: 'relu', seed: 8, weightInitStd: 1 });
  const copy = net.clone();
  t.not(copy.params.buffer, net.params.buffer);
  t.ok(copy.params.buffer instanceof SharedArrayBuffer);
  t.same(Array.from(copy.params), Array.from(net.params));
  t.same(copy.shape, net.shape, 'activation kept');
  const x = [[1, -2, 0.5]];
  t.same(copy.predict(x), net.predict(x));
  copy.params[0] += 1;
  t.notSame(Array.from(copy.params), Array.from(net.params), 'independent');
  const restored = TwoLayerNet.fromParameters(net.shape, Array.from(net.params));
  t.same(Array.from(restored.params), Array.from(net.params), 'fromParameters(number[])');
  t.end();
});

// ---------------------------------------------------------------------------
// Gradient check (chapter 5): serial numerical gradient vs backprop.

function checkGradients(t: Test, label: string, net: TwoLayerNet, x: number[][], labels: number[], book: boolean): void {
  if (net.shape.activation === 'relu') {
    // ReLU is not differentiable at 0: if a pre-activation a1 lies within the
    // reach of a perturbation (|x_i|·h for a W1 entry, h for a b1 entry) the
    // central difference straddles the kink and is no derivative at all. The
    // seeds below are chosen so that none does; this checks it independently.
    const a1 = new Matrix(x).mmul(Matrix.from1DArray(net.shape.inputSize, net.shape.hiddenSize, Array.from(net.W1))).addRowVector(Array.from(net.b1));
    const closest = Math.min(...a1.to1DArray().map(Math.abs));
    const reach = 1e-4 * Math.max(1, ...x.flat().map(Math.abs));
    t.ok(closest > reach, `${label}: no pre-activation within a perturbation of the ReLU kink (min |a1| ${closest.toExponential(2)} > ${reach.toExponential(2)})`);
  }
  const numerical = net.numericalGradient(x, labels);
  const exact = net.gradient(x, labels, { exact: true });
  const backprop = net.gradient(x, labels);
  const report = (g: NetGradient) => TENSORS.map((name) => `${name} ${meanAbsDiff(numerical[name], g[name]).toExponential(1)}`).join(', ');
  for (const name of TENSORS) {
    const vsExact = meanAbsDiff(numerical[name], exact[name]);
    t.ok(vsExact < 1e-9, `${label}: ${name} mean |numerical − exact backprop| = ${vsExact.toExponential(2)} < 1e-9`);
    if (book) {
      const vsBook = meanAbsDiff(numerical[name], backprop[name]);
      t.ok(vsBook < 1e-6, `${label}: ${name} mean |numerical − book backprop| = ${vsBook.toExponential(2)} < 1e-6`);
    }
  }
  t.ok(meanAbsDiff(exact.flat, backprop.flat) > 0, `${label}: exact and book backprop differ (the 1e-7 in the log) [vs exact: ${report(exact)}]`);
  // A real gradient, not zeros: its scale is well above the differences checked.
  t.ok(meanAbsDiff(exact.W2, new Float64Array(exact.W2.length)) > 1e-4, `${label}: W2 gradient is not negligible`);
}

const DIGITS = [0, 3, 7];
function mnistSample(digit: number, index: number): number[] {
  return rawDigitPixels(digit).slice(index * 784, (index + 1) * 784);
}

t.test('gradient check on three real MNIST digits, 784-10-10', (t) => {
  for (const activation of ['sigmoid', 'relu'] as Activation[]) {
    for (const seed of [1, 2, 3]) {
      const x = DIGITS.map((digit) => mnistSample(digit, seed));
      t.ok(x.every((row) => row.length === 784 && row.some((v) => v > 0.5)), 'digits loaded');
      const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 10, outputSize: 10, activation, seed });
      checkGradients(t, `MNIST ${activation} seed ${seed}`, net, x, DIGITS, true);
    }
  }
  t.end();
});

t.test('gradient check on random dense inputs, 20-7-4, the book\'s weightInitStd 0.01', (t) => {
  for (const activation of ['sigmoid', 'relu'] as Activation[]) {
    for (const seed of [1, 2, 4]) {
      // Seed 3 is left out: with it one ReLU pre-activation is 1.9e-4 from the
      // kink, within a perturbation's reach (3.1e-4), and the check is void.
      const random = new Random(200 + seed);
      const x = randomRows(random, 5, 20);
      const labels = Array.from({ length: 5 }, () => random.int(4));
      const net = new TwoLayerNet({ inputSize: 20, hiddenSize: 7, outputSize: 4, activation, seed });
      checkGradients(t, `dense ${activation} seed ${seed}`, net, x, labels, true);
    }
  }
  t.end();
});

t.test('gradient check with larger weights (std 0.3, biases set): exact backprop only', (t) => {
  // With confident wrong predictions y_t is small, and the book's (y − t)/N
  // (which drops the 1e-7 in the log) is off by a factor y_t/(y_t + 1e-7): up to
  // ~1e-6 here, so only the exact backprop is held to the numerical gradient.
  for (const activation of ['sigmoid', 'relu'] as Activation[]) {
    for (const seed of [1, 2, 3]) {
      const random = new Random(300 + seed);
      const x = randomRows(random, 5, 20);
      const labels = Array.from({ length: 5 }, () => random.int(4));
      const net = new TwoLayerNet({ inputSize: 20, hiddenSize: 7, outputSize: 4, activation, seed, weightInitStd: 0.3 });
      for (let j = 0; j < net.b1.length; j++) net.b1[j] = 0.1 * random.normal();
      for (let k = 0; k < net.b2.length; k++) net.b2[k] = 0.1 * random.normal();
      checkGradients(t, `dense ${activation} std 0.3 seed ${seed}`, net, x, labels, false);
    }
  }
  t.end();
});

t.test('backprop b2 gradient equals the hand formula: mean of (y − t), and with the factor y_t/(y_t + 1e-7) when exact', (t) => {
  for (const activation of ['sigmoid', 'relu'] as const) {
    const net = new TwoLayerNet({ inputSize: 6, hiddenSize: 5, outputSize: 4, activation, seed: 31, weightInitStd: 1.5 });
    const x = randomRows(new Random(32), 7, 6);
    const labels = [0, 1, 2, 3, 3, 2, 1];
    const probs = referenceForward(net, x);
    const book = new Array<number>(4).fill(0);
    const exact = new Array<number>(4).fill(0);
    for (let n = 0; n < 7; n++) {
      const yt = probs[n][labels[n]];
      for (let k = 0; k < 4; k++) {
        const d = probs[n][k] - (k === labels[n] ? 1 : 0);
        book[k] += d / 7;
        exact[k] += (d * yt) / (yt + 1e-7) / 7;
      }
    }
    const gotBook = net.gradient(x, labels).b2;
    const gotExact = net.gradient(x, labels, { exact: true }).b2;
    for (let k = 0; k < 4; k++) {
      nearAbs(t, gotBook[k], book[k], 1e-15, `${activation}: book b2[${k}]`);
      nearAbs(t, gotExact[k], exact[k], 1e-15, `${activation}: exact b2[${k}]`);
    }
  }
  t.end();
});

/**
 * The chapter 5 backward pass, independently, with ml-matrix: dA2 = (Y − T)/N,
 * dW2 = Z1ᵀ·dA2, dZ1 = dA2·W2ᵀ, dA1 = dZ1 ∘ act′, dW1 = Xᵀ·dA1, biases = column sums.
 */
function referenceBackprop(net: TwoLayerNet, x: number[][], labels: readonly number[]): Record<(typeof TENSORS)[number], number[]> {
  const { inputSize: I, hiddenSize: H, outputSize: O, activation } = net.shape;
  const X = new Matrix(x);
  const a1 = X.mmul(Matrix.from1DArray(I, H, Array.from(net.W1))).addRowVector(Array.from(net.b1));
  const z1 = new Matrix(a1.rows, H);
  const dA1 = new Matrix(a1.rows, H);
  for (let n = 0; n < a1.rows; n++) {
    for (let j = 0; j < H; j++) {
      const a = a1.get(n, j);
      z1.set(n, j, activation === 'sigmoid' ? 1 / (1 + Math.exp(-a)) : Math.max(0, a));
    }
  }
  const dA2 = new Matrix(referenceForward(net, x)).sub(new Matrix(oneHot(labels, O))).div(x.length);
  const dZ1 = dA2.mmul(Matrix.from1DArray(H, O, Array.from(net.W2)).transpose());
  for (let n = 0; n < a1.rows; n++) {
    for (let j = 0; j < H; j++) {
      const z = z1.get(n, j);
      dA1.set(n, j, dZ1.get(n, j) * (activation === 'sigmoid' ? z * (1 - z) : a1.get(n, j) > 0 ? 1 : 0));
    }
  }
  return {
    W1: X.transpose().mmul(dA1).to1DArray(),
    b1: dA1.sum('column'),
    W2: z1.transpose().mmul(dA2).to1DArray(),
    b2: dA2.sum('column'),
  };
}

t.test('backprop equals the chapter 5 backward pass written with ml-matrix (real digits, sigmoid and relu)', (t) => {
  for (const activation of ['sigmoid', 'relu'] as Activation[]) {
    const x = [0, 1, 2, 3, 4, 5, 6].map((i) => mnistSample(DIGITS[i % 3], i));
    const labels = [0, 1, 2, 3, 4, 5, 6].map((i) => DIGITS[i % 3]);
    const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 13, outputSize: 10, activation, seed: 5, weightInitStd: 0.1 });
    const got = net.gradient(x, labels);
    const expected = referenceBackprop(net, x, labels);
    for (const name of TENSORS) {
      // Same products, summed in another order by ml-matrix: agreement to rounding.
      const scale = Math.max(...expected[name].map(Math.abs));
      t.ok(scale > 0, `${activation} ${name}: a nonzero gradient`);
      t.ok(maxAbsDiff(got[name], expected[name]) <= 1e-13 * scale, `${activation} ${name}: max |diff| ${maxAbsDiff(got[name], expected[name]).toExponential(2)} ≤ 1e-13 × ${scale.toExponential(2)}`);
    }
  }
  t.end();
});

t.test('backprop equals, bit for bit, the plain per-sample accumulation (grad += x·dHidden row by row)', (t) => {
  // The kernel sums dW1 in registers one W1 row at a time; the plain loop below is the book's
  // order (sample by sample, zero inputs skipped), so the two must agree exactly.
  for (const [activation, hiddenSize, rows, exact] of [['sigmoid', 13, 7, false], ['relu', 13, 7, true], ['sigmoid', 50, 100, true], ['relu', 3, 1, false]] as const) {
    const x = Array.from({ length: rows }, (_, n) => mnistSample(DIGITS[n % 3], n));
    const labels = x.map((_, n) => DIGITS[n % 3]);
    const net = new TwoLayerNet({ inputSize: 784, hiddenSize, outputSize: 10, activation, seed: 9, weightInitStd: 0.1 });
    const flat = Float64Array.from(x.flat());
    const scratch = createForwardScratch(net.shape, rows);
    forward(net.params, net.shape, flat, rows, scratch);
    const expected = new Float64Array(net.params.length);
    const { W1, b1, W2, b2 } = net.layout;
    for (let n = 0; n < rows; n++) {
      const yt = scratch.probs[n * 10 + labels[n]];
      const scale = exact ? yt / (yt + 1e-7) / rows : 1 / rows;
      const dScores = Array.from({ length: 10 }, (_, k) => (scratch.probs[n * 10 + k] - (k === labels[n] ? 1 : 0)) * scale);
      for (let k = 0; k < 10; k++) expected[b2 + k] += dScores[k];
      const dHidden = new Float64Array(hiddenSize);
      for (let j = 0; j < hiddenSize; j++) {
        const z = scratch.hidden[n * hiddenSize + j];
        let back = 0;
        for (let k = 0; k < 10; k++) {
          expected[W2 + j * 10 + k] += z * dScores[k];
          back += dScores[k] * net.params[W2 + j * 10 + k];
        }
        dHidden[j] = back * (activation === 'sigmoid' ? z * (1 - z) : scratch.hiddenInput[n * hiddenSize + j] > 0 ? 1 : 0);
        expected[b1 + j] += dHidden[j];
      }
      for (let i = 0; i < 784; i++) {
        if (flat[n * 784 + i] === 0) continue;
        for (let j = 0; j < hiddenSize; j++) expected[W1 + i * hiddenSize + j] += flat[n * 784 + i] * dHidden[j];
      }
    }
    const got = net.gradient(x, labels, { exact }).flat;
    t.ok(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(expected.buffer)), `${activation} ${hiddenSize} hidden, ${rows} rows, exact ${exact}: bit-identical`);
  }
  t.end();
});

t.test('backprop gradient: labels and one-hot targets give the same gradient', (t) => {
  const net = new TwoLayerNet({ inputSize: 8, hiddenSize: 5, outputSize: 3, seed: 21, weightInitStd: 0.5 });
  const x = randomRows(new Random(22), 4, 8);
  const labels = [1, 0, 2, 2];
  t.same(Array.from(net.gradient(x, oneHot(labels, 3)).flat), Array.from(net.gradient(x, labels).flat));
  t.end();
});
