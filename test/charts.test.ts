import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import {
  MAX_ITERATION_POINTS, downsample, resolveChartFont, speedupChart, svgToPng, trainingCharts, writeChart,
  type EpochPoint, type IterationPoint,
} from '../src/report/charts.js';
import { refuses, refusesAsync } from './fixtures/argument-errors.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function svgSize(svg: string): { width: number; height: number } {
  const match = /^<svg[^>]* width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(svg);
  if (!match) throw new Error('no width/height on the <svg> element');
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** The text of every <text> element of a Vega SVG. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

/** Fraction of pixels that differ between two same-size PNGs. */
function differingPixels(a: PNG, b: PNG): number {
  let differing = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) differing++;
  }
  return differing / (a.width * a.height);
}

const iterations: IterationPoint[] = Array.from({ length: 5000 }, (_, i) => ({ iteration: i, loss: 2.3 * Math.exp(-i / 800) + 0.05 * Math.sin(i) }));
iterations[1234].loss = 9; // a spike that downsampling must keep
const epochs: EpochPoint[] = Array.from({ length: 9 }, (_, e) => ({
  epoch: e, iteration: e * 600, trainAccuracy: 1 - 0.9 * Math.exp(-e / 2), testAccuracy: 1 - 0.91 * Math.exp(-e / 2), trainLoss: 1 / (e + 1), testLoss: 1.1 / (e + 1),
}));

t.test('trainingCharts: loss per iteration and accuracy per epoch, as SVG and PNG with visible text', async (t) => {
  const chart = await trainingCharts({ iterations, epochs, title: 'TwoLayerNet 784-50-10 & <friends>' });
  t.match(chart.svg, /^<svg /);
  const labels = texts(chart.svg);
  for (const title of ['iteration', 'loss', 'epoch', 'accuracy', 'train', 'test']) t.ok(labels.includes(title), `axis or legend title "${title}"`);
  t.ok(labels.includes('TwoLayerNet 784-50-10 &amp; &lt;friends&gt;'), 'the title, escaped');
  t.ok(labels.includes('1.0') && labels.includes('0.0'), 'the accuracy axis runs from 0 to 1');

  t.same([...chart.png.subarray(0, 8)], PNG_SIGNATURE, 'a PNG signature');
  const png = PNG.sync.read(Buffer.from(chart.png));
  const size = svgSize(chart.svg);
  t.equal(png.width, Math.round(size.width * 2), 'twice the SVG width');
  t.equal(png.height, Math.round(size.height * 2), 'twice the SVG height');
  t.ok(size.width > 700 && size.height > 250, 'two panels side by side');

  // Text must really be drawn (a font was found): the same SVG without its text renders differently.
  const withoutText = PNG.sync.read(Buffer.from(svgToPng(chart.svg.replace(/<text[^>]*>[^<]*<\/text>/g, ''))));
  const covered = differingPixels(png, withoutText);
  t.ok(covered > 0.002, `the text covers a visible part of the PNG (${(covered * 100).toFixed(2)} % of the pixels)`);
  t.comment(`font: ${JSON.stringify(resolveChartFont())}`);
});

t.test('downsampling keeps at most 2,000 loss points, spikes included', async (t) => {
  const kept = downsample(iterations, MAX_ITERATION_POINTS, (p) => p.loss);
  t.ok(kept.length <= MAX_ITERATION_POINTS && kept.length > MAX_ITERATION_POINTS - 10, `${kept.length} points`);
  t.ok(kept.some((p) => p.loss === 9), 'the spike');
  t.ok(kept.every((p, i) => i === 0 || p.iteration > kept[i - 1].iteration), 'in order');
  t.equal(kept[0].iteration, 0, 'the first point');
  t.equal(kept.at(-1)?.iteration, iterations.length - 1, 'the last point');
  t.same(downsample([1, 5, 2, 3, 9], 2, (v) => v), [1, 9], 'only the ends when no room is left');
  t.same(downsample([{ y: 1 }, { y: Number.NaN }, { y: Infinity }, { y: 2 }], 10, (p) => p.y), [{ y: 1 }, { y: 2 }], 'non-finite values dropped');
  t.throws(() => downsample([], 1, () => 0), RangeError);

  const chart = await trainingCharts({ iterations: iterations.concat({ iteration: 5000, loss: Number.NaN }), epochs: [], title: 'many', scale: 1 });
  const path = /<path[^>]*aria-roledescription="line mark"[^>]*d="([^"]*)"/.exec(chart.svg) ?? /<path[^>]*d="(M[^"]*)"[^>]*>/.exec(chart.svg);
  t.ok(path, 'a line path');
  const vertices = (path?.[1].match(/[ML]/g) ?? []).length;
  t.ok(vertices <= MAX_ITERATION_POINTS, `${vertices} vertices drawn`);
  t.equal(PNG.sync.read(Buffer.from(chart.png)).width, Math.round(svgSize(chart.svg).width), 'scale 1');
});

t.test('speedupChart: speedup with the ideal y = x, and ms per gradient on a log scale', async (t) => {
  const rows = [1, 2, 4, 8].flatMap((threads) => [
    { threads, speedup: threads === 1 ? 1 : threads * 0.85, msPerGradient: 900 / (threads * 0.85), engine: 'incremental' },
    { threads, speedup: threads === 1 ? 1 : threads * 0.6, msPerGradient: 7000 / (threads * 0.6), engine: 'naive' },
  ]);
  const chart = await speedupChart({ rows, title: 'Scaling, 8 cores' });
  const labels = texts(chart.svg);
  for (const title of ['threads', 'speedup (×)', 'ms per gradient (log scale)', 'incremental', 'naive', 'ideal (y = x)', 'Scaling, 8 cores']) {
    t.ok(labels.includes(title), `text "${title}"`);
  }
  t.ok(labels.includes('1,000'), 'log-scale tick labels');
  t.same([...chart.png.subarray(0, 8)], PNG_SIGNATURE);
  const png = PNG.sync.read(Buffer.from(chart.png));
  const size = svgSize(chart.svg);
  t.same([png.width, png.height], [Math.round(size.width * 2), Math.round(size.height * 2)]);
});

t.test('empty data still renders', async (t) => {
  const chart = await speedupChart({ rows: [], title: '' });
  t.same([...chart.png.subarray(0, 8)], PNG_SIGNATURE);
  t.ok(texts(chart.svg).includes('threads'));
});

t.test('writeChart writes the .svg and .png atomically', async (t) => {
  const dir = t.testdir();
  const chart = { svg: '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2"><rect width="4" height="2" fill="red"/></svg>', png: svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2"><rect width="4" height="2" fill="red"/></svg>') };
  const paths = await writeChart(join(dir, 'training'), chart);
  t.same(paths, { svg: join(dir, 'training.svg'), png: join(dir, 'training.png') });
  t.equal(await readFile(paths.svg, 'utf8'), chart.svg);
  t.same(new Uint8Array(await readFile(paths.png)), chart.png);
  const png = PNG.sync.read(await readFile(paths.png));
  t.same([png.width, png.height, png.data[0], png.data[1], png.data[2]], [8, 4, 255, 0, 0]);
  t.same((await readdir(dir)).sort(), ['training.png', 'training.svg']);
});

t.test('bad arguments are ArgumentTypeErrors/ArgumentRangeErrors', async (t) => {
  await refusesAsync(t, () => trainingCharts({ iterations: null as never, epochs: [], title: '' }), 'TypeError', 'Expected `iterations` to be an array, got `null`');
  await refusesAsync(t, () => trainingCharts({ iterations: [], epochs: {} as never, title: '' }), 'TypeError', 'Expected `epochs` to be an array, got an object (Object)');
  await refusesAsync(t, () => trainingCharts({ iterations: [], epochs: [], title: 3 as never }), 'TypeError', 'Expected `title` to be a string, got `3` (number)');
  await refusesAsync(t, () => speedupChart({ rows: 'x' as never, title: '' }), 'TypeError', 'Expected `rows` to be an array, got `"x"` (string)');
  await refusesAsync(t, () => trainingCharts({ iterations: [], epochs: [], title: '', scale: 0 }), 'RangeError', 'Expected `scale` to be a finite number greater than 0, got `0` (number)');
  refuses(t, () => svgToPng(5 as never), 'TypeError', 'Expected `svg` to be a string, got `5` (number)');
  refuses(t, () => downsample([], 1, () => 0), 'RangeError', 'Expected `maxPoints` to be an integer from 2 and up, got `1` (number)');
  await refusesAsync(t, () => writeChart('', { svg: '', png: new Uint8Array() }), 'TypeError', 'Expected `pathWithoutExt` to be a non-empty string, got `""` (string)');
});
