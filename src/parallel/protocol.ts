/**
 * The one message format between the main thread and the gradient workers.
 * Buffers are SharedArrayBuffers: the structured clone shares them, nothing is
 * copied. Workers only read `params`, `x` and `labels`, and write only
 * `gradient[start..end)`.
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

export type GradientTask = NetGradientTask | FunctionGradientTask;

export interface GradientTaskResult {
  start: number;
  end: number;
  /** Time the worker spent on the task, in milliseconds. */
  milliseconds: number;
}
