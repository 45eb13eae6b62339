/**
 * The optional peer of the epoch line: `@tensorflow/tfjs` on its wasm backend
 * (`@tensorflow/tfjs-backend-wasm`), when both can be imported — neither is a
 * dependency of gradpool, as numpy is not. One backprop epoch of the same net
 * (784-H-10 sigmoid, the same initial weights, SGD at the same learning rate)
 * on the same training digits and the same batches (the Trainer's sampler,
 * same seed), plus the epoch evaluation of both splits, timed as gradpool's
 * epoch is. tfjs computes in float32.
 */
import type { BenchDataset } from './epoch.js';
import type { TwoLayerNet } from '../src/nets/two-layer-net.js';
import { BatchSampler } from '../src/train/batch-sampler.js';
import { LoadMeter } from './machine.js';
import type { PeerEpoch } from './result.js';

export const TFJS_PACKAGE = '@tensorflow/tfjs';
export const TFJS_WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

/** What `BenchResult.tfjs` records. */
export interface TfjsAvailability {
  attempted: boolean;
  available: boolean;
  reason: string | null;
  version: string | null;
  backend: string | null;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- an optional peer without types here */
type Tf = any;
type Importer = (specifier: string) => Promise<unknown>;

// A variable specifier, so that TypeScript does not look for the (absent) types.
const importModule: Importer = (specifier) => import(specifier);

/** The error's first line, without the importing file's path. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0].replace(/ imported from \S+$/, '');
}

/**
 * Imports tfjs and its wasm backend and selects the backend; never throws:
 * an absent or broken peer is `available: false` with the reason in one line.
 */
export async function loadTfjs(importer: Importer = importModule): Promise<{ availability: TfjsAvailability; tf: Tf | null }> {
  const unavailable = (reason: string) => ({ availability: { attempted: true, available: false, reason, version: null, backend: null }, tf: null });
  let tf: Tf;
  let wasm: Tf;
  try {
    tf = await importer(TFJS_PACKAGE);
  } catch (error) {
    return unavailable(`${TFJS_PACKAGE} is not importable (${firstLine(error)})`);
  }
  try {
    wasm = await importer(TFJS_WASM_PACKAGE);
  } catch (error) {
    return unavailable(`${TFJS_WASM_PACKAGE} is not importable (${firstLine(error)})`);
  }
  try {
    tf = tf?.default?.setBackend ? tf.default : tf;
    if (!(await tf.setBackend('wasm'))) return unavailable(`tf.setBackend('wasm') failed`);
    await tf.ready();
    let threads = '';
    try {
      threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? ', multithreaded' : ', single-threaded';
    } catch {
      // Older versions do not have the flag.
    }
    const version = String(tf.version?.tfjs ?? tf.version_core ?? '?');
    const wasmVersion = String(wasm?.version_wasm ?? wasm?.default?.version_wasm ?? '?');
    return { availability: { attempted: true, available: true, reason: null, version, backend: `wasm ${wasmVersion}${threads}` }, tf };
  } catch (error) {
    return unavailable(`the tfjs wasm backend did not start (${firstLine(error)})`);
  }
}

export interface TfjsEpochOptions {
  net: TwoLayerNet;
  dataset: BenchDataset;
  batchSize: number;
  learningRate: number;
  seed: number;
  iterationsPerEpoch: number;
  busyThresholdCores: number;
}

/** One tfjs epoch (after one untimed step and evaluation); overBackprop is left to the caller. */
export async function measureTfjsEpoch(tf: Tf, availability: TfjsAvailability, options: TfjsEpochOptions): Promise<Omit<PeerEpoch, 'overBackprop'>> {
  const { net, dataset, batchSize, learningRate, seed, iterationsPerEpoch, busyThresholdCores } = options;
  const { inputSize, hiddenSize, outputSize } = net.shape;
  const { layout, params } = net;
  const tensor = (from: number, to: number, shape: number[]) => tf.variable(tf.tensor(Float32Array.from(params.subarray(from, to)), shape, 'float32'));
  const W1 = tensor(layout.W1, layout.b1, [inputSize, hiddenSize]);
  const b1 = tensor(layout.b1, layout.W2, [hiddenSize]);
  const W2 = tensor(layout.W2, layout.b2, [hiddenSize, outputSize]);
  const b2 = tensor(layout.b2, layout.size, [outputSize]);
  const optimizer = tf.train.sgd(learningRate);
  const sampler = new BatchSampler(dataset.train, inputSize, batchSize, 'replacement', seed);
  const logits = (x: Tf) => tf.add(tf.matMul(tf.sigmoid(tf.add(tf.matMul(x, W1), b1)), W2), b2);
  const onBatch = (x: Float64Array, labels: Int32Array, rows: number) => {
    const xs = tf.tensor2d(Float32Array.from(x.subarray(0, rows * inputSize)), [rows, inputSize]);
    const ys = tf.oneHot(tf.tensor1d(Int32Array.from(labels.subarray(0, rows)), 'int32'), outputSize);
    return { xs, ys };
  };
  const step = (): number => {
    const batch = sampler.next();
    return tf.tidy(() => {
      const { xs, ys } = onBatch(batch.x, batch.labels, batch.rows);
      const cost = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, logits(xs)), true);
      return cost.dataSync()[0] as number;
    });
  };
  // The epoch evaluation: accuracy and mean loss of both splits, in chunks of 1000 rows as gradpool's.
  const evaluate = () => {
    for (const split of [dataset.train, dataset.test]) {
      let correct = 0;
      let loss = 0;
      for (let from = 0; from < split.rows; from += 1000) {
        const rows = Math.min(1000, split.rows - from);
        [correct, loss] = tf.tidy(() => {
          const { xs, ys } = onBatch(split.x.subarray(from * inputSize), split.labels.subarray(from), rows);
          const out = logits(xs);
          const hits = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), tf.argMax(ys, 1)), 'float32')).dataSync()[0] as number;
          const batchLoss = tf.losses.softmaxCrossEntropy(ys, out).dataSync()[0] as number;
          return [correct + hits, loss + batchLoss * rows];
        });
      }
      if (!Number.isFinite(loss / split.rows) || correct < 0) throw new Error('tfjs evaluation gave a non-finite loss');
    }
  };
  try {
    step(); // untimed: kernels compiled, memory allocated
    evaluate();
    const meter = new LoadMeter(busyThresholdCores);
    meter.start();
    const started = performance.now();
    for (let i = 0; i < iterationsPerEpoch; i++) step();
    const stepsEnded = performance.now();
    evaluate();
    const ended = performance.now();
    meter.stop();
    return {
      library: TFJS_PACKAGE,
      version: availability.version ?? '?',
      backend: availability.backend ?? 'wasm',
      description: `one epoch run and timed: ${iterationsPerEpoch} SGD steps of batch ${batchSize} (the Trainer's batches, same seed and initial weights, float32) + evaluation of ${dataset.train.rows} train and ${dataset.test.rows} test samples`,
      iterationsPerEpoch,
      msPerIteration: (stepsEnded - started) / iterationsPerEpoch,
      evaluationMs: ended - stepsEnded,
      epochMs: ended - started,
      load: meter.sample(),
    };
  } finally {
    for (const variable of [W1, b1, W2, b2]) variable.dispose();
    optimizer.dispose?.();
  }
}
