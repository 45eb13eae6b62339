/** A run's files besides the checkpoints: the configuration, the metrics per iteration and epoch, the training charts. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { trainingCharts, writeChart } from '../report/charts.js';
import type { EpochEvent, IterationEvent } from './trainer.js';

export interface MetricsRow {
  iteration: number;
  loss?: number;
  epoch?: number;
  trainAccuracy?: number;
  testAccuracy?: number;
  trainLoss?: number;
  testLoss?: number;
}

const CSV_COLUMNS = ['iteration', 'loss', 'epoch', 'trainAccuracy', 'testAccuracy', 'trainLoss', 'testLoss'] as const;

/**
 * What a run leaves in its directory: `metrics.csv` and `metrics.jsonl` (one row
 * per iteration, epoch rows carrying the accuracies), `config.json`, and the
 * training curves as SVG and PNG. Every file is rewritten atomically, so a
 * killed run never leaves a half-written file.
 */
export class RunRecorder {
  readonly directory: string;
  readonly iterations: IterationEvent[] = [];
  readonly epochs: EpochEvent[] = [];

  constructor(directory: string) {
    this.directory = directory;
  }

  /**
   * Reloads the iteration losses of an earlier run, kept in `from` (its run
   * directory, which may differ from this one), up to `iteration` (for --resume).
   */
  async loadUntil(from: string, iteration: number, epochs: readonly EpochEvent[]): Promise<void> {
    let text = '';
    try {
      text = await readFile(join(from, 'metrics.jsonl'), 'utf8');
    } catch {
      // No earlier metrics: the resumed run records from here on.
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const row = JSON.parse(line) as MetricsRow;
      if (row.loss !== undefined && row.iteration <= iteration) this.iterations.push({ iteration: row.iteration, loss: row.loss, gradientMilliseconds: Number.NaN });
    }
    this.epochs.push(...epochs);
  }

  rows(): MetricsRow[] {
    const byIteration = new Map<number, MetricsRow>();
    for (const { iteration, loss } of this.iterations) byIteration.set(iteration, { iteration, loss });
    for (const e of this.epochs) {
      byIteration.set(e.iteration, { ...byIteration.get(e.iteration), iteration: e.iteration, epoch: e.epoch, trainAccuracy: e.trainAccuracy, testAccuracy: e.testAccuracy, trainLoss: e.trainLoss, testLoss: e.testLoss });
    }
    return [...byIteration.values()].sort((a, b) => a.iteration - b.iteration);
  }

  async writeConfig(config: object): Promise<void> {
    await writeFileAtomic(join(this.directory, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }

  async writeMetrics(): Promise<void> {
    const rows = this.rows();
    const csv = [CSV_COLUMNS.join(','), ...rows.map((row) => CSV_COLUMNS.map((c) => (row[c] === undefined ? '' : String(row[c]))).join(','))];
    await writeFileAtomic(join(this.directory, 'metrics.csv'), `${csv.join('\n')}\n`);
    await writeFileAtomic(join(this.directory, 'metrics.jsonl'), rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
  }

  async writeCharts(title: string): Promise<void> {
    const chart = await trainingCharts({
      iterations: this.iterations.map(({ iteration, loss }) => ({ iteration, loss })),
      epochs: this.epochs,
      title,
    });
    await writeChart(join(this.directory, 'training'), chart);
  }
}
