/**
 * The safetensors format (https://github.com/huggingface/safetensors), so that
 * Python (numpy, PyTorch, the `safetensors` package) can load gradpool weights:
 *
 *   8 bytes   N, the header length, unsigned 64-bit little-endian
 *   N bytes   UTF-8 JSON: { "name": { "dtype": "F64", "shape": [r, c],
 *             "data_offsets": [begin, end] }, …, "__metadata__": { string: string } },
 *             padded with spaces to a multiple of 8 bytes
 *   the rest  the tensors' raw little-endian bytes, contiguous, in header order;
 *             offsets count from the start of this data section
 *
 * Only the dtypes gradpool uses are supported: F64, F32 and I32.
 */
import { readFile } from 'node:fs/promises';
import { ArgumentRangeError, ArgumentTypeError, InputError } from '../errors.js';
import { describe, expectationError, invalidJson } from '../validate.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * The element types gradpool reads and writes, by their safetensors names:
 * `F64`, the precision gradpool trains and saves in, and `F32` and `I32`, for
 * tensors exchanged with other tools (PyTorch's default float is F32).
 */
export type SafetensorsDtype = 'F64' | 'F32' | 'I32';

/** Every {@link SafetensorsDtype}, for checking a dtype read from a file or given by a caller. */
export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = ['F64', 'F32', 'I32'];

/** A tensor to encode: `data` holds the elements row-major, `shape` multiplies to its length. */
export interface SafetensorsTensorInput {
  /** The element type, which `data`'s class must match (`F64`: Float64Array, `F32`: Float32Array, `I32`: Int32Array). */
  dtype: SafetensorsDtype;
  /** The dimensions, integers from 0 and up, e.g. `[784, 50]` for W1; `[]` for a scalar. */
  shape: readonly number[];
  /** The elements, row-major: as many as the product of `shape`. */
  data: Float64Array | Float32Array | Int32Array;
}

/** A decoded tensor; `dtype` tells the type of `data`. */
export type SafetensorsTensor =
  | {
    /** `F64`: `data` is a Float64Array. */
    dtype: 'F64';
    /** The dimensions, from the header. */
    shape: number[];
    /** The elements, row-major, copied into their own aligned array. */
    data: Float64Array;
  }
  | {
    /** `F32`: `data` is a Float32Array. */
    dtype: 'F32';
    /** The dimensions, from the header. */
    shape: number[];
    /** The elements, row-major, copied into their own aligned array. */
    data: Float32Array;
  }
  | {
    /** `I32`: `data` is an Int32Array. */
    dtype: 'I32';
    /** The dimensions, from the header. */
    shape: number[];
    /** The elements, row-major, copied into their own aligned array. */
    data: Int32Array;
  };

/** What {@link decodeSafetensors} and {@link readSafetensors} return: the tensors by name, and the metadata. */
export interface DecodedSafetensors {
  /** In the header's order. */
  tensors: Record<string, SafetensorsTensor>;
  /** The header's `__metadata__`, `{}` when it has none. */
  metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';
const HEADER_ALIGNMENT = 8;

type TypedArrayConstructor = Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor;
const DTYPES: Record<SafetensorsDtype, { bytes: number; array: TypedArrayConstructor }> = {
  F64: { bytes: 8, array: Float64Array },
  F32: { bytes: 4, array: Float32Array },
  I32: { bytes: 4, array: Int32Array },
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPES, value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** Sets an own property even for names such as `__proto__`. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, n) => product * n, 1);
}

/** The raw bytes of `data` in little-endian order (a view when the platform is little-endian). */
function littleEndianBytes(data: Float64Array | Float32Array | Int32Array, dtype: SafetensorsDtype): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (dtype === 'F64') view.setFloat64(i * 8, data[i], true);
    else if (dtype === 'F32') view.setFloat32(i * 4, data[i], true);
    else view.setInt32(i * 4, data[i], true);
  }
  return out;
}

/** Copies little-endian `bytes` into a new (aligned) typed array of `dtype`. */
function typedArrayFrom(bytes: Uint8Array, dtype: SafetensorsDtype): Float64Array | Float32Array | Int32Array {
  const { bytes: size, array } = DTYPES[dtype];
  const out = new array(bytes.byteLength / size);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) {
      out[i] = dtype === 'F64' ? view.getFloat64(i * 8, true) : dtype === 'F32' ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
    }
  }
  return out;
}

function validateTensorInput(name: string, tensor: unknown): SafetensorsTensorInput {
  const label = `tensors[${JSON.stringify(name)}]`;
  if (name === '' || name === METADATA_KEY) throw new ArgumentRangeError(`Expected tensor names to be non-empty and not \`${METADATA_KEY}\`, got ${describe(name)}`);
  if (!isPlainObject(tensor)) throw new ArgumentTypeError(expectationError(label, 'an object with dtype, shape and data', tensor));
  const { dtype, shape, data } = tensor;
  if (!isDtype(dtype)) throw new ArgumentTypeError(expectationError(`${label}.dtype`, `one of ${SAFETENSORS_DTYPES.map((d) => `\`${d}\``).join(', ')}`, dtype));
  if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new ArgumentTypeError(expectationError(`${label}.shape`, 'an array of integers from 0 and up', shape));
  }
  const { array } = DTYPES[dtype];
  if (!(data instanceof array)) throw new ArgumentTypeError(expectationError(`${label}.data`, `a ${array.name} (dtype ${dtype})`, data));
  const count = elementCount(shape);
  if (count !== data.length) {
    throw new ArgumentRangeError(`Expected \`${label}.data\` to have ${count} elements (shape [${shape.join(', ')}]), got ${data.length}`);
  }
  return { dtype, shape, data };
}

/**
 * Serializes tensors (in the object's key order) and optional string metadata to
 * safetensors bytes, which numpy, PyTorch and the `safetensors` package load
 * (`safetensors.numpy.load_file`). The data is copied; the inputs are not kept.
 *
 * @param tensors - The tensors by name; a name may be anything but `''` and `__metadata__`.
 * @param metadata - Strings to store in the header's `__metadata__` (e.g. the format and its version); none if left out.
 * @returns The file's bytes: the header length, the JSON header padded to 8 bytes, the data.
 * @throws {TypeError} for a tensor or metadata value of the wrong kind: ``Expected `tensors["W"].data` to be a Float32Array (dtype F32), got a Float64Array of length 2``, ``Expected `metadata["a"]` to be a string, got `1` (number)``.
 * @throws {RangeError} ``Expected `tensors["W"].data` to have 3 elements (shape [3]), got 2``, or for the name `__metadata__`.
 * @example
 * const bytes = encodeSafetensors({ W: { dtype: 'F64', shape: [2, 2], data: Float64Array.of(1, 2, 3, 4) } }, { format: 'gradpool' });
 * decodeSafetensors(bytes).tensors.W.data; // Float64Array [1, 2, 3, 4]
 */
export function encodeSafetensors(tensors: Record<string, SafetensorsTensorInput>, metadata?: Record<string, string>): Uint8Array {
  if (!isPlainObject(tensors)) throw new ArgumentTypeError(expectationError('tensors', 'an object of tensors by name', tensors));
  const entries = Object.entries(tensors).map(([name, tensor]) => [name, validateTensorInput(name, tensor)] as const);
  const headerParts: string[] = [];
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) throw new ArgumentTypeError(expectationError('metadata', 'an object of strings', metadata));
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new ArgumentTypeError(expectationError(`metadata[${JSON.stringify(key)}]`, 'a string', value));
    }
    headerParts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const [name, { dtype, shape, data }] of entries) {
    const end = offset + data.byteLength;
    headerParts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape: [...shape], data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${headerParts.join(',')}}`);
  const headerLength = Math.ceil(json.byteLength / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLength);
  let position = 8 + headerLength;
  for (const [, { dtype, data }] of entries) {
    out.set(littleEndianBytes(data, dtype), position);
    position += data.byteLength;
  }
  return out;
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function invalid(file: string, expected: string, found: string): InputError {
  return new InputError(`Invalid safetensors file \`${file}\`: expected ${expected}, got ${found}`);
}

function jsonValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return `\`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\``;
}

function parseEntry(file: string, name: string, info: unknown, dataLength: number): HeaderEntry {
  const tensor = `tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(info)) throw invalid(file, `${tensor} to be an object with dtype, shape and data_offsets`, jsonValue(info));
  const { dtype, shape, data_offsets: offsets } = info;
  if (!isDtype(dtype)) {
    throw invalid(file, `the dtype of ${tensor} to be one of ${SAFETENSORS_DTYPES.join(', ')} (the dtypes gradpool reads)`, jsonValue(dtype));
  }
  if (!Array.isArray(shape) || !shape.every((n): n is number => Number.isSafeInteger(n) && n >= 0)) {
    throw invalid(file, `the shape of ${tensor} to be an array of integers from 0 and up`, jsonValue(shape));
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((n): n is number => Number.isSafeInteger(n) && n >= 0) || offsets[0] > offsets[1]
  ) {
    throw invalid(file, `the data_offsets of ${tensor} to be [begin, end] with 0 <= begin <= end`, jsonValue(offsets));
  }
  const [begin, end] = offsets as [number, number];
  const expectedBytes = elementCount(shape) * DTYPES[dtype].bytes;
  if (end - begin !== expectedBytes) {
    throw invalid(file, `${tensor} (${dtype}, shape [${shape.join(', ')}]) to span ${expectedBytes} bytes`, `data_offsets [${begin}, ${end}] (${end - begin} bytes)`);
  }
  if (end > dataLength) {
    throw invalid(file, `the data_offsets of ${tensor} to lie within the ${dataLength} bytes of data`, `[${begin}, ${end}]`);
  }
  return { name, dtype, shape, begin, end };
}

/**
 * Parses safetensors bytes, checking the header against the data, and copies each
 * tensor into its own properly aligned typed array. Every defect is an
 * {@link InputError} naming `file`: the bytes come from outside the program,
 * and a damaged file must not be read as weights.
 *
 * @param bytes - The whole file, e.g. from `readFile`.
 * @param file - The name to give in messages.
 * @returns The tensors, in the header's order, and the metadata (`{}` when there is none).
 * @throws {TypeError} ``Expected `bytes` to be a Uint8Array, got an array of length 2``.
 * @throws {InputError} ``Invalid safetensors file `w.safetensors`: expected <what the format requires>, got <what the file has>``, e.g. ``expected at least 8 bytes (the header length), got 3 bytes``; also for a dtype other than F64, F32 and I32.
 */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentTypeError(expectationError('bytes', 'a Uint8Array', bytes));
  if (bytes.byteLength < 8) throw invalid(file, 'at least 8 bytes (the header length)', `${bytes.byteLength} bytes`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const available = bytes.byteLength - 8;
  if (headerLength > BigInt(available)) {
    // A text file (a checkpoint's .json given as its .safetensors, say) reads as an absurd length: say what it starts with.
    const start = bytes.subarray(0, Math.min(bytes.byteLength, 8));
    const isText = start.every((byte) => (byte >= 0x20 && byte < 0x7f) || byte === 0x09 || byte === 0x0a || byte === 0x0d);
    const text = isText ? ` (the file starts with the text ${JSON.stringify(new TextDecoder().decode(start))}: not a safetensors file)` : '';
    throw invalid(file, `a header length of at most ${available} bytes (the bytes after the length)`, `${headerLength}${text}`);
  }
  const headerEnd = 8 + Number(headerLength);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd));
  } catch {
    throw invalid(file, 'a UTF-8 header', 'bytes that are not UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw invalid(file, 'a JSON header', invalidJson(error));
  }
  if (!isPlainObject(header)) throw invalid(file, 'the header to be a JSON object', jsonValue(header));

  const metadata: Record<string, string> = {};
  const dataLength = bytes.byteLength - headerEnd;
  const entries: HeaderEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(info)) throw invalid(file, `${METADATA_KEY} to be an object of strings`, jsonValue(info));
      for (const [key, value] of Object.entries(info)) {
        if (typeof value !== 'string') throw invalid(file, `${METADATA_KEY}[${JSON.stringify(key)}] to be a string`, jsonValue(value));
        setOwn(metadata, key, value);
      }
    } else {
      entries.push(parseEntry(file, name, info, dataLength));
    }
  }

  // The tensors must tile the data section exactly: no overlap, no gap, nothing after.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: HeaderEntry | undefined;
  for (const entry of byOffset) {
    if (entry.begin < covered) {
      throw invalid(file, `tensor ${JSON.stringify(entry.name)} not to overlap tensor ${JSON.stringify(previous?.name)}`,
        `data_offsets [${entry.begin}, ${entry.end}] and [${previous?.begin}, ${previous?.end}]`);
    }
    if (entry.begin > covered) {
      throw invalid(file, `tensor ${JSON.stringify(entry.name)} to start at byte ${covered} of the data (tensors are contiguous)`,
        `data_offsets [${entry.begin}, ${entry.end}], leaving bytes ${covered} to ${entry.begin} unused`);
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataLength) {
    throw invalid(file, `the tensors to cover all ${dataLength} bytes of data`, `${dataLength - covered} bytes after the last tensor`);
  }

  const dataStart = headerEnd;
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const { name, dtype, shape, begin, end } of entries) {
    const data = typedArrayFrom(bytes.subarray(dataStart + begin, dataStart + end), dtype);
    setOwn(tensors, name, { dtype, shape, data } as SafetensorsTensor);
  }
  return { tensors, metadata };
}

/**
 * Reads and decodes a safetensors file, such as the `model.safetensors` of a
 * run directory or one written by Python.
 *
 * @param path - The file.
 * @returns The tensors, in the header's order, and the metadata, as {@link decodeSafetensors}.
 * @throws {InputError} ``Cannot read safetensors file `w.safetensors`: no such file`` (or `it is a directory`, or the system's message), and every defect {@link decodeSafetensors} reports.
 */
export async function readSafetensors(path: string): Promise<DecodedSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new InputError(`Cannot read safetensors file \`${path}\`: ${reason}`);
  }
  return decodeSafetensors(bytes, path);
}

/**
 * Encodes and writes a safetensors file atomically (a temporary file, flushed,
 * then renamed over `path`), so that a reader, or a run killed midway, never
 * sees half a file.
 *
 * @param path - The file to create or replace; its directory must exist.
 * @param tensors - The tensors by name, as for {@link encodeSafetensors}.
 * @param metadata - Strings for the header's `__metadata__`; none if left out.
 * @returns Resolves once the file is in place and flushed to disk.
 * @throws {TypeError} or RangeError for bad tensors, as {@link encodeSafetensors}, as a rejection.
 * @throws {Error} the file system's error (`ENOENT`, `ENOSPC`, `EACCES`, …) if the file cannot be written; the target is then untouched.
 */
export async function writeSafetensors(path: string, tensors: Record<string, SafetensorsTensorInput>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
