import t from 'tap';
import { GradientPool } from '../src/parallel/gradient-pool.js';
import { DIE_AT_H } from './fixtures/dying.worker.js';
import { numericalGradient } from '../src/numerical.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { bytesOf, digits, serialIncremental } from './fixtures/pool-batches.js';
import { refuses, refusesAsync } from './fixtures/argument-errors.js';
import { sharedPools } from './fixtures/shared-pools.js';

const poolOf = sharedPools(t);

const functions = new URL('./fixtures/functions.ts', import.meta.url);

t.test('a user function from a module: the book\'s function_2', async (t) => {
  const pool = poolOf(2);
  for (const point of [[3, 4], [0, 2], [3, 0]]) {
    const grad = await pool.functionGradient({ module: functions, exportName: 'function2', x: point });
    const serial = numericalGradient((x) => x[0] ** 2 + x[1] ** 2, Float64Array.from(point));
    t.same([...grad], [...serial], `at ${point}`);
  }
  t.same([...(await pool.functionGradient({ module: functions, exportName: 'function2', x: [3, 4] }))], [6.00000000000378, 7.999999999999119], 'the book\'s values');
  const weights = [1, 2, 3, 4, 5, 6, 7];
  const x = [0.5, -1, 2, 0.25, 3, -2, 1];
  const grad = await pool.functionGradient({ module: functions, exportName: 'weightedSquares', x, context: { weights } });
  grad.forEach((g, i) => t.ok(Math.abs(g - 2 * weights[i] * x[i]) < 1e-6, `d/dx${i} = 2·w·x by hand`));
});

t.test('a failing task rejects with the failing range, the pool stays usable', async (t) => {
  const pool = poolOf(2);
  await t.rejects(
    pool.functionGradient({ module: functions, exportName: 'throwsAtFive', x: new Array(8).fill(0) }),
    { message: /^Gradient worker failed on elements 4–7 of `x` \(throwsAtFive from .*\): boom at x\[5\]$/ },
  );
  await t.rejects(pool.functionGradient({ module: functions, exportName: 'returnsNaN', x: [1] }), { message: /Expected `returnsNaN` to return a finite number, got `NaN` \(number\) at x\[0\] \+ h/ });
  await t.rejects(pool.functionGradient({ module: functions, exportName: 'notAFunction', x: [1] }), { message: /Expected `notAFunction` exported by .* to be a function, got `42` \(number\)/ });
  const grad = await pool.functionGradient({ module: functions, exportName: 'function2', x: [3, 4] });
  t.same([...grad], [6.00000000000378, 7.999999999999119], 'still usable afterwards');
});

t.test('a net with a non-finite weight is refused before any worker runs, naming the weight', async (t) => {
  const pool = poolOf(2);
  const net = new TwoLayerNet({ inputSize: 3, hiddenSize: 2, outputSize: 2, activation: 'relu', seed: 1 });
  net.b1[1] = Number.POSITIVE_INFINITY;
  for (const engine of ['incremental', 'naive'] as const) {
    await refusesAsync(t, () => pool.numericalGradient(net, [[1, 0, 2]], [1], { engine }), 'RangeError',
      "Expected the net's parameters to be finite, got `Infinity` at b1[1] (did training diverge? try a smaller learning rate)");
  }
});

t.test('a worker that exits rejects the call instead of hanging; the pool recovers', async (t) => {
  const pool = new GradientPool({ threads: 2 });
  const net = new TwoLayerNet({ inputSize: 4, hiddenSize: 3, outputSize: 2, seed: 1 });
  const before = net.params.slice();
  try {
    await t.rejects(pool.functionGradient({ module: functions, exportName: 'exitsWorker', x: [1, 2, 3, 4] }), { message: /^Gradient worker failed on elements/ });
    const grad = await pool.numericalGradient(net, [[0.1, 0.2, 0.3, 0.4]], [1]);
    t.equal(grad.flat.length, net.params.length, 'a later call works');
    t.ok(bytesOf(net.params).equals(bytesOf(before)), 'weights untouched');
  } finally {
    await pool.destroy();
  }
});

t.test('a worker that dies holding a base part: the others stop waiting, the call rejects, the pool recovers', async (t) => {
  const pool = new GradientPool({ threads: 2, workerModule: new URL('./fixtures/dying.worker.ts', import.meta.url).href });
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 4, outputSize: 10, seed: 51 });
  const batch = digits(1);
  const before = net.params.slice();
  try {
    // A hang would be the bug: fail after 60 s instead of waiting for tap's timeout.
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('the call hung')), 60_000); });
    await t.rejects(Promise.race([pool.gradientOfBatch(net, batch, { h: DIE_AT_H }), hang]), { message: /^Gradient worker failed: .*exit.*3/i });
    clearTimeout(timer);
    t.ok(bytesOf(net.params).equals(bytesOf(before)), 'weights untouched');
    const grad = await pool.gradientOfBatch(net, batch);
    t.ok(bytesOf(grad.flat).equals(bytesOf(serialIncremental(net, batch))), 'the next call is right');
  } finally {
    await pool.destroy();
  }
});

t.test('bad arguments', async (t) => {
  refuses(t, () => new GradientPool({ threads: 0 }), 'RangeError', 'Expected `threads` to be an integer from 1 to 64, got `0` (number)');
  refuses(t, () => new GradientPool({ threads: 1.5 }), 'RangeError', 'Expected `threads` to be an integer from 1 to 64, got `1.5` (number)');
  refuses(t, () => new GradientPool({ threads: 1, workerModule: './w.js' }), 'TypeError', 'Expected `workerModule` to be a URL string, got `"./w.js"` (string)');
  const pool = new GradientPool({ threads: 1 });
  const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 2, outputSize: 2 });
  await refusesAsync(t, () => pool.numericalGradient(net, [[1, 2]], [0], { engine: 'fast' as never }), 'RangeError', "Expected `engine` to be one of `naive`, `incremental`, got `\"fast\"` (string)");
  await refusesAsync(t, () => pool.numericalGradient(net, [[1, 2]], [0], { h: 0 }), 'RangeError', 'Expected `h` to be a finite number greater than 0, got `0` (number)');
  await refusesAsync(t, () => pool.numericalGradient(net, [[1, 2]], [0], { signal: 'stop' as never }), 'TypeError', 'Expected `signal` to be an AbortSignal, got `"stop"` (string)');
  await refusesAsync(t, () => pool.numericalGradient(net, [[1, 2]], [0], { out: new Float64Array(3) }), 'RangeError', 'Expected `out` to be a Float64Array of 12 values (one per parameter), got a Float64Array of length 3');
  const batch = net.prepare([[1, 2]], [0]);
  // A TwoLayerNet whose params were swapped for plain memory (its own are always shared).
  const unshared = new TwoLayerNet({ inputSize: 2, hiddenSize: 2, outputSize: 2 });
  Object.defineProperty(unshared, 'params', { value: new Float64Array(12) });
  await refusesAsync(t, () => pool.gradientOfBatch(unshared, batch), 'TypeError', 'Expected `net.params` to live in a SharedArrayBuffer, got an object (ArrayBuffer)');
  await refusesAsync(t, () => pool.gradientOfBatch({ ...net } as never, batch), 'TypeError', 'Expected `net` to be a TwoLayerNet, got an object (Object)');
  await refusesAsync(t, () => pool.functionGradient({ module: './relative.js', x: [1] }), 'TypeError', 'Expected `module` to be a URL (e.g. new URL(\'./f.js\', import.meta.url)), got `"./relative.js"` (string)');
  await refusesAsync(t, () => pool.functionGradient({ module: functions, exportName: '', x: [1] }), 'TypeError', 'Expected `exportName` to be a non-empty string, got `""` (string)');
  await refusesAsync(t, () => pool.functionGradient(undefined as never), 'TypeError', 'Expected `options` to be an object such as { module, exportName, x }, got `undefined`');
  const missing = new URL('./no-such-module.mjs', functions);
  await refusesAsync(t, () => pool.functionGradient({ module: missing, x: [1] }), 'RangeError', `Expected \`module\` to be a module file, got \`${missing.href}\`: no such file`);
  await refusesAsync(t, () => pool.functionGradient({ module: functions, x: [] }), 'RangeError', 'Expected `x.length` to be an integer from 1 and up, got `0` (number)');
  await refusesAsync(t, () => pool.functionGradient({ module: functions, x: [Number.NaN] }), 'RangeError', 'Expected `x` to contain only finite numbers, got `NaN` at index 0');
  await pool.destroy();
  await t.rejects(pool.numericalGradient(net, [[1, 2]], [0]), { message: 'This GradientPool has been destroyed; create a new one' });
  await pool.destroy();
});

t.test('new GradientPool refuses options that are not an object, and unknown keys, before starting a thread', async (t) => {
  refuses(t, () => new GradientPool(null as never), 'TypeError', 'Expected `options` to be an object such as { threads: 4 }, got `null`');
  refuses(t, () => new GradientPool(4 as never), 'TypeError', 'Expected `options` to be an object such as { threads: 4 }, got `4` (number)');
  refuses(t, () => new GradientPool([2] as never), 'TypeError', 'Expected `options` to be an object such as { threads: 4 }, got an array of length 1');
  refuses(t, () => new GradientPool({ thread: 2 } as never), 'RangeError', 'Expected `options` of GradientPool to have only the keys `threads`, `workerModule`, `maxBlockMilliseconds`, got the key `thread`');
  const pool = new GradientPool({ threads: 1, workerModule: undefined });
  t.equal(pool.threads, 1, 'a known key left undefined is fine');
  await pool.destroy();
});

