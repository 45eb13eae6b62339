/**
 * Stopping a run and resuming it from code: `train()` stops at a step boundary
 * when its `signal` aborts (as Ctrl-C stops `gradpool train`) and saves a
 * checkpoint; `train({ resume })` continues it, and ends with exactly the
 * weights of a run never stopped. Then the saved model is loaded back.
 *
 *   npm run example examples/05-resume-from-code.ts
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, train, type TrainOptions } from 'gradpool';

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

// The points around the corners of the XOR gate: 160 train, 40 test.
const recipe: TrainOptions = { dataset: 'xor', hiddenSize: 8, weightInitStd: 1, learningRate: 2, batchSize: 20, epochs: 10, seed: 1, threads: 2 };

const directory = await mkdtemp(join(tmpdir(), 'gradpool-example-'));
try {
  // 1. A run stopped after iteration 30 of 80 (10 epochs of ⌈160 / 20⌉ = 8):
  //    the checkpoint it saves holds the weights, the optimizer and the batch
  //    sampler's random state.
  const stop = new AbortController();
  const first = await train({
    ...recipe,
    out: join(directory, 'run'),
    signal: stop.signal,
    onEvent: (event) => {
      if (event.event === 'iteration' && event.iteration === 30) stop.abort();
    },
  });
  console.log(`stopped: ${first.stopped}, at iteration ${first.iterations}; checkpoint saved in the run directory`);

  // 2. Resume: the directory is enough, the configuration comes from the
  //    checkpoint. Only `iterations`/`epochs`, `threads`, `out`,
  //    `evaluationLimit` and `learningRate` may be given with it (another
  //    rate goes on from the checkpoint at that rate, so the weights are no
  //    longer those of a run never stopped; config.json's `sessions` keep
  //    each rate).
  const resumed = await train({ resume: first.directory, threads: 2 });
  console.log(`resumed to iteration ${resumed.iterations}: train acc ${resumed.trainAccuracy}, test acc ${resumed.testAccuracy}`);

  // 3. The same recipe without a stop, into another directory: the same model, byte for byte.
  const straight = await train({ ...recipe, out: join(directory, 'straight') });
  const same = await sha256(join(resumed.directory, 'model.safetensors')) === await sha256(join(straight.directory, 'model.safetensors'));
  console.log(`uninterrupted run: test acc ${straight.testAccuracy}; model.safetensors identical: ${same}`);

  // 4. The saved model, loaded back as a TwoLayerNet (a run directory means its model.json).
  const { net, dataset, iteration } = await loadModel(resumed.directory);
  const corners = [[0, 0], [0, 1], [1, 0], [1, 1]];
  const classes = corners.map((corner) => {
    const p = net.predict(corner);
    return p.indexOf(Math.max(...p));
  });
  console.log(`loaded model (${dataset}, iteration ${iteration}): XOR of ${corners.map((c) => c.join('')).join(', ')} = ${classes.join(', ')}`);
} finally {
  await rm(directory, { recursive: true, force: true });
}
