import t from 'tap';
import { loadMnist, spiral, type Dataset } from '../datasets/index.js';
import type { Split } from '../src/data/dataset.js';
import { GradientPoolError } from '../src/errors.js';
import { createChunkScratch, evaluationChunks, scoreSplitChunk } from '../src/kernels/score.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { GradientPool } from '../src/parallel/gradient-pool.js';
import { describeStatus, PIECE_EVALUATE, STATUS_CELLS, type EvaluationTask } from '../src/parallel/protocol.js';
import { runGradientTask } from '../src/parallel/run-task.js';
import { evaluateSplit } from '../src/train/evaluate-split.js';
import { createOptimizer } from '../src/train/optimizers.js';
import { Trainer } from '../src/train/trainer.js';
import { refusesAsync } from './fixtures/argument-errors.js';
import { DIE_AT_LIMIT } from './fixtures/dying-evaluation.worker.js';
import { sharedPools } from './fixtures/shared-pools.js';

/** A net that gets some digits right and some wrong (a random one scores about 10 %): a little SGD on backprop. */
async function partlyTrained(mnist: Dataset): Promise<TwoLayerNet> {
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 20, outputSize: 10, seed: 7 });
  const trainer = new Trainer({ net, dataset: mnist, optimizer: createOptimizer('sgd', { learningRate: 0.5 }), engine: 'backprop', iterations: 30, evaluationLimit: 10 });
  await trainer.run();
  return net;
}

const poolOf = sharedPools(t);

/** A copy of a split in ordinary (not shared) memory. */
const unshared = (split: Split): Split => ({ x: split.x.slice(), labels: split.labels.slice(), rows: split.rows });

t.test('GradientPool#evaluate equals evaluateSplit bit for bit, with 1 and 2 threads, with and without a limit', async (t) => {
  const mnist = loadMnist();
  const net = await partlyTrained(mnist);
  const splits = [mnist.train, mnist.test];
  for (const threads of [1, 2]) {
    const pool = poolOf(threads);
    for (const limit of [Infinity, 2500, 1000, 999, 1, 100_000]) {
      const scores = await pool.evaluate(net, splits, { limit });
      t.equal(scores.length, 2);
      splits.forEach((split, s) => {
        const reference = evaluateSplit(net, split, limit);
        t.equal(scores[s].accuracy, reference.accuracy, `${threads} thread(s), limit ${limit}, split ${s}: accuracy`);
        t.equal(scores[s].loss, reference.loss, `${threads} thread(s), limit ${limit}, split ${s}: loss`);
      });
    }
    const byDefault = await pool.evaluate(net, [mnist.test]);
    t.equal(byDefault[0].loss, evaluateSplit(net, mnist.test).loss, 'the limit defaults to every row');
    t.ok(byDefault[0].accuracy > 0.15 && byDefault[0].accuracy < 0.99, `a net partly right (${byDefault[0].accuracy})`);
  }
});

t.test('splits outside shared memory are copied once and scored the same; other shapes too', async (t) => {
  const { train, test } = spiral();
  const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 5, outputSize: 3, activation: 'relu', seed: 3, weightInitStd: 1 });
  const pool = poolOf(2);
  const copy = unshared(test);
  for (let i = 0; i < 2; i++) {
    const [a, b] = await pool.evaluate(net, [train, copy], { limit: 7 });
    t.equal(a.loss, evaluateSplit(net, train, 7).loss);
    t.equal(b.accuracy, evaluateSplit(net, test, 7).accuracy);
    t.equal(b.loss, evaluateSplit(net, test, 7).loss);
  }
  t.same(await pool.evaluate(net, []), [], 'no splits, no scores');
});

t.test('the Trainer evaluates in its pool for a numerical engine: the same epochs as on the main thread', async (t) => {
  const mnist = loadMnist();
  const net = await partlyTrained(mnist);
  const pool = poolOf(2);
  for (const evaluationLimit of [Infinity, 1500]) {
    const options = { net, dataset: mnist, optimizer: createOptimizer('sgd'), iterations: 0, evaluationLimit };
    const inPool = await new Trainer({ ...options, pool, engine: 'incremental' }).evaluate();
    const onMain = await new Trainer({ ...options, engine: 'backprop' }).evaluate();
    t.same(inPool, onMain, `evaluationLimit ${evaluationLimit}`);
    t.equal(inPool.testLoss, evaluateSplit(net, mnist.test, evaluationLimit).loss);
  }
});

t.test('a worker that dies while evaluating rejects the call like a gradient call; the pool recovers', async (t) => {
  const mnist = loadMnist();
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 4, outputSize: 10, seed: 5 });
  const pool = new GradientPool({ threads: 2, workerModule: new URL('./fixtures/dying-evaluation.worker.ts', import.meta.url).href });
  try {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('the call hung')), 60_000); });
    const failed = pool.evaluate(net, [mnist.train, mnist.test], { limit: DIE_AT_LIMIT });
    await t.rejects(Promise.race([failed, hang]), { message: /^Gradient worker failed: .*exit.*3/i });
    await failed.catch((error: unknown) => t.ok(error instanceof GradientPoolError, 'a GradientPoolError'));
    clearTimeout(timer);
    const [train] = await pool.evaluate(net, [mnist.train], { limit: 3000 });
    t.equal(train.loss, evaluateSplit(net, mnist.train, 3000).loss, 'the next call is right');
  } finally {
    await pool.destroy();
  }
});

t.test('a timeout or an abort stops an evaluation as it stops a gradient call', async (t) => {
  const mnist = loadMnist();
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10, seed: 5 });
  const pool = new GradientPool({ threads: 2 });
  try {
    const controller = new AbortController();
    controller.abort(new Error('enough'));
    await t.rejects(pool.evaluate(net, [mnist.train], { signal: controller.signal }), { name: 'AbortError', message: /aborted before it started \(enough\)/ });
    await t.rejects(pool.evaluate(net, [mnist.train, mnist.train, mnist.train], { timeout: 1 }), { name: 'GradientTimeoutError', message: /^Gradient call timed out after 1 ms/ });
    const [test] = await pool.evaluate(net, [mnist.test]);
    t.equal(test.loss, evaluateSplit(net, mnist.test).loss, 'usable afterwards');
  } finally {
    await pool.destroy();
  }
});

t.test('bad arguments reject before any worker runs', async (t) => {
  const { train } = spiral();
  const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 3 });
  const pool = poolOf(1);
  await refusesAsync(t, () => pool.evaluate(net, [train], { limit: 0 }), 'RangeError', 'Expected `limit` to be an integer from 1 and up, or Infinity (every sample), got `0` (number)');
  await refusesAsync(t, () => pool.evaluate(net, [train], { limit: '5' as never }), 'TypeError', 'Expected `limit` to be an integer from 1 and up, or Infinity (every sample), got `"5"` (string)');
  await refusesAsync(t, () => pool.evaluate(net, train as never), 'TypeError', 'Expected `splits` to be an array of splits ({ x, labels, rows }), got an object (Object)');
  await refusesAsync(t, () => pool.evaluate(net, [null as never]), 'TypeError', 'Expected `splits[0]` to be an object such as { x: Float64Array, labels: Int32Array, rows }, got `null`');
  await refusesAsync(t, () => pool.evaluate(net, [{ ...train, rows: 0 }]), 'RangeError', 'Expected `splits[0].rows` to be an integer from 1 and up, got `0` (number)');
  await refusesAsync(t, () => pool.evaluate(net, [{ ...train, x: [1, 2] as never }]), 'TypeError', 'Expected `splits[0].x` to be a Float64Array, got an array of length 2');
  await refusesAsync(t, () => pool.evaluate(net, [{ ...train, labels: new Float64Array(train.rows) as never }]), 'TypeError', `Expected \`splits[0].labels\` to be an Int32Array, got a Float64Array of length ${train.rows}`);
  await refusesAsync(t, () => pool.evaluate(net, [{ ...train, x: train.x.subarray(1) }]), 'RangeError', `Expected \`splits[0].x\` to hold rows × inputSize = ${train.rows} × 2 = ${train.rows * 2} values, got a Float64Array of length ${train.rows * 2 - 1}`);
  await refusesAsync(t, () => pool.evaluate(net, [{ ...train, labels: train.labels.subarray(1) }]), 'RangeError', `Expected \`splits[0].labels\` to hold one label per row (${train.rows}), got an Int32Array of length ${train.rows - 1}`);
  await refusesAsync(t, () => pool.evaluate({ ...net, params: new Float64Array(net.params.length) } as never, [train]), 'TypeError', 'Expected `net.params` to live in a SharedArrayBuffer, got an object (ArrayBuffer)');
});

t.test('the worker side on this thread: chunks claimed from the counter, sums in their cells, the status names the rows', async (t) => {
  const mnist = loadMnist();
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 6, outputSize: 10, seed: 9 });
  const used = 2500;
  const chunks = evaluationChunks(used) + evaluationChunks(mnist.test.rows);
  const results = new Float64Array(2 * chunks);
  const counter = new Int32Array(1);
  const task: EvaluationTask = {
    kind: 'evaluate', shape: net.shape, params: net.params, results, counter,
    splits: [{ x: mnist.train.x, labels: mnist.train.labels, rows: mnist.train.rows, used }, { x: mnist.test.x, labels: mnist.test.labels, rows: mnist.test.rows, used: mnist.test.rows }],
  };
  const result = await runGradientTask(task);
  t.equal(result.pieces, chunks, 'one thread scores every chunk');
  t.equal(counter[0], chunks + 1, 'and claims once past the last');
  const scratch = createChunkScratch(net.shape);
  const third = scoreSplitChunk(net.params, net.shape, mnist.test.x, mnist.test.labels, mnist.test.rows, mnist.test.rows, 1, scratch);
  t.equal(results[2 * 4], third.correct, 'chunk 4 is the test split\'s second');
  t.equal(results[2 * 4 + 1], third.logLikelihood);
  const cells = Int32Array.of(PIECE_EVALUATE, 3, 0, 0);
  t.equal(cells.length, STATUS_CELLS);
  t.equal(describeStatus(task, cells), 'scoring rows 0–999 of split 2 of 2');
  t.equal(describeStatus(task, Int32Array.of(PIECE_EVALUATE, 2, 0, 0)), 'scoring rows 2000–2499 of split 1 of 2');
  t.equal(describeStatus(task, Int32Array.of(PIECE_EVALUATE, 9, 0, 0)), 'scoring chunk 9');
  const missing = await runGradientTask({ ...task, params: { ref: { id: 987_654 }, byteOffset: 0, length: net.params.length } });
  t.equal(missing.missing, true, 'a buffer this thread was never sent: nothing done, said so');
});
