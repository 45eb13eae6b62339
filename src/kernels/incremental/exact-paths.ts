/**
 * The incremental kernel's per-sample fallback (paths 2–3 of README.md): the
 * loss change of one sample from the moved scores, for any size of move,
 * where the cached loss series does not fit the error budget.
 */
import type { IncrementalBase } from './base-layout.js';
import * as layoutModule from './base-layout.js';
import * as seriesModule from './series.js';

// Module constants rather than imported bindings (README.md, "Performance notes").
const { DIM_HIDDEN_SIZE, isSigmoid } = layoutModule;
const { MOMENT_SERIES_BOUND, MOMENT_SERIES_DEGREE, expm1Small, log1pSmall } = seriesModule;

/**
 * L = log1p(r) = log((p_t' + 1e-7)/(p_t + 1e-7)) (paths 2–3) for hidden unit j
 * of sample n moved by Δz, any size:
 * - τ = |Δz|·max|W2[j]| ≤ {@link MOMENT_SERIES_BOUND}: σ and Σ p_k(e_t − e_k)
 *   from the cached moment series, then log1p(r);
 * - τ ≤ 1: one expm1 per score (every 1 + e_k ≥ e⁻¹, no cancellation), log1p(r);
 * - beyond: 1 + r = ρ·p_t'/p_t + (1 − ρ), a sum of two positive terms, with
 *   p_t'/p_t = exp(t_t − m)/Σ_k p_k exp(t_k − m), m = max_k t_k (no overflow,
 *   and no cancellation when p_t' ≪ p_t, where r → −1).
 */
function hiddenLogRatio(base: IncrementalBase, params: Float64Array, w2: number, K: number, n: number, j: number, t: number, dz: number): number {
  if (dz === 0) return 0;
  const rho = base.labelWeight[n];
  const tau = Math.abs(dz) * base.outputWeightMax[j];
  const wOff = w2 + j * K;
  const pOff = n * K;
  const probs = base.probs;
  if (tau <= MOMENT_SERIES_BOUND) {
    const moments = base.moments;
    const Mm = MOMENT_SERIES_DEGREE;
    const o = (n * base.dims[DIM_HIDDEN_SIZE] + j) * 2 * Mm;
    let s = 0;
    let num = 0;
    for (let m = Mm - 1; m >= 0; m--) {
      s = dz * (moments[o + m] + s);
      num = dz * (moments[o + Mm + m] + num);
    }
    return log1pSmall(rho * num / (1 + s));
  }
  if (tau <= 1) {
    const et = Math.expm1(dz * params[wOff + t]);
    let s = 0;
    let num = 0;
    for (let k = 0; k < K; k++) {
      const pk = probs[pOff + k];
      const e = Math.expm1(dz * params[wOff + k]);
      s += pk * e;
      if (k !== t) num += pk * (et - e);
    }
    return log1pSmall(rho * num / (1 + s));
  }
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, dz * params[wOff + k]);
  let den = 0;
  for (let k = 0; k < K; k++) den += probs[pOff + k] * Math.exp(dz * params[wOff + k] - max);
  const ratio = Math.exp(dz * params[wOff + t] - max) / den;
  return Math.log(rho * ratio + base.labelSlack[n]);
}

/**
 * Δz of a sigmoid unit moved by δ, any size (paths 2–3). |δ| ≤ 1: the expm1
 * form (1 + (1−z)·expm1(−δ) ≥ e⁻¹, no cancellation); beyond, the difference of
 * the two sigmoids, taken between complements 1 − z when both sides are
 * positive (no cancellation near 1).
 */
function sigmoidDelta(base: IncrementalBase, nj: number, delta: number): number {
  const z = base.hidden[nj];
  const zc = base.hiddenComplement[nj];
  if (Math.abs(delta) <= 1) {
    const em = expm1Small(-delta);
    return -em * (z * zc) / (1 + zc * em);
  }
  const a = base.hiddenInput[nj];
  const s = a + delta;
  if (s > 0 && a > 0) return zc - 1 / (1 + Math.exp(s));
  return 1 / (1 + Math.exp(-s)) - z;
}

/** Δz = max(0, a + δ) − max(0, a), exactly. */
function reluDelta(a: number, delta: number): number {
  const s = a + delta;
  if (a > 0) return s > 0 ? delta : -a;
  return s > 0 ? s : 0;
}

/** D_n = l_n(+) − l_n(−) for hidden unit j of sample n, input value xv (paths 2–3). */
export function hiddenTerm(
  base: IncrementalBase, params: Float64Array, w2: number, K: number, n: number, j: number, t: number,
  xv: number, dPlus: number, dMinus: number,
): number {
  const nj = n * base.dims[DIM_HIDDEN_SIZE] + j;
  const d1 = xv * dPlus;
  const d2 = xv * dMinus;
  let dz1: number;
  let dz2: number;
  if (isSigmoid(base)) {
    dz1 = sigmoidDelta(base, nj, d1);
    dz2 = sigmoidDelta(base, nj, d2);
  } else {
    const a = base.hiddenInput[nj];
    dz1 = reluDelta(a, d1);
    dz2 = reluDelta(a, d2);
    if (dz1 === 0 && dz2 === 0) return 0;
  }
  return hiddenLogRatio(base, params, w2, K, n, j, t, dz2) - hiddenLogRatio(base, params, w2, K, n, j, t, dz1);
}

/** Σ_{m≠k} p_m: 1 − p_k without cancellation. */
function probsExcept(probs: Float64Array, pOff: number, K: number, k: number): number {
  let rest = 0;
  for (let m = 0; m < K; m++) if (m !== k) rest += probs[pOff + m];
  return rest;
}

/**
 * L = log((p_t' + 1e-7)/(p_t + 1e-7)) (paths 2–3) when only score k of a sample
 * moves, by t (W2[j][k]: t = z·d; b2[k]: t = d). With e = expm1(t),
 * (p_t' − p_t)/p_t is e(1 − p_k)/(1 + p_k e) if k is the label, −p_k e/(1 + p_k e)
 * otherwise: the form used for |t| ≤ 1. Beyond, 1 + r = ρ·p_t'/p_t + (1 − ρ)
 * with p_t'/p_t = e^t/((1 − p_k) + p_k e^t) (label) or 1/((1 − p_k) + p_k e^t),
 * scaled by e^−t for t > 0. `rest` is 1 − p_k when k is the label (cached), else
 * ignored; `slack` = 1 − ρ.
 */
export function outputLogRatio(
  probs: Float64Array, K: number, pOff: number, k: number, isLabel: boolean, rest: number, rho: number, slack: number, t: number,
): number {
  if (t === 0) return 0;
  const pk = probs[pOff + k];
  if (Math.abs(t) <= 1) {
    const e = expm1Small(t);
    const num = isLabel ? e * rest : -pk * e;
    return log1pSmall(rho * num / (1 + pk * e));
  }
  const q = isLabel ? rest : probsExcept(probs, pOff, K, k);
  let ratio: number;
  if (t > 0) {
    const scaled = Math.exp(-t);
    ratio = (isLabel ? 1 : scaled) / (q * scaled + pk);
  } else {
    const e = Math.exp(t);
    ratio = (isLabel ? e : 1) / (q + pk * e);
  }
  return Math.log(rho * ratio + slack);
}
