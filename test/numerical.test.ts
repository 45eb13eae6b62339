/**
 * Numerical calculus against the book's numbers (chapter 4.3–4.4,
 * /work/shared/reference/book-values.md) and against the book's loop written
 * out plainly here.
 */
import t, { type Test } from 'tap';
import { DEFAULT_H, gradientDescent, numericalDiff, numericalGradient } from '../src/index.js';

function near(t: Test, actual: number, expected: number, rel: number, what: string): void {
  const ok = expected === 0 ? actual === 0 : Math.abs(actual - expected) <= rel * Math.abs(expected);
  t.ok(ok, `${what}: got ${actual}, expected ${expected} (relative tolerance ${rel})`);
}

function nearAll(t: Test, actual: ArrayLike<number>, expected: readonly number[], rel: number, what: string): void {
  t.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) near(t, actual[i], expected[i], rel, `${what}[${i}]`);
}

/** The book's function_1: 0.01x² + 0.1x (numpy's x**2 is x·x). */
const function1 = (x: number) => 0.01 * (x * x) + 0.1 * x;
/** The book's function_2: x0² + x1². */
const function2 = (x: Float64Array) => x[0] * x[0] + x[1] * x[1];

/** The book's `_numerical_gradient_no_batch`, written out plainly on a copy. */
function bookNumericalGradient(f: (x: Float64Array) => number, x0: ArrayLike<number>, h = 1e-4): number[] {
  const x = Float64Array.from(x0);
  const grad: number[] = [];
  for (let idx = 0; idx < x.length; idx++) {
    const tmp = x[idx];
    x[idx] = tmp + h;
    const fxh1 = f(x);
    x[idx] = tmp - h;
    const fxh2 = f(x);
    grad.push((fxh1 - fxh2) / (2 * h));
    x[idx] = tmp;
  }
  return grad;
}

t.test('numericalDiff reproduces the book: function_1 at 5 and 10', (t) => {
  near(t, numericalDiff(function1, 5), 0.1999999999990898, 1e-12, 'numerical_diff(function_1, 5)');
  near(t, numericalDiff(function1, 10), 0.2999999999986347, 1e-12, 'numerical_diff(function_1, 10)');
  // The true derivative 0.02x + 0.1: the central difference of a quadratic has no
  // truncation error, only the rounding of f (≈ 1e-16·|f| / 2h ≈ 1e-12 here).
  near(t, numericalDiff(function1, 5), 0.2, 1e-10, 'vs the analytic derivative at 5');
  near(t, numericalDiff(function1, 10), 0.3, 1e-10, 'vs the analytic derivative at 10');
  t.equal(DEFAULT_H, 1e-4, 'the book\'s h');
  t.end();
});

t.test('numericalDiff with an explicit h: the central difference of x³ is 3x² + h²', (t) => {
  const cube = (x: number) => x * x * x;
  near(t, numericalDiff(cube, 2, 1e-2), 12 + 1e-4, 1e-10, 'h = 1e-2 at x = 2');
  near(t, numericalDiff(cube, 2), 12 + 1e-8, 1e-10, 'default h at x = 2');
  t.end();
});

t.test('numericalGradient reproduces the book: function_2 at three points', (t) => {
  nearAll(t, numericalGradient(function2, Float64Array.of(3, 4)), [6.00000000000378, 7.999999999999119], 1e-12, 'at [3, 4]');
  // At 0, f(h) − f(−h) = h² − h² = 0 exactly, so those entries are exactly 0.
  nearAll(t, numericalGradient(function2, Float64Array.of(0, 2)), [0, 4.000000000004], 1e-12, 'at [0, 2]');
  nearAll(t, numericalGradient(function2, Float64Array.of(3, 0)), [6.000000000012662, 0], 1e-12, 'at [3, 0]');
  t.end();
});

t.test('numericalGradient equals the book\'s loop on a 2×3 tensor (any shape, flattened)', (t) => {
  // f(W) = Σ c_ij W_ij² + W_00·W_12 over a 2×3 matrix stored row-major.
  const c = [1, 2, 3, 4, 5, 6];
  const f = (w: Float64Array) => {
    let s = 0;
    for (let i = 0; i < 6; i++) s += c[i] * w[i] * w[i];
    return s + w[0] * w[5];
  };
  const w = Float64Array.of(0.5, -1.25, 2, 0.75, -3, 1.5);
  const before = Array.from(w);
  const grad = numericalGradient(f, w);
  t.same(Array.from(w), before, 'x is restored');
  t.same(Array.from(grad), bookNumericalGradient(f, before), 'identical to the plain loop');
  const analytic = before.map((v, i) => 2 * c[i] * v + (i === 0 ? before[5] : i === 5 ? before[0] : 0));
  for (let i = 0; i < 6; i++) near(t, grad[i], analytic[i], 1e-9, `vs the analytic gradient [${i}]`);

  // A view into a larger buffer (e.g. one tensor of a net's parameters).
  const buffer = new Float64Array(10);
  const view = buffer.subarray(2, 8);
  view.set(before);
  t.same(Array.from(numericalGradient(f, view)), Array.from(grad), 'a subarray view works the same');
  t.same(Array.from(buffer), [0, 0, ...before, 0, 0], 'the buffer around the view is untouched');
  t.end();
});

t.test('numericalGradient perturbs one element at a time, +h then −h, in row-major order', (t) => {
  const x = Float64Array.of(1, 2, 3);
  const seen: number[][] = [];
  numericalGradient((v) => {
    seen.push(Array.from(v));
    return 0;
  }, x);
  const h = 1e-4;
  t.same(seen, [
    [1 + h, 2, 3], [1 - h, 2, 3],
    [1, 2 + h, 3], [1, 2 - h, 3],
    [1, 2, 3 + h], [1, 2, 3 - h],
  ]);
  t.end();
});

t.test('numericalGradient restores x when f throws', (t) => {
  const original = [1.5, -2.25, 3];
  for (const failOn of [1, 2, 3, 4, 6]) {
    const x = Float64Array.from(original);
    let calls = 0;
    const boom = new Error(`fail on evaluation ${failOn}`);
    let caught: unknown;
    try {
      numericalGradient(() => {
        calls++;
        if (calls === failOn) throw boom;
        return 1;
      }, x);
    } catch (error) {
      caught = error;
    }
    t.equal(caught, boom, `f's own error propagates when it throws on evaluation ${failOn}`);
    t.same(Array.from(x), original, `x is restored after f threw on evaluation ${failOn}`);
  }
  // Also when f returns something invalid (the check throws between evaluations).
  const x = Float64Array.from(original);
  let calls = 0;
  t.throws(() => numericalGradient(() => (++calls === 2 ? NaN : 1), x), { name: 'RangeError' });
  t.same(Array.from(x), original, 'x is restored after f returned NaN on evaluation 2');
  t.end();
});

t.test('gradientDescent reproduces the book: lr 0.1, 100 steps', (t) => {
  const { x, history } = gradientDescent(function2, [-3, 4], { learningRate: 0.1, stepNum: 100 });
  nearAll(t, x, [-6.111107928998789e-10, 8.148143905314271e-10], 1e-12, 'final point');
  t.equal(history.length, 100, 'one history entry per step');
  nearAll(t, history[0], [-3, 4], 0, 'history[0] is the start');
  nearAll(t, history[1], [-2.399999999999622, 3.200000000000088], 1e-12, 'history[1]');
  nearAll(t, history[2], [-1.9199999999982538, 2.5599999999976717], 1e-12, 'history[2]');
  t.end();
});

t.test('gradientDescent reproduces the book: lr 10 diverges', (t) => {
  const { x } = gradientDescent(function2, [-3, 4], { learningRate: 10, stepNum: 100 });
  nearAll(t, x, [-25898374737328.363, -1295248616896.5398], 1e-12, 'lr 10');
  t.end();
});

t.test('gradientDescent reproduces the book: lr 1e-10 barely moves', (t) => {
  const { x } = gradientDescent(function2, [-3, 4], { learningRate: 1e-10, stepNum: 100 });
  nearAll(t, x, [-2.999999939999995, 3.9999999199999934], 1e-12, 'lr 1e-10');
  t.end();
});

t.test('gradientDescent follows x ← x − lr·grad, recomputed with the plain loop', (t) => {
  const f = (x: Float64Array) => (x[0] - 1) * (x[0] - 1) + 3 * x[1] * x[1] + x[0] * x[1];
  const { x, history } = gradientDescent(f, [2, -1], { learningRate: 0.05, stepNum: 7, h: 1e-3 });
  let point = [2, -1];
  for (let step = 0; step < 7; step++) {
    t.same(Array.from(history[step]), point, `history[${step}]`);
    const grad = bookNumericalGradient(f, point, 1e-3);
    point = point.map((v, i) => v - 0.05 * grad[i]);
  }
  t.same(Array.from(x), point, 'final point');
  t.end();
});

t.test('gradientDescent with the default options is 100 steps of lr 0.01', (t) => {
  const { x, history } = gradientDescent(function2, [-3, 4]);
  t.equal(history.length, 100);
  // Each step multiplies x by (1 − 2·0.01) up to the gradient's ~1e-12 error.
  nearAll(t, x, [-3 * 0.98 ** 100, 4 * 0.98 ** 100], 1e-9, 'x ≈ x0·0.98^100');
  t.end();
});

t.test('gradientDescent with stepNum 0 returns a copy of initX and no history', (t) => {
  const initX = Float64Array.of(-3, 4);
  const { x, history } = gradientDescent(function2, initX, { stepNum: 0 });
  t.same(Array.from(x), [-3, 4]);
  t.not(x, initX, 'a new array');
  t.same(history, []);
  t.end();
});

t.test('gradientDescent leaves initX unchanged', (t) => {
  const asArray = [-3, 4];
  const asFloat64 = Float64Array.of(-3, 4);
  const fromArray = gradientDescent(function2, asArray, { learningRate: 0.1, stepNum: 10 });
  const fromFloat64 = gradientDescent(function2, asFloat64, { learningRate: 0.1, stepNum: 10 });
  t.same(asArray, [-3, 4], 'number[] initX unchanged');
  t.same(Array.from(asFloat64), [-3, 4], 'Float64Array initX unchanged');
  t.not(fromFloat64.x, asFloat64, 'the result is a new array');
  t.same(Array.from(fromArray.x), Array.from(fromFloat64.x), 'both forms give the same path');
  nearAll(t, fromArray.x, [-3 * 0.8 ** 10, 4 * 0.8 ** 10], 1e-9, 'x moved: 10 steps of ×(1 − 2·0.1)');
  t.end();
});

t.test('gradientDescent takes initX as any array of numbers (typed as ArrayLike<number>): the same path as number[]', (t) => {
  const reference = gradientDescent(function2, [-3, 4], { learningRate: 0.1, stepNum: 10 });
  const forms: Array<[string, ArrayLike<number>]> = [
    ['Int32Array', Int32Array.of(-3, 4)],
    ['Float32Array', Float32Array.of(-3, 4)],
    ['an array-like object', { length: 2, 0: -3, 1: 4 }],
  ];
  for (const [name, initX] of forms) {
    const { x, history } = gradientDescent(function2, initX, { learningRate: 0.1, stepNum: 10 });
    t.type(x, Float64Array, `${name}: x is a Float64Array`);
    t.same(Array.from(x), Array.from(reference.x), `${name}: the same final point, exactly`);
    t.same(history.map((p) => Array.from(p)), reference.history.map((p) => Array.from(p)), `${name}: the same history`);
  }
  // And the path itself, independently: each step multiplies x by (1 − 2·0.1) up to the gradient's ~1e-12 error.
  nearAll(t, reference.x, [-3 * 0.8 ** 10, 4 * 0.8 ** 10], 1e-9, 'x ≈ x0·0.8^10');
  t.end();
});

t.test('numericalGradient returns a new Float64Array with one partial derivative per element of x', (t) => {
  const x = Float64Array.of(3, 4);
  const grad = numericalGradient(function2, x);
  t.type(grad, Float64Array);
  t.not(grad, x, 'not x itself');
  t.not(grad.buffer, x.buffer, 'nor a view of its buffer');
  nearAll(t, grad, [6.00000000000378, 7.999999999999119], 1e-12, 'the book\'s numerical_gradient(function_2, [3, 4])');
  t.end();
});
