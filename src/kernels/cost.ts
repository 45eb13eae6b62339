/**
 * Work estimates per parameter for the incremental kernel, and a contiguous
 * partition of [0, P) into ranges of about equal work (one per worker); the
 * same partition computed from the column counts alone, in time linear in the
 * inputs (for the worker that finishes the shared base), and an even split of
 * [0, n).
 */
import { type NetShape, parameterLayout } from './two-layer.js';

/*
 * Units: one sample of a W1 parameter in the incremental kernel's hot loop
 * (about 5 ns on one core of the reference machine). Measured there on
 * 784-50-10 with 100 MNIST digits: the per-parameter set-up (d±, series
 * bounds, the loop itself) costs about 6 samples, one sample of a W2 or b2
 * parameter about 1, a W1 row whose input is 0 in the whole batch next to
 * nothing. Every cost is a multiple of 1/8, so the sums of costs are exact
 * (below 2^50) and do not depend on the order they are taken in.
 */
/** Fixed work per parameter with at least one affected sample. */
export const PARAMETER_OVERHEAD_COST = 6;
/** One sample of a W2 or b2 parameter, relative to one sample of a W1 parameter. */
export const OUTPUT_SAMPLE_COST = 1;
/** A W1 parameter whose input is 0 in every sample (its gradient is exactly 0): 1/8, exact in binary. */
export const EMPTY_PARAMETER_COST = 0.125;

/**
 * Relative work of each parameter of the incremental kernel over a batch of
 * `rows` samples (x is rows × inputSize): W1[i][j] visits the samples with
 * x[n][i] ≠ 0, b1[j] and the output parameters visit every sample, each plus
 * a fixed set-up cost. Pure and deterministic; length = number of parameters.
 */
export function parameterCosts(shape: NetShape, x: Float64Array, rows: number): Float64Array {
  const I = shape.inputSize;
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`Expected \`rows\` to be a non-negative integer, got ${rows}`);
  if (x.length < rows * I) throw new RangeError(`Expected \`x\` to have at least ${rows * I} values, got ${x.length}`);
  const nonzero = new Float64Array(I);
  for (let n = 0; n < rows; n++) {
    for (let i = 0; i < I; i++) if (x[n * I + i] !== 0) nonzero[i]++;
  }
  return parameterCostsOfColumns(shape, nonzero, rows);
}

/**
 * As {@link parameterCosts}, from the number of nonzero inputs of each column
 * (`nonzero[i]` samples have x[n][i] ≠ 0, e.g. a base's `colCount`): the same
 * values, without scanning x again.
 */
export function parameterCostsOfColumns(shape: NetShape, nonzero: ArrayLike<number>, rows: number): Float64Array {
  const { inputSize: I, hiddenSize: H } = shape;
  const layout = parameterLayout(shape);
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`Expected \`rows\` to be a non-negative integer, got ${rows}`);
  if (nonzero.length !== I) throw new RangeError(`Expected \`nonzero\` to have ${I} values, got ${nonzero.length}`);
  const costs = new Float64Array(layout.size);
  for (let i = 0; i < I; i++) {
    costs.fill(nonzero[i] > 0 ? PARAMETER_OVERHEAD_COST + nonzero[i] : EMPTY_PARAMETER_COST, layout.W1 + i * H, layout.W1 + (i + 1) * H);
  }
  costs.fill(PARAMETER_OVERHEAD_COST + rows, layout.b1, layout.W2);
  costs.fill(PARAMETER_OVERHEAD_COST + OUTPUT_SAMPLE_COST * rows, layout.W2, layout.size);
  return costs;
}

/**
 * The same ranges as `partitionByCost(parameterCostsOfColumns(shape, nonzero,
 * rows), parts)`, in O(inputSize + parts) instead of O(parameters): the costs
 * come in runs of equal values (each row of W1, b1, then W2 and b2), and within
 * a run the cut is found by division. The costs being multiples of 1/8, every
 * prefix sum is exact either way, so the cuts are the same. For the main
 * thread, between the phases of a gradient.
 */
export function partitionParametersByCost(shape: NetShape, nonzero: ArrayLike<number>, rows: number, parts: number): Array<[number, number]> {
  const { inputSize: I, hiddenSize: H } = shape;
  const layout = parameterLayout(shape);
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`Expected \`parts\` to be an integer from 1, got ${parts}`);
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`Expected \`rows\` to be a non-negative integer, got ${rows}`);
  if (nonzero.length !== I) throw new RangeError(`Expected \`nonzero\` to have ${I} values, got ${nonzero.length}`);
  // Runs: [start index, length, cost of each], and the cost before each run.
  const runCount = I + 2;
  const runStart = new Float64Array(runCount + 1);
  const runCost = new Float64Array(runCount);
  const runPrefix = new Float64Array(runCount + 1);
  for (let i = 0; i < I; i++) {
    runStart[i] = layout.W1 + i * H;
    runCost[i] = nonzero[i] > 0 ? PARAMETER_OVERHEAD_COST + nonzero[i] : EMPTY_PARAMETER_COST;
  }
  runStart[I] = layout.b1;
  runCost[I] = PARAMETER_OVERHEAD_COST + rows;
  runStart[I + 1] = layout.W2;
  runCost[I + 1] = PARAMETER_OVERHEAD_COST + OUTPUT_SAMPLE_COST * rows;
  runStart[runCount] = layout.size;
  for (let r = 0; r < runCount; r++) runPrefix[r + 1] = runPrefix[r] + (runStart[r + 1] - runStart[r]) * runCost[r];
  const size = layout.size;
  const total = runPrefix[runCount];
  const count = Math.min(parts, size);
  const ranges: Array<[number, number]> = [];
  let start = 0;
  let r = 0;
  for (let k = 1; k < count; k++) {
    // Natural end: the first index p whose prefix cost Σ_{q<p} cost_q reaches k/count of the total.
    const target = (total * k) / count;
    while (r < runCount && runPrefix[r + 1] < target) r++;
    let end = size;
    if (r < runCount) {
      const length = runStart[r + 1] - runStart[r];
      const cost = runCost[r];
      let m = Math.min(length, Math.max(0, Math.ceil((target - runPrefix[r]) / cost)));
      while (m > 0 && runPrefix[r] + (m - 1) * cost >= target) m--;
      while (m < length && runPrefix[r] + m * cost < target) m++;
      end = runStart[r] + m;
    }
    // Keep every range non-empty and leave one index for each later range.
    end = Math.min(Math.max(end, start + 1), size - (count - k));
    ranges.push([start, end]);
    start = end;
  }
  ranges.push([start, size]);
  return ranges;
}

/**
 * Splits [0, count) into `parts` contiguous ranges of (nearly) equal length,
 * [⌊count·p/parts⌋, ⌊count·(p+1)/parts⌋) for p = 0 … parts − 1; some are empty
 * when count < parts. Pure and deterministic.
 */
export function partitionEvenly(count: number, parts: number): Array<[number, number]> {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`Expected \`parts\` to be an integer from 1, got ${parts}`);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`Expected \`count\` to be a non-negative integer, got ${count}`);
  return Array.from({ length: parts }, (_, p) => evenRange(count, p, parts));
}

/** Range `part` of {@link partitionEvenly}`(count, parts)`, without the others. */
export function evenRange(count: number, part: number, parts: number): [number, number] {
  return [Math.floor((count * part) / parts), Math.floor((count * (part + 1)) / parts)];
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
