/**
 * The training run's reporter in each mode, fed events by hand; the expected
 * lines are written out here, independently of the formatter.
 */
import t from 'tap';
import { PassThrough } from 'node:stream';
import { createProgress } from '../src/cli/progress.js';

function sink(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
  return { stream: Object.assign(stream, { isTTY: tty, columns: 120 }) as unknown as NodeJS.WriteStream, text: () => text };
}

const epochs = [
  { epoch: 0, iteration: 0, trainAccuracy: 0.1, testAccuracy: 0.125, trainLoss: 2.3, testLoss: 2.31 },
  { epoch: 1, iteration: 4, trainAccuracy: 0.5, testAccuracy: 0.375, trainLoss: 1.5, testLoss: 1.75 },
];
const lines = [
  'epoch 0/1  train acc 0.1000  test acc 0.1250  train loss 2.3000  test loss 2.3100  (iteration 0)',
  'epoch 1/1  train acc 0.5000  test acc 0.3750  train loss 1.5000  test loss 1.7500  (iteration 4)',
];

function feed(mode: 'bar' | 'lines' | 'json' | 'quiet', err: NodeJS.WriteStream, out: NodeJS.WriteStream): void {
  const progress = createProgress(mode, err, out);
  progress.start(4, 0);
  progress.epoch(epochs[0], 1);
  for (let iteration = 1; iteration <= 4; iteration++) progress.iteration({ iteration, loss: 2 - iteration / 4, gradientMilliseconds: 1 });
  // The last evaluation comes right before stop(), as at the end of a run.
  progress.epoch(epochs[1], 1);
  progress.stop();
}

t.test('on a terminal: a bar, and every epoch line, the last one included', async (t) => {
  const err = sink(true);
  const out = sink(false);
  feed('bar', err.stream, out.stream);
  await new Promise((resolve) => setImmediate(resolve));
  for (const line of lines) t.ok(err.text().includes(`${line}\n`), `shows: ${line}`);
  t.match(err.text(), /4\/4 it \| [\d.]+ it\/s \| loss 1\.0000 \| ETA/, 'the bar with iterations, it/s, loss and ETA');
  t.equal(out.text(), '', 'nothing on stdout');
});

t.test('off a terminal: plain lines, the last iteration and every epoch', async (t) => {
  const err = sink(false);
  const out = sink(false);
  feed('lines', err.stream, out.stream);
  await new Promise((resolve) => setImmediate(resolve));
  const written = err.text().split('\n');
  t.equal(written[0], lines[0]);
  t.match(written[1], /^iteration 4\/4 {2}loss 1\.0000 {2}[\d.]+ it\/s {2}ETA 0s$/);
  t.equal(written[2], lines[1]);
  t.notOk(err.text().includes('\x1B'), 'no terminal escapes');
});

t.test('--json: one JSON object per event on stdout; --quiet: nothing', async (t) => {
  const err = sink(false);
  const out = sink(false);
  feed('json', err.stream, out.stream);
  await new Promise((resolve) => setImmediate(resolve));
  const events = out.text().trim().split('\n').map((line) => JSON.parse(line) as { event: string });
  t.same(events.map((e) => e.event), ['epoch', 'iteration', 'iteration', 'iteration', 'iteration', 'epoch']);
  t.same(events[5], { event: 'epoch', ...epochs[1] });
  t.equal(err.text(), '');
  const quietErr = sink(true);
  const quietOut = sink(false);
  feed('quiet', quietErr.stream, quietOut.stream);
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(quietErr.text() + quietOut.text(), '');
});
