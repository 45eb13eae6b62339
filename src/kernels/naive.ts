/**
 * The book's numerical gradient over one contiguous parameter range: two full
 * forward passes of the batch per parameter. The reference every faster engine
 * is checked against, and the fallback engine of the workers.
 */
import { DEFAULT_H } from '../numerical.js';
import { type NetShape, batchLoss, createForwardScratch, parameterLayout } from './two-layer.js';

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
  const size = parameterLayout(shape).size;
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= size)) {
    throw new RangeError(`Expected 0 ≤ start ≤ end ≤ ${size}, got [${start}, ${end})`);
  }
  if (params.length !== size || out.length !== size) {
    throw new RangeError(`Expected params and out to have ${size} values, got ${params.length} and ${out.length}`);
  }
  if (!Number.isInteger(rows) || rows < 1 || x.length < rows * shape.inputSize || labels.length < rows) {
    throw new RangeError(`Expected rows ≥ 1 with ${shape.inputSize} inputs and a label each, got ${rows} rows, ${x.length} inputs and ${labels.length} labels`);
  }
  // An out-of-range label would read another sample's probability: a wrong gradient, not an error.
  for (let n = 0; n < rows; n++) {
    const t = labels[n];
    if (!(t >= 0 && t < shape.outputSize)) throw new RangeError(`Expected label ${n} to be an integer from 0 to ${shape.outputSize - 1}, got ${t}`);
  }
  const scratch = createForwardScratch(shape, rows);
  for (let p = start; p < end; p++) {
    const tmp = params[p];
    try {
      params[p] = tmp + h;
      const f1 = batchLoss(params, shape, x, rows, labels, scratch);
      params[p] = tmp - h;
      const f2 = batchLoss(params, shape, x, rows, labels, scratch);
      out[p] = (f1 - f2) / (2 * h);
    } finally {
      params[p] = tmp;
    }
  }
}
