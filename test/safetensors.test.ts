import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors, type SafetensorsTensorInput } from '../src/io/safetensors.js';
import { refuses } from './fixtures/argument-errors.js';

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** A safetensors file from a raw header (object or text, padded here) and raw data bytes. */
function build(header: unknown, data: Uint8Array | number[] = [], { pad = true, declaredLength }: { pad?: boolean; declaredLength?: bigint } = {}): Uint8Array {
  let json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  if (pad && json.length % 8 !== 0) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  return new Uint8Array(Buffer.concat([length, json, Buffer.from(data)]));
}

/** Doubles with awkward bit patterns: −0, subnormals, infinities, a NaN with a payload. */
function awkwardDoubles(): Float64Array {
  const values = new Float64Array([0, -0, 1, -2.5, Math.PI, Number.MIN_VALUE, -Number.MAX_VALUE, Infinity, -Infinity, 1e-310, 0.1, 0]);
  new DataView(values.buffer).setBigUint64(11 * 8, 0x7ff8dead_beef0001n, true); // NaN with a payload
  return values;
}

function expectInputError(t: Test, fn: () => unknown, pattern: RegExp): void {
  t.throws(fn, InputError);
  t.throws(fn, pattern);
}

t.test('round-trips F64, F32 and I32 tensors bit for bit, with metadata, in order', async (t) => {
  const f64 = awkwardDoubles();
  const f32 = new Float32Array([1.5, -0, Number.NaN, 3.4e38, 1e-45, -7]);
  const i32 = new Int32Array([0, -1, 2147483647, -2147483648]);
  const tensors: Record<string, SafetensorsTensorInput> = {
    weights: { dtype: 'F64', shape: [3, 4], data: f64 },
    half: { dtype: 'F32', shape: [2, 3], data: f32 },
    labels: { dtype: 'I32', shape: [4], data: i32 },
    scalar: { dtype: 'F64', shape: [], data: new Float64Array([42]) },
    empty: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
  };
  const encoded = encodeSafetensors(tensors, { format: 'gradpool', note: 'ünïcödé ✓' });
  const headerLength = Number(Buffer.from(encoded).readBigUInt64LE(0));
  t.equal(headerLength % 8, 0, 'the header is padded to a multiple of 8');
  const decoded = decodeSafetensors(encoded);
  t.same(Object.keys(decoded.tensors), Object.keys(tensors));
  t.same(decoded.metadata, { format: 'gradpool', note: 'ünïcödé ✓' });
  for (const [name, tensor] of Object.entries(tensors)) {
    const got = decoded.tensors[name];
    t.equal(got.dtype, tensor.dtype, `${name} dtype`);
    t.same(got.shape, tensor.shape, `${name} shape`);
    t.equal(got.data.constructor, tensor.data.constructor, `${name} type`);
    t.ok(bytesOf(got.data).equals(bytesOf(tensor.data)), `${name} bits`);
    t.equal(got.data.byteOffset, 0, `${name} has its own aligned buffer`);
  }
  t.same(decodeSafetensors(encodeSafetensors({})), { tensors: {}, metadata: {} }, 'no tensors, no metadata');
});

t.test('reads tensors from a buffer at an odd offset and from a SharedArrayBuffer', async (t) => {
  const shared = new Float64Array(new SharedArrayBuffer(6 * 8)).fill(0.25);
  const encoded = encodeSafetensors({ x: { dtype: 'F64', shape: [2, 2], data: shared.subarray(1, 5) } });
  const shifted = new Uint8Array(encoded.byteLength + 3);
  shifted.set(encoded, 3);
  const { tensors } = decodeSafetensors(shifted.subarray(3));
  t.same([...tensors.x.data], [0.25, 0.25, 0.25, 0.25]);
});

t.test('writes the byte layout of the format exactly (1×2 F64, computed by hand)', async (t) => {
  const encoded = encodeSafetensors({ x: { dtype: 'F64', shape: [1, 2], data: new Float64Array([1, -2]) } });
  const header = '{"x":{"dtype":"F64","shape":[1,2],"data_offsets":[0,16]}}'; // 57 bytes
  t.equal(header.length, 57);
  const expected = [
    64, 0, 0, 0, 0, 0, 0, 0, // N = 64, u64 little-endian (57 padded to a multiple of 8)
    ...Buffer.from(header, 'ascii'), 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, // 7 spaces
    0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // 1.0 as a little-endian IEEE 754 double
    0, 0, 0, 0, 0, 0, 0x00, 0xc0, // -2.0
  ];
  t.same([...encoded], expected);
  t.same(decodeSafetensors(new Uint8Array(expected)).tensors.x, { dtype: 'F64', shape: [1, 2], data: new Float64Array([1, -2]) });
});

t.test('interoperates with Python: numpy reads what gradpool writes, and the reverse', async (t) => {
  const dir = t.testdir();
  const written = join(dir, 'from-gradpool.safetensors');
  const matrix = new Float64Array([0.1, -0.2, 0.3, 1e-300, -0, 5e10]);
  await writeSafetensors(written, {
    W: { dtype: 'F64', shape: [2, 3], data: matrix },
    v: { dtype: 'F32', shape: [2], data: new Float32Array([1.25, -3]) },
    n: { dtype: 'I32', shape: [3], data: new Int32Array([7, -8, 9]) },
  }, { source: 'gradpool' });
  const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (numpy.status !== 0) {
    // No Python with numpy here: check the file against the format with an independent parse.
    t.comment('python3 with numpy is not available; checking the layout by hand instead');
    const bytes = await readFile(written);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    t.same(header.W, { dtype: 'F64', shape: [2, 3], data_offsets: [0, 48] });
    const start = 8 + n + header.W.data_offsets[0];
    t.same(Array.from({ length: 6 }, (_, i) => bytes.readDoubleLE(start + 8 * i)), [...matrix]);
    return;
  }
  const script = String.raw`
import json, sys
import numpy as np
DT = {"F64": "<f8", "F32": "<f4", "I32": "<i4"}
def load(path):
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=DT[v["dtype"]]).reshape(v["shape"]) for k, v in header.items()}, meta
tensors, meta = load(sys.argv[1])
assert meta == {"source": "gradpool"}, meta
expected = np.array([[0.1, -0.2, 0.3], [1e-300, -0.0, 5e10]])
assert tensors["W"].shape == (2, 3) and tensors["W"].dtype == np.float64
assert tensors["W"].tobytes() == expected.tobytes(), tensors["W"]
assert tensors["v"].tolist() == [1.25, -3.0] and tensors["v"].dtype == np.float32
assert tensors["n"].tolist() == [7, -8, 9] and tensors["n"].dtype == np.int32
# And the other way: a file written by Python, read by gradpool.
out = {"A": np.arange(6, dtype="<f8").reshape(3, 2) / 7, "b": np.array([-1.5, 2.5], dtype="<f4")}
header, offset, blobs = {"__metadata__": {"by": "numpy"}}, 0, []
for name, a in out.items():
    blob = a.tobytes()
    header[name] = {"dtype": {"float64": "F64", "float32": "F32"}[str(a.dtype)], "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
    offset += len(blob)
    blobs.append(blob)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(sys.argv[2], "wb").write(len(text).to_bytes(8, "little") + text + b"".join(blobs))
print("ok")
`;
  const fromPython = join(dir, 'from-numpy.safetensors');
  const run = spawnSync('python3', ['-c', script, written, fromPython], { encoding: 'utf8' });
  t.equal(run.stderr, '', 'no Python errors');
  t.equal(run.stdout.trim(), 'ok');
  const { tensors, metadata } = await readSafetensors(fromPython);
  t.same(metadata, { by: 'numpy' });
  t.same(tensors.A.shape, [3, 2]);
  t.same([...tensors.A.data], [0, 1, 2, 3, 4, 5].map((i) => i / 7));
  t.same(tensors.b, { dtype: 'F32', shape: [2], data: new Float32Array([-1.5, 2.5]) });
});

t.test('rejects defective files with an InputError naming the file, the expectation and what was found', async (t) => {
  const x = { dtype: 'F64', shape: [1, 2], data_offsets: [0, 16] };
  const sixteen = new Array(16).fill(0);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['fewer than 8 bytes', new Uint8Array(5), /^Invalid safetensors file `f\.safetensors`: expected at least 8 bytes \(the header length\), got 5 bytes$/],
    ['a header length beyond the file', build({ x }, sixteen, { declaredLength: 1000n }), /expected a header length of at most 80 bytes \(the bytes after the length\), got 1000$/],
    ['a header length beyond 2^53', build({ x }, sixteen, { declaredLength: 2n ** 63n }), /expected a header length of at most 80 bytes .*, got 9223372036854775808$/],
    // 17 bytes whose first 8, '{\n  "for', read as a length far beyond the 9 after them.
    ['a JSON text file', new TextEncoder().encode('{\n  "format": 1}\n'), /expected a header length of at most 9 bytes \(the bytes after the length\), got \d+ \(the file starts with the text "\{\\n {2}\\"for": not a safetensors file\)$/],
    ['a header that is not UTF-8', new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xff, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20]), /expected a UTF-8 header, got bytes that are not UTF-8$/],
    ['a header that is not JSON', build('{"x": {', sixteen), /expected a JSON header, got invalid JSON \(.+\)$/],
    ['a header that is not an object', build('[1, 2]'), /expected the header to be a JSON object, got `\[1,2\]`$/],
    ['metadata that is not an object', build({ __metadata__: 'v1' }), /expected __metadata__ to be an object of strings, got `"v1"`$/],
    ['metadata that is not a string', build({ __metadata__: { epoch: 3 } }), /expected __metadata__\["epoch"\] to be a string, got `3`$/],
    ['a tensor entry that is not an object', build({ x: [1, 2] }), /expected tensor "x" to be an object with dtype, shape and data_offsets, got `\[1,2\]`$/],
    ['an unknown dtype', build({ x: { ...x, dtype: 'BF16' } }, sixteen), /expected the dtype of tensor "x" to be one of F64, F32, I32 \(the dtypes gradpool reads\), got `"BF16"`$/],
    ['a missing dtype', build({ x: { shape: [1], data_offsets: [0, 8] } }, sixteen), /expected the dtype of tensor "x" .*, got nothing$/],
    ['a bad shape', build({ x: { ...x, shape: [1, -2] } }, sixteen), /expected the shape of tensor "x" to be an array of integers from 0 and up, got `\[1,-2\]`$/],
    ['bad data_offsets', build({ x: { ...x, data_offsets: [16, 0] } }, sixteen), /expected the data_offsets of tensor "x" to be \[begin, end\] with 0 <= begin <= end, got `\[16,0\]`$/],
    ['offsets disagreeing with shape × dtype', build({ x: { ...x, data_offsets: [0, 8] } }, new Array(8).fill(0)), /expected tensor "x" \(F64, shape \[1, 2\]\) to span 16 bytes, got data_offsets \[0, 8\] \(8 bytes\)$/],
    ['offsets beyond the data', build({ x: { ...x, data_offsets: [8, 24] } }, sixteen), /expected the data_offsets of tensor "x" to lie within the 16 bytes of data, got \[8, 24\]$/],
    ['overlapping tensors', build({ a: { ...x }, b: { dtype: 'F64', shape: [1], data_offsets: [8, 16] } }, sixteen), /expected tensor "b" not to overlap tensor "a", got data_offsets \[8, 16\] and \[0, 16\]$/],
    ['a gap between tensors', build({ a: { dtype: 'F64', shape: [1], data_offsets: [8, 16] } }, sixteen), /expected tensor "a" to start at byte 0 of the data \(tensors are contiguous\), got data_offsets \[8, 16\], leaving bytes 0 to 8 unused$/],
    ['bytes after the last tensor', build({ x }, new Array(24).fill(0)), /expected the tensors to cover all 24 bytes of data, got 8 bytes after the last tensor$/],
  ];
  for (const [what, bytes, pattern] of cases) {
    t.test(what, async (t) => expectInputError(t, () => decodeSafetensors(bytes, 'f.safetensors'), pattern));
  }
});

t.test('names `<buffer>` when no file is given, and reading a missing file or a directory is an InputError', async (t) => {
  t.throws(() => decodeSafetensors(new Uint8Array(3)), /^Invalid safetensors file `<buffer>`: /);
  t.throws(() => decodeSafetensors([1, 2, 3] as unknown as Uint8Array), TypeError);
  const dir = t.testdir({ 'bad.safetensors': 'not safetensors at all' });
  await t.rejects(readSafetensors(join(dir, 'missing.safetensors')), { name: 'InputError', message: `Cannot read safetensors file \`${join(dir, 'missing.safetensors')}\`: no such file` });
  await t.rejects(readSafetensors(dir), { name: 'InputError', message: `Cannot read safetensors file \`${dir}\`: it is a directory` });
  await t.rejects(readSafetensors(join(dir, 'bad.safetensors')), { name: 'InputError', message: new RegExp(`^Invalid safetensors file \`${join(dir, 'bad.safetensors').replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}\`: expected a header length`) });
});

t.test('a tensor named __proto__ is an ordinary tensor', async (t) => {
  const bytes = build(`{"__proto__":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, [1, 0, 0, 0]);
  const { tensors } = decodeSafetensors(bytes);
  t.ok(Object.hasOwn(tensors, '__proto__'));
  t.equal(Object.getPrototypeOf(tensors), Object.prototype);
  t.same([...Object.getOwnPropertyDescriptor(tensors, '__proto__')?.value.data], [1]);
  const again = decodeSafetensors(encodeSafetensors(tensors));
  t.ok(Object.hasOwn(again.tensors, '__proto__'), 'and encodes back');
});

t.test('encoding rejects bad tensors as programming errors (ArgumentTypeError/ArgumentRangeError)', async (t) => {
  const f64 = new Float64Array(2);
  refuses(t, () => encodeSafetensors(null as never), 'TypeError', 'Expected `tensors` to be an object of tensors by name, got `null`');
  refuses(t, () => encodeSafetensors({ '': { dtype: 'F64', shape: [2], data: f64 } }), 'RangeError', 'Expected tensor names to be non-empty and not `__metadata__`, got `""` (string)');
  refuses(t, () => encodeSafetensors({ __metadata__: { dtype: 'F64', shape: [2], data: f64 } }), 'RangeError', 'Expected tensor names to be non-empty and not `__metadata__`, got `"__metadata__"` (string)');
  refuses(t, () => encodeSafetensors({ x: 3 as never }), 'TypeError', 'Expected `tensors["x"]` to be an object with dtype, shape and data, got `3` (number)');
  refuses(t, () => encodeSafetensors({ x: { dtype: 'F16' as never, shape: [2], data: f64 } }), 'TypeError', 'Expected `tensors["x"].dtype` to be one of `F64`, `F32`, `I32`, got `"F16"` (string)');
  refuses(t, () => encodeSafetensors({ x: { dtype: 'F64', shape: [2.5], data: f64 } }), 'TypeError', 'Expected `tensors["x"].shape` to be an array of integers from 0 and up, got an array of length 1');
  refuses(t, () => encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: f64 } }), 'TypeError', 'Expected `tensors["x"].data` to be a Float32Array (dtype F32), got a Float64Array of length 2');
  refuses(t, () => encodeSafetensors({ x: { dtype: 'F64', shape: [3], data: f64 } }), 'RangeError', 'Expected `tensors["x"].data` to have 3 elements (shape [3]), got 2');
  refuses(t, () => encodeSafetensors({}, [] as never), 'TypeError', 'Expected `metadata` to be an object of strings, got an array of length 0');
  refuses(t, () => encodeSafetensors({}, { epoch: 3 } as never), 'TypeError', 'Expected `metadata["epoch"]` to be a string, got `3` (number)');
  refuses(t, () => decodeSafetensors([1, 2, 3] as unknown as Uint8Array), 'TypeError', 'Expected `bytes` to be a Uint8Array, got an array of length 3');
});

t.test('writeSafetensors leaves no temporary file behind', async (t) => {
  const dir = t.testdir();
  await writeSafetensors(join(dir, 'a.safetensors'), { x: { dtype: 'I32', shape: [1], data: new Int32Array([5]) } });
  await writeFile(join(dir, 'keep.txt'), '');
  const { readdir } = await import('node:fs/promises');
  t.same((await readdir(dir)).sort(), ['a.safetensors', 'keep.txt']);
});
