/**
 * The worker side of the gradient pool: rebuilds typed-array views over the
 * shared buffers and runs the kernels of one task. Exported on its own so
 * tests can call it on the main thread too.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { partitionParametersByCost } from '../kernels/cost.js';
import { finishIncrementalBase, incrementalBaseViews, incrementalGradientRange } from '../kernels/incremental/index.js';
import { naiveGradientRange } from '../kernels/naive.js';
import { describeParameterRange, type NetShape } from '../kernels/two-layer.js';
import { centralDifferences } from '../numerical.js';
import { describe } from '../validate.js';
import { basePartRanges, prepareBasePart } from './base-parts.js';
import type { FunctionGradientTask, GradientTask, GradientTaskResult, IncrementalGradientTask, NaiveGradientTask } from './protocol.js';
import { WorkBoard } from './work-board.js';

function runNaiveTask(task: NaiveGradientTask): number {
  // The naive engine perturbs weights: never the shared ones other workers read.
  naiveGradientRange(task.params.slice(), task.shape, task.x, task.rows, task.labels, task.start, task.end, task.gradient, task.h);
  return 1;
}

function describeBasePart(shape: NetShape, rows: number, part: number, parts: number): string {
  const span = ([start, end]: [number, number]) => (start < end ? `${start}–${end - 1}` : 'none');
  const { samples, columns, units } = basePartRanges(shape, rows, part, parts);
  return `building the base, part ${part + 1} of ${parts} (samples ${span(samples)}, input columns ${span(columns)}, hidden units ${span(units)})`;
}

/**
 * Base parts while any is left; the worker that finishes the last one
 * completes the base and publishes the chunks; then chunks while any is left.
 * A failure aborts the board (so no other worker waits for a part that will
 * never be done) and names the piece that failed.
 */
function runIncrementalTask(task: IncrementalGradientTask): number {
  const { shape, rows, h, params, x, labels, gradient } = task;
  const board = new WorkBoard(task.board);
  let pieces = 0;
  // What this worker is doing, put into words only if it fails (no strings per piece).
  let stage: 'starting' | 'part' | 'finishing' | 'waiting' | 'chunk' = 'starting';
  let part = 0;
  let chunk: [number, number] | null = null;
  try {
    const base = incrementalBaseViews(task.base, shape, rows);
    for (part = board.claimPart(); part >= 0; part = board.claimPart()) {
      stage = 'part';
      prepareBasePart(params, shape, x, rows, labels, base, part, board.parts);
      pieces++;
      if (board.partDone()) {
        stage = 'finishing';
        finishIncrementalBase(base);
        board.publish(partitionParametersByCost(shape, base.colCount.subarray(0, shape.inputSize), rows, board.chunks));
      }
    }
    stage = 'waiting';
    if (!board.waitUntilPublished()) return pieces;
    stage = 'chunk';
    for (chunk = board.claimChunk(); chunk !== null; chunk = board.claimChunk()) {
      incrementalGradientRange(params, shape, x, rows, labels, base, chunk[0], chunk[1], gradient, h);
      pieces++;
    }
    return pieces;
  } catch (error) {
    board.abort();
    const piece = stage === 'part' ? describeBasePart(shape, rows, part, board.parts)
      : stage === 'chunk' && chunk !== null ? describeParameterRange(shape, chunk[0], chunk[1])
        : stage === 'finishing' ? 'finishing the base' : stage === 'waiting' ? 'waiting for the base' : 'starting';
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${piece}: ${message}`, { cause: error });
  }
}

/**
 * import() of the user's module. Under `node --import tsx`, Node 20 gives worker
 * threads tsx's require hook but not its ESM hooks, so import() of a `.ts` file
 * fails there; require() through the hook loads it.
 */
async function importModule(moduleUrl: string): Promise<Record<string, unknown>> {
  try {
    return (await import(moduleUrl)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !moduleUrl.startsWith('file:')) throw error;
    try {
      return createRequire(moduleUrl)(fileURLToPath(moduleUrl)) as Record<string, unknown>;
    } catch (requireError) {
      throw new Error(`${(error as Error).message}; loading it with require() failed too: ${(requireError as Error).message}`, { cause: requireError });
    }
  }
}

const functionCache = new Map<string, (x: Float64Array, context: unknown) => unknown>();

async function loadFunction(moduleUrl: string, exportName: string): Promise<(x: Float64Array, context: unknown) => unknown> {
  const key = `${moduleUrl}#${exportName}`;
  let f = functionCache.get(key);
  if (f === undefined) {
    const loaded = await importModule(moduleUrl);
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
  const { context } = task;
  const evaluate = (x: Float64Array, idx: number, side: '+' | '-'): number => {
    const value = f(x, context);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`Expected \`${task.exportName}\` to return a finite number, got ${describe(value)} at x[${idx}] ${side} h`);
    }
    return value;
  };
  // On this worker's private copy of x: the other workers read the shared one.
  centralDifferences(evaluate, task.x.slice(), task.start, task.end, task.h, task.gradient);
}

export async function runGradientTask(task: GradientTask): Promise<GradientTaskResult> {
  const started = performance.now();
  let pieces = 1;
  if (task.kind === 'incremental') pieces = runIncrementalTask(task);
  else if (task.kind === 'naive') runNaiveTask(task);
  else await runFunctionTask(task);
  return { milliseconds: performance.now() - started, pieces };
}
