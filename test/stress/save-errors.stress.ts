/**
 * I/O errors while saving (injected at a named step, see src/io/fault-points.ts):
 * one line naming the file and the errno, exit 1, no stack trace, and the last
 * good checkpoint untouched and loadable.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { childEnv } from '../fixtures/child-env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const recipe = ['--dataset', 'spiral', '--hidden', '8', '--batch', '16', '--engine', 'backprop', '--iters', '50', '--quiet'];

function train(args: string[], fault: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...childEnv(), GRADPOOL_FAULT: fault } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

const cases: Array<[string, string, RegExp]> = [
  ['ENOSPC', 'checkpoint-write#2', /`[^`]*\.checkpoint\.safetensors\.\d+\.[0-9a-f]{12}\.tmp`: ENOSPC \(no space left on device\)/],
  ['EACCES', 'checkpoint-rename#3', /`[^`]*\/checkpoint\.safetensors`: EACCES \(permission denied\)/],
  ['EROFS', 'metrics-append#2', /`[^`]*\/metrics\.jsonl`: EROFS \(read-only file system\)/],
  ['ENOTDIR', 'checkpoint-json-write#2', /`[^`]*\.checkpoint\.json\.\d+\.[0-9a-f]{12}\.tmp`: ENOTDIR \(a file is in the way of a directory\)/],
];

for (const [code, step, file] of cases) {
  t.test(`${code} at ${step}: one line, exit 1, the last good checkpoint intact`, async (t) => {
    const out = join(t.testdir({}), 'run');
    const result = await train([...recipe, '--out', out], `${code}@${step}`);
    t.equal(result.code, 1);
    const lines = result.stderr.trimEnd().split('\n');
    t.equal(lines.length, 1, `one line: ${result.stderr}`);
    t.match(lines[0], /^gradpool train: Cannot save the run: /);
    t.match(lines[0], file);
    t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
    const checkpoint = await loadCheckpoint(join(out, 'checkpoint'));
    const last = /the last good checkpoint \(iteration (\d+)\) is intact/.exec(lines[0]);
    t.ok(last, 'it names the intact checkpoint');
    t.equal(checkpoint.meta.iteration, Number(last?.[1]), 'and that checkpoint loads');
  });
}
