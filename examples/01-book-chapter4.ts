/**
 * Chapter 4 of "Deep Learning from Scratch", in order: the loss functions, the
 * numerical derivative, the numerical gradient, gradient descent, simpleNet,
 * and a short mini-batch training of TwoLayerNet on MNIST digits. Each line
 * printed is one the book prints (the first five sections give its numbers
 * exactly; the training is shortened to a few seconds).
 *
 *   npm run example examples/01-book-chapter4.ts
 */
import {
  BatchSampler, crossEntropyError, GradientPool, gradientDescent, numericalDiff, numericalGradient, SimpleNet, sumSquaredError, TwoLayerNet,
} from 'gradpool';
import { loadMnist, takeRows, type Split } from 'gradpool/datasets';

/** Python-like `[a, b, c]`: full precision, so the book's values can be compared digit for digit. */
const show = (values: ArrayLike<number>) => `[${Array.from(values).join(', ')}]`;

// 4.2 Loss functions. The answer is class 2; y1 bets on it, y2 on class 7.
const t = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
const y1 = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0];
const y2 = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0];
console.log(`sum_squared_error(y1, t) = ${sumSquaredError(y1, t)}`);
console.log(`sum_squared_error(y2, t) = ${sumSquaredError(y2, t)}`);
console.log(`cross_entropy_error(y1, t) = ${crossEntropyError(y1, t)}`);
console.log(`cross_entropy_error(y2, t) = ${crossEntropyError(y2, t)}`);

// 4.3 The numerical derivative: a central difference with h = 1e-4.
const function1 = (x: number) => 0.01 * x ** 2 + 0.1 * x;
console.log(`numerical_diff(function_1, 5) = ${numericalDiff(function1, 5)}`);
console.log(`numerical_diff(function_1, 10) = ${numericalDiff(function1, 10)}`);

// 4.4 The numerical gradient: one central difference per element of x.
const function2 = (x: Float64Array) => x[0] ** 2 + x[1] ** 2;
for (const point of [[3, 4], [0, 2], [3, 0]]) {
  console.log(`numerical_gradient(function_2, ${show(point)}) = ${show(numericalGradient(function2, Float64Array.from(point)))}`);
}

// 4.4.1 Gradient descent from (-3, 4): a good learning rate reaches the minimum
// (0, 0); too large a one diverges, too small a one hardly moves.
for (const learningRate of [0.1, 10, 1e-10]) {
  const { x } = gradientDescent(function2, [-3, 4], { learningRate, stepNum: 100 });
  console.log(`gradient_descent(function_2, [-3, 4], lr=${learningRate}, step_num=100) = ${show(x)}`);
}

// 4.4.2 simpleNet, with the book's printed weights instead of random ones.
const net = new SimpleNet({ W: [[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]] });
const x = [0.6, 0.9];
const p = net.predict(x);
console.log(`simpleNet predict(x) = ${show(p)}`);
console.log(`simpleNet argmax(p) = ${p.indexOf(Math.max(...p))}`);
console.log(`simpleNet loss(x, t) = ${net.loss(x, [0, 0, 1])}`);
const dW = net.numericalGradient(x, [0, 0, 1]).W;
console.log(`simpleNet dW = [${show(dW.subarray(0, 3))}, ${show(dW.subarray(3, 6))}]`);

// 4.5 TwoLayerNet: the book's shapes.
const shapes = new TwoLayerNet({ inputSize: 784, hiddenSize: 100, outputSize: 10 });
console.log(`TwoLayerNet(784, 100, 10) params: W1 ${shapes.W1.length} = 784×100, b1 ${shapes.b1.length}, W2 ${shapes.W2.length} = 100×10, b2 ${shapes.b2.length}`);

// 4.5.2 Mini-batch training, the book's loop with its settings (batch 100, learning
// rate 0.1, hidden 50), shortened: 1,000 of the 8,000 bundled training digits and
// 200 test digits (evenly spaced: the splits are stored digit by digit), 200
// iterations. As in the book, the loss sits near ln 10 ≈ 2.30 (a uniform guess) for
// the first hundred or so iterations, then starts to fall; `npm start` runs the
// whole recipe (10,000 iterations, test accuracy about 0.92).
const mnist = loadMnist();
const everyNth = (split: Split, count: number) => takeRows(split, Array.from({ length: count }, (_, k) => Math.floor((k * split.rows) / count)));
const train = everyNth(mnist.train, 1000);
const test = everyNth(mnist.test, 200);
const batchSize = 100;
const learningRate = 0.1;
const iterations = 200;
const iterationsPerEpoch = Math.max(train.rows / batchSize, 1);
// A split's rows as one { data, rows, columns } batch.
const asBatch = (split: Split) => ({ data: split.x, rows: split.rows, columns: 784 });

const network = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10, seed: 0 });
const accuracies = () => `train acc, test acc | ${network.accuracy(asBatch(train), train.labels)}, ${network.accuracy(asBatch(test), test.labels)}`;
// The book's np.random.choice(train_size, batch_size): batches drawn with replacement, seeded.
const sampler = new BatchSampler(train, 784, batchSize, 'replacement', 0);
// network.numerical_gradient: the same central differences, computed on 2 threads.
const pool = new GradientPool({ threads: 2 });
try {
  console.log(`epoch 0: ${accuracies()}`);
  for (let i = 1; i <= iterations; i++) {
    const batch = sampler.next();
    const xBatch = asBatch(batch);
    const grad = await pool.numericalGradient(network, xBatch, batch.labels);
    for (let k = 0; k < network.params.length; k++) network.params[k] -= learningRate * grad.flat[k];
    const loss = network.loss(xBatch, batch.labels);
    // The book prints the accuracies every epoch; here every 5 epochs, with the batch loss.
    if (i % (5 * iterationsPerEpoch) === 0) console.log(`epoch ${i / iterationsPerEpoch}: loss ${loss}, ${accuracies()}`);
  }
} finally {
  // Stops the workers and frees their shared memory now, not when the process ends.
  await pool.destroy();
}
