/**
 * Stopping a run: Ctrl-C is acknowledged at once; a step still running two
 * seconds later (a naive one takes many seconds) is aborted, as it is at a
 * second Ctrl-C; either way the run exits 130 with a checkpoint of the last
 * finished step, from which --resume continues. A backprop run stops within a
 * second (the trainer yields to the event loop).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { childEnv } from '../fixtures/child-env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Starts a run, sends `signals` (each `delay` ms after the previous, the first once `ready` matches stderr); resolves with the exit and the time from the first signal to it. */
function interrupt(args: string[], ready: RegExp, signals: NodeJS.Signals[], delay = 300): Promise<{ code: number | null; stderr: string; afterSignalMs: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: childEnv() });
  let stderr = '';
  let firstSignal = 0;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += String(chunk);
    if (firstSignal === 0 && ready.test(stderr)) {
      firstSignal = performance.now();
      signals.forEach((signal, i) => setTimeout(() => child.kill(signal), i * delay));
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr, afterSignalMs: performance.now() - firstSignal })));
}

const naive = ['--engine', 'naive', '--hidden', '30', '--threads', '1', '--eval-limit', '100'];

t.test('Ctrl-C during a slow naive step: said at once, the step aborted after 2 s, a checkpoint, exit 130', async (t) => {
  const out = join(t.testdir({}), 'run');
  // The naive gradient of 784-30-10 on 100 digits takes well over 2 s on one thread. The signal
  // comes once the first evaluation is printed, when the first step starts (during the evaluation,
  // which runs in the pool and leaves the event loop free, the run would stop before any step).
  const result = await interrupt([...naive, '--out', out], /epoch 0\//, ['SIGINT']);
  t.equal(result.code, 130, result.stderr);
  t.match(result.stderr, /gradpool train: SIGINT: stopping after the current step and saving a checkpoint \(press Ctrl-C again to abort the step\)/);
  t.match(result.stderr, /gradpool train: the step is still running after 2 s: aborting the current step/);
  t.match(result.stderr, /Interrupted \(SIGINT\) at iteration 0; checkpoint saved/);
  t.ok(result.afterSignalMs < 10_000, `exited ${Math.round(result.afterSignalMs)} ms after Ctrl-C`);
  t.equal((await loadCheckpoint(join(out, 'checkpoint'))).meta.iteration, 0);
});

t.test('a second Ctrl-C aborts the step at once', async (t) => {
  const out = join(t.testdir({}), 'run');
  const result = await interrupt([...naive, '--out', out], /epoch 0\//, ['SIGINT', 'SIGINT'], 200);
  t.equal(result.code, 130, result.stderr);
  t.match(result.stderr, /gradpool train: SIGINT again: aborting the current step/);
  t.notMatch(result.stderr, /still running after/, 'before the grace period ended');
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
  t.ok(result.afterSignalMs < 2000 + 8000, `exited ${Math.round(result.afterSignalMs)} ms after the first Ctrl-C`);
});

t.test('a backprop run stops within a second of Ctrl-C, with its checkpoint', async (t) => {
  const out = join(t.testdir({}), 'run');
  const result = await interrupt(['--engine', 'backprop', '--dataset', 'spiral', '--batch', '10', '--iters', '10000000', '--eval-limit', '50', '--out', out], /epoch 1\//, ['SIGINT']);
  t.equal(result.code, 130, result.stderr);
  t.ok(result.afterSignalMs < 1000, `exited ${Math.round(result.afterSignalMs)} ms after Ctrl-C`);
  t.ok((await loadCheckpoint(join(out, 'checkpoint'))).meta.iteration >= 24, 'a checkpoint past the first epoch');
});

t.test('a reader that goes away (train --json | head) stops the run as Ctrl-C does: a checkpoint, exit 141, no stack trace', async (t) => {
  const out = join(t.testdir({}), 'run');
  const args = ['train', '--dataset', 'spiral', '--iters', '10000000', '--eval-limit', '50', '--json', '--quiet', '--out', out];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let stdout = '';
  let stderr = '';
  // As `head -c 10` does: read a little, then close the pipe.
  child.stdout.once('data', (chunk: Buffer) => {
    stdout += String(chunk);
    child.stdout.destroy();
  });
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  t.match(stdout, /^\{"event":"start"/, 'the reader got the start of the run');
  t.equal(code, 141, stderr);
  t.match(stderr, /^gradpool train: output closed \(EPIPE\): stopping after the current step and saving a checkpoint\n/);
  t.match(stderr, /Stopped at iteration \d+, its output closed \(EPIPE\); checkpoint saved\. Resume with: gradpool train --resume /);
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');
  const iteration = Number(/at iteration (\d+)/.exec(stderr)?.[1]);
  t.equal((await loadCheckpoint(join(out, 'checkpoint'))).meta.iteration, iteration, 'the checkpoint holds the step it stopped at');
});

t.test('a reader of its progress lines that goes away (train 2>&1 | head) stops it too, with its checkpoint, exit 141', async (t) => {
  const out = join(t.testdir({}), 'run');
  const args = ['train', '--dataset', 'spiral', '--iters', '10000000', '--eval-limit', '50', '--out', out];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: childEnv() });
  let stderr = '';
  child.stderr.once('data', (chunk: Buffer) => {
    stderr += String(chunk);
    child.stderr.destroy();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  t.match(stderr, /^gradpool: spiral/, 'the reader got the first line');
  t.equal(code, 141, 'exit 141');
  t.ok((await loadCheckpoint(join(out, 'checkpoint'))).meta.iteration >= 0, 'a checkpoint');
});

t.test('another command whose reader goes away (bench 2>&1 | head) ends at its next line with 141, not an EPIPE stack trace', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'bench', '--quick'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: childEnv() });
  let stderr = '';
  let closedAt = 0;
  child.stderr.once('data', (chunk: Buffer) => {
    stderr += String(chunk);
    child.stderr.destroy();
    closedAt = performance.now();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  t.match(stderr, /^\[bench\] /, 'the reader got the first line');
  t.equal(code, 141, `exit 141, ${Math.round(performance.now() - closedAt)} ms after the reader went`);
});

t.test('Ctrl-C during bench prints the rows measured so far and exits 130', async (t) => {
  // A small model and many repetitions: the run is still in its pool rounds when the signal comes.
  const args = ['bench', '--hidden', '4', '--batch', '5', '--threads', '1,2', '--reps', '10000', '--block', '1', '--warmup', '1',
    '--naive-reps', '1', '--naive-sample', '1', '--epoch-iters', '0', '--ceiling-gradients', '0'];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.on('data', (chunk: Buffer) => { stdout += String(chunk); });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += String(chunk);
    if (!signalled && /incremental round \d+\/10000/.test(stderr)) {
      signalled = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 130, stderr);
  t.match(stderr, /gradpool bench: SIGINT: stopping after the current round and printing the rows measured so far/);
  t.match(stdout, /Note: Interrupted \(Ctrl-C\): 1 of 1 configuration\(s\)/);
  // The pool rows of both thread counts, with the repetitions measured before the signal.
  t.match(stdout, /incremental\s+1\s+[\d.]+/);
  t.match(stdout, /incremental\s+2\s+[\d.]+/);
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');
});
