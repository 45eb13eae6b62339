/**
 * The incremental kernel's output parameters (W2 and b2): perturbing one
 * moves one score of every sample, by t = z·d (b2: z = 1). Their mode, and a
 * row of them from the cached output series (path 1) or per sample (paths
 * 2–3), see README.md.
 */
import type { IncrementalBase } from './base-layout.js';
import * as layoutModule from './base-layout.js';
import { outputLogRatio } from './exact-paths.js';
import * as seriesModule from './series.js';

// Module constants rather than imported bindings (README.md, "Performance notes").
const { DIM_HIDDEN_SIZE, DIM_OUTPUT_SIZE, DIM_ROWS } = layoutModule;
const { GENERAL, SERIES_FULL, perturbationPowers, seriesMode } = seriesModule;

/**
 * The mode of an output parameter (W2[j][·], or b2 for j = −1) perturbed by
 * d₊ = dp, d₋ = dm; writes Δ_m into P[o…o+6). Never SERIES_ODD3: the output
 * series keep their fifth-degree term.
 */
export function outputMode(base: IncrementalBase, j: number, dp: number, dm: number, P: Float64Array, o: number): number {
  perturbationPowers(dp, dm, P, o);
  const zMax = j >= 0 ? base.hiddenMax[j] : 1;
  const tMax = zMax * Math.max(Math.abs(dp), Math.abs(dm)) * (1 + 1e-15);
  return seriesMode(tMax, zMax, 1 / base.outputSeriesRadius[0], base.outputSeriesRadius[1], tMax, P, o, Infinity);
}

/** Scratch of {@link outputRow}: Δ_m of one parameter, 6. */
export interface OutputScratch {
  powers: Float64Array;
}

export function createOutputScratch(): OutputScratch {
  return { powers: new Float64Array(6) };
}

/**
 * out[paramOffset + k] for k0 ≤ k < k1: the parameters of W2 row j (or b2,
 * j = −1), the score k of every sample moved by t = z·d, z = z1[n][j] (b2:
 * 1), summed in sample order (skipping z = 0): in SERIES_ODD the odd terms
 * of the output series per sample, z·(G_1Δ_1 + z²(G_3Δ_3 + z²·G_5Δ_5)), in
 * SERIES_FULL all six, in GENERAL the loss change per sample (paths 2–3).
 * (The row's sums T_m = Σ_n z^m·G_m per score, as for the hidden parameters,
 * measured slower here: 500 parameters, ten scores per row.)
 */
export function outputRow(
  params: Float64Array, base: IncrementalBase, labels: Int32Array, j: number, paramOffset: number, k0: number, k1: number,
  h: number, out: Float64Array, scratch: OutputScratch,
): void {
  const H = base.dims[DIM_HIDDEN_SIZE];
  const K = base.dims[DIM_OUTPUT_SIZE];
  const rows = base.dims[DIM_ROWS];
  const { probs, hidden, labelWeight, labelSlack, labelComplement, outputSeries: G } = base;
  const P = scratch.powers;
  const isW2 = j >= 0;
  for (let k = k0; k < k1; k++) {
    const w = params[paramOffset + k];
    const dp = (w + h) - w;
    const dm = (w - h) - w;
    const mode = outputMode(base, j, dp, dm, P, 0);
    let sum = 0;
    if (mode !== GENERAL) {
      const P1 = P[0], P2 = P[1], P3 = P[2], P4 = P[3], P5 = P[4], P6 = P[5];
      const odd = mode !== SERIES_FULL; // SERIES_ODD (never SERIES_ODD3 here)
      for (let n = 0; n < rows; n++) {
        const z = isW2 ? hidden[n * H + j] : 1;
        if (z === 0) continue;
        const g = (n * K + k) * 6;
        if (odd) {
          const z2 = z * z;
          sum += z * (G[g] * P1 + z2 * (G[g + 1] * P3 + z2 * (G[g + 2] * P5)));
        } else {
          sum += z * (G[g] * P1 + z * (G[g + 3] * P2 + z * (G[g + 1] * P3 + z * (G[g + 4] * P4 + z * (G[g + 2] * P5 + z * (G[g + 5] * P6))))));
        }
      }
    } else {
      for (let n = 0; n < rows; n++) {
        const z = isW2 ? hidden[n * H + j] : 1;
        if (z === 0) continue;
        const pOff = n * K;
        const isLabel = labels[n] === k;
        const rest = isLabel ? labelComplement[n] : 0;
        const rho = labelWeight[n];
        const slack = labelSlack[n];
        sum += outputLogRatio(probs, K, pOff, k, isLabel, rest, rho, slack, z * dm)
          - outputLogRatio(probs, K, pOff, k, isLabel, rest, rho, slack, z * dp);
      }
    }
    out[paramOffset + k] = sum / rows / (2 * h);
  }
}
