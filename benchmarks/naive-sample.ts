/**
 * The book's naive numerical gradient is far too slow to time in full at real
 * sizes (two full forward passes of the batch per parameter: about a minute per
 * gradient for 784-50-10 at batch 100 in TypeScript on one thread). Every
 * parameter costs the same two forward passes, so timing a sample of parameters
 * from every tensor and scaling each tensor's time by its size estimates the
 * full gradient well. The estimate is labelled `sampled-extrapolated`
 * wherever it appears.
 */
import { naiveGradientRange } from '../src/kernels/naive.js';
import { parameterLayout, type NetShape } from '../src/kernels/two-layer.js';
import type { PreparedBatch, TwoLayerNet } from '../src/nets/two-layer-net.js';

export const TENSOR_NAMES = ['W1', 'b1', 'W2', 'b2'] as const;
export type TensorName = (typeof TENSOR_NAMES)[number];

/** The sampled parameters of one tensor. */
export interface TensorSample {
  tensor: TensorName;
  /** Where the tensor starts in the flat parameter vector. */
  offset: number;
  /** Elements in the tensor. */
  size: number;
  /** Sampled flat indices within the tensor, increasing. */
  indices: number[];
}

/**
 * `perTensor` evenly spaced parameters of each of W1, b1, W2 and b2 (all of a
 * tensor when it has fewer): index ⌊(k + ½)·size / m⌋ for k < m.
 */
export function sampleParameters(shape: NetShape, perTensor: number): TensorSample[] {
  const layout = parameterLayout(shape);
  const bounds: Record<TensorName, [number, number]> = {
    W1: [layout.W1, layout.b1], b1: [layout.b1, layout.W2], W2: [layout.W2, layout.b2], b2: [layout.b2, layout.size],
  };
  return TENSOR_NAMES.map((tensor) => {
    const [offset, end] = bounds[tensor];
    const size = end - offset;
    const m = Math.min(perTensor, size);
    return { tensor, offset, size, indices: Array.from({ length: m }, (_, k) => Math.floor(((k + 0.5) * size) / m)) };
  });
}

/** Parameters in a sample. */
export function sampledCount(samples: readonly TensorSample[]): number {
  return samples.reduce((sum, s) => sum + s.indices.length, 0);
}

/** The full-gradient time implied by each tensor's time for its sampled parameters: Σ size · ms / sampled. */
export function extrapolateMilliseconds(samples: readonly TensorSample[], msByTensor: readonly number[]): number {
  return samples.reduce((sum, s, t) => sum + (s.indices.length === 0 ? 0 : (s.size * msByTensor[t]) / s.indices.length), 0);
}

export interface NaiveSampleRun {
  /** Extrapolated milliseconds per full gradient, one per timed repetition. */
  extrapolatedMs: number[];
  /** The gradient at the sampled parameters, tensor by tensor in sample order. */
  values: Float64Array;
}

/**
 * Times the book's method (`naiveGradientRange`, one parameter at a time, on a
 * private copy of the weights) on the sampled parameters, on this thread.
 */
export function measureNaiveSample(
  net: TwoLayerNet, batch: PreparedBatch, samples: readonly TensorSample[], reps: number, warmup: number, h: number,
): NaiveSampleRun {
  const params = net.params.slice();
  const out = new Float64Array(params.length);
  const pass = (): number[] => samples.map((s) => {
    const started = performance.now();
    for (const index of s.indices) {
      const p = s.offset + index;
      naiveGradientRange(params, net.shape, batch.x, batch.rows, batch.labels, p, p + 1, out, h);
    }
    return performance.now() - started;
  });
  for (let i = 0; i < warmup; i++) pass();
  const extrapolatedMs: number[] = [];
  for (let r = 0; r < reps; r++) extrapolatedMs.push(extrapolateMilliseconds(samples, pass()));
  const values = new Float64Array(sampledCount(samples));
  let k = 0;
  for (const s of samples) for (const index of s.indices) values[k++] = out[s.offset + index];
  return { extrapolatedMs, values };
}
