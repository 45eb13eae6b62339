/**
 * The background thread's side of `trainInBackground`: it owns the run (the
 * Trainer and its pool, through `train()`) and answers the caller's thread
 * over comlink (background-protocol.ts).
 */
import type { IterationEvent } from '../train/trainer.js';
import { assertPositiveFinite } from '../validate.js';
import { type BackgroundListener, type BackgroundRunOptions, type BackgroundTrainerApi, serializeError } from './background-protocol.js';
import { train } from './train.js';
import type { RunControl } from './train-options.js';

const DEFAULT_PROGRESS_INTERVAL = 100;

/** The API one background worker exposes (one run per worker). */
export function backgroundTrainer(): BackgroundTrainerApi {
  const stop = new AbortController();
  const abortStep = new AbortController();
  let control: RunControl | undefined;
  const waiting: Array<(run: RunControl | undefined) => void> = [];
  return {
    async run({ progressInterval = DEFAULT_PROGRESS_INTERVAL, ...options }: BackgroundRunOptions, listener: BackgroundListener) {
      try {
        assertPositiveFinite('progressInterval', progressInterval);
        // The caller's callbacks answer through the event loop of its thread: a failed one must not fail the run.
        const tell = (call: () => unknown) => void Promise.resolve().then(call).catch(() => undefined);
        let lastIteration: IterationEvent | undefined;
        let lastSent = 0;
        let total = 0;
        const result = await train({
          ...options,
          signal: stop.signal,
          abortStep: abortStep.signal,
          onReady: (run) => {
            control = run;
            for (const resolve of waiting.splice(0)) resolve(run);
            tell(() => listener.ready({ params: run.net.params, shape: run.net.shape, directory: run.directory }));
          },
          onEvent: (event) => {
            if (event.event === 'start') total = event.config.iterations;
            if (event.event === 'iteration') {
              lastIteration = event;
              const now = performance.now();
              if (now - lastSent < progressInterval && event.iteration !== total) return;
              lastSent = now;
            }
            tell(() => listener.event(event));
          },
        });
        if (lastIteration !== undefined && lastIteration.iteration !== result.iterations) tell(() => listener.event({ event: 'iteration', ...lastIteration! }));
        const { net, ...rest } = result;
        return { ok: true, result: { ...rest, params: net.params.slice(), shape: net.shape } };
      } catch (error) {
        return { ok: false, error: serializeError(error) };
      } finally {
        for (const resolve of waiting.splice(0)) resolve(undefined);
      }
    },
    stop(abort: boolean) {
      stop.abort();
      if (abort) abortStep.abort(new Error('stopped by the caller'));
    },
    async checkpoint(path: string | undefined) {
      try {
        const run = control ?? await new Promise<RunControl | undefined>((resolve) => waiting.push(resolve));
        if (run === undefined) throw new Error('The background run ended before it started; no checkpoint to save');
        return { ok: true, file: await run.checkpoint(path) };
      } catch (error) {
        return { ok: false, error: serializeError(error) };
      }
    },
  };
}
