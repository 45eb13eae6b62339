/**
 * Crash points (as SQLite's crash tests do it): a training run SIGKILLs itself
 * at each named step of its saves in turn (GRADPOOL_FAULT=crash@step#n, see
 * src/io/fault-points.ts); `--resume` must then complete without any manual
 * repair, and the final weights and metrics must equal an uninterrupted run's
 * byte for byte. Run by `npm run test:stress` (about a minute and a half).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SAVE_STEPS } from '../../src/io/fault-points.js';
import { childEnv } from '../fixtures/child-env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// 240 spiral samples, batch 16: 15 iterations per epoch, checkpoints at 15, 30, 45 and the last, 50.
const recipe = ['--dataset', 'spiral', '--hidden', '8', '--batch', '16', '--lr', '0.5', '--optimizer', 'momentum', '--sampling', 'shuffle', '--seed', '5', '--engine', 'backprop', '--iters', '50', '--quiet'];

function train(args: string[], fault?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const env = { ...childEnv(), ...(fault === undefined ? {} : { GRADPOOL_FAULT: fault }) };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

/** The files whose bytes a resumed run must reproduce. */
const FINAL_FILES = ['model.safetensors', 'metrics.jsonl', 'metrics.csv'];

/** Which occurrence of a step to crash at: a middle checkpoint for the per-checkpoint steps, else the first. */
function occurrence(step: string): number {
  return /^(metrics-append|metrics-fsync|checkpoint|metrics-csv)/.test(step) ? 2 : 1;
}

t.test('a kill at every step of a save: --resume completes and ends with the uninterrupted bytes', async (t) => {
  const dir = t.testdir({});
  const reference = join(dir, 'reference');
  const whole = await train([...recipe, '--out', reference]);
  t.equal(whole.code, 0, whole.stderr);
  const expected = FINAL_FILES.map((file) => readFileSync(join(reference, file)));
  for (const step of SAVE_STEPS) {
    const out = join(dir, step);
    const killed = await train([...recipe, '--out', out], `crash@${step}#${occurrence(step)}`);
    t.equal(killed.signal, 'SIGKILL', `${step}: the run died there`);
    // Before config.json exists the run has not begun: its directory holds at most a temporary file, and the same command starts it.
    const begun = !/^config-(write|fsync|rename)$/.test(step);
    const resumed = await train(begun ? ['--resume', out, '--quiet'] : [...recipe, '--out', out]);
    t.equal(resumed.code, 0, `${step}: --resume completes (${resumed.stderr.trim()})`);
    FINAL_FILES.forEach((file, i) => t.ok(existsSync(join(out, file)) && readFileSync(join(out, file)).equals(expected[i]), `${step}: ${file} identical`));
  }
});

t.test('a kill while resuming: resuming again completes with the same bytes', async (t) => {
  const dir = t.testdir({});
  const reference = join(dir, 'reference');
  t.equal((await train([...recipe, '--out', reference])).code, 0);
  const out = join(dir, 'run');
  t.equal((await train([...recipe, '--out', out], 'crash@checkpoint-rename#2')).signal, 'SIGKILL');
  t.equal((await train(['--resume', out, '--quiet'], 'crash@metrics-resume-rename#1')).signal, 'SIGKILL');
  t.equal((await train(['--resume', out, '--quiet'], 'crash@checkpoint-rename#2')).signal, 'SIGKILL');
  const last = await train(['--resume', out, '--quiet']);
  t.equal(last.code, 0, last.stderr);
  for (const file of FINAL_FILES) t.ok(readFileSync(join(out, file)).equals(readFileSync(join(reference, file))), `${file} identical`);
});

t.test('a resume into a new directory killed before its first save: --resume of that directory, with nothing else, ends with the uninterrupted branch\'s bytes', async (t) => {
  const dir = t.testdir({});
  const source = join(dir, 'source');
  const to30 = recipe.map((arg, i) => (recipe[i - 1] === '--iters' ? '30' : arg));
  t.equal((await train([...to30, '--out', source])).code, 0);
  const branch = ['--resume', source, '--iters', '50', '--lr', '0.25', '--quiet'];
  const whole = join(dir, 'whole');
  const uninterrupted = await train([...branch, '--out', whole]);
  t.equal(uninterrupted.code, 0, uninterrupted.stderr);
  const killed = join(dir, 'killed');
  t.equal((await train([...branch, '--out', killed], 'crash@checkpoint-rename#1')).signal, 'SIGKILL', 'killed at its first save');
  t.notOk(existsSync(join(killed, 'checkpoint.safetensors')), 'no checkpoint of its own');
  const resumed = await train(['--resume', killed, '--quiet']);
  t.equal(resumed.code, 0, resumed.stderr);
  t.match(resumed.stderr, 'stopped before its first save; resuming that checkpoint again', 'it says what it resumes');
  for (const file of FINAL_FILES) t.ok(readFileSync(join(killed, file)).equals(readFileSync(join(whole, file))), `${file} identical`);
});
