/**
 * Hostile inputs whose headers claim more than the file holds: a PNG declaring
 * 16000×16000, IDX headers declaring billions of images, gzip bombs, a CSV line
 * of ten million cells. Each must be refused by a one-line InputError before
 * anything is allocated for the claimed size, so the tests also watch the
 * process's peak memory. Memory-watching tests come first, before the CSV tests
 * build their 10–20 MB files.
 */
import t, { type Test } from 'tap';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createDeflate, createGzip, crc32, deflateSync, gzipSync, type Deflate, type Gzip } from 'node:zlib';
import { loadCsv, loadIdx } from '../datasets/index.js';
import { main } from '../src/cli/main.js';
import { InputError } from '../src/errors.js';
import { readDigitPng } from '../src/io/png-image.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { Random } from '../src/random.js';
import { saveCheckpoint } from '../src/train/checkpoint.js';

const MiB = 2 ** 20;
/** How much the peak RSS may rise while a hostile file is refused. */
const RSS_SLACK = 50 * MiB;

/**
 * Runs `fn` and returns how far the process's peak RSS rose above its RSS
 * before the call: the peak (ru_maxrss) catches a large buffer even if the
 * garbage collector has freed it by the time `fn` returns.
 */
async function peakGrowth(fn: () => unknown): Promise<number> {
  const before = process.memoryUsage().rss;
  await fn();
  return process.resourceUsage().maxRSS * 1024 - before;
}

/** The message of the InputError `fn` throws; a failure if it throws something else or nothing. */
async function inputErrorOf(t: Test, fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (error) {
    t.ok(error instanceof InputError, `an InputError (got ${(error as Error).name}: ${(error as Error).message.slice(0, 200)})`);
    return (error as Error).message;
  }
  t.fail('expected an InputError');
  return '';
}

/** Refusing the file with `fn` must give `message`, quickly and without the peak RSS jumping. */
async function refusedCheaply(t: Test, fn: () => unknown, message: string): Promise<void> {
  let found = '';
  const start = performance.now();
  const growth = await peakGrowth(async () => { found = await inputErrorOf(t, fn); });
  const elapsed = performance.now() - start;
  t.equal(found, message);
  t.ok(growth < RSS_SLACK, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB (< ${RSS_SLACK / MiB} MiB)`);
  t.ok(elapsed < 1000, `refused in ${elapsed.toFixed(0)} ms (< 1 s)`);
}

/** `prefix`, then `zeros` zero bytes, compressed by `stream` 1 MiB at a time: a bomb without a bomb-sized buffer. */
async function compressZeros(stream: Gzip | Deflate, prefix: Buffer, zeros: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  stream.on('data', (part: Buffer) => parts.push(part));
  const done = new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject));
  const block = Buffer.alloc(MiB);
  stream.write(prefix);
  for (let left = zeros; left > 0; left -= block.length) {
    if (!stream.write(left >= block.length ? block : block.subarray(0, left))) await new Promise((resolve) => stream.once('drain', resolve));
  }
  stream.end();
  await done;
  return Buffer.concat(parts);
}

function uint32s(...values: number[]): Buffer {
  const bytes = Buffer.alloc(4 * values.length);
  values.forEach((value, i) => bytes.writeUInt32BE(value, 4 * i));
  return bytes;
}

/** Runs the CLI in-process as test/cli.test.ts does. */
async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _encoding, done) { append(String(chunk)); done(); } });
  const io = { stdout: sink(() => {}), stderr: Object.assign(sink((s) => { stderr += s; }), { isTTY: false }) as unknown as NodeJS.WriteStream };
  const code = await main(argv, io);
  return { code, stderr };
}

/** Exit code 2 and exactly `message` on one line, no stack trace. */
function usageError(t: Test, result: { code: number; stderr: string }, message: string): void {
  t.equal(result.code, 2, 'exit code 2');
  t.equal(result.stderr, `${message}\n`);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

// ---------------------------------------------------------------- PNG

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  return Buffer.concat([uint32s(data.length), typed, uint32s(crc32(typed))]);
}

/** A gray PNG whose IHDR (with a valid CRC) declares `width`×`height`, whatever `idat` holds. */
function png(width: number, height: number, idat: Buffer, interlace = 0, bitDepth = 8): Buffer {
  const ihdr = Buffer.concat([uint32s(width, height), Buffer.from([bitDepth, 0, 0, 0, interlace])]);
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A 16000×16000 PNG of under 100 bytes: its IDAT holds only the first row. */
const HUGE_PNG = png(16000, 16000, deflateSync(Buffer.alloc(16001)));

t.test('png: an IHDR declaring 16000×16000 is refused from the header, without decoding', async (t) => {
  const file = join(t.testdir({ 'huge.png': HUGE_PNG }), 'huge.png');
  await refusedCheaply(t, () => readDigitPng(file), `${file}: expected 28×28 pixels, found 16000×16000`);
});

t.test('png: a truncated or corrupt header is a one-line InputError', async (t) => {
  const dir = t.testdir({
    'short.png': HUGE_PNG.subarray(0, 20),
    'no-ihdr.png': Buffer.concat([PNG_SIGNATURE, pngChunk('IDAT', deflateSync(Buffer.alloc(29))), HUGE_PNG.subarray(8)]),
  });
  t.equal(await inputErrorOf(t, () => readDigitPng(join(dir, 'short.png'))),
    `${join(dir, 'short.png')}: expected a PNG image, found a truncated header (20 bytes; the signature and IHDR chunk take 33)`);
  t.equal(await inputErrorOf(t, () => readDigitPng(join(dir, 'no-ihdr.png'))),
    `${join(dir, 'no-ihdr.png')}: expected a PNG image, found a corrupt header (no IHDR chunk after the signature)`);
});

t.test('png: a 28×28 interlaced PNG whose image data inflates to 64 MiB is refused without inflating it', async (t) => {
  // pngjs inflates an interlaced image's data without a bound.
  const bomb = png(28, 28, await compressZeros(createDeflate(), Buffer.alloc(0), 64 * MiB), 1);
  const file = join(t.testdir({ 'bomb.png': bomb }), 'bomb.png');
  await refusedCheaply(t, () => readDigitPng(file), `${file}: expected a 28×28 PNG image, found image data that decompresses to more than the 6496 bytes such an image can hold`);
});

/** A 28×28 digit-like gray image, black border: value (0..255) at column x, row y. */
const gray = (x: number, y: number) => (x === 0 || y === 0 || x === 27 || y === 27 ? 0 : (9 * x + 5 * y) % 256);

/** Rows of 8-bit gray pixels, each after a filter byte of 0 (none), for the pixels at columns `xs` and rows `ys`. */
function rawRows(xs: number[], ys: number[]): number[] {
  return ys.flatMap((y) => [0, ...xs.map((x) => gray(x, y))]);
}

const range = (from: number, to: number, step: number) => Array.from({ length: Math.max(0, Math.ceil((to - from) / step)) }, (_, k) => from + k * step);
const ALL = range(0, 28, 1);
/** The same image's data as Adam7 lays it out: 7 passes, each a sub-image of its own rows. */
const INTERLACED = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]]
  .flatMap(([x, y, xStep, yStep]) => rawRows(range(x, 28, xStep), range(y, 28, yStep)));
/** A 1-bit image (pixels black or white, 8 to a byte, first pixel in the high bit): a white 10×10 square. */
const ONE_BIT = ALL.flatMap((y) => [0, ...range(0, 28, 8).map((x0) => {
  let byte = 0;
  for (let bit = 0; bit < 8; bit++) byte |= (x0 + bit >= 9 && x0 + bit < 19 && y >= 9 && y < 19 ? 1 : 0) << (7 - bit);
  return byte;
})]);

t.test('png: whole images read pixel for pixel; image data cut short (a truncated or damaged file) is refused, not filled with zeros', async (t) => {
  const plain = rawRows(ALL, ALL);
  // 28 rows of a filter byte and 28 pixels; Adam7's passes (4×4, 3×4, 7×3, 7×7, 14×7, 14×14, 28×14 pixels) add a filter byte a row: 837; 1 bit a pixel: 28 rows of 1 + 4 bytes.
  t.same([plain.length, INTERLACED.length, ONE_BIT.length], [812, 837, 140]);
  const cases = [
    { name: 'plain', file: png(28, 28, deflateSync(Buffer.from(plain))), expect: (x: number, y: number) => gray(x, y) / 255 },
    { name: 'interlaced', file: png(28, 28, deflateSync(Buffer.from(INTERLACED)), 1), expect: (x: number, y: number) => gray(x, y) / 255 },
    { name: '1-bit', file: png(28, 28, deflateSync(Buffer.from(ONE_BIT)), 0, 1), expect: (x: number, y: number) => (x >= 9 && x < 19 && y >= 9 && y < 19 ? 1 : 0) },
  ];
  for (const { name, file, expect } of cases) {
    const dir = t.testdir({ 'whole.png': file });
    const image = await readDigitPng(join(dir, 'whole.png'));
    const worst = Math.max(...ALL.flatMap((y) => ALL.map((x) => Math.abs(image.pixels[28 * y + x] - expect(x, y)))));
    t.ok(worst < 1e-12, `${name}: every pixel as written (worst difference ${worst})`);
    t.equal(image.inverted, false, `${name}: dark background, not inverted`);
  }
  const halves = [
    { name: 'plain', file: png(28, 28, deflateSync(Buffer.from(plain.slice(0, 406)))), found: 406, declared: 812 },
    { name: 'interlaced', file: png(28, 28, deflateSync(Buffer.from(INTERLACED.slice(0, 400))), 1), found: 400, declared: 837 },
    { name: '1-bit', file: png(28, 28, deflateSync(Buffer.from(ONE_BIT.slice(0, 70))), 0, 1), found: 70, declared: 140 },
  ];
  for (const { name, file, found, declared } of halves) {
    const path = join(t.testdir({ 'half.png': file }), 'half.png');
    t.equal(await inputErrorOf(t, () => readDigitPng(path)),
      `${path}: expected a 28×28 PNG image, found image data that decompresses to ${found} bytes, not the ${declared} its header declares (a truncated file?)`, `${name}: half the rows`);
  }
  const longer = join(t.testdir({ 'long.png': png(28, 28, deflateSync(Buffer.from([...plain, 0, 1, 2]))) }), 'long.png');
  t.equal(await inputErrorOf(t, () => readDigitPng(longer)),
    `${longer}: expected a 28×28 PNG image, found image data that decompresses to 815 bytes, not the 812 its header declares`);
  // The file cut 100 bytes into its image data: the deflate stream stops part way.
  const whole = png(28, 28, deflateSync(Buffer.from(plain)));
  const cut = join(t.testdir({ 'cut.png': whole.subarray(0, 33 + 8 + 100) }), 'cut.png');
  t.match(await inputErrorOf(t, () => readDigitPng(cut)), new RegExp(`^${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected a 28×28 PNG image, found image data that decompresses to \\d+ bytes, not the 812 its header declares \\(a truncated file\\?\\)$`));
  const garbled = join(t.testdir({ 'garbled.png': png(28, 28, Buffer.from('not deflate data at all')) }), 'garbled.png');
  t.match(await inputErrorOf(t, () => readDigitPng(garbled)), new RegExp(`: expected a PNG image, found image data that does not decompress \\(.+\\)$`));
});

t.test('png: a file larger than 16 MiB is refused before it is read', async (t) => {
  const file = join(t.testdir({ 'long.png': png(28, 28, deflateSync(Buffer.alloc(28 * 29))) }), 'long.png');
  truncateSync(file, 16 * MiB + 1); // sparse: no disk space used
  await refusedCheaply(t, () => readDigitPng(file), `${file}: expected at most 16 MiB (a PNG image), found 16777217 bytes`);
});

t.test('png: an endless file (/dev/zero) is refused after 16 MiB, not read until memory runs out', { skip: process.platform !== 'linux' && 'Linux /dev/zero only' }, async (t) => {
  await refusedCheaply(t, () => readDigitPng('/dev/zero'), '/dev/zero: expected at most 16 MiB (a PNG image), found more');
});

t.test('cli: predict --image with a 16000×16000 PNG exits 2 with one line', async (t) => {
  const dir = t.testdir({ 'huge.png': HUGE_PNG });
  const shape = { inputSize: 784, hiddenSize: 2, outputSize: 10, activation: 'sigmoid' as const };
  await saveCheckpoint(join(dir, 'model'), {
    params: new TwoLayerNet(shape).params,
    shape,
    meta: { iteration: 0, epoch: 0, config: { dataset: 'mnist' }, optimizer: { name: 'sgd', hyperparameters: { learningRate: 0.1 }, step: 0 }, random: new Random(1).getState() },
  });
  const file = join(dir, 'huge.png');
  const start = performance.now();
  const result = await run(['predict', '--model', join(dir, 'model.json'), '--image', file]);
  const elapsed = performance.now() - start;
  usageError(t, result, `gradpool predict: ${file}: expected 28×28 pixels, found 16000×16000`);
  t.ok(elapsed < 3000, `refused in ${elapsed.toFixed(0)} ms, model loading included (< 3 s)`);
});

// ---------------------------------------------------------------- IDX

const imagesHeader = (count: number, height: number, width: number) => uint32s(2051, count, height, width);
const labelsHeader = (count: number) => uint32s(2049, count);

/** A small valid IDX directory (3 train and 2 test images of 2×3), with `overrides` replacing or removing files. */
function idxFiles(overrides: Record<string, Buffer | undefined> = {}): Record<string, Buffer> {
  const files: Record<string, Buffer | undefined> = {
    'train-images-idx3-ubyte': Buffer.concat([imagesHeader(3, 2, 3), Buffer.alloc(18, 7)]),
    'train-labels-idx1-ubyte': Buffer.concat([labelsHeader(3), Buffer.from([0, 1, 2])]),
    't10k-images-idx3-ubyte': Buffer.concat([imagesHeader(2, 2, 3), Buffer.alloc(12, 9)]),
    't10k-labels-idx1-ubyte': Buffer.concat([labelsHeader(2), Buffer.from([1, 0])]),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(files).filter((entry): entry is [string, Buffer] => entry[1] !== undefined));
}

t.test('idx: a gzip file declaring 3 images of 2×3 that inflates to 100 MB is refused without inflating it', async (t) => {
  const images = await compressZeros(createGzip(), Buffer.concat([imagesHeader(3, 2, 3), Buffer.alloc(18)]), 100e6);
  t.ok(images.length < 200_000, `the bomb is small (${images.length} bytes)`);
  const labels = await compressZeros(createGzip(), Buffer.concat([labelsHeader(3), Buffer.from([0, 1, 2])]), 100e6);
  const root = t.testdir({
    images: idxFiles({ 'train-images-idx3-ubyte': undefined, 'train-images-idx3-ubyte.gz': images }),
    labels: idxFiles({ 'train-labels-idx1-ubyte': undefined, 'train-labels-idx1-ubyte.gz': labels }),
  });
  const dir = join(root, 'images');
  const file = join(dir, 'train-images-idx3-ubyte.gz');
  await refusedCheaply(t, () => loadIdx(dir), `${file}: expected 34 bytes (16-byte header + 3 images of 2×3) once decompressed, found more (decompression stopped there)`);

  const labelsDir = join(root, 'labels');
  const labelsFile = join(labelsDir, 'train-labels-idx1-ubyte.gz');
  await refusedCheaply(t, () => loadIdx(labelsDir), `${labelsFile}: expected 11 bytes (8-byte header + 3 labels) once decompressed, found more (decompression stopped there)`);

  const cli = await run(['train', '--dataset', `idx:${dir}`, '--threads', '1', '--quiet', '--out', join(root, 'run')]);
  usageError(t, cli, `gradpool train: ${file}: expected 34 bytes (16-byte header + 3 images of 2×3) once decompressed, found more (decompression stopped there)`);
});

t.test('idx: a header declaring 1e9 images of 28×28 in a 1 KB file is refused before allocating', async (t) => {
  const huge = Buffer.concat([imagesHeader(1e9, 28, 28), Buffer.alloc(1008)]);
  const root = t.testdir({
    plain: idxFiles({ 'train-images-idx3-ubyte': huge }),
    gzipped: idxFiles({ 'train-images-idx3-ubyte': undefined, 'train-images-idx3-ubyte.gz': gzipSync(huge) }),
  });
  const plain = join(root, 'plain');
  const plainFile = join(plain, 'train-images-idx3-ubyte');
  await refusedCheaply(t, () => loadIdx(plain), `${plainFile}: expected 784000000016 bytes (16-byte header + 1000000000 images of 28×28), found 1024 (truncated)`);

  const gzipped = join(root, 'gzipped');
  const gzFile = join(gzipped, 'train-images-idx3-ubyte.gz');
  await refusedCheaply(t, () => loadIdx(gzipped),
    `${gzFile}: expected at most 1 GiB once decompressed (the largest IDX file gradpool reads), found a header declaring 784000000016 bytes (16-byte header + 1000000000 images of 28×28)`);
});

t.test('idx: a count × rows × columns product beyond 2^53 is refused with its exact size', async (t) => {
  const most = 2 ** 32 - 1;
  const dir = t.testdir(idxFiles({ 't10k-images-idx3-ubyte': Buffer.concat([imagesHeader(most, most, most), Buffer.alloc(1008)]) }));
  const exact = 16n + BigInt(most) ** 3n;
  t.equal(await inputErrorOf(t, () => loadIdx(dir)),
    `${join(dir, 't10k-images-idx3-ubyte')}: expected ${exact} bytes (16-byte header + ${most} images of ${most}×${most}), found 1024 (truncated)`);
});

t.test('idx: a gzip header with a long file name still loads (the IDX header lies past the first compressed KB)', (t) => {
  const plain = idxFiles();
  const named = (bytes: Buffer) => {
    const gz = gzipSync(bytes);
    const flags = Buffer.from(gz.subarray(0, 10));
    flags[3] |= 0x08; // FNAME: a zero-terminated name follows the 10-byte header
    return Buffer.concat([flags, Buffer.alloc(3000, 'n'), Buffer.from([0]), gz.subarray(10)]);
  };
  const dir = t.testdir(idxFiles({ 'train-images-idx3-ubyte': undefined, 'train-images-idx3-ubyte.gz': named(plain['train-images-idx3-ubyte']) }));
  const dataset = loadIdx(dir);
  t.same([dataset.train.rows, dataset.test.rows, dataset.inputSize], [3, 2, 6]);
  t.equal(dataset.train.x[0], 7 / 255);
  t.end();
});

// ---------------------------------------------------------------- CSV

t.test('csv: a file larger than 1 GiB is refused before it is read', async (t) => {
  const file = join(t.testdir({ 'big.csv': '1,2,3\n' }), 'big.csv');
  truncateSync(file, 2 ** 30 + 1); // sparse: no disk space used
  await refusedCheaply(t, () => loadCsv(file),
    `${file}: expected at most 1 GiB (a CSV file with one sample per line: label, then pixel values from 0 to 255), found 1073741825 bytes`);
});

t.test('csv: a line of ten million cells is refused before arrays are sized by it', async (t) => {
  const line = Buffer.alloc(1 + 2 * 1e7 + 1);
  line[0] = 0x31; // label 1, then ten million `,0`
  line.fill(',0', 1, line.length - 1);
  line[line.length - 1] = 0x0a;
  const file = join(t.testdir({ 'wide.csv': line }), 'wide.csv');
  t.equal(await inputErrorOf(t, () => loadCsv(file)), `${file} line 1: expected at most 1000000 pixels after the label, found 10000000`);
  usageError(t, await run(['train', '--dataset', `csv:${file}`, '--threads', '1', '--quiet', '--out', join(file, '..', 'run')]),
    `gradpool train: ${file} line 1: expected at most 1000000 pixels after the label, found 10000000`);
});

t.test('csv: blank lines do not size the arrays (ten 1000-cell lines and ten million newlines)', (t) => {
  const row = (label: number) => `${label}${',5'.repeat(999)}\n`;
  const text = Array.from({ length: 10 }, (_, i) => row(i % 2)).join('') + '\n'.repeat(1e7);
  const file = join(t.testdir({ 'blank.csv': text }), 'blank.csv');
  const dataset = loadCsv(file);
  t.same([dataset.inputSize, dataset.train.rows, dataset.test.rows, dataset.classes], [999, 8, 2, 2]);
  t.equal(dataset.train.x[0], 5 / 255);
  t.end();
});
