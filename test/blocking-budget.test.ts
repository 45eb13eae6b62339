import { setImmediate as nextTurn } from 'node:timers/promises';
import t from 'tap';
import { GradientPoolError, GradientTimeoutError } from '../src/errors.js';
import { blockingBudget, MAX_BLOCK_MILLISECONDS } from '../src/parallel/blocking-budget.js';
import { GradientPool, type PoolCallTimeline } from '../src/parallel/gradient-pool.js';
import { sharedClock } from '../src/parallel/serve-loop.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { THROW_ROWS } from './fixtures/loss-fault.worker.js';
import { bytesOf, serialIncremental, sharedBatch } from './fixtures/pool-batches.js';
import { sharedPools } from './fixtures/shared-pools.js';

const poolOf = sharedPools(t);

t.test('the budget: what is left of the most a thread blocks in a row, renewed once its event loop turns', async (t) => {
  await nextTurn();
  // By hand: the count starts at the first call after a turn, 10 ms from then.
  t.equal(blockingBudget(1000), 10);
  t.equal(MAX_BLOCK_MILLISECONDS, 10);
  t.equal(blockingBudget(1004), 6, 'the same turn: 4 ms of it spent');
  t.equal(blockingBudget(1012.5), -2.5, 'spent: the call must wait asynchronously');
  await nextTurn();
  t.equal(blockingBudget(5000), 10, 'after a turn, the whole budget again');
  t.equal(blockingBudget(5001), 9);
  t.equal(blockingBudget(5003, 40), 37, 'a pool\'s own cap, counted from the same start');
  await nextTurn();
});

t.test('calls back to back with nothing awaited between them still let the event loop turn: a timer fires long before they end', async (t) => {
  const batch = sharedBatch(10);
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10, seed: 3 });
  const reference = serialIncremental(net, batch);
  const pool = poolOf(2);
  // Past the workers' start-up and first compilations: calls of a few milliseconds each, as in training.
  for (let warmUp = 0; warmUp < 10; warmUp++) await pool.gradientOfBatch(net, batch);
  const calls = 60;
  let firedAfter = -1;
  let done = 0;
  setTimeout(() => {
    firedAfter = done;
  }, 0);
  let same = true;
  for (; done < calls;) {
    const gradient = await pool.gradientOfBatch(net, batch);
    same &&= bytesOf(gradient.flat).equals(bytesOf(reference));
    done++;
  }
  t.ok(same, 'every call\'s gradient is the serial kernel\'s, bit for bit');
  // Were every wait blocking, the loop would only turn after the last call: the timer would see all 60 done.
  t.ok(firedAfter >= 0 && firedAfter < calls, `the timer fired after ${firedAfter} of ${calls} calls`);
});

/** Keeps this thread busy until `milliseconds` have passed (so that a timer set before is due). */
function spin(milliseconds: number): void {
  const until = performance.now() + milliseconds;
  while (performance.now() < until);
}

/** How many of `calls` back-to-back calls had resolved when a timer, due before the first, fired (-1: not before the last). */
async function callsBeforeTimer(pool: GradientPool, net: TwoLayerNet, batch: ReturnType<typeof sharedBatch>, calls: number): Promise<number> {
  await nextTurn();
  let firedAfter = -1;
  let done = 0;
  setTimeout(() => {
    firedAfter = done;
  }, 0);
  spin(3);
  for (; done < calls; done++) await pool.gradientOfBatch(net, batch);
  return firedAfter;
}

t.test('maxBlockMilliseconds: a large cap blocks every call (no timer runs between them); 0 never blocks; a call\'s timeout still fires', async (t) => {
  const batch = sharedBatch(100);
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10, seed: 4 });
  const blocking = new GradientPool({ threads: 2, maxBlockMilliseconds: 60_000 });
  const never = new GradientPool({ threads: 2, maxBlockMilliseconds: 0 });
  t.teardown(() => Promise.all([blocking.destroy(), never.destroy()]));
  for (let warmUp = 0; warmUp < 5; warmUp++) {
    await blocking.gradientOfBatch(net, batch);
    await never.gradientOfBatch(net, batch);
  }
  t.equal(await callsBeforeTimer(blocking, net, batch, 20), -1, 'a cap of a minute: the due timer waits for the 20 calls (a few ms each) to end');
  // A call waiting asynchronously lets the due timer run while its workers compute: in the first call
  // (or, should its workers have finished before it looked, one of the next).
  const firedAfter = await callsBeforeTimer(never, net, batch, 20);
  t.ok(firedAfter >= 0 && firedAfter <= 2, `a cap of 0: the due timer fired after ${firedAfter} of 20 calls`);
  // A call returns its promise before it blocks: with another pool's call in a Promise.all, both compute at
  // once. The calls' timelines count from their own start, a moment between these readings of their clock.
  let blockingTimeline: PoolCallTimeline | undefined;
  let neverTimeline: PoolCallTimeline | undefined;
  // Both sessions serving again (the blocking pool's, idle through the calls above, may have ended; a
  // session's first call never blocks).
  for (const pool of [never, never, blocking, blocking]) await pool.gradientOfBatch(net, batch);
  await nextTurn();
  const beforeFirst = sharedClock();
  const firstCall = blocking.gradientOfBatch(net, batch, { onStatistics: ({ timeline }) => { blockingTimeline = timeline; } });
  const secondCall = never.gradientOfBatch(net, batch, { onStatistics: ({ timeline }) => { neverTimeline = timeline; } });
  const afterSecond = sharedClock();
  const [a, b] = await Promise.all([firstCall, secondCall]);
  const reference = serialIncremental(net, batch);
  t.ok(bytesOf(a.flat).equals(bytesOf(reference)) && bytesOf(b.flat).equals(bytesOf(reference)), 'both gradients are the serial kernel\'s, bit for bit');
  // Had the first call blocked before returning (a minute's cap), the second would have been posted after the first was collected.
  const secondPostedBy = afterSecond + neverTimeline!.posted;
  const firstCollectedFrom = beforeFirst + blockingTimeline!.collected;
  t.ok(secondPostedBy < firstCollectedFrom, `in a Promise.all, the second pool's call was posted (by ${(secondPostedBy - beforeFirst).toFixed(3)} ms) before the first's was collected (from ${(firstCollectedFrom - beforeFirst).toFixed(3)} ms)`);
  // Blocked with a minute's budget, a call must still wake for its own deadline: its timer has to run.
  // (Two calls first: the session, ended while the pool was idle, serves again, so the call blocks.)
  await blocking.gradientOfBatch(net, batch);
  await blocking.gradientOfBatch(net, batch);
  await t.rejects(blocking.gradientOfBatch(net, batch, { timeout: 0.2 }), GradientTimeoutError, 'a 0.2 ms timeout on a call of milliseconds rejects, blocked or not');
  // The next call starts a session on a replacement worker, which gets its task through this thread's
  // event loop: blocked for it (up to the cap, a minute), the call would run out of its 20 s.
  const after = await blocking.gradientOfBatch(net, batch, { timeout: 20_000 });
  t.ok(bytesOf(after.flat).equals(bytesOf(serialIncremental(net, batch))), 'the pool computes the same gradient after the timed-out call');
});

t.test('maxBlockMilliseconds is checked like the other options', async (t) => {
  t.throws(() => new GradientPool({ threads: 1, maxBlockMilliseconds: -1 }), { name: 'RangeError', message: 'Expected `maxBlockMilliseconds` to be an integer from 0 to 60000, got `-1` (number)' });
  t.throws(() => new GradientPool({ threads: 1, maxBlockMilliseconds: 2.5 }), { name: 'RangeError', message: 'Expected `maxBlockMilliseconds` to be an integer from 0 to 60000, got `2.5` (number)' });
  t.throws(() => new GradientPool({ threads: 1, maxBlockMilliseconds: '10' as unknown as number }), { name: 'TypeError', message: 'Expected `maxBlockMilliseconds` to be an integer from 0 to 60000, got `"10"` (string)' });
});


t.test('a worker that throws wakes a call blocked for it: the call rejects with the worker\'s error, not at its timeout', async (t) => {
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 20, outputSize: 10, seed: 6 });
  const pool = new GradientPool({ threads: 2, maxBlockMilliseconds: 60_000, workerModule: new URL('./fixtures/loss-fault.worker.ts', import.meta.url).href });
  t.teardown(() => pool.destroy());
  // THROW_ROWS rows: the fixture's loss call throws; its gradient call is the real worker's.
  const batch = net.prepare(Array.from({ length: THROW_ROWS }, (_, n) => Array.from({ length: 784 }, (_, i) => ((n * 7 + i) % 13 === 0 ? 0.5 : 0))), Array.from({ length: THROW_ROWS }, (_, n) => n % 10));
  await pool.gradientOfBatch(net, batch);
  await pool.gradientOfBatch(net, batch);
  // The loss call goes to the session serving the batch, and blocks (a minute's cap). Without the worker
  // waking it, the main thread would sleep to the 10 s deadline and the call would time out instead.
  const failed = pool.lossOfBatch(net, batch, { timeout: 10_000 });
  await t.rejects(failed, { message: /^Gradient worker failed.*the loss fixture failed on purpose/ });
  await failed.catch((error: unknown) => t.ok(error instanceof GradientPoolError && !(error instanceof GradientTimeoutError), 'a GradientPoolError, not a GradientTimeoutError'));
  t.ok(Object.is(await pool.lossOfBatch(net, net.prepare([new Array<number>(784).fill(0.25)], [3])), net.loss([new Array<number>(784).fill(0.25)], [3])), 'the pool computes a loss right after it');
});
