/**
 * The worker side of the gradient pool: finds the shared buffers a task names
 * (kept from earlier tasks, see protocol.ts), the typed-array views over them
 * and runs the kernels of one task. Exported on its own so tests can call it
 * on the main thread too.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { partitionParametersByCost } from '../kernels/cost.js';
import { type IncrementalBase, finishIncrementalBase, incrementalBaseViews, incrementalGradientRange } from '../kernels/incremental/index.js';
import { naiveGradientRange } from '../kernels/naive.js';
import { type ChunkScratch, createChunkScratch, evaluationChunks, scoreSplitChunk } from '../kernels/score.js';
import {
  type ForwardScratch, type NetShape, type SparseRowScratch, createForwardScratch, createSparseRowScratch, describeParameterRange, sampleLogLikelihoods,
} from '../kernels/two-layer.js';
import { centralDifferences } from '../numerical.js';
import { describe } from '../validate.js';
import { prepareBasePart } from './base-parts.js';
import {
  PIECE_CHUNK, PIECE_DONE, PIECE_ELEMENT, PIECE_EVALUATE, PIECE_FINISHING, PIECE_LOADING, PIECE_LOSS, PIECE_NAIVE, PIECE_PART, PIECE_WAITING, STATUS_CELLS,
  describeBasePart, describeEvaluationChunk, describeLossSamples, lossCellsView, resolveShared, type BatchLossTask, type EvaluationTask, type FunctionGradientTask, type GradientTask,
  type GradientTaskResult, type IncrementalGradientTask, type NaiveGradientTask,
  type SharedRef, type SharedView,
} from './protocol.js';
import { WorkBoard } from './work-board.js';
import { type ServeTask, serveCalls } from './serve-loop.js';

/**
 * Views and boards over the buffers this thread keeps, per buffer, made once
 * and reused by every task: views rebuilt every call (a base alone is some
 * twenty) were garbage that lived long enough to be promoted, and the
 * workers' old generations grew call after call until a full collection.
 */
const derived = new WeakMap<SharedArrayBuffer, Map<string, unknown>>();
/** Views kept per buffer: a pool uses one or two per buffer; calls of ever other sizes start over past this. */
const MAX_DERIVED = 64;

function derive<T>(buffer: SharedArrayBuffer, key: string, make: () => T): T {
  let cache = derived.get(buffer);
  if (cache === undefined) derived.set(buffer, cache = new Map());
  let value = cache.get(key) as T | undefined;
  if (value === undefined) {
    if (cache.size >= MAX_DERIVED) cache.clear();
    cache.set(key, value = make());
  }
  return value;
}

/** The typed array `view` stands for (itself when it is one), or undefined when this thread was never sent its buffer. */
function float64(view: Float64Array | SharedView): Float64Array | undefined {
  if (view instanceof Float64Array) return view;
  const buffer = resolveShared(view.ref);
  return buffer && derive(buffer, `f64 ${view.byteOffset} ${view.length}`, () => new Float64Array(buffer, view.byteOffset, view.length));
}

function int32(view: Int32Array | SharedView): Int32Array | undefined {
  if (view instanceof Int32Array) return view;
  const buffer = resolveShared(view.ref);
  return buffer && derive(buffer, `i32 ${view.byteOffset} ${view.length}`, () => new Int32Array(buffer, view.byteOffset, view.length));
}

/** A TwoLayerNet task's arrays, or undefined when a buffer is missing. */
interface NetArrays {
  params: Float64Array;
  x: Float64Array;
  labels: Int32Array;
  gradient: Float64Array;
}

function netArrays(task: NaiveGradientTask | IncrementalGradientTask | BatchLossTask): NetArrays | undefined {
  const params = float64(task.params);
  const x = float64(task.x);
  const labels = int32(task.labels);
  const gradient = float64(task.gradient);
  return params && x && labels && gradient && { params, x, labels, gradient };
}

/** Cells nobody reads, for a task that keeps no status. */
const NO_STATUS = new Int32Array(STATUS_CELLS);

/** The task's status cells (protocol.ts), or undefined when its buffer is missing. */
function statusOf(task: GradientTask): Int32Array | undefined {
  if (task.status === undefined) return NO_STATUS;
  const buffer = resolveShared(task.status);
  const slot = task.slot ?? 0;
  return buffer && derive(buffer, `status ${slot}`, () => new Int32Array(buffer, slot * STATUS_CELLS * Int32Array.BYTES_PER_ELEMENT, STATUS_CELLS));
}

function baseOf(ref: SharedArrayBuffer | SharedRef, shape: NetShape, rows: number): IncrementalBase | undefined {
  const buffer = resolveShared(ref);
  return buffer && derive(buffer, `base ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} ${shape.activation} ${rows}`, () => incrementalBaseViews(buffer, shape, rows));
}

function boardOf(ref: SharedArrayBuffer | SharedRef): WorkBoard | undefined {
  const buffer = resolveShared(ref);
  return buffer && derive(buffer, 'board', () => new WorkBoard(buffer));
}

function runNaiveTask(task: NaiveGradientTask, arrays: NetArrays, status: Int32Array): number {
  status[0] = PIECE_NAIVE;
  // The naive engine perturbs weights: never the shared ones other workers read.
  naiveGradientRange(arrays.params.slice(), task.shape, arrays.x, task.rows, arrays.labels, task.start, task.end, arrays.gradient, task.h);
  return 1;
}

/**
 * Base parts while any is left; the worker that finishes the last one
 * completes the base and publishes the chunks; then chunks while any is left.
 * A failure aborts the board (so no other worker waits for a part that will
 * never be done) and names the piece that failed.
 */
function runIncrementalTask(task: IncrementalGradientTask, { params, x, labels, gradient }: NetArrays, base: IncrementalBase, board: WorkBoard, status: Int32Array): number {
  const { shape, rows, h } = task;
  let pieces = 0;
  // What this worker is doing, put into words only if it fails (no strings per piece).
  let stage: 'starting' | 'part' | 'finishing' | 'waiting' | 'chunk' = 'starting';
  let part = 0;
  let chunk: [number, number] | null = null;
  try {
    for (part = board.claimPart(); part >= 0; part = board.claimPart()) {
      stage = 'part';
      status[1] = part;
      status[2] = board.parts;
      status[0] = PIECE_PART;
      prepareBasePart(params, shape, x, rows, labels, base, part, board.parts);
      pieces++;
      if (board.partDone()) {
        stage = 'finishing';
        status[0] = PIECE_FINISHING;
        finishIncrementalBase(base);
        board.publish(partitionParametersByCost(shape, base.colCount.subarray(0, shape.inputSize), rows, board.chunks));
      }
    }
    stage = 'waiting';
    status[0] = PIECE_WAITING;
    if (!board.waitUntilPublished()) return pieces;
    stage = 'chunk';
    for (chunk = board.claimChunk(); chunk !== null; chunk = board.claimChunk()) {
      status[1] = chunk[0];
      status[2] = chunk[1];
      status[0] = PIECE_CHUNK;
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

/** The per-sample cells of a batch loss, after the base in its buffer (protocol.ts, `BatchLossTask`). */
function lossCellsOf(ref: SharedArrayBuffer | SharedRef, shape: NetShape, rows: number): Float64Array | undefined {
  const buffer = resolveShared(ref);
  // The pool makes the buffer this long (pool-scratch.ts); the layout is carved once per shape and rows.
  return buffer && derive(buffer, `loss ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} ${shape.activation} ${rows}`,
    () => lossCellsView(buffer, shape, rows));
}

/** This thread's forward-pass scratch for batch losses, for the last shape and rows (a pool serves one batch size at a time). */
let lossScratch: { key: string; forward: ForwardScratch; sparse: SparseRowScratch } | undefined;

/**
 * Ranges of samples while any is left (claimed on the board the main thread
 * published), each sample's log-likelihood into its own cell. A failure
 * aborts the board, so the other workers stop claiming.
 */
function runBatchLossTask(task: BatchLossTask, { params, x, labels }: NetArrays, cells: Float64Array, board: WorkBoard, status: Int32Array): number {
  const { shape, rows } = task;
  const key = `${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} ${rows}`;
  if (lossScratch?.key !== key) {
    lossScratch = { key, forward: createForwardScratch(shape, rows), sparse: createSparseRowScratch(Math.max(shape.inputSize, shape.hiddenSize)) };
  }
  const { forward, sparse } = lossScratch;
  let pieces = 0;
  let range: [number, number] | null = null;
  try {
    for (range = board.claimChunk(); range !== null; range = board.claimChunk()) {
      status[1] = range[0];
      status[2] = range[1];
      status[0] = PIECE_LOSS;
      sampleLogLikelihoods(params, shape, x, labels, range[0], range[1], forward, sparse, cells);
      pieces++;
    }
    return pieces;
  } catch (error) {
    board.abort();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${range === null ? 'starting' : describeLossSamples(range[0], range[1])}: ${message}`, { cause: error });
  }
}

/** This thread's evaluation scratch, for the last shape it scored (a pool evaluates one net). */
let chunkScratch: { key: string; scratch: ChunkScratch } | undefined;

/**
 * Evaluation chunks while any is left (claimed from the task's counter),
 * each scored as `evaluateSplit` scores it, its sums written to its own two
 * result cells. Missing a buffer: returns undefined before scoring anything.
 */
function runEvaluationTask(task: EvaluationTask, status: Int32Array): number | undefined {
  const params = float64(task.params);
  const results = float64(task.results);
  const counter = int32(task.counter);
  const splits = task.splits.map((split) => ({ x: float64(split.x), labels: int32(split.labels) }));
  if (params === undefined || results === undefined || counter === undefined || splits.some((split) => split.x === undefined || split.labels === undefined)) return undefined;
  const { shape } = task;
  const key = `${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} ${shape.activation}`;
  if (chunkScratch?.key !== key) chunkScratch = { key, scratch: createChunkScratch(shape) };
  const { scratch } = chunkScratch;
  const firsts: number[] = [];
  let total = 0;
  for (const split of task.splits) {
    firsts.push(total);
    total += evaluationChunks(split.used);
  }
  let pieces = 0;
  let chunk = 0;
  try {
    for (chunk = Atomics.add(counter, 0, 1); chunk < total; chunk = Atomics.add(counter, 0, 1)) {
      status[1] = chunk;
      status[0] = PIECE_EVALUATE;
      let s = firsts.length - 1;
      while (firsts[s] > chunk) s--;
      const { rows, used } = task.splits[s];
      const score = scoreSplitChunk(params, shape, splits[s].x!, splits[s].labels!, rows, used, chunk - firsts[s], scratch);
      results[2 * chunk] = score.correct;
      results[2 * chunk + 1] = score.logLikelihood;
      pieces++;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${describeEvaluationChunk(task.splits, chunk)}: ${message}`, { cause: error });
  }
  return pieces;
}

/** What require() of a `.ts` file throws when nothing in the thread compiles TypeScript (Node 20.20: an internal assertion on an ES module it half-loaded). */
const CANNOT_LOAD_TYPESCRIPT = new Set(['ERR_REQUIRE_ESM', 'ERR_REQUIRE_CYCLE_MODULE', 'ERR_UNKNOWN_FILE_EXTENSION', 'ERR_INTERNAL_ASSERTION']);

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
      // Node itself could not load the `.ts` file (no TypeScript loader in this thread), rather than
      // the module failing as it ran: say which loader, as a `.ts` workerModule is told (worker-loader.ts).
      const code = (requireError as NodeJS.ErrnoException).code;
      if (/\.[cm]?ts$/.test(new URL(moduleUrl).pathname)
        && (requireError instanceof SyntaxError || (code !== undefined && CANNOT_LOAD_TYPESCRIPT.has(code)))) {
        throw new Error(`Expected the \`tsx\` package to load the TypeScript module \`${moduleUrl}\`: install it with npm install tsx and run your program with node --import tsx`, { cause: requireError });
      }
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

async function runFunctionTask(task: FunctionGradientTask, status: Int32Array): Promise<void> {
  status[0] = PIECE_LOADING;
  const f = await loadFunction(task.module, task.exportName);
  const { context } = task;
  status[1] = task.start;
  status[0] = PIECE_ELEMENT;
  const evaluate = (x: Float64Array, idx: number, side: '+' | '-'): number => {
    status[1] = idx;
    status[2] = side === '+' ? 0 : 1;
    const value = f(x, context);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`Expected \`${task.exportName}\` to return a finite number, got ${describe(value)} at x[${idx}] ${side} h`);
    }
    return value;
  };
  // On this worker's private copy of x: the other workers read the shared one.
  centralDifferences(evaluate, task.x.slice(), task.start, task.end, task.h, task.gradient);
}

/**
 * Runs one task. A task that names a buffer this thread does not keep (sent
 * to the thread this one replaced, or evicted) does nothing and says so, for
 * the pool to send it again with its buffers. A serve task (serve-loop.ts)
 * runs the pool's calls until the pool ends it.
 */
export async function runGradientTask(task: GradientTask | ServeTask): Promise<GradientTaskResult> {
  if (task.kind === 'serve') return serveCalls(task, runGradientTask, importModule);
  const started = performance.now();
  const missing: GradientTaskResult = { milliseconds: 0, pieces: 0, threadId, missing: true };
  let pieces = 1;
  const status = statusOf(task);
  if (status === undefined) return missing;
  if (task.kind === 'function') {
    await runFunctionTask(task, status);
  } else if (task.kind === 'evaluate') {
    const done = runEvaluationTask(task, status);
    if (done === undefined) return missing;
    pieces = done;
  } else {
    const arrays = netArrays(task);
    if (arrays === undefined) return missing;
    if (task.kind === 'naive') {
      runNaiveTask(task, arrays, status);
    } else if (task.kind === 'batch-loss') {
      const board = boardOf(task.board);
      const cells = board && lossCellsOf(task.base, task.shape, task.rows);
      if (board === undefined || cells === undefined) return missing;
      pieces = runBatchLossTask(task, arrays, cells, board, status);
    } else {
      // Checked before the base: the base's views are cut for its shape and rows.
      const board = boardOf(task.board);
      const base = board && baseOf(task.base, task.shape, task.rows);
      if (board === undefined || base === undefined) return missing;
      pieces = runIncrementalTask(task, arrays, base, board, status);
    }
  }
  status[0] = PIECE_DONE;
  return { milliseconds: performance.now() - started, pieces, threadId };
}
