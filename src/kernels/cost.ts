/**
 * Work estimates per parameter for the incremental kernel, and a contiguous
 * partition of [0, P) into ranges of about equal work (one per worker).
 */
import { type NetShape, parameterLayout } from './two-layer.js';

/*
 * Units: one sample of a W1 parameter in the incremental kernel's hot loop
 * (about 5 ns on one core of the reference machine). Measured there on
 * 784-50-10 with 100 MNIST digits: the per-parameter set-up (d±, series
 * bounds, the loop itself) costs about 6 samples, one sample of a W2 or b2
 * parameter about 1, a W1 row whose input is 0 in the whole batch next to
 * nothing.
 */
/** Fixed work per parameter with at least one affected sample. */
export const PARAMETER_OVERHEAD_COST = 6;
/** One sample of a W2 or b2 parameter, relative to one sample of a W1 parameter. */
export const OUTPUT_SAMPLE_COST = 1;
/** A W1 parameter whose input is 0 in every sample (its gradient is exactly 0). */
export const EMPTY_PARAMETER_COST = 0.1;

/**
 * Relative work of each parameter of the incremental kernel over a batch of
 * `rows` samples (x is rows × inputSize): W1[i][j] visits the samples with
 * x[n][i] ≠ 0, b1[j] and the output parameters visit every sample, each plus
 * a fixed set-up cost. Pure and deterministic; length = number of parameters.
 */
export function parameterCosts(shape: NetShape, x: Float64Array, rows: number): Float64Array {
  const { inputSize: I, hiddenSize: H } = shape;
  const layout = parameterLayout(shape);
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`Expected \`rows\` to be a non-negative integer, got ${rows}`);
  if (x.length < rows * I) throw new RangeError(`Expected \`x\` to have at least ${rows * I} values, got ${x.length}`);
  const costs = new Float64Array(layout.size);
  const nonzero = new Float64Array(I);
  for (let n = 0; n < rows; n++) {
    for (let i = 0; i < I; i++) if (x[n * I + i] !== 0) nonzero[i]++;
  }
  for (let i = 0; i < I; i++) {
    costs.fill(nonzero[i] > 0 ? PARAMETER_OVERHEAD_COST + nonzero[i] : EMPTY_PARAMETER_COST, layout.W1 + i * H, layout.W1 + (i + 1) * H);
  }
  costs.fill(PARAMETER_OVERHEAD_COST + rows, layout.b1, layout.W2);
  costs.fill(PARAMETER_OVERHEAD_COST + OUTPUT_SAMPLE_COST * rows, layout.W2, layout.size);
  return costs;
}

/**
 * Splits [0, costs.length) into `parts` contiguous ranges [start, end) of
 * roughly equal total cost, in order, covering every index once. The k-th cut
 * is the first index c with costs[0] + … + costs[c − 1] ≥ k/parts of the total,
 * so no range costs more than the mean plus the largest single cost. A cut is
 * moved only to keep every range non-empty (that range then holds one index).
 * When there are fewer indices than parts, there are fewer ranges (one per
 * index), and none for an empty vector. Costs must be finite and ≥ 0; when
 * they are all 0 the split is by count. Pure and deterministic.
 */
export function partitionByCost(costs: Float64Array, parts: number): Array<[number, number]> {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`Expected \`parts\` to be an integer from 1, got ${parts}`);
  const size = costs.length;
  let total = 0;
  for (let p = 0; p < size; p++) {
    const c = costs[p];
    if (!(c >= 0 && c < Infinity)) throw new RangeError(`Expected \`costs\` to hold finite numbers ≥ 0, got ${c} at index ${p}`);
    total += c;
  }
  const count = Math.min(parts, size);
  const ranges: Array<[number, number]> = [];
  if (count === 0) return ranges;
  let start = 0;
  let prefix = 0; // sum of costs[0 .. p)
  let p = 0;
  for (let k = 1; k < count; k++) {
    // Natural end: the first p with prefix(p) ≥ k/count of the total (by count if all costs are 0).
    let end: number;
    if (total > 0) {
      const target = (total * k) / count;
      while (p < size && prefix < target) prefix += costs[p++];
      end = p;
    } else {
      end = Math.floor((size * k) / count);
    }
    // Keep every range non-empty and leave one index for each later range.
    end = Math.min(Math.max(end, start + 1), size - (count - k));
    if (total > 0) {
      while (p < end) prefix += costs[p++];
      while (p > end) prefix -= costs[--p];
    }
    ranges.push([start, end]);
    start = end;
  }
  ranges.push([start, size]);
  return ranges;
}
