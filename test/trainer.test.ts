import t, { type Test } from 'tap';
import { join } from 'node:path';
import { ArgumentRangeError, ArgumentTypeError } from '../src/errors.js';
import { BatchSampler } from '../src/train/batch-sampler.js';
import { loadMnist, spiral, takeRows, type Dataset } from '../datasets/index.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { createOptimizer } from '../src/train/optimizers.js';
import { evaluateSplit } from '../src/train/evaluate-split.js';
import { DivergenceError, EARLY_DIVERGENCE_STEPS, Trainer } from '../src/train/trainer.js';
import { sharedPools } from './fixtures/shared-pools.js';

// One pool per thread count for the tests that only train with it: a pool serves one trainer after another.
const poolOf = sharedPools(t);

/** Every `stride`-th digit of the bundled MNIST splits: all ten classes, small. */
function digitSubset(stride: number): Dataset {
  const mnist = loadMnist();
  const every = (rows: number) => Int32Array.from({ length: Math.floor(rows / stride) }, (_, i) => i * stride);
  return { ...mnist, name: 'mnist-subset', train: takeRows(mnist.train, every(mnist.train.rows)), test: takeRows(mnist.test, every(mnist.test.rows)) };
}

const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

t.test('evaluateSplit agrees with the net\'s own accuracy and loss', async (t) => {
  const data = digitSubset(40);
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 10, outputSize: 10, seed: 2 });
  const evaluation = evaluateSplit(net, data.train);
  const input = { data: data.train.x, rows: data.train.rows, columns: 784 };
  t.equal(evaluation.accuracy, net.accuracy(input, data.train.labels));
  t.ok(Math.abs(evaluation.loss - net.loss(input, data.train.labels)) < 1e-12, 'loss (summed in chunks of 1000 vs at once)');
});

t.test('evaluateSplit with a limit uses evenly spaced rows (every class of a class-ordered split)', async (t) => {
  const mnist = loadMnist();
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 10, outputSize: 10, seed: 2 });
  const picked = takeRows(mnist.test, Int32Array.from({ length: 50 }, (_, i) => i * 40)); // 2000 / 50 = every 40th
  const evaluation = evaluateSplit(net, mnist.test, 50);
  const input = { data: picked.x, rows: picked.rows, columns: 784 };
  t.equal(new Set(picked.labels).size, 10, 'the subset spans all ten digits');
  t.equal(evaluation.accuracy, net.accuracy(input, picked.labels));
  t.ok(Math.abs(evaluation.loss - net.loss(input, picked.labels)) < 1e-12);
});

t.test('numerical-gradient training on real digits: loss falls, accuracy rises', async (t) => {
  const dataset = digitSubset(20); // 400 train, 100 test
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 10, outputSize: 10, seed: 1 });
  const pool = poolOf(2);
  const trainer = new Trainer({ net, dataset, optimizer: createOptimizer('sgd', { learningRate: 0.5 }), pool, batchSize: 20, iterations: 200, seed: 3 });
  const losses: number[] = [];
  trainer.on('iteration', (e) => losses.push(e.loss));
  const summary = await trainer.run();
  const [first] = summary.epochs;
  const last = summary.epochs.at(-1)!;
  t.equal(trainer.iterationsPerEpoch, 20, '⌈400 / 20⌉ iterations per epoch');
  t.equal(summary.epochs.length, 11, 'evaluated before training and after each of 10 epochs');
  t.ok(first.trainAccuracy < 0.2, `chance-level at start (${first.trainAccuracy})`);
  t.ok(last.trainAccuracy > 0.6, `train accuracy rose to ${last.trainAccuracy}`);
  t.ok(last.testAccuracy > 0.5, `test accuracy rose to ${last.testAccuracy}`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  t.ok(mean(losses.slice(-20)) < mean(losses.slice(0, 20)) - 0.5, 'batch loss fell');
});

for (const engine of ['backprop', 'incremental'] as const) {
  t.test(`synthetic spiral with momentum learns (${engine} gradient): loss falls, accuracy rises`, async (t) => {
    const dataset = spiral({ seed: 1 });
    const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 30, outputSize: 3, weightInitStd: 1, seed: 1 });
    const pool = engine === 'incremental' ? poolOf(2) : undefined;
    const trainer = new Trainer({ net, dataset, optimizer: createOptimizer('momentum', { learningRate: 0.1 }), engine, pool, batchSize: 30, iterations: 800, sampling: 'shuffle' });
    const summary = await trainer.run();
    const [first, last] = [summary.epochs[0], summary.epochs.at(-1)!];
    t.ok(last.trainAccuracy > first.trainAccuracy + 0.2, `train accuracy ${first.trainAccuracy} → ${last.trainAccuracy}`);
    t.ok(last.testAccuracy > first.testAccuracy + 0.2, `test accuracy ${first.testAccuracy} → ${last.testAccuracy}`);
    t.ok(last.trainLoss < first.trainLoss - 0.3, `train loss ${first.trainLoss} → ${last.trainLoss}`);
    t.ok(last.testLoss < first.testLoss - 0.3, `test loss ${first.testLoss} → ${last.testLoss}`);
  });
}

t.test('same seed, same weights, whatever the thread count; resume is bit-identical', async (t) => {
  const dataset = digitSubset(40);
  for (const sampling of ['replacement', 'shuffle'] as const) {
    const run = async (threads: number, stopAt?: number) => {
      const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 6, outputSize: 10, seed: 9 });
      const options = { dataset, pool: poolOf(threads), batchSize: 15, iterations: 25, sampling, seed: 4 };
      const trainer = new Trainer({ ...options, net, optimizer: createOptimizer('adam', { learningRate: 0.01 }) });
      if (stopAt === undefined) {
        await trainer.run();
        return net.params.slice();
      }
      trainer.on('iteration', (e) => { if (e.iteration === stopAt) trainer.stop(); });
      const partial = await trainer.run();
      t.ok(partial.stopped, 'stopped early');
      // A fresh process would rebuild everything from the checkpoint: do the same here.
      const state = structuredClone(trainer.getState());
      const resumedNet = TwoLayerNet.fromParameters(net.shape, net.params.slice());
      const resumed = new Trainer({ ...options, net: resumedNet, optimizer: createOptimizer('adam', { learningRate: 0.01 }) });
      resumed.setState(state);
      await resumed.run();
      return resumedNet.params.slice();
    };
    const oneThread = await run(1);
    const twoThreads = await run(2);
    const interrupted = await run(2, 11);
    t.ok(bytes(twoThreads).equals(bytes(oneThread)), `${sampling}: 2 threads = 1 thread, bit for bit`);
    t.ok(bytes(interrupted).equals(bytes(oneThread)), `${sampling}: stopped at 11 and resumed = uninterrupted, bit for bit`);
  }
});

t.test('getState and step refuse to run during a step; an iteration listener may take the state, and it continues exactly', async (t) => {
  const dataset = digitSubset(40);
  const options = { dataset, pool: poolOf(2), batchSize: 15, iterations: 6, seed: 4 };
  const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 6, outputSize: 10, seed: 9 });
  const trainer = new Trainer({ ...options, net, optimizer: createOptimizer('momentum', { learningRate: 0.05 }) });
  let inListener: ReturnType<Trainer['getState']> | undefined;
  trainer.on('iteration', (event) => {
    if (event.iteration === 3) inListener = structuredClone(trainer.getState());
  });
  await trainer.step();
  const afterOne = trainer.getState();
  const stepping = trainer.step();
  t.throws(() => trainer.getState(), { message: 'Expected getState() between steps, got a call during step 2: await the step, or call it in an `iteration` or `epoch` listener' });
  await t.rejects(trainer.step(), { message: /^Expected step\(\) between steps, got a call during step 2/ });
  await t.rejects(trainer.evaluate(), { message: /^Expected evaluate\(\) between steps, got a call during step 2/ });
  t.throws(() => trainer.setState(afterOne), { message: /^Expected setState\(\) between steps, got a call during step 2/ });
  await stepping;
  t.equal(trainer.getState().iteration, 2, 'between steps it is whole');
  await trainer.step();
  t.equal(inListener?.iteration, 3, 'taken in the listener of step 3');
  const atThree = net.params.slice();
  await trainer.run();
  // The state taken in the listener, with the weights of that moment, continues to the same weights.
  const resumedNet = TwoLayerNet.fromParameters(net.shape, atThree);
  const resumed = new Trainer({ ...options, net: resumedNet, optimizer: createOptimizer('momentum', { learningRate: 0.05 }) });
  resumed.setState(inListener!);
  await resumed.run();
  t.ok(bytes(resumedNet.params.slice()).equals(bytes(net.params.slice())), 'resumed from the listener\'s state = uninterrupted, bit for bit');
});

t.test('a diverging run stops with advice and keeps the last finite weights', async (t) => {
  const dataset = spiral({ seed: 2 });
  const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 5, outputSize: 3, weightInitStd: 1, seed: 1 });
  const trainer = new Trainer({ net, dataset, optimizer: createOptimizer('sgd', { learningRate: 1e308 }), engine: 'backprop', iterations: 50 });
  await t.rejects(trainer.run(), { name: 'DivergenceError', message: /^Training diverged at iteration \d+: (the loss became NaN|weight \d+ became non-finite|the loss reached [\d.]+, near its ceiling of 16\.12 .*); try a smaller learning rate/ });
  t.ok(net.params.every(Number.isFinite), 'weights are finite');
  t.type(new DivergenceError('x'), Error);
});

t.test('a run whose loss grows far above where it started stops as diverged, without NaN', async (t) => {
  const dataset = spiral({ seed: 2 });
  const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 5, outputSize: 3, weightInitStd: 1, seed: 1 });
  const epochs: number[] = [];
  // lr 100 on this spiral ends at a finite batch loss of ~10 (log 3 ≈ 1.1): no NaN, but no learning either.
  const trainer = new Trainer({ net, dataset, optimizer: createOptimizer('sgd', { learningRate: 100 }), engine: 'backprop', batchSize: 10, iterations: 500 });
  trainer.on('epoch', (e: { trainLoss: number }) => epochs.push(e.trainLoss));
  const error = await trainer.run().then(() => undefined, (e: unknown) => e as Error);
  t.match(error, { name: 'DivergenceError', message: /^Training diverged by iteration \d+: the train loss is [\d.]+, more than 2× both a uniform guess's \(log 3 = 1\.099\) and the first evaluation's \([\d.]+\); try a smaller learning rate/ });
  const limit = 2 * Math.max(Math.log(3), epochs[0]);
  t.ok(Number(/the train loss is ([\d.]+)/.exec(error!.message)![1]) > limit, 'the loss that stopped it is above the limit');
  // Listeners checkpoint on epoch events: the diverged evaluation must not be one.
  t.ok(epochs.length >= 1 && epochs.every((loss) => loss <= limit), `only good epochs were emitted (${epochs.map((l) => l.toFixed(2)).join(', ')})`);
  t.equal(trainer.getState().epochs.length, epochs.length, 'nor recorded');
  t.ok(net.params.every(Number.isFinite));
});

t.test('a batch loss at the ceiling of the 1e-7 stops the run as diverged', async (t) => {
  // Batches of one sample, and weights that put all the probability on another class than the
  // first sample's (the Trainer's sampler with the same seed draws it): batch loss = −log 1e-7.
  const dataset = spiral({ seed: 2 });
  const first = new BatchSampler(dataset.train, 2, 1, 'replacement', 7).next().labels[0];
  const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 5, outputSize: 3, seed: 1 });
  net.W2.fill(0);
  net.b2.fill(-60);
  net.b2[(first + 1) % 3] = 60;
  const trainer = new Trainer({ net, dataset, optimizer: createOptimizer('sgd', { learningRate: 1e-300 }), engine: 'backprop', batchSize: 1, iterations: 5, seed: 7 });
  const before = net.params.slice();
  const stateBefore = trainer.getState();
  const error = await trainer.step().then(() => undefined, (thrown: unknown) => thrown);
  t.match(error, { name: 'DivergenceError', message: /^Training diverged at iteration 1: the loss reached 16\.12, near its ceiling of 16\.12 \(−log 1e-7: the right class gets almost no probability\); try a smaller learning rate \(e\.g\. 1e-301, a tenth of 1e-300\)\. The weights of iteration 0 are kept\.$/ });
  t.equal((error as DivergenceError).diagnosis, (error as Error).message.replace(' The weights of iteration 0 are kept.', ''), 'the diagnosis: the message without what became of the weights');
  t.same([...net.params], [...before], 'the weights before the step are kept');
  t.equal(trainer.iteration, 0, 'the iteration is the last good one, as the weights');
  // The optimizer's state is the failed step's: going on or saving would mix two iterations.
  const refusal = /^This Trainer diverged at iteration 1: its weights are those of iteration 0 but its optimizer's state is not; give it a whole state with setState/;
  await t.rejects(trainer.step(), { message: refusal });
  await t.rejects(trainer.run(), { message: refusal });
  t.equal(trainer.epochs.length, 0, 'run() refuses before evaluating');
  await t.rejects(trainer.evaluate(), { message: refusal });
  await t.rejects(trainer.saveCheckpoint(join(t.testdir(), 'checkpoint')), { message: refusal });
  t.throws(() => trainer.getState(), { message: refusal });
  // Restored to the state before the step (the weights already are), it goes on: the same step diverges the same way.
  trainer.setState(stateBefore);
  await t.rejects(trainer.step(), { name: 'DivergenceError', message: /^Training diverged at iteration 1: the loss reached 16\.12/ });
});

t.test('a rate that diverges within 10 iterations of the run\'s start, or of a resume at another rate, is advised down to a tenth; later, to half', async (t) => {
  const dataset = spiral({ seed: 2 });
  // The next sample's class gets almost no probability: the batch loss reaches the ceiling of the 1e-7.
  const saturate = (trainer: Trainer) => {
    const next = new BatchSampler(dataset.train, 2, 1, 'replacement', 7);
    next.setState(trainer.getState().sampler);
    const label = next.next().labels[0];
    trainer.net.W2.fill(0);
    trainer.net.b2.fill(-60);
    trainer.net.b2[(label + 1) % 3] = 60;
  };
  const trained = async (steps: number) => {
    const trainer = new Trainer({ net: new TwoLayerNet({ inputSize: 2, hiddenSize: 5, outputSize: 3, seed: 1 }), dataset, optimizer: createOptimizer('sgd', { learningRate: 0.1 }), engine: 'backprop', batchSize: 1, iterations: 100, seed: 7 });
    for (let step = 0; step < steps; step++) await trainer.step();
    return trainer;
  };
  t.equal(EARLY_DIVERGENCE_STEPS, 10);
  let trainer = await trained(9);
  saturate(trainer);
  await t.rejects(trainer.step(), { name: 'DivergenceError', message: /^Training diverged at iteration 10: .*\(e\.g\. 0\.01, a tenth of 0\.1\)/, suggestedLearningRate: 0.01 }, 'at iteration 10: a tenth');
  trainer = await trained(10);
  const checkpoint = join(t.testdir(), 'checkpoint');
  await trainer.saveCheckpoint(checkpoint);
  saturate(trainer);
  await t.rejects(trainer.step(), { name: 'DivergenceError', message: /^Training diverged at iteration 11: .*\(e\.g\. 0\.05, half of 0\.1\)/, suggestedLearningRate: 0.05 }, 'at iteration 11: half');
  // Resumed at the same rate, the run is the one that trained 10 iterations: half.
  const same = await Trainer.fromCheckpoint(checkpoint, { dataset, learningRate: 0.1 });
  saturate(same);
  await t.rejects(same.step(), { name: 'DivergenceError', message: /\(e\.g\. 0\.05, half of 0\.1\)/ }, 'resumed at its own rate: half');
  // Resumed at another rate, that rate has had no iteration to prove itself: a tenth.
  const faster = await Trainer.fromCheckpoint(checkpoint, { dataset, learningRate: 0.2 });
  saturate(faster);
  await t.rejects(faster.step(), { name: 'DivergenceError', message: /^Training diverged at iteration 11: .*\(e\.g\. 0\.02, a tenth of 0\.2\)/, suggestedLearningRate: 0.02 }, 'resumed at another rate: a tenth');
});

t.test('bad trainer options', async (t) => {
  const dataset = spiral();
  const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 3 });
  const optimizer = createOptimizer('sgd');
  t.throws(() => new Trainer({ net, dataset, optimizer }), { name: 'TypeError', message: 'Expected `pool` (a GradientPool) for `engine` `incremental`, got `undefined`' });
  t.throws(() => new Trainer({ net, dataset, optimizer, engine: 'backprop', batchSize: 0 }), { name: 'RangeError', message: 'Expected `batchSize` to be an integer from 1 and up, got `0` (number)' });
  t.throws(() => new Trainer({ net, dataset, optimizer, engine: 'magic' as never }), { name: 'RangeError', message: /Expected `engine` to be one of `incremental`, `naive`, `backprop`/ });
  const wrong = new TwoLayerNet({ inputSize: 3, hiddenSize: 3, outputSize: 3 });
  t.throws(() => new Trainer({ net: wrong, dataset, optimizer, engine: 'backprop' }), { name: 'RangeError', message: 'Expected the net (3 inputs, 3 classes) to match dataset `spiral` (2 inputs, 3 classes)' });
});

/** `fn` throws an argument error of class `kind` (and name `kind`'s) with exactly `message`. */
function refuses(t: Test, fn: () => unknown, kind: 'TypeError' | 'RangeError', message: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  t.equal((error as Error | undefined)?.message, message, message);
  t.ok(kind === 'TypeError' ? error instanceof ArgumentTypeError : error instanceof ArgumentRangeError, `an Argument${kind}`);
  t.equal((error as Error | undefined)?.name, kind);
}

t.test('BatchSampler checks every argument', async (t) => {
  const { train } = spiral();
  const rows = train.rows;
  refuses(t, () => new BatchSampler(train, 2, 10, 'foo' as never, 0), 'RangeError', 'Expected `sampling` to be one of `replacement`, `shuffle`, got `"foo"` (string)');
  refuses(t, () => new BatchSampler(train, 2, 0, 'replacement', 0), 'RangeError', 'Expected `batchSize` to be an integer from 1 and up, got `0` (number)');
  refuses(t, () => new BatchSampler(train, 2, 2.5, 'shuffle', 0), 'RangeError', 'Expected `batchSize` to be an integer from 1 and up, got `2.5` (number)');
  refuses(t, () => new BatchSampler(train, 2, '10' as never, 'shuffle', 0), 'TypeError', 'Expected `batchSize` to be an integer from 1 and up, got `"10"` (string)');
  refuses(t, () => new BatchSampler(train, 2, 10, 'shuffle', -1), 'RangeError', 'Expected `seed` to be an integer from 0 to 4294967295, got `-1` (number)');
  refuses(t, () => new BatchSampler(train, 0, 10, 'shuffle', 0), 'RangeError', 'Expected `inputSize` to be an integer from 1 and up, got `0` (number)');
  refuses(t, () => new BatchSampler(train, 3, 10, 'shuffle', 0), 'RangeError', `Expected \`split.x\` to hold rows × inputSize = ${rows} × 3 = ${rows * 3} values, got a Float64Array of length ${rows * 2}`);
  refuses(t, () => new BatchSampler(null as never, 2, 10, 'shuffle', 0), 'TypeError', 'Expected `split` to be an object such as { x: Float64Array, labels: Int32Array, rows }, got `null`');
  refuses(t, () => new BatchSampler({ ...train, rows: 0, x: new Float64Array(0), labels: new Int32Array(0) }, 2, 10, 'shuffle', 0), 'RangeError', 'Expected `split.rows` to be an integer from 1 and up, got `0` (number)');
  refuses(t, () => new BatchSampler({ ...train, labels: train.labels.subarray(1) }, 2, 10, 'shuffle', 0), 'RangeError', `Expected \`split.labels\` to hold one label per row (${rows}), got an Int32Array of length ${rows - 1}`);
  refuses(t, () => new BatchSampler({ ...train, labels: [...train.labels] as never }, 2, 10, 'shuffle', 0), 'TypeError', `Expected \`split.labels\` to be an Int32Array, got an array of length ${rows}`);
  refuses(t, () => new BatchSampler({ ...train, x: [...train.x] as never }, 2, 10, 'shuffle', 0), 'TypeError', `Expected \`split.x\` to be a Float64Array, got an array of length ${rows * 2}`);
  // A batch larger than the split is allowed: batches of the whole split (the CLI warns about it).
  t.equal(new BatchSampler(train, 2, rows + 5, 'replacement', 0).batchSize, rows);
});

t.test('BatchSampler.setState refuses a state of another sampling or position', async (t) => {
  const { train } = spiral();
  const shuffle = new BatchSampler(train, 2, 10, 'shuffle', 1);
  const replacement = new BatchSampler(train, 2, 10, 'replacement', 1);
  refuses(t, () => shuffle.setState(replacement.getState()), 'RangeError', 'Expected `state.sampling` to be `shuffle` (this sampler\'s), got `"replacement"` (string)');
  refuses(t, () => shuffle.setState({ ...shuffle.getState(), position: train.rows + 1 }), 'RangeError', `Expected \`state.position\` to be an integer from 0 to ${train.rows}, got \`${train.rows + 1}\` (number)`);
  refuses(t, () => replacement.setState({ ...replacement.getState(), position: 3 }), 'RangeError', 'Expected `state.position` to be an integer from 0 to 0, got `3` (number)');
  refuses(t, () => shuffle.setState(undefined as never), 'TypeError', 'Expected `state` to be an object such as { sampling, random, position } from getState(), got `undefined`');
  // A good state still continues exactly: the next batch of a copy equals the original's.
  shuffle.next();
  const copy = new BatchSampler(train, 2, 10, 'shuffle', 99);
  copy.setState(structuredClone(shuffle.getState()));
  t.same([...copy.next().labels], [...shuffle.next().labels]);
});

t.test('Trainer checks every option', async (t) => {
  const dataset = spiral();
  const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 3 });
  const optimizer = createOptimizer('sgd');
  const base = { net, dataset, optimizer, engine: 'backprop' as const };
  const limit = (got: string) => `Expected \`evaluationLimit\` to be an integer from 1 and up, or Infinity (every sample), got ${got}`;
  refuses(t, () => new Trainer({ ...base, evaluationLimit: 0 }), 'RangeError', limit('`0` (number)'));
  refuses(t, () => new Trainer({ ...base, evaluationLimit: 2.5 }), 'RangeError', limit('`2.5` (number)'));
  refuses(t, () => new Trainer({ ...base, evaluationLimit: NaN }), 'RangeError', limit('`NaN` (number)'));
  refuses(t, () => new Trainer({ ...base, evaluationLimit: '10' as never }), 'TypeError', limit('`"10"` (string)'));
  refuses(t, () => new Trainer(undefined as never), 'TypeError', "Expected `options` to be an object such as { net, dataset, optimizer, engine: 'backprop' }, got `undefined`");
  refuses(t, () => new Trainer({ ...base, learningRate: 0.1 } as never), 'RangeError', 'Expected `options` of Trainer to have only the keys `net`, `dataset`, `optimizer`, `pool`, `batchSize`, `iterations`, `engine`, `sampling`, `seed`, `evaluationLimit`, got the key `learningRate`');
  refuses(t, () => new Trainer({ ...base, net: { shape: net.shape, params: net.params } as never }), 'TypeError', 'Expected `net` to be a TwoLayerNet, got an object (Object)');
  refuses(t, () => new Trainer({ ...base, optimizer: 'sgd' as never }), 'TypeError', 'Expected `optimizer` to be an Optimizer (e.g. createOptimizer(\'sgd\')), got `"sgd"` (string)');
  refuses(t, () => new Trainer({ ...base, engine: 'incremental', pool: {} as never }), 'TypeError', 'Expected `pool` to be a GradientPool, got an object (Object)');
  refuses(t, () => new Trainer({ ...base, dataset: null as never }), 'TypeError', 'Expected `dataset` to be an object such as { name, inputSize, classes, train, test }, got `null`');
  refuses(t, () => new Trainer({ ...base, iterations: -1 }), 'RangeError', 'Expected `iterations` to be an integer from 0 and up, got `-1` (number)');
  refuses(t, () => new Trainer({ ...base, seed: 2 ** 32 }), 'RangeError', 'Expected `seed` to be an integer from 0 to 4294967295, got `4294967296` (number)');
  refuses(t, () => new Trainer({ ...base, sampling: 'foo' as never }), 'RangeError', 'Expected `sampling` to be one of `replacement`, `shuffle`, got `"foo"` (string)');
  const emptyTest = { ...dataset, test: { x: new Float64Array(0), labels: new Int32Array(0), rows: 0 } };
  refuses(t, () => new Trainer({ ...base, dataset: emptyTest }), 'RangeError', 'Expected `dataset.test.rows` to be an integer from 1 and up, got `0` (number)');
  const labels = dataset.train.labels.slice();
  labels[4] = 3; // spiral has 3 classes: 0, 1, 2
  refuses(t, () => new Trainer({ ...base, dataset: { ...dataset, train: { ...dataset.train, labels } } }), 'RangeError', 'Expected `dataset.train.labels` to be integers from 0 to 2 (classes − 1), got `3` at index 4');
  // Infinity is the default (every sample) and may be given.
  const everything = await new Trainer({ ...base, evaluationLimit: Infinity }).evaluate();
  const byDefault = await new Trainer(base).evaluate();
  t.same(everything, byDefault);
  t.equal(everything.trainAccuracy, evaluateSplit(net, dataset.train).accuracy);
});

t.test('evaluateSplit refuses a limit that would average over no rows', async (t) => {
  const { test } = spiral();
  const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 3, outputSize: 3 });
  refuses(t, () => evaluateSplit(net, test, 0), 'RangeError', 'Expected `limit` to be an integer from 1 and up, or Infinity (every sample), got `0` (number)');
  refuses(t, () => evaluateSplit(net, { x: new Float64Array(0), labels: new Int32Array(0), rows: 0 }), 'RangeError', 'Expected `split.rows` to be an integer from 1 and up, got `0` (number)');
  // Limits above the split's rows, or Infinity, use every row: the net's own accuracy on the whole split.
  const whole = net.accuracy({ data: test.x, rows: test.rows, columns: 2 }, test.labels);
  t.equal(evaluateSplit(net, test, Infinity).accuracy, whole);
  t.equal(evaluateSplit(net, test, test.rows + 1).accuracy, whole);
});
