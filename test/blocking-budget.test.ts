import { setImmediate as nextTurn } from 'node:timers/promises';
import t from 'tap';
import { blockingBudget, MAX_BLOCK_MILLISECONDS } from '../src/parallel/blocking-budget.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
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
