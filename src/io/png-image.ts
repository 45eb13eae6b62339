/** Reading a digit from a 28×28 PNG as the 784 inputs of an MNIST net. */
import { readDataFile } from '../data/data-file.js';
import { PNG } from 'pngjs';
import { InputError } from '../errors.js';

export interface DigitImage {
  /** width × height gray values in 0..1, white digit on black like MNIST. */
  pixels: Float64Array;
  /** True when the image was a dark digit on a light background and was inverted. */
  inverted: boolean;
}

/**
 * Reads a PNG as MNIST-style input: converted to gray (alpha composited onto
 * white), scaled to 0..1, and inverted when the background (the border) is light,
 * since MNIST digits are white on black.
 */
export async function readDigitPng(file: string, width = 28, height = 28): Promise<DigitImage> {
  const bytes = readDataFile(file, 'a PNG image');
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || signature.some((byte, i) => bytes[i] !== byte)) {
    throw new InputError(`${file}: expected a PNG image, found ${bytes.length === 0 ? 'an empty file' : 'no PNG signature (not a PNG file)'}`);
  }
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (error) {
    throw new InputError(`${file}: expected a PNG image, found data that does not decode (${(error as Error).message})`);
  }
  if (png.width !== width || png.height !== height) {
    throw new InputError(`${file}: expected ${width}×${height} pixels, found ${png.width}×${png.height}`);
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
