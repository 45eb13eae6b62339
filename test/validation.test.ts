/**
 * One test per validation message of the core: the error class and the whole
 * message text (``Expected `name` to be …, got `value` (type)``).
 */
import t, { type Test } from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Matrix } from 'ml-matrix';
import * as gradpool from '../src/index.js';
import { DivergenceError as trainerDivergenceError } from '../src/train/trainer.js';
import {
  crossEntropyError, gradientDescent, numericalDiff, numericalGradient, Random, relu, sigmoid, SimpleNet, softmax, sumSquaredError, TwoLayerNet,
} from '../src/index.js';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `fn` throws a `name` error whose message is exactly `message`, and an Argument`name` (bad input to the CLI, not a bug). */
function rejects(t: Test, fn: () => unknown, name: 'TypeError' | 'RangeError', message: string): void {
  let error: unknown;
  t.throws(() => {
    try {
      fn();
    } catch (e) {
      error = e;
      throw e;
    }
  }, { name, message: new RegExp(`^${escape(message)}$`) }, `${name}: ${message}`);
  const Class = name === 'TypeError' ? gradpool.ArgumentTypeError : gradpool.ArgumentRangeError;
  t.ok(error instanceof Class, `an Argument${name}: ${message}`);
}

// Anything goes for the type checker here: these calls are wrong on purpose.
type Any = any;

const square = (x: number) => x * x;
const sumSquares = (x: Float64Array) => x.reduce((s, v) => s + v * v, 0);
const smallNet = () => new TwoLayerNet({ inputSize: 4, hiddenSize: 3, outputSize: 3, seed: 1 });
const x2 = [[1, 2, 3, 4], [5, 6, 7, 8]];
const shape = { inputSize: 4, hiddenSize: 3, outputSize: 3 };

const positiveMessage = (name: string, value: string) => `Expected \`${name}\` to be a finite number greater than 0, got \`${value}\` (number)`;

// --- f ----------------------------------------------------------------------

t.test('f not a function', (t) => {
  rejects(t, () => numericalDiff('x' as Any, 1), 'TypeError', 'Expected `f` to be a function, got `"x"` (string)');
  rejects(t, () => numericalGradient(undefined as Any, new Float64Array(2)), 'TypeError', 'Expected `f` to be a function, got `undefined`');
  rejects(t, () => gradientDescent(null as Any, [1, 2]), 'TypeError', 'Expected `f` to be a function, got `null`');
  t.end();
});

t.test('f returning a non-finite value (numericalDiff names the point)', (t) => {
  rejects(t, () => numericalDiff(() => NaN, 1), 'RangeError', 'Expected `f` to return a finite number, got `NaN` (number) at x + h = 1.0001');
  rejects(t, () => numericalDiff((x) => (x < 1 ? Infinity : 0), 1), 'RangeError', 'Expected `f` to return a finite number, got `Infinity` (number) at x - h = 0.9999');
  t.end();
});

t.test('f returning a non-finite value (numericalGradient names the element)', (t) => {
  let calls = 0;
  rejects(t, () => numericalGradient(() => (++calls === 3 ? NaN : 1), new Float64Array(2)), 'RangeError', 'Expected `f` to return a finite number, got `NaN` (number) at x[1] + h');
  rejects(t, () => numericalGradient((x) => (x[0] < 0 ? (undefined as Any) : 1), new Float64Array(2)), 'RangeError', 'Expected `f` to return a finite number, got `undefined` at x[0] - h');
  rejects(t, () => gradientDescent(() => NaN, [1]), 'RangeError', 'Expected `f` to return a finite number, got `NaN` (number) at x[0] + h');
  t.end();
});

// --- x and h of the numerical functions ---------------------------------------

t.test('numericalDiff: x not a number', (t) => {
  rejects(t, () => numericalDiff(square, '5' as Any), 'TypeError', 'Expected `x` to be a finite number, got `"5"` (string)');
  t.end();
});

t.test('numericalDiff: x not finite', (t) => {
  rejects(t, () => numericalDiff(square, NaN), 'RangeError', 'Expected `x` to be a finite number, got `NaN` (number)');
  rejects(t, () => numericalDiff(square, -Infinity), 'RangeError', 'Expected `x` to be a finite number, got `-Infinity` (number)');
  t.end();
});

t.test('numericalGradient: x not a Float64Array', (t) => {
  rejects(t, () => numericalGradient(sumSquares, [3, 4] as Any), 'TypeError', 'Expected `x` to be a Float64Array (the book\'s x must be floating point), got an array of length 2');
  rejects(t, () => numericalGradient(sumSquares, Int32Array.of(3, 4) as Any), 'TypeError', 'Expected `x` to be a Float64Array (the book\'s x must be floating point), got an Int32Array of length 2');
  t.end();
});

t.test('h not a finite number greater than 0', (t) => {
  rejects(t, () => numericalDiff(square, 1, 0), 'RangeError', positiveMessage('h', '0'));
  rejects(t, () => numericalGradient(sumSquares, new Float64Array(2), -1e-4), 'RangeError', positiveMessage('h', '-0.0001'));
  rejects(t, () => numericalGradient(sumSquares, new Float64Array(2), NaN), 'RangeError', positiveMessage('h', 'NaN'));
  rejects(t, () => numericalDiff(square, 1, Infinity), 'RangeError', positiveMessage('h', 'Infinity'));
  // Checked up front, even when no step would use it.
  rejects(t, () => gradientDescent(sumSquares, [1], { h: 0, stepNum: 0 }), 'RangeError', positiveMessage('h', '0'));
  rejects(t, () => smallNet().numericalGradient(x2, [0, 1], 0), 'RangeError', positiveMessage('h', '0'));
  rejects(t, () => new SimpleNet().numericalGradient([1, 2], [0], -1), 'RangeError', positiveMessage('h', '-1'));
  t.end();
});

t.test('h not a number', (t) => {
  rejects(t, () => numericalDiff(square, 1, '1e-4' as Any), 'TypeError', 'Expected `h` to be a finite number greater than 0, got `"1e-4"` (string)');
  t.end();
});

// --- gradientDescent ----------------------------------------------------------

t.test('learningRate not a finite number greater than 0', (t) => {
  rejects(t, () => gradientDescent(sumSquares, [1], { learningRate: 0 }), 'RangeError', positiveMessage('learningRate', '0'));
  rejects(t, () => gradientDescent(sumSquares, [1], { learningRate: -0.1 }), 'RangeError', positiveMessage('learningRate', '-0.1'));
  rejects(t, () => gradientDescent(sumSquares, [1], { learningRate: NaN }), 'RangeError', positiveMessage('learningRate', 'NaN'));
  rejects(t, () => gradientDescent(sumSquares, [1], { learningRate: Infinity }), 'RangeError', positiveMessage('learningRate', 'Infinity'));
  t.end();
});

t.test('learningRate not a number', (t) => {
  rejects(t, () => gradientDescent(sumSquares, [1], { learningRate: '0.1' as Any }), 'TypeError', 'Expected `learningRate` to be a finite number greater than 0, got `"0.1"` (string)');
  t.end();
});

t.test('stepNum negative or not an integer', (t) => {
  rejects(t, () => gradientDescent(sumSquares, [1], { stepNum: -1 }), 'RangeError', 'Expected `stepNum` to be an integer from 0 and up, got `-1` (number)');
  rejects(t, () => gradientDescent(sumSquares, [1], { stepNum: 2.5 }), 'RangeError', 'Expected `stepNum` to be an integer from 0 and up, got `2.5` (number)');
  rejects(t, () => gradientDescent(sumSquares, [1], { stepNum: '10' as Any }), 'TypeError', 'Expected `stepNum` to be an integer from 0 and up, got `"10"` (string)');
  t.end();
});

t.test('initX not an array', (t) => {
  rejects(t, () => gradientDescent(sumSquares, 3 as Any), 'TypeError', 'Expected `initX` to be an array or a Float64Array of numbers, got `3` (number)');
  t.end();
});

t.test('initX holding something other than numbers', (t) => {
  rejects(t, () => gradientDescent(sumSquares, [3, '4'] as Any), 'TypeError', 'Expected `initX` to contain only numbers, got `"4"` (string) at index 1');
  t.end();
});

t.test('initX not finite', (t) => {
  rejects(t, () => gradientDescent(sumSquares, [3, NaN]), 'RangeError', 'Expected `initX` to contain only finite numbers, got `NaN` at index 1');
  t.end();
});

// --- batches (x) --------------------------------------------------------------

t.test('x columns ≠ inputSize', (t) => {
  rejects(t, () => smallNet().predict([[1, 2, 3]]), 'RangeError', 'Expected `x` to have 4 columns (inputSize), got 3');
  rejects(t, () => smallNet().loss(new Float64Array(5), [0]), 'RangeError', 'Expected `x` to have 4 columns (inputSize), got 5');
  t.end();
});

t.test('ragged rows', (t) => {
  rejects(t, () => smallNet().predict([[1, 2, 3, 4], [1, 2, 3]]), 'RangeError', 'Expected every row of `x` to have 4 columns like row 0, got an array of length 3 at row 1');
  rejects(t, () => smallNet().predict([[1, 2, 3, 4], 7] as Any), 'RangeError', 'Expected every row of `x` to have 4 columns like row 0, got `7` (number) at row 1');
  rejects(t, () => softmax([[1, 2], [3]]), 'RangeError', 'Expected every row of `a` to have 2 columns like row 0, got an array of length 1 at row 1');
  t.end();
});

t.test('empty batch', (t) => {
  rejects(t, () => smallNet().predict({ data: new Float64Array(0), rows: 0, columns: 4 }), 'RangeError', 'Expected `x` to be a non-empty batch, got 0 × 4');
  rejects(t, () => smallNet().predict(new Matrix(0, 4)), 'RangeError', 'Expected `x` to be a non-empty batch, got 0 × 4');
  rejects(t, () => smallNet().predict([]), 'RangeError', 'Expected `x` to be a non-empty batch, got an empty array');
  rejects(t, () => softmax([[]]), 'RangeError', 'Expected `a` to be a non-empty batch, got 1 × 0');
  t.end();
});

t.test('NaN or Infinity in x (index named; row and column in a batch)', (t) => {
  rejects(t, () => smallNet().predict([[1, 2, 3, 4], [5, NaN, 7, 8]]), 'RangeError', 'Expected `x` to contain only finite numbers, got `NaN` at index 5 (row 1, column 1)');
  rejects(t, () => smallNet().predict(Float64Array.of(1, 2, Infinity, 4)), 'RangeError', 'Expected `x` to contain only finite numbers, got `Infinity` at index 2');
  rejects(t, () => smallNet().loss(new Matrix([[1, 2, 3, 4], [5, 6, 7, -Infinity]]), [0, 1]), 'RangeError', 'Expected `x` to contain only finite numbers, got `-Infinity` at index 7 (row 1, column 3)');
  rejects(t, () => crossEntropyError([0.5, NaN], [0]), 'RangeError', 'Expected `y` to contain only finite numbers, got `NaN` at index 1');
  t.end();
});

t.test('x holding something other than numbers (no silent null → 0)', (t) => {
  rejects(t, () => smallNet().predict([[1, null, 3, 4]] as Any), 'TypeError', 'Expected `x` to contain only numbers, got `null` at row 0, column 1');
  rejects(t, () => smallNet().predict(['1', 2, 3, 4] as Any), 'TypeError', 'Expected `x` to contain only numbers, got `"1"` (string) at index 0');
  t.end();
});

t.test('x of the wrong kind', (t) => {
  const expected = 'Expected `x` to be number[][], an ml-matrix Matrix, a Float64Array or { data: Float64Array, rows, columns }, got ';
  rejects(t, () => smallNet().predict('abc' as Any), 'TypeError', `${expected}\`"abc"\` (string)`);
  rejects(t, () => smallNet().predict({ data: [1, 2, 3, 4], rows: 1, columns: 4 } as Any), 'TypeError', `${expected}an object (Object)`);
  t.end();
});

t.test('{ data, rows, columns } with data of the wrong length', (t) => {
  rejects(t, () => smallNet().predict({ data: new Float64Array(7), rows: 2, columns: 4 }), 'RangeError', 'Expected `x.data` to have rows × columns = 2 × 4 = 8 elements, got 7');
  t.end();
});

t.test('{ data, rows, columns } with a non-integer shape', (t) => {
  rejects(t, () => smallNet().predict({ data: new Float64Array(4), rows: 1.5, columns: 4 }), 'RangeError', 'Expected `x.rows` to be an integer from 0 and up, got `1.5` (number)');
  rejects(t, () => smallNet().predict({ data: new Float64Array(4), rows: 1, columns: -4 }), 'RangeError', 'Expected `x.columns` to be an integer from 0 and up, got `-4` (number)');
  t.end();
});

// --- targets (t) --------------------------------------------------------------

t.test('t rows ≠ x rows (labels)', (t) => {
  rejects(t, () => smallNet().loss(x2, [0, 1, 2]), 'RangeError', 'Expected `t` to have 2 labels (one per row of the batch) or 2 × 3 one-hot values, got 3 values');
  rejects(t, () => crossEntropyError([[0.5, 0.5], [0.1, 0.9]], [1]), 'RangeError', 'Expected `t` to have 2 labels (one per row of the batch) or 2 × 2 one-hot values, got 1 value');
  // One row of 2 classes with 3 targets: neither 1 label nor 1 × 2 one-hot values.
  rejects(t, () => crossEntropyError([0.5, 0.5], [1, 0, 0]), 'RangeError', 'Expected `t` to have 1 label (one per row of the batch) or 1 × 2 one-hot values, got 3 values');
  t.end();
});

t.test('t rows ≠ x rows (one-hot)', (t) => {
  rejects(t, () => smallNet().accuracy(x2, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]), 'RangeError', 'Expected one-hot `t` to be 2 × 3, got 3 × 3');
  t.end();
});

t.test('one-hot width ≠ outputSize', (t) => {
  rejects(t, () => smallNet().loss(x2, [[1, 0], [0, 1]]), 'RangeError', 'Expected one-hot `t` to be 2 × 3, got 2 × 2');
  rejects(t, () => smallNet().gradient(x2, new Matrix([[1, 0, 0, 0], [0, 1, 0, 0]])), 'RangeError', 'Expected one-hot `t` to be 2 × 3, got 2 × 4');
  t.end();
});

t.test('labels out of range', (t) => {
  rejects(t, () => smallNet().loss(x2, [0, 3]), 'RangeError', 'Expected `t` labels to be integers from 0 to 2, got `3` at index 1');
  rejects(t, () => smallNet().accuracy(x2, Int32Array.of(-1, 0)), 'RangeError', 'Expected `t` labels to be integers from 0 to 2, got `-1` at index 0');
  t.end();
});

t.test('labels not integers', (t) => {
  rejects(t, () => smallNet().loss(x2, [1.5, 0]), 'RangeError', 'Expected `t` labels to be integers from 0 to 2, got `1.5` at index 0');
  rejects(t, () => smallNet().loss(x2, [0, NaN]), 'RangeError', 'Expected `t` labels to be integers from 0 to 2, got `NaN` at index 1');
  t.end();
});

t.test('labels not numbers', (t) => {
  rejects(t, () => smallNet().loss(x2, ['1', 0] as Any), 'TypeError', 'Expected `t` labels to be integers from 0 to 2, got `"1"` (string) at index 0');
  t.end();
});

t.test('t of the wrong kind', (t) => {
  rejects(t, () => smallNet().loss(x2, 5 as Any), 'TypeError', 'Expected `t` to be labels or one-hot rows, got `5` (number)');
  t.end();
});

t.test('t of the wrong kind for a single sample (one label is allowed there)', (t) => {
  rejects(t, () => crossEntropyError([0.5, 0.5], 'a' as Any), 'TypeError', 'Expected `t` to be labels or one-hot rows (or one label), got `"a"` (string)');
  t.end();
});

t.test('one-hot t with NaN given as flat data (no row or column to name)', (t) => {
  rejects(t, () => crossEntropyError([[0.5, 0.5]], new Float64Array([NaN, 1])), 'RangeError', 'Expected `t` to contain only finite numbers, got `NaN` at index 0');
  t.end();
});

t.test('crossEntropyError with a negative probability at the target (log would give NaN)', (t) => {
  rejects(t, () => crossEntropyError([0.5, 0.7, -0.2], 2), 'RangeError', 'Expected `y` to be probabilities (0 and up), got `-0.2` at row 0, column 2 (the target class)');
  rejects(t, () => crossEntropyError([[0.5, 0.5], [1.5, -1e-3]], [0, 1]), 'RangeError', 'Expected `y` to be probabilities (0 and up), got `-0.001` at row 1, column 1 (the target class)');
  t.end();
});

t.test('sigmoid and relu of NaN or Infinity (relu would turn NaN into 0)', (t) => {
  rejects(t, () => sigmoid(NaN), 'RangeError', 'Expected `x` to be a finite number, got `NaN` (number)');
  rejects(t, () => relu(-Infinity), 'RangeError', 'Expected `x` to be a finite number, got `-Infinity` (number)');
  rejects(t, () => relu([1, NaN]), 'RangeError', 'Expected `x` to contain only finite numbers, got `NaN` at index 1');
  rejects(t, () => sigmoid([[1, 2], [3, Infinity]]), 'RangeError', 'Expected `x` to contain only finite numbers, got `Infinity` at index 3 (row 1, column 1)');
  t.end();
});

t.test('sigmoid and relu of the wrong kind', (t) => {
  rejects(t, () => sigmoid('1' as Any), 'TypeError', 'Expected `x` to be a number, an array or typed array, number[][], an ml-matrix Matrix or { data, rows, columns }, got `"1"` (string)');
  rejects(t, () => relu(null as Any), 'TypeError', 'Expected `x` to be a number, an array or typed array, number[][], an ml-matrix Matrix or { data, rows, columns }, got `null`');
  rejects(t, () => relu([[1, 2], [3]]), 'RangeError', 'Expected every row of `x` to have 2 columns like row 0, got an array of length 1 at row 1');
  t.end();
});

t.test('one-hot t with NaN', (t) => {
  rejects(t, () => smallNet().loss(x2, [[1, 0, 0], [0, NaN, 0]]), 'RangeError', 'Expected `t` to contain only finite numbers, got `NaN` at index 4 (row 1, column 1)');
  t.end();
});

t.test('TwoLayerNet with a non-finite parameter (a diverged update) refuses to predict, score or differentiate', (t) => {
  const net = smallNet();
  net.W2[4] = NaN; // W2 is 3 × 3: row 1, column 1
  const message = "Expected the net's parameters to be finite, got `NaN` at W2[1][1] (did training diverge? try a smaller learning rate)";
  rejects(t, () => net.predict(x2), 'RangeError', message);
  rejects(t, () => net.loss(x2, [0, 1]), 'RangeError', message);
  rejects(t, () => net.accuracy(x2, [0, 1]), 'RangeError', message);
  rejects(t, () => net.gradient(x2, [0, 1]), 'RangeError', message);
  rejects(t, () => net.numericalGradient(x2, [0, 1]), 'RangeError', message);
  // ReLU would hide a NaN in W1 (max(0, NaN) = 0) and predict something finite.
  const relu = new TwoLayerNet({ ...shape, activation: 'relu', seed: 1 });
  relu.W1[5] = NaN; // W1 is 4 × 3: row 1, column 2
  rejects(t, () => relu.predict(x2), 'RangeError', "Expected the net's parameters to be finite, got `NaN` at W1[1][2] (did training diverge? try a smaller learning rate)");
  t.end();
});

t.test('TwoLayerNet.gradient options not an object, exact not a boolean', (t) => {
  rejects(t, () => smallNet().gradient(x2, [0, 1], null as Any), 'TypeError', 'Expected `options` to be an object such as { exact: true }, got `null`');
  rejects(t, () => smallNet().gradient(x2, [0, 1], { exact: 'no' } as Any), 'TypeError', 'Expected `exact` to be true or false, got `"no"` (string)');
  t.end();
});

t.test('gradientDescent options not an object', (t) => {
  rejects(t, () => gradientDescent(sumSquares, [1, 2], null as Any), 'TypeError', 'Expected `options` to be an object such as { learningRate: 0.1, stepNum: 100 }, got `null`');
  t.end();
});

t.test('SimpleNet options not an object', (t) => {
  rejects(t, () => new SimpleNet(null as Any), 'TypeError', 'Expected `options` to be an object such as { seed: 0 } or { W: [[…], […]] }, got `null`');
  rejects(t, () => new SimpleNet([1, 2] as Any), 'TypeError', 'Expected `options` to be an object such as { seed: 0 } or { W: [[…], […]] }, got an array of length 2');
  t.end();
});

t.test('SimpleNet refuses an unknown option (a misspelling would be ignored)', (t) => {
  rejects(t, () => new SimpleNet({ seed: 1, w: [1, 2, 3, 4, 5, 6] } as Any), 'RangeError', 'Expected `options` of SimpleNet to have only the keys `seed`, `W`, got the key `w`');
  t.equal(new SimpleNet({ seed: 1, W: undefined }).W.length, 6, 'a known key left undefined is fine');
  t.end();
});

// --- TwoLayerNet options --------------------------------------------------------

t.test('TwoLayerNet without options', (t) => {
  rejects(t, () => new TwoLayerNet(undefined as Any), 'TypeError', 'Expected `options` to be an object with inputSize, hiddenSize and outputSize, got `undefined`');
  rejects(t, () => new TwoLayerNet(null as Any), 'TypeError', 'Expected `options` to be an object with inputSize, hiddenSize and outputSize, got `null`');
  t.end();
});

t.test('TwoLayerNet refuses an unknown option (a misspelling would be ignored)', (t) => {
  rejects(t, () => new TwoLayerNet({ ...shape, weightInitSTD: 1 } as Any), 'RangeError',
    'Expected `options` of TwoLayerNet to have only the keys `inputSize`, `hiddenSize`, `outputSize`, `weightInitStd`, `activation`, `seed`, got the key `weightInitSTD`');
  rejects(t, () => new TwoLayerNet({ ...shape, hidden: 3 } as Any), 'RangeError',
    'Expected `options` of TwoLayerNet to have only the keys `inputSize`, `hiddenSize`, `outputSize`, `weightInitStd`, `activation`, `seed`, got the key `hidden`');
  t.ok(new TwoLayerNet({ ...shape, weightInitStd: 0.1, activation: 'relu', seed: 3 }), 'every known key is accepted');
  t.end();
});

t.test('sizes below their minimum', (t) => {
  rejects(t, () => new TwoLayerNet({ ...shape, inputSize: 0 }), 'RangeError', 'Expected `inputSize` to be an integer from 1 and up, got `0` (number)');
  rejects(t, () => new TwoLayerNet({ ...shape, hiddenSize: -1 }), 'RangeError', 'Expected `hiddenSize` to be an integer from 1 and up, got `-1` (number)');
  rejects(t, () => new TwoLayerNet({ ...shape, outputSize: 1 }), 'RangeError', 'Expected `outputSize` to be an integer from 2 and up, got `1` (number)');
  t.end();
});

t.test('sizes not integers', (t) => {
  rejects(t, () => new TwoLayerNet({ ...shape, inputSize: 2.5 }), 'RangeError', 'Expected `inputSize` to be an integer from 1 and up, got `2.5` (number)');
  rejects(t, () => new TwoLayerNet({ ...shape, hiddenSize: Infinity }), 'RangeError', 'Expected `hiddenSize` to be an integer from 1 and up, got `Infinity` (number)');
  t.end();
});

t.test('sizes missing or not numbers', (t) => {
  rejects(t, () => new TwoLayerNet({ hiddenSize: 3, outputSize: 3 } as Any), 'TypeError', 'Expected `inputSize` to be an integer from 1 and up, got `undefined`');
  rejects(t, () => new TwoLayerNet({ ...shape, hiddenSize: '5' as Any }), 'TypeError', 'Expected `hiddenSize` to be an integer from 1 and up, got `"5"` (string)');
  t.end();
});

t.test('bad activation name', (t) => {
  rejects(t, () => new TwoLayerNet({ ...shape, activation: 'tanh' as Any }), 'RangeError', 'Expected `activation` to be one of `sigmoid`, `relu`, got `"tanh"` (string)');
  t.end();
});

t.test('activation not a string', (t) => {
  rejects(t, () => new TwoLayerNet({ ...shape, activation: 1 as Any }), 'TypeError', 'Expected `activation` to be one of `sigmoid`, `relu`, got `1` (number)');
  t.end();
});

t.test('weightInitStd not a finite number greater than 0', (t) => {
  rejects(t, () => new TwoLayerNet({ ...shape, weightInitStd: 0 }), 'RangeError', positiveMessage('weightInitStd', '0'));
  rejects(t, () => new TwoLayerNet({ ...shape, weightInitStd: -0.01 }), 'RangeError', positiveMessage('weightInitStd', '-0.01'));
  rejects(t, () => new TwoLayerNet({ ...shape, weightInitStd: NaN }), 'RangeError', positiveMessage('weightInitStd', 'NaN'));
  rejects(t, () => new TwoLayerNet({ ...shape, weightInitStd: Infinity }), 'RangeError', positiveMessage('weightInitStd', 'Infinity'));
  t.end();
});

t.test('weightInitStd not a number', (t) => {
  rejects(t, () => new TwoLayerNet({ ...shape, weightInitStd: '0.01' as Any }), 'TypeError', 'Expected `weightInitStd` to be a finite number greater than 0, got `"0.01"` (string)');
  t.end();
});

t.test('seed out of range or not an integer', (t) => {
  const message = (v: string) => `Expected \`seed\` to be an integer from 0 to 4294967295, got \`${v}\` (number)`;
  rejects(t, () => new TwoLayerNet({ ...shape, seed: -1 }), 'RangeError', message('-1'));
  rejects(t, () => new TwoLayerNet({ ...shape, seed: 2 ** 32 }), 'RangeError', message('4294967296'));
  rejects(t, () => new TwoLayerNet({ ...shape, seed: 0.5 }), 'RangeError', message('0.5'));
  rejects(t, () => new Random(NaN), 'RangeError', message('NaN'));
  rejects(t, () => new SimpleNet({ seed: -3 }), 'RangeError', message('-3'));
  t.end();
});

t.test('seed not a number', (t) => {
  rejects(t, () => new Random('1' as Any), 'TypeError', 'Expected `seed` to be an integer from 0 to 4294967295, got `"1"` (string)');
  t.end();
});

t.test('fromParameters with the wrong number of values', (t) => {
  rejects(t, () => TwoLayerNet.fromParameters(shape, new Float64Array(26)), 'RangeError', 'Expected `params` to have 27 values for 4-3-3, got 26');
  t.end();
});

t.test('fromParameters with non-finite values', (t) => {
  const params = new Float64Array(27);
  params[3] = NaN;
  rejects(t, () => TwoLayerNet.fromParameters(shape, params), 'RangeError', 'Expected `params` to contain only finite numbers, got `NaN` at index 3');
  t.end();
});

t.test('fromParameters without an array', (t) => {
  rejects(t, () => TwoLayerNet.fromParameters(shape, null as Any), 'TypeError', 'Expected `params` to be an array or a Float64Array of 27 values, got `null`');
  t.end();
});

t.test('fromParameters with a bad shape', (t) => {
  rejects(t, () => TwoLayerNet.fromParameters({ ...shape, outputSize: 0 }, new Float64Array(27)), 'RangeError', 'Expected `outputSize` to be an integer from 2 and up, got `0` (number)');
  t.end();
});

t.test('views of a vector of the wrong length', (t) => {
  rejects(t, () => smallNet().views(new Float64Array(26)), 'RangeError', 'Expected `flat` to have 27 values (the parameter layout of this net), got 26');
  rejects(t, () => smallNet().views([1, 2] as Any), 'TypeError', 'Expected `flat` to be a Float64Array, got an array of length 2');
  t.end();
});

// --- SimpleNet ------------------------------------------------------------------

t.test('SimpleNet W of the wrong shape', (t) => {
  const message = (got: string) => `Expected \`W\` to be 2 × 3 (or 6 values row-major), got ${got}`;
  rejects(t, () => new SimpleNet({ W: [[1, 2, 3]] }), 'RangeError', message('an array of length 1'));
  rejects(t, () => new SimpleNet({ W: [[1, 2], [3, 4]] }), 'RangeError', message('an array of length 2'));
  rejects(t, () => new SimpleNet({ W: [[1, 2, 3], [4, 5, 6], [7, 8, 9]] }), 'RangeError', message('an array of length 3'));
  rejects(t, () => new SimpleNet({ W: [1, 2, 3, 4, 5] }), 'RangeError', message('an array of length 5'));
  rejects(t, () => new SimpleNet().setW(new Float64Array(7)), 'RangeError', message('a Float64Array of length 7'));
  t.end();
});

t.test('SimpleNet W not an array', (t) => {
  rejects(t, () => new SimpleNet({ W: 5 as Any }), 'TypeError', 'Expected `W` to be 2 × 3 (or 6 values row-major), got `5` (number)');
  t.end();
});

t.test('SimpleNet W not finite', (t) => {
  rejects(t, () => new SimpleNet({ W: [[1, 2, 3], [4, NaN, 6]] }), 'RangeError', 'Expected `W` to contain only finite numbers, got `NaN` at index 4');
  t.end();
});

t.test('SimpleNet x without 2 columns', (t) => {
  rejects(t, () => new SimpleNet().predict([1, 2, 3]), 'RangeError', 'Expected `x` to have 2 columns, got 3');
  rejects(t, () => new SimpleNet().loss([[1], [2]], [0, 1]), 'RangeError', 'Expected `x` to have 2 columns, got 1');
  t.end();
});

// --- loss functions ---------------------------------------------------------------

t.test('sumSquaredError with t of another shape than y', (t) => {
  rejects(t, () => sumSquaredError(new Array(10).fill(0.1), new Array(9).fill(0)), 'RangeError', 'Expected `t` to have the shape of `y` (1 × 10), got 1 × 9');
  rejects(t, () => sumSquaredError([[1, 2, 3], [4, 5, 6]], [[1, 2], [3, 4], [5, 6]]), 'RangeError', 'Expected `t` to have the shape of `y` (2 × 3), got 3 × 2');
  t.end();
});

t.test('sumSquaredError with non-finite values', (t) => {
  rejects(t, () => sumSquaredError([NaN, 1], [0, 1]), 'RangeError', 'Expected `y` to contain only finite numbers, got `NaN` at index 0');
  rejects(t, () => sumSquaredError([0, 1], [0, Infinity]), 'RangeError', 'Expected `t` to contain only finite numbers, got `Infinity` at index 1');
  t.end();
});

// --- Random -------------------------------------------------------------------------

t.test('Random.int(n) with n below 1 or not an integer', (t) => {
  rejects(t, () => new Random(1).int(0), 'RangeError', 'Expected `n` to be an integer from 1 and up, got `0` (number)');
  rejects(t, () => new Random(1).int(2.5), 'RangeError', 'Expected `n` to be an integer from 1 and up, got `2.5` (number)');
  t.end();
});

t.test('Random.permutation(n) with n negative or too large', (t) => {
  rejects(t, () => new Random(1).permutation(-1), 'RangeError', 'Expected `n` to be an integer from 0 to 2147483647, got `-1` (number)');
  rejects(t, () => new Random(1).permutation(2 ** 31), 'RangeError', 'Expected `n` to be an integer from 0 to 2147483647, got `2147483648` (number)');
  t.end();
});

t.test('Random.int(n) and Random.permutation(n) with n not a number', (t) => {
  rejects(t, () => new Random(1).int('3' as Any), 'TypeError', 'Expected `n` to be an integer from 1 and up, got `"3"` (string)');
  rejects(t, () => new Random(1).permutation(undefined as Any), 'TypeError', 'Expected `n` to be an integer from 0 to 2147483647, got `undefined`');
  t.end();
});

t.test('Random.fromState without a state object', (t) => {
  rejects(t, () => Random.fromState(null as Any), 'TypeError', 'Expected `state` to be an object { generator, spareNormal } from getState(), got `null`');
  t.end();
});

t.test('Random.fromState with a bad generator state', (t) => {
  rejects(t, () => Random.fromState({ generator: [1, 2, 3], spareNormal: null }), 'RangeError', 'Expected `state.generator` to be 4 32-bit integers from getState(), got an array of length 3');
  rejects(t, () => Random.fromState({ generator: [1, 2, 3, 0.5], spareNormal: null }), 'RangeError', 'Expected `state.generator` to be 4 32-bit integers from getState(), got `0.5` (number) at index 3');
  t.end();
});

t.test('Random.fromState with a bad spare normal', (t) => {
  const { generator } = new Random(1).getState();
  rejects(t, () => Random.fromState({ generator, spareNormal: NaN }), 'RangeError', 'Expected `state.spareNormal` to be null or a finite number, got `NaN` (number)');
  rejects(t, () => Random.fromState({ generator, spareNormal: '0.5' as Any }), 'RangeError', 'Expected `state.spareNormal` to be null or a finite number, got `"0.5"` (string)');
  t.end();
});

t.test('Random.fillNormal with a bad array or standard deviation', (t) => {
  rejects(t, () => new Random(1).fillNormal([0, 0] as Any), 'TypeError', 'Expected `out` to be a Float64Array, got an array of length 2');
  rejects(t, () => new Random(1).fillNormal(new Float64Array(2), NaN), 'RangeError', 'Expected `std` to be a finite number, got `NaN` (number)');
  rejects(t, () => new Random(1).fillNormal(new Float64Array(2), '1' as Any), 'TypeError', 'Expected `std` to be a finite number, got `"1"` (string)');
  t.end();
});

// --- error classes ------------------------------------------------------------------

/** What `fn` threw (undefined when it returned). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

t.test('argument errors are TypeError and RangeError by class and by name, and tell themselves from a bug\'s', (t) => {
  const wrongType = thrown(() => new Random('1' as Any));
  const outOfRange = thrown(() => new TwoLayerNet({ ...shape, inputSize: 0 }));
  const bug = thrown(() => (null as Any).field);
  t.ok(wrongType instanceof gradpool.ArgumentTypeError && wrongType instanceof TypeError);
  t.equal((wrongType as Error).name, 'TypeError');
  t.ok(outOfRange instanceof gradpool.ArgumentRangeError && outOfRange instanceof RangeError);
  t.equal((outOfRange as Error).name, 'RangeError');
  t.match(String((outOfRange as Error).stack), /^RangeError: Expected `inputSize`/, 'the stack trace starts as a RangeError\'s did');
  t.ok(gradpool.isArgumentError(wrongType) && gradpool.isArgumentError(outOfRange));
  t.ok(bug instanceof TypeError, 'reading a field of null is a TypeError');
  t.notOk(gradpool.isArgumentError(bug), 'but not an argument error');
  t.notOk(gradpool.isArgumentError(new RangeError('Expected `x` to look like an argument error')), 'whatever its message');
  t.notOk(gradpool.isArgumentError(new gradpool.InputError('Expected a file')));
  t.end();
});

t.test('every error class in src/ is exported from the package entry', (t) => {
  const source = fileURLToPath(new URL('../src/', import.meta.url));
  const declared = new Set<string>();
  for (const file of readdirSync(source, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    for (const match of readFileSync(join(source, file), 'utf8').matchAll(/\bclass (\w+) extends (\w*Error)\b/g)) declared.add(match[1]);
  }
  // The scan finds the classes known today (and any added later, which the loop then checks).
  for (const known of ['ArgumentRangeError', 'ArgumentTypeError', 'DivergenceError', 'GradientAbortError', 'GradientPoolError', 'GradientTimeoutError', 'InputError']) {
    t.ok(declared.has(known), `the scan finds ${known}`);
  }
  for (const name of declared) {
    const exported = (gradpool as Record<string, unknown>)[name];
    t.type(exported, 'function', `${name} is exported`);
    t.ok(typeof exported === 'function' && exported.prototype instanceof Error, `${name} is an Error`);
  }
  t.equal(gradpool.DivergenceError, trainerDivergenceError, 'DivergenceError is one class, from errors.ts and from trainer.ts alike');
  t.end();
});

t.test('number[][]: a bad shape or a non-number anywhere is reported before a non-finite number, as in row order', async (t) => {
  const net = new gradpool.TwoLayerNet({ inputSize: 2, hiddenSize: 2, outputSize: 2, seed: 1 });
  t.throws(() => net.predict([[Number.NaN, 1], ['a' as unknown as number, 2]]), { name: 'TypeError', message: 'Expected `x` to contain only numbers, got `"a"` (string) at row 1, column 0' });
  t.throws(() => net.predict([[Number.NaN, 1], [2]]), { message: /^Expected every row of `x` to have 2 columns like row 0, got .* at row 1$/ });
  t.throws(() => net.predict([[1, 2], [Number.POSITIVE_INFINITY, Number.NaN]]), { name: 'RangeError', message: 'Expected `x` to contain only finite numbers, got `Infinity` at index 2 (row 1, column 0)' });
});

t.test('oneLine writes line breaks as escapes, so a quoted file text keeps a message on one line', async (t) => {
  const { oneLine } = await import('../src/validate.js');
  t.equal(oneLine('Unexpected token \'g\', "garbage\n" is not valid JSON'), 'Unexpected token \'g\', "garbage\\n" is not valid JSON');
  t.equal(oneLine('a\r\nb\rc\u2028d\u2029e'), 'a\\r\\nb\\rc\\u2028d\\u2029e');
  t.equal(oneLine('no break'), 'no break');
});
