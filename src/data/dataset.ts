/**
 * The data every layer above the kernels works on: a {@link Split} (rows of
 * inputs and their integer labels) and a {@link Dataset} (a train and a test
 * split), with the row operations that training, evaluation and the CLI need.
 * The loaders that fill them live in `datasets/`.
 */
import { ArgumentRangeError, ArgumentTypeError } from '../errors.js';
import { assertInteger, assertOptionsObject, describe } from '../validate.js';

/**
 * One split of a dataset: `rows` samples, each `inputSize` numbers wide (the
 * width is the owning {@link Dataset}'s `inputSize`, and `x.length / rows`).
 */
export interface Split {
  /** rows × inputSize, row-major. Image sets hold pixels scaled to 0..1; synthetic sets hold coordinates. */
  x: Float64Array;
  /** One integer label per row, from 0 to classes − 1. */
  labels: Int32Array;
  /** Number of samples: `labels.length`, and `x.length / inputSize`. */
  rows: number;
}

/** A classification dataset: a training and a test split with the same input width and classes. */
export interface Dataset {
  /** What it was loaded from, for messages and records (e.g. `mnist`, `idx:data/fashion`). */
  name: string;
  /** Numbers per sample (784 for 28×28 digits, 2 for the synthetic sets): a net's `inputSize`. */
  inputSize: number;
  /** Number of classes (labels run from 0 to classes − 1): a net's `outputSize`. */
  classes: number;
  /** The rows a model learns from. */
  train: Split;
  /** The held-out rows a model is scored on, never trained on. */
  test: Split;
}

/** The width of a split's rows, checking that `x` holds whole rows. */
export function rowWidth(split: Split, name = 'split'): number {
  assertInteger(`${name}.rows`, split.rows, 0);
  if (split.labels.length !== split.rows) {
    throw new ArgumentRangeError(`Expected \`${name}.labels\` to have one label per row (${split.rows}), got ${describe(split.labels)}`);
  }
  if (split.rows === 0) return 0;
  if (split.x.length % split.rows !== 0) {
    throw new ArgumentRangeError(`Expected \`${name}.x\` to hold ${split.rows} whole rows, got ${describe(split.x)}`);
  }
  return split.x.length / split.rows;
}

/**
 * One-hot rows for integer labels: a rows × classes Float64Array with a 1 at
 * each row's label, the book's `one_hot_label` form of the targets. Labels must
 * be integers from 0 to classes − 1.
 *
 * @param labels - Integer labels, any array or typed array (e.g. a split's `labels`).
 * @param classes - The number of classes: the width of each row, 1 and up.
 * @returns A new Float64Array of `labels.length × classes`, row-major.
 * @throws {ArgumentRangeError} ``Expected `classes` to be an integer from 1 and up, got `0` (number)`` (an ArgumentTypeError for a non-number).
 * @throws {RangeError} ``Expected `labels` to be integers from 0 to 2, got `3` at index 0`` for a label out of range or not an integer.
 * @example
 * oneHot([2, 0], 3); // Float64Array [0, 0, 1, 1, 0, 0]
 */
export function oneHot(labels: ArrayLike<number>, classes: number): Float64Array {
  assertInteger('classes', classes, 1);
  const out = new Float64Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new ArgumentRangeError(`Expected \`labels\` to be integers from 0 to ${classes - 1}, got \`${String(label)}\` at index ${i}`);
    }
    out[i * classes + label] = 1;
  }
  return out;
}

/**
 * Copies the rows at `indices` (in that order, repeats allowed) into a new
 * split: a mini-batch, the book's `x_train[batch_mask]`. Each row is one
 * `Float64Array.prototype.set` of a subarray.
 *
 * @param split - The rows to take from; not modified.
 * @param indices - Row numbers from 0 to `split.rows` − 1, any array or typed array.
 * @returns A new split of `indices.length` rows, which shares no memory with `split`.
 * @throws {RangeError} ``Expected `indices` to be row numbers from 0 to 2, got `3` at index 0`` for a row out of range or not an integer.
 * @throws {RangeError} ``Expected `split.x` to hold 2 whole rows, got a Float64Array of length 5`` or ``Expected `split.labels` to have one label per row (2), got …`` for a malformed split.
 * @example
 * const split = { x: Float64Array.of(1, 2, 3, 4, 5, 6), labels: Int32Array.of(0, 1, 2), rows: 3 };
 * takeRows(split, [2, 0, 2]); // { x: Float64Array [5, 6, 1, 2, 5, 6], labels: Int32Array [2, 0, 2], rows: 3 }
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
      throw new ArgumentRangeError(`Expected \`indices\` to be row numbers from 0 to ${rows - 1}, got \`${String(row)}\` at index ${i}`);
    }
    x.set(source.subarray(row * width, (row + 1) * width), i * width);
    labels[i] = sourceLabels[row];
  }
  return { x, labels, rows: count };
}

/**
 * A copy of the first `count` rows of a split (all of them if it has fewer):
 * a quick run on part of a dataset. Splits of the loaders are stored class by
 * class, so the first rows may all be one class.
 *
 * @param split - The rows to copy from; not modified.
 * @param count - How many rows to keep, 0 and up.
 * @returns A new split of `min(count, split.rows)` rows.
 * @throws {ArgumentRangeError} ``Expected `count` to be an integer from 0 and up, got `-1` (number)`` (an ArgumentTypeError for a non-number).
 * @throws {RangeError} for a malformed split, as {@link takeRows}.
 * @example
 * subset({ x: Float64Array.of(1, 2, 3, 4, 5, 6), labels: Int32Array.of(0, 1, 2), rows: 3 }, 2); // { x: Float64Array [1, 2, 3, 4], labels: Int32Array [0, 1], rows: 2 }
 */
export function subset(split: Split, count: number): Split {
  const width = rowWidth(split);
  assertInteger('count', count, 0);
  const rows = Math.min(count, split.rows);
  return { x: split.x.slice(0, rows * width), labels: split.labels.slice(0, rows), rows };
}

/**
 * `count` row indices spread evenly over [0, rows), ⌊k·rows/count⌋: splits are
 * stored class by class, so their first rows are all one class. `centered`:
 * the middle of each stretch instead, ⌊(k + ½)·rows/count⌋, which with one row
 * per class is not the class's first (the spiral's is its centre, all zeros).
 */
export function evenlySpacedRows(count: number, rows: number, centered = false): number[] {
  const offset = centered ? 0.5 : 0;
  return Array.from({ length: count }, (_, k) => Math.floor(((k + offset) * rows) / count));
}

/**
 * Checks the labels of a split: integers from 0 to `classes` − 1 (out of range,
 * the loss and accuracy would read past a row of probabilities).
 */
function assertLabels(name: string, labels: Int32Array, classes: number): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label < 0 || label >= classes) {
      throw new ArgumentRangeError(`Expected \`${name}\` to be integers from 0 to ${classes - 1} (classes − 1), got \`${label}\` at index ${i}`);
    }
  }
}

/**
 * Checks a loaded {@link Dataset} given by a caller: its sizes, both splits
 * (typed arrays of whole rows) and every label, so a malformed one is named
 * here rather than failing deep inside training.
 *
 * @param name - how messages name it (`dataset`, or the CLI's `--dataset`).
 * @throws {ArgumentTypeError} / {ArgumentRangeError} ``Expected `dataset.train.labels` to be integers from 0 to 9 (classes − 1), got `10` at index 3``.
 */
export function assertDataset(name: string, dataset: Dataset): void {
  assertOptionsObject(name, dataset, '{ name, inputSize, classes, train, test }');
  if (typeof dataset.name !== 'string') throw new ArgumentTypeError(`Expected \`${name}.name\` to be a string, got ${describe(dataset.name)}`);
  assertInteger(`${name}.inputSize`, dataset.inputSize, 1);
  assertInteger(`${name}.classes`, dataset.classes, 1);
  for (const part of ['train', 'test'] as const) {
    assertSplit(dataset[part], dataset.inputSize, `${name}.${part}`);
    assertLabels(`${name}.${part}.labels`, dataset[part].labels, dataset.classes);
  }
}

/**
 * Checks that `split` holds `rows` (at least 1) whole rows of `inputSize`
 * numbers and one label per row. Messages name the split as `name`
 * (`split`, `dataset.train`).
 *
 * @throws {ArgumentTypeError} when `split` is not an object, `x` not a Float64Array or `labels` not an Int32Array.
 * @throws {ArgumentRangeError} ``Expected `dataset.test.rows` to be an integer from 1 and up, got `0` (number)``;
 * ``Expected `split.x` to hold rows × inputSize = 3 × 2 = 6 values, got a Float64Array of length 5``;
 * ``Expected `split.labels` to hold one label per row (3), got an Int32Array of length 2``.
 */
export function assertSplit(split: Split, inputSize: number, name = 'split'): void {
  assertOptionsObject(name, split, '{ x: Float64Array, labels: Int32Array, rows }');
  const { x, labels, rows } = split;
  assertInteger(`${name}.rows`, rows, 1);
  if (!(x instanceof Float64Array)) throw new ArgumentTypeError(`Expected \`${name}.x\` to be a Float64Array, got ${describe(x)}`);
  if (!(labels instanceof Int32Array)) throw new ArgumentTypeError(`Expected \`${name}.labels\` to be an Int32Array, got ${describe(labels)}`);
  if (x.length !== rows * inputSize) {
    throw new ArgumentRangeError(`Expected \`${name}.x\` to hold rows × inputSize = ${rows} × ${inputSize} = ${rows * inputSize} values, got ${describe(x)}`);
  }
  if (labels.length !== rows) throw new ArgumentRangeError(`Expected \`${name}.labels\` to hold one label per row (${rows}), got ${describe(labels)}`);
}
