/**
 * The kernel ratio: the incremental kernel on one thread against backprop, both
 * called directly on the main thread, interleaved call by call (alternating
 * which goes first) on the same batch and weights, so that a burst of load
 * from elsewhere hits both alike.
 */
import { incrementalGradientRange, prepareIncrementalBase } from '../src/kernels/incremental/index.js';
import { backprop, createForwardScratch } from '../src/kernels/two-layer.js';
import type { Split } from '../src/data/dataset.js';
import type { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { LoadMeter, type LoadSample } from './machine.js';

export interface KernelPairRun {
  incrementalMs: number[];
  backpropMs: number[];
  incrementalLoad: LoadSample;
  backpropLoad: LoadSample;
  /** The incremental kernel's gradient of the last call (to check it against the pool's, or backprop's). */
  incrementalGradient: Float64Array;
  backpropGradient: Float64Array;
}

/**
 * `reps` timed calls of each kernel after `warmup` untimed ones of each; the
 * incremental kernel builds its base (one forward pass and the caches) and then
 * differences every parameter, as one pool thread does for a whole call.
 */
export function measureKernelPair(net: TwoLayerNet, batch: Split, reps: number, warmup: number, h: number, busyThresholdCores: number): KernelPairRun {
  const { params, shape } = net;
  const { x, labels, rows } = batch;
  const size = params.length;
  const incrementalGradient = new Float64Array(size);
  const backpropGradient = new Float64Array(size);
  const scratch = createForwardScratch(shape, rows);
  let buffer: ArrayBufferLike | undefined;
  const incremental = () => {
    const base = prepareIncrementalBase(params, shape, x, rows, labels, buffer);
    buffer = base.dims.buffer;
    incrementalGradientRange(params, shape, x, rows, labels, base, 0, size, incrementalGradient, h);
  };
  const reference = () => backprop(params, shape, x, rows, labels, backpropGradient, false, scratch);
  for (let i = 0; i < warmup; i++) {
    incremental();
    reference();
  }
  const incrementalMeter = new LoadMeter(busyThresholdCores);
  const backpropMeter = new LoadMeter(busyThresholdCores);
  const incrementalMs: number[] = [];
  const backpropMs: number[] = [];
  const time = (run: () => void, meter: LoadMeter, into: number[]) => {
    meter.start();
    const started = performance.now();
    run();
    into.push(performance.now() - started);
    meter.stop();
  };
  for (let r = 0; r < reps; r++) {
    if (r % 2 === 0) {
      time(incremental, incrementalMeter, incrementalMs);
      time(reference, backpropMeter, backpropMs);
    } else {
      time(reference, backpropMeter, backpropMs);
      time(incremental, incrementalMeter, incrementalMs);
    }
  }
  return {
    incrementalMs, backpropMs, incrementalLoad: incrementalMeter.sample(), backpropLoad: backpropMeter.sample(), incrementalGradient, backpropGradient,
  };
}
