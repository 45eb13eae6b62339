/**
 * The one message format between the main thread and the gradient workers.
 * Arrays live in SharedArrayBuffers, which the pool sends by reference
 * (`SharedRef`): each buffer once to each worker, which keeps it under its id
 * (`resolveShared`), then only its id, call after call. Workers only read
 * `params`, `x` and `labels`, and write only their own part of `gradient`
 * (and, for the incremental engine, of the base). Tasks built by hand (tests,
 * the main thread) may give the arrays and buffers themselves.
 *
 * The incremental engine sends every worker the same task: the workers divide
 * the base parts and then the parameter chunks among themselves through a
 * `WorkBoard` (work-board.ts) in shared memory, so a call costs one round trip to the
 * pool whatever the number of threads; a serve task (serve-loop.ts) keeps a
 * thread on the same incremental task from call to call, with no message.
 */
import { EVALUATION_CHUNK_ROWS } from '../kernels/score.js';
import { incrementalBaseBytes } from '../kernels/incremental/index.js';
import { describeParameterRange, type NetShape } from '../kernels/two-layer.js';
import { basePartRanges } from './base-parts.js';

/**
 * A SharedArrayBuffer by the id the pool gave it, with the buffer itself
 * attached while the receiving worker may not have it yet. A buffer sent in
 * every message arrives as a new SharedArrayBuffer object every time, so the
 * worker rebuilt its views every call, and those (some twenty for a base)
 * were promoted out of the young generation: the workers' heaps, and the
 * process's RSS, grew by about 3 MB per 1,000 training steps. Kept, a buffer
 * keeps its views (run-task.ts).
 */
export interface SharedRef {
  id: number;
  buffer?: SharedArrayBuffer;
}

/** A typed array over a shared buffer by reference: `length` elements from `byteOffset`. */
export interface SharedView {
  ref: SharedRef;
  byteOffset: number;
  length: number;
}

/**
 * Buffers this thread has been sent, by id, oldest first. Bounded: a pool
 * sends a handful, the same ones call after call; one evicted and asked for
 * again is sent again (the task reports it missing).
 */
const received = new Map<number, SharedArrayBuffer>();
export const MAX_RECEIVED_BUFFERS = 32;

/**
 * The buffer `ref` names: the buffer itself, or the one this thread keeps
 * under its id (the first one received, so that views over it stay valid),
 * keeping an attached one for later tasks; undefined when this thread was
 * never sent it.
 */
export function resolveShared(ref: SharedArrayBuffer | SharedRef): SharedArrayBuffer | undefined {
  if (ref instanceof SharedArrayBuffer) return ref;
  const kept = received.get(ref.id);
  if (kept !== undefined || ref.buffer === undefined) return kept;
  received.set(ref.id, ref.buffer);
  if (received.size > MAX_RECEIVED_BUFFERS) received.delete(received.keys().next().value as number);
  return ref.buffer;
}

/**
 * Where a task records what it is doing, for the main thread to name the
 * piece a stuck worker is on without asking it: `STATUS_CELLS` Int32 cells at
 * slot `slot` of the `status` buffer, zeroed by the main thread before the
 * call. The worker writes the piece's numbers, then its kind (cell 0), with
 * plain stores: a few per piece or per element, nothing next to the work.
 */
interface TaskStatus {
  /** Int32 cells, `STATUS_CELLS` per task of the call. Omitted (tests on the main thread): nothing is recorded. */
  status?: SharedArrayBuffer | SharedRef;
  /** This task's slot in `status`. */
  slot?: number;
}

export const STATUS_CELLS = 4;
/** Cell 0 of a task's status: the kind of piece it is on (0: not started). */
export const PIECE_STARTING = 0;
/** Importing the user's module. */
export const PIECE_LOADING = 1;
/** Evaluating the user's function: cell 1 the element, cell 2 the side (0: + h, 1: − h). */
export const PIECE_ELEMENT = 2;
/** The naive engine on the task's range. */
export const PIECE_NAIVE = 3;
/** Building a base part: cell 1 the part, cell 2 the number of parts. */
export const PIECE_PART = 4;
export const PIECE_FINISHING = 5;
export const PIECE_WAITING = 6;
/** Computing a parameter chunk: cells 1 and 2 its [start, end). */
export const PIECE_CHUNK = 7;
export const PIECE_DONE = 8;
/** Scoring an evaluation chunk: cell 1 the chunk (numbered across the task's splits). */
export const PIECE_EVALUATE = 9;
/** Scoring samples of a batch loss: cells 1 and 2 their [start, end). */
export const PIECE_LOSS = 10;

/** What every TwoLayerNet task reads. */
interface NetTaskInputs extends TaskStatus {
  shape: NetShape;
  /** Parameters [W1 | b1 | W2 | b2], read only. */
  params: Float64Array | SharedView;
  /** Inputs, rows × inputSize, row-major. */
  x: Float64Array | SharedView;
  /** Labels, rows of them. */
  labels: Int32Array | SharedView;
  rows: number;
  /** The gradient, same layout and length as params. */
  gradient: Float64Array | SharedView;
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
  base: SharedArrayBuffer | SharedRef;
  board: SharedArrayBuffer | SharedRef;
}

/**
 * The book's loss of the incremental task's batch at the current weights, as
 * a served call runs it (serve-loop.ts) on the same arrays: every thread
 * claims ranges of samples from `board` (published by the main thread) and
 * writes each sample's log-likelihood (`sampleLogLikelihoods`) into the
 * `rows` Float64 cells that follow the base in its buffer (`lossCellsOffset`),
 * which the main thread adds in sample order.
 */
export interface BatchLossTask extends Omit<IncrementalGradientTask, 'kind'> {
  kind: 'batch-loss';
}

/** Byte offset of a batch loss's per-sample cells in a base buffer for `shape` and `rows`: after the base, 8-byte aligned. */
function lossCellsOffset(shape: NetShape, rows: number): number {
  return Math.ceil(incrementalBaseBytes(shape, rows) / Float64Array.BYTES_PER_ELEMENT) * Float64Array.BYTES_PER_ELEMENT;
}

/** Bytes of a base buffer for `shape` and `rows` with the batch loss's cells after the base. */
export function baseWithLossBytes(shape: NetShape, rows: number): number {
  return lossCellsOffset(shape, rows) + rows * Float64Array.BYTES_PER_ELEMENT;
}

/** The batch loss's `rows` per-sample cells in a base buffer of {@link baseWithLossBytes}. */
export function lossCellsView(buffer: ArrayBufferLike, shape: NetShape, rows: number): Float64Array {
  return new Float64Array(buffer, lossCellsOffset(shape, rows), rows);
}

/**
 * Numerical gradient of a user's function for x[start..end). The function is
 * the export `exportName` of the ES module at `module` (a URL), called as
 * `f(x, context)`; closures cannot cross threads, modules can. Its arrays are
 * new for every call, so they travel themselves, not by reference.
 */
export interface FunctionGradientTask extends TaskStatus {
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

/** One split of an evaluation: the whole split, read only, and how many of its rows are scored. */
export interface EvaluationSplit {
  /** Inputs, rows × inputSize, row-major. */
  x: Float64Array | SharedView;
  /** Labels, one per row. */
  labels: Int32Array | SharedView;
  /** The split's rows. */
  rows: number;
  /** Rows scored: all of them, or that many evenly spaced ones (`evaluateSplit`'s limit). */
  used: number;
}

/**
 * A forward pass over splits, in chunks of `EVALUATION_CHUNK_ROWS` rows
 * (kernels/score.ts, as `evaluateSplit` cuts them): every thread gets the same
 * task and claims chunks, numbered across the splits in order, from `counter`
 * (cell 0, an atomic add) until none is left; chunk c's correct count and
 * log-likelihood go to `results[2c]` and `results[2c + 1]`, which the main
 * thread adds in chunk order. Workers only read `params` and the splits.
 */
export interface EvaluationTask extends TaskStatus {
  kind: 'evaluate';
  shape: NetShape;
  params: Float64Array | SharedView;
  splits: EvaluationSplit[];
  results: Float64Array | SharedView;
  counter: Int32Array | SharedView;
}

export type GradientTask = NaiveGradientTask | IncrementalGradientTask | BatchLossTask | FunctionGradientTask | EvaluationTask;

export interface GradientTaskResult {
  /** Time the worker spent on the task, in milliseconds. */
  milliseconds: number;
  /** Pieces of work the task did: base parts and parameter chunks for the incremental engine, else 1. */
  pieces: number;
  /** The worker thread's `threadId`: it now keeps every buffer the task named. */
  threadId: number;
  /** Set when the worker did nothing, missing a buffer the task named by id only: the pool sends it again, buffers attached. */
  missing?: boolean;
}

/** Base part `part` of `parts` in words, as the errors and the pool's messages name it. */
export function describeBasePart(shape: NetShape, rows: number, part: number, parts: number): string {
  const span = ([start, end]: [number, number]) => (start < end ? `${start}–${end - 1}` : 'none');
  const { samples, columns, units } = basePartRanges(shape, rows, part, parts);
  return `building the base, part ${part + 1} of ${parts} (samples ${span(samples)}, input columns ${span(columns)}, hidden units ${span(units)})`;
}

/** Samples [start, end) of a batch loss in words: ``scoring samples 0–11 of the batch for its loss``. */
export function describeLossSamples(start: number, end: number): string {
  return `scoring samples ${start}–${end - 1} of the batch for its loss`;
}

/** Evaluation chunk `chunk` (numbered across `splits`) in words: ``scoring rows 1000–1999 of split 1 of 2``. */
export function describeEvaluationChunk(splits: readonly Pick<EvaluationSplit, 'used'>[], chunk: number): string {
  let first = 0;
  for (let s = 0; s < splits.length; s++) {
    const chunks = Math.ceil(splits[s].used / EVALUATION_CHUNK_ROWS);
    if (chunk < first + chunks) {
      const from = (chunk - first) * EVALUATION_CHUNK_ROWS;
      return `scoring rows ${from}–${Math.min(from + EVALUATION_CHUNK_ROWS, splits[s].used) - 1} of split ${s + 1} of ${splits.length}`;
    }
    first += chunks;
  }
  return `scoring chunk ${chunk}`;
}

/** What `task` is doing by its status `cells` (see `STATUS_CELLS`), in words: ``computing elements 4–7 of `x` (f from …), at x[5] + h``. */
export function describeStatus(task: GradientTask, cells: ArrayLike<number>): string {
  const [piece, a, b] = [cells[0], cells[1], cells[2]];
  if (task.kind === 'function') {
    const what = `${task.exportName} from ${task.module}`;
    if (piece === PIECE_LOADING) return `loading ${what}`;
    if (piece === PIECE_ELEMENT) return `computing elements ${task.start}–${task.end - 1} of \`x\` (${what}), at x[${a}] ${b === 0 ? '+' : '-'} h`;
  } else if (task.kind === 'naive') {
    if (piece === PIECE_NAIVE) return `computing ${describeParameterRange(task.shape, task.start, task.end)}`;
  } else if (task.kind === 'evaluate') {
    if (piece === PIECE_EVALUATE) return describeEvaluationChunk(task.splits, a);
  } else if (piece === PIECE_LOSS) {
    // A served session describes its slots by its gradient task, whichever kind of call it is on.
    return describeLossSamples(a, b);
  } else if (piece === PIECE_PART) {
    return describeBasePart(task.shape, task.rows, a, b);
  } else if (piece === PIECE_FINISHING) {
    return 'finishing the base';
  } else if (piece === PIECE_WAITING) {
    return 'waiting for the base';
  } else if (piece === PIECE_CHUNK) {
    return `computing ${describeParameterRange(task.shape, a, b)}`;
  }
  return piece === PIECE_DONE ? 'done' : 'waiting to start';
}
