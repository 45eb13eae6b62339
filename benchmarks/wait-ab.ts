/**
 * The main thread's wait for a served call's workers, A against B in one
 * process: two pools of the same size, one with `maxBlockMilliseconds: 0`
 * (every call waits in `Atomics.waitAsync`, woken through the event loop),
 * one with the default (a blocking `Atomics.wait`, woken by the futex), their
 * blocks of calls alternating so that both see the same host. Each call is
 * preceded by an event-loop turn, as the Trainer yields every few
 * milliseconds. The first call of every block (the pool's workers asleep
 * since its last block) is left out. Prints JSON: per pool, the medians of the
 * call's wall time, its serial part (wall − slowest task) and "sees" (from
 * the last worker's report to the main thread collecting the call).
 *
 * Usage: npm run build && node dist/benchmarks/wait-ab.js [--threads 2] [--rounds 120] [--block 4] [--seed 0]
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadMnist, MNIST_INPUT_SIZE } from '../datasets/index.js';
import { GradientPool } from '../src/parallel/gradient-pool.js';
import type { PoolCallStatistics } from '../src/parallel/pool-call.js';
import { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { BatchSampler } from '../src/train/batch-sampler.js';
import { assertInteger } from '../src/validate.js';
import { summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '120' },
    block: { type: 'string', default: '4' },
    seed: { type: 'string', default: '0' },
  },
});
const threads = Number(values.threads);
const rounds = Number(values.rounds);
const block = Number(values.block);
const seed = Number(values.seed);
assertInteger('--threads', threads, 1, 64);
assertInteger('--rounds', rounds, 1);
assertInteger('--block', block, 2);
assertInteger('--seed', seed, 0);

const WARM_UP_CALLS = 100;
const BATCH_SIZE = 100;

const dataset = loadMnist();
const batch = new BatchSampler(dataset.train, MNIST_INPUT_SIZE, BATCH_SIZE, 'replacement', seed).next();
const net = new TwoLayerNet({ inputSize: MNIST_INPUT_SIZE, hiddenSize: 50, outputSize: 10, seed });
const out = new Float64Array(new SharedArrayBuffer(net.params.length * Float64Array.BYTES_PER_ELEMENT));

interface Samples { wall: number[]; serial: number[]; sees: number[] }
const variants = [
  { name: 'waitAsync (maxBlockMilliseconds 0)', pool: new GradientPool({ threads, maxBlockMilliseconds: 0 }), samples: { wall: [], serial: [], sees: [] } as Samples },
  { name: 'Atomics.wait (maxBlockMilliseconds default)', pool: new GradientPool({ threads }), samples: { wall: [], serial: [], sees: [] } as Samples },
];
try {
  for (const { pool } of variants) for (let i = 0; i < WARM_UP_CALLS; i++) await pool.gradientOfBatch(net, batch, { out });
  for (let round = 0; round < rounds; round++) {
    // Which goes first alternates: the first after a switch finds the other pool's data in the caches.
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const { pool, samples } of order) {
      for (let call = 0; call < block; call++) {
        await nextTurn();
        let statistics: PoolCallStatistics | undefined;
        const started = performance.now();
        await pool.gradientOfBatch(net, batch, { out, onStatistics: (reported) => { statistics = reported; } });
        const wall = performance.now() - started;
        if (call === 0 || statistics?.timeline === undefined) continue;
        const slowest = Math.max(...statistics.taskMilliseconds);
        samples.wall.push(wall);
        samples.serial.push(wall - slowest);
        samples.sees.push(statistics.timeline.collected - Math.max(...statistics.timeline.reported));
      }
    }
  }
} finally {
  await Promise.all(variants.map(({ pool }) => pool.destroy()));
}
/** Milliseconds, to the tenth of a microsecond. */
const median = (values: number[]) => Number(summarize(values).median.toFixed(4));
console.log(JSON.stringify({
  threads, rounds, block, seed, callsPerVariant: variants[0].samples.wall.length,
  variants: variants.map(({ name, samples }) => ({ name, wallMs: median(samples.wall), serialMs: median(samples.serial), seesMs: median(samples.sees) })),
}, null, 2));
