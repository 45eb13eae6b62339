/**
 * How a training run reports itself: a live bar on a terminal, plain periodic
 * lines off one, JSON lines with `--json`, nothing but the result with `--quiet`.
 */
import cliProgress from 'cli-progress';
import { formatDuration } from '../report/format-duration.js';
import type { EpochEvent, IterationEvent } from '../train/trainer.js';

export type ProgressMode = 'bar' | 'lines' | 'json' | 'quiet';

export interface ProgressReporter {
  start(total: number, startAt: number): void;
  iteration(event: IterationEvent): void;
  epoch(event: EpochEvent, totalEpochs: number): void;
  message(text: string): void;
  /** A JSON event (json mode) or nothing. */
  event(object: Record<string, unknown>): void;
  stop(): void;
}

export function formatEpoch(event: EpochEvent, totalEpochs: number): string {
  const epoch = Number.isInteger(event.epoch) ? String(event.epoch) : event.epoch.toFixed(2);
  return `epoch ${epoch}/${totalEpochs}  train acc ${event.trainAccuracy.toFixed(4)}  test acc ${event.testAccuracy.toFixed(4)}  `
    + `train loss ${event.trainLoss.toFixed(4)}  test loss ${event.testLoss.toFixed(4)}  (iteration ${event.iteration})`;
}

export function createProgress(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr, out: NodeJS.WritableStream = process.stdout): ProgressReporter {
  let total = 0;
  let startAt = 0;
  let started = 0;
  let lastLine = 0;
  let multibar: cliProgress.MultiBar | null = null;
  let bar: cliProgress.SingleBar | null = null;
  const rate = (iteration: number) => (iteration - startAt) / Math.max(1e-9, (performance.now() - started) / 1000);

  return {
    start(totalIterations, from) {
      total = totalIterations;
      startAt = from;
      started = performance.now();
      lastLine = started;
      if (mode === 'bar') {
        multibar = new cliProgress.MultiBar({
          stream,
          format: ' {bar} {percentage}% | {value}/{total} it | {speed} it/s | loss {loss} | ETA {etaText}',
          barsize: 30,
          hideCursor: true,
          clearOnComplete: false,
          fps: 10,
        }, cliProgress.Presets.shades_classic);
        bar = multibar.create(total, from, { speed: '-', loss: '-', etaText: '?' });
      }
    },
    iteration(event) {
      if (mode === 'bar') {
        const speed = rate(event.iteration);
        bar!.update(event.iteration, { speed: speed.toFixed(1), loss: event.loss.toFixed(4), etaText: formatDuration((1000 * (total - event.iteration)) / speed) });
      } else if (mode === 'lines') {
        const now = performance.now();
        if (now - lastLine >= 5000 || event.iteration === total) {
          lastLine = now;
          const speed = rate(event.iteration);
          stream.write(`iteration ${event.iteration}/${total}  loss ${event.loss.toFixed(4)}  ${speed.toFixed(1)} it/s  ETA ${formatDuration((1000 * (total - event.iteration)) / speed)}\n`);
        }
      } else if (mode === 'json') {
        out.write(`${JSON.stringify({ event: 'iteration', ...event })}\n`);
      }
    },
    epoch(event, totalEpochs) {
      if (mode === 'bar') multibar!.log(`${formatEpoch(event, totalEpochs)}\n`);
      else if (mode === 'lines') stream.write(`${formatEpoch(event, totalEpochs)}\n`);
      else if (mode === 'json') out.write(`${JSON.stringify({ event: 'epoch', ...event })}\n`);
    },
    message(text) {
      if (mode === 'bar' && multibar) multibar.log(`${text}\n`);
      else if (mode === 'bar' || mode === 'lines') stream.write(`${text}\n`);
    },
    event(object) {
      if (mode === 'json') out.write(`${JSON.stringify(object)}\n`);
    },
    stop() {
      // log() only queues a line until the next redraw; redraw once so the last epoch's line is shown.
      multibar?.update();
      multibar?.stop();
      multibar = null;
    },
  };
}
