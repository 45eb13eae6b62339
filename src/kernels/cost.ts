/**
 * The incremental kernel's cost model: the relative work of each parameter,
 * and the partition of [0, P) into ranges of about equal work computed from it
 * in time linear in the inputs (for the worker that finishes the shared base).
 * The generic partitioners are in src/parallel/partition.ts.
 */
import { type NetShape, parameterLayout } from './two-layer.js';

/*
 * Costs are in units of one sample of a W1 parameter in the kernel's hot loop
 * (only their ratios matter: they split the work, they do not time it). The
 * per-parameter set-up (d±, the series bounds, entering the loop) is worth
 * about six samples, one sample of a W2 or b2 parameter about one (the same
 * series polynomial), and a W1 row whose input is 0 in the whole batch next
 * to nothing (its gradient is written as 0). Every cost is a multiple of 1/8,
 * so the sums of costs are exact (below 2^50) and do not depend on the order
 * they are taken in. `npm run bench` shows how well the ranges balance.
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

/** The runs' starts, costs and prefix sums of {@link partitionParametersByCost}: this thread's, grown when a wider net needs more. */
let runScratch = new Float64Array(0);

/**
 * The same ranges as `partitionByCost(parameterCostsOfColumns(shape, nonzero,
 * rows), parts)` (src/parallel/partition.ts), in O(inputSize + parts) instead of O(parameters): the costs
 * come in runs of equal values (each row of W1, b1, then W2 and b2), and within
 * a run the cut is found by division. The costs being multiples of 1/8, every
 * prefix sum is exact either way, so the cuts are the same. For the worker
 * that finishes a call's base, while the others wait for the chunks.
 */
export function partitionParametersByCost(shape: NetShape, nonzero: ArrayLike<number>, rows: number, parts: number): Array<[number, number]> {
  const { inputSize: I, hiddenSize: H } = shape;
  const layout = parameterLayout(shape);
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`Expected \`parts\` to be an integer from 1, got ${parts}`);
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`Expected \`rows\` to be a non-negative integer, got ${rows}`);
  if (nonzero.length !== I) throw new RangeError(`Expected \`nonzero\` to have ${I} values, got ${nonzero.length}`);
  // Runs: [start index, length, cost of each], and the cost before each run.
  const runCount = I + 2;
  // One scratch per thread, not three new arrays per call: 6 instead of 18 µs at 784-50-10, on the
  // path of every pool call (one worker cuts the chunks while the others wait for them).
  if (runScratch.length < 3 * (runCount + 1)) runScratch = new Float64Array(3 * (runCount + 1));
  const runStart = runScratch.subarray(0, runCount + 1);
  const runCost = runScratch.subarray(runCount + 1, 2 * runCount + 1);
  const runPrefix = runScratch.subarray(2 * (runCount + 1), 3 * (runCount + 1));
  runPrefix[0] = 0;
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
