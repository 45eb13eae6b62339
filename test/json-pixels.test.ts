/**
 * The fast path of the mnist loader (datasets/json-pixels.ts): the values
 * JSON.parse gives, bit for bit, or a refusal that sends the loader to JSON.parse.
 */
import t from 'tap';
import { loadMnist } from '../datasets/index.js';
import { decodePixels, locatePixelArray } from '../datasets/json-pixels.js';
import { rawDigitPixels } from './fixtures/mnist-digits.js';

const bytesOf = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Decodes `text` (a digit file) with the fast path into two parts cut at `split`; null when it gives up. */
function decode(text: string, split = 0): Float64Array | null {
  const bytes = Buffer.from(text, 'utf8');
  const located = locatePixelArray(bytes);
  if (located === null) return null;
  const out = new Float64Array(located.count);
  return decodePixels(bytes, located, out.subarray(0, split), out.subarray(split)) ? out : null;
}

t.test('loadMnist: every pixel is the double JSON.parse gives, and the splits live in shared memory', async (t) => {
  const { train, test } = loadMnist();
  const expectedTrain: number[] = [];
  const expectedTest: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const raw = rawDigitPixels(digit);
    const toTrain = Math.round(0.8 * (raw.length / 784)) * 784;
    for (let i = 0; i < raw.length; i++) (i < toTrain ? expectedTrain : expectedTest).push(raw[i]);
  }
  t.ok(bytesOf(train.x).equals(bytesOf(Float64Array.from(expectedTrain))), 'train pixels, bit for bit');
  t.ok(bytesOf(test.x).equals(bytesOf(Float64Array.from(expectedTest))), 'test pixels, bit for bit');
  for (const split of [train, test]) {
    t.ok(split.x.buffer instanceof SharedArrayBuffer && split.labels.buffer instanceof SharedArrayBuffer, 'over SharedArrayBuffers');
  }
});

t.test('the fast path decodes what JSON.parse decodes, into two parts', async (t) => {
  const texts = [
    '{"data":[0,1,0.5,0.011764705882352941,1e-3,2.5E-1,0.0,-0,1.0e0,0.30000000000000004]}',
    ' \n{ "data" :\t[ 0 , 0.25,\r\n1 ] }\n',
    '{"data":[7.8e-400,0.1234567890123456789012345]}',
  ];
  for (const text of texts) {
    const expected = Float64Array.from((JSON.parse(text) as { data: number[] }).data);
    for (const split of [0, 1, expected.length]) {
      const decoded = decode(text, split);
      t.ok(decoded !== null && bytesOf(decoded).equals(bytesOf(expected)), `${JSON.stringify(text)} cut at ${split}`);
    }
  }
  // Many distinct tokens: past the kept ones, each is decoded on its own.
  const many = Array.from({ length: 5000 }, (_, i) => i / 4999);
  const decoded = decode(JSON.stringify({ data: many }), 2500);
  t.ok(decoded !== null && bytesOf(decoded).equals(bytesOf(Float64Array.from(many))), '5,000 distinct values');
});

t.test('the fast path gives up on anything unusual, for JSON.parse to report it', async (t) => {
  for (const text of ['', '[0,1]', '{"data":[]}', '{"data":[ ]}', '{"pixels":[0]}', '{"data":[0,1],"more":1}', '{"data":[0,1]']) {
    t.equal(locatePixelArray(Buffer.from(text)), null, `no pixel array: ${JSON.stringify(text)}`);
  }
  for (const text of [
    '{"data":[0,,1]}', '{"data":[0,1,]}', '{"data":[,0]}', '{"data":[0 1]}', '{"data":[2]}', '{"data":[-0.5]}', '{"data":[0,"0"]}',
    '{"data":[0,null]}', '{"data":[.5]}', '{"data":[01]}', '{"data":[1.]}', '{"data":[+1]}', '{"data":[NaN]}', '{"data":[0,[1]]}', '{"data":[0x1]}',
    '{"data":[1e400]}', '{"data":[0,１]}',
  ]) {
    t.equal(decode(text), null, `refused: ${text}`);
    let refusedToo = true;
    try {
      const { data } = JSON.parse(text) as { data: unknown[] };
      refusedToo = !data.every((v) => typeof v === 'number' && v >= 0 && v <= 1);
    } catch {
      // invalid JSON
    }
    t.ok(refusedToo, 'which the loader refuses too (invalid JSON, or not a number from 0 to 1)');
  }
});
