/**
 * The split of building the incremental kernel's base into parts, one piece
 * of work each for the pool's workers: part k of n builds a share of the
 * samples, of the input columns and of the hidden units, the shares falling
 * from part to part. Any split gives the same bytes (see
 * src/kernels/incremental/README.md, "The base").
 */
import {
  type IncrementalBase, prepareBaseColumns, prepareBaseSamples, prepareBaseUnits,
} from '../kernels/incremental/index.js';
import type { NetShape } from '../kernels/two-layer.js';
import { taperedRange } from './partition.js';

/**
 * The last base part's share of the work over the mean part's (the first's is
 * 2 minus this, and the shares between fall in a straight line). The chunks
 * wait for every part, so a worker that ran out of parts idles until the last
 * one is done: with even parts (1) that wait was 76–153 µs a call at 2 threads
 * (784-50-10, batch 100, 8 parts), with 0.5 31–56 µs, the parts' total time
 * unchanged (in-worker timings, alternating builds). Workers claim parts in
 * order, so the last to be claimed are the small ones. At 2 threads the
 * slowest task got 19–25 µs shorter, of which the wall time kept 6–8 µs
 * (measured while the first worker to finish still woke the main thread to
 * poll for the last, before 2026-12-05): the workers finished closer
 * together, and less of that wake-up hid behind the first worker's idle
 * tail. With more threads, more of them would idle at the end of even parts,
 * so the tapering matters more there.
 */
export const BASE_LAST_PART_SHARE = 0.5;

/** Base part `part` of `parts`: its samples, input columns (of I + 1, the last is the bias) and hidden units. */
export interface BasePartRanges {
  samples: [number, number];
  columns: [number, number];
  units: [number, number];
}

/** The ranges of base part `part` of `parts`, each count split in shares falling from 2 − {@link BASE_LAST_PART_SHARE} to it times the mean. */
export function basePartRanges(shape: NetShape, rows: number, part: number, parts: number): BasePartRanges {
  if (!(Number.isInteger(parts) && parts >= 1 && Number.isInteger(part) && part >= 0 && part < parts)) {
    throw new RangeError(`Expected part to be an integer from 0 to parts − 1, got part ${part} of ${parts}`);
  }
  return {
    samples: taperedRange(rows, part, parts, BASE_LAST_PART_SHARE),
    columns: taperedRange(shape.inputSize + 1, part, parts, BASE_LAST_PART_SHARE),
    units: taperedRange(shape.hiddenSize, part, parts, BASE_LAST_PART_SHARE),
  };
}

/**
 * Step 2 of building a base, part `part` of `parts` (see {@link basePartRanges}):
 * the parts write disjoint pieces of the base, in any order or at once on
 * different threads, and every value is the same whatever the number of parts.
 */
export function prepareBasePart(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: Int32Array, base: IncrementalBase, part: number, parts: number,
): void {
  const { samples, columns, units } = basePartRanges(shape, rows, part, parts);
  prepareBaseSamples(params, shape, x, rows, labels, base, samples[0], samples[1]);
  prepareBaseColumns(shape, x, rows, base, columns[0], columns[1]);
  prepareBaseUnits(params, shape, base, units[0], units[1]);
}
