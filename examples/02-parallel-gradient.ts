/**
 * The numerical gradient of TwoLayerNet(784, 50, 10) on a batch of 100 MNIST
 * digits, split across worker threads: the book's `network.numerical_gradient`
 * (39,760 central differences, 2 full forward passes each in numpy: ~11 s),
 * exact and in milliseconds. Then the book's gradient check (chapter 5): the
 * numerical gradient against backpropagation, tensor by tensor.
 *
 *   npm run example examples/02-parallel-gradient.ts
 */
import { GradientPool, TwoLayerNet } from 'gradpool';
import { loadMnist, takeRows } from 'gradpool/datasets';

const show = (values: ArrayLike<number>) => `[${Array.from(values).join(', ')}]`;

// 100 training digits, evenly spaced (the split is stored digit by digit, so this takes all ten).
const { train } = loadMnist();
const rows = Array.from({ length: 100 }, (_, k) => k * Math.floor(train.rows / 100));
const batch = takeRows(train, rows);
// A batch as { data, rows, columns }: one flat Float64Array, no copy per row.
const x = { data: batch.x, rows: batch.rows, columns: 784 };

const net = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10, seed: 1 });

// The workers read the weights and the batch from shared memory and each writes
// its own share of the gradient; the result is the same bit for bit whatever
// the number of threads.
const pool = new GradientPool({ threads: 2 });
try {
  await pool.numericalGradient(net, x, batch.labels); // the first call starts the workers
  const started = performance.now();
  const grad = await pool.numericalGradient(net, x, batch.labels);
  const milliseconds = performance.now() - started;

  console.log(`gradient of ${grad.flat.length} parameters on a batch of ${batch.rows} (${Math.round(milliseconds)} ms on ${pool.threads} threads)`);
  // `flat` holds them all, in the order of net.params; W1, b1, W2, b2 are views into it.
  console.log(`shapes: W1 ${grad.W1.length}, b1 ${grad.b1.length}, W2 ${grad.W2.length}, b2 ${grad.b2.length}`);
  // Pixel (14, 14), the middle of the image, is ink in many digits: its weights matter.
  const pixel = 14 * 28 + 14;
  console.log(`dW1[${pixel}][0..2] = ${show(grad.W1.subarray(pixel * 50, pixel * 50 + 3))}`);
  // Pixel 0, the corner, is blank in every digit: its weights cannot change the loss.
  console.log(`dW1[0][0..2] = ${show(grad.W1.subarray(0, 3))}`);
  console.log(`db1[0..2] = ${show(grad.b1.subarray(0, 3))}`);
  console.log(`dW2[0][0..2] = ${show(grad.W2.subarray(0, 3))}`);
  console.log(`db2 = ${show(grad.b2)}`);

  // The gradient check: backprop (chapter 5) must agree; `exact: true` also
  // differentiates the 1e-7 the loss adds inside the log, as the numerical one does.
  const analytic = net.gradient(x, batch.labels, { exact: true });
  for (const key of ['W1', 'b1', 'W2', 'b2'] as const) {
    let sum = 0;
    for (let i = 0; i < grad[key].length; i++) sum += Math.abs(grad[key][i] - analytic[key][i]);
    console.log(`gradient check ${key}: mean |numerical - backprop| = ${(sum / grad[key].length).toExponential(1)}`);
  }
} finally {
  // Stops the workers and frees their shared memory now, not when the process ends.
  await pool.destroy();
}
