/**
 * Contiguous partitions of [0, n) into ranges, one per worker or per piece of
 * work: evenly or tapered by count, or by a cost per index. Pure and
 * deterministic, so every thread that computes a partition gets the same one.
 */

/**
 * Splits [0, count) into `parts` contiguous ranges of (nearly) equal length,
 * [⌊count·p/parts⌋, ⌊count·(p+1)/parts⌋) for p = 0 … parts − 1; some are empty
 * when count < parts.
 */
export function partitionEvenly(count: number, parts: number): Array<[number, number]> {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`Expected \`parts\` to be an integer from 1, got ${parts}`);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`Expected \`count\` to be a non-negative integer, got ${count}`);
  return Array.from({ length: parts }, (_, p): [number, number] => [Math.floor((count * p) / parts), Math.floor((count * (p + 1)) / parts)]);
}

/**
 * Where range `part` of `parts` starts when [0, count) is split into ranges
 * whose lengths fall in a straight line from (2 − lastShare) times the mean
 * length to `lastShare` times it (lastShare in (0, 1]; 1 is an even split):
 * ⌊count · share⌋, multiplied out before the one division, as
 * {@link partitionEvenly} is, so that a whole bound is not rounded down a step.
 */
function taperedBound(count: number, part: number, parts: number, lastShare: number): number {
  if (part <= 0) return 0;
  if (part >= parts) return count;
  const first = 2 - lastShare;
  const numerator = count * part * (2 * (parts - 1) * first - (first - lastShare) * (part - 1));
  return Math.min(count, Math.floor(numerator / (2 * (parts - 1) * parts)));
}

/**
 * Range `part` of [0, count) split into `parts` contiguous ranges whose
 * lengths fall in a straight line from (2 − lastShare) to `lastShare` times
 * the mean, each bound rounded down (when count < parts, the empty ranges
 * fall among the earlier ones; the last is empty only when count is 0).
 * Pieces claimed in order by workers that finish at different moments end
 * closer together when the last ones are small (trapezoid self-scheduling).
 */
export function taperedRange(count: number, part: number, parts: number, lastShare: number): [number, number] {
  if (!(lastShare > 0 && lastShare <= 1)) throw new RangeError(`Expected \`lastShare\` to be a number in (0, 1], got ${lastShare}`);
  return [taperedBound(count, part, parts, lastShare), taperedBound(count, part + 1, parts, lastShare)];
}

/**
 * Splits [0, costs.length) into `parts` contiguous ranges [start, end) of
 * roughly equal total cost, in order, covering every index once. The k-th cut
 * is the first index c with costs[0] + … + costs[c − 1] ≥ k/parts of the total,
 * so no range costs more than the mean plus the largest single cost. A cut is
 * moved only to keep every range non-empty (that range then holds one index).
 * When there are fewer indices than parts, there are fewer ranges (one per
 * index), and none for an empty vector. Costs must be finite and ≥ 0; when
 * they are all 0 the split is by count.
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
