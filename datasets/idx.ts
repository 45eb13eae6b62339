/** Loading MNIST-format IDX files (plain or .gz): full MNIST, Fashion-MNIST, KMNIST. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import type { Dataset, Split } from '../src/data/dataset.js';
import { formatBytes, gunzipDataFile, gunzipDataFileHead, readDataFile } from '../src/data/data-file.js';
import { classesOf } from './split-per-label.js';

/** Magic number of an IDX file of unsigned bytes with 3 dimensions (images × rows × columns). */
export const IDX_IMAGES_MAGIC = 2051;
/** Magic number of an IDX file of unsigned bytes with 1 dimension (labels). */
export const IDX_LABELS_MAGIC = 2049;

/**
 * The largest IDX file `loadIdx` reads, once decompressed: EMNIST ByClass's
 * 550 MB of training images fit; as Float64 pixels they take 8 times as much.
 */
export const MAX_IDX_BYTES = 2 ** 30;

/** The four files `loadIdx` reads, without the optional `.gz`. */
export const IDX_FILES = {
  /** The training images: magic 2051, count × rows × columns bytes. */
  trainImages: 'train-images-idx3-ubyte',
  /** The training labels: magic 2049, one byte per image. */
  trainLabels: 'train-labels-idx1-ubyte',
  /** The test images (MNIST's name for them starts with `t10k`). */
  testImages: 't10k-images-idx3-ubyte',
  /** The test labels. */
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const NEEDS = `the four MNIST-format IDX files ${Object.values(IDX_FILES).join(', ')} (each plain or .gz)`;

/** Pixel byte → 0..1, computed once. */
const PIXEL = Float64Array.from({ length: 256 }, (_, v) => v / 255);

interface IdxImages { file: string; count: number; height: number; width: number; pixels: Uint8Array }

/**
 * An MNIST-format dataset from the IDX files in `dir`:
 * `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`
 * and `t10k-labels-idx1-ubyte`, each plain or gzipped with a `.gz` suffix (the
 * plain file wins if both exist). Works for MNIST (60,000/10,000), Fashion-MNIST
 * and KMNIST as distributed.
 *
 * Checks magic numbers (2051 images, 2049 labels, big-endian), that the image
 * sizes of train and test agree, that each labels file has one label per image,
 * and that every file is exactly as long as its header says (neither truncated
 * nor followed by trailing bytes), before anything is allocated for it: a gzip
 * file is inflated only as far as its header allows, and no file may exceed
 * 1 GiB once decompressed (EMNIST ByClass's 550 MB of training images fit).
 * Pixels are scaled to 0..1 (byte / 255); `inputSize` is rows × columns,
 * `classes` the largest label + 1 (at least 2). Rows keep the files' order.
 * Synchronous; every problem is an {@link InputError}.
 *
 * @param dir - The directory holding the four files.
 * @returns The dataset `idx:<dir>`.
 * @throws {InputError} ``<file>: expected <what the format requires>, found <what the file has>``, e.g. ``data/train-images-idx3-ubyte: expected magic number 2051 (IDX images), found 2049 …`` or ``data: expected a directory with the four MNIST-format IDX files …, found no such directory``.
 * @example
 * // After downloading MNIST's four .gz files into data/mnist:
 * const mnist = loadIdx('data/mnist'); // 60,000 train and 10,000 test rows of 784 pixels
 */
export function loadIdx(dir: string): Dataset {
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    throw new InputError(`${dir}: expected a directory with ${NEEDS}, found no such directory`);
  }
  if (!isDirectory) throw new InputError(`${dir}: expected a directory with ${NEEDS}, found a file`);

  const trainImages = readImages(locate(dir, IDX_FILES.trainImages));
  const testImages = readImages(locate(dir, IDX_FILES.testImages));
  if (testImages.height !== trainImages.height || testImages.width !== trainImages.width) {
    throw new InputError(`${testImages.file}: expected ${trainImages.height}×${trainImages.width} images like ${trainImages.file}, found ${testImages.height}×${testImages.width}`);
  }
  const trainLabels = readLabels(locate(dir, IDX_FILES.trainLabels), trainImages);
  const testLabels = readLabels(locate(dir, IDX_FILES.testLabels), testImages);
  return {
    name: `idx:${dir}`,
    inputSize: trainImages.height * trainImages.width,
    classes: classesOf(trainLabels, testLabels),
    train: toSplit(trainImages, trainLabels),
    test: toSplit(testImages, testLabels),
  };
}

/** `dir/name` if it exists, else `dir/name.gz`; an InputError naming both if neither does. */
function locate(dir: string, name: string): string {
  const plain = join(dir, name);
  if (existsSync(plain)) return plain;
  const gz = `${plain}.gz`;
  if (existsSync(gz)) return gz;
  throw new InputError(`${plain}: expected this file or ${name}.gz (idx:DIR needs ${NEEDS}), found neither`);
}

/** The length an IDX header declares for its whole file, and how it came to it. */
interface Declared { bytes: bigint; what: string }

/**
 * The bytes of an IDX file, gunzipped if its name ends in `.gz`, exactly as long
 * as `declare` finds its header (at least `headerBytes`) says. A gzip file is
 * inflated only as far as its header first, then only as far as it declares:
 * a small file that would inflate to gigabytes is refused without inflating it.
 */
function readIdxBytes(file: string, magic: number, kind: string, headerBytes: number, declare: (header: Buffer) => Declared): Buffer {
  const stored = readDataFile(file, `an IDX file (idx:DIR needs ${NEEDS})`, MAX_IDX_BYTES);
  const gzipped = file.endsWith('.gz');
  const header = gzipped ? gunzipDataFileHead(file, stored, headerBytes) : stored;
  checkHeader(file, header, magic, kind, headerBytes);
  const { bytes: expected, what } = declare(header);
  let bytes = stored;
  if (gzipped) {
    if (expected > BigInt(MAX_IDX_BYTES)) {
      throw new InputError(`${file}: expected at most ${formatBytes(MAX_IDX_BYTES)} once decompressed (the largest IDX file gradpool reads), found a header declaring ${expected} bytes (${what})`);
    }
    bytes = gunzipDataFile(file, stored, Number(expected), `${expected} bytes (${what}) once decompressed`);
  }
  checkLength(file, bytes, expected, what);
  return bytes;
}

function checkHeader(file: string, bytes: Buffer, magic: number, kind: string, headerBytes: number): void {
  if (bytes.length < 4) throw new InputError(`${file}: expected an IDX file of at least ${headerBytes} bytes (its header), found ${bytes.length} (truncated)`);
  const found = bytes.readUInt32BE(0);
  if (found !== magic) {
    const what = found === IDX_IMAGES_MAGIC ? ' (IDX images)'
      : found === IDX_LABELS_MAGIC ? ' (IDX labels)'
        : bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (gzip data: give the file a .gz suffix)' : '';
    throw new InputError(`${file}: expected magic number ${magic} (IDX ${kind}), found ${found}${what}`);
  }
  if (bytes.length < headerBytes) throw new InputError(`${file}: expected an IDX ${kind} header of ${headerBytes} bytes, found ${bytes.length} bytes (truncated)`);
}

// Lengths are BigInts: count × rows × columns of three 32-bit fields can pass 2^53, where numbers round.
function checkLength(file: string, bytes: Buffer, expected: bigint, what: string): void {
  const found = BigInt(bytes.length);
  if (found < expected) {
    throw new InputError(`${file}: expected ${expected} bytes (${what}), found ${found} (truncated)`);
  }
  if (found > expected) {
    throw new InputError(`${file}: expected ${expected} bytes (${what}), found ${found} (${found - expected} trailing bytes)`);
  }
}

function readImages(file: string): IdxImages {
  let count = 0;
  let height = 0;
  let width = 0;
  const bytes = readIdxBytes(file, IDX_IMAGES_MAGIC, 'images', 16, (header) => {
    count = header.readUInt32BE(4);
    height = header.readUInt32BE(8);
    width = header.readUInt32BE(12);
    if (count === 0) throw new InputError(`${file}: expected at least 1 image, found 0`);
    if (height === 0 || width === 0) throw new InputError(`${file}: expected images of at least 1×1 pixels, found ${height}×${width}`);
    return { bytes: 16n + BigInt(count) * BigInt(height) * BigInt(width), what: `16-byte header + ${count} images of ${height}×${width}` };
  });
  return { file, count, height, width, pixels: bytes.subarray(16) };
}

function readLabels(file: string, images: IdxImages): Int32Array {
  const bytes = readIdxBytes(file, IDX_LABELS_MAGIC, 'labels', 8, (header) => {
    const count = header.readUInt32BE(4);
    if (count !== images.count) {
      throw new InputError(`${file}: expected ${images.count} labels (one per image in ${images.file}), found ${count}`);
    }
    return { bytes: 8n + BigInt(count), what: `8-byte header + ${count} labels` };
  });
  return Int32Array.from(bytes.subarray(8));
}

function toSplit(images: IdxImages, labels: Int32Array): Split {
  const { pixels } = images;
  const x = new Float64Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = PIXEL[pixels[i]];
  return { x, labels, rows: images.count };
}
