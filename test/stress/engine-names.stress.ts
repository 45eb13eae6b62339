// The one engine vocabulary (`--engine incremental|naive|backprop`) and the names of
// version 0.1 it still accepts for one version: `--grad`, `numerical`, and a
// checkpoint whose config says `"gradient": "numerical"`.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { editCheckpoint } from '../fixtures/edit-checkpoint.js';

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
  const io = { stdout: sink((s) => { stdout += s; }), stderr: Object.assign(sink((s) => { stderr += s; }), { isTTY: false }) as unknown as NodeJS.WriteStream };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const small = ['--dataset', 'xor', '--hidden', '3', '--batch', '8', '--threads', '1', '--quiet'];
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

t.test('--grad numerical is --engine incremental: same run, same bytes, recorded as engine', async (t) => {
  const dir = t.testdir({});
  const old = await run(['train', ...small, '--iters', '30', '--grad', 'numerical', '--out', join(dir, 'old')]);
  const now = await run(['train', ...small, '--iters', '30', '--engine', 'incremental', '--out', join(dir, 'now')]);
  t.equal(old.code, 0, old.stderr);
  t.equal(now.code, 0, now.stderr);
  t.equal(old.stderr, 'gradpool train: warning: `--grad` is the old name of `--engine` and will be removed in the next version: use `--engine incremental`\n', 'a notice names the new spelling');
  t.equal(now.stderr, '', 'none for the new name');
  t.ok(readFileSync(join(dir, 'old', 'model.safetensors')).equals(readFileSync(join(dir, 'now', 'model.safetensors'))), 'identical weights');
  t.equal(readJson(join(dir, 'old', 'config.json')).engine, 'incremental');
  t.equal(readJson(join(dir, 'old', 'config.json')).gradient, undefined, 'the old field is not written');
});

t.test('--grad names itself in errors; --grad with --engine is refused', async (t) => {
  const bad = await run(['train', ...small, '--grad', 'magic']);
  t.equal(bad.code, 2);
  t.equal(bad.stderr, 'gradpool train: Expected `--grad` to be one of `incremental`, `naive`, `backprop`, got `magic`\n');
  const both = await run(['train', ...small, '--grad', 'backprop', '--engine', 'naive']);
  t.equal(both.code, 2);
  t.equal(both.stderr, 'gradpool train: Expected either `--engine` or its old name `--grad`, got both\n');
});

t.test('a checkpoint whose config says "gradient": "numerical" resumes as engine incremental', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'run');
  t.equal((await run(['train', ...small, '--iters', '20', '--engine', 'incremental', '--out', out])).code, 0);
  editCheckpoint(out, (checkpoint) => {
    delete checkpoint.config.engine;
    checkpoint.config.gradient = 'numerical';
  });
  const resumed = await run(['train', '--resume', out, '--iters', '40', '--quiet']);
  t.equal(resumed.code, 0, resumed.stderr);
  t.equal(readJson(join(out, 'config.json')).engine, 'incremental');
  const reference = join(dir, 'reference');
  t.equal((await run(['train', ...small, '--iters', '40', '--engine', 'incremental', '--out', reference])).code, 0);
  t.ok(readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(reference, 'model.safetensors'))), 'the same weights as an uninterrupted run');
});
