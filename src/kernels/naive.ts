/**
 * The book's numerical gradient over one contiguous parameter range: two full
 * forward passes of the batch per parameter. The reference every faster engine
 * is checked against, and the fallback engine of the workers.
 */
import { centralDifferences, DEFAULT_H } from '../numerical.js';
import { checkBatch, checkGradientRange } from './check-batch.js';
import { type NetShape, batchLoss, createForwardScratch } from './two-layer.js';

/**
 * Writes `out[p]` for every p in [start, end) with exactly the book's method
 * (and the same floating-point operations as `TwoLayerNet#numericalGradient`):
 *
 *     tmp = params[p]
 *     params[p] = tmp + h; f1 = loss
 *     params[p] = tmp − h; f2 = loss
 *     out[p] = (f1 − f2) / (2h)
 *     params[p] = tmp
 *
 * `params` must be a private copy: it is perturbed in place during the call and
 * restored element by element (also when something throws). `out` is a
 * full-length gradient vector; only `out[start..end)` is written.
 */
export function naiveGradientRange(
  params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: Int32Array,
  start: number, end: number, out: Float64Array, h = DEFAULT_H,
): void {
  const size = checkBatch(params, shape, x, rows, labels);
  checkGradientRange(start, end, out, size);
  const scratch = createForwardScratch(shape, rows);
  centralDifferences((perturbed) => batchLoss(perturbed, shape, x, rows, labels, scratch), params, start, end, h, out);
}
