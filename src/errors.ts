/**
 * Bad input from outside the program (a file, a command-line option) that is not
 * a programming error: the CLI prints its one-line message and exits with 2, as it
 * does for the TypeError/RangeError of argument validation.
 */
export class InputError extends Error {
  override name = 'InputError';
}

/**
 * A gradient call of the worker pool that failed: a task threw, a worker died,
 * or the call was stopped (timed out, aborted, the pool destroyed).
 */
export class GradientPoolError extends Error {
  override name = 'GradientPoolError';
  /**
   * The piece that failed or was still running, in words: e.g. ``computing
   * elements 4–7 of `x` (f from file:///…), at x[5] + h``, `building the base,
   * part 2 of 8 (…)`, `computing parameters 0–99 (…)`; `none` when nothing ran.
   */
  readonly piece: string;

  constructor(message: string, piece: string, options?: ErrorOptions) {
    super(message, options);
    this.piece = piece;
  }
}

/** A gradient call that passed its `timeout`: its running workers were terminated (and replaced). */
export class GradientTimeoutError extends GradientPoolError {
  override name = 'GradientTimeoutError';
}

/**
 * A gradient call stopped by its `signal` (`cause` is the signal's reason) or
 * by `destroy()`; named `AbortError`, as the platform's aborted operations are.
 */
export class GradientAbortError extends GradientPoolError {
  override name = 'AbortError';
}
