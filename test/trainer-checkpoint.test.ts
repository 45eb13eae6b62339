import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spiral, xor } from '../datasets/index.js';
import { DivergenceError, InputError } from '../src/errors.js';
import { reviveError, serializeError } from '../src/run/background-protocol.js';
import { RunDivergedError } from '../src/run/run-errors.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { GradientPool } from '../src/parallel/gradient-pool.js';
import { train } from '../src/run/train.js';
import type { RunControl } from '../src/run/train-options.js';
import { trainInBackground } from '../src/run/train-in-background.js';
import { refuses, refusesAsync } from './fixtures/argument-errors.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { loadModel, saveModel } from '../src/train/model-file.js';
import { createOptimizer } from '../src/train/optimizers.js';
import { Trainer, type TrainerOptions } from '../src/train/trainer.js';

const dataset = spiral({ pointsPerClass: 40, seed: 2 });
const bits = (values: Float64Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);

function trainerOf(options: Partial<TrainerOptions> = {}): Trainer {
  return new Trainer({
    net: new TwoLayerNet({ inputSize: 2, hiddenSize: 8, outputSize: 3, weightInitStd: 1, seed: 5 }),
    dataset, optimizer: createOptimizer('adam', { learningRate: 0.05, beta1: 0.8 }), batchSize: 16, iterations: 30,
    engine: 'backprop', sampling: 'shuffle', seed: 9, ...options,
  });
}

t.test('trainer.saveCheckpoint then Trainer.fromCheckpoint continues bit for bit (Adam state, shuffled sampler, epochs)', async (t) => {
  const dir = t.testdir();
  const whole = trainerOf();
  await whole.run();
  const part = trainerOf();
  for (let i = 0; i < 13; i++) await part.step();
  const files = await part.saveCheckpoint(join(dir, 'part'), { config: { weightInitStd: 1 } });
  t.same(files, { json: join(dir, 'part.json'), safetensors: join(dir, 'part.safetensors') });
  const resumed = await Trainer.fromCheckpoint(files.json, { dataset });
  t.equal(resumed.iteration, 13);
  t.equal(resumed.optimizer.name, 'adam');
  t.same(resumed.optimizer.hyperparameters, part.optimizer.hyperparameters, 'every hyperparameter, not only the learning rate');
  await resumed.run();
  t.ok(bits(resumed.net.params).equals(bits(whole.net.params)), 'the same weights, bit for bit, as a run never stopped');
  const saved = await loadCheckpoint(files.json);
  t.match(saved.meta.config, { dataset: dataset.name, hiddenSize: 8, batchSize: 16, iterations: 30, engine: 'backprop', optimizer: 'adam', learningRate: 0.05, sampling: 'shuffle', seed: 9, weightInitStd: 1 });

  // At another rate (as a DivergenceError suggests): the other hyperparameters and the position are the checkpoint's.
  const slower = await Trainer.fromCheckpoint(files.json, { dataset, learningRate: 0.01 });
  t.same(slower.optimizer.hyperparameters, { ...part.optimizer.hyperparameters, learningRate: 0.01 });
  t.equal(slower.iteration, 13);
  t.same(slower.getState(), part.getState(), 'the optimizer\'s state (Adam\'s moments and step), the sampler and the epochs are the checkpoint\'s');
  await t.rejects(Trainer.fromCheckpoint(files.json, { dataset, learningRate: 0 }), { name: 'RangeError', message: 'Expected `learningRate` to be a finite number greater than 0, got `0` (number)' });
});

t.test('a divergence crosses the background thread with its fields', (t) => {
  const run = reviveError(serializeError(new RunDivergedError('Training diverged.', { checkpoint: 'c.json', iteration: 4, suggestedLearningRate: 0.05 })));
  t.ok(run instanceof RunDivergedError);
  t.match(run, { message: 'Training diverged.', checkpoint: 'c.json', iteration: 4, suggestedLearningRate: 0.05 });
  const step = reviveError(serializeError(new DivergenceError('Training diverged. The weights are kept.', { diagnosis: 'Training diverged.', suggestedLearningRate: 0.5 })));
  t.ok(step instanceof DivergenceError && !(step instanceof RunDivergedError));
  t.match(step, { diagnosis: 'Training diverged.', suggestedLearningRate: 0.5 });
  t.end();
});

t.test('a numerical trainer resumes on a pool with another thread count, to a new iteration count', async (t) => {
  const dir = t.testdir();
  const pools = [new GradientPool({ threads: 2 }), new GradientPool({ threads: 1 })];
  t.teardown(() => Promise.all(pools.map((pool) => pool.destroy())));
  const whole = trainerOf({ engine: 'incremental', pool: pools[0], iterations: 12 });
  await whole.run();
  const part = trainerOf({ engine: 'incremental', pool: pools[0], iterations: 5 });
  await part.run();
  await part.saveCheckpoint(join(dir, 'c'));
  const resumed = await Trainer.fromCheckpoint(join(dir, 'c'), { dataset, pool: pools[1], iterations: 12 });
  t.equal(resumed.iterations, 12);
  await resumed.run();
  t.ok(bits(resumed.net.params).equals(bits(whole.net.params)), 'bit for bit across thread counts');
});

t.test('Trainer.fromCheckpoint refuses a dataset of another shape and a damaged checkpoint, naming them', async (t) => {
  const dir = t.testdir();
  const trainer = trainerOf();
  await trainer.saveCheckpoint(join(dir, 'c'));
  await t.rejects(Trainer.fromCheckpoint(join(dir, 'c.json'), { dataset: xor() }), new InputError('Expected `dataset` to have the checkpoint\'s 2 inputs and 3 classes, got 2 and 2 (xor)'));
  const expected = 'Expected `path` to be a run directory or its checkpoint.json (with the .safetensors beside it)';
  await t.rejects(Trainer.fromCheckpoint(join(dir, 'none.json'), { dataset }), new InputError(`${expected}, got \`${join(dir, 'none.json')}\`: no such file`));
  await t.rejects(Trainer.fromCheckpoint(join(dir, 'none'), { dataset }), new InputError(`${expected}, got \`${join(dir, 'none')}\`: no such file or directory`));
  await t.rejects(Trainer.fromCheckpoint(dir, { dataset }), new InputError(`${expected}, got the directory \`${dir}\`, which has no checkpoint.json`));
  // A .json whose tensors are missing: the file given, and the one it lacks.
  await writeFile(join(dir, 'lone.json'), '{}');
  await t.rejects(Trainer.fromCheckpoint(join(dir, 'lone.json'), { dataset }), new InputError(`Invalid checkpoint \`${join(dir, 'lone.json')}\`: expected its tensors in \`${join(dir, 'lone.safetensors')}\` beside it, found no such file`));

  // Not a path at all: the caller's bug, named as an argument.
  const notAPath = (shown: string) => `Expected \`path\` to be a run directory, a checkpoint file or a Checkpoint from loadCheckpoint, got ${shown}`;
  await refusesAsync(t, () => Trainer.fromCheckpoint('', { dataset }), 'TypeError', notAPath('`""` (string)'));
  await refusesAsync(t, () => Trainer.fromCheckpoint(5 as never, { dataset }), 'TypeError', notAPath('`5` (number)'));
  await refusesAsync(t, () => Trainer.fromCheckpoint({ params: [1, 2] } as never, { dataset }), 'TypeError', notAPath('an object (Object)'));
});

t.test('a run directory whose run did not finish: Trainer.fromCheckpoint takes its checkpoint.json; loadModel, which wants model.json, says where the checkpoint is', async (t) => {
  const run = join(t.testdir(), 'unfinished');
  const trainer = trainerOf({ iterations: 7 });
  await trainer.run();
  await trainer.saveCheckpoint(join(run, 'checkpoint'));
  const again = await Trainer.fromCheckpoint(run, { dataset });
  t.equal(again.iteration, 7);
  t.ok(bits(again.net.params).equals(bits(trainer.net.params)), 'the checkpoint\'s weights');
  await t.rejects(loadModel(run), new InputError(`Expected \`path\` to be a run directory, its model.json or a checkpoint.json (with the .safetensors beside it), got the directory \`${run}\`, which has no model.json (the run did not finish: its last checkpoint is \`${join(run, 'checkpoint.json')}\`)`));
  t.ok(bits((await loadModel(join(run, 'checkpoint.json'))).net.params).equals(bits(trainer.net.params)), 'the checkpoint named loads as a model');
});

t.test('saveModel and loadModel: the files a run writes, the same weights back; a run directory loads as its model', async (t) => {
  const dir = t.testdir();
  const net = new TwoLayerNet({ inputSize: 4, hiddenSize: 3, outputSize: 2, seed: 1 });
  const files = await saveModel(join(dir, 'model.json'), net, { config: { dataset: 'xor' }, iteration: 7 });
  t.equal(files.json, join(dir, 'model.json'));
  const loaded = await loadModel(files.json);
  t.ok(bits(loaded.net.params).equals(bits(net.params)));
  t.same(loaded.net.shape, net.shape);
  t.equal(loaded.dataset, 'xor');
  t.equal(loaded.iteration, 7);
  const run = await train({ dataset: 'xor', hiddenSize: 4, engine: 'backprop', iterations: 20, out: join(dir, 'run') });
  const fromRun = await loadModel(join(dir, 'run'));
  t.ok(bits(fromRun.net.params).equals(bits(run.net.params)), 'a run directory gives its final model');
  t.equal(fromRun.dataset, 'xor');
  // A stop asked for before the first step (during the set-up) holds: the trainer's start does not clear it.
  const early = await train({ dataset: 'xor', hiddenSize: 4, engine: 'backprop', iterations: 20, out: join(dir, 'early'), signal: AbortSignal.abort() });
  t.match(early, { stopped: true, iterations: 0 }, 'stopped before any step');
  await t.rejects(train({ dataset: 'xor', iterations: 5, out: join(dir, 'run') }), {
    name: 'InputError',
    message: `Expected \`out\` to be a directory without another run, got \`${join(dir, 'run')}\`, which holds one (checkpoint.json); choose another directory, or continue that run with \`resume: ${JSON.stringify(join(dir, 'run'))}\``,
  }, 'a second run into the same directory, in train()\'s words');
  await t.rejects(loadModel(join(dir, 'nothing')), { name: 'InputError', message: /^Expected `path` to be a run directory, its model\.json or a checkpoint\.json .*: no such file or directory$/ });
});

t.test('train() reports a pool that cannot compute the batch loss in a warning, once, mid-run, and trains on to the same weights', async (t) => {
  const dir = t.testdir();
  const options = { dataset: 'xor', hiddenSize: 4, weightInitStd: 1, learningRate: 1, batchSize: 4, iterations: 6, seed: 2, threads: 2 } as const;
  const reference = await train({ ...options, out: join(dir, 'reference') });
  t.same(reference.warnings, [], 'no warning when the pool computes the loss');
  const original = GradientPool.prototype.lossOfBatch;
  let asked = 0;
  GradientPool.prototype.lossOfBatch = function lossOfBatch() {
    asked++;
    return Promise.reject(new Error('the loss is broken here'));
  };
  try {
    const events: string[] = [];
    const result = await train({ ...options, out: join(dir, 'failing'), onEvent: (event) => events.push(event.event === 'warning' ? `warning: ${event.message}` : event.event) });
    const message = 'The pool could not compute the batch loss at iteration 1 (the loss is broken here); computing it on the main thread from now on, the same value';
    t.same(result.warnings, [message]);
    t.equal(asked, 1, 'the pool is asked once');
    // Said once the first step is whole: after its iteration's work, before its iteration event.
    t.same(events.slice(events.indexOf(`warning: ${message}`) - 1, events.indexOf(`warning: ${message}`) + 2), ['epoch', `warning: ${message}`, 'iteration']);
    t.ok(bits(result.net.params).equals(bits(reference.net.params)), 'the same weights, bit for bit');
    t.equal(result.finalLoss, reference.finalLoss, 'the same final loss');
  } finally {
    GradientPool.prototype.lossOfBatch = original;
  }
});

t.test('a run\'s checkpoint() asked for after the run diverged rejects with the divergence: the last good checkpoint stays', async (t) => {
  const out = join(t.testdir(), 'run');
  let control: RunControl | undefined;
  const failed = await train({
    dataset: 'spiral', hiddenSize: 5, weightInitStd: 1, learningRate: 10, engine: 'backprop', batchSize: 10, iterations: 2000, seed: 1, out,
    onReady: (run) => { control = run; },
  }).then(() => undefined, (error: unknown) => error as Error & { checkpoint?: string });
  t.match(failed, { name: 'RunDivergedError' });
  const good = await loadCheckpoint(join(out, 'checkpoint.json'));
  await t.rejects(control!.checkpoint(), { name: 'DivergenceError', message: /^Training diverged by iteration \d+/ });
  t.equal((await loadCheckpoint(join(out, 'checkpoint.json'))).meta.iteration, good.meta.iteration, 'the last good checkpoint is not replaced');
});

t.test('saveModel, train, a run\'s checkpoint() and trainInBackground refuse bad arguments as Argument errors (bad input, not a bug)', async (t) => {
  const dir = t.testdir();
  await refusesAsync(t, () => saveModel(join(dir, 'model'), { params: new Float64Array(3) } as never), 'TypeError', 'Expected `net` to be a TwoLayerNet, got an object (Object)');
  await refusesAsync(t, () => train({ dataset: 'xor', signal: 'stop' as never }), 'TypeError', 'Expected `signal` to be an AbortSignal, got `"stop"` (string)');
  await refusesAsync(t, () => train({ dataset: 'xor', abortStep: {} as never }), 'TypeError', 'Expected `abortStep` to be an AbortSignal, got an object (Object)');
  // The dataset option, named as train() calls it, with the value given.
  await refusesAsync(t, () => train({ dataset: 5 as never }), 'TypeError', "Expected `dataset` to be a dataset spec (e.g. 'mnist', 'csv:FILE') or a loaded Dataset, got `5` (number)");
  await refusesAsync(t, () => train({ dataset: null as never }), 'TypeError', "Expected `dataset` to be a dataset spec (e.g. 'mnist', 'csv:FILE') or a loaded Dataset, got `null`");
  await t.rejects(train({ dataset: 'digits' }), new InputError('Expected `dataset` to be mnist, idx:DIR, csv:FILE[,TEST], spiral or xor, got `digits`'));
  const good = xor();
  await refusesAsync(t, () => train({ dataset: { ...good, inputSize: undefined } as never }), 'TypeError', 'Expected `dataset.inputSize` to be an integer from 1 and up, got `undefined`');
  const mislabeled = { ...good, test: { ...good.test, labels: good.test.labels.map((label, i) => (i === 3 ? 2 : label)) } };
  await refusesAsync(t, () => train({ dataset: mislabeled, threads: 1 }), 'RangeError', 'Expected `dataset.test.labels` to be integers from 0 to 1 (classes − 1), got `2` at index 3');
  let refused: Promise<void> | undefined;
  await train({
    dataset: 'xor', hiddenSize: 4, engine: 'backprop', iterations: 2, out: join(dir, 'run'),
    onReady: (run) => { refused = refusesAsync(t, () => run.checkpoint(''), 'TypeError', 'Expected `path` to be a checkpoint path, got `""` (string)'); },
  });
  t.ok(refused, 'onReady was called');
  await refused;
  refuses(t, () => trainInBackground({ dataset: 'xor', onEvent: 3 as never }), 'TypeError', 'Expected `onEvent` to be a function, got `3` (number)');
});
