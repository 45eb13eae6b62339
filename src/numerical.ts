/**
 * Numerical calculus with the book's semantics (chapter 4): central differences
 * with h = 1e-4, perturbing one element in place at a time.
 */
import { ArgumentRangeError, ArgumentTypeError } from './errors.js';
import { assertFunction, assertInteger, assertPositiveFinite, describe } from './validate.js';

/**
 * The book's step h of every central difference: 1e-4. The book picks it
 * because a much smaller h loses f(x + h) − f(x − h) to rounding (its 1e-50
 * example), and a larger one adds truncation error.
 */
export const DEFAULT_H = 1e-4;

function checkResult(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ArgumentRangeError(`Expected \`f\` to return a finite number, got ${describe(value)} at ${where}`);
  }
  return value;
}

/**
 * The book's `numerical_diff`: the central difference (f(x + h) − f(x − h)) / (2h).
 *
 * @param f - A function of one number, returning a finite number.
 * @param x - Where to differentiate, a finite number.
 * @param h - The step. Default 1e-4 (the book's).
 * @returns The derivative's estimate, a number.
 * @throws {TypeError} ``Expected `f` to be a function, got `3` (number)`` (an {@link ArgumentTypeError}); ``Expected `x` to be a finite number, got `"5"` (string)``.
 * @throws {RangeError} ``Expected `x` to be a finite number, got `Infinity` (number)``; ``Expected `h` to be a finite number greater than 0, got `0` (number)`` (an {@link ArgumentRangeError}); ``Expected `f` to return a finite number, got `NaN` (number) at x + h = 5.0001``.
 * @example
 * numericalDiff((x) => 0.01 * x * x + 0.1 * x, 5); // 0.1999999999990898
 */
export function numericalDiff(f: (x: number) => number, x: number, h = DEFAULT_H): number {
  assertFunction('f', f);
  if (typeof x !== 'number') throw new ArgumentTypeError(`Expected \`x\` to be a finite number, got ${describe(x)}`);
  if (!Number.isFinite(x)) throw new ArgumentRangeError(`Expected \`x\` to be a finite number, got ${describe(x)}`);
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
 * No checks: callers validate.
 *
 * @param evaluate - The function at the perturbed point; gets the point, the index and the side.
 * @param x - The point, modified during the call and restored.
 * @param start - The first index to differentiate.
 * @param end - One past the last index.
 * @param h - The step.
 * @param out - Receives the partial derivatives at `out[start…end)`.
 * @throws Whatever `evaluate` throws, after restoring the element.
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
 *
 * @param f - The function, of the whole Float64Array, returning a finite number.
 * @param x - The point: a Float64Array (floating point, as the book requires), possibly a view into a larger buffer.
 * @param h - The step. Default 1e-4 (the book's).
 * @returns A new Float64Array of the length of `x`: the partial derivatives, in its order.
 * @throws {TypeError} ``Expected `x` to be a Float64Array (the book's x must be floating point), got an array of length 2``; an {@link ArgumentTypeError} if `f` is not a function.
 * @throws {RangeError} ``Expected `f` to return a finite number, got `Infinity` (number) at x[1] + h``; an {@link ArgumentRangeError} for an `h` that is not a finite number above 0.
 * @example
 * numericalGradient((x) => x[0] ** 2 + x[1] ** 2, Float64Array.of(3, 4)); // Float64Array [6.00000000000378, 7.999999999999119]
 */
export function numericalGradient(f: (x: Float64Array) => number, x: Float64Array, h = DEFAULT_H): Float64Array {
  assertFunction('f', f);
  if (!(x instanceof Float64Array)) {
    throw new ArgumentTypeError(`Expected \`x\` to be a Float64Array (the book's x must be floating point), got ${describe(x)}`);
  }
  assertPositiveFinite('h', h);
  const grad = new Float64Array(x.length);
  centralDifferences((point, idx, side) => checkResult(f(point), `x[${idx}] ${side} h`), x, 0, x.length, h, grad);
  return grad;
}

/** Options of {@link gradientDescent}, the book's keyword arguments. */
export interface GradientDescentOptions {
  /**
   * Step size η, the book's `lr`: a finite number above 0.
   *
   * @default 0.01
   */
  learningRate?: number;
  /**
   * Number of steps, an integer from 0 and up: the book's `step_num`.
   *
   * @default 100
   */
  stepNum?: number;
  /**
   * Step size of the numerical gradient.
   *
   * @default 1e-4
   */
  h?: number;
}

/** What {@link gradientDescent} returns: the final point and the path to it. */
export interface GradientDescentResult {
  /** The point after `stepNum` steps. */
  x: Float64Array;
  /** The point before each step: `history[0]` is `initX`, `stepNum` entries. */
  history: Float64Array[];
}

/**
 * The book's `gradient_descent`: `x -= learningRate * numericalGradient(f, x)`,
 * `stepNum` times. Works on a copy; `initX` is left unchanged.
 *
 * @param f - The function to minimise, of the whole Float64Array, returning a finite number.
 * @param initX - The start: any array or typed array of finite numbers.
 * @param options - `learningRate` (default 0.01), `stepNum` (default 100), `h` (default 1e-4).
 * @returns `{ x, history }`: the point after the last step (a new Float64Array) and the point before each step.
 * @throws {TypeError} ``Expected `options` to be an object such as { learningRate: 0.1, stepNum: 100 }, got `null` ``; ``Expected `initX` to be an array or a Float64Array of numbers, got `5` (number)``; ``Expected `initX` to contain only numbers, got `"a"` (string) at index 0``; an {@link ArgumentTypeError} if `f` is not a function or an option not a number.
 * @throws {RangeError} ``Expected `initX` to contain only finite numbers, got `NaN` at index 0``; ``Expected `f` to return a finite number, got … at x[0] + h``; an {@link ArgumentRangeError} for an option out of range: ``Expected `learningRate` to be a finite number greater than 0, got `0` (number)``.
 * @example
 * gradientDescent((x) => x[0] ** 2 + x[1] ** 2, [-3, 4], { learningRate: 0.1, stepNum: 100 }).x; // ≈ [-6.1e-10, 8.1e-10]
 */
export function gradientDescent(
  f: (x: Float64Array) => number,
  initX: ArrayLike<number>,
  options: GradientDescentOptions = {},
): GradientDescentResult {
  assertFunction('f', f);
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentTypeError(`Expected \`options\` to be an object such as { learningRate: 0.1, stepNum: 100 }, got ${describe(options)}`);
  }
  const { learningRate = 0.01, stepNum = 100, h = DEFAULT_H } = options;
  assertPositiveFinite('learningRate', learningRate);
  assertInteger('stepNum', stepNum, 0);
  assertPositiveFinite('h', h);
  if (typeof initX !== 'object' || initX === null || typeof initX.length !== 'number') {
    throw new ArgumentTypeError(`Expected \`initX\` to be an array or a Float64Array of numbers, got ${describe(initX)}`);
  }
  for (let i = 0; i < initX.length; i++) {
    if (typeof initX[i] !== 'number') throw new ArgumentTypeError(`Expected \`initX\` to contain only numbers, got ${describe(initX[i])} at index ${i}`);
  }
  const x = Float64Array.from(initX);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new ArgumentRangeError(`Expected \`initX\` to contain only finite numbers, got \`${x[i]}\` at index ${i}`);
  }
  const history: Float64Array[] = [];
  for (let step = 0; step < stepNum; step++) {
    history.push(x.slice());
    const grad = numericalGradient(f, x, h);
    for (let i = 0; i < x.length; i++) x[i] -= learningRate * grad[i];
  }
  return { x, history };
}
