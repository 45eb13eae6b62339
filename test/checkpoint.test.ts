import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentRangeError, InputError } from '../src/errors.js';
import { refuses, refusesAsync } from './fixtures/argument-errors.js';
import { temporaryPathFor, writeFileAtomic } from '../src/io/atomic-write.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { parameterLayout, type NetShape } from '../src/kernels/two-layer.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { Random } from '../src/random.js';
import {
  CHECKPOINT_FORMAT, CHECKPOINT_VERSION, checkpointFiles, firstDifference, loadCheckpoint, saveCheckpoint,
  type CheckpointJson, type CheckpointMetaInput, type SaveCheckpointInput,
} from '../src/train/checkpoint.js';

const shape: NetShape = { inputSize: 4, hiddenSize: 3, outputSize: 2, activation: 'relu' };
const layout = parameterLayout(shape);
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const escape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

function meta(overrides: Partial<CheckpointMetaInput> = {}): CheckpointMetaInput {
  const random = new Random(7);
  random.normal(); // leaves a spare normal in the state
  return {
    iteration: 1200,
    epoch: 2,
    config: { dataset: 'mnist', batchSize: 100, learningRate: 0.1 },
    optimizer: { name: 'momentum', hyperparameters: { learningRate: 0.1, momentum: 0.9 }, step: 1200 },
    random: random.getState(),
    metrics: { trainAccuracy: 0.91, testAccuracy: 0.9 },
    createdAt: '2024-01-02T03:04:05.000Z',
    ...overrides,
  };
}

function input(): SaveCheckpointInput {
  const net = new TwoLayerNet({ ...shape, seed: 3 });
  net.params[layout.b1] = -0;
  net.params[layout.b2 + 1] = 1e-310;
  const velocity = new Float64Array(layout.size).map((_, i) => (i - 10) / 3);
  return { params: net.params, shape, optimizerState: { velocity }, meta: meta() };
}

async function saved(t: Test, name = 'run/checkpoint') {
  const dir = t.testdir();
  const stem = join(dir, name);
  const source = input();
  await saveCheckpoint(stem, source);
  return { dir, stem, source, files: checkpointFiles(stem) };
}

async function editJson(file: string, edit: (json: Record<string, unknown>) => void): Promise<void> {
  const json = JSON.parse(await readFile(file, 'utf8'));
  edit(json);
  await writeFile(file, JSON.stringify(json));
}

/** Replaces the tensor file and records its true length and hash, so only the tensors are wrong. */
async function replaceTensors(files: { json: string; safetensors: string }, bytes: Uint8Array): Promise<void> {
  await writeFile(files.safetensors, bytes);
  await editJson(files.json, (json) => {
    json.tensors = { file: 'checkpoint.safetensors', bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
  });
}

function f64(shape: number[]) {
  return { dtype: 'F64' as const, shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) };
}

t.test('round-trips parameters, optimizer state and metadata bit for bit, from the stem or either file', async (t) => {
  const { stem, source, files } = await saved(t);
  t.same(files, { json: `${stem}.json`, safetensors: `${stem}.safetensors` });
  for (const path of [stem, files.json, files.safetensors]) {
    const loaded = await loadCheckpoint(path);
    t.ok(bits(loaded.params).equals(bits(source.params)), `params from ${path}`);
    t.notOk(loaded.params.buffer instanceof SharedArrayBuffer, 'a fresh copy');
    t.same(loaded.shape, shape);
    t.same(Object.keys(loaded.optimizerState), ['velocity']);
    t.ok(bits(loaded.optimizerState.velocity).equals(bits(source.optimizerState!.velocity)), 'velocity');
    t.same(loaded.meta, source.meta);
    t.same(loaded.files, files);
  }
  const random = Random.fromState((await loadCheckpoint(stem)).meta.random);
  const expected = new Random(7);
  expected.normal();
  t.equal(random.normal(), expected.normal(), 'the random stream continues exactly');
});

t.test('writes a safetensors file numpy can read and a JSON that fingerprints it', async (t) => {
  const { dir, files, source } = await saved(t);
  const bytes = await readFile(files.safetensors);
  const json = JSON.parse(await readFile(files.json, 'utf8')) as CheckpointJson;
  t.equal(json.format, CHECKPOINT_FORMAT);
  t.equal(json.version, CHECKPOINT_VERSION);
  t.same(json.shape, shape);
  t.same(json.tensors, { file: 'checkpoint.safetensors', bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
  t.same(Object.keys(json), ['format', 'version', 'createdAt', 'shape', 'iteration', 'epoch', 'optimizer', 'random', 'config', 'metrics', 'tensors']);
  const { tensors, metadata } = decodeSafetensors(bytes);
  t.same(Object.keys(tensors), ['W1', 'b1', 'W2', 'b2', 'optimizer.velocity']);
  t.same(tensors.W1.shape, [4, 3]);
  t.same(tensors.b1.shape, [3]);
  t.same(tensors.W2.shape, [3, 2]);
  t.same(tensors.b2.shape, [2]);
  t.same(tensors['optimizer.velocity'].shape, [layout.size]);
  t.same([...tensors.W2.data], [...source.params.subarray(layout.W2, layout.b2)]);
  t.match(metadata, { format: CHECKPOINT_FORMAT, version: '1', inputSize: '4', hiddenSize: '3', outputSize: '2', activation: 'relu', iteration: '1200' });
  t.same((await readdir(join(dir, 'run'))).sort(), ['checkpoint.json', 'checkpoint.safetensors'], 'no temporary files left');
});

t.test('defaults: no optimizer state, no metrics, createdAt now, a fractional epoch, trainer state', async (t) => {
  const dir = t.testdir();
  const net = new TwoLayerNet(shape);
  const before = Date.now();
  const { metrics: _metrics, createdAt: _createdAt, ...rest } = meta();
  await saveCheckpoint(join(dir, 'c.json'), { params: net.params, shape, meta: { ...rest, epoch: 2.5, trainer: { sampler: { position: 300 } } } });
  const loaded = await loadCheckpoint(join(dir, 'c'));
  t.same(loaded.optimizerState, {});
  t.notOk('metrics' in loaded.meta);
  t.equal(loaded.meta.epoch, 2.5);
  t.same(loaded.meta.trainer, { sampler: { position: 300 } });
  t.ok(Date.parse(loaded.meta.createdAt) >= before - 1000, 'createdAt is an ISO time of now');
  t.ok(bits(loaded.params).equals(bits(net.params)));
});

t.test('saving again replaces the pair; a TwoLayerNet restored from it predicts the same', async (t) => {
  const { stem, source } = await saved(t);
  source.params[0] = 123;
  await saveCheckpoint(stem, { ...source, meta: meta({ iteration: 1300 }) });
  const loaded = await loadCheckpoint(stem);
  t.equal(loaded.params[0], 123);
  t.equal(loaded.meta.iteration, 1300);
  const a = TwoLayerNet.fromParameters(source.shape, source.params);
  const b = TwoLayerNet.fromParameters(loaded.shape, loaded.params);
  const x = [[1, 0.5, -1, 2]];
  t.same(b.predict(x), a.predict(x));
});

t.test('the readable copy is used as it was saved: another key order or save time is the same checkpoint', async (t) => {
  const { stem, files } = await saved(t);
  const text = await readFile(files.json, 'utf8');
  const json = JSON.parse(text) as Record<string, unknown>;
  // Every object's keys reversed, the save time moved: nothing the checkpoint means.
  const reversed = (value: unknown): unknown => (typeof value === 'object' && value !== null && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)])) : value);
  await writeFile(files.json, JSON.stringify({ ...(reversed(json) as object), createdAt: '2030-01-01T00:00:00.000Z' }));
  const loaded = await loadCheckpoint(stem);
  t.equal(loaded.meta.createdAt, '2030-01-01T00:00:00.000Z', 'read from the .json');
  t.equal(loaded.meta.iteration, 1200);
  t.same(loaded.meta.optimizer, meta().optimizer);
});

t.test('firstDifference names the first value that differs, by a dotted path', async (t) => {
  t.equal(firstDifference({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), undefined);
  t.same(firstDifference({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] } }), { path: '`b.c[1]`', expected: '2', got: '3' });
  t.same(firstDifference({ a: 1 }, { a: 1, z: 'x' }), { path: '`z`', expected: 'nothing', got: '"x"' });
  t.same(firstDifference({ a: [1] }, { a: { 0: 1 } }), { path: '`a`', expected: '[1]', got: '{"0":1}' });
  t.equal(firstDifference({ createdAt: 'x', tensors: 1, a: 0 }, { createdAt: 'y', tensors: 2, a: 0 }), undefined, 'the save time and fingerprint aside');
  t.same(firstDifference({ a: { createdAt: 'x' } }, { a: { createdAt: 'y' } }), { path: '`a.createdAt`', expected: '"x"', got: '"y"' }, 'only at the top');
  t.equal(firstDifference({ a: -0 }, { a: 0 }), undefined, '−0 is the 0 JSON writes');
  t.same(firstDifference({ a: 'x'.repeat(100) }, { a: 'y' }), { path: '`a`', expected: `"${'x'.repeat(59)}…`, got: '"y"' });
  // Long values that share a long start are shown from shortly before they differ.
  const dir = `csv:/home/someone/projects/${'deep/'.repeat(10)}`;
  t.same(firstDifference({ d: `${dir}train.csv` }, { d: `${dir}trian.csv` }), {
    path: '`d`', expected: `…${`"${dir}train.csv"`.slice(`"${dir}tr`.length - 10)}`, got: `…${`"${dir}trian.csv"`.slice(`"${dir}tr`.length - 10)}`,
  });
  t.same(firstDifference({ 'a\nb': 1 }, { 'a\nb': 2 }), { path: '`a\\nb`', expected: '1', got: '2' }, 'a key with a line break, on one line');
});

t.test('loading rejects defective checkpoints with an InputError naming the file', async (t) => {
  const cases: Array<[string, (f: { json: string; safetensors: string; stem: string }) => Promise<void>, (f: { json: string; safetensors: string }) => RegExp]> = [
    ['a missing tensor file', async (f) => unlink(f.safetensors),
      (f) => new RegExp(`^Invalid checkpoint \`${escape(f.json)}\`: expected its tensors in \`${escape(f.safetensors)}\` beside it, found no such file$`)],
    ['a JSON file that is not JSON', async (f) => writeFile(f.json, '{"format": '),
      (f) => new RegExp(`^Invalid checkpoint \`${escape(f.json)}\`: expected JSON, got invalid JSON \\(.+\\)$`)],
    ['not a gradpool checkpoint', async (f) => writeFile(f.json, '{"model": "resnet"}'),
      () => /: expected "format": "gradpool-checkpoint" \(a gradpool checkpoint\), got "format": nothing$/],
    ['a JSON array', async (f) => writeFile(f.json, '[]'),
      () => /: expected "format": "gradpool-checkpoint" \(a gradpool checkpoint\), got `\[\]`$/],
    ['a newer version', async (f) => editJson(f.json, (j) => { j.version = 2; }),
      () => /: expected version 1, got `2` \(written by a newer gradpool\)$/],
    ['a bad version', async (f) => editJson(f.json, (j) => { j.version = '1'; }),
      () => /: expected version 1, got `"1"`$/],
    ['a bad shape', async (f) => editJson(f.json, (j) => { j.shape = { inputSize: 4, hiddenSize: 0, outputSize: 2 }; }),
      (f) => new RegExp(`^Invalid checkpoint \`${escape(f.json)}\`: Expected \`shape.hiddenSize\` to be an integer from 1 and up, got \`0\` \\(number\\)$`)],
    ['a missing shape', async (f) => editJson(f.json, (j) => { delete j.shape; }),
      () => /: Expected `shape` to be an object, got `undefined`$/],
    ['a bad activation', async (f) => editJson(f.json, (j) => { j.shape = { ...shape, activation: 'tanh' }; }),
      () => /: Expected `shape.activation` to be one of `sigmoid`, `relu`, got `"tanh"` \(string\)$/],
    ['a bad iteration', async (f) => editJson(f.json, (j) => { j.iteration = -1; }),
      () => /: expected "iteration" to be an integer from 0 and up, got `-1`$/],
    ['a bad epoch', async (f) => editJson(f.json, (j) => { j.epoch = 'two'; }),
      () => /: expected "epoch" to be a number from 0 and up, got `"two"`$/],
    ['a bad config', async (f) => editJson(f.json, (j) => { j.config = null; }),
      () => /: expected "config" to be an object, got `null`$/],
    ['a bad optimizer', async (f) => editJson(f.json, (j) => { j.optimizer = 'sgd'; }),
      () => /: expected "optimizer" to be an object, got `"sgd"`$/],
    ['a bad optimizer name', async (f) => editJson(f.json, (j) => { j.optimizer = { hyperparameters: {}, step: 0 }; }),
      () => /: expected "optimizer.name" to be a string, got nothing$/],
    ['bad hyperparameters', async (f) => editJson(f.json, (j) => { j.optimizer = { name: 'sgd', hyperparameters: [], step: 0 }; }),
      () => /: expected "optimizer.hyperparameters" to be an object of numbers, strings and booleans, got `\[\]`$/],
    ['a hyperparameter that is an object', async (f) => editJson(f.json, (j) => { j.optimizer = { name: 'sgd', hyperparameters: { learningRate: { x: 1 } }, step: 0 }; }),
      () => /: expected "optimizer.hyperparameters.learningRate" to be a number, string, boolean or null, got `\{"x":1\}`$/],
    ['a bad optimizer step', async (f) => editJson(f.json, (j) => { j.optimizer = { name: 'sgd', hyperparameters: {}, step: 1.5 }; }),
      () => /: expected "optimizer.step" to be an integer from 0 and up, got `1.5`$/],
    ['a bad random state', async (f) => editJson(f.json, (j) => { j.random = { generator: ['a'], spareNormal: null }; }),
      () => /: expected "random.generator\[0\]" to be a 32-bit integer, got `"a"`$/],
    ['a random state of the wrong length', async (f) => editJson(f.json, (j) => { j.random = { generator: [1, 2, 3], spareNormal: null }; }),
      () => /: expected "random.generator" to be 4 32-bit integers .*, got `\[1,2,3\]`$/],
    ['a random state with a fraction', async (f) => editJson(f.json, (j) => { j.random = { generator: [1, 2, 3.5, 4], spareNormal: null }; }),
      () => /: expected "random.generator\[2\]" to be a 32-bit integer, got `3.5`$/],
    ['a bad spare normal', async (f) => editJson(f.json, (j) => { j.random = { generator: [1, 2, 3, 4], spareNormal: 'x' }; }),
      () => /: expected "random.spareNormal" to be a finite number or null, got `"x"`$/],
    ['bad metrics', async (f) => editJson(f.json, (j) => { j.metrics = 0.9; }),
      () => /: expected "metrics" to be an object, got `0.9`$/],
    ['bad trainer state', async (f) => editJson(f.json, (j) => { j.trainer = 'x'; }),
      () => /: expected "trainer" to be an object, got `"x"`$/],
    ['a missing createdAt', async (f) => editJson(f.json, (j) => { delete j.createdAt; }),
      () => /: expected "createdAt" to be a string, got nothing$/],
    ['a missing tensor reference', async (f) => editJson(f.json, (j) => { delete j.tensors; }),
      () => /: expected "tensors" to be an object, got nothing$/],
    ['a bad tensor file name', async (f) => editJson(f.json, (j) => { (j.tensors as Record<string, unknown>).file = 3; }),
      () => /: expected "tensors.file" to be a file name, got `3`$/],
    ['a bad tensor byte count', async (f) => editJson(f.json, (j) => { (j.tensors as Record<string, unknown>).bytes = -5; }),
      () => /: expected "tensors.bytes" to be an integer from 0 and up, got `-5`$/],
    ['a bad hash', async (f) => editJson(f.json, (j) => { (j.tensors as Record<string, unknown>).sha256 = 'ABC'; }),
      () => /: expected "tensors.sha256" to be 64 lowercase hex digits, got `"ABC"`$/],
    ['damaged tensor data', async (f) => {
      const bytes = await readFile(f.safetensors);
      bytes[bytes.length - 1] ^= 1;
      await writeFile(f.safetensors, bytes);
    }, (f) => new RegExp(`^Invalid checkpoint \`${escape(f.safetensors)}\`: expected tensor data with SHA-256 [0-9a-f]{12}…, got [0-9a-f]{12}… \\(the file is damaged\\)$`)],
    ['an old-style pair (no copy inside the tensors) from different saves (length)', async (f) => {
      await replaceTensors(f, encodeSafetensors({ W1: f64([4, 3]), b1: f64([3]), W2: f64([3, 2]), b2: f64([2]) }));
      await writeFile(f.safetensors, encodeSafetensors({ W1: f64([4, 3]), b1: f64([3]), W2: f64([3, 2]), b2: f64([2]), 'optimizer.v': f64([2]) }));
    }, (f) => new RegExp(`^Checkpoint \`${escape(f.json)}\` does not match \`${escape(f.safetensors)}\`: expected \\d+ bytes with SHA-256 [0-9a-f]{12}…, got \\d+ bytes \\(the files are from different saves, or one is damaged\\)$`)],
    ['an old-style pair from different saves (hash)', async (f) => {
      await replaceTensors(f, encodeSafetensors({ W1: f64([4, 3]), b1: f64([3]), W2: f64([3, 2]), b2: f64([2]) }));
      const bytes = await readFile(f.safetensors);
      bytes[bytes.length - 1] ^= 1;
      await writeFile(f.safetensors, bytes);
    }, (f) => new RegExp(`^Checkpoint \`${escape(f.json)}\` does not match \`${escape(f.safetensors)}\`: expected \\d+ bytes with SHA-256 [0-9a-f]{12}…, got SHA-256 [0-9a-f]{12}… \\(the files are from different saves, or one is damaged\\)$`)],
    ['an old-style pair without its JSON file', async (f) => {
      await replaceTensors(f, encodeSafetensors({ W1: f64([4, 3]), b1: f64([3]), W2: f64([3, 2]), b2: f64([2]) }));
      await unlink(f.json);
    }, (f) => new RegExp(`^Cannot read checkpoint \`${escape(f.json)}\`: no such file$`)],
    ['a corrupt tensor file', async (f) => replaceTensors(f, new Uint8Array(4)),
      (f) => new RegExp(`^Invalid safetensors file \`${escape(f.safetensors)}\`: expected at least 8 bytes`)],
    ['a readable copy edited since the save (its iteration)', async (f) => editJson(f.json, (j) => { j.iteration = 300; }),
      (f) => new RegExp(`^Checkpoint \`${escape(f.json)}\` does not match the checkpoint inside \`${escape(f.safetensors)}\`: expected \`iteration\` 1200, got 300 \\(the \\.json is only a readable copy: remove it to load the \\.safetensors alone\\)$`)],
    ['a readable copy edited since the save (a nested value)', async (f) => editJson(f.json, (j) => { (j.optimizer as { hyperparameters: Record<string, unknown> }).hyperparameters.learningRate = 0.5; }),
      () => /: expected `optimizer\.hyperparameters\.learningRate` 0\.1, got 0\.5 \(the \.json is only a readable copy/],
    ['a readable copy with a field added', async (f) => editJson(f.json, (j) => { j.metrics = { ...(j.metrics as object), note: 'mine' }; }),
      () => /: expected `metrics\.note` nothing, got "mine" \(/],
    ['a JSON file that is not JSON, over two lines', async (f) => writeFile(f.json, 'garbage\n'),
      (f) => new RegExp(`^Invalid checkpoint \`${escape(f.json)}\`: expected JSON, got invalid JSON \\(.*garbage\\\\n.*\\)$`)],
    ['tensor shapes disagreeing with the shape (an old-style pair, no copy inside the tensors)', async (f) => {
      await replaceTensors(f, encodeSafetensors({ W1: f64([4, 3]), b1: f64([3]), W2: f64([3, 2]), b2: f64([2]) }));
      await editJson(f.json, (j) => { j.shape = { ...shape, hiddenSize: 4 }; });
    },
      (f) => new RegExp(`^Invalid checkpoint tensors \`${escape(f.safetensors)}\`: expected tensor "W1" to be F64 with shape \\[4, 4\\] \\(the shape in \`${escape(f.json)}\`\\), got F64 with shape \\[4, 3\\]$`)],
    ['a tensor of the wrong dtype', async (f) => replaceTensors(f, encodeSafetensors({ W1: f64([4, 3]), b1: { dtype: 'F32', shape: [3], data: new Float32Array(3) }, W2: f64([3, 2]), b2: f64([2]) })),
      () => /: expected tensor "b1" to be F64 with shape \[3\] .*, got F32 with shape \[3\]$/],
    ['a missing tensor', async (f) => replaceTensors(f, encodeSafetensors({ W1: f64([4, 3]), b1: f64([3]), W2: f64([3, 2]) })),
      () => /: expected tensor "b2" to be F64 with shape \[2\] .*, got no such tensor$/],
    ['an unexpected tensor', async (f) => replaceTensors(f, encodeSafetensors({ W1: f64([4, 3]), b1: f64([3]), W2: f64([3, 2]), b2: f64([2]), W3: f64([1]) })),
      () => /: expected only W1, b1, W2, b2 and "optimizer\.\*" tensors, got a tensor named "W3"$/],
    ['an optimizer tensor that is not flat', async (f) => replaceTensors(f, encodeSafetensors({ W1: f64([4, 3]), b1: f64([3]), W2: f64([3, 2]), b2: f64([2]), 'optimizer.m': f64([2, 2]) })),
      () => /: expected tensor "optimizer\.m" to be F64 with one dimension, got F64 with shape \[2, 2\]$/],
  ];
  for (const [what, damage, message] of cases) {
    t.test(what, async (t) => {
      const { stem, files } = await saved(t);
      await damage({ ...files, stem });
      const error = await loadCheckpoint(stem).then(() => undefined, (e: unknown) => e);
      t.type(error, InputError);
      t.match((error as Error).message, message(files));
    });
  }
});

t.test('the .safetensors is the commit point: a stale or missing .json still loads the newer checkpoint', async (t) => {
  const { stem, files, dir } = await saved(t);
  const newer = input();
  newer.params[0] = 42;
  await saveCheckpoint(join(dir, 'newer'), { ...newer, meta: meta({ iteration: 1300 }) });
  // A kill between the two renames of a save: the new tensors beside the old .json.
  await writeFile(files.safetensors, await readFile(join(dir, 'newer.safetensors')));
  const loaded = await loadCheckpoint(stem);
  t.equal(loaded.meta.iteration, 1300, 'the newer save');
  t.equal(loaded.params[0], 42);
  t.same(loaded.meta.config, meta().config);
  await unlink(files.json);
  t.equal((await loadCheckpoint(stem)).meta.iteration, 1300, 'without its .json too');
  t.ok(bits((await loadCheckpoint(stem)).params).equals(bits((await loadCheckpoint(join(dir, 'newer'))).params)));
});

t.test('a directory in place of a file is an InputError', async (t) => {
  const dir = t.testdir();
  await mkdir(join(dir, 'c.safetensors'));
  await t.rejects(loadCheckpoint(join(dir, 'c')), { name: 'InputError', message: `Cannot read checkpoint tensors \`${join(dir, 'c.safetensors')}\`: it is a directory` });
});

t.test('saving rejects bad arguments as programming errors', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'c');
  const good = input();
  await refusesAsync(t, () => saveCheckpoint('', good), 'TypeError', 'Expected `path` to be a non-empty string, got `""` (string)');
  refuses(t, () => checkpointFiles(3 as never), 'TypeError', 'Expected `path` to be a non-empty string, got `3` (number)');
  await refusesAsync(t, () => saveCheckpoint(path, null as never), 'TypeError', 'Expected `checkpoint` to be an object with params, shape, optimizerState and meta, got `null`');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, shape: { ...shape, inputSize: 0 } }), 'RangeError', 'Expected `shape.inputSize` to be an integer from 1 and up, got `0` (number)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, params: [1, 2] as never }), 'TypeError', 'Expected `params` to be a Float64Array, got an array of length 2');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, params: new Float64Array(3) }), 'RangeError', `Expected \`params\` to have ${layout.size} values for 4-3-2, got 3`);
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, optimizerState: { v: [1] as never } }), 'TypeError', 'Expected `optimizerState.v` to be a Float64Array, got an array of length 1');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, optimizerState: { '': new Float64Array(1) } }), 'RangeError', 'Expected optimizer state names to be non-empty, got `""` (string)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, optimizerState: 3 as never }), 'TypeError', 'Expected `optimizerState` to be an object of Float64Arrays, got `3` (number)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: null as never }), 'TypeError', 'Expected `meta` to be an object, got `null`');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ iteration: -1 }) }), 'RangeError', 'Expected `meta.iteration` to be an integer from 0 and up, got `-1` (number)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ epoch: Number.NaN }) }), 'RangeError', 'Expected `meta.epoch` to be a finite number from 0 and up, got `NaN` (number)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ epoch: '1' as never }) }), 'TypeError', 'Expected `meta.epoch` to be a finite number from 0 and up, got `"1"` (string)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ config: 'x' as never }) }), 'TypeError', 'Expected `meta.config` to be an object, got `"x"` (string)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ optimizer: undefined as never }) }), 'TypeError', 'Expected `meta.optimizer` to be an object with name, hyperparameters and step, got `undefined`');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ optimizer: { name: '', hyperparameters: {}, step: 0 } }) }), 'TypeError', 'Expected `meta.optimizer.name` to be a non-empty string, got `""` (string)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ optimizer: { name: 'sgd', hyperparameters: null as never, step: 0 } }) }), 'TypeError', 'Expected `meta.optimizer.hyperparameters` to be an object, got `null`');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ optimizer: { name: 'sgd', hyperparameters: {}, step: -1 } }) }), 'RangeError', 'Expected `meta.optimizer.step` to be an integer from 0 and up, got `-1` (number)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ random: { generator: [1.5], spareNormal: null } }) }), 'TypeError', 'Expected `meta.random` to be a RandomState ({ generator: integers, spareNormal }), got an object (Object)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ random: { generator: [1], spareNormal: 'x' as never } }) }), 'TypeError', 'Expected `meta.random.spareNormal` to be a number or null, got `"x"` (string)');
  await t.rejects(saveCheckpoint(path, { ...good, meta: meta({ random: { generator: [1, 2], spareNormal: null } }) }), { name: 'RangeError', message: /^Expected `meta\.random` to be a state from Random#getState\(\): / });
  t.ok(await saveCheckpoint(path, { ...good, meta: meta({ random: { generator: [1, 2], spareNormal: null } }) }).catch((e: unknown) => e) instanceof ArgumentRangeError, 'a bad generator state is an ArgumentRangeError');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ metrics: [] as never }) }), 'TypeError', 'Expected `meta.metrics` to be an object or undefined, got an array of length 0');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ trainer: 1 as never }) }), 'TypeError', 'Expected `meta.trainer` to be an object or undefined, got `1` (number)');
  await refusesAsync(t, () => saveCheckpoint(path, { ...good, meta: meta({ createdAt: 5 as never }) }), 'TypeError', 'Expected `meta.createdAt` to be a string or undefined, got `5` (number)');
  await t.rejects(saveCheckpoint(path, { ...good, meta: meta({ config: { big: 1n } }) }), TypeError, 'a value JSON cannot hold');
  t.same(await readdir(dir), [], 'nothing was written');
});

t.test('writeFileAtomic replaces a file whole and cleans up on failure', async (t) => {
  const dir = t.testdir({ 'a.txt': 'old', occupied: { 'x.txt': 'x' } });
  const a = join(dir, 'a.txt');
  await writeFileAtomic(a, 'new text ✓');
  t.equal(readFileSync(a, 'utf8'), 'new text ✓');
  await writeFileAtomic(a, new Uint8Array([1, 2, 3]));
  t.same([...readFileSync(a)], [1, 2, 3]);
  await writeFileAtomic(a, Buffer.from('buffer'));
  t.equal(readFileSync(a, 'utf8'), 'buffer');

  // Renaming over a non-empty directory fails: the error surfaces and no temporary file is left.
  const occupied = join(dir, 'occupied');
  await t.rejects(writeFileAtomic(occupied, 'data'), { code: /^(EISDIR|ENOTEMPTY|EEXIST|EPERM)$/ });
  await t.rejects(writeFileAtomic(join(dir, 'missing', 'b.txt'), 'data'), { code: 'ENOENT' });
  t.same((await readdir(dir)).sort(), ['a.txt', 'occupied']);

  const temporary = temporaryPathFor(a);
  t.match(temporary, new RegExp(`^${escape(join(dir, '.a.txt.'))}${process.pid}\\.[0-9a-f]{12}\\.tmp$`));
  t.not(temporaryPathFor(a), temporary, 'random per write');
  await refusesAsync(t, () => writeFileAtomic('', 'x'), 'TypeError', 'Expected `path` to be a non-empty string, got `""` (string)');
  await refusesAsync(t, () => writeFileAtomic(a, 5 as never), 'TypeError', 'Expected `data` to be a string or a Uint8Array, got `5` (number)');
});
