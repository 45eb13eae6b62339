/**
 * Reading a data file whole (dataset files, images): one-line errors that name
 * the file and what its format needs. Callers give bounds, so that neither a
 * file's size nor what it inflates to can make the process allocate without limit.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';

/** One less than the largest Buffer Node makes, so that one byte more can still be read to detect it. */
const MAX_READ = bufferConstants.MAX_LENGTH - 1;

/** `16 MiB`, `1 GiB` for round sizes, else the exact count of bytes. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

/**
 * Reads a dataset file whole. A missing or unreadable file is an
 * {@link InputError} naming it and saying what the format needs (`needs`); so
 * is one longer than `maxBytes`, refused before it is read.
 */
export function readDataFile(file: string, needs: string, maxBytes = MAX_READ): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw new InputError(`${file}: expected ${needs}, found a directory`);
    const tooLarge = (found: string) => new InputError(`${file}: expected at most ${formatBytes(maxBytes)} (${needs}), found ${found}`);
    if (stats.size > maxBytes) throw tooLarge(`${stats.size} bytes`);
    const bytes = readUpTo(fd, stats.size, maxBytes);
    if (bytes === undefined) throw tooLarge('more');
    return bytes;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${file}: expected ${needs}, found no such file`);
    if (code === 'EISDIR') throw new InputError(`${file}: expected ${needs}, found a directory`);
    throw new InputError(`${file}: expected ${needs}, found an unreadable file (${code ?? (error as Error).message})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Everything `fd` holds, or undefined as soon as that is more than `maxBytes`.
 * The size from fstat is only a first guess: pipes and /proc files report 0,
 * /dev/zero never ends, and a file may grow while it is read.
 */
function readUpTo(fd: number, sizeHint: number, maxBytes: number): Buffer | undefined {
  const chunks: Buffer[] = [];
  let total = 0;
  // The first chunk holds a regular file whole, with a byte to spare to see its end.
  let size = Math.min(sizeHint > 0 ? sizeHint + 1 : 1 << 16, maxBytes + 1);
  for (;;) {
    const chunk = Buffer.allocUnsafe(size);
    let filled = 0;
    for (let read = 1; read > 0 && filled < chunk.length; filled += read) {
      read = readSync(fd, chunk, filled, chunk.length - filled, null);
    }
    chunks.push(chunk.subarray(0, filled));
    total += filled;
    if (total > maxBytes) return undefined;
    if (filled < chunk.length) return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
    size = Math.min(1 << 20, maxBytes + 1 - total);
  }
}

function doesNotDecompress(file: string, error: unknown): InputError {
  return new InputError(`${file}: expected gzip-compressed data, found data that does not decompress (${(error as Error).message})`);
}

const isTooLarge = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';

/**
 * Gunzips the bytes of `file`; corrupt data is an {@link InputError} naming it,
 * and so is data that inflates to more than `maxBytes`, found without inflating
 * more than that. `expected` describes the limit in that message.
 */
export function gunzipDataFile(file: string, bytes: Buffer, maxBytes = MAX_READ, expected = `gzip data that decompresses to at most ${formatBytes(maxBytes)}`): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    if (isTooLarge(error)) throw new InputError(`${file}: expected ${expected}, found more (decompression stopped there)`);
    throw doesNotDecompress(file, error);
  }
}

/** How much a look at the head of a gzip file may inflate: far more than a header needs, far less than a bomb. */
const HEAD_INFLATE_LIMIT = 1 << 16;

/**
 * The first `length` bytes that gzipped `bytes` decompress to (all of them if
 * fewer), inflating at most {@link HEAD_INFLATE_LIMIT} bytes, so that a header
 * can be checked before the rest is inflated.
 */
export function gunzipDataFileHead(file: string, bytes: Buffer, length: number): Buffer {
  // A prefix of the compressed bytes, flushed with Z_SYNC_FLUSH instead of
  // finished, inflates to what it decodes to. That grows with the prefix by a few
  // KB a byte at most, so between a prefix that gives too little and one whose
  // output passes the limit lies one that gives enough: bisect for it.
  const limit = Math.max(length, HEAD_INFLATE_LIMIT);
  const inflate = (take: number): Buffer | undefined => {
    try {
      return gunzipSync(bytes.subarray(0, take), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: limit });
    } catch (error) {
      if (isTooLarge(error)) return undefined;
      throw doesNotDecompress(file, error);
    }
  };
  let enough = Number.POSITIVE_INFINITY; // a prefix inflating to more than `limit`
  let tooLittle = 0; // a prefix inflating to fewer than `length` bytes
  let take = Math.min(bytes.length, 1024);
  for (;;) {
    const head = inflate(take);
    if (head !== undefined && head.length >= length) return head.subarray(0, length);
    // The whole stream gives fewer bytes: inflating it properly reports truncated data as such.
    if (head !== undefined && take === bytes.length) return gunzipDataFile(file, bytes, limit);
    if (head === undefined) enough = take;
    else tooLittle = take;
    if (enough - tooLittle <= 1) throw doesNotDecompress(file, new Error('no prefix inflates to its header'));
    take = enough === Number.POSITIVE_INFINITY ? Math.min(4 * take, bytes.length) : tooLittle + Math.floor((enough - tooLittle) / 2);
  }
}

/** Shows the start of a piece of a file in a message: `abc`, or the first 20 characters and an ellipsis. */
export function quoteFound(text: string): string {
  const short = text.length > 20 ? `${text.slice(0, 20)}…` : text;
  return `\`${short}\``;
}
