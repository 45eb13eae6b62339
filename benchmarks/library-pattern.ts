/**
 * A library caller's pattern, as against the Trainer's: plain JavaScript
 * arrays (`number[][]` rows, `number[]` labels) through
 * `pool.numericalGradient(net, x, t)` — which converts and checks them, scans
 * the weights and returns a fresh gradient — with other work on the main
 * thread between calls, so the workers have gone idle and their caches have
 * seen other data by the time the next call comes.
 */
import type { Split } from '../src/data/dataset.js';

export const LIBRARY_PATTERN_DESCRIPTION = 'number[][] rows and number[] labels through pool.numericalGradient(net, x, t) (converted, checked and the weights scanned on every call; a new gradient returned), each call preceded by busy work on the main thread';

/** The batch as a library caller would hold it: one `number[]` per row, and the labels as `number[]`. */
export function libraryInputs(batch: Split, inputSize: number): { x: number[][]; t: number[] } {
  const x = Array.from({ length: batch.rows }, (_, n) => Array.from(batch.x.subarray(n * inputSize, (n + 1) * inputSize)));
  return { x, t: Array.from(batch.labels.subarray(0, batch.rows)) };
}

let sink = 0;

/**
 * Keeps the main thread busy for `ms` milliseconds (arithmetic over a 1 MiB
 * array, as a caller's own work would touch its own data), returning when the
 * time is up. 0: returns at once.
 */
export function busyWork(ms: number): void {
  if (ms <= 0) return;
  const data = scratch();
  const until = performance.now() + ms;
  let acc = sink;
  let i = 0;
  do {
    for (let k = 0; k < 4096; k++, i = (i + 61) & (data.length - 1)) {
      data[i] = data[i] * 0.999 + acc * 1e-9;
      acc += data[i];
    }
  } while (performance.now() < until);
  sink = acc % 1;
}

let scratchArray: Float64Array | undefined;
function scratch(): Float64Array {
  scratchArray ??= new Float64Array(1 << 17).fill(1); // 1 MiB, a power of two for the index mask
  return scratchArray;
}
