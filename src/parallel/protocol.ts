/**
 * The one message format between the main thread and the gradient workers.
 * Buffers are SharedArrayBuffers: the structured clone shares them, nothing is
 * copied. Workers only read `params`, `x` and `labels`; a gradient task writes
 * only `gradient[start..end)`, a base task only its own part of the shared base.
 *
 * The incremental engine on several workers runs in two phases, separated by
 * the main thread awaiting every task of the first: {@link NetBaseTask}s build
 * the per-batch base in a SharedArrayBuffer, each a part (no task reads what
 * another writes), then {@link NetGradientTask}s read that base.
 */
import type { NetShape } from '../kernels/two-layer.js';

export type NetEngine = 'naive' | 'incremental';
export const NET_ENGINES: readonly NetEngine[] = ['naive', 'incremental'];

/** Gradient of a TwoLayerNet's loss for the parameters [start, end). */
export interface NetGradientTask {
  kind: 'net';
  engine: NetEngine;
  shape: NetShape;
  /** Float64 parameters [W1 | b1 | W2 | b2], read only. */
  params: SharedArrayBuffer;
  /** Float64 inputs, at least rows × inputSize. */
  x: SharedArrayBuffer;
  /** Int32 labels, at least rows. */
  labels: SharedArrayBuffer;
  rows: number;
  /** Float64 gradient, same layout as params; the worker writes [start, end) only. */
  gradient: SharedArrayBuffer;
  start: number;
  end: number;
  h: number;
  /**
   * Incremental engine: the base (laid out by `incrementalBaseViews` for shape
   * and rows), already built by {@link NetBaseTask}s for these params and
   * batch; read only. Absent: the worker builds the whole base itself, privately.
   */
  base?: SharedArrayBuffer;
}

/**
 * Phase 1 of the incremental engine: one part of the shared base, started by
 * the main thread (`startIncrementalBase`): samples [start, end), input
 * columns [columns[0], columns[1]) of inputSize + 1 (the last one is the
 * bias), hidden units [units[0], units[1]). The main thread finishes the base
 * (`finishIncrementalBase`) once every part is done.
 */
export interface NetBaseTask {
  kind: 'net-base';
  shape: NetShape;
  params: SharedArrayBuffer;
  x: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  rows: number;
  /** The base (see `incrementalBaseViews`), started by the main thread; this task writes only its part. */
  base: SharedArrayBuffer;
  start: number;
  end: number;
  columns: [number, number];
  units: [number, number];
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
  /** Float64 point, `length` values, read only: the worker perturbs a private copy. */
  x: SharedArrayBuffer;
  length: number;
  /** Anything structured-clone can copy; passed to every call of the function. */
  context: unknown;
  gradient: SharedArrayBuffer;
  start: number;
  end: number;
  h: number;
}

export type GradientTask = NetGradientTask | NetBaseTask | FunctionGradientTask;

export interface GradientTaskResult {
  /** The task's range (samples, for a base task). */
  start: number;
  end: number;
  /** Time the worker spent on the task, in milliseconds. */
  milliseconds: number;
}
