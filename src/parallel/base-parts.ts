/**
 * The split of building the incremental kernel's base into parts, one piece
 * of work each for the pool's workers: part k of n builds an even share of the
 * samples, of the input columns and of the hidden units. Any split gives the
 * same bytes (see src/kernels/incremental/README.md, "The base").
 */
import {
  type IncrementalBase, prepareBaseColumns, prepareBaseSamples, prepareBaseUnits,
} from '../kernels/incremental/index.js';
import type { NetShape } from '../kernels/two-layer.js';
import { evenRange } from './partition.js';

/** Base part `part` of `parts`: its samples, input columns (of I + 1, the last is the bias) and hidden units, each split evenly. */
export interface BasePartRanges {
  samples: [number, number];
  columns: [number, number];
  units: [number, number];
}

export function basePartRanges(shape: NetShape, rows: number, part: number, parts: number): BasePartRanges {
  if (!(Number.isInteger(parts) && parts >= 1 && Number.isInteger(part) && part >= 0 && part < parts)) {
    throw new RangeError(`Expected part to be an integer from 0 to parts − 1, got part ${part} of ${parts}`);
  }
  return { samples: evenRange(rows, part, parts), columns: evenRange(shape.inputSize + 1, part, parts), units: evenRange(shape.hiddenSize, part, parts) };
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
