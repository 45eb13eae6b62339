/**
 * The functions of 04-your-own-function.ts. They live in their own module
 * because the pool's worker threads import them by URL: a closure cannot
 * cross threads, a module can. Keep such a module free of side effects (every
 * worker imports it) and of imports it does not need.
 */

/** The book's function_2: f(x) = x0² + x1². */
export function function2(x: Float64Array): number {
  return x[0] ** 2 + x[1] ** 2;
}

/** The data a line is fitted to: it reaches every call as its second argument (the pool's `context`). */
export interface Points {
  t: number[];
  y: number[];
}

/** The mean squared residual of the line y = a·t + b, with x = [a, b]. */
export function lineFitLoss(x: Float64Array, points: Points): number {
  let sum = 0;
  for (let i = 0; i < points.t.length; i++) sum += (x[0] * points.t[i] + x[1] - points.y[i]) ** 2;
  return sum / points.t.length;
}
