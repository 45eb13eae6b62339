import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { GradientAbortError, GradientPoolError, GradientTimeoutError } from '../../src/index.js';
import { TwoLayerNet } from '../../src/nets/two-layer-net.js';
import { numericalGradient } from '../../src/numerical.js';
import { GradientPool } from '../../src/parallel/gradient-pool.js';
import { MAX_RECEIVED_BUFFERS } from '../../src/parallel/protocol.js';
import { childEnv } from '../fixtures/child-env.js';
import { bytesOf, digits, serialIncremental } from '../fixtures/pool-batches.js';
import { sumOfSquares } from '../fixtures/stuck-function.js';
import { STUCK_AT_H } from '../fixtures/stuck.worker.js';

const stuckFunctions = new URL('../fixtures/stuck-function.ts', import.meta.url);
const functions = new URL('../fixtures/functions.ts', import.meta.url);
const quick = { module: stuckFunctions, exportName: 'sumOfSquares', x: [0.5, -1, 2, 0.25, 3, -2, 1, 7] };
/** Computing element 4 never ends: the second of two threads is stuck on x[4] + h. */
const spin = { module: stuckFunctions, exportName: 'spin', x: new Array<number>(8).fill(0) };
const smallNet = () => new TwoLayerNet({ inputSize: 4, hiddenSize: 3, outputSize: 2, seed: 1 });
const smallX = [[0.1, 0.2, 0.3, 0.4], [0.5, 0, 1, 0.2]];
const smallT = [1, 0];

/**
 * `promise`'s outcome (its value, or the error it rejected with); throws after
 * `milliseconds` instead: a call that hangs fails the test instead of waiting
 * for tap's timeout.
 */
async function settle<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T | Error> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${milliseconds} ms`)), milliseconds);
  });
  try {
    return await Promise.race([promise.catch((error: Error) => error), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Destroys `pool`; a failure (instead of a hang) when that takes more than 10 s, without hiding the test's own. */
async function teardown(t: Test, pool: GradientPool): Promise<void> {
  try {
    await settle(pool.destroy(), 10_000, 'destroy()');
  } catch (error) {
    t.fail((error as Error).message);
  }
}

t.test('a timeout stops a user function that never returns, naming its elements; the pool goes on, bit for bit', async (t) => {
  const pool = new GradientPool({ threads: 2 });
  const net = smallNet();
  try {
    const before = bytesOf(await pool.functionGradient(quick));
    t.ok(before.equals(bytesOf(numericalGradient(sumOfSquares, Float64Array.from(quick.x)))), 'the serial book method, before');
    const netBefore = bytesOf((await pool.numericalGradient(net, smallX, smallT)).flat);
    const started = performance.now();
    const error = await settle(pool.functionGradient({ ...spin, timeout: 1000 }), 90_000, 'the stuck call');
    const elapsed = performance.now() - started;
    t.type(error, GradientTimeoutError);
    t.type(error, GradientPoolError);
    t.match(error, {
      name: 'GradientTimeoutError',
      message: /^Gradient call timed out after 1000 ms: a worker was still computing elements 4–7 of `x` \(spin from file:\/\/\/.*\/stuck-function\.ts\), at x\[4\] \+ h$/,
      piece: /^computing elements 4–7 of `x` \(spin from file:.*\), at x\[4\] \+ h$/,
    });
    t.ok(elapsed >= 990 && elapsed < 10_000, `rejected at its deadline (after ${elapsed.toFixed(0)} ms)`);
    t.ok(bytesOf(await pool.functionGradient(quick)).equals(before), 'the next call: the same bytes');
    t.ok(bytesOf((await pool.numericalGradient(net, smallX, smallT)).flat).equals(netBefore), 'a TwoLayerNet gradient: the same bytes');
    t.ok(bytesOf((await pool.numericalGradient(net, smallX, smallT, { engine: 'naive', timeout: 60_000 })).flat)
      .equals(bytesOf(net.numericalGradient(smallX, smallT).flat)), 'the naive engine, with a timeout it meets: the serial book method');
  } finally {
    await teardown(t, pool);
  }
});

t.test('an AbortSignal stops a long call at once, its reason as the cause; the pool goes on', async (t) => {
  const pool = new GradientPool({ threads: 2 });
  try {
    // Every worker loads the module first, so that both are computing when the signal comes.
    await pool.functionGradient({ module: stuckFunctions, exportName: 'slow', x: [1, 2, 3, 4] });
    const controller = new AbortController();
    const reason = new Error('the user gave up');
    const started = performance.now();
    setTimeout(() => controller.abort(reason), 100);
    // 200 elements, 2 evaluations of 20 ms each: 4 s on two threads.
    const error = await settle(pool.functionGradient({ module: stuckFunctions, exportName: 'slow', x: new Array<number>(200).fill(1), signal: controller.signal }), 90_000, 'the long call');
    const elapsed = performance.now() - started;
    t.type(error, GradientAbortError);
    t.type(error, GradientPoolError);
    t.match(error, {
      name: 'AbortError',
      message: /^Gradient call aborted \(the user gave up\): 2 workers were still /,
      // A worker slowed by another process may not have begun its elements yet.
      piece: /^(computing elements 0–99 of `x` \(slow from .*\), at x\[\d+\] [+-] h|waiting to start); (computing elements 100–199 of `x` \(slow from .*\), at x\[\d+\] [+-] h|waiting to start)$/,
    });
    t.match((error as GradientAbortError).piece, /computing elements/, 'at least one was computing');
    t.equal((error as Error).cause, reason, 'the cause is the signal\'s reason');
    t.ok(elapsed < 3000, `rejected soon after the abort (after ${elapsed.toFixed(0)} ms, not the call's 4 s)`);
    t.same([...await pool.functionGradient({ module: functions, exportName: 'function2', x: [3, 4] })], [6.00000000000378, 7.999999999999119], 'the next call is right');
  } finally {
    await teardown(t, pool);
  }
});

t.test('an already aborted signal rejects at once, running nothing', async (t) => {
  const pool = new GradientPool({ threads: 2 });
  const net = smallNet();
  try {
    const controller = new AbortController();
    const reason = new Error('not wanted any more');
    controller.abort(reason);
    // Run, the call would never end.
    const error = await settle(pool.functionGradient({ ...spin, signal: controller.signal }), 5000, 'the aborted call');
    t.type(error, GradientAbortError);
    t.match(error, { name: 'AbortError', message: 'Gradient call aborted before it started (not wanted any more)', piece: 'none' });
    t.equal((error as Error).cause, reason);
    await t.rejects(pool.numericalGradient(net, smallX, smallT, { signal: AbortSignal.abort() }), {
      name: 'AbortError', message: 'Gradient call aborted before it started (This operation was aborted)',
    });
    t.ok(bytesOf(await pool.functionGradient(quick)).equals(bytesOf(numericalGradient(sumOfSquares, Float64Array.from(quick.x)))), 'the pool still works');
  } finally {
    await teardown(t, pool);
  }
});

t.test('destroy() resolves promptly while a call is stuck: the call rejects saying so, and so do the calls waiting behind it', async (t) => {
  const pool = new GradientPool({ threads: 2 });
  await pool.functionGradient(quick);
  const stuck = settle(pool.functionGradient(spin), 90_000, 'the stuck call');
  // Before, a call behind a stuck one waited for ever too.
  const impatient = await settle(pool.functionGradient({ ...quick, timeout: 300 }), 90_000, 'the call behind it');
  t.type(impatient, GradientTimeoutError);
  t.match(impatient, { message: 'Gradient call timed out after 300 ms while waiting for an earlier call to finish', piece: 'waiting for an earlier call' });
  const queued = settle(pool.functionGradient(quick), 90_000, 'the queued call');
  await delay(200);
  const started = performance.now();
  const destroyed = await settle(pool.destroy(), 10_000, 'destroy()');
  const elapsed = performance.now() - started;
  t.notOk(destroyed instanceof Error, 'destroy() resolves');
  t.ok(elapsed < 1500, `within about a second (${elapsed.toFixed(0)} ms)`);
  const error = await stuck;
  t.type(error, GradientAbortError);
  t.match(error, {
    name: 'AbortError',
    message: /^Gradient call aborted: the GradientPool was destroyed while a worker was still computing elements 4–7 of `x` \(spin from .*\), at x\[4\] \+ h$/,
    piece: /^computing elements 4–7/,
  });
  t.match(await queued, { name: 'AbortError', message: 'Gradient call aborted: the GradientPool was destroyed before the call started', piece: 'waiting for an earlier call' });
  await t.rejects(pool.functionGradient(quick), { message: 'This GradientPool has been destroyed; create a new one' });
});

t.test('a worker stuck in the incremental engine times out naming the base part; the next call is right', async (t) => {
  const pool = new GradientPool({ threads: 2, workerModule: new URL('../fixtures/stuck.worker.ts', import.meta.url).href });
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 4, outputSize: 10, seed: 51 });
  const batch = digits(1);
  const reference = bytesOf(serialIncremental(net, batch));
  try {
    t.ok(bytesOf((await pool.gradientOfBatch(net, batch)).flat).equals(reference), 'before: the serial kernel, bit for bit');
    const error = await settle(pool.gradientOfBatch(net, batch, { h: STUCK_AT_H, timeout: 1000 }), 90_000, 'the stuck call');
    t.type(error, GradientTimeoutError);
    // Part 1 of 8 takes 1.5/8 of each count (the parts taper): ⌊10 · 0.1875⌋ = 1 sample, ⌊785 · 0.1875⌋ = 147 of the 784 + 1 columns, ⌊4 · 0.1875⌋ = 0 units.
    const part = 'building the base, part 1 of 8 \\(samples 0–0, input columns 0–146, hidden units none\\)';
    t.match(error, {
      name: 'GradientTimeoutError',
      message: new RegExp(`^Gradient call timed out after 1000 ms: 2 workers were still (${part}; waiting for the base|waiting for the base; ${part})$`),
      piece: new RegExp(part),
    });
    t.ok(bytesOf((await pool.gradientOfBatch(net, batch)).flat).equals(reference), 'after: the serial kernel, bit for bit');
    t.ok(bytesOf((await pool.gradientOfBatch(net, batch, { timeout: 60_000 })).flat).equals(reference), 'with a timeout it meets');
  } finally {
    await teardown(t, pool);
  }
});

t.test('a process whose pool call timed out exits by itself after destroy()', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/deadline-child.ts'], { cwd: new URL('../..', import.meta.url), stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let stdout = '';
  let stderr = '';
  let printed = Number.NaN;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += String(chunk);
    if (Number.isNaN(printed)) printed = performance.now();
  });
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  let timer: NodeJS.Timeout | undefined;
  const code = await new Promise<number | string | null>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('killed after 30 s');
    }, 30_000);
    child.on('exit', (exitCode) => resolve(exitCode));
  });
  clearTimeout(timer);
  const exited = performance.now();
  t.equal(code, 0, `the process exits by itself (stderr: ${stderr.trim() || 'none'})`);
  t.match(JSON.parse(stdout || '{}'), { name: 'GradientTimeoutError', message: /^Gradient call timed out after 300 ms: a worker was still computing elements 4–7 of `x`/ });
  t.ok(exited - printed < 3000, `within seconds of the call's rejection (${(exited - printed).toFixed(0)} ms)`);
});

t.test('timeout and signal are checked as the other options are', async (t) => {
  const pool = new GradientPool({ threads: 1 });
  const net = smallNet();
  try {
    const bad: Array<[unknown, string, string]> = [
      [0, 'RangeError', '`0` (number)'], [-5, 'RangeError', '`-5` (number)'], [Number.NaN, 'RangeError', '`NaN` (number)'],
      [Number.POSITIVE_INFINITY, 'RangeError', '`Infinity` (number)'], ['100', 'TypeError', '`"100"` (string)'],
    ];
    for (const [timeout, name, got] of bad) {
      const expected = { name, message: `Expected \`timeout\` to be a finite number greater than 0, got ${got}` };
      await t.rejects(pool.functionGradient({ ...spin, timeout: timeout as number }), expected, `functionGradient, ${got}`);
      await t.rejects(pool.numericalGradient(net, smallX, smallT, { timeout: timeout as number }), expected, `numericalGradient, ${got}`);
    }
    await t.rejects(pool.functionGradient({ ...spin, signal: {} as AbortSignal }), { name: 'TypeError', message: 'Expected `signal` to be an AbortSignal, got an object (Object)' });
    await t.rejects(pool.gradientOfBatch(net, net.prepare(smallX, smallT), { signal: 'stop' as never }), { name: 'TypeError', message: 'Expected `signal` to be an AbortSignal, got `"stop"` (string)' });
  } finally {
    await teardown(t, pool);
  }
});

t.test('worker failures are GradientPoolErrors naming their piece, with their messages as before', async (t) => {
  const pool = new GradientPool({ threads: 2 });
  try {
    const thrown = await settle(pool.functionGradient({ module: functions, exportName: 'throwsAtFive', x: new Array<number>(8).fill(0) }), 90_000, 'the call');
    t.type(thrown, GradientPoolError);
    t.match(thrown, {
      name: 'GradientPoolError',
      message: /^Gradient worker failed on elements 4–7 of `x` \(throwsAtFive from .*\): boom at x\[5\]$/,
      piece: /^computing elements 4–7 of `x` \(throwsAtFive from .*\), at x\[5\] \+ h$/,
    });
    const net = new TwoLayerNet({ inputSize: 3, hiddenSize: 2, outputSize: 2, seed: 31 });
    const bad = { x: Float64Array.of(1, 0, 2, 0, 3, 1, 1, 1, 1), labels: Int32Array.of(0, 5, 1), rows: 3 };
    t.match(await settle(pool.gradientOfBatch(net, bad), 90_000, 'the call'), { name: 'GradientPoolError', piece: /^building the base, part [1-8] of 8 \(samples/ });
    t.match(await settle(pool.gradientOfBatch(net, bad, { engine: 'naive' }), 90_000, 'the call'), { name: 'GradientPoolError', piece: /^computing parameters (0–6|7–13) / });
  } finally {
    await teardown(t, pool);
  }
});

t.test('buffers go to each worker once, by id after that; one a worker no longer keeps is sent again, the same bytes', async (t) => {
  // One thread, more nets (each its own weight buffer) than a worker keeps:
  // the first net's weights are evicted, and the pool, which sent them once,
  // names them by id only; the worker says so and gets them again.
  const pool = new GradientPool({ threads: 1 });
  const nets = Array.from({ length: MAX_RECEIVED_BUFFERS + 8 }, (_, seed) => new TwoLayerNet({ inputSize: 3, hiddenSize: 2, outputSize: 2, seed }));
  const x = [[0.5, 0, -1], [1, 2, 0]];
  try {
    const batch = nets[0].prepare(x, [1, 0]);
    const first = bytesOf((await pool.gradientOfBatch(nets[0], batch)).flat);
    t.ok(first.equals(bytesOf(serialIncremental(nets[0], batch))), 'the serial kernel, bit for bit');
    for (const net of nets.slice(1)) await pool.gradientOfBatch(net, batch);
    t.ok(bytesOf((await pool.gradientOfBatch(nets[0], batch)).flat).equals(first), 'after its weights were evicted: the same bytes');
    t.ok(bytesOf((await pool.numericalGradient(nets[1], x, [1, 0], { engine: 'naive' })).flat)
      .equals(bytesOf(nets[1].numericalGradient(x, [1, 0]).flat)), 'the naive engine: the serial book method');
  } finally {
    await teardown(t, pool);
  }
});
