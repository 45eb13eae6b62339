/** The errors of a run that a caller may want to act on: a failed save, a divergence with its last good checkpoint. */
import { DivergenceError } from '../errors.js';

/** A save that failed (disk full, no permission, …): the run stopped; the last good checkpoint is intact. */
export class RunSaveError extends Error {
  /** `'RunSaveError'`, shown before the message in a stack trace. */
  override name = 'RunSaveError';
}

/**
 * The run diverged; `checkpoint` is the last good checkpoint to resume from
 * (none when no epoch had ended). The metrics up to the divergence are saved.
 */
export class RunDivergedError extends DivergenceError {
  /** `'RunDivergedError'`; still `instanceof DivergenceError`. */
  override name = 'RunDivergedError';
  /** Path of the last good checkpoint's .json (the run's `checkpoint.json`, or the one it resumed), for `resume`; `undefined` when there is none. */
  readonly checkpoint: string | undefined;
  /** The iteration of the weights the run ended with: the last good step when a step diverged, the evaluated (diverged) one when an epoch's evaluation found it. */
  readonly iteration: number;

  constructor(message: string, { checkpoint, iteration, cause, suggestedLearningRate }: { checkpoint: string | undefined; iteration: number; cause?: unknown; suggestedLearningRate?: number }) {
    super(message, { cause, suggestedLearningRate });
    this.checkpoint = checkpoint;
    this.iteration = iteration;
  }
}
