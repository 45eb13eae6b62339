/**
 * The one message format between a caller's thread and the thread that
 * trains in the background (train-in-background.ts, background-worker.ts),
 * over comlink: the worker's API, the listener the caller lends it, and
 * errors, which cross the thread as plain objects and are rebuilt here with
 * their class, so a caller catches them as it would from `train()`.
 */
import { ArgumentRangeError, ArgumentTypeError, DivergenceError, GradientAbortError, GradientPoolError, GradientTimeoutError, InputError } from '../errors.js';
import type { NetShape } from '../kernels/two-layer.js';
import { RunDivergedError, RunSaveError } from './run-errors.js';
import type { RunEvent, TrainOptions, TrainResult } from './train-options.js';

/** {@link TrainOptions} that can cross threads (no callbacks or signals: the handle stands for them). */
export type BackgroundRunOptions = Omit<TrainOptions, 'signal' | 'abortStep' | 'onEvent' | 'onReady'> & {
  /** At most one `iteration` event per this many milliseconds (the last one always). @default 100 */
  progressInterval?: number;
};

/** What the worker calls back, through a `Comlink.proxy`. */
export interface BackgroundListener {
  /** The run is set up: its weights live in `params` (over a SharedArrayBuffer, shared with the caller). */
  ready(run: { params: Float64Array; shape: NetShape; directory: string }): void;
  event(event: RunEvent): void;
}

/** {@link TrainResult} as it crosses threads: the weights instead of the net. */
export type BackgroundResult = Omit<TrainResult, 'net'> & { params: Float64Array; shape: NetShape };

export type BackgroundOutcome = { ok: true; result: BackgroundResult } | { ok: false; error: SerializedError };

/** The API the background worker exposes. */
export interface BackgroundTrainerApi {
  run(options: BackgroundRunOptions, listener: BackgroundListener): Promise<BackgroundOutcome>;
  /** Stops after the step in progress (`abortStep`: aborts it too); a checkpoint is saved. */
  stop(abortStep: boolean): void;
  /** A checkpoint at the next step boundary: its .json path, or the error. */
  checkpoint(path: string | undefined): Promise<{ ok: true; file: string } | { ok: false; error: SerializedError }>;
}

/** An error as plain data. */
export interface SerializedError {
  /** The class it was thrown as (see {@link ERROR_CLASSES}). */
  className: string;
  message: string;
  stack?: string;
  piece?: string;
  checkpoint?: string;
  iteration?: number;
  diagnosis?: string;
  suggestedLearningRate?: number;
}

/** The classes an error keeps across the thread; any other arrives as an `Error` of the same message. */
const ERROR_CLASSES = [
  RunDivergedError, RunSaveError, DivergenceError, GradientTimeoutError, GradientAbortError, GradientPoolError,
  InputError, ArgumentTypeError, ArgumentRangeError, TypeError, RangeError,
] as const;

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { className: 'Error', message: String(error) };
  const kind = ERROR_CLASSES.find((type) => error instanceof type);
  return {
    className: kind?.name ?? 'Error',
    message: error.message,
    stack: error.stack,
    ...(error instanceof GradientPoolError ? { piece: error.piece } : {}),
    ...(error instanceof RunDivergedError ? { checkpoint: error.checkpoint, iteration: error.iteration } : {}),
    ...(error instanceof DivergenceError ? { diagnosis: error.diagnosis, suggestedLearningRate: error.suggestedLearningRate } : {}),
  };
}

/** The error `serialized` stands for, of its class, with the worker's stack. */
export function reviveError(serialized: SerializedError): Error {
  const { className, message } = serialized;
  let error: Error;
  const { suggestedLearningRate } = serialized;
  if (className === RunDivergedError.name) error = new RunDivergedError(message, { checkpoint: serialized.checkpoint, iteration: serialized.iteration ?? Number.NaN, suggestedLearningRate });
  else if (className === DivergenceError.name) error = new DivergenceError(message, { diagnosis: serialized.diagnosis, suggestedLearningRate });
  else if (className === GradientTimeoutError.name) error = new GradientTimeoutError(message, serialized.piece ?? 'none');
  else if (className === GradientAbortError.name) error = new GradientAbortError(message, serialized.piece ?? 'none');
  else if (className === GradientPoolError.name) error = new GradientPoolError(message, serialized.piece ?? 'none');
  else {
    const kind = ERROR_CLASSES.find((type) => type.name === className) as (new (message: string) => Error) | undefined;
    error = new (kind ?? Error)(message);
  }
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}
