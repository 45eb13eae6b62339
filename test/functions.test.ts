/**
 * Activation and loss functions against the book's numbers
 * (/work/shared/reference/book-values.md, computed with the book's numpy code)
 * and against naive references written out plainly here.
 */
import t, { type Test } from 'tap';
import { Matrix, MatrixTransposeView } from 'ml-matrix';
import {
  CROSS_ENTROPY_DELTA, crossEntropyError, meanSquaredError, relu, sigmoid, softmax, sumSquaredError, type FlatMatrix,
} from '../src/index.js';

/** |actual − expected| ≤ rel·|expected| (exact equality when expected is 0). */
function near(t: Test, actual: number, expected: number, rel: number, what: string): void {
  const ok = expected === 0 ? actual === 0 : Math.abs(actual - expected) <= rel * Math.abs(expected);
  t.ok(ok, `${what}: got ${actual}, expected ${expected} (relative tolerance ${rel})`);
}

function nearAll(t: Test, actual: ArrayLike<number>, expected: readonly number[], rel: number, what: string): void {
  t.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) near(t, actual[i], expected[i], rel, `${what}[${i}]`);
}

/** The book's softmax for one row, written out plainly: subtract the max, exp, divide by the sum. */
function naiveSoftmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - max));
  let sum = 0;
  for (const e of exps) sum += e;
  return exps.map((e) => e / sum);
}

/** The textbook formula without the overflow guard. */
function unguardedSoftmax(row: readonly number[]): number[] {
  const exps = row.map((v) => Math.exp(v));
  let sum = 0;
  for (const e of exps) sum += e;
  return exps.map((e) => e / sum);
}

/**
 * numpy's `np.sum` over a contiguous float64 array (pairwise_sum in
 * numpy/_core/src/umath/loops_utils.h): below 8 elements a plain loop; from 8 to
 * 128, eight interleaved accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)),
 * then the remainder added in order.
 */
function numpySum(a: readonly number[]): number {
  if (a.length < 8) {
    let s = 0;
    for (const v of a) s += v;
    return s;
  }
  if (a.length > 128) throw new Error('numpySum reference only covers n ≤ 128');
  const r = a.slice(0, 8);
  let i = 8;
  for (; i < a.length - (a.length % 8); i += 8) for (let k = 0; k < 8; k++) r[k] += a[i + k];
  let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < a.length; i++) res += a[i];
  return res;
}

// The book's example outputs (chapter 4.2): the correct class is 2.
const t2 = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
const y1 = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0];
const y2 = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0];

t.test('sigmoid reproduces the book: sigmoid([-1, 1, 2])', (t) => {
  const expected = [0.2689414213699951, 0.7310585786300049, 0.8807970779778823];
  const out = sigmoid([-1, 1, 2]);
  t.type(out, Float64Array);
  nearAll(t, out, expected, 1e-12, 'sigmoid([-1, 1, 2])');
  for (let i = 0; i < 3; i++) t.equal(sigmoid([-1, 1, 2][i]), out[i], 'scalar form equals the array form');
  t.equal(sigmoid(0), 0.5, 'sigmoid(0) = 1/(1+1) = 0.5 exactly');
  t.end();
});

t.test('sigmoid has no NaN for large |x|', (t) => {
  // exp(−x) underflows to 0 for x ≥ 746 (so 1/(1+0) = 1) and overflows to
  // Infinity for x ≤ −710 (so 1/(1+∞) = 0): both limits are exact.
  const xs = [1000, -1000, 1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE, 710, -710];
  const expected = [1, 0, 1, 0, 1, 0, 1, 0];
  const out = sigmoid(xs);
  for (let i = 0; i < xs.length; i++) {
    t.notOk(Number.isNaN(out[i]), `sigmoid(${xs[i]}) is not NaN`);
    t.equal(out[i], expected[i], `sigmoid(${xs[i]}) = ${expected[i]}`);
  }
  // Just inside the range: still finite, in (0, 1), and the formula by hand.
  near(t, sigmoid(-700), 1 / (1 + Math.exp(700)), 1e-15, 'sigmoid(-700)');
  t.ok(sigmoid(-700) > 0 && sigmoid(-700) < 1e-300, 'sigmoid(-700) is tiny but positive');
  t.end();
});

t.test('sigmoid and relu of a batch (rows of arrays, ml-matrix, flat) keep its shape, element by element', (t) => {
  const rows = [[-1, 0.5, 2], [3, -4, 0]];
  const flat = { data: new Float64Array(rows.flat()), rows: 2, columns: 3 };
  // By hand: the book's formulas on each element.
  const sigmoidRows = rows.map((row) => row.map((v) => 1 / (1 + Math.exp(-v))));
  const reluRows = [[0, 0.5, 2], [3, 0, 0]];
  // number[][] in, number[][] out.
  t.same(sigmoid(rows), sigmoidRows, 'sigmoid(number[][]) is number[][]');
  t.same(relu(rows), reluRows, 'relu(number[][]) is number[][]');
  t.not(relu(rows)[0], rows[0], 'new rows, not the input\'s');
  // An ml-matrix in, an ml-matrix Matrix out.
  for (const [name, matrix] of [['Matrix', new Matrix(rows)], ['a transpose view, transposed back', new MatrixTransposeView(new Matrix(rows).transpose())]] as const) {
    const s = sigmoid(matrix);
    const r = relu(matrix);
    t.ok(s instanceof Matrix && r instanceof Matrix, `${name}: a Matrix back`);
    t.same(s.to2DArray(), sigmoidRows, `${name}: sigmoid`);
    t.same(r.to2DArray(), reluRows, `${name}: relu`);
  }
  // { data, rows, columns } in, { data, rows, columns } out.
  for (const [name, out, expected] of [['sigmoid', sigmoid(flat), sigmoidRows], ['relu', relu(flat), reluRows]] as const) {
    t.same([out.rows, out.columns], [2, 3], `${name}(flat): 2 × 3`);
    t.type(out.data, Float64Array, `${name}(flat): Float64Array data`);
    t.same(Array.from(out.data), expected.flat(), `${name}(flat): values`);
  }
  t.not(sigmoid(flat).data, flat.data, 'a new array, the input untouched');
  t.same(Array.from(flat.data), rows.flat(), 'the input is unchanged');
  // Any typed array is a 1-D input, e.g. 8-bit pixels.
  t.same(Array.from(relu(Int8Array.from([-3, 0, 5]))), [0, 0, 5]);
  t.same(Array.from(sigmoid(Float32Array.from([0, 2]))), [0.5, 1 / (1 + Math.exp(-2))]);
  t.end();
});

t.test('relu is max(0, x)', (t) => {
  const xs = [-3, -1e-300, 0, 1e-300, 0.5, 1e308];
  const out = relu(xs);
  t.same(Array.from(out), [0, 0, 0, 1e-300, 0.5, 1e308]);
  t.equal(relu(-2), 0);
  t.equal(relu(2.5), 2.5);
  t.end();
});

t.test('softmax reproduces the book: softmax([0.3, 2.9, 4.0])', (t) => {
  // V8's Math.exp(−1.1) differs from glibc's (numpy's) by one ulp, so element 1
  // differs in its last digit (…392 in the book, …386 here): about 2.5e-16
  // relative, well inside 1e-12.
  const out = softmax([0.3, 2.9, 4.0]);
  t.type(out, Float64Array);
  nearAll(t, out, [0.01821127329554753, 0.24519181293507392, 0.7365969137693786], 1e-12, 'softmax([0.3, 2.9, 4.0])');
  nearAll(t, out, naiveSoftmax([0.3, 2.9, 4.0]), 1e-15, 'vs the naive reference');
  t.end();
});

t.test('softmax reproduces the book: softmax([1010, 1000, 990]) (the overflow example)', (t) => {
  const out = softmax([1010, 1000, 990]);
  nearAll(t, out, [0.999954600070331, 4.539786860886666e-05, 2.061060046209062e-09], 1e-12, 'softmax([1010, 1000, 990])');
  const unguarded = unguardedSoftmax([1010, 1000, 990]);
  t.ok(unguarded.every(Number.isNaN), 'without subtracting the max the book gets NaN (∞/∞)');
  t.end();
});

t.test('softmax of huge inputs is finite and exact where the answer is known', (t) => {
  // exp(0) = 1 for each equal maximum, so each share is exactly 1/3.
  const equal = softmax([1e308, 1e308, 1e308]);
  t.same(Array.from(equal), [1 / 3, 1 / 3, 1 / 3], 'three equal huge values');
  // −1e308 − 1e308 overflows to −∞ and exp(−∞) = 0, so [1, 0] exactly.
  t.same(Array.from(softmax([1e308, -1e308])), [1, 0], '[1e308, -1e308]');
  t.same(Array.from(softmax([-Number.MAX_VALUE, Number.MAX_VALUE])), [0, 1], '[-MAX_VALUE, MAX_VALUE]');
  // Shifted by 1e6 (exactly representable shifts of small numbers): the same as
  // the unshifted row, within the rounding of x + 1e6 (ulp(1e6) ≈ 1.2e-10).
  const small = [-1.25, 0.5, 3.75, 2];
  const shifted = softmax(small.map((v) => v + 1e6));
  t.ok(shifted.every(Number.isFinite), 'shifted row is finite');
  nearAll(t, shifted, unguardedSoftmax(small), 1e-14, 'softmax(x + 1e6) vs unguarded softmax(x)');
  t.end();
});

t.test('softmax normalises a batch row by row, in every input form', (t) => {
  const rows = [[0.3, 2.9, 4.0], [1010, 1000, 990], [-1, 0, 1], [5, 5, 5]];
  // Each form comes back in its own shape; read them all as 4 × 3 flat data to compare.
  const fromArrays = softmax(rows);
  const fromMatrix = softmax(new Matrix(rows));
  const fromFlat = softmax({ data: Float64Array.from(rows.flat()), rows: 4, columns: 3 });
  t.ok(Array.isArray(fromArrays) && fromArrays.every(Array.isArray), 'number[][] gives number[][]');
  t.ok(fromMatrix instanceof Matrix, 'Matrix gives a Matrix');
  t.type(fromFlat.data, Float64Array, '{data, rows, columns} gives {data, rows, columns}');
  const asFlat: Array<[string, FlatMatrix]> = [
    ['number[][]', { data: Float64Array.from(fromArrays.flat()), rows: fromArrays.length, columns: fromArrays[0].length }],
    ['Matrix', { data: Float64Array.from(fromMatrix.to1DArray()), rows: fromMatrix.rows, columns: fromMatrix.columns }],
    ['{data, rows, columns}', fromFlat],
  ];
  for (const [name, out] of asFlat) {
    t.equal(out.rows, 4, `${name}: rows`);
    t.equal(out.columns, 3, `${name}: columns`);
    for (let r = 0; r < 4; r++) {
      nearAll(t, out.data.subarray(r * 3, r * 3 + 3), naiveSoftmax(rows[r]), 1e-15, `${name} row ${r} vs the naive per-row softmax`);
    }
  }
  const [arrays, matrix, flat] = asFlat.map(([, out]) => out);
  t.same(Array.from(matrix.data), Array.from(arrays.data), 'Matrix gives the same as number[][]');
  t.same(Array.from(flat.data), Array.from(arrays.data), '{data, rows, columns} gives the same as number[][]');
  nearAll(t, fromArrays[0], [0.01821127329554753, 0.24519181293507392, 0.7365969137693786], 1e-12, 'row 0 is the book value');
  nearAll(t, fromArrays[1], [0.999954600070331, 4.539786860886666e-05, 2.061060046209062e-09], 1e-12, 'row 1 is the book value');
  // Row by row, not over the whole batch: a whole-batch softmax would make row 2 ≈ 0.
  t.ok(fromArrays[2][2] > 0.6, 'row 2 is normalised on its own');
  t.same(fromArrays[3], [1 / 3, 1 / 3, 1 / 3], 'row 3 (equal values) is exactly 1/3 each');
  t.end();
});

t.test('softmax of a one-row batch stays a batch: [[…]] gives [[…]], a 1 × n Matrix a 1 × n Matrix', (t) => {
  const book = [0.01821127329554753, 0.24519181293507392, 0.7365969137693786];
  const rows = softmax([[0.3, 2.9, 4.0]]);
  t.equal(rows.length, 1, 'one row');
  nearAll(t, rows[0], book, 1e-12, '[[0.3, 2.9, 4.0]]');
  const matrix = softmax(new Matrix([[0.3, 2.9, 4.0]]));
  t.same([matrix.rows, matrix.columns], [1, 3], '1 × 3 Matrix');
  nearAll(t, matrix.getRow(0), book, 1e-12, 'Matrix row 0');
  const flat = softmax({ data: Float64Array.of(0.3, 2.9, 4.0), rows: 1, columns: 3 });
  t.same([flat.rows, flat.columns], [1, 3], '1 × 3 {data, rows, columns}');
  nearAll(t, flat.data, book, 1e-12, 'flat row 0');
  t.end();
});

t.test('softmax of a Float64Array is 1-D', (t) => {
  const out = softmax(Float64Array.of(0.3, 2.9, 4.0));
  t.type(out, Float64Array);
  t.same(Array.from(out), Array.from(softmax([0.3, 2.9, 4.0])));
  t.end();
});

t.test('any typed array is a 1-D input: softmax and the losses read it as doubles', (t) => {
  // Small integers and halves are exact in every type, so the answers are the book's.
  const scores = Float32Array.of(0.5, 2.5, 4);
  const out = softmax(scores);
  t.type(out, Float64Array, 'softmax(Float32Array) is a Float64Array');
  nearAll(t, out, naiveSoftmax([0.5, 2.5, 4]), 1e-15, 'softmax(Float32Array) vs the naive reference');
  t.same(Array.from(softmax(Int8Array.of(-1, 0, 1))), Array.from(softmax([-1, 0, 1])), 'softmax(Int8Array) = softmax(number[])');
  // The issue: sumSquaredError was typed ArrayLike<number> and threw on a Float32Array.
  t.equal(sumSquaredError(Float32Array.of(3, 0.5), Float32Array.of(1, 0)), 0.5 * (2 * 2 + 0.5 * 0.5), '0.5·((3−1)² + 0.5²) by hand');
  t.equal(sumSquaredError(Uint8Array.of(3), [1]), 2, 'a Uint8Array against a number[]');
  t.equal(meanSquaredError(Int32Array.of(1, 2), Float64Array.of(1, 2)), 0, 'Int32Array and Float64Array, identical values');
  // A Float32Array of the book's y1: each element rounded to single precision, then the same formula.
  const y1f = Float32Array.from(y1);
  const widened = Array.from(y1f);
  let squares = 0;
  for (let i = 0; i < widened.length; i++) squares += (widened[i] - t2[i]) * (widened[i] - t2[i]);
  t.equal(sumSquaredError(y1f, t2), 0.5 * squares, 'Float32Array y1: the left-to-right sum of its double values');
  near(t, sumSquaredError(y1f, t2), 0.09750000000000003, 1e-7, 'and the book value to single precision');
  t.equal(crossEntropyError(y1f, 2), -Math.log(widened[2] + 1e-7), 'crossEntropyError(Float32Array, label) = −log(y[2] + 1e-7) by hand');
  t.equal(crossEntropyError(Float32Array.of(0.5, 0.25, 0.25), Uint8Array.of(1, 0, 0)), -Math.log(0.5 + 1e-7), 'Float32Array y, Uint8Array one-hot t');
  t.end();
});

t.test('sumSquaredError reproduces the book (y1: correct class most likely)', (t) => {
  // The book: 0.09750000000000003. Its sum has 10 terms; numpy's pairwise sum and
  // our left-to-right sum happen to round the same way here.
  near(t, sumSquaredError(y1, t2), 0.09750000000000003, 1e-12, 'sumSquaredError(y1, t)');
  near(t, meanSquaredError(y1, t2), 0.09750000000000003, 1e-12, 'meanSquaredError(y1, t) (the memo\'s name)');
  t.end();
});

t.test('sumSquaredError reproduces the book (y2: wrong class most likely)', (t) => {
  // numpy sums pairwise and gets 0.5975; a left-to-right sum gets
  // 0.5974999999999999 (1 ulp below): both are checked against plain references.
  const squares = y2.map((v, i) => (v - t2[i]) * (v - t2[i])); // numpy's square is x·x
  t.equal(0.5 * numpySum(squares), 0.5975, 'numpy\'s pairwise summation, reimplemented, gives the book value exactly');
  let sequential = 0;
  for (const s of squares) sequential += s;
  t.equal(sumSquaredError(y2, t2), 0.5 * sequential, 'ours is the left-to-right sum, exactly');
  near(t, sumSquaredError(y2, t2), 0.5975, 1e-12, 'sumSquaredError(y2, t) vs the book');
  near(t, meanSquaredError(y2, t2), 0.5975, 1e-12, 'meanSquaredError(y2, t) vs the book');
  t.end();
});

t.test('sumSquaredError of a batch sums over every element (no division by the batch size)', (t) => {
  const both = sumSquaredError([y1, y2], [t2, t2]);
  near(t, both, sumSquaredError(y1, t2) + sumSquaredError(y2, t2), 1e-15, 'batch = sum of the rows');
  t.equal(sumSquaredError([1, 2, 3], [1, 2, 3]), 0, 'identical inputs give 0');
  t.equal(sumSquaredError([3], [1]), 2, '0.5·(3−1)² = 2 by hand');
  t.end();
});

t.test('crossEntropyError reproduces the book: y1 and y2 with one-hot t', (t) => {
  near(t, crossEntropyError(y1, t2), 0.510825457099338, 1e-12, 'crossEntropyError(y1, t)');
  near(t, crossEntropyError(y2, t2), 2.302584092994546, 1e-12, 'crossEntropyError(y2, t)');
  t.equal(crossEntropyError(y1, t2), -Math.log(0.6 + 1e-7), 'by hand: −log(0.6 + 1e-7)');
  t.equal(crossEntropyError(y1, 2), crossEntropyError(y1, t2), 'a 1-D y takes one label, as the book writes it');
  t.throws(() => crossEntropyError([y1, y2], 2), { name: 'TypeError', message: 'Expected `t` to be labels or one-hot rows, got `2` (number)' }, 'one label only for a batch of one');
  t.equal(crossEntropyError(y2, t2), -Math.log(0.1 + 1e-7), 'by hand: −log(0.1 + 1e-7)');
  t.equal(CROSS_ENTROPY_DELTA, 1e-7, 'the book\'s code adds 1e-7 inside the log');
  t.end();
});

t.test('crossEntropyError reproduces the book: the batch [y1, y2], one-hot and labels', (t) => {
  const oneHot = crossEntropyError([y1, y2], [t2, t2]);
  const labels = crossEntropyError([y1, y2], [2, 2]);
  near(t, oneHot, 1.406704775046942, 1e-12, 'one-hot targets');
  t.equal(labels, oneHot, 'labels give a bit-identical result (as in the book)');
  t.equal(oneHot, -(Math.log(0.6 + 1e-7) + Math.log(0.1 + 1e-7)) / 2, 'by hand: mean of −log(y_t + 1e-7)');
  t.equal(crossEntropyError(new Matrix([y1, y2]), new Matrix([t2, t2])), oneHot, 'ml-matrix y and t');
  t.equal(crossEntropyError({ data: Float64Array.from([...y1, ...y2]), rows: 2, columns: 10 }, Int32Array.of(2, 2)), oneHot, '{data, rows, columns} y and Int32Array labels');
  t.equal(crossEntropyError([y1, y2], { data: Float64Array.from([...t2, ...t2]), rows: 2, columns: 10 }), oneHot, '{data, rows, columns} one-hot t');
  t.end();
});

t.test('crossEntropyError reproduces the book: y[true class] = 0 stays finite thanks to 1e-7', (t) => {
  const y = [0.1, 0.05, 0.0, 0.0, 0.05, 0.1, 0.0, 0.7, 0.0, 0.0];
  near(t, crossEntropyError(y, t2), 16.11809565095832, 1e-12, 'crossEntropyError with y[2] = 0');
  near(t, crossEntropyError(y, [2]), 16.11809565095832, 1e-12, 'same with the label');
  t.end();
});

t.test('crossEntropyError: a 1-D input is a batch of one', (t) => {
  const asOneD = crossEntropyError(y1, t2);
  t.equal(crossEntropyError([y1], [t2]), asOneD, '[y1] with [t]');
  t.equal(crossEntropyError([y1], [2]), asOneD, '[y1] with the label [2]');
  t.equal(crossEntropyError(y1, [2]), asOneD, 'y1 with the label [2]');
  t.equal(crossEntropyError(Float64Array.from(y1), Float64Array.from(t2)), asOneD, 'Float64Array y and one-hot t');
  t.equal(crossEntropyError(new Matrix([y1]), [2]), asOneD, '1-row Matrix');
  t.end();
});

t.test('crossEntropyError of softmax outputs matches a hand computation over a batch', (t) => {
  const scores = [[0.2, -1.3, 2.2, 0.4], [3.1, 0.0, -0.5, 1.0], [-2, -2, -1, -3]];
  const labels = [2, 1, 3];
  const probs = softmax(scores);
  let sum = 0;
  for (let n = 0; n < 3; n++) sum += Math.log(naiveSoftmax(scores[n])[labels[n]] + 1e-7);
  near(t, crossEntropyError(probs, labels), -sum / 3, 1e-15, 'mean of −log(softmax(s)[t] + 1e-7)');
  t.end();
});
