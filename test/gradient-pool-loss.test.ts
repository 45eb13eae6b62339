import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadMnist, takeRows } from '../datasets/index.js';
import { GradientAbortError, GradientPoolError, GradientTimeoutError } from '../src/errors.js';
import { batchLoss, createForwardScratch } from '../src/kernels/two-layer.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { GradientPool } from '../src/parallel/gradient-pool.js';
import { BatchSampler } from '../src/train/batch-sampler.js';
import { createOptimizer } from '../src/train/optimizers.js';
import { Trainer, type IterationEvent } from '../src/train/trainer.js';
import { runTsxChild } from './fixtures/child-env.js';
import { SERVE_LOG_ENV, STUCK_ROWS, THROW_ROWS } from './fixtures/loss-fault.worker.js';
import { sharedPools } from './fixtures/shared-pools.js';

const poolOf = sharedPools(t);

/** Rows `from … from + rows` of a split as the number[][] and labels a caller would pass to net.loss. */
function rowsOf(split: { x: Float64Array; labels: Int32Array }, inputSize: number, from: number, rows: number): { x: number[][]; t: number[] } {
  return {
    x: Array.from({ length: rows }, (_, r) => Array.from(split.x.subarray((from + r) * inputSize, (from + r + 1) * inputSize))),
    t: Array.from(split.labels.subarray(from, from + rows)),
  };
}

t.test('GradientPool#lossOfBatch equals net.loss bit for bit on 1–3 threads, after a gradient of the batch and without one', async (t) => {
  const mnist = loadMnist();
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 20, outputSize: 10, seed: 3 });
  const out = new Float64Array(new SharedArrayBuffer(net.layout.size * Float64Array.BYTES_PER_ELEMENT));
  for (const threads of [1, 2, 3]) {
    const pool = poolOf(threads);
    // 7 rows: fewer than the ranges 3 threads would cut; 100: the book's batch; 1: a single sample.
    for (const rows of [100, 7, 1]) {
      const { x, t: labels } = rowsOf(mnist.train, 784, 40 * threads + rows, rows);
      const batch = net.prepare(x, labels);
      await pool.gradientOfBatch(net, batch, { out });
      t.ok(Object.is(await pool.lossOfBatch(net, batch), net.loss(x, labels)), `${threads} thread(s), ${rows} rows, after its gradient`);
      // After an update, the loss reads the new weights.
      for (let k = 0; k < net.params.length; k++) net.params[k] -= 0.5 * out[k];
      t.ok(Object.is(await pool.lossOfBatch(net, batch), net.loss(x, labels)), `${threads} thread(s), ${rows} rows, after an update`);
    }
    // A batch no gradient call has seen, and one in shared memory (the Trainer's, read in place).
    const sampler = new BatchSampler(mnist.test, 784, 50, 'replacement', threads);
    const shared = sampler.next();
    t.ok(shared.x.buffer instanceof SharedArrayBuffer, 'the sampler\'s batch is shared');
    const reference = batchLoss(net.params, net.shape, shared.x, shared.rows, shared.labels, createForwardScratch(net.shape, shared.rows));
    t.ok(Object.is(await pool.lossOfBatch(net, shared), reference), `${threads} thread(s), a shared batch with no gradient call`);
  }
});

t.test('a worker that fails or is stuck on a batch loss rejects the call naming the samples, and the pool goes on', async (t) => {
  const mnist = loadMnist();
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 10, outputSize: 10, seed: 4 });
  const pool = new GradientPool({ threads: 2, workerModule: new URL('./fixtures/loss-fault.worker.ts', import.meta.url).href });
  try {
    const thrown = rowsOf(mnist.train, 784, 0, THROW_ROWS);
    const failing = net.prepare(thrown.x, thrown.t);
    await pool.gradientOfBatch(net, failing);
    const failed = pool.lossOfBatch(net, failing, { timeout: 60_000 });
    await t.rejects(failed, { message: /^Gradient worker failed.*the loss fixture failed on purpose/ });
    await failed.catch((error: unknown) => t.ok(error instanceof GradientPoolError, 'a GradientPoolError'));

    const stuckRows = rowsOf(mnist.train, 784, 100, STUCK_ROWS);
    const stuck = net.prepare(stuckRows.x, stuckRows.t);
    const started = performance.now();
    const timedOut = pool.lossOfBatch(net, stuck, { timeout: 500 });
    // Each of the two workers claimed a range and stuck on it.
    await t.rejects(timedOut, { message: /^Gradient call timed out after 500 ms: 2 workers were still scoring samples \d+–\d+ of the batch for its loss; scoring samples \d+–\d+ of the batch for its loss$/ });
    await timedOut.catch((error: unknown) => t.ok(error instanceof GradientTimeoutError, 'a GradientTimeoutError'));
    t.ok(performance.now() - started < 20_000, 'the stuck worker did not hold the call past its timeout for long');

    const fine = rowsOf(mnist.train, 784, 200, 30);
    const batch = net.prepare(fine.x, fine.t);
    const gradient = await pool.gradientOfBatch(net, batch);
    t.ok(Object.is(await pool.lossOfBatch(net, batch), net.loss(fine.x, fine.t)), 'the next loss is right');
    const book = net.numericalGradient(fine.x, fine.t).b2;
    t.ok(Array.from(gradient.b2).every((value, k) => Math.abs(value - book[k]) <= 1e-9), 'the next gradient is the book\'s numerical gradient');
  } finally {
    await pool.destroy();
  }
});

t.test('the Trainer\'s loss after each update, from the pool, equals the one computed on the main thread', async (t) => {
  const mnist = loadMnist();
  const pool = poolOf(2);
  type LossOfBatch = GradientPool['lossOfBatch'];
  /** The pool's gradient and evaluation, with `lossOfBatch` as given (none: the Trainer computes the loss on its own thread, batchLoss). */
  const poolWith = (lossOfBatch?: LossOfBatch) => ({ gradientOfBatch: pool.gradientOfBatch.bind(pool), evaluate: pool.evaluate.bind(pool), lossOfBatch }) as unknown as GradientPool;
  const trainerOn = (withPool: GradientPool) => new Trainer({
    net: new TwoLayerNet({ inputSize: 784, hiddenSize: 20, outputSize: 10, seed: 9 }), dataset: mnist, optimizer: createOptimizer('sgd', { learningRate: 0.1 }),
    pool: withPool, engine: 'incremental', iterations: 12, evaluationLimit: 100,
  });
  const run = async (withPool: GradientPool) => {
    const trainer = trainerOn(withPool);
    const losses: number[] = [];
    const warnings: string[] = [];
    trainer.on('iteration', (event: IterationEvent) => losses.push(event.loss));
    trainer.on('warning', (message) => warnings.push(message));
    await trainer.run();
    return { losses, warnings, params: Array.from(trainer.net.params) };
  };
  /** A `lossOfBatch` that rejects with `error`, counting the calls. */
  const rejecting = (error: Error) => {
    const counted = { calls: 0, lossOfBatch: (() => { counted.calls++; return Promise.reject(error); }) as LossOfBatch };
    return counted;
  };
  const mainThread = await run(poolWith());
  let losses = 0;
  const inPool = await run(poolWith(async (...args) => {
    const loss = await pool.lossOfBatch(...args);
    losses++;
    return loss;
  }));
  t.equal(losses, 12, 'one pool loss per step, each of them given');
  t.equal(inPool.losses.length, 12);
  t.ok(inPool.losses.every((loss, i) => Object.is(loss, mainThread.losses[i])), 'every iteration\'s loss, bit for bit');
  t.ok(inPool.params.every((value, k) => Object.is(value, mainThread.params[k])), 'the same weights');
  // The update is made when the loss is asked for: a pool loss that fails is computed on the main thread
  // instead, said once in a warning, and not asked of the pool again.
  const failure = rejecting(new GradientPoolError('Gradient worker failed: no loss today', 'none'));
  const failing = await run(poolWith(failure.lossOfBatch));
  t.ok(failing.losses.every((loss, i) => Object.is(loss, mainThread.losses[i])), 'the same losses when the pool\'s loss fails');
  t.equal(failure.calls, 1, 'the pool is asked once');
  t.same(failing.warnings, ['The pool could not compute the batch loss at iteration 1 (Gradient worker failed: no loss today); computing it on the main thread from now on, the same value']);
  // An abort (the caller's signal) is no failure of the pool: the loss moves to the main thread for that step only.
  const abort = rejecting(new GradientAbortError('Gradient call aborted (enough)', 'none'));
  const abortedRun = await run(poolWith(abort.lossOfBatch));
  t.ok(abortedRun.losses.every((loss, i) => Object.is(loss, mainThread.losses[i])), 'the same losses when the pool\'s loss is aborted');
  t.equal(abort.calls, 12, 'asked again at every step');
  t.same(abortedRun.warnings, [], 'no warning');
  // The warning goes out once the step is whole: a listener that throws rejects that step, counted, and the next goes on.
  const trainer = trainerOn(poolWith(rejecting(new Error('no loss')).lossOfBatch));
  trainer.on('warning', () => {
    throw new Error('the listener failed');
  });
  await t.rejects(trainer.step(), { message: 'the listener failed' });
  t.equal(trainer.getState().iteration, 1, 'the step is counted: it was whole when the warning went out');
  const second = await trainer.step();
  t.ok(Object.is(second.loss, mainThread.losses[1]), 'the next step goes on, its loss as the main thread\'s');
});

t.test('a loss after a gradient of the same batch goes to the threads serving it, with no new task', {
  // With serving turned off every call is its own task: there is no session to reuse.
  skip: process.env.GRADPOOL_SERVING === '0' ? 'GRADPOOL_SERVING=0' : false,
}, async (t) => {
  const mnist = loadMnist();
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 10, outputSize: 10, seed: 6 });
  const directory = mkdtempSync(join(tmpdir(), 'gradpool-serve-log-'));
  const log = join(directory, 'serve.log');
  const before = process.env[SERVE_LOG_ENV];
  // Read by the workers, which copy the environment as they start.
  process.env[SERVE_LOG_ENV] = log;
  const pool = new GradientPool({ threads: 2, workerModule: new URL('./fixtures/loss-fault.worker.ts', import.meta.url).href });
  const serveTasks = () => readFileSync(log, 'utf8').split('\n').filter((line) => line === 'serve').length;
  try {
    const sampler = new BatchSampler(mnist.train, 784, 40, 'replacement', 1);
    const batch = sampler.next();
    // Its own `out` and step: a loss that started a session of its own would not match this one.
    const out = new Float64Array(new SharedArrayBuffer(net.layout.size * Float64Array.BYTES_PER_ELEMENT));
    await pool.gradientOfBatch(net, batch, { out, h: 1e-3 });
    t.equal(serveTasks(), 2, 'the gradient started one serve task per thread');
    for (let k = 0; k < net.params.length; k++) net.params[k] *= 0.5;
    const reference = batchLoss(net.params, net.shape, batch.x, batch.rows, batch.labels, createForwardScratch(net.shape, batch.rows));
    t.ok(Object.is(await pool.lossOfBatch(net, batch), reference), 'the loss');
    t.ok(Object.is(await pool.lossOfBatch(net, batch), reference), 'the loss again');
    t.equal(serveTasks(), 2, 'the losses went to the same serve tasks');
    const other = new BatchSampler(mnist.test, 784, 40, 'replacement', 2).next();
    const otherReference = batchLoss(net.params, net.shape, other.x, other.rows, other.labels, createForwardScratch(net.shape, other.rows));
    t.ok(Object.is(await pool.lossOfBatch(net, other), otherReference), 'the loss of another batch');
    t.equal(serveTasks(), 4, 'another batch: a new session, one serve task per thread');
  } finally {
    await pool.destroy();
    if (before === undefined) delete process.env[SERVE_LOG_ENV];
    else process.env[SERVE_LOG_ENV] = before;
    rmSync(directory, { recursive: true, force: true });
  }
});

t.test('with GRADPOOL_SERVING=0 (a task per thread per call) the gradient and the loss are the served ones, bit for bit', async (t) => {
  const { code, stdout, stderr } = await runTsxChild('test/fixtures/unserved-pool-child.ts', {
    cwd: new URL('..', import.meta.url), env: { GRADPOOL_SERVING: '0' }, timeoutMs: 60_000,
  });
  t.equal(code, 0, `the child exits 0 (${stderr.trim()})`);
  const unserved = JSON.parse(stdout) as { gradient: number[]; loss: number };
  // The same computation here, on a served pool, and the loss on the main thread.
  const { train } = loadMnist();
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 6, outputSize: 10, seed: 3 });
  const batch = takeRows(train, Array.from({ length: 30 }, (_, k) => 37 * k));
  const gradient = await poolOf(2).gradientOfBatch(net, batch);
  t.equal(unserved.gradient.length, net.params.length);
  t.ok(unserved.gradient.every((value, k) => Object.is(value, gradient.flat[k])), 'the gradient, bit for bit (JSON keeps every double)');
  for (let k = 0; k < net.params.length; k++) net.params[k] -= 0.5 * gradient.flat[k];
  const reference = batchLoss(net.params, net.shape, batch.x, batch.rows, batch.labels, createForwardScratch(net.shape, batch.rows));
  t.ok(Object.is(unserved.loss, reference), `the loss after the update, bit for bit (${unserved.loss} against ${reference})`);
});
