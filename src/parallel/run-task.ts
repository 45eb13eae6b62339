/**
 * The worker side of the gradient pool: rebuilds typed-array views over the
 * shared buffers and runs a kernel for one parameter range (or one part of the
 * shared incremental base). Exported on its own so tests can call it on the
 * main thread too.
 */
import { performance } from 'node:perf_hooks';
import {
  incrementalBaseViews, incrementalGradientRange, prepareBaseColumns, prepareBaseSamples, prepareBaseUnits, prepareIncrementalBase,
} from '../kernels/incremental.js';
import { naiveGradientRange } from '../kernels/naive.js';
import { parameterLayout } from '../kernels/two-layer.js';
import { describe } from '../validate.js';
import type { FunctionGradientTask, GradientTask, GradientTaskResult, NetBaseTask, NetGradientTask } from './protocol.js';

/** This thread's buffer for a private base, reused from call to call (tasks of one thread never overlap). */
let privateBaseBuffer = new ArrayBuffer(0);

function runNetTask(task: NetGradientTask): void {
  const { shape, rows, start, end, h } = task;
  const size = parameterLayout(shape).size;
  const shared = new Float64Array(task.params, 0, size);
  const x = new Float64Array(task.x, 0, rows * shape.inputSize);
  const labels = new Int32Array(task.labels, 0, rows);
  const gradient = new Float64Array(task.gradient, 0, size);
  if (task.engine === 'naive') {
    // The naive engine perturbs weights: never the shared ones other workers read.
    naiveGradientRange(shared.slice(), shape, x, rows, labels, start, end, gradient, h);
  } else if (task.base !== undefined) {
    const base = incrementalBaseViews(task.base, shape, rows);
    incrementalGradientRange(shared, shape, x, rows, labels, base, start, end, gradient, h);
  } else {
    const base = prepareIncrementalBase(shared, shape, x, rows, labels, privateBaseBuffer);
    privateBaseBuffer = base.dims.buffer as ArrayBuffer;
    incrementalGradientRange(shared, shape, x, rows, labels, base, start, end, gradient, h);
  }
}

function runNetBaseTask(task: NetBaseTask): void {
  const { shape, rows } = task;
  const params = new Float64Array(task.params, 0, parameterLayout(shape).size);
  const x = new Float64Array(task.x, 0, rows * shape.inputSize);
  const labels = new Int32Array(task.labels, 0, rows);
  const base = incrementalBaseViews(task.base, shape, rows);
  prepareBaseSamples(params, shape, x, rows, labels, base, task.start, task.end);
  prepareBaseColumns(shape, x, rows, base, task.columns[0], task.columns[1]);
  prepareBaseUnits(params, shape, base, task.units[0], task.units[1]);
}

const functionCache = new Map<string, (x: Float64Array, context: unknown) => unknown>();

async function loadFunction(moduleUrl: string, exportName: string): Promise<(x: Float64Array, context: unknown) => unknown> {
  const key = `${moduleUrl}#${exportName}`;
  let f = functionCache.get(key);
  if (f === undefined) {
    const loaded = (await import(moduleUrl)) as Record<string, unknown>;
    const candidate = loaded[exportName];
    if (typeof candidate !== 'function') {
      throw new TypeError(`Expected \`${exportName}\` exported by ${moduleUrl} to be a function, got ${describe(candidate)}`);
    }
    f = candidate as (x: Float64Array, context: unknown) => unknown;
    functionCache.set(key, f);
  }
  return f;
}

async function runFunctionTask(task: FunctionGradientTask): Promise<void> {
  const f = await loadFunction(task.module, task.exportName);
  const x = new Float64Array(task.x, 0, task.length).slice();
  const gradient = new Float64Array(task.gradient, 0, task.length);
  const { h, context } = task;
  const evaluate = (where: string): number => {
    const value = f(x, context);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`Expected \`${task.exportName}\` to return a finite number, got ${describe(value)} at ${where}`);
    }
    return value;
  };
  // The book's loop, on this worker's private copy of x.
  for (let idx = task.start; idx < task.end; idx++) {
    const tmp = x[idx];
    x[idx] = tmp + h;
    const fxh1 = evaluate(`x[${idx}] + h`);
    x[idx] = tmp - h;
    const fxh2 = evaluate(`x[${idx}] - h`);
    gradient[idx] = (fxh1 - fxh2) / (2 * h);
    x[idx] = tmp;
  }
}

export async function runGradientTask(task: GradientTask): Promise<GradientTaskResult> {
  const started = performance.now();
  if (task.kind === 'net') runNetTask(task);
  else if (task.kind === 'net-base') runNetBaseTask(task);
  else await runFunctionTask(task);
  return { start: task.start, end: task.end, milliseconds: performance.now() - started };
}
