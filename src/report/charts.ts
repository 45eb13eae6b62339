/**
 * Training curves and benchmark charts: a Vega-Lite spec, compiled to Vega and
 * rendered headless to SVG, then rasterized to PNG by resvg. Nothing is drawn
 * by hand.
 *
 * Fonts: the SVG asks for the generic `sans-serif` (so it stays portable in a
 * browser); for the PNG, resvg maps `sans-serif` to a font found on this machine
 * (see {@link resolveChartFont}), since its own default (Arial) is absent from
 * most Linux systems and text would otherwise fall back to whatever font comes
 * first, or vanish.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../io/atomic-write.js';
import { ArgumentTypeError } from '../errors.js';
import { assertInteger, assertPositiveFinite, expectationError } from '../validate.js';

/** A rendered chart: the SVG text and the PNG bytes of the same picture. */
export interface Chart {
  svg: string;
  png: Uint8Array;
}

export interface ChartOptions {
  /** PNG pixels per SVG pixel. Default 2. */
  scale?: number;
}

export interface IterationPoint {
  iteration: number;
  loss: number;
}

export interface EpochPoint {
  epoch: number;
  iteration: number;
  trainAccuracy: number;
  testAccuracy: number;
  trainLoss?: number;
  testLoss?: number;
}

export interface TrainingChartsInput extends ChartOptions {
  /** Mini-batch loss per iteration (the book's `train_loss_list`). */
  iterations: readonly IterationPoint[];
  /** Accuracies at the end of each epoch (the book's `train_acc_list`, `test_acc_list`). */
  epochs: readonly EpochPoint[];
  title: string;
}

export interface SpeedupRow {
  threads: number;
  /** Time of one thread (of the baseline) over the time of `threads` threads. */
  speedup: number;
  msPerGradient: number;
  /** Gradient engine, one line per engine. */
  engine: string;
}

export interface SpeedupChartInput extends ChartOptions {
  rows: readonly SpeedupRow[];
  title: string;
}

/** At most this many loss points are drawn; longer runs are downsampled. */
export const MAX_ITERATION_POINTS = 2000;

const PANEL_WIDTH = 360;
const PANEL_HEIGHT = 260;
const FONT = 'sans-serif';

/** The font resvg uses for `sans-serif`: its family name and its files (regular, and bold when found). */
export interface ChartFont {
  family: string;
  files: string[];
}

const FONT_CANDIDATES: ReadonlyArray<{ family: string; files: string[] }> = [
  // Debian/Ubuntu, Fedora, Arch, Alpine
  { family: 'DejaVu Sans', files: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'] },
  { family: 'DejaVu Sans', files: ['/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf', '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf'] },
  { family: 'DejaVu Sans', files: ['/usr/share/fonts/TTF/DejaVuSans.ttf', '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf'] },
  { family: 'DejaVu Sans', files: ['/usr/share/fonts/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf'] },
  { family: 'Liberation Sans', files: ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf'] },
  { family: 'Liberation Sans', files: ['/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf', '/usr/share/fonts/liberation-sans/LiberationSans-Bold.ttf'] },
  { family: 'Noto Sans', files: ['/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf', '/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf'] },
  // macOS
  { family: 'Arial', files: ['/System/Library/Fonts/Supplemental/Arial.ttf', '/System/Library/Fonts/Supplemental/Arial Bold.ttf'] },
  { family: 'Arial', files: ['/Library/Fonts/Arial.ttf', '/Library/Fonts/Arial Bold.ttf'] },
  { family: 'Helvetica', files: ['/System/Library/Fonts/Helvetica.ttc'] },
  // Windows
  { family: 'Arial', files: [join(process.env.WINDIR ?? 'C:\\Windows', 'Fonts', 'arial.ttf'), join(process.env.WINDIR ?? 'C:\\Windows', 'Fonts', 'arialbd.ttf')] },
];

let resolvedFont: ChartFont | null | undefined;

/** Asks fontconfig (Linux, BSD) for its `sans-serif` font. */
function fontconfigSansSerif(): ChartFont | null {
  try {
    const result = spawnSync('fc-match', ['--format=%{family[0]}\n%{file}', 'sans-serif'], { encoding: 'utf8', timeout: 5000 });
    if (result.status !== 0) return null;
    const [family, file] = result.stdout.split('\n');
    return family && file && /\.(ttf|otf|ttc)$/i.test(file) && existsSync(file) ? { family, files: [file] } : null;
  } catch {
    return null;
  }
}

/**
 * The font the PNGs use for `sans-serif`: the first of DejaVu Sans, Liberation
 * Sans, Noto Sans, Arial, Helvetica found at its usual path, else fontconfig's
 * `sans-serif`, else null (resvg then uses the first system font it finds, and
 * text may be missing from PNGs on a machine without fonts). Cached.
 */
export function resolveChartFont(): ChartFont | null {
  if (resolvedFont !== undefined) return resolvedFont;
  const known = FONT_CANDIDATES.find(({ files }) => existsSync(files[0]));
  resolvedFont = known ? { family: known.family, files: known.files.filter((f) => existsSync(f)) } : fontconfigSansSerif();
  return resolvedFont;
}

function resvgOptions(scale: number): ResvgRenderOptions {
  const font = resolveChartFont();
  return {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: font
      ? { loadSystemFonts: true, fontFiles: font.files, defaultFontFamily: font.family, sansSerifFamily: font.family }
      : { loadSystemFonts: true },
  };
}

const CONFIG: TopLevelSpec['config'] = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  title: { fontSize: 15, anchor: 'middle', offset: 12 },
  axis: { labelFontSize: 11, titleFontSize: 12, labelColor: '#333', titleColor: '#222' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
};

/** Compiles a Vega-Lite spec and renders it to SVG and PNG. */
export async function renderChart(spec: TopLevelSpec, { scale = 2 }: ChartOptions = {}): Promise<Chart> {
  assertPositiveFinite('scale', scale);
  // Loaded when a chart is drawn: a run that draws none (and a worker thread under tsx, which can only
  // require, while vega's modules use top-level await) never loads them.
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile({ ...spec, config: { ...CONFIG, ...spec.config } }).spec), { renderer: 'none' });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  return { svg, png: svgToPng(svg, { scale }) };
}

/** Rasterizes an SVG with resvg, with `sans-serif` mapped to {@link resolveChartFont}'s font. */
export function svgToPng(svg: string, { scale = 2 }: ChartOptions = {}): Uint8Array {
  if (typeof svg !== 'string') throw new ArgumentTypeError(expectationError('svg', 'a string', svg));
  assertPositiveFinite('scale', scale);
  const png = new Resvg(svg, resvgOptions(scale)).render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/**
 * At most `maxPoints` of `points` (sorted by x): the first and the last, and in
 * between the minimum and the maximum of each of `(maxPoints - 2) / 2` equal
 * runs, in their order, so the x range and the spikes survive. Points with a
 * non-finite y are dropped first.
 */
export function downsample<T>(points: readonly T[], maxPoints: number, y: (point: T) => number): T[] {
  assertInteger('maxPoints', maxPoints, 2);
  const finite = points.filter((p) => Number.isFinite(y(p)));
  if (finite.length <= maxPoints) return finite;
  const first = 1;
  const interior = finite.length - 2;
  const buckets = Math.floor((maxPoints - 2) / 2);
  const out: T[] = [finite[0]];
  for (let b = 0; b < buckets; b++) {
    const start = first + Math.floor((b * interior) / buckets);
    const end = first + Math.floor(((b + 1) * interior) / buckets);
    let min = start;
    let max = start;
    for (let i = start + 1; i < end; i++) {
      if (y(finite[i]) < y(finite[min])) min = i;
      if (y(finite[i]) > y(finite[max])) max = i;
    }
    out.push(finite[Math.min(min, max)]);
    if (min !== max) out.push(finite[Math.max(min, max)]);
  }
  out.push(finite[finite.length - 1]);
  return out;
}

function checkArray(name: string, value: unknown): void {
  if (!Array.isArray(value)) throw new ArgumentTypeError(expectationError(name, 'an array', value));
}

function checkTitle(title: unknown): asserts title is string {
  if (typeof title !== 'string') throw new ArgumentTypeError(expectationError('title', 'a string', title));
}

/** Two panels of PANEL_WIDTH × PANEL_HEIGHT side by side under one title: both charts' layout. */
function sideBySide(title: string, left: Record<string, unknown>, right: Record<string, unknown>, resolve: Record<string, unknown>): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    hconcat: [{ width: PANEL_WIDTH, height: PANEL_HEIGHT, ...left }, { width: PANEL_WIDTH, height: PANEL_HEIGHT, ...right }],
    resolve,
  } as unknown as TopLevelSpec; // the panels are checked by vega-lite when rendered
}

/**
 * The book's training figures side by side: the mini-batch loss per iteration
 * (left) and the train and test accuracy per epoch (right, 0 to 1).
 */
export async function trainingCharts({ iterations, epochs, title, scale }: TrainingChartsInput): Promise<Chart> {
  checkArray('iterations', iterations);
  checkArray('epochs', epochs);
  checkTitle(title);
  const losses = downsample(iterations, MAX_ITERATION_POINTS, (p) => p.loss).map(({ iteration, loss }) => ({ iteration, loss }));
  const accuracies = epochs.flatMap(({ epoch, iteration, trainAccuracy, testAccuracy }) => [
    { epoch, iteration, split: 'train', accuracy: trainAccuracy },
    { epoch, iteration, split: 'test', accuracy: testAccuracy },
  ]).filter((row) => Number.isFinite(row.accuracy));
  const loss = {
    data: { values: losses },
    mark: { type: 'line', strokeWidth: 1, color: '#1f77b4' },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration', axis: { format: ',d', tickMinStep: 1 } },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: true } },
    },
  };
  const accuracy = {
    data: { values: accuracies },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { format: 'd', tickMinStep: 1 } },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } },
      color: {
        field: 'split', type: 'nominal', title: null,
        scale: { domain: ['train', 'test'], range: ['#1f77b4', '#ff7f0e'] },
        legend: { orient: 'bottom-right', fillColor: 'white', padding: 6, symbolType: 'stroke', symbolSize: 300, symbolStrokeWidth: 2 },
      },
      strokeDash: { field: 'split', type: 'nominal', scale: { domain: ['train', 'test'], range: [[1, 0], [5, 3]] } },
    },
  };
  // The legend belongs inside the accuracy panel, as in the book's figure.
  const resolve = { scale: { color: 'independent', strokeDash: 'independent' }, legend: { color: 'independent', strokeDash: 'independent' } };
  return renderChart(sideBySide(title, loss, accuracy, resolve), { scale });
}

/**
 * The scaling benchmark: speedup against threads per engine with the ideal
 * y = x (left), and milliseconds per gradient against threads, log scale (right).
 */
export async function speedupChart({ rows, title, scale }: SpeedupChartInput): Promise<Chart> {
  checkArray('rows', rows);
  checkTitle(title);
  const measured = rows
    .filter((r) => Number.isFinite(r.threads))
    .map(({ threads, speedup, msPerGradient, engine }) => ({ threads, speedup, msPerGradient, engine: String(engine) }));
  const maxThreads = Math.max(1, ...measured.map((r) => r.threads));
  const ideal = [{ threads: 1, speedup: 1 }, { threads: maxThreads, speedup: maxThreads }];
  const threadsAxis = { title: 'threads', format: 'd', tickMinStep: 1 } as const;
  const idealLabel = 'ideal (y = x)';
  const engines = [...new Set(measured.map((r) => r.engine))];
  // One color scale for both panels: each engine keeps its color, the ideal line comes last.
  const color = { title: 'engine', scale: { domain: [...engines, idealLabel] } } as const;
  const speedup = {
    layer: [
      {
        data: { values: ideal },
        mark: { type: 'line', strokeDash: [5, 4], strokeWidth: 1.5 },
        encoding: {
          x: { field: 'threads', type: 'quantitative', axis: threadsAxis },
          y: { field: 'speedup', type: 'quantitative', title: 'speedup (×)' },
          color: { datum: idealLabel, ...color },
        },
      },
      {
        data: { values: measured.filter((r) => Number.isFinite(r.speedup)) },
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          x: { field: 'threads', type: 'quantitative', axis: threadsAxis },
          y: { field: 'speedup', type: 'quantitative', title: 'speedup (×)' },
          color: { field: 'engine', type: 'nominal', ...color },
        },
      },
    ],
  };
  const time = {
    data: { values: measured.filter((r) => Number.isFinite(r.msPerGradient) && r.msPerGradient > 0) },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'threads', type: 'quantitative', axis: threadsAxis },
      y: { field: 'msPerGradient', type: 'quantitative', title: 'ms per gradient (log scale)', scale: { type: 'log' } },
      color: { field: 'engine', type: 'nominal', ...color },
    },
  };
  return renderChart(sideBySide(title, speedup, time, { scale: { color: 'shared' } }), { scale });
}

/** Writes `<path>.svg` and `<path>.png`, each atomically; returns their paths. */
export async function writeChart(pathWithoutExt: string, chart: Chart): Promise<{ svg: string; png: string }> {
  if (typeof pathWithoutExt !== 'string' || pathWithoutExt === '') throw new ArgumentTypeError(expectationError('pathWithoutExt', 'a non-empty string', pathWithoutExt));
  const paths = { svg: `${pathWithoutExt}.svg`, png: `${pathWithoutExt}.png` };
  await writeFileAtomic(paths.svg, chart.svg, 'charts');
  await writeFileAtomic(paths.png, chart.png, 'charts');
  return paths;
}

