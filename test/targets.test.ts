/**
 * Targets and probabilities are taken as given or refused, never reinterpreted:
 * a one-hot row has exactly one 1 and zeros elsewhere (a soft target, a row of
 * zeros or two 1s used to become its argmax), and every element of the `y`
 * handed to crossEntropyError is a probability in [0, 1].
 */
import t, { type Test } from 'tap';
import { Matrix } from 'ml-matrix';
import { crossEntropyError, SimpleNet, TwoLayerNet, type NetGradient, type SimpleNetGradient, type TargetInput } from '../src/index.js';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `fn` throws a `name` error whose message is exactly `message`. */
function rejects(t: Test, fn: () => unknown, name: 'TypeError' | 'RangeError', message: string): void {
  t.throws(fn, { name, message: new RegExp(`^${escape(message)}$`) }, `${name}: ${message}`);
}

const oneHotMessage = (row: number, got: string) => `Expected one-hot \`t\`: row ${row} has exactly one 1 and zeros elsewhere, got ${got}`;
const probabilityMessage = (value: string, row: number, column: number, target = false) =>
  `Expected \`y\` to be probabilities (from 0 to 1), got \`${value}\` at row ${row}, column ${column}${target ? ' (the target class)' : ''}`;

/** Three rows of two classes; the bad row is never row 0, so the message has to name it. */
const y3 = [[0.3, 0.7], [0.6, 0.4], [0.5, 0.5]];
const x3 = [[1, 2], [3, 4], [5, 6]];
const labels3 = [1, 0, 1];
const oneHot3 = [[0, 1], [1, 0], [0, 1]];
// A soft target, an all-zero row, two ones: each used to become its row's argmax.
const badTargets: Array<{ t: number[][]; message: string }> = [
  { t: [[0, 1], [1, 0], [0.2, 0.8]], message: oneHotMessage(2, '`0.2` at column 0') },
  { t: [[0, 1], [0, 0], [0, 1]], message: oneHotMessage(1, 'all zeros') },
  { t: [[0, 1], [1, 0], [1, 1]], message: oneHotMessage(2, 'a second 1 at column 1 (the first at column 0)') },
];

const tinyNet = () => new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 2, seed: 1 });

function bits(values: Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** Both nets' gradients are `{ flat, …views }`: compare every value through `flat`. */
function sameGradient(t: Test, a: NetGradient | SimpleNetGradient, b: NetGradient | SimpleNetGradient, what: string): void {
  t.ok(bits(a.flat).equals(bits(b.flat)), `${what}: bit-identical`);
}

// --- targets that are not one-hot -------------------------------------------------

t.test('crossEntropyError refuses targets that are not one-hot, naming the row', (t) => {
  for (const { t: target, message } of badTargets) {
    rejects(t, () => crossEntropyError(y3, target), 'RangeError', message);
    rejects(t, () => crossEntropyError(new Matrix(y3), new Matrix(target)), 'RangeError', message);
    rejects(t, () => crossEntropyError(y3, { data: Float64Array.from(target.flat()), rows: 3, columns: 2 }), 'RangeError', message);
    rejects(t, () => crossEntropyError(y3, Float64Array.from(target.flat())), 'RangeError', message);
  }
  // A batch of one: a 1-D y with a 1-D target row.
  rejects(t, () => crossEntropyError([0.3, 0.7], [0.2, 0.8]), 'RangeError', oneHotMessage(0, '`0.2` at column 0'));
  rejects(t, () => crossEntropyError([0.3, 0.7], Float64Array.of(0, 0)), 'RangeError', oneHotMessage(0, 'all zeros'));
  rejects(t, () => crossEntropyError([0.3, 0.7], [1, 1]), 'RangeError', oneHotMessage(0, 'a second 1 at column 1 (the first at column 0)'));
  t.end();
});

t.test('one-hot means exactly 0 and 1: a near-one, a negative or a 2 is refused', (t) => {
  rejects(t, () => crossEntropyError(y3, [[0, 1], [1, 0], [0, 0.9999999]]), 'RangeError', oneHotMessage(2, '`0.9999999` at column 1'));
  rejects(t, () => crossEntropyError(y3, [[0, 1], [1, -1e-17], [0, 1]]), 'RangeError', oneHotMessage(1, '`-1e-17` at column 1'));
  rejects(t, () => crossEntropyError(y3, [[0, 2], [1, 0], [0, 1]]), 'RangeError', oneHotMessage(0, '`2` at column 1'));
  t.end();
});

t.test('TwoLayerNet#loss, #accuracy, #gradient, #numericalGradient refuse targets that are not one-hot', (t) => {
  const net = tinyNet();
  for (const { t: target, message } of badTargets) {
    rejects(t, () => net.loss(x3, target), 'RangeError', message);
    rejects(t, () => net.accuracy(x3, target), 'RangeError', message);
    rejects(t, () => net.gradient(x3, target), 'RangeError', message);
    rejects(t, () => net.gradient(x3, target, { exact: true }), 'RangeError', message);
    rejects(t, () => net.numericalGradient(x3, target), 'RangeError', message);
    rejects(t, () => net.prepare(x3, new Matrix(target)), 'RangeError', message);
  }
  t.end();
});

t.test('SimpleNet#loss and #numericalGradient refuse targets that are not one-hot', (t) => {
  const net = new SimpleNet({ seed: 0 });
  const x = [0.6, 0.9];
  const cases: Array<[TargetInput, string]> = [
    [[0, 0.5, 0.5], oneHotMessage(0, '`0.5` at column 1')],
    [[0, 0, 0], oneHotMessage(0, 'all zeros')],
    [[1, 0, 1], oneHotMessage(0, 'a second 1 at column 2 (the first at column 0)')],
  ];
  for (const [target, message] of cases) {
    rejects(t, () => net.loss(x, target), 'RangeError', message);
    rejects(t, () => net.numericalGradient(x, target), 'RangeError', message);
  }
  rejects(t, () => net.loss([x, x], [[0, 0, 1], [0.1, 0.1, 0.8]]), 'RangeError', oneHotMessage(1, '`0.1` at column 0'));
  t.end();
});

// --- probabilities handed to crossEntropyError --------------------------------------

t.test('crossEntropyError refuses y outside [0, 1] anywhere, not only at the target', (t) => {
  // Was −log(1.1 + 1e-7) ≈ −0.0953: a negative loss.
  rejects(t, () => crossEntropyError([-0.1, 1.1], 1), 'RangeError', probabilityMessage('-0.1', 0, 0));
  rejects(t, () => crossEntropyError([0.2, 1.1], 1), 'RangeError', probabilityMessage('1.1', 0, 1, true));
  rejects(t, () => crossEntropyError([1.5, 0.2], 1), 'RangeError', probabilityMessage('1.5', 0, 0));
  rejects(t, () => crossEntropyError([[0.5, 0.5], [0.2, 1.5]], [0, 0]), 'RangeError', probabilityMessage('1.5', 1, 1));
  rejects(t, () => crossEntropyError([[0.5, 0.5], [-0.2, 0.9]], [[1, 0], [0, 1]]), 'RangeError', probabilityMessage('-0.2', 1, 0));
  // Scores passed by mistake instead of softmax(scores).
  rejects(t, () => crossEntropyError({ data: Float64Array.of(0.2, -1.3, 2.2), rows: 1, columns: 3 }, [0]), 'RangeError', probabilityMessage('-1.3', 0, 1));
  t.end();
});

t.test('crossEntropyError refuses a NaN probability off the target (already refused by the finiteness check)', (t) => {
  rejects(t, () => crossEntropyError([[0.5, 0.5], [NaN, 0.5]], [0, 1]), 'RangeError', 'Expected `y` to contain only finite numbers, got `NaN` at index 2 (row 1, column 0)');
  rejects(t, () => crossEntropyError([0.5, Infinity], 0), 'RangeError', 'Expected `y` to contain only finite numbers, got `Infinity` at index 1');
  t.end();
});

t.test('probabilities at the edges of [0, 1] are accepted', (t) => {
  t.equal(crossEntropyError([0, 1], 1), -Math.log(1 + 1e-7), 'y = [0, 1]');
  t.equal(crossEntropyError([1, 0], 1), -Math.log(1e-7), 'y = 1 off the target, 0 at it');
  t.equal(crossEntropyError([0.3, 0.3], 0), -Math.log(0.3 + 1e-7), 'rows need not sum to 1 (the book\'s function does not check)');
  t.end();
});

// --- correct one-hot targets give exactly what labels give ---------------------------

t.test('a correct one-hot batch gives bit for bit what its labels give', (t) => {
  const ce = crossEntropyError(y3, labels3);
  t.ok(Object.is(crossEntropyError(y3, oneHot3), ce), 'crossEntropyError, number[][]');
  t.ok(Object.is(crossEntropyError(new Matrix(y3), new Matrix(oneHot3)), ce), 'crossEntropyError, ml-matrix');
  t.ok(Object.is(crossEntropyError(y3, Float64Array.from(oneHot3.flat())), ce), 'crossEntropyError, flat Float64Array');
  t.ok(Object.is(crossEntropyError(y3, [[-0, 1], [1, -0], [0, 1]]), ce), 'crossEntropyError, −0 is a zero');

  const net = tinyNet();
  t.ok(Object.is(net.loss(x3, oneHot3), net.loss(x3, labels3)), 'TwoLayerNet#loss');
  t.ok(Object.is(net.accuracy(x3, oneHot3), net.accuracy(x3, labels3)), 'TwoLayerNet#accuracy');
  sameGradient(t, net.gradient(x3, oneHot3), net.gradient(x3, labels3), 'TwoLayerNet#gradient');
  sameGradient(t, net.gradient(x3, oneHot3, { exact: true }), net.gradient(x3, labels3, { exact: true }), 'TwoLayerNet#gradient exact');
  sameGradient(t, net.numericalGradient(x3, oneHot3), net.numericalGradient(x3, labels3), 'TwoLayerNet#numericalGradient');
  t.same(Array.from(net.prepare(x3, oneHot3).labels), labels3, 'prepare gives the labels');

  const simple = new SimpleNet({ seed: 0 });
  const x = [[0.6, 0.9], [0.1, -0.4]];
  t.ok(Object.is(simple.loss(x, [[0, 0, 1], [1, 0, 0]]), simple.loss(x, [2, 0])), 'SimpleNet#loss');
  sameGradient(t, simple.numericalGradient(x, [[0, 0, 1], [1, 0, 0]]), simple.numericalGradient(x, [2, 0]), 'SimpleNet#numericalGradient');
  t.end();
});
