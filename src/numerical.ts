/**
 * Numerical calculus with the book's semantics (chapter 4): central differences
 * with h = 1e-4, perturbing one element in place at a time.
 */
import { assertFunction, assertInteger, assertPositiveFinite, describe } from './validate.js';

export const DEFAULT_H = 1e-4;

function checkResult(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`Expected \`f\` to return a finite number, got ${describe(value)} at ${where}`);
  }
  return value;
}

/** (f(x + h) − f(x − h)) / (2h). */
export function numericalDiff(f: (x: number) => number, x: number, h = DEFAULT_H): number {
  assertFunction('f', f);
  if (typeof x !== 'number') throw new TypeError(`Expected \`x\` to be a finite number, got ${describe(x)}`);
  if (!Number.isFinite(x)) throw new RangeError(`Expected \`x\` to be a finite number, got ${describe(x)}`);
  assertPositiveFinite('h', h);
  const plus = checkResult(f(x + h), `x + h = ${x + h}`);
  const minus = checkResult(f(x - h), `x - h = ${x - h}`);
  return (plus - minus) / (2 * h);
}

/**
 * The book's loop, over the elements [start, end) of `x`: set x[idx] to
 * x + h, evaluate, set it to x − h, evaluate, store the central difference in
 * out[idx], restore the element (even if `evaluate` throws). `evaluate` gets the
 * perturbed point, the index and which side (`'+'` or `'-'`), to name them in
 * its errors. Every numerical gradient of gradpool runs through here: the
 * book's `numerical_gradient`, the naive engine and a user function in the pool.
 */
export function centralDifferences(
  evaluate: (x: Float64Array, index: number, side: '+' | '-') => number, x: Float64Array, start: number, end: number, h: number, out: Float64Array,
): void {
  for (let idx = start; idx < end; idx++) {
    const tmp = x[idx];
    try {
      x[idx] = tmp + h;
      const fxh1 = evaluate(x, idx, '+');
      x[idx] = tmp - h;
      const fxh2 = evaluate(x, idx, '-');
      out[idx] = (fxh1 - fxh2) / (2 * h);
    } finally {
      x[idx] = tmp;
    }
  }
}

/**
 * The book's `numerical_gradient`: for every element of `x` in order, set it to
 * x + h, evaluate `f(x)`, set it to x − h, evaluate, store the central
 * difference, restore the element. `x` is modified during the call and restored
 * afterwards, even if `f` throws. `x` may hold a tensor of any shape, flattened.
 */
export function numericalGradient(f: (x: Float64Array) => number, x: Float64Array, h = DEFAULT_H): Float64Array {
  assertFunction('f', f);
  if (!(x instanceof Float64Array)) {
    throw new TypeError(`Expected \`x\` to be a Float64Array (the book's x must be floating point), got ${describe(x)}`);
  }
  assertPositiveFinite('h', h);
  const grad = new Float64Array(x.length);
  centralDifferences((point, idx, side) => checkResult(f(point), `x[${idx}] ${side} h`), x, 0, x.length, h, grad);
  return grad;
}

export interface GradientDescentOptions {
  /** Step size η. Default 0.01 (the book's `lr`). */
  learningRate?: number;
  /** Number of steps. Default 100. */
  stepNum?: number;
  /** Step size of the numerical gradient. Default 1e-4. */
  h?: number;
}

export interface GradientDescentResult {
  /** The point after `stepNum` steps. */
  x: Float64Array;
  /** The point before each step: `history[0]` is `initX`, `stepNum` entries. */
  history: Float64Array[];
}

/**
 * The book's `gradient_descent`: `x -= learningRate * numericalGradient(f, x)`,
 * `stepNum` times. Works on a copy; `initX` is left unchanged.
 */
export function gradientDescent(
  f: (x: Float64Array) => number,
  initX: ArrayLike<number>,
  options: GradientDescentOptions = {},
): GradientDescentResult {
  assertFunction('f', f);
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected \`options\` to be an object such as { learningRate: 0.1, stepNum: 100 }, got ${describe(options)}`);
  }
  const { learningRate = 0.01, stepNum = 100, h = DEFAULT_H } = options;
  assertPositiveFinite('learningRate', learningRate);
  assertInteger('stepNum', stepNum, 0);
  assertPositiveFinite('h', h);
  if (typeof initX !== 'object' || initX === null || typeof initX.length !== 'number') {
    throw new TypeError(`Expected \`initX\` to be an array or a Float64Array of numbers, got ${describe(initX)}`);
  }
  for (let i = 0; i < initX.length; i++) {
    if (typeof initX[i] !== 'number') throw new TypeError(`Expected \`initX\` to contain only numbers, got ${describe(initX[i])} at index ${i}`);
  }
  const x = Float64Array.from(initX);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new RangeError(`Expected \`initX\` to contain only finite numbers, got \`${x[i]}\` at index ${i}`);
  }
  const history: Float64Array[] = [];
  for (let step = 0; step < stepNum; step++) {
    history.push(x.slice());
    const grad = numericalGradient(f, x, h);
    for (let i = 0; i < x.length; i++) x[i] -= learningRate * grad[i];
  }
  return { x, history };
}
