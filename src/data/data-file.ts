/**
 * Reading a data file whole (dataset files, images): one-line errors that name
 * the file and what its format needs.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';

/**
 * Reads a dataset file whole. A missing or unreadable file is an
 * {@link InputError} naming it and saying what the format needs (`needs`).
 */
export function readDataFile(file: string, needs: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${file}: expected ${needs}, found no such file`);
    if (code === 'EISDIR') throw new InputError(`${file}: expected ${needs}, found a directory`);
    throw new InputError(`${file}: expected ${needs}, found an unreadable file (${code ?? (error as Error).message})`);
  }
}

/** Gunzips the bytes of `file`; corrupt data is an {@link InputError} naming it. */
export function gunzipDataFile(file: string, bytes: Buffer): Buffer {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new InputError(`${file}: expected gzip-compressed data, found data that does not decompress (${(error as Error).message})`);
  }
}

/** Shows the start of a piece of a file in a message: `abc`, or the first 20 characters and an ellipsis. */
export function quoteFound(text: string): string {
  const short = text.length > 20 ? `${text.slice(0, 20)}…` : text;
  return `\`${short}\``;
}
