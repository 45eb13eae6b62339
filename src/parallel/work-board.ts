/**
 * The shared board through which the workers of one gradient call divide the
 * work among themselves, without the main thread in between: an Int32Array
 * over a SharedArrayBuffer of counters, a state word and the parameter chunks.
 *
 * One call, every worker running the same task:
 * 1. claim base parts (`claimPart`) until none is left, building each; the
 *    worker that reports the last part done (`partDone` returns true) finishes
 *    the base, splits the parameters into chunks and `publish`es them;
 * 2. `waitUntilPublished`: wait until the chunks are published (or the call is
 *    aborted);
 * 3. claim chunks (`claimChunk`) until none is left, computing each.
 *
 * A worker only waits once every part is claimed, and every claimed part is
 * being built by a running worker, so the wait always ends: when the last part
 * is done, or when a part fails and its worker (or the main thread, for a
 * worker that died) calls `abort`. Work is claimed first come, first served,
 * so a worker that starts late or runs slow simply takes fewer pieces; results
 * do not depend on who computes what.
 */

import { resolveShared, type SharedRef } from './protocol.js';

/** State word values. */
export const BOARD_BUILDING = 0;
export const BOARD_PUBLISHED = 1;
export const BOARD_ABORTED = 2;

const STATE = 0;
const NEXT_PART = 1;
const PARTS_DONE = 2;
const NEXT_CHUNK = 3;
const PARTS = 4;
const CHUNKS = 5;
const SLEEPERS = 6;
const RANGES = 7;

/** How long a waiting worker polls before it sleeps: the last part is usually moments away, and waking a sleeping thread costs more. */
const SPIN_MILLISECONDS = 0.3;

export class WorkBoard {
  readonly cells: Int32Array;

  /**
   * Views over `buffer` (from {@link WorkBoard.bytes}), or over the buffer a
   * task names by reference (protocol.ts); the contents are whatever the
   * buffer holds.
   */
  constructor(buffer: SharedArrayBuffer | SharedRef) {
    const shared = resolveShared(buffer);
    if (shared === undefined) throw new RangeError(`Expected the work board's buffer ${(buffer as SharedRef).id} to have been sent to this thread, got only its id`);
    this.cells = new Int32Array(shared);
  }

  /** Bytes of a board for up to `maxChunks` chunks. */
  static bytes(maxChunks: number): number {
    return (RANGES + 2 * maxChunks) * Int32Array.BYTES_PER_ELEMENT;
  }

  get parts(): number {
    return this.cells[PARTS];
  }

  get chunks(): number {
    return this.cells[CHUNKS];
  }

  get state(): number {
    return Atomics.load(this.cells, STATE);
  }

  /** Threads asleep in `waitUntilPublished` right now. */
  get sleepers(): number {
    return Atomics.load(this.cells, SLEEPERS);
  }

  /** Main thread, before the call's tasks are sent (no worker is reading it). */
  reset(parts: number, chunks: number): void {
    if (!(Number.isInteger(parts) && parts >= 1 && Number.isInteger(chunks) && chunks >= 1 && RANGES + 2 * chunks <= this.cells.length)) {
      throw new RangeError(`Expected 1 ≤ parts and 1 ≤ chunks ≤ ${(this.cells.length - RANGES) / 2}, got ${parts} parts and ${chunks} chunks`);
    }
    // The counters only: a chunk's range is written by `publish` before any claim reads it.
    this.cells.fill(0, 0, RANGES);
    this.cells[PARTS] = parts;
    this.cells[CHUNKS] = chunks;
  }

  /** The next unclaimed base part, or -1 when all are claimed or the call is aborted. */
  claimPart(): number {
    if (this.state === BOARD_ABORTED) return -1;
    const part = Atomics.add(this.cells, NEXT_PART, 1);
    return part < this.cells[PARTS] ? part : -1;
  }

  /** Reports a part built; true for the last one (its worker must then `publish`). */
  partDone(): boolean {
    return Atomics.add(this.cells, PARTS_DONE, 1) === this.cells[PARTS] - 1;
  }

  /** Writes the chunks ([start, end) each, exactly `chunks` of them) and wakes the waiting workers; returns how many were asleep. */
  publish(ranges: ReadonlyArray<readonly [number, number]>): number {
    if (ranges.length !== this.chunks) throw new RangeError(`Expected ${this.chunks} chunks, got ${ranges.length}`);
    ranges.forEach(([start, end], c) => {
      this.cells[RANGES + 2 * c] = start;
      this.cells[RANGES + 2 * c + 1] = end;
    });
    // Only the building → published transition: an abort that came first stays.
    Atomics.compareExchange(this.cells, STATE, BOARD_BUILDING, BOARD_PUBLISHED);
    return Atomics.notify(this.cells, STATE);
  }

  /** Stops the call: waiting workers wake and every claim fails from now on; returns how many were asleep. */
  abort(): number {
    Atomics.store(this.cells, STATE, BOARD_ABORTED);
    return Atomics.notify(this.cells, STATE);
  }

  /**
   * Blocks until the chunks are published (true) or the call is aborted
   * (false), polling for `spinMilliseconds` before it sleeps. Workers only.
   */
  waitUntilPublished(spinMilliseconds = SPIN_MILLISECONDS): boolean {
    const spinUntil = performance.now() + spinMilliseconds;
    let state = this.state;
    while (state === BOARD_BUILDING && performance.now() < spinUntil) state = this.state;
    while (state === BOARD_BUILDING) {
      Atomics.add(this.cells, SLEEPERS, 1);
      Atomics.wait(this.cells, STATE, BOARD_BUILDING);
      Atomics.sub(this.cells, SLEEPERS, 1);
      state = this.state;
    }
    return state === BOARD_PUBLISHED;
  }

  /** True once the chunks were published and every one of them claimed (so computed, unless its task failed). */
  get complete(): boolean {
    return this.state === BOARD_PUBLISHED && Atomics.load(this.cells, NEXT_CHUNK) >= this.cells[CHUNKS];
  }

  /** The next unclaimed chunk as [start, end), or null when all are claimed or the call is aborted. */
  claimChunk(): [number, number] | null {
    if (this.state !== BOARD_PUBLISHED) return null;
    const chunk = Atomics.add(this.cells, NEXT_CHUNK, 1);
    if (chunk >= this.cells[CHUNKS]) return null;
    return [this.cells[RANGES + 2 * chunk], this.cells[RANGES + 2 * chunk + 1]];
  }
}
