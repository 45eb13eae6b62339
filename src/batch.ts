/**
 * The shapes a batch or its targets may come in (arrays, ml-matrix, flat data),
 * normalised to flat Float64Arrays and labels, and put back into the shape they
 * came in ({@link shapeLike}): every function of gradpool returns the shape it
 * was given.
 */
import { AbstractMatrix, Matrix } from 'ml-matrix';
import { ArgumentRangeError, ArgumentTypeError } from './errors.js';
import { assertAllFinite, describe, assertInteger, firstNonFinite } from './validate.js';

/**
 * A row-major matrix over a flat Float64Array: what crosses threads and what the
 * hot loops read. `data.length === rows * columns`.
 *
 * @example
 * const batch: FlatMatrix = { data: Float64Array.of(1, 2, 3, 4, 5, 6), rows: 2, columns: 3 };
 */
export interface FlatMatrix {
  /** The values, row after row: element (r, c) is `data[r * columns + c]`. */
  data: Float64Array;
  /** Number of rows (samples), 1 and up where a batch is expected. */
  rows: number;
  /** Number of columns (values per sample), 1 and up where a batch is expected. */
  columns: number;
}

/** A batch as a user may give it: rows of numbers, an ml-matrix, or flat data with its shape; a 1-D number[] or Float64Array is a batch of one. */
export type BatchInput = number[][] | AbstractMatrix | FlatMatrix | Float64Array | number[];

/** Typed arrays of numbers other than Float64Array (e.g. Uint8Array pixels): 1-D inputs of the functions (`sigmoid`, `relu`, `softmax`, the losses), read as doubles. */
export type NumericTypedArray = Float32Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** A 1-D input of the functions: one sample, returned as a Float64Array. */
export type VectorInput = number[] | Float64Array | NumericTypedArray;

/**
 * What a shape-preserving function returns when the input's shape is only known
 * as a union: a Float64Array for a 1-D input, `number[][]` for `number[][]`, an
 * ml-matrix `Matrix` for any ml-matrix, a {@link FlatMatrix} for a FlatMatrix.
 */
export type BatchOutput = Float64Array | number[][] | Matrix | FlatMatrix;

/** Targets: labels, one-hot rows (arrays, an ml-matrix or flat data), or one label for a batch of one. */
export type TargetInput = ArrayLike<number> | number[][] | AbstractMatrix | FlatMatrix | number;

/**
 * Whether `value` is a {@link FlatMatrix}: an object with a Float64Array `data`
 * and numeric `rows` and `columns` (their values are checked by {@link toFlatMatrix}).
 *
 * @param value - Anything.
 * @returns `true` for `{ data: Float64Array, rows: number, columns: number }`.
 */
export function isFlatMatrix(value: unknown): value is FlatMatrix {
  return typeof value === 'object' && value !== null && (value as FlatMatrix).data instanceof Float64Array
    && typeof (value as FlatMatrix).rows === 'number' && typeof (value as FlatMatrix).columns === 'number';
}

/**
 * Normalises a batch to a {@link FlatMatrix}; a 1-D input is a batch of one row,
 * as in the book. Copies rows of arrays and ml-matrix input; a FlatMatrix or a
 * Float64Array is used as it is (no copy).
 *
 * @param input - The batch: `number[][]`, an ml-matrix, `{ data, rows, columns }`, or one row as a number[] or Float64Array.
 * @param name - The argument's name, for error messages (e.g. `'x'`).
 * @param allocate - Where `number[][]` and ml-matrix input is copied: a Float64Array of exactly `length` values (default a new one), e.g. a view of shared memory.
 * @returns The batch as flat row-major data with its shape.
 * @throws {TypeError} ``Expected `x` to be number[][], an ml-matrix Matrix, a Float64Array or { data: Float64Array, rows, columns }, got `"a"` (string)``; ``Expected `x` to contain only numbers, got `"a"` (string) at row 1, column 1``.
 * @throws {RangeError} ``Expected every row of `x` to have 2 columns like row 0, got an array of length 1 at row 1``; ``Expected `x` to be a non-empty batch, got an empty array`` (`[]`; `1 × 0` for `[[]]`); ``Expected `x.data` to have rows × columns = 2 × 2 = 4 elements, got 3``; ``Expected `x` to contain only finite numbers, got `NaN` at index 1`` (with the row and column for a batch).
 * @example
 * toFlatMatrix([[1, 2], [3, 4]], 'x'); // { data: Float64Array [1, 2, 3, 4], rows: 2, columns: 2 }
 */
export function toFlatMatrix(input: BatchInput, name: string, allocate: (length: number) => Float64Array = newFloat64Array): FlatMatrix {
  let flat: FlatMatrix;
  let finiteChecked = false;
  if (isFlatMatrix(input)) {
    assertInteger(`${name}.rows`, input.rows, 0);
    assertInteger(`${name}.columns`, input.columns, 0);
    if (input.data.length !== input.rows * input.columns) {
      throw new ArgumentRangeError(`Expected \`${name}.data\` to have rows × columns = ${input.rows} × ${input.columns} = ${input.rows * input.columns} elements, got ${input.data.length}`);
    }
    flat = input;
  } else if (input instanceof Float64Array) {
    flat = { data: input, rows: 1, columns: input.length };
  } else if (AbstractMatrix.isMatrix(input)) {
    const m = input as AbstractMatrix;
    const data = allocated(allocate, m.rows * m.columns, name);
    for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.columns; c++) data[r * m.columns + c] = m.get(r, c);
    flat = { data, rows: m.rows, columns: m.columns };
  } else if (Array.isArray(input)) {
    if (input.length > 0 && Array.isArray(input[0])) {
      const rows = input as number[][];
      const columns = rows[0].length;
      const data = allocated(allocate, rows.length * columns, name);
      // One pass over the values, checked as they are copied (a second scan would take as long as the
      // copy); a non-finite number is reported after the shape and type of every row, as a scan would.
      let nonFinite = -1;
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r];
        if (!Array.isArray(row) || row.length !== columns) {
          throw new ArgumentRangeError(`Expected every row of \`${name}\` to have ${columns} columns like row 0, got ${describe(row)} at row ${r}`);
        }
        if (copyFiniteRow(row, data, r * columns)) continue;
        // Not all finite numbers: find the first value that is not a number (an error at once) or not finite,
        // storing what is tested (a row read twice, as through a getter, could give other values the second time).
        for (let c = 0; c < columns; c++) {
          const v = row[c];
          if (typeof v !== 'number') throw new ArgumentTypeError(`Expected \`${name}\` to contain only numbers, got ${describe(v)} at row ${r}, column ${c}`);
          if (nonFinite < 0 && !Number.isFinite(v)) nonFinite = r * columns + c;
          data[r * columns + c] = v;
        }
      }
      if (nonFinite >= 0) throwNotFinite(name, data[nonFinite], nonFinite, rows.length, columns);
      flat = { data, rows: rows.length, columns };
      finiteChecked = true;
    } else {
      if (input.length === 0) throw new ArgumentRangeError(`Expected \`${name}\` to be a non-empty batch, got an empty array`);
      const values = input as unknown[];
      for (let i = 0; i < values.length; i++) {
        if (typeof values[i] !== 'number') throw new ArgumentTypeError(`Expected \`${name}\` to contain only numbers, got ${describe(values[i])} at index ${i}`);
      }
      flat = { data: Float64Array.from(input as number[]), rows: 1, columns: input.length };
    }
  } else {
    throw new ArgumentTypeError(`Expected \`${name}\` to be number[][], an ml-matrix Matrix, a Float64Array or { data: Float64Array, rows, columns }, got ${describe(input)}`);
  }
  if (flat.rows === 0 || flat.columns === 0) {
    throw new ArgumentRangeError(`Expected \`${name}\` to be a non-empty batch, got ${flat.rows} × ${flat.columns}`);
  }
  if (!finiteChecked) assertAllFiniteBatch(name, flat);
  return flat;
}

function newFloat64Array(length: number): Float64Array {
  return new Float64Array(length);
}

/** What `allocate` gave for `length` values of `name`, checked: a shorter array would drop writes silently. */
function allocated(allocate: (length: number) => Float64Array, length: number, name: string): Float64Array {
  const data = allocate(length);
  if (!(data instanceof Float64Array) || data.length !== length) {
    throw new ArgumentTypeError(`Expected \`allocate\` to give a Float64Array of ${length} values for \`${name}\`, got ${describe(data)}`);
  }
  return data;
}

/** Like {@link assertAllFinite}, and names the row and column of the bad value in a batch. */
function assertAllFiniteBatch(name: string, flat: FlatMatrix): void {
  const { data, rows, columns } = flat;
  const i = firstNonFinite(data);
  if (i >= 0) throwNotFinite(name, data[i], i, rows, columns);
}

/**
 * Copies `row` into `data` from `offset` and returns whether every value is a
 * finite number; on false, part of the row may already be copied. Four values a
 * step, each tested for a number and summed as `v - v` (0 when finite, NaN
 * for NaN and ±Infinity) instead of tested for finiteness one by one: a
 * 100 × 784 batch in 60 µs against 134 µs (development machine), on the path
 * of every library call of the pool.
 */
function copyFiniteRow(row: readonly unknown[], data: Float64Array, offset: number): boolean {
  const columns = row.length;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let c = 0;
  for (; c + 4 <= columns; c += 4) {
    const v0 = row[c], v1 = row[c + 1], v2 = row[c + 2], v3 = row[c + 3];
    if (typeof v0 !== 'number' || typeof v1 !== 'number' || typeof v2 !== 'number' || typeof v3 !== 'number') return false;
    s0 += v0 - v0; s1 += v1 - v1; s2 += v2 - v2; s3 += v3 - v3;
    data[offset + c] = v0; data[offset + c + 1] = v1; data[offset + c + 2] = v2; data[offset + c + 3] = v3;
  }
  for (; c < columns; c++) {
    const v = row[c];
    if (typeof v !== 'number') return false;
    s0 += v - v;
    data[offset + c] = v;
  }
  return s0 + s1 + s2 + s3 === 0;
}

/** Throws the RangeError naming the non-finite `value` at `index` of a batch (and its row and column). */
function throwNotFinite(name: string, value: number, index: number, rows: number, columns: number): never {
  const where = rows > 1 ? ` (row ${Math.floor(index / columns)}, column ${index % columns})` : '';
  throw new ArgumentRangeError(`Expected \`${name}\` to contain only finite numbers, got \`${String(value)}\` at index ${index}${where}`);
}

/**
 * Like {@link toFlatMatrix}, and also takes any other typed array of numbers
 * (Float32Array, Uint8Array pixels, …) as one row, copied into a Float64Array:
 * the inputs of the functions (`sigmoid`, `softmax`, the losses).
 *
 * @param input - A batch, or one row as any array or typed array of numbers.
 * @param name - The argument's name, for error messages.
 * @returns The input as flat row-major data with its shape.
 * @throws TypeError or RangeError as {@link toFlatMatrix} does.
 */
export function toFlatMatrixOfAny(input: VectorInput | BatchInput, name: string): FlatMatrix {
  return toFlatMatrix(isNumericTypedArray(input) ? Float64Array.from(input) : input, name);
}

function isNumericTypedArray(value: unknown): value is NumericTypedArray {
  // DataView and the BigInt arrays are views too, but hold no numbers: toFlatMatrix refuses them.
  return ArrayBuffer.isView(value) && !(value instanceof Float64Array) && !(value instanceof DataView)
    && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array);
}

/**
 * Whether an input is 1-D (one sample): an array of numbers or a typed array,
 * not rows of arrays, an ml-matrix or a {@link FlatMatrix}.
 *
 * @param input - An input the functions or the nets accept.
 * @returns `true` for a number[] (including an empty one) or a typed array.
 */
function isVector(input: VectorInput | BatchInput): input is VectorInput {
  return ArrayBuffer.isView(input) || (Array.isArray(input) && !Array.isArray(input[0]));
}

/**
 * Puts a result computed over flat data back into the shape of the input it
 * came from: a Float64Array for a 1-D input (`flat.data` itself), `number[][]`
 * for `number[][]`, an ml-matrix `Matrix` for any ml-matrix, `flat` itself for a
 * {@link FlatMatrix}. The result may have another number of columns than the
 * input (a net's predictions), never another number of rows.
 *
 * @param input - The input the result was computed from (already validated).
 * @param flat - The result, one row per row of `input`.
 * @returns The result in the input's shape.
 * @example
 * shapeLike([[1, 2]], { data: Float64Array.of(3, 4), rows: 1, columns: 2 }); // [[3, 4]]
 */
export function shapeLike(input: VectorInput | BatchInput, flat: FlatMatrix): BatchOutput {
  if (isFlatMatrix(input)) return flat;
  if (AbstractMatrix.isMatrix(input)) return toMatrix(flat);
  if (isVector(input)) return flat.data;
  const rows: number[][] = [];
  for (let r = 0; r < flat.rows; r++) rows.push(Array.from(flat.data.subarray(r * flat.columns, (r + 1) * flat.columns)));
  return rows;
}

/**
 * Copies flat data into an ml-matrix Matrix (ml-matrix stores rows).
 *
 * @param flat - Row-major data with its shape.
 * @returns A new `rows × columns` Matrix with the same values.
 * @example
 * toMatrix({ data: Float64Array.of(1, 2, 3, 4), rows: 2, columns: 2 }).get(1, 0); // 3
 */
export function toMatrix(flat: FlatMatrix): Matrix {
  const m = new Matrix(flat.rows, flat.columns);
  for (let r = 0; r < flat.rows; r++) for (let c = 0; c < flat.columns; c++) m.set(r, c, flat.data[r * flat.columns + c]);
  return m;
}

/**
 * Normalises targets to integer labels, the book's convention: targets with as
 * many entries as `y` are one-hot, and each row must have exactly one 1 and zeros
 * elsewhere (a soft target or an all-zero row names no single class, and a
 * loss computed from its argmax would be wrong without a sign); otherwise they
 * are labels, which must be integers in [0, classes).
 *
 * @param t - Labels (any array or typed array), one-hot rows (`number[][]`, an ml-matrix, flat data), or one label when `rows` is 1.
 * @param rows - The batch's number of rows.
 * @param classes - The number of classes (columns of `y`).
 * @param name - The argument's name, for error messages. Default `'t'`.
 * @returns One integer label per row.
 * @throws {TypeError} ``Expected `t` to be labels or one-hot rows, got `"a"` (string)``; ``Expected `t` labels to be integers from 0 to 2, got … at index 0`` for a label that is not a number.
 * @throws {RangeError} ``Expected `t` to have 2 labels (one per row of the batch) or 2 × 3 one-hot values, got 3 values``; ``Expected `t` labels to be integers from 0 to 2, got `3` at index 0``; ``Expected one-hot `t`: row 0 has exactly one 1 and zeros elsewhere, got `0.5` at column 1``; ``Expected one-hot `t` to be 2 × 3, got …``.
 * @example
 * toLabels([[0, 0, 1], [1, 0, 0]], 2, 3); // Int32Array [2, 0]
 */
export function toLabels(t: TargetInput, rows: number, classes: number, name = 't'): Int32Array {
  let values: ArrayLike<number>;
  let oneHotColumns = 0;
  if (isFlatMatrix(t)) {
    values = t.data;
    if (t.rows > 1 || t.data.length === rows * classes) oneHotColumns = t.columns;
  } else if (AbstractMatrix.isMatrix(t)) {
    const flat = toFlatMatrix(t as AbstractMatrix, name);
    values = flat.data;
    oneHotColumns = flat.columns;
  } else if (Array.isArray(t) && t.length > 0 && Array.isArray(t[0])) {
    const flat = toFlatMatrix(t as number[][], name);
    values = flat.data;
    oneHotColumns = flat.columns;
  } else if (t !== null && typeof t === 'object' && typeof (t as ArrayLike<number>).length === 'number') {
    values = t as ArrayLike<number>;
    if (values.length === rows * classes && values.length !== rows) oneHotColumns = classes;
  } else if (typeof t === 'number' && rows === 1) {
    values = [t]; // one label for a batch of one, as the book writes cross_entropy_error(y, 2)
  } else {
    throw new ArgumentTypeError(`Expected \`${name}\` to be labels or one-hot rows${rows === 1 ? ' (or one label)' : ''}, got ${describe(t)}`);
  }

  const labels = new Int32Array(rows);
  if (oneHotColumns > 0) {
    if (oneHotColumns !== classes || values.length !== rows * classes) {
      throw new ArgumentRangeError(`Expected one-hot \`${name}\` to be ${rows} × ${classes}, got ${values.length / oneHotColumns} × ${oneHotColumns}`);
    }
    assertAllFinite(name, values);
    for (let r = 0; r < rows; r++) labels[r] = oneHotLabel(values, r, classes, name);
    return labels;
  }
  if (values.length !== rows) {
    // A flat t is either labels or one-hot rows: its length tells them apart, so name both.
    throw new ArgumentRangeError(`Expected \`${name}\` to have ${rows} label${rows === 1 ? '' : 's'} (one per row of the batch) or ${rows} × ${classes} one-hot values, got ${values.length} value${values.length === 1 ? '' : 's'}`);
  }
  for (let r = 0; r < rows; r++) {
    const label = values[r];
    if (typeof label !== 'number') {
      throw new ArgumentTypeError(`Expected \`${name}\` labels to be integers from 0 to ${classes - 1}, got ${describe(label)} at index ${r}`);
    }
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new ArgumentRangeError(`Expected \`${name}\` labels to be integers from 0 to ${classes - 1}, got \`${String(label)}\` at index ${r}`);
    }
    labels[r] = label;
  }
  return labels;
}

/**
 * The column of the one 1 in row `r` of one-hot targets. Exactly 0 and 1 (−0 is
 * 0): `oneHot()` and the book's `one_hot_label=True` give nothing else, and a row
 * that is not one-hot (a soft target, all zeros, two 1s, a 0.9999…) names no
 * single class: its argmax would be a target the caller never gave, and the loss
 * and gradients computed from it would be wrong without a sign.
 */
function oneHotLabel(values: ArrayLike<number>, r: number, classes: number, name: string): number {
  const offset = r * classes;
  let label = -1;
  for (let c = 0; c < classes; c++) {
    const v = values[offset + c];
    if (v === 0) continue;
    if (v === 1 && label < 0) {
      label = c;
      continue;
    }
    const got = v === 1 ? `a second 1 at column ${c} (the first at column ${label})` : `\`${String(v)}\` at column ${c}`;
    throw new ArgumentRangeError(`Expected one-hot \`${name}\`: row ${r} has exactly one 1 and zeros elsewhere, got ${got}`);
  }
  if (label < 0) throw new ArgumentRangeError(`Expected one-hot \`${name}\`: row ${r} has exactly one 1 and zeros elsewhere, got all zeros`);
  return label;
}
