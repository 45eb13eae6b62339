/**
 * The data every layer above the kernels works on: a {@link Split} (rows of
 * inputs and their integer labels) and a {@link Dataset} (a train and a test
 * split), with the row operations that training, evaluation and the CLI need.
 * The loaders that fill them live in `datasets/`.
 */
import { assertInteger, describe } from '../validate.js';

/**
 * One split of a dataset: `rows` samples, each `inputSize` numbers wide (the
 * width is the owning {@link Dataset}'s `inputSize`, and `x.length / rows`).
 */
export interface Split {
  /** rows × inputSize, row-major. Image sets hold pixels scaled to 0..1; synthetic sets hold coordinates. */
  x: Float64Array;
  /** One integer label per row, from 0 to classes − 1. */
  labels: Int32Array;
  rows: number;
}

/** A classification dataset: a training and a test split with the same input width and classes. */
export interface Dataset {
  /** What it was loaded from, for messages and records (e.g. `mnist`, `idx:data/fashion`). */
  name: string;
  inputSize: number;
  classes: number;
  train: Split;
  test: Split;
}

/** The width of a split's rows, checking that `x` holds whole rows. */
export function rowWidth(split: Split, name = 'split'): number {
  assertInteger(`${name}.rows`, split.rows, 0);
  if (split.labels.length !== split.rows) {
    throw new RangeError(`Expected \`${name}.labels\` to have one label per row (${split.rows}), got ${describe(split.labels)}`);
  }
  if (split.rows === 0) return 0;
  if (split.x.length % split.rows !== 0) {
    throw new RangeError(`Expected \`${name}.x\` to hold ${split.rows} whole rows, got ${describe(split.x)}`);
  }
  return split.x.length / split.rows;
}

/**
 * One-hot rows for integer labels: a rows × classes Float64Array with a 1 at
 * each row's label. Labels must be integers from 0 to classes − 1.
 */
export function oneHot(labels: ArrayLike<number>, classes: number): Float64Array {
  assertInteger('classes', classes, 1);
  const out = new Float64Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new RangeError(`Expected \`labels\` to be integers from 0 to ${classes - 1}, got \`${String(label)}\` at index ${i}`);
    }
    out[i * classes + label] = 1;
  }
  return out;
}

/**
 * Copies the rows at `indices` (in that order, repeats allowed) into a new
 * split: a mini-batch. Each row is one `Float64Array.prototype.set` of a subarray.
 */
export function takeRows(split: Split, indices: ArrayLike<number>): Split {
  const width = rowWidth(split);
  const count = indices.length;
  const x = new Float64Array(count * width);
  const labels = new Int32Array(count);
  const { x: source, labels: sourceLabels, rows } = split;
  for (let i = 0; i < count; i++) {
    const row = indices[i];
    if (!Number.isInteger(row) || row < 0 || row >= rows) {
      throw new RangeError(`Expected \`indices\` to be row numbers from 0 to ${rows - 1}, got \`${String(row)}\` at index ${i}`);
    }
    x.set(source.subarray(row * width, (row + 1) * width), i * width);
    labels[i] = sourceLabels[row];
  }
  return { x, labels, rows: count };
}

/** A copy of the first `count` rows of a split (all of them if it has fewer). */
export function subset(split: Split, count: number): Split {
  const width = rowWidth(split);
  assertInteger('count', count, 0);
  const rows = Math.min(count, split.rows);
  return { x: split.x.slice(0, rows * width), labels: split.labels.slice(0, rows), rows };
}

/** `count` row indices spread evenly over [0, rows), ⌊k·rows/count⌋: splits are stored class by class, so their first rows are all one class. */
export function evenlySpacedRows(count: number, rows: number): number[] {
  return Array.from({ length: count }, (_, k) => Math.floor((k * rows) / count));
}
