/**
 * The machine a benchmark ran on, and how busy other processes kept it while
 * each measurement ran.
 *
 * CPU load of other processes = (busy CPU time of the whole machine, from the
 * first line of /proc/stat) − (CPU time of this process, all threads, from
 * `process.cpuUsage()`) − (CPU time of our child processes, when given),
 * divided by the wall time: the average number of cores others kept busy.
 * Steal time (a hypervisor running other guests on our virtual CPUs) is
 * reported separately. /proc/stat counts in clock ticks (usually 10 ms per
 * CPU), so a short window cannot resolve less than a few ticks: `resolutionCores`
 * says how much, and a window is flagged busy only when others exceed the
 * threshold by more than that. Without /proc/stat (not Linux) only the load
 * average is recorded and nothing is flagged.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  /** `os.cpus().length`. */
  logicalCores: number;
  /** `os.availableParallelism()`: the cores this process may use (the default thread counts go up to it). */
  availableParallelism: number;
  nodeVersion: string;
  v8Version: string;
  platform: string;
  arch: string;
  osRelease: string;
  totalMemoryBytes: number;
  /** `os.loadavg()` (1, 5, 15 minutes) when the benchmark started; all zeros on Windows. */
  loadAverageAtStart: number[];
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1].trim();
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return os.cpus()[0]?.model?.trim() || 'unknown';
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    logicalCores: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    osRelease: os.release(),
    totalMemoryBytes: os.totalmem(),
    loadAverageAtStart: os.loadavg(),
  };
}

let ticksPerSecondCache: number | undefined;

/** USER_HZ, the unit of /proc/stat (100 on practically every Linux). */
export function ticksPerSecond(): number {
  if (ticksPerSecondCache === undefined) {
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      ticksPerSecondCache = Number.isInteger(value) && value > 0 ? value : 100;
    } catch {
      ticksPerSecondCache = 100;
    }
  }
  return ticksPerSecondCache;
}

interface ProcStat {
  /** user + nice + system + irq + softirq (guest time is included in user), in ticks. */
  busy: number;
  steal: number;
}

/** The machine-wide CPU counters, or null where /proc/stat does not exist. */
export function readProcStat(): ProcStat | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    if (!line.startsWith('cpu ')) return null;
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: user + nice + system + irq + softirq, steal };
  } catch {
    return null;
  }
}

/** CPU use during one or more measurement windows (JSON-ready). */
export interface LoadSample {
  /** Total wall time of the windows. */
  wallMilliseconds: number;
  /** Windows accumulated (e.g. one per repetition). */
  windows: number;
  /** Average cores used by this process (main thread and workers) and its measured child processes. */
  ownCores: number;
  /** Average cores used by other processes; null without /proc/stat. */
  othersCores: number | null;
  /** Average cores stolen by the hypervisor; null without /proc/stat. */
  stealCores: number | null;
  /** How many cores the tick granularity of /proc/stat cannot tell apart for these windows. */
  resolutionCores: number | null;
  /** 1-minute load average (includes our own threads) at the first start and the last stop. */
  loadAverage1: { start: number; end: number };
  /** Others (or steal) exceeded the threshold by more than the resolution: treat the timing as unreliable. */
  busy: boolean;
  /** Why it is flagged busy, or null. */
  reason: string | null;
}

/**
 * Accumulates CPU counters over measurement windows: `start()` and `stop()`
 * around each timed call, `sample()` for the total.
 */
export class LoadMeter {
  readonly thresholdCores: number;
  readonly cores: number;
  #windows = 0;
  #wallMs = 0;
  #busyTicks = 0;
  #stealTicks = 0;
  #ownMicros = 0;
  #procStat = true;
  #loadStart: number | null = null;
  #loadEnd = 0;
  #open: { at: number; stat: ProcStat | null; own: NodeJS.CpuUsage } | null = null;

  constructor(thresholdCores: number, cores = os.availableParallelism()) {
    this.thresholdCores = thresholdCores;
    this.cores = cores;
  }

  start(): void {
    if (this.#loadStart === null) this.#loadStart = os.loadavg()[0];
    this.#open = { at: performance.now(), stat: readProcStat(), own: process.cpuUsage() };
  }

  /** Ends the window; `childMicros` is CPU time of child processes we ran in it (e.g. Python), counted as ours. */
  stop(childMicros = 0): void {
    const open = this.#open;
    if (open === null) throw new Error('LoadMeter.stop() without start()');
    const own = process.cpuUsage(open.own);
    const stat = readProcStat();
    this.#wallMs += performance.now() - open.at;
    this.#ownMicros += own.user + own.system + childMicros;
    if (open.stat === null || stat === null) this.#procStat = false;
    else {
      this.#busyTicks += stat.busy - open.stat.busy;
      this.#stealTicks += stat.steal - open.stat.steal;
    }
    this.#windows++;
    this.#loadEnd = os.loadavg()[0];
    this.#open = null;
  }

  /** Times `work` inside one window. */
  async measure<T>(work: () => Promise<T> | T): Promise<T> {
    this.start();
    try {
      return await work();
    } finally {
      this.stop();
    }
  }

  sample(): LoadSample {
    const seconds = Math.max(this.#wallMs / 1000, 1e-9);
    const ownCores = this.#ownMicros / 1e6 / seconds;
    const loadAverage1 = { start: this.#loadStart ?? 0, end: this.#loadEnd };
    if (!this.#procStat || this.#windows === 0) {
      return { wallMilliseconds: this.#wallMs, windows: this.#windows, ownCores, othersCores: null, stealCores: null, resolutionCores: null, loadAverage1, busy: false, reason: null };
    }
    const tick = 1 / ticksPerSecond();
    const othersCores = Math.max(0, this.#busyTicks * tick - this.#ownMicros / 1e6) / seconds;
    const stealCores = Math.max(0, this.#stealTicks * tick) / seconds;
    // Each counter read is off by up to one tick per CPU; independent windows add up like a random walk.
    const resolutionCores = (this.cores * tick * Math.sqrt(this.#windows)) / seconds;
    let reason: string | null = null;
    if (othersCores - resolutionCores > this.thresholdCores) {
      reason = `other processes used ${othersCores.toFixed(2)} cores (threshold ${this.thresholdCores}, resolution ±${resolutionCores.toFixed(2)})`;
    } else if (stealCores - resolutionCores > this.thresholdCores) {
      reason = `the hypervisor stole ${stealCores.toFixed(2)} cores (threshold ${this.thresholdCores}, resolution ±${resolutionCores.toFixed(2)})`;
    }
    return { wallMilliseconds: this.#wallMs, windows: this.#windows, ownCores, othersCores, stealCores, resolutionCores, loadAverage1, busy: reason !== null, reason };
  }
}
