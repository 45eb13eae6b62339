/**
 * The one message format between the main thread and the gradient workers.
 * Arrays are views of SharedArrayBuffers (offset and length included): the
 * structured clone shares them, nothing is copied. Workers only read `params`,
 * `x` and `labels`, and write only their own part of `gradient` (and, for the
 * incremental engine, of the base).
 *
 * The incremental engine sends every worker the same task: the workers divide
 * the base parts and then the parameter chunks among themselves through a
 * `WorkBoard` (work-board.ts) in shared memory, so a call costs one round trip to the
 * pool whatever the number of threads.
 */
import type { NetShape } from '../kernels/two-layer.js';

/** What every TwoLayerNet task reads. */
interface NetTaskInputs {
  shape: NetShape;
  /** Parameters [W1 | b1 | W2 | b2], read only. */
  params: Float64Array;
  /** Inputs, rows × inputSize, row-major. */
  x: Float64Array;
  /** Labels, rows of them. */
  labels: Int32Array;
  rows: number;
  /** The gradient, same layout and length as params. */
  gradient: Float64Array;
  h: number;
}

/** The naive engine (the book's method) for the parameters [start, end); writes gradient[start..end) only. */
export interface NaiveGradientTask extends NetTaskInputs {
  kind: 'naive';
  start: number;
  end: number;
}

/**
 * The incremental engine: one of the call's identical tasks, one per thread.
 * Each builds base parts into `base` (laid out by `incrementalBaseViews` for
 * shape and rows, started by the main thread with `startIncrementalBase`) and
 * then computes parameter chunks, as it claims them on `board` (a
 * `WorkBoard`, reset by the main thread for this call).
 */
export interface IncrementalGradientTask extends NetTaskInputs {
  kind: 'incremental';
  base: SharedArrayBuffer;
  board: SharedArrayBuffer;
}

/**
 * Numerical gradient of a user's function for x[start..end). The function is
 * the export `exportName` of the ES module at `module` (a URL), called as
 * `f(x, context)`; closures cannot cross threads, modules can.
 */
export interface FunctionGradientTask {
  kind: 'function';
  module: string;
  exportName: string;
  /** The point, read only: the worker perturbs a private copy. */
  x: Float64Array;
  /** Anything structured-clone can copy; passed to every call of the function. */
  context: unknown;
  /** Same length as x; the worker writes gradient[start..end) only. */
  gradient: Float64Array;
  start: number;
  end: number;
  h: number;
}

export type GradientTask = NaiveGradientTask | IncrementalGradientTask | FunctionGradientTask;

export interface GradientTaskResult {
  /** Time the worker spent on the task, in milliseconds. */
  milliseconds: number;
  /** Pieces of work the task did: base parts and parameter chunks for the incremental engine, else 1. */
  pieces: number;
}
