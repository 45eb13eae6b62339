import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { loadMnist, spiral } from '../datasets/index.js';
import { classifyError, main } from '../src/cli/main.js';
import { parseNumber } from '../src/cli/options.js';
import { ArgumentRangeError, ArgumentTypeError, DivergenceError, GradientPoolError, GradientTimeoutError, InputError } from '../src/errors.js';
import { claimRunDirectory } from '../src/run/run-directory.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { loadModel } from '../src/train/model-file.js';
import { Trainer } from '../src/train/trainer.js';
import { childEnv } from './fixtures/child-env.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function capture(): { io: Parameters<typeof main>[1]; out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
  const io = { stdout: sink((s) => { stdout += s; }), stderr: Object.assign(sink((s) => { stderr += s; }), { isTTY: false }) as unknown as NodeJS.WriteStream };
  return { io, out: () => stdout, err: () => stderr };
}

async function run(argv: string[]) {
  const c = capture();
  const code = await main(argv, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}

t.test('number options take decimal numbers as people write them', async (t) => {
  for (const [raw, value] of [['0.1', 0.1], ['.5', 0.5], ['2.', 2], [' 3 ', 3], ['+4', 4], ['1e-3', 0.001], ['2.5E2', 250], ['1_000.5', 1000.5]] as const) {
    t.equal(parseNumber('lr', raw, 0, true), value, raw);
  }
  for (const raw of ['', ' ', '0x10', '1e', 'e3', '.', '1.2.3', '--1', 'NaN', '1,5']) {
    t.throws(() => parseNumber('lr', raw, 0, true), new InputError(`Expected \`--lr\` to be a finite number greater than 0, got \`${raw}\``), JSON.stringify(raw));
  }
});

t.test('usage errors exit with 2 and one line naming the option', async (t) => {
  const cases: Array<[string[], string]> = [
    [['train', '--threads', '0'], 'gradpool train: Expected `--threads` to be an integer from 1 to 64, got `0`\n'],
    [['train', '--lr', '-1'], 'gradpool train: Expected `--lr` to be a finite number greater than 0, got `-1`\n'],
    // Decimal numbers only (JavaScript's Number() would take these as 16, 1 and 8).
    [['train', '--lr', '0x10'], 'gradpool train: Expected `--lr` to be a finite number greater than 0, got `0x10`\n'],
    [['train', '--lr', '0b1'], 'gradpool train: Expected `--lr` to be a finite number greater than 0, got `0b1`\n'],
    [['train', '--weight-init-std', '0o10'], 'gradpool train: Expected `--weight-init-std` to be a finite number greater than 0, got `0o10`\n'],
    [['train', '--lr', 'Infinity'], 'gradpool train: Expected `--lr` to be a finite number greater than 0, got `Infinity`\n'],
    [['train', '--activation', 'tanh'], 'gradpool train: Expected `--activation` to be one of `sigmoid`, `relu`, got `tanh`\n'],
    [['train', '--bogus'], 'gradpool train: Unknown option `--bogus` for `gradpool train`; see `gradpool train --help`\n'],
    [['train', '--iter', '5'], 'gradpool train: Unknown option `--iter` for `gradpool train` (did you mean `--iters`?); see `gradpool train --help`\n'],
    [['train', '--THREADS', '2'], 'gradpool train: Unknown option `--THREADS` for `gradpool train` (did you mean `--threads`?); see `gradpool train --help`\n'],
    [['evaluate', '--hepl'], 'gradpool evaluate: Unknown option `--hepl` for `gradpool evaluate` (did you mean `--help`?); see `gradpool evaluate --help`\n'],
    [['train', 'extra'], 'gradpool train: Unexpected argument `extra` for `gradpool train`; options take the form `--name value`\n'],
    [['train', '--iters', '5', '--epochs', '1'], 'gradpool train: Expected either `--iters` or `--epochs`, got both\n'],
    [['train', '--batch'], 'gradpool train: Expected a value after `--batch`, got nothing\n'],
    [['train', '--dataset', 'cifar'], 'gradpool train: Expected `--dataset` to be mnist, idx:DIR, csv:FILE[,TEST], spiral or xor, got `cifar`\n'],
    [['train', '--resume', '/nonexistent/checkpoint.json'], 'gradpool train: Expected `--resume` to be a run directory or its checkpoint.json (with the .safetensors beside it), got `/nonexistent/checkpoint.json`: no such file\n'],
    [['train', '--resume', '/nonexistent'], 'gradpool train: Expected `--resume` to be a run directory or its checkpoint.json (with the .safetensors beside it), got `/nonexistent`: no such file or directory\n'],
    [['evaluate', '--model', '/'], 'gradpool evaluate: Expected `--model` to be a run directory, its model.json or a checkpoint.json (with the .safetensors beside it), got the directory `/`, which has no model.json\n'],
    [['predict', '--model', 'm.json', '--image', 'x.png', '--index', '1'], 'gradpool predict: Expected either `--image` or `--index` (samples of a dataset), got both\n'],
    [['train', '--dataset', '--threads', '1'], 'gradpool train: Expected a value after `--dataset`, got the option `--threads`\n'],
    [['train', '--out', 'package.json', '--dataset', 'xor'], 'gradpool train: Expected `--out` to be a directory for the run, got `package.json`, which is a file\n'],
    [['train', '--out', '', '--dataset', 'xor'], 'gradpool train: Expected `--out` to be a directory for the run, got an empty path\n'],
    [['train', '--out', 'package.json/run', '--dataset', 'xor'], 'gradpool train: Expected `--out` to be a directory gradpool can create, got `package.json/run`: a file is in the way\n'],
    [['evaluate'], 'gradpool evaluate: Expected `--model PATH` (a run directory, its model.json or a checkpoint.json), got nothing\n'],
    [['frobnicate'], 'gradpool: Expected a command (train, evaluate, predict, gradcheck, bench), got `frobnicate`; see `gradpool --help`\n'],
    [['help', 'frobnicate'], 'gradpool: Expected a command (train, evaluate, predict, gradcheck, bench), got `frobnicate`; see `gradpool --help`\n'],
    // A repeated option is refused rather than the last one silently winning.
    [['predict', '--model', 'm.json', '--image', 'a.png', '--image', 'b.png'], 'gradpool predict: Expected `--image` once, got it 2 times (`a.png`, `b.png`)\n'],
    [['train', '--lr', '0.1', '--threads', '1', '--lr=-1'], 'gradpool train: Expected `--lr` once, got it 2 times (`0.1`, `-1`)\n'],
  ];
  for (const [argv, message] of cases) {
    const result = await run(argv);
    t.equal(result.code, 2, `${argv.join(' ')} → exit 2`);
    t.equal(result.stderr, message);
  }
});

t.test('an --out Node cannot make (under /proc) is a usage error, not a hang', { skip: process.platform !== 'linux' && 'Linux /proc only' }, async (t) => {
  const result = await run(['train', '--dataset', 'xor', '--iters', '1', '--out', '/proc/gradpool-test/run']);
  t.equal(result.code, 2);
  t.equal(result.stderr, "gradpool train: Expected `--out` to be a directory gradpool can create, got `/proc/gradpool-test/run`: ENOENT: no such file or directory, mkdir '/proc/gradpool-test'\n");
});

t.test('runs started in the same second get their own directories, even in parallel', async (t) => {
  const base = join(t.testdir(), 'runs', '2026-11-29T12-00-00');
  const claimed = await Promise.all([1, 2, 3].map(() => claimRunDirectory(base)));
  t.same([...claimed].sort(), [base, `${base}-2`, `${base}-3`]);
  t.ok(claimed.every((directory) => statSync(directory).isDirectory()));
  t.equal(await claimRunDirectory(base), `${base}-4`);
});

t.test('-h shows a command\'s help, like --help', async (t) => {
  const short = await run(['train', '-h']);
  t.equal(short.code, 0);
  t.equal(short.stdout, (await run(['train', '--help'])).stdout);
  t.match(short.stdout, /^Usage: gradpool train/);
  const asGit = await run(['help', 'train']);
  t.equal(asGit.code, 0);
  t.equal(asGit.stdout, short.stdout, '`gradpool help train` is `gradpool train --help`');
  t.match((await run(['help'])).stdout, /`gradpool --version` prints the version/, 'the top-level help names --version');
});

t.test('--version prints the package version', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const result = await run(['--version']);
  t.equal(result.code, 0);
  t.equal(result.stdout, `gradpool ${pkg.version}\n`);
});

t.test('--help prints the options with their defaults', async (t) => {
  const result = await run(['train', '--help']);
  t.equal(result.code, 0);
  t.match(result.stdout, /--lr RATE\s+Learning rate \(default: 0\.1\)/);
  t.match(result.stdout, /--iters N\s+.*\(default: 10000\)/);
  t.match((await run(['--help'])).stdout, /Commands:\n {2}train/);
});

t.test('train, evaluate, predict and resume on the synthetic set', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'run');
  const first = await run(['train', '--dataset', 'spiral', '--hidden', '20', '--weight-init-std', '1', '--lr', '1', '--batch', '20', '--epochs', '3', '--threads', '2', '--out', out, '--json']);
  t.equal(first.code, 0, first.stderr);
  const events = first.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; iteration?: number });
  t.equal(events[0].event, 'start');
  t.equal(events.filter((e) => e.event === 'epoch').length, 4, 'iteration 0 and 3 epochs');
  t.equal(events.filter((e) => e.event === 'iteration').length, 36, '3 epochs of ⌈240/20⌉');
  const summary = events.at(-1) as { event: string; iterations: number; testAccuracy: number };
  t.equal(summary.event, 'summary');
  t.equal(summary.iterations, 36);
  for (const file of ['metrics.csv', 'metrics.jsonl', 'config.json', 'training.svg', 'training.png', 'model.json', 'model.safetensors', 'checkpoint.json', 'checkpoint.safetensors']) {
    t.ok(existsSync(join(out, file)), `${file} written`);
  }
  const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  t.equal(csv[0], 'iteration,loss,epoch,trainAccuracy,testAccuracy,trainLoss,testLoss');
  t.equal(csv.length, 1 + 37, 'a row per iteration plus iteration 0');

  const evaluation = await run(['evaluate', '--model', join(out, 'model.json'), '--json']);
  t.equal(evaluation.code, 0, evaluation.stderr);
  t.equal((JSON.parse(evaluation.stdout) as { testAccuracy: number }).testAccuracy, summary.testAccuracy, 'evaluate reproduces the run\'s final test accuracy');

  const prediction = await run(['predict', '--model', join(out, 'model.json'), '--index', '0,5', '--json']);
  t.equal(prediction.code, 0, prediction.stderr);
  t.equal(prediction.stdout.trim().split('\n').length, 2);

  const resumed = await run(['train', '--resume', join(out, 'checkpoint.json'), '--epochs', '4', '--threads', '1']);
  t.equal(resumed.code, 0, resumed.stderr);
  t.equal((await loadCheckpoint(join(out, 'model.json'))).meta.iteration, 48, 'continued to 4 epochs');
  t.match(resumed.stderr, `gradpool: resuming ${join(out, 'checkpoint.json')} at iteration 36 of 48\n`, 'a resume says where it starts');
  t.match(resumed.stdout, /^Done: iterations 37 to 48 in [\d.]+m?s; train acc /, 'the time is that of the iterations this session trained');
  const sessionsOf = (directory: string) => (JSON.parse(readFileSync(join(directory, 'config.json'), 'utf8')) as { sessions: Array<Record<string, unknown>> })
    .sessions.map(({ startedAt, ...rest }) => rest);
  const bothSessions = [{ fromIteration: 0, learningRate: 1, threads: 2 }, { fromIteration: 36, learningRate: 1, threads: 1, resumedFrom: join(out, 'checkpoint.json') }];
  t.same(sessionsOf(out), bothSessions, 'config.json records both sessions');
  const conflict = await run(['train', '--resume', join(out, 'checkpoint.json'), '--hidden', '7']);
  t.equal(conflict.code, 2);
  t.equal(conflict.stderr, 'gradpool train: Expected only --iters, --epochs, --threads, --out, --eval-limit, --lr, --json or --quiet with `--resume` (the rest comes from the checkpoint), got `--hidden`\n');
  const done = await run(['train', '--resume', out, '--epochs', '4', '--threads', '1']);
  t.equal(done.code, 0, 'a run directory is its checkpoint; a run already at its last iteration just finishes');
  t.match(done.stdout, /^Done: nothing left to train \(the run was already at its last iteration, 48\); train acc /);
  t.equal((await loadCheckpoint(join(out, 'model.json'))).meta.iteration, 48, 'the model of that iteration');
  const fewer = await run(['train', '--resume', out, '--iters', '40', '--threads', '1', '--quiet']);
  t.equal(fewer.code, 2, 'fewer iterations than the checkpoint holds is an error');
  t.equal(fewer.stderr, "gradpool train: Expected at least the checkpoint's 48 iterations to resume to, got 40 iterations; raise `--iters` or `--epochs`\n");
  const viaDirectory = await run(['evaluate', '--model', out, '--json']);
  t.equal(viaDirectory.code, 0, viaDirectory.stderr);

  const before = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  const overwrite = await run(['train', '--dataset', 'xor', '--iters', '2', '--out', out, '--quiet']);
  t.equal(overwrite.code, 2, 'a new run never overwrites another run');
  t.equal(overwrite.stderr, `gradpool train: Expected \`--out\` to be a directory without another run, got \`${out}\`, which holds one (checkpoint.json); choose another directory, or continue that run with \`--resume ${out}\`\n`);
  t.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), before, 'the other run is untouched');

  // Resuming into a new directory carries the earlier losses over, so its curves start at iteration 0.
  const branch = join(dir, 'branch');
  const branched = await run(['train', '--resume', out, '--epochs', '5', '--threads', '1', '--out', branch, '--quiet']);
  t.equal(branched.code, 0, branched.stderr);
  const losses = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line) as { iteration: number; loss?: number }).filter((row) => row.loss !== undefined);
  const branchLosses = losses(readFileSync(join(branch, 'metrics.jsonl'), 'utf8'));
  t.same(branchLosses.slice(0, 48), losses(before), 'the first 48 losses are the original run\'s');
  t.equal(branchLosses.length, 60, '5 epochs of 12 iterations');
  // The session that found nothing left (from 48) trained nothing the checkpoint holds: the branch's history leaves it out.
  t.same(sessionsOf(branch), [...bothSessions, { fromIteration: 48, learningRate: 1, threads: 1, resumedFrom: join(out, 'checkpoint.json') }], 'the branch carries the sessions before it');
  t.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), before, 'the resumed run is untouched');
});

t.test('predict classifies a 28×28 PNG (dark digit on light paper is inverted)', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'run');
  const trained = await run(['train', '--hidden', '10', '--iters', '40', '--threads', '2', '--eval-limit', '200', '--out', out, '--quiet']);
  t.equal(trained.code, 0, trained.stderr);
  const mnist = loadMnist();
  const png = new PNG({ width: 28, height: 28 });
  for (let i = 0; i < 784; i++) {
    const gray = Math.round(255 * (1 - mnist.test.x[i])); // black ink on white, like a scan
    png.data.set([gray, gray, gray, 255], 4 * i);
  }
  const file = join(dir, 'digit.png');
  writeFileSync(file, PNG.sync.write(png));
  const fromImage = await run(['predict', '--model', join(out, 'model.json'), '--image', file, '--json']);
  const fromDataset = await run(['predict', '--model', join(out, 'model.json'), '--index', '0', '--json']);
  t.equal(fromImage.code, 0, fromImage.stderr);
  const a = JSON.parse(fromImage.stdout) as { predicted: number; probability: number; source: string };
  const b = JSON.parse(fromDataset.stdout) as { predicted: number; probability: number };
  t.equal(a.predicted, b.predicted, 'same class as the dataset sample it was drawn from');
  t.ok(Math.abs(a.probability - b.probability) < 1e-2, '8-bit quantisation changes the probability only slightly');
  t.match(a.source, /inverted/);
  writeFileSync(join(dir, 'small.png'), PNG.sync.write(new PNG({ width: 8, height: 8 })));
  const small = await run(['predict', '--model', join(out, 'model.json'), '--image', join(dir, 'small.png')]);
  t.equal(small.code, 2);
  t.equal(small.stderr, `gradpool predict: ${join(dir, 'small.png')}: expected 28×28 pixels, found 8×8\n`);
  writeFileSync(join(dir, 'text.png'), 'not a picture');
  const text = await run(['predict', '--model', join(out, 'model.json'), '--image', join(dir, 'text.png')]);
  t.equal(text.code, 2);
  t.equal(text.stderr, `gradpool predict: ${join(dir, 'text.png')}: expected a PNG image, found no PNG signature (not a PNG file)\n`);
  writeFileSync(join(dir, 'empty.png'), '');
  t.match((await run(['predict', '--model', join(out, 'model.json'), '--image', join(dir, 'empty.png')])).stderr, /expected a PNG image, found an empty file\n$/);
  const missing = await run(['predict', '--model', join(out, 'model.json'), '--image', join(dir, 'missing.png')]);
  t.equal(missing.code, 2);
  t.equal(missing.stderr, `gradpool predict: ${join(dir, 'missing.png')}: expected a PNG image, found no such file\n`);
});

t.test('gradcheck prints per-tensor differences within the book\'s range', async (t) => {
  // book-values.md: sigmoid 784-50-10 on three MNIST digits, numerical vs backprop, about 1e-10 to
  // 1e-7 per tensor, the book's backprop dropping the 1e-7 in the log accounting for ~1e-8.
  const result = await run(['gradcheck', '--threads', '2', '--json']);
  t.equal(result.code, 0, result.stderr);
  const check = JSON.parse(result.stdout) as { book: Record<string, number>; exact: Record<string, number> };
  for (const name of ['W1', 'b1', 'W2', 'b2']) {
    t.ok(check.book[name] > 1e-11 && check.book[name] < 1e-6, `${name} vs book backprop ${check.book[name]}`);
    t.ok(check.exact[name] < 1e-9, `${name} vs exact backprop ${check.exact[name]}`);
    t.ok(check.book[name] > 100 * check.exact[name], `${name}: the book's dropped 1e-7 is most of the difference`);
  }
});

t.test('gradcheck compares every tensor on the spiral, and says so when a tensor\'s gradients are all 0', async (t) => {
  // The spiral's first point of each class is the origin: three such rows leave every W1 gradient 0.
  const spiralCheck = await run(['gradcheck', '--dataset', 'spiral', '--threads', '1', '--json']);
  t.equal(spiralCheck.code, 0, spiralCheck.stderr);
  const check = JSON.parse(spiralCheck.stdout) as { exact: Record<string, number>; allZero: string[] };
  t.same(check.allZero, []);
  t.ok(check.exact.W1 > 0 && check.exact.W1 < 1e-9, `W1 vs exact backprop ${check.exact.W1}: compared, and close`);
  // A dataset whose inputs are all 0: W1 has nothing to compare.
  const dir = t.testdir({ 'zeros.csv': Array.from({ length: 10 }, (_, i) => `${i % 2},0,0\n`).join('') });
  const zeros = await run(['gradcheck', '--dataset', `csv:${join(dir, 'zeros.csv')}`, '--hidden', '3', '--threads', '1']);
  t.equal(zeros.code, 0, zeros.stderr);
  t.match(zeros.stdout, /\n {2}W1 +0\.000e\+0 +0\.000e\+0\n/);
  t.match(zeros.stdout, /\nNote: every gradient of W1 is 0 on these samples \(zero inputs, or inactive units\): nothing compared there; try other --samples or --seed\n$/);
  const zerosJson = await run(['gradcheck', '--dataset', `csv:${join(dir, 'zeros.csv')}`, '--hidden', '3', '--threads', '1', '--json']);
  t.same((JSON.parse(zerosJson.stdout) as { allZero: string[] }).allZero, ['W1']);
});

t.test('a run\'s relative dataset path, not found from another directory, is said to be relative to where the run started', async (t) => {
  const dir = t.testdir({ 'data.csv': Array.from({ length: 10 }, (_, i) => `${i % 2},${i},${10 - i}\n`).join(''), elsewhere: {} });
  const before = process.cwd();
  t.teardown(() => process.chdir(before));
  process.chdir(dir);
  const first = await run(['train', '--dataset', 'csv:data.csv', '--hidden', '3', '--batch', '4', '--iters', '4', '--threads', '1', '--engine', 'backprop', '--out', 'run', '--quiet']);
  t.equal(first.code, 0, first.stderr);
  process.chdir(join(dir, 'elsewhere'));
  const missing = 'data.csv: expected a CSV file with one sample per line: label, then pixel values from 0 to 255, found no such file';
  const hint = 'the path in the run\'s dataset `csv:data.csv` is relative to the directory the run was started from: run from there';
  const evaluated = await run(['evaluate', '--model', join(dir, 'run')]);
  t.equal(evaluated.code, 2);
  t.equal(evaluated.stderr, `gradpool evaluate: ${missing} (${hint}, or give \`--dataset\`)\n`);
  const predicted = await run(['predict', '--model', join(dir, 'run')]);
  t.equal(predicted.stderr, `gradpool predict: ${missing} (${hint}, or give \`--dataset\`)\n`);
  const resumed = await run(['train', '--resume', join(dir, 'run'), '--iters', '8', '--quiet']);
  t.equal(resumed.code, 2);
  t.equal(resumed.stderr, `gradpool train: ${missing} (${hint})\n`);
  // Given its path, evaluate reads the data from anywhere; from the run's directory, resume finds it.
  t.equal((await run(['evaluate', '--model', join(dir, 'run'), '--dataset', `csv:${join(dir, 'data.csv')}`])).code, 0);
  process.chdir(dir);
  t.equal((await run(['train', '--resume', 'run', '--iters', '8', '--quiet'])).code, 0);
});

const signalRuns: Array<[NodeJS.Signals, string[], number]> = [
  ['SIGINT', ['--hidden', '10', '--eval-limit', '100'], 80],
  ['SIGTERM', ['--dataset', 'spiral', '--batch', '10', '--iters', '1000000', '--json'], 24],
];
for (const [signal, args, iterationsPerEpoch] of signalRuns) {
  t.test(`${signal} stops at a step boundary, saves a checkpoint, exits 130 with resume advice`, async (t) => {
    const dir = t.testdir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...args, '--threads', '1', '--out', join(dir, 'run')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    let [stdout, stderr] = ['', ''];
    // After the first epoch (its line, or its JSON event), so the checkpoint holds trained steps however slow the machine.
    const killAfterFirstEpoch = () => {
      if ((/epoch 1\//.test(stderr) || /"event":"epoch","epoch":[1-9]/.test(stdout)) && !child.killed) child.kill(signal);
    };
    child.stdout.on('data', (chunk: Buffer) => { stdout += String(chunk); killAfterFirstEpoch(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); killAfterFirstEpoch(); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    t.equal(code, 130, stderr);
    t.match(stderr, new RegExp(`Interrupted \\(${signal}\\) at iteration \\d+; checkpoint saved\\. Resume with: gradpool train --resume .*checkpoint\\.json`));
    t.match(stderr, `gradpool train: ${signal}: stopping after the current step and saving a checkpoint (${signal === 'SIGINT' ? 'press Ctrl-C again' : `send ${signal} again`} to abort the step)`);
    if (args.includes('--json')) {
      const last = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      const checkpointFile = join(dir, 'run', 'checkpoint.json');
      t.same(last, { event: 'interrupted', signal, iteration: last.iteration, checkpoint: checkpointFile, command: `gradpool train --resume ${checkpointFile}` }, 'the JSON event holds the command to go on');
    }
    t.notMatch(stderr, /\n\s+at /, 'no stack trace');
    const checkpoint = await loadCheckpoint(join(dir, 'run', 'checkpoint.json'));
    t.ok(checkpoint.meta.iteration >= iterationsPerEpoch, `checkpoint at iteration ${checkpoint.meta.iteration}`);
    // The run has no model.json: evaluate names the checkpoint to give instead, and takes it.
    const runDirectory = join(dir, 'run');
    const refused = await run(['evaluate', '--model', runDirectory]);
    t.equal(refused.code, 2);
    t.equal(refused.stderr, `gradpool evaluate: Expected \`--model\` to be a run directory, its model.json or a checkpoint.json (with the .safetensors beside it), got the directory \`${runDirectory}\`, which has no model.json (the run did not finish: its last checkpoint is \`${join(runDirectory, 'checkpoint.json')}\`)\n`);
    const evaluated = await run(['evaluate', '--model', join(runDirectory, 'checkpoint.json'), '--json']);
    t.equal(evaluated.code, 0, evaluated.stderr);
  });
}

t.test('a diverging run exits 1 and keeps the last good checkpoint (the diverged epoch does not replace it)', async (t) => {
  const out = join(t.testdir(), 'run');
  const result = await run(['train', '--dataset', 'spiral', '--hidden', '5', '--weight-init-std', '1', '--lr', '10', '--engine', 'backprop', '--batch', '10', '--iters', '2000', '--seed', '1', '--out', out, '--json']);
  t.equal(result.code, 1, 'a runtime failure, not bad input');
  const message = /^gradpool train: Training diverged by iteration (\d+): the train loss is ([\d.]+), more than 2× .*; try a smaller learning rate \(e\.g\. 1, a tenth of 10\)\. Last good checkpoint: (.*checkpoint\.json) \(go on from it: gradpool train --resume \3 --iters 2000 --lr 1\)\n$/.exec(result.stderr);
  t.ok(message, result.stderr);
  const [divergedAt, checkpointFile] = [Number(message![1]), message![3]];
  const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; iteration: number; trainLoss: number; checkpoint?: string });
  const last = events.at(-1)!;
  t.same({ event: last.event, iteration: last.iteration, checkpoint: last.checkpoint }, { event: 'diverged', iteration: divergedAt, checkpoint: checkpointFile }, '--json ends with the failure');
  const epochs = events.filter((e) => e.event === 'epoch');
  const checkpoint = await loadCheckpoint(checkpointFile);
  t.equal(checkpoint.meta.iteration, epochs.at(-1)!.iteration, 'the checkpoint is the last epoch that was reported');
  t.ok(checkpoint.meta.iteration < divergedAt, `checkpoint at ${checkpoint.meta.iteration}, before the divergence at ${divergedAt}`);
  const limit = 2 * Math.max(Math.log(3), epochs[0].trainLoss);
  t.ok(epochs.every((e) => e.trainLoss <= limit), 'every reported (and checkpointed) epoch is below the limit');

  // The advice, followed: the run goes on from the last good checkpoint at the suggested rate.
  const resumed = await run(['train', '--resume', checkpointFile, '--lr', '1', '--json']);
  t.equal(resumed.code, 0, resumed.stderr);
  const resumedEvents = resumed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; message?: string; iterations?: number });
  t.same(resumedEvents[0], {
    event: 'warning',
    message: `\`--lr 1\` replaces the run's learning rate 10 from iteration ${checkpoint.meta.iteration} on (config.json and the checkpoints from now on record 1; config.json's sessions keep each session's rate)`,
  });
  t.match(resumedEvents.at(-1), { event: 'summary', iterations: 2000 });
  const recorded = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { learningRate: number; sessions: Array<Record<string, unknown>> };
  t.equal(recorded.learningRate, 1, 'config.json records the new rate');
  t.same(recorded.sessions.map(({ startedAt, threads, ...rest }) => rest), [
    { fromIteration: 0, learningRate: 10 },
    { fromIteration: checkpoint.meta.iteration, learningRate: 1, resumedFrom: checkpointFile },
  ], 'and its sessions, the rate before');
  t.ok(recorded.sessions.every(({ startedAt }) => !Number.isNaN(Date.parse(startedAt as string))), 'each with its start time');
  t.equal((await loadCheckpoint(join(out, 'checkpoint.json'))).meta.config.learningRate, 1, 'and so does the checkpoint');
  // Independently, through the library: a Trainer from the same checkpoint at rate 1 ends with the same weights, bit for bit.
  const trainer = await Trainer.fromCheckpoint(checkpoint, { dataset: spiral(), learningRate: 1 });
  await trainer.run();
  const model = await loadModel(out);
  t.same([...model.net.params], [...trainer.net.params], 'the CLI run and the library Trainer agree');
  const again = await run(['train', '--resume', checkpointFile, '--lr', '0']);
  t.equal(again.code, 2);
  t.match(again.stderr, /^gradpool train: Expected `--lr` to be [^\n]*, got `0`\n$/, 'a bad rate is one line');
});

t.test('an old option name runs as the new one, with a warning naming the new spelling; a usage error stays one line', async (t) => {
  const dir = t.testdir();
  const small = ['--dataset', 'xor', '--hidden', '3', '--batch', '8', '--iters', '2', '--threads', '1'];
  const notice = 'gradpool train: warning: `--grad` is the old name of `--engine` and will be removed in the next version: use `--engine backprop`\n';
  const plain = await run(['train', ...small, '--grad', 'backprop', '--quiet', '--out', join(dir, 'plain')]);
  t.equal(plain.code, 0, plain.stderr);
  t.equal(plain.stderr, notice);
  const json = await run(['train', ...small, '--grad', 'backprop', '--json', '--out', join(dir, 'json')]);
  t.equal(json.code, 0, json.stderr);
  t.same(JSON.parse(json.stdout.split('\n')[0]), { event: 'warning', message: notice.slice('gradpool train: warning: '.length, -1) }, '--json: the first event');
  const bad = await run(['train', ...small, '--grad', 'backprop', '--epochs', '1']);
  t.equal(bad.code, 2);
  t.equal(bad.stderr, 'gradpool train: Expected either `--iters` or `--epochs`, got both\n', 'only the usage error');
  const resumed = await run(['train', '--resume', join(dir, 'plain'), '--grad', 'backprop']);
  t.equal(resumed.code, 2);
  t.match(resumed.stderr, /^gradpool train: Expected only --iters, .* with `--resume` \(the rest comes from the checkpoint\), got `--grad`\n$/, 'the option as typed');
  const current = await run(['train', ...small, '--engine', 'backprop', '--quiet', '--out', join(dir, 'current')]);
  t.equal(current.stderr, '', 'no warning for the current name');
});

t.test('a run diverging before its first epoch says no checkpoint was written, and nothing of weights kept in memory', async (t) => {
  const out = join(t.testdir(), 'run');
  const result = await run(['train', '--dataset', 'spiral', '--hidden', '5', '--weight-init-std', '1', '--lr', '1e308', '--engine', 'backprop', '--batch', '10', '--iters', '50', '--seed', '1', '--out', out, '--json']);
  t.equal(result.code, 1, 'a runtime failure, not bad input');
  const command = `gradpool train --resume ${out} --iters 50 --lr 1e+307`;
  const message = new RegExp(`^gradpool train: Training diverged at iteration (\\d+): [^\\n]*; try a smaller learning rate \\(e\\.g\\. 1e\\+307, a tenth of 1e\\+308\\)\\. No checkpoint was written: the run diverged before its first one \\(start it again: ${command.replace(/[.+]/g, '\\$&')}\\)\\.\\n$`).exec(result.stderr);
  t.ok(message, result.stderr);
  const last = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { event: string; iteration: number; checkpoint: string | null };
  t.same(last, { event: 'diverged', message: last.event === 'diverged' ? (last as unknown as { message: string }).message : '', iteration: Number(message![1]) - 1, checkpoint: null, suggestedLearningRate: 1e307, command }, 'the event gives the last good iteration, the rate and the command');
  t.notMatch(result.stderr, /are kept/, 'the process ends: no weights are kept');
  t.notOk(existsSync(join(out, 'checkpoint.json')), 'indeed no checkpoint');
  // The command's form, at a rate that converges: the run starts again from its config.json.
  const again = await run(['train', '--resume', out, '--iters', '50', '--lr', '0.5', '--quiet']);
  t.equal(again.code, 0, again.stderr);
  t.equal(again.stderr, 'gradpool train: warning: `--lr 0.5` replaces the run\'s learning rate 1e+308 from iteration 0 on (config.json and the checkpoints from now on record 0.5; config.json\'s sessions keep each session\'s rate)\n');
  t.equal((await loadCheckpoint(join(out, 'model.json'))).meta.config.learningRate, 0.5);
});

t.test('a run resumed at another rate that diverges before its first save: the printed command goes on (not refused, all its iterations); a run with nothing left keeps its rate', async (t) => {
  const out = join(t.testdir(), 'run');
  const common = ['--dataset', 'spiral', '--hidden', '5', '--weight-init-std', '1', '--engine', 'backprop', '--batch', '10', '--seed', '1', '--quiet'];
  const first = await run(['train', ...common, '--epochs', '2', '--lr', '0.1', '--out', out]);
  t.equal(first.code, 0, first.stderr);
  const resumed = await run(['train', '--resume', out, '--epochs', '4', '--lr', '1e308', '--quiet']);
  t.equal(resumed.code, 1);
  const checkpointFile = join(out, 'checkpoint.json');
  t.match(resumed.stderr, `Last good checkpoint: ${checkpointFile} (go on from it: gradpool train --resume ${checkpointFile} --iters 96 --lr 1e+307)\n`);
  t.equal((await loadCheckpoint(checkpointFile)).meta.iteration, 48, 'the checkpoint of the first two epochs (24 iterations each)');
  // config.json now holds 1e308, the checkpoint 0.1: a rate given with --resume is not refused for it.
  const followed = await run(['train', '--resume', checkpointFile, '--iters', '96', '--lr', '0.05', '--quiet']);
  t.equal(followed.code, 0, followed.stderr);
  const model = await loadCheckpoint(join(out, 'model.json'));
  t.equal(model.meta.iteration, 96, 'every iteration of the resumed run, not the checkpoint\'s 48');
  t.equal(model.meta.config.learningRate, 0.05);
  const noop = await run(['train', '--resume', out, '--lr', '0.2', '--quiet']);
  t.equal(noop.code, 0, noop.stderr);
  t.equal(noop.stderr, 'gradpool train: warning: `--lr 0.2` changes nothing: the run has no iterations left after 96 (raise `--iters` or `--epochs`)\n');
  t.equal((await loadCheckpoint(join(out, 'model.json'))).meta.config.learningRate, 0.05, 'the rate it was trained at stays recorded');
});

t.test('a run interrupted and resumed through its files ends with the same bytes as an uninterrupted one', async (t) => {
  const dir = t.testdir();
  const common = ['--dataset', 'spiral', '--hidden', '8', '--batch', '16', '--lr', '0.5', '--optimizer', 'adam', '--sampling', 'shuffle', '--seed', '7', '--quiet'];
  const whole = await run(['train', ...common, '--iters', '50', '--threads', '2', '--out', join(dir, 'whole')]);
  t.equal(whole.code, 0, whole.stderr);
  // Stopped at 17 (mid-epoch: a final checkpoint), resumed to 50 on another thread count.
  const part = await run(['train', ...common, '--iters', '17', '--threads', '2', '--out', join(dir, 'part')]);
  t.equal(part.code, 0, part.stderr);
  const resumed = await run(['train', '--resume', join(dir, 'part'), '--iters', '50', '--threads', '1', '--quiet']);
  t.equal(resumed.code, 0, resumed.stderr);
  const bytes = (run: string) => readFileSync(join(dir, run, 'model.safetensors'));
  t.ok(bytes('part').equals(bytes('whole')), 'model.safetensors identical, byte for byte');
  // The part run also evaluated where it stopped (iteration 17); the losses must agree step by step.
  const losses = (run: string) => readFileSync(join(dir, run, 'metrics.csv'), 'utf8').trim().split('\n').map((row) => row.split(',').slice(0, 2).join(','));
  t.equal(losses('part').length, 52, 'the header, then iterations 0 to 50');
  t.same(losses('part'), losses('whole'), 'and the same loss at every iteration');
});

t.test('a process-level usage error exits 2 without a stack trace', async (t) => {
  const child = spawn(process.execPath, ['bin/gradpool.js', 'train', '--threads', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 2);
  t.equal(stderr, 'gradpool train: Expected `--threads` to be an integer from 1 to 64, got `0`\n');
});

t.test('classifyError tells bad input, a runtime failure and a bug apart by class alone', async (t) => {
  const systemError = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  const cases: Array<[unknown, 'input' | 'failure' | 'bug', string]> = [
    [new InputError('data.csv: expected a label'), 'input', 'an InputError'],
    [new ArgumentRangeError('Expected `batchSize` to be an integer from 1 and up, got `0` (number)'), 'input', 'an ArgumentRangeError'],
    [new ArgumentTypeError('Expected `seed` to be an integer from 0 to 4294967295, got `"1"` (string)'), 'input', 'an ArgumentTypeError'],
    [new RangeError('Expected `x` to look like an argument error'), 'bug', 'a plain RangeError, whatever its message says'],
    [new TypeError("Cannot read properties of undefined (reading 'rows')"), 'bug', 'a TypeError of a mistake'],
    [new RangeError('Invalid array length'), 'bug', 'a RangeError of the engine'],
    [new ReferenceError('x is not defined'), 'bug', 'a ReferenceError'],
    ['a string', 'bug', 'a thrown string'],
    [undefined, 'bug', 'a thrown undefined'],
    [new DivergenceError('Training diverged at iteration 3'), 'failure', 'a DivergenceError'],
    [new GradientPoolError('Gradient worker failed: exit 3', 'computing parameters 0–9'), 'failure', 'a GradientPoolError'],
    [new GradientTimeoutError('Gradient call timed out', 'none'), 'failure', 'a GradientTimeoutError'],
    [systemError, 'failure', 'a Node system error (ENOSPC)'],
    [new Error('Cannot save the run: `a`: EROFS (read-only file system); no checkpoint was saved'), 'failure', 'a plain Error thrown on purpose'],
  ];
  for (const [error, kind, what] of cases) t.equal(classifyError(error), kind, `${what} → ${kind}`);
});

/** Runs `train --help` with a stdout whose write throws `error`: any error the command could throw, raised inside it. */
async function runThrowing(error: unknown) {
  const c = capture();
  const stdout = new Writable({ write() { throw error; } });
  stdout.write = () => { throw error; };
  const debug = process.env.GRADPOOL_DEBUG;
  delete process.env.GRADPOOL_DEBUG;
  try {
    const code = await main(['train', '--help'], { stdout, stderr: c.io!.stderr });
    return { code, stderr: c.err() };
  } finally {
    if (debug !== undefined) process.env.GRADPOOL_DEBUG = debug;
  }
}

t.test('bad input exits 2 with one line; a failure exits 1 with one line; a bug exits 1 with its stack trace', async (t) => {
  const input = await runThrowing(new ArgumentRangeError('Expected `batchSize` to be an integer from 1 and up, got `0` (number)'));
  t.same(input, { code: 2, stderr: 'gradpool train: Expected `batchSize` to be an integer from 1 and up, got `0` (number)\n' });
  const file = await runThrowing(new InputError('data.csv line 3: expected a label'));
  t.same(file, { code: 2, stderr: 'gradpool train: data.csv line 3: expected a label\n' });
  const failure = await runThrowing(new GradientPoolError('Gradient worker failed: out of memory', 'computing parameters 0–9'));
  t.same(failure, { code: 1, stderr: 'gradpool train: Gradient worker failed: out of memory\n' });
  const bug = await runThrowing(new TypeError("Cannot read properties of undefined (reading 'rows')"));
  t.equal(bug.code, 1);
  const [first, second] = bug.stderr.split('\n');
  t.match(first, /^gradpool train: internal error \(a bug in gradpool [\d.]+; please report it with this output\):$/);
  t.equal(second, "TypeError: Cannot read properties of undefined (reading 'rows')");
  t.match(bug.stderr, /\n\s+at .*cli\.test\.ts/, 'the stack trace, down to where it was thrown');
  // Decided by class: a plain RangeError is a bug even when its message starts like an argument error's (it used to exit 2).
  const lookalike = await runThrowing(new RangeError('Expected `x` to be something'));
  t.equal(lookalike.code, 1);
  t.match(lookalike.stderr, /^gradpool train: internal error .*\nRangeError: Expected `x` to be something\n\s+at /);
  const thrownString = await runThrowing('oops');
  t.same(thrownString, { code: 1, stderr: `gradpool train: internal error (a bug in gradpool ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}; please report it with this output):\na thrown string: "oops"\n` });
});

t.test('a bad value in a run\'s files is bad input, whichever check refuses it: exit 2, one line', async (t) => {
  // A run killed before its first checkpoint restarts from its config.json; here one edited by hand to a batch size of 0.
  const dir = t.testdir({
    'config.json': JSON.stringify({
      dataset: 'xor', hiddenSize: 2, activation: 'sigmoid', batchSize: 0, learningRate: 0.1, iterations: 2, engine: 'backprop',
      optimizer: 'sgd', sampling: 'replacement', seed: 0, weightInitStd: 0.01,
    }),
  });
  const result = await run(['train', '--resume', dir, '--quiet']);
  t.equal(result.code, 2, result.stderr);
  t.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
  t.match(result.stderr, /^gradpool train: .*batchSize.*`0`/);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
});
