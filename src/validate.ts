/**
 * Argument checks shared by every public entry point. Each message names the
 * argument, the expectation and the value given, in one line, e.g.
 * ``Expected `h` to be a finite number greater than 0, got `0` (number)``.
 */

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

export function expectationError(name: string, expected: string, value: unknown): string {
  return `Expected \`${name}\` to be ${expected}, got ${describe(value)}`;
}

export function assertFunction(name: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw new TypeError(expectationError(name, 'a function', value));
}

/** A finite number strictly greater than 0 (step sizes, learning rates). */
export function assertPositiveFinite(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(expectationError(name, 'a finite number greater than 0', value));
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(expectationError(name, 'a finite number greater than 0', value));
  }
}

/** A finite number at or above `min` (e.g. momentum in [0, 1)). */
export function assertFiniteInRange(name: string, value: unknown, min: number, maxExclusive: number): asserts value is number {
  const expected = `a finite number from ${min} up to but not including ${maxExclusive}`;
  if (typeof value !== 'number') throw new TypeError(expectationError(name, expected, value));
  if (!Number.isFinite(value) || value < min || value >= maxExclusive) throw new RangeError(expectationError(name, expected, value));
}

export function assertInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer from ${min} and up` : `an integer from ${min} to ${max}`;
  if (typeof value !== 'number') throw new TypeError(expectationError(name, expected, value));
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(expectationError(name, expected, value));
}

/** Throws a RangeError naming the first element that is not a finite number (user input of any kind). */
export function assertAllFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      throw new RangeError(`Expected \`${name}\` to contain only finite numbers, got \`${String(v)}\` at index ${i}`);
    }
  }
}

/**
 * Index of the first NaN or ±Infinity in a Float64Array (weights, gradients),
 * or -1. A plain loop with `v - v !== 0` (true only for NaN and ±Infinity): it
 * runs after every training step, where a callback per element costs more.
 */
export function firstNonFinite(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

export function assertOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const list = allowed.map((a) => `\`${a}\``).join(', ');
    throw new (typeof value === 'string' ? RangeError : TypeError)(expectationError(name, `one of ${list}`, value));
  }
}
