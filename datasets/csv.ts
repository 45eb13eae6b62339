/** Loading a labelled CSV file (label, then the pixels 0..255), split 80/20 per label or given as train and test files. */
import { InputError } from '../src/errors.js';
import type { Dataset, Split } from '../src/data/dataset.js';
import { gunzipDataFile, quoteFound, readDataFile } from '../src/data/data-file.js';
import { classesOf, splitPerLabel } from './split-per-label.js';

/** Options of {@link loadCsv}. */
export interface CsvOptions {
  /**
   * A second CSV file, in the same format and with as many cells per line, to
   * use as the test split instead of holding out 20 % of `file`.
   *
   * @default `undefined`: 20 % of each label of `file` is held out for testing
   */
  testFile?: string;
}

/** The largest label a CSV line may have (so a stray value cannot ask for millions of classes). */
export const MAX_CSV_LABEL = 9999;

/** The most pixels a CSV line may have (so that a line of commas cannot size the arrays). */
export const MAX_CSV_PIXELS = 1_000_000;

/** The largest CSV file read, once decompressed: MNIST's training set is a 110 MB CSV. */
export const MAX_CSV_BYTES = 2 ** 30;

const NEEDS = 'a CSV file with one sample per line: label, then pixel values from 0 to 255';

/** Exact powers of ten for the fast decimal path (m / 10^k is correctly rounded for m < 2^53). */
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k);
const STRICT_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

const COMMA = 44;
const NEWLINE = 10;
const RETURN = 13;

/** Where the first file's line width came from, to check a test file against it. */
interface Like { file: string; cells: number }

/**
 * A dataset from CSV files in the common MNIST CSV layout: one sample per line,
 * the label and then the pixel values (0..255, scaled to 0..1 by / 255), e.g.
 * `5,0,0,…,0` with 785 cells for 28×28 digits. A first line whose first cell is
 * not a number is a header and skipped; blank lines are skipped; `\r\n` line
 * ends and a UTF-8 byte-order mark are accepted; a file ending in `.gz` is
 * gunzipped. Every data line must have as many cells as the first one
 * (`inputSize` = cells − 1, at most 1,000,000 pixels), in the test file too; a
 * file may hold at most 1 GiB once decompressed (MNIST's training set is a
 * 110 MB CSV). Labels are integers from 0 to {@link MAX_CSV_LABEL}; `classes`
 * is the largest label + 1 (at least 2).
 *
 * Without `testFile`, the file is split per label in file order: the first
 * `Math.round(0.8 · n)` lines of each label (n = that label's line count) are
 * train, the rest test. Within each split, rows keep their file order.
 *
 * Synchronous; every problem is an {@link InputError} naming the file and line.
 *
 * @param file - The CSV file (`.gz` for a gzipped one).
 * @param options - `testFile`: a separate test file.
 * @returns The dataset `csv:<file>` (or `csv:<file>,<testFile>`), pixels scaled to 0..1.
 * @throws {InputError} ``<file> line <n>[, cell <c>]: expected <what>, found <what>``, e.g. ``digits.csv line 3, cell 5: expected a pixel value from 0 to 255, found `300` ``, or ``digits.csv: expected a CSV file with one sample per line: label, then pixel values from 0 to 255, found no such file``.
 * @example
 * const digits = loadCsv('mnist_train.csv', { testFile: 'mnist_test.csv' });
 * digits.inputSize; // 784
 */
export function loadCsv(file: string, options: CsvOptions = {}): Dataset {
  const { testFile } = options;
  const first = parseCsvFile(file);
  const inputSize = first.cells - 1;
  let train: Split;
  let test: Split;
  if (testFile === undefined) {
    ({ train, test } = splitPerLabel(first.split));
    if (test.rows === 0) {
      throw new InputError(`${file}: expected enough lines to hold out 20 % of each label for testing, found ${first.split.rows} data line${first.split.rows === 1 ? '' : 's'} and no test rows (add lines, or give a test file: csv:TRAIN,TEST)`);
    }
  } else {
    train = first.split;
    test = parseCsvFile(testFile, { file, cells: first.cells }).split;
  }
  return {
    name: testFile === undefined ? `csv:${file}` : `csv:${file},${testFile}`,
    inputSize,
    classes: classesOf(train.labels, test.labels),
    train,
    test,
  };
}

/** Parses one CSV file into a split; `like` fixes the cell count (a test file must match the training file). */
function parseCsvFile(file: string, like?: Like): { split: Split; cells: number } {
  let buffer = readDataFile(file, NEEDS, MAX_CSV_BYTES);
  if (file.endsWith('.gz')) buffer = gunzipDataFile(file, buffer, MAX_CSV_BYTES);
  // Scanning a plain Uint8Array view is faster than indexing the Buffer subclass.
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
  let pos = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;

  let lines = 1;
  for (let at = buffer.indexOf(NEWLINE, pos); at >= 0; at = buffer.indexOf(NEWLINE, at + 1)) lines++;
  let labels = new Int32Array(0);
  let cells = like?.cells ?? 0;
  let width = cells - 1;
  let x: Float64Array | undefined;
  let rows = 0;
  let lineNumber = 0;
  let seenNonBlank = false;

  while (pos < bytes.length) {
    lineNumber++;
    let end = buffer.indexOf(NEWLINE, pos);
    if (end < 0) end = bytes.length;
    const next = end + 1;
    if (end > pos && bytes[end - 1] === RETURN) end--;
    if (isBlank(bytes, pos, end)) {
      pos = next;
      continue;
    }
    if (!seenNonBlank) {
      seenNonBlank = true;
      if (Number.isNaN(parseCell(bytes, pos, cellEnd(bytes, pos, end)))) {
        pos = next; // a header line such as `label,pixel0,pixel1,…`
        continue;
      }
    }
    if (x === undefined) {
      if (cells === 0) {
        cells = countCells(bytes, pos, end);
        if (cells < 2) {
          throw new InputError(`${file} line ${lineNumber}: expected at least 2 cells (label + pixels), found ${cells}`);
        }
        if (cells - 1 > MAX_CSV_PIXELS) {
          throw new InputError(`${file} line ${lineNumber}: expected at most ${MAX_CSV_PIXELS} pixels after the label, found ${cells - 1}`);
        }
        width = cells - 1;
      }
      // Counting lines alone would let blank lines multiply the arrays' size. A data
      // line has `cells` cells of at least one digit, cells − 1 commas and a newline
      // (but the last), so the bytes left bound the rows too.
      const capacity = Math.min(lines, Math.floor((bytes.length - pos + 1) / (2 * cells)));
      labels = new Int32Array(capacity);
      x = new Float64Array(capacity * width);
    }

    const base = rows * width;
    let cell = 0;
    let start = pos;
    for (;;) {
      const stop = cellEnd(bytes, start, end);
      if (cell === cells) throw wrongCellCount(file, lineNumber, cells, countCells(bytes, pos, end), like);
      const value = parseCell(bytes, start, stop);
      if (cell === 0) {
        if (!(Number.isInteger(value) && value >= 0 && value <= MAX_CSV_LABEL)) {
          throw new InputError(`${file} line ${lineNumber}: expected a label (cell 1) that is an integer from 0 to ${MAX_CSV_LABEL}, found ${quoteFound(buffer.toString('utf8', start, stop).trim())}`);
        }
        labels[rows] = value;
      } else {
        if (!(value >= 0 && value <= 255)) {
          throw new InputError(`${file} line ${lineNumber}, cell ${cell + 1}: expected a pixel value from 0 to 255, found ${quoteFound(buffer.toString('utf8', start, stop).trim())}`);
        }
        x[base + cell - 1] = value / 255;
      }
      cell++;
      if (stop >= end) break;
      start = stop + 1;
    }
    if (cell !== cells) throw wrongCellCount(file, lineNumber, cells, cell, like);
    rows++;
    pos = next;
  }

  if (x === undefined) throw new InputError(`${file}: expected ${NEEDS}, found no data lines`);
  return { split: { x: x.subarray(0, rows * width), labels: labels.subarray(0, rows), rows }, cells };
}

function wrongCellCount(file: string, lineNumber: number, cells: number, found: number, like: Like | undefined): InputError {
  const source = like === undefined ? '' : `, as in ${like.file}`;
  return new InputError(`${file} line ${lineNumber}: expected ${cells} cells (label + ${cells - 1} pixels${source}), found ${found}`);
}

function isBlank(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 32 && bytes[i] !== 9) return false;
  return true;
}

/** The index of the comma ending the cell that starts at `from`, or `end`. */
function cellEnd(bytes: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && bytes[i] !== COMMA) i++;
  return i;
}

function countCells(bytes: Uint8Array, from: number, end: number): number {
  let count = 1;
  for (let i = from; i < end; i++) if (bytes[i] === COMMA) count++;
  return count;
}

/**
 * The decimal number in bytes [from, to), surrounding spaces allowed, or NaN.
 * Plain integers and decimals of up to 15 digits are parsed here (exactly as
 * `Number` would); exponents and longer numbers go through `Number`.
 */
function parseCell(bytes: Uint8Array, from: number, to: number): number {
  while (from < to && (bytes[from] === 32 || bytes[from] === 9)) from++;
  while (to > from && (bytes[to - 1] === 32 || bytes[to - 1] === 9)) to--;
  let i = from;
  let negative = false;
  if (bytes[i] === 45 || bytes[i] === 43) negative = bytes[i++] === 45;
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let c = bytes[i];
  while (i < to && c >= 48 && c <= 57) {
    mantissa = mantissa * 10 + (c - 48);
    digits++;
    c = bytes[++i];
  }
  if (i < to && c === 46) {
    c = bytes[++i];
    while (i < to && c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      fraction++;
      c = bytes[++i];
    }
  }
  if (digits === 0) return Number.NaN;
  if (i === to && digits <= 15) {
    const value = fraction === 0 ? mantissa : mantissa / POWERS_OF_TEN[fraction];
    return negative ? -value : value;
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
  return STRICT_NUMBER.test(text) ? Number(text) : Number.NaN;
}
