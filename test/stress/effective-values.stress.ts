// A value a run uses other than the one asked for is said and recorded, never applied
// silently; a thread count beyond the cores is warned about.
import t from 'tap';
import os from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { xor } from '../../datasets/index.js';

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
  const io = { stdout: sink((s) => { stdout += s; }), stderr: Object.assign(sink((s) => { stderr += s; }), { isTTY: false }) as unknown as NodeJS.WriteStream };
  return { code: await main(argv, io), stdout, stderr };
}

t.test('--batch beyond the training rows: a warning, and config.json records both', async (t) => {
  const out = join(t.testdir({}), 'run');
  const rows = xor().train.rows;
  const result = await run(['train', '--dataset', 'xor', '--engine', 'backprop', '--batch', '100000', '--iters', '3', '--quiet', '--out', out]);
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stderr, `gradpool train: warning: \`--batch 100000\` is more than the ${rows} training rows of xor: using batches of ${rows}\n`);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { batchSize: number; requestedBatchSize: number };
  t.equal(config.batchSize, rows);
  t.equal(config.requestedBatchSize, 100000);
  const json = await run(['train', '--dataset', 'xor', '--engine', 'backprop', '--batch', '100000', '--iters', '3', '--json', '--out', join(out, '..', 'json')]);
  t.match(json.stdout, /^\{"event":"warning","message":"`--batch 100000` is more than/m, 'a JSON event with --json');
  t.equal(json.stderr, '');
});

t.test('--threads beyond the cores: a warning naming both', async (t) => {
  const cores = os.availableParallelism();
  const result = await run(['train', '--dataset', 'xor', '--hidden', '2', '--threads', String(cores + 1), '--iters', '2', '--quiet', '--out', join(t.testdir({}), 'run')]);
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stderr, `gradpool train: warning: \`--threads ${cores + 1}\` is more than the ${cores} cores of this machine: the extra threads share cores and each costs memory; \`--threads ${cores}\` is usually fastest\n`);
});

t.test('--out naming a non-empty directory that is not a run is refused, and nothing is written into it', async (t) => {
  const dir = t.testdir({ 'notes.txt': 'mine' });
  const result = await run(['train', '--dataset', 'xor', '--engine', 'backprop', '--iters', '2', '--quiet', '--out', dir]);
  t.equal(result.code, 2);
  t.equal(result.stderr, `gradpool train: Expected \`--out\` to be a new or empty directory, got \`${dir}\`, which holds other files (e.g. \`notes.txt\`); choose a new directory such as \`${join(dir, 'run')}\`\n`);
  t.same(readdir(dir), ['notes.txt']);
});

function readdir(dir: string): string[] {
  return readdirSync(dir).sort();
}
