import t from 'tap';
import { parameterCosts } from '../src/kernels/cost.js';
import {
  finishIncrementalBase, incrementalBaseBytes, incrementalBaseViews, incrementalGradientRange, startIncrementalBase,
} from '../src/kernels/incremental/index.js';
import { basePartRanges, prepareBasePart } from '../src/parallel/base-parts.js';
import { partitionByCost } from '../src/parallel/partition.js';
import { GradientPool, type PoolCallStatistics } from '../src/parallel/gradient-pool.js';
import { runGradientTask } from '../src/parallel/run-task.js';
import { sharedClock } from '../src/parallel/serve-loop.js';
import { WorkBoard } from '../src/parallel/work-board.js';
import { type NetGradient, TwoLayerNet, type PreparedBatch } from '../src/nets/two-layer-net.js';
import { bytesOf, digits, serialIncremental, sharedBatch } from './fixtures/pool-batches.js';
import { sharedPools } from './fixtures/shared-pools.js';
import { runTsxChild } from './fixtures/child-env.js';
import { SERVE_IDLE_MILLISECONDS } from '../src/parallel/serving.js';

const functions = new URL('./fixtures/functions.ts', import.meta.url);

const poolOf = sharedPools(t);

t.test('pool gradients are bit-identical whatever the thread count (incremental engine)', async (t) => {
  const batch = digits(3);
  // Every count of the issue is covered by one activation or the other, to keep worker start-ups few.
  for (const [activation, counts] of [['sigmoid', [1, 2, 7]], ['relu', [1, 3]]] as const) {
    const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 12, outputSize: 10, activation, seed: 7 });
    let reference: Float64Array | undefined;
    for (const threads of counts) {
      const grad = await poolOf(threads).gradientOfBatch(net, batch);
      if (reference === undefined) reference = grad.flat;
      else t.ok(bytesOf(grad.flat).equals(bytesOf(reference)), `${activation}: ${threads} threads equal 1 thread bit for bit`);
    }
  }
});

t.test('naive engine in the pool equals the serial book method bit for bit', async (t) => {
  const batch = digits(1);
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 3, outputSize: 10, seed: 3 });
  const serial = net.numericalGradient({ data: batch.x, rows: batch.rows, columns: 784 }, batch.labels);
  const before = net.params.slice();
  for (const threads of [1, 3]) {
    const grad = await poolOf(threads).numericalGradient(net, { data: batch.x, rows: batch.rows, columns: 784 }, batch.labels, { engine: 'naive' });
    t.ok(bytesOf(grad.flat).equals(bytesOf(serial.flat)), `${threads} threads`);
  }
  t.ok(bytesOf(net.params).equals(bytesOf(before)), 'the shared weights are untouched');
});

t.test('incremental engine in the pool agrees with the serial naive gradient', async (t) => {
  const batch = digits(1);
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 4, outputSize: 10, seed: 11 });
  const serial = net.numericalGradient({ data: batch.x, rows: batch.rows, columns: 784 }, batch.labels);
  const grad = await poolOf(2).gradientOfBatch(net, batch);
  let worst = 0;
  for (let i = 0; i < grad.flat.length; i++) worst = Math.max(worst, Math.abs(grad.flat[i] - serial.flat[i]));
  t.ok(worst <= 1e-9, `max abs difference ${worst} ≤ 1e-9`);
});

t.test('the worker task also runs on the main thread (coverage of the worker side)', async (t) => {
  const net = new TwoLayerNet({ inputSize: 3, hiddenSize: 2, outputSize: 2, seed: 5 });
  const x = new Float64Array(new SharedArrayBuffer(3 * 8));
  x.set([0.5, 0, 1]);
  const labels = new Int32Array(new SharedArrayBuffer(4));
  labels[0] = 1;
  const serial = net.numericalGradient({ data: x.slice(), rows: 1, columns: 3 }, [1]);
  const common = { shape: net.shape, params: net.params, x, labels, rows: 1, h: 1e-4 };
  const naive = new Float64Array(new SharedArrayBuffer(net.params.length * 8));
  t.match(await runGradientTask({ kind: 'naive', ...common, gradient: naive, start: 0, end: net.params.length }), { milliseconds: Number, pieces: 1 });
  naive.forEach((v, i) => t.ok(Math.abs(v - serial.flat[i]) <= 1e-9, `naive [${i}]`));
  // One incremental task alone takes every base part and every chunk.
  const incremental = new Float64Array(new SharedArrayBuffer(net.params.length * 8));
  const base = new SharedArrayBuffer(incrementalBaseBytes(net.shape, 1));
  startIncrementalBase(incrementalBaseViews(base, net.shape, 1), net.shape, 1);
  const board = new SharedArrayBuffer(WorkBoard.bytes(4));
  new WorkBoard(board).reset(3, 4);
  const result = await runGradientTask({ kind: 'incremental', ...common, gradient: incremental, base, board });
  t.equal(result.pieces, 3 + 4, 'three base parts and four chunks');
  t.ok(new WorkBoard(board).complete);
  incremental.forEach((v, i) => t.ok(Math.abs(v - serial.flat[i]) <= 1e-9, `incremental [${i}]`));
  const point = new Float64Array(new SharedArrayBuffer(16));
  point.set([3, 4]);
  const gradient = new Float64Array(new SharedArrayBuffer(16));
  await runGradientTask({ kind: 'function', module: functions.href, exportName: 'function2', x: point, context: undefined, gradient, start: 0, end: 2, h: 1e-4 });
  t.same([...gradient], [6.00000000000378, 7.999999999999119]);
});

t.test('base parts in any order, then chunks reading the shared base, equal the serial kernel bit for bit', async (t) => {
  for (const activation of ['sigmoid', 'relu'] as const) {
    const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 6, outputSize: 10, activation, seed: 13 });
    const batch = sharedBatch(2);
    const { shape } = net;
    const base = incrementalBaseViews(new SharedArrayBuffer(incrementalBaseBytes(shape, batch.rows)), shape, batch.rows);
    startIncrementalBase(base, shape, batch.rows);
    const parts = 3;
    for (let k = parts - 1; k >= 0; k--) prepareBasePart(net.params, shape, batch.x, batch.rows, batch.labels, base, k, parts);
    finishIncrementalBase(base);
    const gradient = new Float64Array(net.params.length);
    for (const [start, end] of partitionByCost(parameterCosts(shape, batch.x, batch.rows), 4).reverse()) {
      incrementalGradientRange(net.params, shape, batch.x, batch.rows, batch.labels, base, start, end, gradient, 1e-4);
    }
    t.ok(bytesOf(gradient).equals(bytesOf(serialIncremental(net, batch))), `${activation}: equal to the serial kernel bit for bit`);
  }
  // Two parts, shares 1.5 and 0.5 of the mean: part 2 starts at 3/4 of each count (2 rows, 4 + 1 columns, 3 units), rounded down.
  t.same(basePartRanges({ inputSize: 4, hiddenSize: 3, outputSize: 2, activation: 'sigmoid' }, 2, 1, 2), { samples: [1, 2], columns: [3, 5], units: [2, 3] }, 'part 2 of 2, by hand');
  t.throws(() => basePartRanges({ inputSize: 4, hiddenSize: 3, outputSize: 2, activation: 'sigmoid' }, 2, 2, 2), /got part 2 of 2/);
});

t.test('one pool, calls of other shapes and sizes in turn, each bit for bit the serial kernel; a failing base part; each call\'s timeline', async (t) => {
  const pool = new GradientPool({ threads: 2 });
  try {
    const big = new TwoLayerNet({ inputSize: 784, hiddenSize: 10, outputSize: 10, activation: 'sigmoid', seed: 21 });
    const relu = new TwoLayerNet({ inputSize: 784, hiddenSize: 5, outputSize: 10, activation: 'relu', seed: 22 });
    const tiny = new TwoLayerNet({ inputSize: 3, hiddenSize: 1, outputSize: 2, activation: 'sigmoid', seed: 23 });
    const tinyBatch = tiny.prepare([[0.5, 0, -1]], [1]); // one sample: fewer samples than threads
    const calls: Array<[string, TwoLayerNet, PreparedBatch, number]> = [
      ['784-10-10 sigmoid, 30 digits', big, digits(3), 1e-4],
      ['784-5-10 relu, 10 digits, h = 0.5', relu, digits(1), 0.5],
      ['3-1-2, 1 sample', tiny, tinyBatch, 1e-4],
      ['784-10-10 sigmoid, 50 digits (a larger base)', big, digits(5), 1e-4],
      ['784-10-10 sigmoid, 30 digits again', big, digits(3), 1e-4],
    ];
    for (const [name, net, batch, h] of calls) {
      const before = net.params.slice();
      let taskMilliseconds: number[] = [];
      const grad = await pool.gradientOfBatch(net, batch, { h, onStatistics: (statistics) => { taskMilliseconds = statistics.taskMilliseconds; } });
      t.ok(bytesOf(grad.flat).equals(bytesOf(serialIncremental(net, batch, h))), name);
      t.equal(taskMilliseconds.length, 2, `${name}: a time per thread`);
      t.ok(bytesOf(net.params).equals(bytesOf(before)), `${name}: weights untouched`);
    }
    // A batch that skipped net.prepare (label 5 of a 2-class net): every base part fails, and names itself.
    const net = new TwoLayerNet({ inputSize: 3, hiddenSize: 2, outputSize: 2, seed: 31 });
    const bad: PreparedBatch = { x: Float64Array.of(1, 0, 2, 0, 3, 1, 1, 1, 1), labels: Int32Array.of(0, 5, 1), rows: 3 };
    await t.rejects(pool.gradientOfBatch(net, bad), {
      message: /^Gradient worker failed: building the base, part [1-8] of 8 \(samples (none|\d–\d), input columns (none|\d–\d), hidden units (none|\d–\d)\): Expected label 1 to be an integer from 0 to 1, got 5$/,
    });
    await t.rejects(pool.gradientOfBatch(net, bad, { engine: 'naive' }), {
      message: /^Gradient worker failed on parameters (0–6 \(W1\[0\]\[0\] to b1\[0\]\)|7–13 \(b1\[1\] to b2\[1\]\)): Expected label 1 to be an integer from 0 to 1, got 5$/,
    });
    const good = net.prepare([[1, 0, 2], [0, 3, 1]], [0, 1]);
    const grad = await pool.gradientOfBatch(net, good);
    t.ok(bytesOf(grad.flat).equals(bytesOf(serialIncremental(net, good))), 'after a failure, the next call is right');

    // onStatistics: each incremental call's timeline, in the order the call runs it, within the caller's own clock.
    const timed = new TwoLayerNet({ inputSize: 784, hiddenSize: 6, outputSize: 10, seed: 43 });
    const timedBatch = sharedBatch(2);
    const rows = digits(2);
    const x = Array.from({ length: rows.rows }, (_, r) => Array.from(rows.x.subarray(r * 784, (r + 1) * 784)));
    // The caller's own readings of the clock the timeline is on.
    const clock = sharedClock;
    // Readings a microsecond apart on two threads may come out of order by about that much.
    const skew = 0.005;
    for (const [name, call] of [
      ['gradientOfBatch', (onStatistics: (s: PoolCallStatistics) => void) => pool.gradientOfBatch(timed, timedBatch, { onStatistics })],
      ['numericalGradient', (onStatistics: (s: PoolCallStatistics) => void) => pool.numericalGradient(timed, x, Array.from(rows.labels), { onStatistics })],
    ] as const) {
      for (let k = 0; k < 3; k++) {
        let statistics: PoolCallStatistics | undefined;
        const before = clock();
        await call((reported) => { statistics = reported; });
        const wall = clock() - before;
        const { timeline } = statistics!;
        t.ok(timeline !== undefined, `${name}: a timeline`);
        const { posted, notified, woke, reported, collected } = timeline!;
        t.equal(woke.length, 2, `${name}: a wake-up per thread`);
        t.ok(posted >= 0 && notified >= posted, `${name}: posted ${posted.toFixed(4)}, then notified ${notified.toFixed(4)} ms after the call`);
        for (let slot = 0; slot < 2; slot++) {
          t.ok(woke[slot] >= posted - skew, `${name}: slot ${slot} woke (${woke[slot].toFixed(4)}) after the call was posted`);
          t.ok(reported[slot] <= collected + skew, `${name}: slot ${slot} reported (${reported[slot].toFixed(4)}) before the main thread collected`);
        }
        t.ok(collected <= wall + skew, `${name}: collected (${collected.toFixed(4)}) within the call's ${wall.toFixed(4)} ms`);
      }
    }
    let naive: PoolCallStatistics | undefined;
    await pool.gradientOfBatch(timed, timedBatch, { engine: 'naive', onStatistics: (reported) => { naive = reported; } });
    t.equal(naive?.taskMilliseconds.length, 2, 'the naive engine reports its tasks');
    t.equal(naive?.timeline, undefined, 'and no timeline: its tasks go through Piscina\'s messages');
  } finally {
    await pool.destroy();
  }
});

t.test('number[][] rows: converted into the pool\'s own shared batch when no call is in flight, into a new array while one is; each call its own gradient, in a new array', async (t) => {
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 6, outputSize: 10, seed: 43 });
  const first = digits(1);
  // The same digits in another order, so a call that read the other call's rows would be caught.
  const order = [3, 7, 0, 9, 1, 8, 2, 6, 4, 5];
  const second = { x: new Float64Array(first.x.length), labels: new Int32Array(first.rows), rows: first.rows };
  order.forEach((from, to) => {
    second.x.set(first.x.subarray(from * 784, (from + 1) * 784), to * 784);
    second.labels[to] = first.labels[from];
  });
  const rowsOf = (batch: PreparedBatch) => Array.from({ length: batch.rows }, (_, n) => Array.from(batch.x.subarray(n * 784, (n + 1) * 784)));
  const expectedFirst = serialIncremental(net, first);
  const expectedSecond = serialIncremental(net, second);
  t.notOk(bytesOf(expectedFirst).equals(bytesOf(expectedSecond)), 'the two batches have different gradients');
  const pool = poolOf(2);
  // Made together: the first is converted into the pool's buffer and runs; the second waits its turn with its own copy.
  const [a, b, c] = await Promise.all([
    pool.numericalGradient(net, rowsOf(first), Array.from(first.labels)),
    pool.numericalGradient(net, rowsOf(second), Array.from(second.labels)),
    pool.numericalGradient(net, rowsOf(first), Array.from(first.labels)),
  ]);
  t.ok(bytesOf(a.flat).equals(bytesOf(expectedFirst)), 'the first call: bit for bit the serial kernel on its rows');
  t.ok(bytesOf(b.flat).equals(bytesOf(expectedSecond)), 'the second, made while the first ran: its own rows');
  t.ok(bytesOf(c.flat).equals(bytesOf(expectedFirst)), 'the third: its own rows again');
  t.ok(a.flat.buffer instanceof ArrayBuffer, 'not shared memory the pool writes again');
  const after = await pool.numericalGradient(net, rowsOf(second), Array.from(second.labels));
  t.ok(bytesOf(after.flat).equals(bytesOf(expectedSecond)) && bytesOf(a.flat).equals(bytesOf(expectedFirst)), 'a later call leaves the earlier results as they were');
  await t.rejects(pool.numericalGradient(net, [[...rowsOf(first)[0].slice(0, 783), Number.NaN]], [1]), {
    name: 'RangeError', message: 'Expected `x` to contain only finite numbers, got `NaN` at index 783',
  });

  // The caller's own code runs during the conversion (here a getter on a row) and calls the pool:
  // that call, made while the first converts into the pool's buffer, must use memory of its own.
  let inner: Promise<NetGradient> | undefined;
  const rows = rowsOf(first);
  const row5 = rows[5];
  Object.defineProperty(rows, 5, {
    get() {
      inner ??= pool.numericalGradient(net, rowsOf(second), Array.from(second.labels));
      return row5;
    },
  });
  const outer = pool.numericalGradient(net, rows, Array.from(first.labels));
  t.ok(inner !== undefined, 'the getter called the pool');
  const [outerGradient, innerGradient] = await Promise.all([outer, inner!]);
  t.ok(bytesOf(outerGradient.flat).equals(bytesOf(expectedFirst)), 'the converting call: its own rows');
  t.ok(bytesOf(innerGradient.flat).equals(bytesOf(expectedSecond)), 'the call from its getter: its own rows');
});

t.test('number[][] rows after a call that timed out (the pool\'s buffers renewed): bit for bit the serial kernel', async (t) => {
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 6, outputSize: 10, seed: 47 });
  const batch = digits(1);
  const rows = Array.from({ length: batch.rows }, (_, n) => Array.from(batch.x.subarray(n * 784, (n + 1) * 784)));
  // Its own pool: the timeout terminates its workers.
  const pool = new GradientPool({ threads: 2 });
  t.teardown(() => pool.destroy());
  // The naive engine takes seconds on this net: 50 ms is sure to run out.
  await t.rejects(pool.numericalGradient(net, rows, Array.from(batch.labels), { engine: 'naive', timeout: 50 }), { name: 'GradientTimeoutError' });
  const gradient = await pool.numericalGradient(net, rows, Array.from(batch.labels));
  t.ok(bytesOf(gradient.flat).equals(bytesOf(serialIncremental(net, batch))), 'the next call, converted into the renewed buffer');
});

t.test('`out`: shared (written by the workers) or not (copied in), for both engines; a shared batch is read in place', async (t) => {
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 5, outputSize: 10, seed: 41 });
  const plain = digits(1);
  const shared = sharedBatch(1);
  const reference = serialIncremental(net, plain);
  const pool = poolOf(2);
  for (const engine of ['incremental', 'naive'] as const) {
    const expected = engine === 'incremental' ? reference : net.numericalGradient({ data: plain.x, rows: plain.rows, columns: 784 }, plain.labels).flat;
    const sharedOut = new Float64Array(new SharedArrayBuffer(net.params.length * 8)).fill(Number.NaN);
    const grad = await pool.gradientOfBatch(net, shared, { engine, out: sharedOut });
    t.equal(grad.flat, sharedOut, `${engine}: the views are over \`out\``);
    t.equal(grad.W2.buffer, sharedOut.buffer);
    t.ok(bytesOf(sharedOut).equals(bytesOf(expected)), `${engine}: shared out, shared batch: bit for bit the serial result`);
    const plainOut = new Float64Array(net.params.length).fill(Number.NaN);
    t.equal((await pool.gradientOfBatch(net, plain, { engine, out: plainOut })).flat, plainOut);
    t.ok(bytesOf(plainOut).equals(bytesOf(expected)), `${engine}: plain out, plain batch (copied both ways)`);
  }
  const size = net.params.length;
  await t.rejects(pool.gradientOfBatch(net, plain, { out: new Float64Array(3) }), {
    name: 'RangeError', message: `Expected \`out\` to be a Float64Array of ${size} values (one per parameter), got a Float64Array of length 3`,
  });
  await t.rejects(pool.numericalGradient({ shape: net.shape } as never, [[1]], [0]), { name: 'TypeError', message: 'Expected `net` to be a TwoLayerNet, got an object (Object)' });
  await t.rejects(pool.gradientOfBatch(undefined as never, plain), { name: 'TypeError', message: 'Expected `net` to be a TwoLayerNet, got `undefined`' });
  await t.rejects(pool.gradientOfBatch(net, plain, { out: [] as never }), { name: 'TypeError', message: /Expected `out` to be a Float64Array of \d+ values \(one per parameter\), got/ });
  await t.rejects(pool.gradientOfBatch(net, plain, { out: net.params }), { name: 'RangeError', message: 'Expected `out` not to share memory with `net.params` or the batch' });
  const sharedX = new Float64Array(new SharedArrayBuffer((size + plain.x.length) * 8));
  sharedX.set(plain.x);
  await t.rejects(
    pool.gradientOfBatch(net, { x: sharedX.subarray(0, plain.x.length), labels: plain.labels, rows: plain.rows }, { out: sharedX.subarray(plain.x.length - 1, plain.x.length - 1 + size) }),
    { name: 'RangeError', message: /not to share memory/ },
    'overlapping the batch by one value',
  );
  const sharedLabels = new Int32Array(new SharedArrayBuffer(size * 8 + 64));
  await t.rejects(
    pool.gradientOfBatch(net, { x: plain.x, labels: sharedLabels.subarray(0, plain.rows), rows: plain.rows }, { out: new Float64Array(sharedLabels.buffer, 0, size) }),
    { name: 'RangeError', message: /not to share memory/ },
    'overlapping the labels',
  );
});


t.test('a pool its program never destroys lets the process exit once its serving session has been idle', async (t) => {
  // A session that never ended would keep the workers, and so the process, alive: killed, it fails below.
  const { code, stdout, stderr } = await runTsxChild('test/fixtures/idle-pool-child.ts', { cwd: new URL('..', import.meta.url), timeoutMs: 20_000 });
  t.equal(code, 0, `exits on its own (${stderr.trim()})`);
  const { differences, idleMilliseconds } = JSON.parse(stdout) as { differences: number[]; idleMilliseconds: number };
  t.equal(differences.length, 3);
  // The incremental engine against the book's two-forward-pass difference: the same central differences.
  for (const difference of differences) t.ok(difference < 1e-9, `each call's gradient is the book's (largest difference ${difference})`);
  // Not before: calls 120 ms apart are all served by one session, and its end is what lets the process go.
  t.ok(idleMilliseconds >= SERVE_IDLE_MILLISECONDS - 5, `exits ${idleMilliseconds.toFixed(0)} ms after the last call, once ${SERVE_IDLE_MILLISECONDS} ms idle`);
});

t.test('calls into the same `out` return new views of it laid out for each call\'s net', async (t) => {
  const pool = poolOf(2);
  // Two shapes with 17 parameters each, cut differently: 3-2-3 (W1 6, b1 2, W2 6, b2 3) and 2-3-2 (W1 6, b1 3, W2 6, b2 2).
  const a = new TwoLayerNet({ inputSize: 3, hiddenSize: 2, outputSize: 3, seed: 1 });
  const b = new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 2, seed: 2 });
  const out = new Float64Array(new SharedArrayBuffer(17 * Float64Array.BYTES_PER_ELEMENT));
  const batchA = a.prepare([[1, 0, 2], [0.5, -1, 0]], [2, 0]);
  const batchB = b.prepare([[1, 0], [0.5, -1]], [1, 0]);
  const first = await pool.gradientOfBatch(a, batchA, { out });
  const offsets = (g: NetGradient) => [g.W1, g.b1, g.W2, g.b2].map((view) => [(view.byteOffset - out.byteOffset) / 8, view.length]);
  t.same(offsets(first), [[0, 6], [6, 2], [8, 6], [14, 3]], '3-2-3');
  const other = await pool.gradientOfBatch(b, batchB, { out });
  t.same(offsets(other), [[0, 6], [6, 3], [9, 6], [15, 2]], '2-3-2, into the same array');
  const again = await pool.gradientOfBatch(a, batchA, { out });
  t.not(again, first, 'a new object each call');
  t.same(offsets(again), [[0, 6], [6, 2], [8, 6], [14, 3]], '3-2-3 again');
  t.equal(again.flat, out);
  t.ok([again.W1, again.b1, again.W2, again.b2].every((view) => view.buffer === out.buffer), 'views of `out` itself');
  // What the views hold: a's gradient, as the book's numerical gradient gives it.
  const book = a.numericalGradient([[1, 0, 2], [0.5, -1, 0]], [2, 0]);
  t.ok(Math.max(...again.b2.map((value, i) => Math.abs(value - book.b2[i]))) < 1e-9, 'b2 is a\'s b2');
});
