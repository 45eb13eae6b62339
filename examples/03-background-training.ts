/**
 * A training run in a background thread, with a live progress line: this
 * thread only draws; the run (its Trainer, its gradient pool, its files) lives
 * in a worker thread. Epoch lines go to stdout, the progress line to stderr.
 *
 *   npm run example examples/03-background-training.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainInBackground } from 'gradpool';

/** The progress line, on stderr: redrawn in place on a terminal, one line per update elsewhere (a log). */
function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
  else if (line !== '') process.stderr.write(`${line}\n`);
}

// The run writes its directory (config, metrics, checkpoints, model, charts):
// here into a temporary one, removed at the end.
const directory = await mkdtemp(join(tmpdir(), 'gradpool-example-'));
try {
  let total = 0;
  const run = trainInBackground({
    // Three interleaved spirals of 2-D points: 240 train, 60 test points.
    dataset: 'spiral',
    hiddenSize: 30,
    weightInitStd: 2,
    learningRate: 3,
    batchSize: 20,
    epochs: 30,
    seed: 1,
    threads: 2,
    out: join(directory, 'run'),
    // At most one `iteration` event per 20 ms reaches this thread (and always the last one).
    progressInterval: 20,
    // Called on this thread, in order: 'start', then 'iteration's and 'epoch's.
    onEvent: (event) => {
      if (event.event === 'start') total = event.config.iterations; // 30 epochs of ⌈240 / 20⌉ = 12
      if (event.event === 'iteration') progress(`iteration ${event.iteration}/${total}  loss ${event.loss.toFixed(4)}`);
      if (event.event === 'epoch' && event.epoch % 5 === 0) {
        progress('');
        console.log(`epoch ${event.epoch}/${event.totalEpochs}: train acc ${event.trainAccuracy}, test acc ${event.testAccuracy}`);
      }
    },
  });

  // Once the run is set up, its weights are readable here, live: they live in
  // shared memory that the background thread updates in place.
  const { weights, shape } = await run.ready;
  console.log(`training ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize} in the background: ${weights.length} live weights`);

  const result = await run.result;
  progress('');
  console.log(`done: ${result.iterations} iterations, test acc ${result.testAccuracy}, final batch loss ${result.finalLoss}`);
  // `result.net` is the trained net, in this thread; the live view holds the same weights.
  console.log(`live weights equal the result's: ${weights.every((w, i) => w === result.net.params[i])}`);
} finally {
  await rm(directory, { recursive: true, force: true });
}
