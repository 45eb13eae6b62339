/**
 * The numerical gradient of your own function, across worker threads:
 * `pool.functionGradient` gives exactly what the book's `numerical_gradient`
 * gives, its elements split between the threads. The function lives in a
 * module (./function2.ts) that every worker imports.
 *
 *   npm run example examples/04-your-own-function.ts
 */
import { GradientPool } from 'gradpool';
import type { Points } from './function2.js';

const show = (values: ArrayLike<number>) => `[${Array.from(values).join(', ')}]`;

// The module by URL, relative to this file. From a .ts module the workers need
// tsx, which `npm run example` (node --import tsx) passes on to them.
const module = new URL('./function2.ts', import.meta.url);

const pool = new GradientPool({ threads: 2 });
try {
  // The book's numerical_gradient(function_2, np.array([3.0, 4.0])).
  const gradient = await pool.functionGradient({ module, exportName: 'function2', x: [3, 4] });
  console.log(`numerical_gradient(function_2, [3, 4]) = ${show(gradient)}`);

  // The book's gradient_descent(function_2, init_x=[-3, 4], lr=0.1, step_num=100),
  // each step's gradient computed by the pool: the same numbers as on one thread.
  const x = Float64Array.of(-3, 4);
  for (let step = 0; step < 100; step++) {
    const grad = await pool.functionGradient({ module, exportName: 'function2', x });
    for (let i = 0; i < x.length; i++) x[i] -= 0.1 * grad[i];
  }
  console.log(`gradient_descent(function_2, [-3, 4], lr=0.1, step_num=100) = ${show(x)}`);

  // A function of data: `context` reaches every call as its second argument
  // (copied into each thread's task), here the points a line y = a·t + b is fitted to.
  const points: Points = { t: [-1, -0.5, 0, 0.5, 1], y: [-1.1, 0.1, 0.9, 2.1, 2.9] };
  const line = Float64Array.of(0, 0);
  for (let step = 0; step < 60; step++) {
    const grad = await pool.functionGradient({ module, exportName: 'lineFitLoss', x: line, context: points });
    for (let i = 0; i < line.length; i++) line[i] -= 0.5 * grad[i];
  }
  console.log(`line fit by gradient descent: a = ${line[0].toFixed(6)}, b = ${line[1].toFixed(6)}`);
} finally {
  await pool.destroy();
}
