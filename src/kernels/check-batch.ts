/**
 * The argument checks the gradient kernels share: a kernel reads the batch at
 * offsets computed from the shape, so a short array or a label out of range
 * would give a wrong gradient, silently, rather than an error.
 */
import { type NetShape, parameterLayout } from './two-layer.js';

/** Throws unless `params` has the parameter count of `shape`; returns that count. */
export function checkParameters(params: Float64Array, shape: NetShape): number {
  const size = parameterLayout(shape).size;
  if (params.length !== size) throw new RangeError(`Expected \`params\` to have ${size} values, got ${params.length}`);
  return size;
}

/**
 * Throws unless `x` holds `rows` ≥ 1 samples of shape.inputSize values and,
 * when `labels` is given, there is a label per sample from 0 to
 * shape.outputSize − 1.
 */
export function checkSamples(shape: NetShape, x: Float64Array, rows: number, labels?: Int32Array): void {
  const I = shape.inputSize;
  if (!Number.isInteger(rows) || rows < 1 || x.length < rows * I || (labels !== undefined && labels.length < rows)) {
    const labelled = labels === undefined ? '' : ' and a label each';
    const got = labels === undefined ? `${rows} rows and ${x.length} inputs` : `${rows} rows, ${x.length} inputs and ${labels.length} labels`;
    throw new RangeError(`Expected rows ≥ 1 with ${I} inputs${labelled}, got ${got}`);
  }
  if (labels === undefined) return;
  // An out-of-range label would read another sample's probability.
  for (let n = 0; n < rows; n++) {
    const t = labels[n];
    if (!(t >= 0 && t < shape.outputSize)) throw new RangeError(`Expected label ${n} to be an integer from 0 to ${shape.outputSize - 1}, got ${t}`);
  }
}

/** {@link checkParameters} and {@link checkSamples} of one batch; returns the parameter count. */
export function checkBatch(params: Float64Array, shape: NetShape, x: Float64Array, rows: number, labels: Int32Array): number {
  const size = checkParameters(params, shape);
  checkSamples(shape, x, rows, labels);
  return size;
}

/** Throws unless [start, end) is a range of integers within [0, size); `what` names what is split, e.g. 'samples'. */
export function checkRange(start: number, end: number, size: number, what?: string): void {
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= size)) {
    throw new RangeError(`Expected 0 ≤ start ≤ end ≤ ${size}${what === undefined ? '' : ` for the ${what}`}, got [${start}, ${end})`);
  }
}

/** A kernel's parameter range [start, end) and its full-length output `out`, for `size` parameters. */
export function checkGradientRange(start: number, end: number, out: Float64Array, size: number): void {
  checkRange(start, end, size);
  if (out.length !== size) throw new RangeError(`Expected \`out\` to have ${size} values, got ${out.length}`);
}
