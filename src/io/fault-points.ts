/**
 * Named steps of every durable write (each write, fsync and rename of a save),
 * where a test can make the process die or an I/O call fail. Crash-point
 * testing, as SQLite's crash tests and etcd's failpoints do it: name each step,
 * kill the process at each in turn, prove recovery every time.
 *
 * `GRADPOOL_FAULT=<what>@<step>[#<n>]`, read only here: at the n-th time (default
 * the first) the process reaches `step`, `crash` SIGKILLs it; an errno name
 * (`ENOSPC`, `EACCES`, `EROFS`, `EIO`, …) makes that step fail with that error.
 * Several faults may be given, separated by commas. Unset, a fault point costs
 * one lookup in an empty list.
 */

interface Fault {
  what: string;
  step: string;
  occurrence: number;
}

function parseFaults(spec: string | undefined): Fault[] {
  if (spec === undefined || spec === '') return [];
  return spec.split(',').map((part) => {
    const match = /^([A-Za-z]+)@([\w.-]+)(?:#(\d+))?$/.exec(part.trim());
    if (match === null) throw new Error(`GRADPOOL_FAULT: expected what@step[#n] (e.g. crash@checkpoint-rename#2), got \`${part}\``);
    return { what: match[1], step: match[2], occurrence: match[3] === undefined ? 1 : Number(match[3]) };
  });
}

const faults = parseFaults(process.env.GRADPOOL_FAULT);
const reached = new Map<string, number>();

const ATOMIC_STEPS = ['write', 'fsync', 'rename', 'directory-fsync'] as const;
const atomic = (file: string) => ATOMIC_STEPS.map((step) => `${file}-${step}`);

/**
 * Every step a training run's saves pass through, in order: the run's start
 * (config.json, then an empty metrics.jsonl), then each checkpoint (metrics first,
 * then the checkpoint, whose rename commits it, its JSON copy and metrics.csv),
 * then the final model and the charts. Resuming rewrites metrics.jsonl whole
 * (`metrics-resume-*`).
 */
export const SAVE_STEPS: readonly string[] = [
  ...atomic('config'), ...atomic('metrics-start'),
  'metrics-append', 'metrics-fsync', ...atomic('checkpoint'), ...atomic('checkpoint-json'), ...atomic('metrics-csv'),
  ...atomic('model'), ...atomic('model-json'), ...atomic('charts'),
];

/** Marks that the process reached `step` (with `path`, the file it is writing); acts on a fault set for it. */
export function faultPoint(step: string, path: string): void {
  if (faults.length === 0) return;
  const count = (reached.get(step) ?? 0) + 1;
  reached.set(step, count);
  for (const fault of faults) {
    if (fault.step !== step || fault.occurrence !== count) continue;
    if (fault.what === 'crash') process.kill(process.pid, 'SIGKILL');
    throw Object.assign(new Error(`${fault.what}: injected failure, ${step} '${path}'`), { code: fault.what, syscall: step, path });
  }
}
