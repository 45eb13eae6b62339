import { setTimeout as delay } from 'node:timers/promises';
import { workerStart } from '../src/parallel/worker-loader.js';
import { Worker } from 'node:worker_threads';
import t, { type Test } from 'tap';
import {
  DONE, FINISHED, FINISHED_AT, GENERATION, PARTICIPANTS, POSTED_AT, SLOT_DONE, STOP, type ServeTask, callMoments, controlBytes, pollMilliseconds, sharedClock, slotTimes,
} from '../src/parallel/serve-loop.js';

const stub = new URL('./fixtures/serve-stub.mjs', import.meta.url);
const stubSource = new URL('./fixtures/serve-stub.ts', import.meta.url).href;

t.test('the poll after a call: as long as set when the gap before it was no longer, for the last worker, or for any when each has a core', async (t) => {
  // By hand, a poll of 0.5 ms.
  t.equal(pollMilliseconds(0.2, 0.5, true, false), 0.5, 'the last worker, a short gap: polls');
  t.equal(pollMilliseconds(0.2, 0.5, false, false), 0, 'an earlier one, more threads than cores: sleeps');
  t.equal(pollMilliseconds(0.2, 0.5, false, true), 0.5, 'an earlier one, a core each: polls');
  t.equal(pollMilliseconds(0.5, 0.5, false, true), 0.5, 'a gap as long as the poll: polls');
  t.equal(pollMilliseconds(0.51, 0.5, true, true), 0, 'a longer gap: sleeps, last or not');
  t.equal(pollMilliseconds(Number.POSITIVE_INFINITY, 0.5, true, true), 0, 'no gap known (a session\'s first call): sleeps');
  t.equal(pollMilliseconds(0.1, 0, true, true), 0, 'no poll set: sleeps');
});

t.test('the call\'s moments sit after the slots\' times, at the end of the control block, sharing no byte with them', async (t) => {
  for (const maxSlots of [1, 3, 64]) {
    const control = new SharedArrayBuffer(controlBytes(maxSlots));
    const cells = new Int32Array(control, 0, SLOT_DONE + maxSlots);
    const { milliseconds, woke } = slotTimes(control, maxSlots);
    const moments = callMoments(control, maxSlots);
    t.equal(moments.length, 2);
    t.equal(moments.byteOffset + moments.byteLength, control.byteLength, `${maxSlots} slots: the moments end the block`);
    t.ok(moments.byteOffset >= woke.byteOffset + woke.byteLength && woke.byteOffset >= milliseconds.byteOffset + milliseconds.byteLength
      && milliseconds.byteOffset >= cells.byteLength, `${maxSlots} slots: cells, task times, wake-ups, moments in that order`);
    cells.fill(-1);
    milliseconds.fill(1);
    woke.fill(2);
    moments[POSTED_AT] = 3;
    moments[FINISHED_AT] = 4;
    t.ok(cells.every((cell) => cell === -1) && milliseconds.every((v) => v === 1) && woke.every((v) => v === 2), 'writing one leaves the others');
    t.same([moments[POSTED_AT], moments[FINISHED_AT]], [3, 4]);
  }
});

/**
 * Two threads in the serve loop with calls that do nothing, posted as serving.ts posts them; after
 * each call, how many sleep (the threads `Atomics.notify` wakes; a polling thread is not waiting).
 */
async function sleepersAfterCalls(t: Test, everyWorkerPolls: boolean, spinMilliseconds: number, gapsMilliseconds: number[], callMilliseconds: (number | undefined)[] = [], countAfterMilliseconds = 50): Promise<number[]> {
  const maxSlots = 2;
  const control = new SharedArrayBuffer(controlBytes(maxSlots));
  const cells = new Int32Array(control, 0, SLOT_DONE + maxSlots);
  cells[PARTICIPANTS] = 2;
  const moments = callMoments(control, maxSlots);
  const threads = [0, 1].map((slot) => {
    const serve: ServeTask = { kind: 'serve', call: { kind: 'incremental', slot } as ServeTask['call'], control, maxSlots, spinMilliseconds, everyWorkerPolls };
    return new Worker(stub, { workerData: { ...serve, stubMilliseconds: callMilliseconds[slot] }, ...workerStart(stubSource) });
  });
  const ended = threads.map((thread) => new Promise((resolve, reject) => {
    thread.once('message', resolve);
    thread.once('error', reject);
  }));
  const sleepers: number[] = [];
  try {
    for (let generation = 1; generation <= gapsMilliseconds.length + 1; generation++) {
      if (generation > 1) await delay(gapsMilliseconds[generation - 2]);
      Atomics.store(cells, DONE, 0);
      moments[POSTED_AT] = sharedClock();
      Atomics.store(cells, GENERATION, generation);
      Atomics.notify(cells, GENERATION);
      while (Atomics.load(cells, FINISHED) !== generation) await delay(1);
      // Long enough for a thread that sleeps to be asleep, well within a poll.
      await delay(countAfterMilliseconds);
      sleepers.push(Atomics.notify(cells, GENERATION));
    }
  } finally {
    Atomics.store(cells, STOP, 1);
    Atomics.add(cells, GENERATION, 1);
    Atomics.notify(cells, GENERATION);
  }
  t.same(await Promise.all(ended), [gapsMilliseconds.length + 1, gapsMilliseconds.length + 1], 'each thread ran every call, then stopped');
  return sleepers;
}

t.test('serving threads poll after a call that came soon after the one before, all of them when each has a core', async (t) => {
  // Gaps before the 2nd and 3rd calls: well within a poll of 0.6 s, then longer than one.
  const gaps = [30, 700];
  t.same(await sleepersAfterCalls(t, true, 600, gaps), [2, 0, 2], 'a core each: both sleep after the first call (no gap known), poll after the second, sleep after the third');
  t.same(await sleepersAfterCalls(t, false, 600, gaps), [2, 1, 2], 'more threads than cores: only the last to finish polls after the second');
});

t.test('a worker that finished a call first polls until a poll\'s length after the call ended, not after its own finish', async (t) => {
  // Slot 1's calls last 200 ms, slot 0's none: after the second call (30 ms after the first), slot 0 finished 200 ms before
  // the call ended. Counted 150 ms after the end: within a poll of 0.3 s from the end, past one from slot 0's own finish.
  t.same(await sleepersAfterCalls(t, true, 300, [30], [undefined, 200], 150), [2, 0], 'both sleep after the first call, both poll after the second');
});
