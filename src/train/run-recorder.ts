/**
 * A run's files besides the checkpoints: the configuration, the metrics per
 * iteration and epoch, the training charts. metrics.jsonl is append-only and
 * flushed to disk before each checkpoint commits, so the metrics of every
 * iteration a checkpoint holds survive a kill; on resume it is cut back to the
 * checkpoint (a torn last line is dropped).
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { faultPoint } from '../io/fault-points.js';
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
 * What a run leaves in its directory: `metrics.jsonl` (one row per iteration,
 * epoch rows carrying the accuracies), `metrics.csv` (the same rows), `config.json`,
 * and the training curves as SVG and PNG. Whole files are replaced atomically;
 * metrics.jsonl grows by appends (see {@link flushMetrics}).
 */
export class RunRecorder {
  readonly directory: string;
  readonly iterations: IterationEvent[] = [];
  readonly epochs: EpochEvent[] = [];
  /** Rows up to this iteration are in metrics.jsonl. */
  #flushed = -1;

  constructor(directory: string) {
    this.directory = directory;
  }

  get metricsFile(): string {
    return join(this.directory, 'metrics.jsonl');
  }

  /** A new run: an empty metrics.jsonl (replacing what a run that never reached a checkpoint left). */
  async start(): Promise<void> {
    await writeFileAtomic(this.metricsFile, '', 'metrics-start');
    this.#flushed = -1;
  }

  /**
   * Continues the metrics of an earlier run, kept in `from` (its run directory,
   * which may differ from this one), up to `iteration` (the checkpoint's): rows
   * past it (written before a kill) and a torn last line are dropped, and this
   * run's metrics.jsonl is rewritten with the rows kept.
   */
  async loadUntil(from: string, iteration: number, epochs: readonly EpochEvent[]): Promise<void> {
    const file = join(from, 'metrics.jsonl');
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch {
      // No earlier metrics: the resumed run records from here on.
    }
    const lines = text.split('\n');
    // A kill during an append leaves a last line without its newline: that row was never flushed.
    lines.pop();
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      let row: MetricsRow;
      try {
        row = JSON.parse(line) as MetricsRow;
      } catch {
        throw new InputError(`${file}: expected one JSON object per line, found a damaged line ${index + 1}`);
      }
      if (row.loss !== undefined && row.iteration <= iteration) this.iterations.push({ iteration: row.iteration, loss: row.loss, gradientMilliseconds: Number.NaN });
    });
    this.epochs.push(...epochs.filter((e) => e.iteration <= iteration));
    await writeFileAtomic(this.metricsFile, this.#jsonLines(this.rows()), 'metrics-resume');
    this.#flushed = iteration;
  }

  rows(): MetricsRow[] {
    const byIteration = new Map<number, MetricsRow>();
    for (const { iteration, loss } of this.iterations) byIteration.set(iteration, { iteration, loss });
    for (const e of this.epochs) {
      byIteration.set(e.iteration, { ...byIteration.get(e.iteration), iteration: e.iteration, epoch: e.epoch, trainAccuracy: e.trainAccuracy, testAccuracy: e.testAccuracy, trainLoss: e.trainLoss, testLoss: e.testLoss });
    }
    return [...byIteration.values()].sort((a, b) => a.iteration - b.iteration);
  }

  #jsonLines(rows: readonly MetricsRow[]): string {
    return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  }

  async writeConfig(config: object): Promise<void> {
    await writeFileAtomic(join(this.directory, 'config.json'), `${JSON.stringify(config, null, 2)}\n`, 'config');
  }

  /**
   * Appends the rows after the last flushed one, up to `iteration`, to
   * metrics.jsonl and flushes them to disk: called before the checkpoint of
   * `iteration` commits, so that checkpoint never holds iterations whose
   * metrics are lost.
   */
  async flushMetrics(iteration: number): Promise<void> {
    const rows = this.rows().filter((row) => row.iteration > this.#flushed && row.iteration <= iteration);
    const handle = await open(this.metricsFile, 'a');
    try {
      faultPoint('metrics-append', this.metricsFile);
      await handle.write(this.#jsonLines(rows));
      faultPoint('metrics-fsync', this.metricsFile);
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.#flushed = Math.max(this.#flushed, iteration);
  }

  /** metrics.csv: the flushed rows (the metrics of what the run has saved). */
  async writeCsv(): Promise<void> {
    const rows = this.rows().filter((row) => row.iteration <= this.#flushed);
    const csv = [CSV_COLUMNS.join(','), ...rows.map((row) => CSV_COLUMNS.map((c) => (row[c] === undefined ? '' : String(row[c]))).join(','))];
    await writeFileAtomic(join(this.directory, 'metrics.csv'), `${csv.join('\n')}\n`, 'metrics-csv');
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
