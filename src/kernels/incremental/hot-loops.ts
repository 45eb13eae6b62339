/**
 * The incremental kernel's hot loops (path 1 of README.md): the cached loss
 * series summed over the samples of one input column, one loop per activation
 * and series mode, so that no inner loop tests either.
 */
import * as seriesModule from './series.js';

// Module constants rather than imported bindings (README.md, "Performance notes").
const { SERIES_FULL, SERIES_ODD } = seriesModule;

/*
 * A series record holds F_1, F_3, F_5, F_2, F_4, F_6 at F[f…f+6) (odd ones
 * first); P1…P6 are Δ_m = d₊^m − d₋^m. The term of one sample moved by x·d± is
 * D_n = Σ_m F_m x^m Δ_m, in Horner form: x·(F_1Δ_1 + x²(F_3Δ_3 + x²·F_5Δ_5))
 * for SERIES_ODD, all six terms for SERIES_FULL. The polynomial is written out
 * in each loop (README.md, "Performance notes").
 */

/**
 * Whether a ReLU unit at pre-activation a, moved by x·d with |d| ≤ dmax, may
 * cross its kink: then its record (the series of an active unit away from the
 * kink) does not hold, and the sample takes the general path. The hot loop and
 * the general pass must agree on it exactly.
 */
export function kinkWithinReach(a: number, x: number, dmax: number): boolean {
  return Math.abs(a) <= Math.abs(x) * dmax;
}

/**
 * For each unit j0 ≤ j < j1 in a series mode, sums[j] = Σ of D_n over the
 * column's samples q0 ≤ q < q1, with the record of (j, n) at FT[(j·N + n)·6]
 * and Δ_m at P[j·6 + m − 1].
 */
export function seriesColumnSigmoid(
  FT: Float64Array, colRows: Int32Array, colValues: Float64Array, q0: number, q1: number, rows: number,
  j0: number, j1: number, mode: Uint8Array, P: Float64Array, sums: Float64Array,
): void {
  for (let j = j0; j < j1; j++) {
    const jRows = j * rows;
    const g = j * 6;
    let sum = 0;
    if (mode[j] === SERIES_ODD) {
      const P1 = P[g], P3 = P[g + 2], P5 = P[g + 4];
      for (let q = q0; q < q1; q++) {
        const x = colValues[q];
        const x2 = x * x;
        const f = (jRows + colRows[q]) * 6;
        sum += x * (FT[f] * P1 + x2 * (FT[f + 1] * P3 + x2 * (FT[f + 2] * P5)));
      }
    } else if (mode[j] === SERIES_FULL) {
      const P1 = P[g], P2 = P[g + 1], P3 = P[g + 2], P4 = P[g + 3], P5 = P[g + 4], P6 = P[g + 5];
      for (let q = q0; q < q1; q++) {
        const x = colValues[q];
        const f = (jRows + colRows[q]) * 6;
        sum += x * (FT[f] * P1 + x * (FT[f + 3] * P2 + x * (FT[f + 1] * P3 + x * (FT[f + 4] * P4 + x * (FT[f + 2] * P5 + x * (FT[f + 5] * P6))))));
      }
    }
    sums[j] = sum;
  }
}

/**
 * As {@link seriesColumnSigmoid} for ReLU, where the record is the series of
 * an active unit away from its kink: the samples with the kink within reach
 * ({@link kinkWithinReach}, a1 at AT[j·N + n]) are left to the general pass
 * and counted in kinks[j]. F = 0 for units inactive at the base, which then
 * stay inactive (Δz = 0), so the loop has no other, unpredictable, branch.
 */
export function seriesColumnRelu(
  FT: Float64Array, AT: Float64Array, colRows: Int32Array, colValues: Float64Array, q0: number, q1: number, rows: number,
  j0: number, j1: number, mode: Uint8Array, P: Float64Array, dAbs: Float64Array, sums: Float64Array, kinks: Int32Array,
): void {
  // A local constant for the call per sample (README.md, "Performance notes").
  const nearKink = kinkWithinReach;
  for (let j = j0; j < j1; j++) {
    const jRows = j * rows;
    const g = j * 6;
    const dmax = dAbs[j];
    let sum = 0;
    let kink = 0;
    if (mode[j] === SERIES_ODD) {
      const P1 = P[g], P3 = P[g + 2], P5 = P[g + 4];
      for (let q = q0; q < q1; q++) {
        const x = colValues[q];
        const n = jRows + colRows[q];
        if (nearKink(AT[n], x, dmax)) { kink++; continue; }
        const x2 = x * x;
        const f = n * 6;
        sum += x * (FT[f] * P1 + x2 * (FT[f + 1] * P3 + x2 * (FT[f + 2] * P5)));
      }
    } else if (mode[j] === SERIES_FULL) {
      const P1 = P[g], P2 = P[g + 1], P3 = P[g + 2], P4 = P[g + 3], P5 = P[g + 4], P6 = P[g + 5];
      for (let q = q0; q < q1; q++) {
        const x = colValues[q];
        const n = jRows + colRows[q];
        if (nearKink(AT[n], x, dmax)) { kink++; continue; }
        const f = n * 6;
        sum += x * (FT[f] * P1 + x * (FT[f + 3] * P2 + x * (FT[f + 1] * P3 + x * (FT[f + 4] * P4 + x * (FT[f + 2] * P5 + x * (FT[f + 5] * P6))))));
      }
    }
    sums[j] = sum;
    kinks[j] = kink;
  }
}
