/** Reading a digit from a 28×28 PNG as the 784 inputs of an MNIST net. */
import { readDataFile } from '../data/data-file.js';
import { PNG } from 'pngjs';
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import { InputError } from '../errors.js';

export interface DigitImage {
  /** width × height gray values in 0..1, white digit on black like MNIST. */
  pixels: Float64Array;
  /** True when the image was a dark digit on a light background and was inverted. */
  inverted: boolean;
}

/** The largest PNG file read: a 28×28 digit takes a few KB, even with metadata chunks. */
export const MAX_PNG_BYTES = 16 * 2 ** 20;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** The signature (8 bytes) and the IHDR chunk (length, type, 13 bytes of data, CRC), which PNG puts first. */
const HEADER_BYTES = 33;

/**
 * Reads a PNG as MNIST-style input: converted to gray (alpha composited onto
 * white), scaled to 0..1, and inverted when the background (the border) is light,
 * since MNIST digits are white on black.
 *
 * The size in the IHDR chunk is checked before pngjs sees the file, since pngjs
 * allocates for whatever size a header declares (a 300 KB file declaring
 * 16000×16000 took 3 GB), and so is how far the image data inflates.
 */
export async function readDigitPng(file: string, width = 28, height = 28): Promise<DigitImage> {
  const bytes = readDataFile(file, 'a PNG image', MAX_PNG_BYTES);
  if (bytes.length < 8 || SIGNATURE.some((byte, i) => bytes[i] !== byte)) {
    throw new InputError(`${file}: expected a PNG image, found ${bytes.length === 0 ? 'an empty file' : 'no PNG signature (not a PNG file)'}`);
  }
  if (bytes.length < HEADER_BYTES) {
    throw new InputError(`${file}: expected a PNG image, found a truncated header (${bytes.length} bytes; the signature and IHDR chunk take ${HEADER_BYTES})`);
  }
  if (bytes.readUInt32BE(8) !== 13 || bytes.toString('latin1', 12, 16) !== 'IHDR') {
    throw new InputError(`${file}: expected a PNG image, found a corrupt header (no IHDR chunk after the signature)`);
  }
  const [foundWidth, foundHeight] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  if (foundWidth !== width || foundHeight !== height) {
    throw new InputError(`${file}: expected ${width}×${height} pixels, found ${foundWidth}×${foundHeight}`);
  }
  checkImageData(file, bytes, width, height);
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (error) {
    throw new InputError(`${file}: expected a PNG image, found data that does not decode (${(error as Error).message})`);
  }
  const pixels = new Float64Array(width * height);
  for (let i = 0; i < pixels.length; i++) {
    const [r, g, b, a] = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2], png.data[4 * i + 3] / 255];
    const gray = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    pixels[i] = gray * a + (1 - a);
  }
  let border = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1) {
        border += pixels[y * width + x];
        count++;
      }
    }
  }
  const inverted = border / count > 0.5;
  if (inverted) for (let i = 0; i < pixels.length; i++) pixels[i] = 1 - pixels[i];
  return { pixels, inverted };
}

/** Channels per pixel of each PNG color type: gray, RGB, palette, gray + alpha, RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** The 7 passes of Adam7 interlacing: first column, first row, column step, row step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/**
 * The bytes a PNG's image data inflates to, from its IHDR: each row (of each
 * interlace pass) is a filter byte and its pixels packed at the bit depth.
 * Undefined for a color type PNG does not define, left for pngjs to report.
 */
function imageDataBytes(bytes: Buffer, width: number, height: number): number | undefined {
  const [bitDepth, colorType, interlace] = [bytes[24], bytes[25], bytes[28]];
  const channels = CHANNELS[colorType];
  if (channels === undefined) return undefined;
  const rowBytes = (pixels: number) => (pixels === 0 ? 0 : 1 + Math.ceil((pixels * channels * bitDepth) / 8));
  if (interlace !== 1) return height * rowBytes(width);
  let total = 0;
  for (const [column, row, columnStep, rowStep] of ADAM7) {
    const passWidth = Math.max(0, Math.ceil((width - column) / columnStep));
    const passHeight = Math.max(0, Math.ceil((height - row) / rowStep));
    if (passWidth > 0) total += passHeight * rowBytes(passWidth);
  }
  return total;
}

/**
 * Refuses image data (the IDAT chunks) that does not inflate to exactly what the
 * header's width × height needs. pngjs inflates an interlaced image's data
 * without a bound, so a few KB could inflate to gigabytes; and it fills what a
 * short stream lacks with zeros, so a truncated image would be classified as if
 * it were whole.
 */
function checkImageData(file: string, bytes: Buffer, width: number, height: number): void {
  const data: Buffer[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') data.push(bytes.subarray(at + 8, at + 8 + length));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  // 8 bytes a pixel (16-bit RGBA), and a filter byte for each row of each of the
  // 7 interlace passes, which come to fewer than 8 × height rows.
  const most = 8 * height * (width + 1);
  let inflated: Buffer;
  try {
    // A sync flush returns what a truncated stream holds instead of throwing.
    inflated = inflateSync(Buffer.concat(data), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: most });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InputError(`${file}: expected a ${width}×${height} PNG image, found image data that decompresses to more than the ${most} bytes such an image can hold`);
    }
    throw new InputError(`${file}: expected a PNG image, found image data that does not decompress (${(error as Error).message})`);
  }
  const expected = imageDataBytes(bytes, width, height);
  if (expected !== undefined && inflated.length !== expected) {
    const truncated = inflated.length < expected ? ' (a truncated file?)' : '';
    throw new InputError(`${file}: expected a ${width}×${height} PNG image, found image data that decompresses to ${inflated.length} bytes, not the ${expected} its header declares${truncated}`);
  }
}
