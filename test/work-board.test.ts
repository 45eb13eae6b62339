import t, { type Test } from 'tap';
import { workerStart } from '../src/parallel/worker-loader.js';
import { Worker } from 'node:worker_threads';
import { BOARD_ABORTED, BOARD_BUILDING, BOARD_PUBLISHED, WorkBoard } from '../src/parallel/work-board.js';

const waiter = new URL('./fixtures/board-waiter.mjs', import.meta.url);
const waiterSource = new URL('./fixtures/board-waiter.ts', import.meta.url).href;

type Verdict = { published: boolean; chunk: [number, number] | null };

/** A thread asleep in `waitUntilPublished` on `board` (checked through `board.sleepers`), and its verdict to come. */
async function sleepingWaiter(t: Test, board: WorkBoard): Promise<{ worker: Worker; verdict: Promise<Verdict> }> {
  // A JavaScript entry (Worker takes no .ts); it imports the TypeScript fixture through tsx, as the pool's workers do.
  const worker = new Worker(waiter, { workerData: board.cells.buffer, ...workerStart(waiterSource) });
  const messages: unknown[] = [];
  const waiting: Array<(message: unknown) => void> = [];
  worker.on('message', (message) => {
    const next = waiting.shift();
    if (next === undefined) messages.push(message);
    else next(message);
  });
  const next = () => new Promise<unknown>((resolve, reject) => {
    worker.once('error', reject);
    if (messages.length > 0) resolve(messages.shift());
    else waiting.push(resolve);
  });
  t.equal(await next(), 'waiting');
  const verdict = next() as Promise<Verdict>;
  // However slow the machine, go on only once the thread is really asleep.
  while (board.sleepers === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  return { worker, verdict };
}

t.test('one thread through a whole call: parts, the last one publishes, chunks, complete', async (t) => {
  const board = new WorkBoard(new SharedArrayBuffer(WorkBoard.bytes(3)));
  board.reset(2, 3);
  t.match(board, { parts: 2, chunks: 3, state: BOARD_BUILDING, complete: false });
  t.equal(board.claimChunk(), null, 'no chunk before publishing');
  t.equal(board.claimPart(), 0);
  t.equal(board.claimPart(), 1);
  t.equal(board.claimPart(), -1, 'two parts only');
  t.equal(board.partDone(), false);
  t.equal(board.partDone(), true, 'the second report is the last');
  board.publish([[0, 5], [5, 6], [6, 10]]);
  t.equal(board.state, BOARD_PUBLISHED);
  t.equal(board.waitUntilPublished(), true, 'returns at once once published');
  t.same([board.claimChunk(), board.claimChunk()], [[0, 5], [5, 6]]);
  t.equal(board.complete, false, 'one chunk left');
  t.same(board.claimChunk(), [6, 10]);
  t.equal(board.claimChunk(), null);
  t.equal(board.complete, true);
  board.reset(1, 1);
  t.match(board, { parts: 1, chunks: 1, state: BOARD_BUILDING, complete: false }, 'reset for the next call');
});

t.test('abort: claims fail, waiting returns false, a later publish does not undo it', async (t) => {
  const board = new WorkBoard(new SharedArrayBuffer(WorkBoard.bytes(2)));
  board.reset(3, 2);
  t.equal(board.claimPart(), 0);
  board.abort();
  t.equal(board.state, BOARD_ABORTED);
  t.equal(board.claimPart(), -1);
  t.equal(board.waitUntilPublished(), false);
  board.publish([[0, 1], [1, 2]]);
  t.equal(board.state, BOARD_ABORTED, 'still aborted');
  t.equal(board.claimChunk(), null);
  t.equal(board.complete, false);
});

t.test('a thread asleep waiting for the base wakes when it is published, and when the call is aborted', async (t) => {
  const board = new WorkBoard(new SharedArrayBuffer(WorkBoard.bytes(1)));
  board.reset(1, 1);
  t.equal(board.claimPart(), 0, 'this thread holds the only part');
  const published = await sleepingWaiter(t, board);
  t.equal(board.partDone(), true);
  t.equal(board.publish([[0, 7]]), 1, 'publish wakes the one sleeper');
  t.same(await published.verdict, { published: true, chunk: [0, 7] }, 'woken by publish, then claims the chunk');
  t.equal(board.sleepers, 0);
  await published.worker.terminate();

  board.reset(1, 1);
  t.equal(board.claimPart(), 0, 'a part whose thread will never finish it');
  const aborted = await sleepingWaiter(t, board);
  t.equal(board.abort(), 1, 'abort wakes the one sleeper');
  t.same(await aborted.verdict, { published: false, chunk: null }, 'woken by abort: no hang, nothing claimed');
  await aborted.worker.terminate();
});

t.test('bad sizes', async (t) => {
  const board = new WorkBoard(new SharedArrayBuffer(WorkBoard.bytes(2)));
  t.throws(() => board.reset(0, 1), { name: 'RangeError', message: 'Expected 1 ≤ parts and 1 ≤ chunks ≤ 2, got 0 parts and 1 chunks' });
  t.throws(() => board.reset(1, 3), /1 ≤ chunks ≤ 2, got 1 parts and 3 chunks/);
  t.throws(() => board.reset(1.5, 1), RangeError);
  board.reset(1, 2);
  t.throws(() => board.publish([[0, 1]]), { name: 'RangeError', message: 'Expected 2 chunks, got 1' });
});
