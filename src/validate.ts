/**
 * Argument checks shared by every public entry point. Each message names the
 * argument, the expectation and the value given, in one line, e.g.
 * ``Expected `h` to be a finite number greater than 0, got `0` (number)``.
 * A value of the wrong type throws an {@link ArgumentTypeError}, a value out of
 * range an {@link ArgumentRangeError} (a TypeError and a RangeError that a
 * caller, and the CLI, can tell from a bug's by class).
 */
import { ArgumentRangeError, ArgumentTypeError } from './errors.js';

const LINE_BREAK_ESCAPES: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/** `text` on one line: its line breaks written as escapes (a parser's message may quote a file's text, newlines and all). */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]/g, (brk) => LINE_BREAK_ESCAPES[brk]);
}

/** What a file held that `JSON.parse` refused, for a message: ``invalid JSON (Unexpected token 'g', "garbage\n" is not valid JSON)``, on one line. */
export function invalidJson(error: unknown): string {
  return `invalid JSON (${oneLine((error as Error).message)})`;
}

/** Renders a value for an error message: `0` (number), `"abc"` (string), an array's length. */
export function describe(value: unknown): string {
  if (typeof value === 'number') return `\`${String(value)}\` (number)`;
  if (typeof value === 'string') return `\`${JSON.stringify(value)}\` (string)`;
  if (value === null) return '`null`';
  if (value === undefined) return '`undefined`';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    const kind = value.constructor.name;
    const length = (value as unknown as ArrayLike<number>).length;
    return `${/^Int/.test(kind) ? 'an' : 'a'} ${kind}${length === undefined ? '' : ` of length ${length}`}`;
  }
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `\`${String(value)}\` (${typeof value})`;
}

/**
 * The one-line message of a bad argument: ``Expected `name` to be expected, got value``.
 *
 * @param name - the argument as the caller wrote it (`batchSize`, `options.momentum`, `state.generator`).
 * @param expected - what it must be, after "to be" (`an integer from 1 and up`).
 * @param value - the value given, rendered by {@link describe}.
 */
export function expectationError(name: string, expected: string, value: unknown): string {
  return `Expected \`${name}\` to be ${expected}, got ${describe(value)}`;
}

/**
 * An {@link ArgumentTypeError} with the message of {@link expectationError}: throw it for a value of the wrong type.
 *
 * @example
 * throw argumentTypeError('seed', 'an integer from 0 to 4294967295', '1'); // Expected `seed` to be …, got `"1"` (string)
 */
export function argumentTypeError(name: string, expected: string, value: unknown): ArgumentTypeError {
  return new ArgumentTypeError(expectationError(name, expected, value));
}

/** An {@link ArgumentRangeError} with the message of {@link expectationError}: throw it for a value out of range. */
export function argumentRangeError(name: string, expected: string, value: unknown): ArgumentRangeError {
  return new ArgumentRangeError(expectationError(name, expected, value));
}

/**
 * @throws {ArgumentTypeError} ``Expected `name` to be a function, got …`` unless `value` is a function.
 */
export function assertFunction(name: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw argumentTypeError(name, 'a function', value);
}

/**
 * A finite number (any sign).
 *
 * @throws {ArgumentTypeError} ``Expected `name` to be a finite number, got `"1"` (string)`` for a non-number.
 * @throws {ArgumentRangeError} ``Expected `name` to be a finite number, got `NaN` (number)`` for NaN or ±Infinity.
 */
export function assertFiniteNumber(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw argumentTypeError(name, 'a finite number', value);
  if (!Number.isFinite(value)) throw argumentRangeError(name, 'a finite number', value);
}

/**
 * A finite number strictly greater than 0 (step sizes, learning rates).
 *
 * @throws {ArgumentTypeError} for a non-number; {@link ArgumentRangeError} for 0, a negative number, NaN or ±Infinity.
 */
export function assertPositiveFinite(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw argumentTypeError(name, 'a finite number greater than 0', value);
  if (!Number.isFinite(value) || value <= 0) throw argumentRangeError(name, 'a finite number greater than 0', value);
}

/**
 * A finite number from `min` up to but not including `maxExclusive` (e.g. momentum in [0, 1)).
 *
 * @throws {ArgumentTypeError} for a non-number; {@link ArgumentRangeError} outside [min, maxExclusive), NaN or ±Infinity.
 */
export function assertFiniteInRange(name: string, value: unknown, min: number, maxExclusive: number): asserts value is number {
  const expected = `a finite number from ${min} up to but not including ${maxExclusive}`;
  if (typeof value !== 'number') throw argumentTypeError(name, expected, value);
  if (!Number.isFinite(value) || value < min || value >= maxExclusive) throw argumentRangeError(name, expected, value);
}

/**
 * An integer from `min` to `max` (``an integer from 1 and up`` when `max` is left out).
 *
 * @throws {ArgumentTypeError} for a non-number; {@link ArgumentRangeError} for a fraction, NaN, ±Infinity or a value outside [min, max].
 */
export function assertInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer from ${min} and up` : `an integer from ${min} to ${max}`;
  if (typeof value !== 'number') throw argumentTypeError(name, expected, value);
  if (!Number.isInteger(value) || value < min || value > max) throw argumentRangeError(name, expected, value);
}

/**
 * An options object (not `null`, not an array): `example` shows what one looks like.
 *
 * @throws {ArgumentTypeError} ``Expected `options` to be an object such as { learningRate: 0.01 }, got `null` ``.
 */
export function assertOptionsObject(name: string, value: unknown, example: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw argumentTypeError(name, `an object such as ${example}`, value);
}

/**
 * An options object naming only `allowed` keys (a key whose value is `undefined`
 * counts as left out): a misspelled option would otherwise be ignored silently.
 *
 * @param owner - what takes the options, for the message (`SGD`, `createOptimizer('sgd')`).
 * @throws {ArgumentRangeError} ``Expected `options` of SGD to have only the keys `learningRate`, got the key `momentum` ``.
 */
export function assertKnownKeys(name: string, value: Record<string, unknown>, allowed: readonly string[], owner: string): void {
  const unknown = Object.keys(value).find((key) => value[key] !== undefined && !allowed.includes(key));
  if (unknown !== undefined) {
    const list = allowed.map((key) => `\`${key}\``).join(', ');
    throw new ArgumentRangeError(`Expected \`${name}\` of ${owner} to have only the keys ${list}, got the key \`${unknown}\``);
  }
}

/**
 * @throws {ArgumentRangeError} naming the first element that is not a finite number (user input of any kind).
 */
export function assertAllFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      throw new ArgumentRangeError(`Expected \`${name}\` to contain only finite numbers, got \`${String(v)}\` at index ${i}`);
    }
  }
}

/** Values summed between two tests in {@link firstNonFinite}. */
const FINITE_BLOCK = 256;

/**
 * Index of the first NaN or ±Infinity in a Float64Array (weights, gradients),
 * or -1. It runs after every training step and before every library call, so
 * it tests a block at a time: `v - v` is 0 for a finite `v` and NaN for NaN
 * and ±Infinity, and a sum of them is NaN as soon as one is. Eight sums
 * overlap where one test per value waits on each: 17 µs for a 784-50-10
 * net's 39,760 weights against 43 µs (development machine). A block that
 * fails is searched value by value.
 */
export function firstNonFinite(values: Float64Array): number {
  const length = values.length;
  let i = 0;
  for (; i + FINITE_BLOCK <= length; i += FINITE_BLOCK) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (let k = i; k < i + FINITE_BLOCK; k += 8) {
      const v0 = values[k], v1 = values[k + 1], v2 = values[k + 2], v3 = values[k + 3];
      const v4 = values[k + 4], v5 = values[k + 5], v6 = values[k + 6], v7 = values[k + 7];
      s0 += v0 - v0; s1 += v1 - v1; s2 += v2 - v2; s3 += v3 - v3;
      s4 += v4 - v4; s5 += v5 - v5; s6 += v6 - v6; s7 += v7 - v7;
    }
    if (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 !== 0) break;
  }
  for (; i < length; i++) {
    const v = values[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

/**
 * One of the strings `allowed`.
 *
 * @throws {ArgumentTypeError} for a non-string; {@link ArgumentRangeError} ``Expected `optimizer` to be one of `sgd`, `momentum`, `adam`, got `"rmsprop"` (string)``.
 */
export function assertOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const list = allowed.map((a) => `\`${a}\``).join(', ');
    throw (typeof value === 'string' ? argumentRangeError : argumentTypeError)(name, `one of ${list}`, value);
  }
}

/** An evaluation limit: an integer from 1 and up, or Infinity (every row); 0 would give a NaN accuracy. */
export function assertEvaluationLimit(name: string, value: unknown): asserts value is number {
  const expected = 'an integer from 1 and up, or Infinity (every sample)';
  if (typeof value !== 'number') throw argumentTypeError(name, expected, value);
  if (value !== Number.POSITIVE_INFINITY && !(Number.isInteger(value) && value >= 1)) throw argumentRangeError(name, expected, value);
}
