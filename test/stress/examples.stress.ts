/**
 * Every script in examples/ runs as a user runs it (`npm run example`: node
 * with the package's source condition and tsx), exits 0, writes nothing to
 * stderr but its progress, and prints what independent references say it
 * should: the book's numbers (/work/shared/reference/book-values.md, computed
 * with the book's numpy code), hand computations, and values recomputed here
 * by naive code: a forward pass written out below for single gradient
 * entries, and backpropagation (chapter 5, `exact: true`) in a plain loop for
 * the training runs. The training references share only what fixes a run's
 * randomness with the library: the seeded initial weights and the batch sampler.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchSampler, TwoLayerNet } from '../../src/index.js';
import { loadMnist, spiral, takeRows, xor, type Split } from '../../datasets/index.js';
import { childEnv } from '../fixtures/child-env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const examplesDirectory = join(root, 'examples');

// --- Running the examples -----------------------------------------------------

interface Output { code: number | null; stdout: string; stderr: string; seconds: number }

/** The node flags of `npm run example`, from package.json, so the test runs the documented command. */
function exampleFlags(): string[] {
  const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.example;
  const [command, ...flags] = script.trim().split(/\s+/);
  if (command !== 'node') throw new Error(`Expected the "example" script to start with node, got ${script}`);
  return flags;
}

function runExample(file: string): Promise<Output> {
  const started = performance.now();
  const child = spawn(process.execPath, [...exampleFlags(), join('examples', file)], { cwd: root, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += String(chunk); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

/**
 * Starts every example now, one after the other (each uses up to three
 * threads of a two-core machine), so that each runs while the tests compute
 * the references of the ones before.
 */
function runAll(files: string[]): Map<string, Promise<Output>> {
  let previous: Promise<unknown> = Promise.resolve();
  return new Map(files.map((file) => {
    const output = previous.then(() => runExample(file));
    previous = output.catch(() => undefined);
    return [file, output];
  }));
}

// --- Comparing printed lines ---------------------------------------------------

const NUMBER = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi;

/**
 * An expected line: its text with the expected numbers in it, each printed
 * number within `abs + rel·|expected|` of its counterpart (exact by default);
 * or a pattern, for a line with a measured time.
 */
type Expected = string | RegExp | { line: string; abs?: number; rel?: number };

function checkLines(t: Test, printed: string, expected: Expected[]): void {
  const lines = printed.replace(/\n$/, '').split('\n');
  t.equal(lines.length, expected.length, `${expected.length} lines`, { printed });
  expected.forEach((want, i) => {
    const line = lines[i] ?? '';
    if (want instanceof RegExp) {
      t.match(line, want, `line ${i + 1}`);
      return;
    }
    const { line: wanted, abs = 0, rel = 0 } = typeof want === 'string' ? { line: want } : want;
    const shape = (text: string) => text.replace(NUMBER, '#');
    if (shape(line) !== shape(wanted)) {
      t.equal(line, wanted, `line ${i + 1}`);
      return;
    }
    const found = line.match(NUMBER)?.map(Number) ?? [];
    const numbers = wanted.match(NUMBER)?.map(Number) ?? [];
    const off = numbers.findIndex((value, k) => !(Math.abs(found[k] - value) <= abs + rel * Math.abs(value)));
    t.ok(off < 0, `line ${i + 1}: ${wanted}${abs || rel ? ` (±${abs ? `${abs}` : ''}${abs && rel ? ' + ' : ''}${rel ? `${rel} relative` : ''})` : ''}`, off < 0 ? {} : { found: line, wanted, number: off });
  });
}

const list = (values: ArrayLike<number>) => `[${Array.from(values).join(', ')}]`;

// --- Naive references -----------------------------------------------------------

interface Data { inputSize: number; classes: number; train: Split; test: Split }

/** Accuracy (argmax) and mean cross-entropy (with the book's 1e-7) of a split, from the net's class probabilities. */
function accuracyAndLoss(net: TwoLayerNet, split: Split): { accuracy: number; loss: number } {
  const width = split.x.length / split.rows;
  const probabilities = net.predict({ data: split.x, rows: split.rows, columns: width }).data;
  const classes = probabilities.length / split.rows;
  let correct = 0;
  let loss = 0;
  for (let n = 0; n < split.rows; n++) {
    const row = probabilities.subarray(n * classes, (n + 1) * classes);
    let best = 0;
    for (let k = 1; k < classes; k++) if (row[k] > row[best]) best = k;
    if (best === split.labels[n]) correct++;
    loss -= Math.log(row[split.labels[n]] + 1e-7);
  }
  return { accuracy: correct / split.rows, loss: loss / split.rows };
}

interface Recipe { hiddenSize: number; weightInitStd?: number; learningRate: number; batchSize: number; iterations: number; seed: number }
interface Evaluation { iteration: number; batchLoss: number; trainAccuracy: number; testAccuracy: number }

/**
 * The book's training loop with backpropagation for the gradient: SGD, the
 * batch loss after each update, and both accuracies every `every` iterations
 * (and before the first).
 */
function referenceTraining(data: Data, recipe: Recipe, every: number): Evaluation[] {
  const net = new TwoLayerNet({ inputSize: data.inputSize, hiddenSize: recipe.hiddenSize, outputSize: data.classes, weightInitStd: recipe.weightInitStd ?? 0.01, seed: recipe.seed });
  const sampler = new BatchSampler(data.train, data.inputSize, recipe.batchSize, 'replacement', recipe.seed);
  const evaluate = (iteration: number, batchLoss: number): Evaluation => ({
    iteration, batchLoss, trainAccuracy: accuracyAndLoss(net, data.train).accuracy, testAccuracy: accuracyAndLoss(net, data.test).accuracy,
  });
  const evaluations = [evaluate(0, Number.NaN)];
  let batchLoss = Number.NaN;
  for (let i = 1; i <= recipe.iterations; i++) {
    const batch = sampler.next();
    const x = { data: batch.x, rows: batch.rows, columns: data.inputSize };
    const grad = net.gradient(x, batch.labels, { exact: true }).flat;
    for (let k = 0; k < net.params.length; k++) net.params[k] -= recipe.learningRate * grad[k];
    batchLoss = accuracyAndLoss(net, batch).loss;
    if (i % every === 0 || i === recipe.iterations) evaluations.push(evaluate(i, batchLoss));
  }
  return evaluations;
}

/** The mean cross-entropy of a sigmoid 784-50-10 net, written out: params [W1 | b1 | W2 | b2], row-major. */
function naiveLoss(params: Float64Array, x: Float64Array, labels: Int32Array, inputSize: number, hidden: number, classes: number): number {
  const rows = labels.length;
  const b1 = inputSize * hidden;
  const W2 = b1 + hidden;
  const b2 = W2 + hidden * classes;
  let total = 0;
  const h = new Float64Array(hidden);
  const a = new Float64Array(classes);
  for (let n = 0; n < rows; n++) {
    for (let j = 0; j < hidden; j++) {
      let sum = params[b1 + j];
      for (let i = 0; i < inputSize; i++) sum += x[n * inputSize + i] * params[i * hidden + j];
      h[j] = 1 / (1 + Math.exp(-sum));
    }
    let max = -Infinity;
    for (let k = 0; k < classes; k++) {
      let sum = params[b2 + k];
      for (let j = 0; j < hidden; j++) sum += h[j] * params[W2 + j * classes + k];
      a[k] = sum;
      max = Math.max(max, sum);
    }
    let denominator = 0;
    for (let k = 0; k < classes; k++) denominator += Math.exp(a[k] - max);
    total -= Math.log(Math.exp(a[labels[n]] - max) / denominator + 1e-7);
  }
  return total / rows;
}

/** The book's numerical_gradient for one parameter: set it to w + h, then w − h, restore. */
function naivePartial(loss: (params: Float64Array) => number, params: Float64Array, index: number, h = 1e-4): number {
  const saved = params[index];
  params[index] = saved + h;
  const above = loss(params);
  params[index] = saved - h;
  const below = loss(params);
  params[index] = saved;
  return (above - below) / (2 * h);
}

/** `count` rows of a split, evenly spaced (the loaders store splits class by class). */
const everyNth = (split: Split, count: number) => takeRows(split, Array.from({ length: count }, (_, k) => Math.floor((k * split.rows) / count)));

// --- What each example prints ----------------------------------------------------

const EXAMPLES: Record<string, (t: Test, output: Output) => void> = {
  '01-book-chapter4.ts': (t, { stdout }) => {
    // book-values.md
    const bookDW = [[0.2192475712392561, 0.14356242984070455, -0.3628100010055757], [0.3288713569016277, 0.21534364482433954, -0.5442150014739466]];
    // The 784-50-10 training, 1,000 / 200 evenly spaced digits, batch 100, lr 0.1, 200 iterations, seed 0.
    const mnist = loadMnist();
    const data = { inputSize: 784, classes: 10, train: everyNth(mnist.train, 1000), test: everyNth(mnist.test, 200) };
    const training = referenceTraining(data, { hiddenSize: 50, learningRate: 0.1, batchSize: 100, iterations: 200, seed: 0 }, 50);
    // A numerical and an analytic gradient differ by ~1e-10 a step; an accuracy may differ by one sample.
    const slack = { abs: 1 / 200 + 1e-12, rel: 1e-6 };
    checkLines(t, stdout, [
      'sum_squared_error(y1, t) = 0.09750000000000003',
      // numpy sums pairwise (0.5975), a left-to-right sum gets the next double down.
      { line: 'sum_squared_error(y2, t) = 0.5975', rel: 2 ** -52 },
      'cross_entropy_error(y1, t) = 0.510825457099338',
      'cross_entropy_error(y2, t) = 2.302584092994546',
      'numerical_diff(function_1, 5) = 0.1999999999990898',
      'numerical_diff(function_1, 10) = 0.2999999999986347',
      'numerical_gradient(function_2, [3, 4]) = [6.00000000000378, 7.999999999999119]',
      'numerical_gradient(function_2, [0, 2]) = [0, 4.000000000004]',
      'numerical_gradient(function_2, [3, 0]) = [6.000000000012662, 0]',
      'gradient_descent(function_2, [-3, 4], lr=0.1, step_num=100) = [-6.111107928998789e-10, 8.148143905314271e-10]',
      'gradient_descent(function_2, [-3, 4], lr=10, step_num=100) = [-25898374737328.363, -1295248616896.5398]',
      'gradient_descent(function_2, [-3, 4], lr=1e-10, step_num=100) = [-2.999999939999995, 3.9999999199999934]',
      // Printed by the book to 10 digits.
      { line: 'simpleNet predict(x) = [1.054148091, 0.630716529, 1.132807401]', abs: 1e-9 },
      'simpleNet argmax(p) = 2',
      { line: 'simpleNet loss(x, t) = 0.9280682857864075', rel: 1e-15 },
      // A central difference of a loss summed in another order: the last digits are rounding.
      { line: `simpleNet dW = [${list(bookDW[0])}, ${list(bookDW[1])}]`, abs: 1e-11 },
      `TwoLayerNet(784, 100, 10) params: W1 ${784 * 100} = 784×100, b1 100, W2 ${100 * 10} = 100×10, b2 10`,
      { line: `epoch 0: train acc, test acc | ${training[0].trainAccuracy}, ${training[0].testAccuracy}`, ...slack },
      ...training.slice(1).map((e) => ({ line: `epoch ${e.iteration / 10}: loss ${e.batchLoss}, train acc, test acc | ${e.trainAccuracy}, ${e.testAccuracy}`, ...slack })),
    ]);
    t.ok(training.at(-1)!.batchLoss < 2.2, `the loss has started to fall (${training.at(-1)!.batchLoss})`);
  },

  '02-parallel-gradient.ts': (t, { stdout }) => {
    const { train } = loadMnist();
    const batch = takeRows(train, Array.from({ length: 100 }, (_, k) => k * Math.floor(train.rows / 100)));
    const params = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10, seed: 1 }).params.slice();
    const loss = (p: Float64Array) => naiveLoss(p, batch.x, batch.labels, 784, 50, 10);
    const partials = (start: number, count: number) => Array.from({ length: count }, (_, k) => naivePartial(loss, params, start + k));
    const [W1, b1, W2, b2] = [0, 784 * 50, 784 * 50 + 50, 784 * 50 + 50 + 500];
    const pixel = 14 * 28 + 14;
    // The incremental engine agrees with the naive central difference to ~1e-11 (README).
    const close = { abs: 1e-10 };
    checkLines(t, stdout, [
      new RegExp(`^gradient of ${784 * 50 + 50 + 50 * 10 + 10} parameters on a batch of 100 \\(\\d+ ms on 2 threads\\)$`),
      `shapes: W1 ${784 * 50}, b1 50, W2 ${50 * 10}, b2 10`,
      { line: `dW1[${pixel}][0..2] = ${list(partials(W1 + pixel * 50, 3))}`, ...close },
      // Pixel 0 is blank in every digit: w ± h changes nothing, exactly.
      `dW1[0][0..2] = ${list(partials(W1, 3))}`,
      { line: `db1[0..2] = ${list(partials(b1, 3))}`, ...close },
      { line: `dW2[0][0..2] = ${list(partials(W2, 3))}`, ...close },
      { line: `db2 = ${list(partials(b2, 10))}`, ...close },
      // book-values.md: 1e-10 to 1e-7 per tensor against the book's backprop, which drops the 1e-7.
      ...['W1', 'b1', 'W2', 'b2'].map((key) => ({ line: `gradient check ${key}: mean |numerical - backprop| = 0`, abs: 1e-7 })),
    ]);
    t.same(partials(W1, 3), [0, 0, 0], 'the blank pixel\'s partial derivatives are 0');
  },

  '03-background-training.ts': (t, { stdout, stderr }) => {
    const recipe = { hiddenSize: 30, weightInitStd: 2, learningRate: 3, batchSize: 20, iterations: 30 * 12, seed: 1 };
    const data = spiral(); // what `dataset: 'spiral'` loads: 240 train, 60 test points
    const training = referenceTraining(data, recipe, 5 * 12);
    const slack = { abs: 1 / 60 + 1e-12, rel: 1e-6 };
    checkLines(t, stdout, [
      `training 2-30-3 in the background: ${2 * 30 + 30 + 30 * 3 + 3} live weights`,
      ...training.map((e) => ({ line: `epoch ${e.iteration / 12}/30: train acc ${e.trainAccuracy}, test acc ${e.testAccuracy}`, ...slack })),
      { line: `done: 360 iterations, test acc ${training.at(-1)!.testAccuracy}, final batch loss ${training.at(-1)!.batchLoss}`, ...slack },
      'live weights equal the result\'s: true',
    ]);
    // Off a terminal the progress line is one line per throttled update.
    const progress = stderr.replace(/\n$/, '').split('\n');
    t.ok(progress.every((line) => /^iteration \d+\/360 {2}loss \d+\.\d{4}$/.test(line)), 'stderr holds only the progress line', { stderr });
    const iterations = progress.map((line) => Number(/^iteration (\d+)/.exec(line)?.[1]));
    t.ok(iterations.every((n, i) => i === 0 || n > iterations[i - 1]), 'its iterations increase');
    t.equal(iterations.at(-1), 360, 'the last update always arrives');
    t.ok(iterations.length < 360, `throttled: ${iterations.length} updates of 360`);
  },

  '04-your-own-function.ts': (t, { stdout }) => {
    // The least-squares line through the example's points, by hand: t is centred
    // (Σt = 0), so a = Σ t·y / Σ t² and b = mean y.
    const points = { t: [-1, -0.5, 0, 0.5, 1], y: [-1.1, 0.1, 0.9, 2.1, 2.9] };
    const a = points.t.reduce((s, ti, i) => s + ti * points.y[i], 0) / points.t.reduce((s, ti) => s + ti * ti, 0);
    const b = points.y.reduce((s, yi) => s + yi, 0) / points.y.length;
    checkLines(t, stdout, [
      // book-values.md, bit for bit: the pool computes the book's central differences.
      'numerical_gradient(function_2, [3, 4]) = [6.00000000000378, 7.999999999999119]',
      'gradient_descent(function_2, [-3, 4], lr=0.1, step_num=100) = [-6.111107928998789e-10, 8.148143905314271e-10]',
      `line fit by gradient descent: a = ${a.toFixed(6)}, b = ${b.toFixed(6)}`,
    ]);
  },

  '05-resume-from-code.ts': (t, { stdout }) => {
    const recipe = { hiddenSize: 8, weightInitStd: 1, learningRate: 2, batchSize: 20, iterations: 10 * 8, seed: 1 };
    const final = referenceTraining(xor(), recipe, 8).at(-1)!; // 160 train, 40 test points
    const slack = { abs: 1 / 40 + 1e-12 };
    checkLines(t, stdout, [
      'stopped: true, at iteration 30; checkpoint saved in the run directory',
      { line: `resumed to iteration 80: train acc ${final.trainAccuracy}, test acc ${final.testAccuracy}`, ...slack },
      { line: `uninterrupted run: test acc ${final.testAccuracy}; model.safetensors identical: true`, ...slack },
      // The truth table of XOR.
      'loaded model (xor, iteration 80): XOR of 00, 01, 10, 11 = 0, 1, 1, 0',
    ]);
  },
};

// --- The tests ------------------------------------------------------------------------

const files = readdirSync(examplesDirectory).filter((file) => file.endsWith('.ts')).sort();
/** Runnable examples are numbered; any other .ts file is a module an example uses (e.g. function2.ts, which workers import). */
const runnable = files.filter((file) => /^\d{2}-/.test(file));

t.test('every example is run by this test, and every other module is used by an example', async (t) => {
  t.same(runnable, Object.keys(EXAMPLES).sort(), 'each numbered examples/*.ts has its expected output here');
  const sources = runnable.map((file) => readFileSync(join(examplesDirectory, file), 'utf8'));
  for (const module of files.filter((file) => !runnable.includes(file))) {
    const stem = module.replace(/\.ts$/, '');
    t.ok(sources.some((source) => source.includes(`./${stem}.ts`) || source.includes(`./${stem}.js`)), `${module} is imported by an example`);
  }
});

const outputs = runAll(runnable);
for (const file of runnable) {
  t.test(file, async (t) => {
    const output = await outputs.get(file)!;
    t.comment(`${file}: ${output.seconds.toFixed(1)} s`);
    t.equal(output.code, 0, 'exits 0', { stderr: output.stderr });
    if (file !== '03-background-training.ts') t.equal(output.stderr, '', 'writes nothing to stderr');
    EXAMPLES[file]?.(t, output);
  });
}
