/** Seeded random numbers (xoroshiro128+ from pure-rand) whose state a checkpoint can save and restore exactly. */
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';
import { ArgumentRangeError, ArgumentTypeError } from './errors.js';
import { assertFiniteNumber, assertInteger, describe } from './validate.js';

/** Serializable state of a {@link Random}: enough to continue the exact same stream. */
export interface RandomState {
  /** The xoroshiro128+ state: 4 32-bit integers, as pure-rand's `getState()` gives them. */
  generator: number[];
  /** A second normal draw kept from the last Marsaglia polar pair, or null. */
  spareNormal: number | null;
}

/**
 * Seeded random numbers (xoroshiro128+ from pure-rand). Every random choice in
 * gradpool (weight init, batch sampling, shuffles) goes through one of these, so
 * a seed fixes a run; the state can be saved in a checkpoint and restored.
 */
export class Random {
  #rng: JumpableRandomGenerator;
  #spareNormal: number | null = null;

  /**
   * @param seed - an integer from 0 to 2^32 − 1 (4294967295). Default 0.
   * @throws {ArgumentTypeError} ``Expected `seed` to be an integer from 0 to 4294967295, got `"1"` (string)``.
   * @throws {ArgumentRangeError} ``Expected `seed` to be an integer from 0 to 4294967295, got `-1` (number)``.
   */
  constructor(seed = 0) {
    assertInteger('seed', seed, 0, 0xffffffff);
    this.#rng = xoroshiro128plus(seed | 0);
  }

  /**
   * The generator that continues exactly where the one whose {@link getState} gave `state` was.
   *
   * @param state - what {@link getState} returned (e.g. read back from a checkpoint).
   * @throws {ArgumentTypeError} when `state` is not an object.
   * @throws {ArgumentRangeError} when `state.generator` is not 4 32-bit integers, or `state.spareNormal` is neither null nor a finite number.
   */
  static fromState(state: RandomState): Random {
    if (typeof state !== 'object' || state === null) {
      throw new ArgumentTypeError(`Expected \`state\` to be an object { generator, spareNormal } from getState(), got ${describe(state)}`);
    }
    const { generator } = state;
    // A missing spare normal (undefined) is read as none.
    const spareNormal = state.spareNormal ?? null;
    if (!Array.isArray(generator) || generator.length !== 4) {
      throw new ArgumentRangeError(`Expected \`state.generator\` to be 4 32-bit integers from getState(), got ${describe(generator)}`);
    }
    const bad = generator.findIndex((v) => !(Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff));
    if (bad >= 0) {
      throw new ArgumentRangeError(`Expected \`state.generator\` to be 4 32-bit integers from getState(), got ${describe(generator[bad])} at index ${bad}`);
    }
    if (spareNormal !== null && !(typeof spareNormal === 'number' && Number.isFinite(spareNormal))) {
      throw new ArgumentRangeError(`Expected \`state.spareNormal\` to be null or a finite number, got ${describe(spareNormal)}`);
    }
    const random = new Random(0);
    random.#rng = xoroshiro128plusFromState(generator);
    random.#spareNormal = spareNormal;
    return random;
  }

  /** A copy of the state now (JSON-serializable): {@link Random.fromState} continues the stream from here, draw for draw. */
  getState(): RandomState {
    return { generator: [...this.#rng.getState()], spareNormal: this.#spareNormal };
  }

  /** Uniform in [0, 1), 53 random bits. */
  uniform(): number {
    return uniformFloat64(this.#rng);
  }

  /**
   * Uniform integer in [0, n).
   *
   * @param n - an integer from 1 up to 2^53 − 1.
   * @throws {ArgumentTypeError} for a non-number; {@link ArgumentRangeError} ``Expected `n` to be an integer from 1 and up, got `0` (number)``.
   */
  int(n: number): number {
    assertInteger('n', n, 1);
    return uniformInt(this.#rng, 0, n - 1);
  }

  /** Standard normal draw (Marsaglia polar method), like numpy's `randn`. */
  normal(): number {
    if (this.#spareNormal !== null) {
      const spare = this.#spareNormal;
      this.#spareNormal = null;
      return spare;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const scale = Math.sqrt((-2 * Math.log(s)) / s);
        this.#spareNormal = v * scale;
        return u * scale;
      }
    }
  }

  /**
   * Fills `out` with `std`·N(0, 1) draws, in index order.
   *
   * @param out - the array to fill (and return).
   * @param std - the standard deviation, a finite number. Default 1.
   * @throws {ArgumentTypeError} ``Expected `out` to be a Float64Array, got an array of length 3`` or a non-number `std`.
   * @throws {ArgumentRangeError} ``Expected `std` to be a finite number, got `NaN` (number)``.
   */
  fillNormal(out: Float64Array, std = 1): Float64Array {
    if (!(out instanceof Float64Array)) throw new ArgumentTypeError(`Expected \`out\` to be a Float64Array, got ${describe(out)}`);
    assertFiniteNumber('std', std);
    for (let i = 0; i < out.length; i++) out[i] = std * this.normal();
    return out;
  }

  /**
   * A random permutation of 0..n-1 (Fisher–Yates).
   *
   * @param n - an integer from 0 to 2^31 − 1.
   * @throws {ArgumentTypeError} for a non-number; {@link ArgumentRangeError} ``Expected `n` to be an integer from 0 to 2147483647, got `-1` (number)``.
   */
  permutation(n: number): Int32Array {
    assertInteger('n', n, 0, 0x7fffffff);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    return order;
  }
}
