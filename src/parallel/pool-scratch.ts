/**
 * The pool's own shared memory, kept from call to call: the batch copy, the
 * incremental base, the gradient, the work board, the tasks' status cells and
 * the serving control block.
 * Buffers made fresh every call are freed only once every thread has let go of
 * them, which let a long run's memory grow by hundreds of megabytes.
 */
import { type IncrementalBase, incrementalBaseViews, startIncrementalBase } from '../kernels/incremental/index.js';
import type { NetShape } from '../kernels/two-layer.js';
import type { Split } from '../data/dataset.js';
import { STATUS_CELLS, baseWithLossBytes, lossCellsView } from './protocol.js';
import { WorkBoard } from './work-board.js';
import { controlBytes } from './serve-loop.js';

export class PoolScratch {
  batchX = new SharedArrayBuffer(0);
  batchLabels = new SharedArrayBuffer(0);
  /**
   * The incremental engine's base (its layout depends only on shape and rows),
   * then the cells of a served batch loss, one per sample (protocol.ts,
   * `BatchLossTask`); reused while large enough.
   */
  base = new SharedArrayBuffer(0);
  gradient = new SharedArrayBuffer(0);
  board: SharedArrayBuffer;
  /** An evaluation's chunk sums (two per chunk), reused while large enough. */
  evaluation = new SharedArrayBuffer(0);
  /** The chunk counter the workers of an evaluation claim from (one Int32). */
  counter = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  /** What each task of the call in progress is doing (protocol.ts, `STATUS_CELLS`), one slot per task. */
  status: SharedArrayBuffer;
  /** The serving sessions' control block (serve-loop.ts). */
  control: SharedArrayBuffer;
  #statusCells: Int32Array | undefined;
  #workBoard: WorkBoard | undefined;
  #lastBase: ({ buffer: SharedArrayBuffer; rows: number; views: IncrementalBase; lossCells: Float64Array } & NetShape) | undefined;
  #batchLent = false;

  constructor(maxChunks: number, maxTasks: number) {
    this.board = new SharedArrayBuffer(WorkBoard.bytes(maxChunks));
    this.status = new SharedArrayBuffer(STATUS_CELLS * maxTasks * Int32Array.BYTES_PER_ELEMENT);
    this.control = new SharedArrayBuffer(controlBytes(maxTasks));
  }

  /** A work board over `board` (kept while the buffer is). */
  workBoard(): WorkBoard {
    if (this.#workBoard?.cells.buffer !== this.board) this.#workBoard = new WorkBoard(this.board);
    return this.#workBoard;
  }

  /** The status cells of `tasks` tasks, zeroed (a view kept while the buffer and count stay the same). */
  statusCells(tasks: number): Int32Array {
    if (this.#statusCells?.buffer !== this.status || this.#statusCells.length !== tasks * STATUS_CELLS) {
      this.#statusCells = new Int32Array(this.status, 0, tasks * STATUS_CELLS);
    }
    return this.#statusCells.fill(0);
  }

  /**
   * New buffers for everything, after a stopped call: a terminated worker that
   * has not exited yet writes only into the old ones.
   */
  renew(): void {
    this.batchX = new SharedArrayBuffer(0);
    this.batchLabels = new SharedArrayBuffer(0);
    this.base = new SharedArrayBuffer(0);
    this.gradient = new SharedArrayBuffer(0);
    this.board = new SharedArrayBuffer(this.board.byteLength);
    this.evaluation = new SharedArrayBuffer(0);
    this.counter = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    this.status = new SharedArrayBuffer(this.status.byteLength);
    this.control = new SharedArrayBuffer(this.control.byteLength);
  }

  /** Room for the sums of `chunks` evaluation chunks, and the chunk counter, zeroed (valid until the next call). */
  evaluationOf(chunks: number): { results: Float64Array; counter: Int32Array } {
    const bytes = 2 * chunks * Float64Array.BYTES_PER_ELEMENT;
    if (this.evaluation.byteLength < bytes) this.evaluation = new SharedArrayBuffer(bytes);
    const counter = new Int32Array(this.counter);
    counter[0] = 0;
    return { results: new Float64Array(this.evaluation, 0, 2 * chunks), counter };
  }

  /** A gradient of `size` values in the kept buffer (valid until the next call). */
  gradientOf(size: number): Float64Array {
    const bytes = size * Float64Array.BYTES_PER_ELEMENT;
    if (this.gradient.byteLength < bytes) this.gradient = new SharedArrayBuffer(bytes);
    return new Float64Array(this.gradient, 0, size);
  }

  /**
   * Views of the base for `shape` and `rows`, started (its dims written for the
   * workers, `startIncrementalBase`), and of the batch loss's cells after it,
   * growing the buffer when needed. Kept, and
   * not started again, while the buffer, shape and rows stay the same: only
   * the main thread writes the dims, and views made every call were garbage
   * that outlived the young generation. Checked field by field, not by a key
   * string: this is on the path of every call.
   */
  startedBase(shape: NetShape, rows: number): { views: IncrementalBase; lossCells: Float64Array } {
    const last = this.#lastBase;
    if (last !== undefined && last.buffer === this.base && last.rows === rows && last.inputSize === shape.inputSize
      && last.hiddenSize === shape.hiddenSize && last.outputSize === shape.outputSize && last.activation === shape.activation) {
      return last;
    }
    const bytes = baseWithLossBytes(shape, rows);
    if (this.base.byteLength < bytes) this.base = new SharedArrayBuffer(bytes);
    const views = incrementalBaseViews(this.base, shape, rows);
    startIncrementalBase(views, shape, rows);
    const { inputSize, hiddenSize, outputSize, activation } = shape;
    const lossCells = lossCellsView(this.base, shape, rows);
    this.#lastBase = { buffer: this.base, rows, inputSize, hiddenSize, outputSize, activation, views, lossCells };
    return this.#lastBase;
  }

  /**
   * Lends the kept batch buffer to one call that converts its batch straight
   * into it ({@link lentBatchInputs}) until {@link returnBatch}: false when it
   * is lent already. Meanwhile other calls' batches go to buffers of their own,
   * even one made by the caller's code while the lent one converts (a getter on
   * its rows calling the pool).
   */
  lendBatch(): boolean {
    if (this.#batchLent) return false;
    this.#batchLent = true;
    return true;
  }

  returnBatch(): void {
    this.#batchLent = false;
  }

  /** `length` inputs in the kept batch buffer, for the call it is lent to (valid until that call settles; it grows when needed). */
  lentBatchInputs(length: number): Float64Array {
    const bytes = length * Float64Array.BYTES_PER_ELEMENT;
    if (this.batchX.byteLength < bytes) this.batchX = new SharedArrayBuffer(bytes);
    return new Float64Array(this.batchX, 0, length);
  }

  /** The batch over shared memory: in place when it already is, else copied to the kept buffers. */
  sharedBatch(batch: Split, inputSize: number): { x: Float64Array; labels: Int32Array } {
    const length = batch.rows * inputSize;
    // The arrays themselves when they hold just the batch (the Trainer's): no new views on every call's path.
    let x = batch.x.length === length ? batch.x : batch.x.subarray(0, length);
    let labels = batch.labels.length === batch.rows ? batch.labels : batch.labels.subarray(0, batch.rows);
    if (!(x.buffer instanceof SharedArrayBuffer)) {
      const source = x;
      x = this.#batchLent ? new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT)) : this.lentBatchInputs(length);
      x.set(source);
    }
    if (!(labels.buffer instanceof SharedArrayBuffer)) {
      if (this.batchLabels.byteLength < batch.rows * Int32Array.BYTES_PER_ELEMENT) this.batchLabels = new SharedArrayBuffer(batch.rows * Int32Array.BYTES_PER_ELEMENT);
      labels = new Int32Array(this.batchLabels, 0, batch.rows);
      labels.set(batch.labels.subarray(0, batch.rows));
    }
    return { x, labels };
  }
}
