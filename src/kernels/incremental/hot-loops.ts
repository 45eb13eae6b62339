/**
 * The incremental kernel's hot loops (path 1 of README.md): the cached loss
 * series summed over the samples of one input column, as two or three sparse
 * products for the odd terms of every unit at once (the hot path), and per
 * unit for the rare parameters that need all six terms or leave ReLU samples
 * near their kink to the general path.
 */

/*
 * The odd planes (IncrementalBase.oddSeries) hold F_1, F_3, F_5 (planes
 * 0…2), each N × H with F_m of (n, j) at plane·N·H + n·H + j; the records
 * (hiddenSeries) hold all six, F_1, F_3, F_5, F_2, F_4, F_6 at (j·N + n)·6.
 * The term of one sample moved by x·d± is D_n = Σ_m F_m x^m Δ_m,
 * Δ_m = d₊^m − d₋^m. For SERIES_ODD a parameter's sum is Σ_{m=1,3,5} Δ_m·S_m
 * with S_m = Σ_n F_m[n][j]·x[n][i]^m (SERIES_ODD3: m = 1, 3). S_m does not
 * depend on the perturbation, so for one input column it is a sparse product
 * of the column's powers x^m with plane m, for all units in one pass over
 * the column's samples, eight units in registers (as backprop's dW1 kernel).
 */

/**
 * Whether a ReLU unit at pre-activation a, moved by x·d with |d| ≤ dmax, may
 * cross its kink: then its record (the series of an active unit away from the
 * kink) does not hold, and the sample takes the general path. Every test of
 * the kernel goes through this one function, so they agree exactly.
 */
export function kinkWithinReach(a: number, x: number, dmax: number): boolean {
  return Math.abs(a) <= Math.abs(x) * dmax;
}

/**
 * sums[at + j'] = Σ_c v[c]·F[o + rowStart[c] + j'] for j' = 0 … 7, each from
 * +0 in ascending c: eight units per pass over the column's samples,
 * accumulated in registers.
 */
function productBlock8(F: Float64Array, o: number, rowStart: Int32Array, v: Float64Array, count: number, sums: Float64Array, at: number): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  for (let c = 0; c < count; c++) {
    const x = v[c];
    const f = o + rowStart[c];
    a0 += x * F[f];
    a1 += x * F[f + 1];
    a2 += x * F[f + 2];
    a3 += x * F[f + 3];
    a4 += x * F[f + 4];
    a5 += x * F[f + 5];
    a6 += x * F[f + 6];
    a7 += x * F[f + 7];
  }
  sums[at] = a0;
  sums[at + 1] = a1;
  sums[at + 2] = a2;
  sums[at + 3] = a3;
  sums[at + 4] = a4;
  sums[at + 5] = a5;
  sums[at + 6] = a6;
  sums[at + 7] = a7;
}

/** As {@link productBlock8} for two units. */
function productBlock2(F: Float64Array, o: number, rowStart: Int32Array, v: Float64Array, count: number, sums: Float64Array, at: number): void {
  let a0 = 0, a1 = 0;
  for (let c = 0; c < count; c++) {
    const x = v[c];
    const f = o + rowStart[c];
    a0 += x * F[f];
    a1 += x * F[f + 1];
  }
  sums[at] = a0;
  sums[at + 1] = a1;
}

/** As {@link productBlock8} for one unit. */
function productBlock1(F: Float64Array, o: number, rowStart: Int32Array, v: Float64Array, count: number, sums: Float64Array, at: number): void {
  let a0 = 0;
  for (let c = 0; c < count; c++) a0 += v[c] * F[o + rowStart[c]];
  sums[at] = a0;
}

/**
 * One odd sum of one input column for units j0 ≤ j < j1: sums[at + j] =
 * S_m[j] = Σ_c v[c]·F_m[n_c][j], with F_m the plane at F[plane…] (N × H), the
 * column's samples n_c (ascending) starting at rowStart[c] = n_c·H and v
 * holding their x^m. Each S_m[j] is summed from +0 in ascending c whatever
 * j0, j1 and the blocking.
 */
export function seriesProduct(
  F: Float64Array, plane: number, rowStart: Int32Array, v: Float64Array, count: number, j0: number, j1: number, sums: Float64Array, at: number,
): void {
  // Local constants for the calls per block (README.md, "Performance notes").
  const block8 = productBlock8;
  const block2 = productBlock2;
  const block1 = productBlock1;
  let j = j0;
  for (; j + 8 <= j1; j += 8) block8(F, plane + j, rowStart, v, count, sums, at + j);
  for (; j + 2 <= j1; j += 2) block2(F, plane + j, rowStart, v, count, sums, at + j);
  if (j < j1) block1(F, plane + j, rowStart, v, count, sums, at + j);
}

/**
 * Σ of D_n over the samples q0 ≤ q < q1 of one column for unit j alone, all
 * six terms (`full`) or the odd ones, from the records FT (hiddenSeries),
 * with Δ_m at P[g + m − 1]. For ReLU (`A` = a1, N × H; else empty), the
 * samples with the kink within reach of |d| ≤ dmax are skipped: the general
 * pass adds them. The rare case: the parameters whose even terms do not
 * vanish, and ReLU units near a kink.
 */
export function unitSeriesSum(
  FT: Float64Array, rows: number, H: number, A: Float64Array, colRows: Int32Array, colValues: Float64Array, q0: number, q1: number,
  j: number, full: boolean, P: Float64Array, g: number, dmax: number,
): number {
  const relu = A.length > 0;
  const P1 = P[g], P2 = full ? P[g + 1] : 0, P3 = P[g + 2], P4 = full ? P[g + 3] : 0, P5 = P[g + 4], P6 = full ? P[g + 5] : 0;
  const jRows = j * rows;
  let sum = 0;
  for (let q = q0; q < q1; q++) {
    const x = colValues[q];
    const n = colRows[q];
    if (relu && kinkWithinReach(A[n * H + j], x, dmax)) continue;
    const f = (jRows + n) * 6;
    if (full) {
      sum += x * (FT[f] * P1 + x * (FT[f + 3] * P2 + x * (FT[f + 1] * P3 + x * (FT[f + 4] * P4 + x * (FT[f + 2] * P5 + x * (FT[f + 5] * P6))))));
    } else {
      const x2 = x * x;
      sum += x * (FT[f] * P1 + x2 * (FT[f + 1] * P3 + x2 * (FT[f + 2] * P5)));
    }
  }
  return sum;
}

/** Whether any sample q0 ≤ q < q1 of the column puts ReLU unit j (a1 in A, N × H) within reach of its kink. */
export function anyKinkWithinReach(A: Float64Array, colRows: Int32Array, colValues: Float64Array, q0: number, q1: number, H: number, j: number, dmax: number): boolean {
  for (let q = q0; q < q1; q++) if (kinkWithinReach(A[colRows[q] * H + j], colValues[q], dmax)) return true;
  return false;
}
