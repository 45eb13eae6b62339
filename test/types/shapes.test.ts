/**
 * Shape in, shape out, checked twice. At compile time (`npm test` runs
 * `tsc --noEmit` over test/ before tap): the exact return type of every
 * function and net method for each input shape, and the inputs the types
 * refuse (`@ts-expect-error`), so a signature that drifts fails the suite. At
 * run time: each value is what its type says, and what the types refuse fails
 * with a one-line error instead of a wrong answer.
 */
import t, { type Test } from 'tap';
import { Matrix, MatrixTransposeView } from 'ml-matrix';
import {
  crossEntropyError, gradientDescent, meanSquaredError, numericalDiff, numericalGradient, relu, sigmoid, SimpleNet, softmax, sumSquaredError,
  TwoLayerNet,
  type BatchInput, type BatchOutput, type FlatMatrix, type GradientDescentResult, type NetGradient, type PreparedBatch,
  type SimpleNetGradient, type VectorInput,
} from '../../src/index.js';
import type { Split } from '../../datasets/index.js';

/** `true` only when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

/** Compiles only when `Actual` is exactly `Expected`: `exactType<typeof value, Float64Array>(true)`. */
function exactType<Actual, Expected>(proof: Equal<Actual, Expected>): void {
  void proof;
}

type Kind = 'number' | 'Float64Array' | 'number[][]' | 'Matrix' | 'FlatMatrix';

/** What a value is at run time, in the words of the types. */
function kindOf(value: unknown): Kind | 'something else' {
  if (typeof value === 'number') return 'number';
  if (value instanceof Float64Array) return 'Float64Array';
  if (value instanceof Matrix) return 'Matrix';
  if (Array.isArray(value) && value.every((row) => Array.isArray(row) && row.every((v) => typeof v === 'number'))) return 'number[][]';
  if (value !== null && typeof value === 'object' && (value as FlatMatrix).data instanceof Float64Array
    && typeof (value as FlatMatrix).rows === 'number' && typeof (value as FlatMatrix).columns === 'number') return 'FlatMatrix';
  return 'something else';
}

function isKind(t: Test, value: unknown, kind: Kind, what: string): void {
  t.equal(kindOf(value), kind, `${what} is a ${kind} at run time`);
}

// One input of each shape (x has 2 columns, for SimpleNet and a 2-input TwoLayerNet).
const vector = [0.5, -1];
const float64 = Float64Array.of(0.5, -1);
const float32 = Float32Array.of(0.5, -1);
const bytes = Uint8Array.of(1, 0);
const rows = [[0.5, -1], [2, 0]];
const matrix = new Matrix(rows);
const view = new MatrixTransposeView(new Matrix(rows).transpose()); // an ml-matrix that is not a Matrix
const flat: FlatMatrix = { data: Float64Array.from(rows.flat()), rows: 2, columns: 2 };
const unknownShape = rows as BatchInput; // a shape only known as the union

t.test('sigmoid and relu: a number for a number, and the shape of any array or matrix', (t) => {
  for (const [name, f] of [['sigmoid', sigmoid], ['relu', relu]] as const) {
    const ofNumber = f(0.5);
    exactType<typeof ofNumber, number>(true);
    isKind(t, ofNumber, 'number', `${name}(number)`);

    const ofVector = f(vector);
    const ofFloat64 = f(float64);
    const ofFloat32 = f(float32);
    const ofBytes = f(bytes);
    exactType<typeof ofVector, Float64Array>(true);
    exactType<typeof ofFloat64, Float64Array>(true);
    exactType<typeof ofFloat32, Float64Array>(true);
    exactType<typeof ofBytes, Float64Array>(true);
    for (const [input, out] of [['number[]', ofVector], ['Float64Array', ofFloat64], ['Float32Array', ofFloat32], ['Uint8Array', ofBytes]] as const) {
      isKind(t, out, 'Float64Array', `${name}(${input})`);
    }

    const ofRows = f(rows);
    exactType<typeof ofRows, number[][]>(true);
    isKind(t, ofRows, 'number[][]', `${name}(number[][])`);

    const ofMatrix = f(matrix);
    const ofView = f(view);
    exactType<typeof ofMatrix, Matrix>(true);
    exactType<typeof ofView, Matrix>(true);
    isKind(t, ofMatrix, 'Matrix', `${name}(Matrix)`);
    isKind(t, ofView, 'Matrix', `${name}(MatrixTransposeView)`);

    const ofFlat = f(flat);
    exactType<typeof ofFlat, FlatMatrix>(true);
    isKind(t, ofFlat, 'FlatMatrix', `${name}({ data, rows, columns })`);

    const ofUnion = f(unknownShape);
    exactType<typeof ofUnion, BatchOutput>(true);
    isKind(t, ofUnion, 'number[][]', `${name}(number[][] typed as BatchInput)`);
  }
  t.end();
});

t.test('softmax: the shape of any array or matrix, and no number', (t) => {
  const ofVector = softmax(vector);
  const ofFloat32 = softmax(float32);
  const ofRows = softmax(rows);
  const ofMatrix = softmax(matrix);
  const ofView = softmax(view);
  const ofFlat = softmax(flat);
  const ofUnion = softmax(unknownShape);
  exactType<typeof ofVector, Float64Array>(true);
  exactType<typeof ofFloat32, Float64Array>(true);
  exactType<typeof ofRows, number[][]>(true);
  exactType<typeof ofMatrix, Matrix>(true);
  exactType<typeof ofView, Matrix>(true);
  exactType<typeof ofFlat, FlatMatrix>(true);
  exactType<typeof ofUnion, BatchOutput>(true);
  isKind(t, ofVector, 'Float64Array', 'softmax(number[])');
  isKind(t, ofFloat32, 'Float64Array', 'softmax(Float32Array)');
  isKind(t, ofRows, 'number[][]', 'softmax(number[][])');
  isKind(t, ofMatrix, 'Matrix', 'softmax(Matrix)');
  isKind(t, ofView, 'Matrix', 'softmax(MatrixTransposeView)');
  isKind(t, ofFlat, 'FlatMatrix', 'softmax({ data, rows, columns })');

  // The old shapes are gone: a batch of rows is no longer flat data.
  // @ts-expect-error softmax(number[][]) is number[][], not { data, rows, columns }
  const notFlat: FlatMatrix = softmax(rows);
  t.equal(kindOf(notFlat), 'number[][]', 'and at run time it is number[][]');
  // @ts-expect-error softmax(Matrix) is a Matrix, not { data, rows, columns }
  const notFlatEither: FlatMatrix = softmax(matrix);
  t.equal(kindOf(notFlatEither), 'Matrix', 'and at run time it is a Matrix');
  // @ts-expect-error softmax of one number is no row to normalise
  t.throws(() => softmax(3), { name: 'TypeError', message: /^Expected `a` to be number\[\]\[\], an ml-matrix Matrix, a Float64Array or \{ data: Float64Array, rows, columns \}, got `3` \(number\)$/ });
  t.end();
});

t.test('the losses take every shape the functions take, typed arrays included, and return a number', (t) => {
  const probabilities = Float32Array.of(0.5, 0.25, 0.25);
  const sse = sumSquaredError(Float32Array.of(3, 0.5), Float32Array.of(1, 0));
  const mse = meanSquaredError(rows, matrix);
  const ce = crossEntropyError(probabilities, 0);
  exactType<typeof sse, number>(true);
  exactType<typeof mse, number>(true);
  exactType<typeof ce, number>(true);
  exactType<typeof meanSquaredError, typeof sumSquaredError>(true);
  t.equal(sse, 0.5 * (2 * 2 + 0.5 * 0.5), 'sumSquaredError(Float32Array, Float32Array): 0.5·(2² + 0.5²) by hand');
  t.equal(mse, 0, 'number[][] against the same values as a Matrix');
  t.equal(ce, -Math.log(0.5 + 1e-7), 'crossEntropyError(Float32Array, label): −log(0.5 + 1e-7)');
  // What the types refuse fails at run time too, naming the argument (it used to be typed ArrayLike<number>).
  // @ts-expect-error an array-like object is not an input: number[], a typed array, number[][], an ml-matrix or { data, rows, columns }
  t.throws(() => sumSquaredError({ length: 1, 0: 1 }, [1]), { name: 'TypeError', message: /^Expected `y` to be number\[\]\[\], an ml-matrix Matrix, a Float64Array or/ });
  t.end();
});

t.test('SimpleNet and TwoLayerNet: predict returns the shape of x, the same types for both', (t) => {
  const simple = new SimpleNet({ seed: 1 });
  const two = new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 3, seed: 1 });
  for (const [name, net] of [['SimpleNet', simple], ['TwoLayerNet', two]] as const) {
    const ofVector = net.predict(vector);
    const ofFloat64 = net.predict(float64);
    const ofRows = net.predict(rows);
    const ofMatrix = net.predict(matrix);
    const ofView = net.predict(view);
    const ofFlat = net.predict(flat);
    const ofUnion = net.predict(unknownShape);
    exactType<typeof ofVector, Float64Array>(true);
    exactType<typeof ofFloat64, Float64Array>(true);
    exactType<typeof ofRows, number[][]>(true);
    exactType<typeof ofMatrix, Matrix>(true);
    exactType<typeof ofView, Matrix>(true);
    exactType<typeof ofFlat, FlatMatrix>(true);
    exactType<typeof ofUnion, BatchOutput>(true);
    isKind(t, ofVector, 'Float64Array', `${name}.predict(number[])`);
    t.equal(ofVector.length, 3, `${name}.predict(number[]): one value per class`);
    isKind(t, ofFloat64, 'Float64Array', `${name}.predict(Float64Array)`);
    isKind(t, ofRows, 'number[][]', `${name}.predict(number[][])`);
    t.same([ofRows.length, ofRows[0].length], [2, 3], `${name}.predict(number[][]): 2 rows of 3`);
    isKind(t, ofMatrix, 'Matrix', `${name}.predict(Matrix)`);
    t.same([ofMatrix.rows, ofMatrix.columns], [2, 3], `${name}.predict(Matrix): 2 × 3`);
    isKind(t, ofView, 'Matrix', `${name}.predict(MatrixTransposeView)`);
    isKind(t, ofFlat, 'FlatMatrix', `${name}.predict({ data, rows, columns })`);
    t.same([ofFlat.rows, ofFlat.columns], [2, 3], `${name}.predict({ data, rows, columns: 2 }): 2 × 3`);
    // Nets take number[] and Float64Array as one sample, not other typed arrays (a net's inputs are doubles).
    // @ts-expect-error a Float32Array is no input of a net
    t.throws(() => net.predict(float32), { name: 'TypeError', message: /^Expected `x` to be number\[\]\[\], an ml-matrix Matrix, a Float64Array or \{ data: Float64Array, rows, columns \}, got a Float32Array of length 2$/ });
  }
  // Overload by overload, in the same order, the two nets' predict have the same signatures.
  exactType<SimpleNet['predict'], TwoLayerNet['predict']>(true);
  t.end();
});

t.test('gradients: { flat, …views } for both nets; the functions of numerical.ts keep their shapes', (t) => {
  const simple = new SimpleNet({ seed: 1 });
  const two = new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 3, seed: 1 });
  const simpleGradient = simple.numericalGradient(rows, [0, 2]);
  const twoNumerical = two.numericalGradient(rows, [0, 2]);
  const twoBackprop = two.gradient(rows, [0, 2]);
  exactType<typeof simpleGradient, SimpleNetGradient>(true);
  exactType<typeof twoNumerical, NetGradient>(true);
  exactType<typeof twoBackprop, NetGradient>(true);
  exactType<SimpleNetGradient, { flat: Float64Array; W: Float64Array }>(true);
  exactType<NetGradient, { flat: Float64Array; W1: Float64Array; b1: Float64Array; W2: Float64Array; b2: Float64Array }>(true);
  exactType<typeof simple.params, typeof two.params>(true);
  for (const [name, gradient, params] of [['SimpleNet', simpleGradient, simple.params], ['TwoLayerNet', twoNumerical, two.params]] as const) {
    isKind(t, gradient.flat, 'Float64Array', `${name} gradient.flat`);
    t.equal(gradient.flat.length, params.length, `${name}: one partial derivative per parameter`);
  }
  // The one batch type: prepare gives a Split, and PreparedBatch is its deprecated name.
  const batch = two.prepare(rows, [0, 2]);
  exactType<typeof batch, Split>(true);
  exactType<PreparedBatch, Split>(true);
  t.same({ x: Array.from(batch.x), labels: Array.from(batch.labels), rows: batch.rows }, { x: rows.flat(), labels: [0, 2], rows: 2 }, 'prepare: flat x, integer labels, rows');

  const square = (x: Float64Array) => x[0] * x[0];
  const gradient = numericalGradient(square, Float64Array.of(3));
  const derivative = numericalDiff((x) => x * x, 3);
  const descent = gradientDescent(square, Float32Array.of(1), { stepNum: 1 });
  exactType<typeof gradient, Float64Array>(true);
  exactType<typeof derivative, number>(true);
  exactType<typeof descent, GradientDescentResult>(true);
  exactType<typeof descent.x, Float64Array>(true);
  isKind(t, gradient, 'Float64Array', 'numericalGradient(f, Float64Array)');
  isKind(t, descent.x, 'Float64Array', 'gradientDescent(f, Float32Array).x');
  // One step of lr 0.01 on x² from 1: x − 0.01·2x = 0.98, up to the central difference's rounding.
  t.ok(Math.abs(descent.x[0] - 0.98) < 1e-12, `gradientDescent accepts any typed array as initX: ${descent.x[0]}`);
  // @ts-expect-error the book's x must be floating point: a Float64Array, perturbed in place
  t.throws(() => numericalGradient(square, [3]), { name: 'TypeError', message: /^Expected `x` to be a Float64Array/ });
  t.end();
});

// The 1-D input type is exactly the union the functions document.
exactType<VectorInput, number[] | Float64Array | Float32Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array>(true);
