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

/** Every step name a save passes through, in the order of one checkpoint's save (for tests that visit them all). */
export const SAVE_STEPS = [
  'metrics-append', 'metrics-fsync',
  'checkpoint-write', 'checkpoint-fsync', 'checkpoint-rename', 'checkpoint-directory-fsync',
  'checkpoint-json-write', 'checkpoint-json-rename',
  'metrics-csv-rename',
  'model-write', 'model-rename', 'model-json-rename', 'charts-rename',
] as const;

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
