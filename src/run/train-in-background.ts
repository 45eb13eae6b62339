/**
 * `trainInBackground(options)`: `train()` in a worker thread that owns the
 * Trainer and its pool, driven from the caller's thread over comlink. The
 * caller's event loop stays free whatever the gradient (a backprop step, or
 * the evaluation of an epoch, never runs on it).
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { NetShape } from '../kernels/two-layer.js';
import { TwoLayerNet } from '../nets/two-layer-net.js';
import { siblingModule, workerStart } from '../parallel/worker-loader.js';
import { assertFunction, assertOptionsObject } from '../validate.js';
import { type BackgroundRunOptions, type BackgroundTrainerApi, reviveError } from './background-protocol.js';
import type { RunEvent, TrainResult } from './train-options.js';

/** The options of {@link trainInBackground}: those of `train()` that can cross threads, and the callbacks. */
export interface BackgroundTrainOptions extends BackgroundRunOptions {
  /**
   * Every event of the run, on the caller's thread: `start`, `warning`,
   * `epoch` (each one), and `iteration` at most once per `progressInterval`
   * milliseconds (and the last one), a rate a progress bar can draw.
   */
  onEvent?: (event: RunEvent) => void;
}

/** The run's weights while it trains. */
export interface LiveRun {
  /**
   * A view of the parameters the background thread updates in place
   * ([W1 | b1 | W2 | b2], see `parameterLayout`): read it for live values;
   * `weights.slice()` for a consistent snapshot is best taken from an event
   * callback (between updates it may mix two steps).
   */
  weights: Float64Array;
  /** The net's sizes and hidden activation: how `weights` splits into W1, b1, W2, b2. */
  shape: NetShape;
  /** The run directory, an absolute path (as in {@link RunControl.directory}). */
  directory: string;
}

/** A run in the background, as {@link trainInBackground} returns it. */
export interface BackgroundTraining {
  /** Resolves once the run is set up (dataset loaded, net built), with its live weights. Rejects as {@link result} does when it fails first. */
  readonly ready: Promise<LiveRun>;
  /** The run's summary and its trained net; rejects with the error class and message `train()` would throw. */
  readonly result: Promise<TrainResult>;
  /**
   * Stops after the step in progress, saving a checkpoint; `result` then
   * resolves with `stopped: true`. `{ abortStep: true }` aborts a long step
   * too (the checkpoint holds the last finished one).
   */
  stop(options?: { abortStep?: boolean }): Promise<void>;
  /** Saves a checkpoint at the next step boundary (by default the run's own) and resolves to its .json path. */
  checkpoint(path?: string): Promise<string>;
}

/**
 * Trains as `train()` does, in a worker thread: progress arrives through
 * `onEvent` (a `Comlink.proxy` callback), `stop()` and `checkpoint()` act on
 * the run, and `result` settles when it ends. When it ends, the thread is
 * terminated and nothing keeps the process alive.
 *
 * @example
 * const run = trainInBackground({ dataset: 'mnist', epochs: 2, onEvent: (e) => { if (e.event === 'epoch') console.log(e.testAccuracy); } });
 * const { weights } = await run.ready; // a live view of the parameters
 * const { testAccuracy, net } = await run.result;
 * @throws {ArgumentTypeError} at once for options that are not an object or a non-function `onEvent`; everything else rejects `result`.
 */
export function trainInBackground(options: BackgroundTrainOptions = {}): BackgroundTraining {
  const given: unknown = options;
  assertOptionsObject('options', given, '{ dataset: \'mnist\', epochs: 1, onEvent }');
  const { onEvent, ...runOptions } = options;
  if (onEvent !== undefined) assertFunction('onEvent', onEvent);

  const filename = siblingModule(import.meta.url, '../../workers/train.worker');
  // The sources' TypeScript entry is required through a CommonJS starter (see workers/typescript-entry.cjs).
  const worker = filename.endsWith('.ts')
    ? new Worker(new URL('../../workers/typescript-entry.cjs', import.meta.url), { workerData: { typescriptEntry: fileURLToPath(filename) }, ...workerStart(filename) })
    : new Worker(new URL(filename), workerStart(filename));
  const remote = Comlink.wrap<BackgroundTrainerApi>(nodeEndpoint(worker));

  let resolveReady: (run: LiveRun) => void = () => undefined;
  let rejectReady: (error: unknown) => void = () => undefined;
  const ready = new Promise<LiveRun>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // Observed by a caller who awaits only `result`.
  ready.catch(() => undefined);
  const listener = Comlink.proxy({
    ready: ({ params, shape, directory }: { params: Float64Array; shape: NetShape; directory: string }) => resolveReady({ weights: params, shape, directory }),
    event: (event: RunEvent) => onEvent?.(event),
  });

  // A thread that dies (out of memory, a native crash) answers nothing: its exit settles the run.
  const died = new Promise<never>((_, reject) => {
    worker.once('error', (error) => reject(error));
    worker.once('exit', (code) => reject(new Error(`The background training thread exited (code ${code}) before the run ended`)));
  });
  died.catch(() => undefined);
  let ended = false;
  const result = (async (): Promise<TrainResult> => {
    try {
      const outcome = await Promise.race([remote.run(runOptions, listener), died]);
      if (!outcome.ok) throw reviveError(outcome.error);
      const { params, shape, ...summary } = outcome.result;
      return { ...summary, net: TwoLayerNet.fromParameters(shape, params) };
    } finally {
      ended = true;
      remote[Comlink.releaseProxy]();
      await worker.terminate();
    }
  })();
  result.then(undefined, (error: unknown) => rejectReady(error));

  return {
    ready,
    result,
    async stop({ abortStep = false } = {}) {
      if (!ended) await remote.stop(abortStep);
    },
    async checkpoint(path?: string) {
      if (ended) throw new Error('The background run has ended; save its net with saveModel(), or resume its directory');
      const outcome = await Promise.race([remote.checkpoint(path), died]);
      if (!outcome.ok) throw reviveError(outcome.error);
      return outcome.file;
    },
  };
}
