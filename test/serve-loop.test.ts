import t from 'tap';
import {
  FINISHED_AT, POSTED_AT, SLOT_DONE, callMoments, controlBytes, pollMilliseconds, slotTimes,
} from '../src/parallel/serve-loop.js';

t.test('a worker polls after a call only when the gap before it was within the poll, and only the last one unless each has a core', async (t) => {
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
