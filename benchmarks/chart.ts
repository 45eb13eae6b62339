/**
 * The benchmark chart (speedup against threads with the ideal line, and ms per
 * gradient per engine), drawn by src/report/charts.ts next to the JSON.
 */
import { dirname, extname } from 'node:path';
import { makeDirectory } from '../src/io/make-directory.js';
import { speedupChart, writeChart } from '../src/report/charts.js';
import type { BenchResult } from './result.js';

export interface ChartRow {
  threads: number;
  speedup: number;
  msPerGradient: number;
  engine: string;
}

/**
 * One row per pool measurement (speedup against the same engine on one
 * thread; the library pattern's against its own one thread), the machine's ceiling and the split alone (speedup panel only). With a single configuration, also the references at 1 thread
 * (naive extrapolated and backprop on the main thread, the book's numpy code)
 * for the ms-per-gradient panel; with several, only the pool engines, named
 * `h<hidden> b<batch> <engine>` so the legend stays readable.
 */
export function chartRows(result: BenchResult): ChartRow[] {
  const several = result.configurations.length > 1;
  return result.configurations.flatMap((c) => {
    const prefix = several ? `h${c.shape.hiddenSize} b${c.batch} ` : '';
    const rows: ChartRow[] = c.measurements
      .filter((m) => m.where === 'pool' && m.speedup !== null)
      .map((m) => ({ threads: m.threads, speedup: m.speedup as number, msPerGradient: m.msPerGradient.median, engine: `${prefix}${m.engine}` }));
    for (const m of c.libraryPattern.measurements.filter((m) => m.speedup !== null)) {
      rows.push({ threads: m.threads, speedup: m.speedup as number, msPerGradient: m.msPerGradient.median, engine: `${prefix}${m.engine}, library pattern` });
    }
    // The machine's ceiling in the speedup panel only (its ms are whole gradients per worker, not comparable).
    for (const m of c.ceiling) {
      if (m.speedup !== null) rows.push({ threads: m.threads, speedup: m.speedup, msPerGradient: Number.NaN, engine: `${prefix}machine ceiling` });
    }
    // The split alone beside it, from its one-worker start (the same baseline, speedup 1).
    if (c.ceiling.some((m) => m.split?.speedup != null)) {
      for (const m of c.ceiling) {
        const speedup = m.threads === 1 ? m.speedup : m.split?.speedup ?? null;
        if (speedup !== null) rows.push({ threads: m.threads, speedup, msPerGradient: Number.NaN, engine: `${prefix}split, no pool` });
      }
    }
    if (several) return rows;
    for (const m of c.measurements.filter((m) => m.where === 'main-thread')) {
      rows.push({ threads: 1, speedup: 1, msPerGradient: m.msPerGradient.median, engine: m.method === 'sampled-extrapolated' ? `${m.engine} (main, est.)` : `${m.engine} (main)` });
    }
    if (c.numpy !== null) rows.push({ threads: 1, speedup: 1, msPerGradient: c.numpy.msPerGradient.median, engine: 'numpy book (est.)' });
    return rows;
  });
}

export function chartTitle(result: BenchResult): string {
  const models = result.configurations.map((c) => c.label).join(', ');
  return `gradpool numerical gradient: ${models} on ${result.machine.cpuModel} (${result.machine.availableParallelism} cores)`;
}

/** `path` without a .svg/.png/.json extension: where writeChart puts PATH.svg and PATH.png. */
export function chartBase(path: string): string {
  const extension = extname(path).toLowerCase();
  return ['.svg', '.png', '.json'].includes(extension) ? path.slice(0, -extension.length) : path;
}

/** Draws and writes the chart; returns the two files. */
export async function writeBenchChart(path: string, result: BenchResult): Promise<{ svg: string; png: string }> {
  const base = chartBase(path);
  await makeDirectory(dirname(base));
  const chart = await speedupChart({ rows: chartRows(result), title: chartTitle(result) });
  return writeChart(base, chart);
}
