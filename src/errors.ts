/**
 * Every error class gradpool throws on purpose, so a caller can catch by class:
 *
 * - {@link ArgumentTypeError} / {@link ArgumentRangeError}: a function or
 *   constructor called with a bad argument (``Expected `batchSize` to be an
 *   integer from 1 and up, got `0` (number)``). They are a `TypeError` and a
 *   `RangeError` (and keep those names), so existing `instanceof TypeError`
 *   checks still hold; their own class tells them from the TypeError of a bug.
 * - {@link InputError}: bad data from outside the program (a file, a
 *   command-line option).
 * - {@link GradientPoolError} (and {@link GradientTimeoutError},
 *   {@link GradientAbortError}): a gradient call of the worker pool that failed,
 *   with the piece that failed.
 * - {@link DivergenceError}: a training run that diverged.
 *
 * The CLI exits with 2 and one line for the first two kinds (bad input), with 1
 * and one line for other deliberate failures, and with 1 and the stack trace for
 * a bug (any other TypeError, RangeError, ReferenceError, …): see `src/cli/main.ts`.
 */

/**
 * A gradpool function or constructor was called with an argument of the wrong
 * type (a string for a number, `null` for an options object). Still a
 * `TypeError`, named `TypeError`; `instanceof ArgumentTypeError` tells it from
 * a TypeError thrown by a bug.
 *
 * @example
 * try { new SGD({ learningRate: '0.1' }); } catch (e) { e instanceof ArgumentTypeError; } // true
 */
export class ArgumentTypeError extends TypeError {}

/**
 * A gradpool function or constructor was called with an argument of the right
 * type but outside what it accepts (a batch size of 0, NaN, an unknown name).
 * Still a `RangeError`, named `RangeError`; `instanceof ArgumentRangeError`
 * tells it from a RangeError of the engine (an allocation that failed).
 */
export class ArgumentRangeError extends RangeError {}

/** Either argument error: see {@link isArgumentError}. */
export type ArgumentError = ArgumentTypeError | ArgumentRangeError;

/** True for an {@link ArgumentTypeError} or an {@link ArgumentRangeError}: a call that gradpool refused. */
export function isArgumentError(error: unknown): error is ArgumentError {
  return error instanceof ArgumentTypeError || error instanceof ArgumentRangeError;
}

/**
 * Bad input from outside the program (a file, a command-line option) that is not
 * a programming error: the CLI prints its one-line message and exits with 2, as it
 * does for an {@link ArgumentTypeError} or {@link ArgumentRangeError}.
 */
export class InputError extends Error {
  /** `'InputError'`, shown before the message in a stack trace. */
  override name = 'InputError';
}

/**
 * A gradient call of the worker pool that failed: a task threw, a worker died,
 * or the call was stopped (timed out, aborted, the pool destroyed).
 */
export class GradientPoolError extends Error {
  /** `'GradientPoolError'`; the subclasses have their own (`GradientTimeoutError`, `AbortError`). */
  override name = 'GradientPoolError';
  /**
   * The piece that failed or was still running, in words: e.g. ``computing
   * elements 4–7 of `x` (f from file:///…), at x[5] + h``, `building the base,
   * part 2 of 8 (…)`, `computing parameters 0–99 (…)`; `none` when nothing ran.
   */
  readonly piece: string;

  /**
   * @param message - one line saying what failed and why.
   * @param piece - the piece of the call that failed or was still running (see {@link GradientPoolError.piece}).
   * @param options - `cause`: the worker's error, the abort reason.
   */
  constructor(message: string, piece: string, options?: ErrorOptions) {
    super(message, options);
    this.piece = piece;
  }
}

/** A gradient call that passed its `timeout`: its running workers were terminated (and replaced). */
export class GradientTimeoutError extends GradientPoolError {
  /** `'GradientTimeoutError'`, shown before the message in a stack trace. */
  override name = 'GradientTimeoutError';
}

/**
 * A gradient call stopped by its `signal` (`cause` is the signal's reason) or
 * by `destroy()`; named `AbortError`, as the platform's aborted operations are.
 */
export class GradientAbortError extends GradientPoolError {
  /** `'AbortError'`, the name of the platform's aborted operations, so a check of `error.name === 'AbortError'` holds. */
  override name = 'AbortError';
}

/**
 * The run diverged (a NaN or saturated loss, non-finite weights, or a loss far
 * above where it started): thrown by `Trainer.step` and `Trainer.evaluate`, with
 * advice (a smaller learning rate) in the message. Also exported by
 * `src/train/trainer.ts`, where it used to live.
 */
export class DivergenceError extends Error {
  /** `'DivergenceError'` (`'RunDivergedError'` for the subclass `train()` throws). */
  override name = 'DivergenceError';
  /**
   * What diverged and the advice, without what became of the weights in memory
   * (the message's last sentence when the Trainer threw it): a run reports its
   * checkpoint instead. The message itself when there is no such sentence.
   */
  readonly diagnosis: string;
  /** The smaller learning rate the message suggests (e.g. 0.05 for a run at 0.1); `undefined` when it names none. */
  readonly suggestedLearningRate: number | undefined;

  constructor(message: string, options?: ErrorOptions & { diagnosis?: string; suggestedLearningRate?: number }) {
    super(message, options);
    this.diagnosis = options?.diagnosis ?? message;
    this.suggestedLearningRate = options?.suggestedLearningRate;
  }
}
