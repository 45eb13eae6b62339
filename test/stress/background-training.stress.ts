import t from 'tap';
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { InputError, ArgumentRangeError } from '../../src/errors.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { RunDivergedError } from '../../src/run/run-errors.js';
import { train } from '../../src/run/train.js';
import type { RunEvent, TrainResult } from '../../src/run/train-options.js';
import { trainInBackground } from '../../src/run/train-in-background.js';
import { runTsxChild } from '../fixtures/child-env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const spiral = { dataset: 'spiral', hiddenSize: 12, weightInitStd: 1, learningRate: 1, batchSize: 20, seed: 3 } as const;

// This thread's scheduler statistics (Linux): the nanoseconds it has run on a
// CPU and waited for one. The main thread's task id is the process id.
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
function threadSchedule(): { cpu: number; queued: number } {
  const [cpu, queued] = readFileSync(SCHEDSTAT, 'utf8').split(' ');
  return { cpu: Number(cpu) / 1e6, queued: Number(queued) / 1e6 };
}

interface TimerLag {
  /** The worst lateness of a 10 ms tick, in ms, whatever held it. */
  late: number;
  /**
   * The most CPU time this thread spent between two ticks, in ms, less V8's
   * garbage-collection pauses in that time: work that held its event loop
   * (a collection of this process's heap, 5–45 ms here, is the caller's own).
   */
  busy: number;
  /** The longest garbage-collection pause on this thread, in ms. */
  collecting: number;
  /** The most time a tick was late, in ms, while this thread neither ran nor waited for a core: asleep in a synchronous call (or its vCPU paused by the host, which the guest cannot tell apart). */
  asleep: number;
}

/**
 * Runs `body` with a 10 ms interval timer on this thread and reports how its
 * event loop was held. A late tick alone proves nothing: a CI machine may
 * leave the thread waiting for a core for 80 ms (it failed so), which its
 * scheduler statistics tell apart from the thread computing or sleeping.
 */
async function timerLag(body: () => Promise<unknown>): Promise<TimerLag> {
  const lag = { late: 0, busy: 0, collecting: 0, asleep: 0 };
  // Each interval between ticks and the CPU time in it; the collections arrive later, so they are taken off at the end.
  const intervals: Array<{ from: number; to: number; ran: number }> = [];
  const collections: Array<{ at: number; duration: number }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) collections.push({ at: entry.startTime, duration: entry.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  let lastSchedule = threadSchedule();
  const timer = setInterval(() => {
    const now = performance.now();
    const schedule = threadSchedule();
    const late = now - last - 10;
    const ran = schedule.cpu - lastSchedule.cpu;
    intervals.push({ from: last, to: now, ran });
    lag.late = Math.max(lag.late, late);
    lag.asleep = Math.max(lag.asleep, late - ran - (schedule.queued - lastSchedule.queued));
    last = now;
    lastSchedule = schedule;
  }, 10);
  try {
    await body();
    // The observer's last entries come in a task of their own.
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    clearInterval(timer);
    observer.disconnect();
  }
  for (const { from, to, ran } of intervals) {
    const paused = collections.filter(({ at }) => at >= from && at < to).reduce((sum, { duration }) => sum + duration, 0);
    lag.busy = Math.max(lag.busy, ran - paused);
  }
  lag.collecting = Math.max(0, ...collections.map(({ duration }) => duration));
  return lag;
}

/**
 * Holds this thread until it has computed for `milliseconds` of its own CPU
 * time (what a blocking call into training would do), or for 20 times that
 * in wall time; returns the wall time it held it. Counted in CPU time, not
 * wall time, because a busy host can leave a computing thread without a core
 * for most of a wall-clock span (CI gave it 31 ms of CPU in 150 ms so). It
 * reads the CPU time into one buffer and allocates nothing: a garbage
 * collection here would be taken off what the meter sees.
 */
function computeFor(milliseconds: number): number {
  const fd = openSync(SCHEDSTAT, 'r');
  const bytes = Buffer.alloc(64);
  const cpuNanoseconds = (): number => {
    readSync(fd, bytes, 0, bytes.length, 0);
    let nanoseconds = 0;
    for (let at = 0; bytes[at]! >= 0x30 && bytes[at]! <= 0x39; at++) nanoseconds = nanoseconds * 10 + bytes[at]! - 0x30;
    return nanoseconds;
  };
  try {
    const started = performance.now();
    const end = cpuNanoseconds() + milliseconds * 1e6;
    let sum = 0;
    while (cpuNanoseconds() < end && performance.now() - started < 20 * milliseconds) for (let i = 0; i < 10_000; i++) sum += Math.sqrt(sum + i);
    if (sum < 0) throw new Error('unreachable: keeps the loop from being optimized away');
    return performance.now() - started;
  } finally {
    closeSync(fd);
  }
}

/** Why this thread's CPU time cannot be read here, or undefined when it can: the file is there and its CPU time grows while the thread computes. */
function scheduleUnreadable(): string | undefined {
  if (!existsSync(SCHEDSTAT)) return `no ${SCHEDSTAT} here: this thread's CPU time cannot be told from the host's pauses`;
  const before = threadSchedule().cpu;
  const until = performance.now() + 50;
  let sum = 0;
  while (performance.now() < until) sum += Math.sqrt(sum + 1);
  return threadSchedule().cpu > before && sum > 0 ? undefined : `${SCHEDSTAT} does not count this thread's CPU time here (scheduler statistics off)`;
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

t.test('the caller\'s event loop stays free: this thread never computes for 50 ms between two 10 ms ticks (garbage collection aside), numerical or backprop', {
  skip: scheduleUnreadable() ?? false,
}, async (t) => {
  const dir = t.testdir();
  const run = (engine: 'incremental' | 'backprop', name: string = engine): Promise<TrainResult> =>
    trainInBackground({ dataset: 'mnist', hiddenSize: 20, batchSize: 100, iterations: 400, evaluationLimit: 2000, engine, threads: 1, out: join(dir, name) }).result;
  const midRun = async (name: string, hold: () => void) => {
    const result = run('backprop', name);
    await new Promise((resolve) => setTimeout(resolve, 50));
    hold();
    await result;
  };
  for (const engine of ['incremental', 'backprop'] as const) {
    const { late, busy, collecting, asleep } = await timerLag(() => run(engine));
    t.ok(busy < 50, `${engine}: at most ${busy.toFixed(1)} ms of this thread's CPU between ticks besides garbage collection (worst tick ${late.toFixed(1)} ms late, longest collection ${collecting.toFixed(1)} ms)`);
    // A loose bound: the host may pause a vCPU for tens of milliseconds, but not a synchronous wait of a second.
    t.ok(asleep < 500, `${engine}: asleep in a synchronous call at most ${asleep.toFixed(1)} ms`);
  }
  // The meter itself, on the same kind of run: 300 ms of computing is seen as CPU, 80 ms of a synchronous sleep as sleep.
  // A collection may fall in the computing's interval: 48 ms of wall time here with other processes loading both cores.
  let computingWall = 0;
  const computing = await timerLag(() => midRun('computing', () => { computingWall = computeFor(300); }));
  // At least half, and no more CPU than the wall time it took (one thread runs on one core at a time), give or take
  // the rest of its tick's interval (the library's own work, up to 8 ms seen) and the kernel's 4 ms accounting tick.
  t.ok(computing.busy >= 150 && computing.busy <= computingWall + 20,
    `300 ms of CPU computing on this thread mid-run, in ${computingWall.toFixed(1)} ms of wall time: ${computing.busy.toFixed(1)} ms of CPU seen (longest collection ${computing.collecting.toFixed(1)} ms)`);
  const sleeping = await timerLag(() => midRun('sleeping', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 80)));
  // The sleep begins up to a tick after the last one: the next is 70–80 ms late.
  t.ok(sleeping.asleep >= 60 && sleeping.busy < 50, `80 ms asleep on this thread mid-run: ${sleeping.asleep.toFixed(1)} ms asleep, ${sleeping.busy.toFixed(1)} ms of CPU seen`);
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
  const { code, stdout, stderr } = await runTsxChild(script, { cwd: root, timeoutMs: 60_000 });
  const output = stdout + stderr;
  t.equal(code, 0, `the process exited by itself: ${output}`);
  t.equal(output.trim(), '30 true');
});
