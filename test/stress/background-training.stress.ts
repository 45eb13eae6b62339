import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, ArgumentRangeError } from '../../src/errors.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { RunDivergedError } from '../../src/run/run-errors.js';
import { train } from '../../src/run/train.js';
import type { RunEvent, TrainResult } from '../../src/run/train-options.js';
import { trainInBackground } from '../../src/run/train-in-background.js';
import { childEnv } from '../fixtures/child-env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const spiral = { dataset: 'spiral', hiddenSize: 12, weightInitStd: 1, learningRate: 1, batchSize: 20, seed: 3 } as const;

// This thread's CPU time in ns, from the kernel's scheduler statistics (Linux):
// the main thread's task id is the process id.
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const threadCpuNanoseconds = (): number => Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]);

interface TimerLag {
  /** The worst lateness of a 10 ms tick, in ms: this thread's own work, and any time the host did not run it. */
  late: number;
  /** The most CPU time this thread spent between two ticks, in ms: work that held its event loop. */
  busy: number;
}

/**
 * Runs `body` with a 10 ms interval timer on this thread and reports how long
 * its event loop was held. A late tick alone does not prove it: a CI machine
 * may not run the thread for 80 ms (other processes, a paused vCPU), which
 * its scheduler statistics tell apart from the thread computing.
 */
async function timerLag(body: () => Promise<unknown>): Promise<TimerLag> {
  let late = 0;
  let busy = 0;
  let last = performance.now();
  let lastCpu = threadCpuNanoseconds();
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = threadCpuNanoseconds();
    late = Math.max(late, now - last - 10);
    busy = Math.max(busy, (cpu - lastCpu) / 1e6);
    last = now;
    lastCpu = cpu;
  }, 10);
  try {
    await body();
  } finally {
    clearInterval(timer);
  }
  return { late, busy };
}

/** Computes on this thread until it has had `milliseconds` of CPU: what a blocking call into training would do. */
function computeFor(milliseconds: number): number {
  const end = threadCpuNanoseconds() + milliseconds * 1e6;
  let sum = 0;
  while (threadCpuNanoseconds() < end) for (let i = 0; i < 10_000; i++) sum += Math.sqrt(sum + i);
  return sum;
}

t.test('a background run reports progress and ends with the same weights as train() in this thread', async (t) => {
  const dir = t.testdir();
  const events: RunEvent[] = [];
  const run = trainInBackground({ ...spiral, epochs: 6, threads: 2, out: join(dir, 'background'), progressInterval: 50, onEvent: (event) => events.push(event) });
  const live = await run.ready;
  t.equal(live.weights.length, 2 * 12 + 12 + 12 * 3 + 3, 'a live view of every parameter');
  t.ok(live.weights.buffer instanceof SharedArrayBuffer, 'shared with the background thread, not copied');
  const result = await run.result;
  const inThread = await train({ ...spiral, epochs: 6, threads: 1, out: join(dir, 'here') });
  t.equal(result.iterations, 72);
  t.equal(result.stopped, false);
  t.same(result.epochs, inThread.epochs, 'the same evaluations, epoch by epoch');
  t.same([...result.net.params], [...inThread.net.params], 'the same final weights');
  t.ok(readFileSync(join(dir, 'background', 'model.safetensors')).equals(readFileSync(join(dir, 'here', 'model.safetensors'))), 'the same model file, byte for byte');
  t.same([...live.weights], [...result.net.params], 'the live view holds the final weights');
  const kinds = events.map((event) => event.event);
  t.equal(kinds[0], 'start');
  t.equal(kinds.filter((kind) => kind === 'epoch').length, 7, 'every epoch, and iteration 0');
  const iterations = events.filter((event) => event.event === 'iteration');
  t.ok(iterations.length >= 1 && iterations.length < 72, `iterations throttled: ${iterations.length} of 72 sent`);
  t.equal(iterations.at(-1)?.iteration, 72, 'the last iteration always arrives');
});

t.test('stop() mid-run: result says stopped, with a checkpoint of the step it stopped at; checkpoint() on request', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'run');
  let stopping: Promise<void> | undefined;
  let requested: Promise<string> | undefined;
  const run = trainInBackground({
    ...spiral, iterations: 1_000_000, threads: 1, out,
    onEvent: (event) => {
      if (event.event === 'epoch' && event.iteration === 12) requested ??= run.checkpoint(join(dir, 'asked'));
      if (event.event === 'epoch' && event.iteration >= 24) stopping ??= run.stop();
    },
  });
  const result = await run.result;
  await stopping;
  t.equal(result.stopped, true);
  t.ok(result.iterations >= 24 && result.iterations < 1_000_000, `stopped at ${result.iterations}`);
  const checkpoint = await loadCheckpoint(join(out, 'checkpoint.json'));
  t.equal(checkpoint.meta.iteration, result.iterations, 'the checkpoint holds the step it stopped at');
  const asked = await requested!;
  t.equal(asked, join(dir, 'asked.json'));
  const taken = await loadCheckpoint(asked);
  t.ok(taken.meta.iteration >= 12 && taken.meta.iteration <= result.iterations, `the requested checkpoint is of a step boundary (${taken.meta.iteration})`);
  const resumed = await train({ resume: asked, iterations: 48, threads: 1, out: join(dir, 'resumed') });
  const whole = await train({ ...spiral, iterations: 48, threads: 1, out: join(dir, 'whole') });
  t.same([...resumed.net.params], [...whole.net.params], 'a requested checkpoint resumes exactly');
  await t.rejects(run.checkpoint(), { message: /has ended/ }, 'no checkpoint after the end');
});

t.test('the caller\'s event loop stays free: this thread never computes for 50 ms between two 10 ms ticks, numerical or backprop', async (t) => {
  const dir = t.testdir();
  const run = (engine: 'incremental' | 'backprop', name: string = engine): Promise<TrainResult> =>
    trainInBackground({ dataset: 'mnist', hiddenSize: 20, batchSize: 100, iterations: 400, evaluationLimit: 2000, engine, threads: 1, out: join(dir, name) }).result;
  for (const engine of ['incremental', 'backprop'] as const) {
    const { late, busy } = await timerLag(() => run(engine));
    t.ok(busy < 50, `${engine}: at most ${busy.toFixed(1)} ms of this thread's CPU between ticks (worst tick ${late.toFixed(1)} ms late)`);
  }
  // The meter itself: 80 ms of work on this thread in the middle of a run is seen.
  const { busy } = await timerLag(async () => {
    const result = run('backprop', 'blocked');
    await new Promise((resolve) => setTimeout(resolve, 50));
    computeFor(80);
    await result;
  });
  t.ok(busy >= 75, `80 ms computed on this thread during a run: ${busy.toFixed(1)} ms seen`);
});

t.test('failures reject result with the class and message train() throws', async (t) => {
  const dir = t.testdir();
  const cases: Array<[string, Parameters<typeof train>[0], new (...args: never[]) => Error]> = [
    ['an unknown dataset', { dataset: 'cifar', iterations: 1 }, InputError],
    ['a bad option', { dataset: 'xor', hiddenSize: 0 }, ArgumentRangeError],
    ['a diverging run', { dataset: 'spiral', hiddenSize: 5, weightInitStd: 1, learningRate: 10, engine: 'backprop', batchSize: 10, iterations: 2000, seed: 1 }, RunDivergedError],
  ];
  for (const [what, options, kind] of cases) {
    const here = await train({ ...options, out: join(dir, `${what}-here`) }).then(() => undefined, (error: unknown) => error as Error);
    const there = await trainInBackground({ ...options, out: join(dir, `${what}-there`) }).result.then(() => undefined, (error: unknown) => error as Error);
    t.ok(here instanceof kind, `${what}: train() throws a ${kind.name}`);
    t.ok(there instanceof kind, `${what}: the background run rejects with a ${kind.name}, got ${String(there)}`);
    t.equal(there?.message.replace(`${what}-there`, `${what}-here`), here?.message, `${what}: the same message`);
  }
});

t.test('nothing keeps the process alive once a background run ends or is stopped', async (t) => {
  const dir = t.testdir();
  const script = join(dir, 'script.mts');
  const module = JSON.stringify(new URL('../../src/run/train-in-background.ts', import.meta.url).href);
  writeFileSync(script, `
import { trainInBackground } from ${module};
const finished = await trainInBackground({ dataset: 'xor', iterations: 30, threads: 1, out: ${JSON.stringify(join(dir, 'finished'))} }).result;
const run = trainInBackground({ dataset: 'spiral', iterations: 1000000, threads: 1, out: ${JSON.stringify(join(dir, 'stopped'))},
  onEvent: (event) => { if (event.event === 'epoch' && event.iteration > 0) void run.stop(); } });
const stopped = await run.result;
console.log(finished.iterations, stopped.stopped);
`);
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += String(chunk); });
  child.stderr.on('data', (chunk: Buffer) => { output += String(chunk); });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  t.equal(code, 0, `the process exited by itself: ${output}`);
  t.equal(output.trim(), '30 true');
});
