/**
 * The run directory: claiming a new one, checking that `out` can hold a run,
 * and what `resume` continues (a checkpoint, or a run killed before its first
 * one) with its config.json checked against it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { TEMPORARY_FILE } from '../io/atomic-write.js';
import { makeDirectory } from '../io/make-directory.js';
import { type Checkpoint, checkpointFiles, loadCheckpoint } from '../train/checkpoint.js';
import { readTrainerCheckpoint, type TrainerCheckpoint } from '../train/trainer-checkpoint.js';
import { savedFilePath } from '../train/model-file.js';
import { integer, parseTrainConfig, positive, type TrainConfig } from '../train/train-config.js';
import { invalidJson, oneLine } from '../validate.js';
import { RUN_FILES } from './run-files.js';
import type { OptionNames } from './train-options.js';

/** The configuration fields a resumed run may change (and that config.json may hold from a resume killed before its first save). */
const RESUMABLE_CONFIG_FIELDS = new Set<keyof TrainConfig>(['iterations', 'evaluationLimit']);
/**
 * One invocation of a run, as config.json's `sessions` records it: a resumed
 * run keeps its history (where each session began, at what learning rate, on
 * how many threads), which its configuration alone, holding only the rate it
 * goes on at, would lose. They are the history of the directory's own
 * checkpoint.json: a resume of another checkpoint (a copy, a snapshot) starts
 * a history of its own.
 */
export interface RunSession {
  /** When the session began (ISO 8601). */
  startedAt: string;
  /** The iteration it began from: 0, or the checkpoint's it resumed. */
  fromIteration: number;
  /** The learning rate of its steps. */
  learningRate: number;
  /** Worker threads asked for its gradient pool (a backprop run computes on the main thread and uses none). */
  threads: number;
  /** The checkpoint it resumed (its absolute path), when it did. */
  resumedFrom?: string;
}

const runSessionSchema = z.strictObject({
  startedAt: z.string({ error: 'a time (ISO 8601)' }),
  fromIteration: integer(0),
  learningRate: positive,
  threads: integer(1),
  resumedFrom: z.string({ error: 'a checkpoint\'s path' }).optional(),
}) satisfies z.ZodType<RunSession>;

/** What config.json records beside the run's configuration (what it ran with). */
const RECORDED_FIELDS = { threads: integer(1).optional(), shape: z.unknown().optional(), sessions: z.array(runSessionSchema, { error: 'a list of sessions' }).optional() };

export function timestamp(): string {
  return new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
}

/**
 * Creates and returns `base`, or `base-2`, `base-3`, … when runs started within
 * the same second: the non-recursive mkdir claims a name atomically, so runs
 * started in parallel never share a directory.
 */
export async function claimRunDirectory(base: string): Promise<string> {
  await makeDirectory(dirname(resolve(base)));
  for (let n = 1; ; n += 1) {
    const candidate = resolve(n === 1 ? base : `${base}-${n}`);
    try {
      await mkdir(candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** The run configuration in `file` (a run's config.json), checked field by field, and the sessions it records. */
async function readRunConfig(file: string): Promise<{ config: TrainConfig; sessions: RunSession[] }> {
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError(`Invalid run configuration \`${file}\`: expected JSON, got ${error instanceof SyntaxError ? invalidJson(error) : oneLine((error as Error).message)}`);
  }
  const config = parseTrainConfig(saved, 'run configuration', file, { extra: RECORDED_FIELDS });
  // Checked with the configuration above; runs from before sessions were recorded have none.
  return { config, sessions: (saved as { sessions?: RunSession[] }).sessions ?? [] };
}

/**
 * Refuses a config.json edited since the checkpoint was saved: the checkpoint's
 * configuration is what the run continues with, and an edit taking no effect
 * unseen would be worse than either. With a learning rate given for the
 * resume (`learningRate`), config.json's may differ (a resume at another rate
 * that ended before its first save wrote it there): the given one is used.
 */
async function checkConfigUnchanged(directory: string, config: TrainConfig, source: string, name: OptionNames, learningRate: number | undefined): Promise<RunSession[]> {
  const file = join(directory, 'config.json');
  if (!existsSync(file)) return [];
  const { config: recorded, sessions } = await readRunConfig(file);
  const keys = new Set([...Object.keys(config), ...Object.keys(recorded)] as Array<keyof TrainConfig>);
  for (const key of keys) {
    if (RESUMABLE_CONFIG_FIELDS.has(key) || recorded[key] === config[key]) continue;
    if (key === 'learningRate' && learningRate !== undefined) continue;
    const shown = (value: unknown) => (value === undefined ? 'nothing' : `\`${JSON.stringify(value)}\``);
    // Also what a resume at another rate leaves when it ends before its first save.
    const rate = key === 'learningRate' ? `, or give the rate to go on at (\`${name('learningRate')} RATE\`)` : '';
    throw new InputError(`Expected \`${file}\` to match the checkpoint \`${source}\`, got "${key}" ${shown(recorded[key])} there and ${shown(config[key])} in the checkpoint: `
      + `a run keeps its configuration when resumed; undo the edit${rate}, or start a new run with the new value`);
  }
  return sessions;
}

/**
 * What `resume` continues: a checkpoint, or a run killed before its first one,
 * restarted from its config.json. `sessions` are the recorded sessions whose
 * steps the checkpoint holds (a session that began at or after its iteration
 * left nothing in it). A directory holding a resume of another run's
 * checkpoint that stopped before its first save resumes that checkpoint again,
 * into it.
 */
export type Resumption =
  | {
    kind: 'checkpoint'; file: string; directory: string; checkpoint: Checkpoint; config: TrainConfig; read: TrainerCheckpoint; sessions: RunSession[];
    /** The directory given, when it held a resume of `file` into it stopped before its first save: the run goes on there. */
    into?: string;
    /** What that stopped resume asked for beyond the checkpoint (from its config.json): it goes on with them unless others are given. */
    intoConfig?: Pick<TrainConfig, 'iterations' | 'evaluationLimit' | 'learningRate'>;
  }
  | { kind: 'restart'; directory: string; config: TrainConfig; sessions: RunSession[] };

export async function resolveResume(path: string, name: OptionNames, learningRate?: number): Promise<Resumption> {
  if (existsSync(path) && statSync(path).isDirectory()
    && !existsSync(join(path, 'checkpoint.json')) && !existsSync(join(path, 'checkpoint.safetensors')) && existsSync(join(path, 'config.json'))) {
    const { config, sessions } = await readRunConfig(join(path, 'config.json'));
    const last = sessions.at(-1);
    // A resume into another directory stopped before its first save: a restart from iteration 0 would silently drop what it resumed.
    if (last?.resumedFrom !== undefined && dirname(resolve(last.resumedFrom)) !== resolve(path)) {
      return { ...await resumeBranchPoint(path, last.resumedFrom, last.fromIteration, name, learningRate), into: resolve(path), intoConfig: pickResumable(config) };
    }
    return { kind: 'restart', directory: resolve(path), config, sessions: [] };
  }
  return resumeCheckpoint(savedFilePath(name('resume'), path, 'checkpoint.json'), name, learningRate);
}

function pickResumable({ iterations, evaluationLimit, learningRate }: TrainConfig): Pick<TrainConfig, 'iterations' | 'evaluationLimit' | 'learningRate'> {
  return { iterations, evaluationLimit, learningRate };
}

/**
 * The checkpoint a stopped resume into `path` branched from (`branched`, at
 * `fromIteration`), if it is still there and still at that iteration: a
 * checkpoint that has moved on is no longer where the branch began.
 */
async function resumeBranchPoint(path: string, branched: string, fromIteration: number, name: OptionNames, learningRate: number | undefined): Promise<Extract<Resumption, { kind: 'checkpoint' }>> {
  const stopped = `got \`${path}\`, which holds no checkpoint: it is a resume of \`${branched}\` from iteration ${fromIteration}, stopped before its first save`;
  const expected = `Expected \`${name('resume')}\` to be a run with a checkpoint or one to restart`;
  const files = checkpointFiles(branched);
  if (!existsSync(files.json) && !existsSync(files.safetensors)) throw new InputError(`${expected}, ${stopped}, and that checkpoint is gone`);
  const resumed = await resumeCheckpoint(files.json, name, learningRate);
  const now = resumed.checkpoint.meta.iteration;
  if (now !== fromIteration) {
    throw new InputError(`${expected}, ${stopped}, and that checkpoint has moved on to iteration ${now}; resume it into a new directory, or start \`${path}\` anew`);
  }
  return resumed;
}

/** A checkpoint file to resume, with the sessions of its run when config.json beside it is its own. */
async function resumeCheckpoint(file: string, name: OptionNames, learningRate: number | undefined): Promise<Extract<Resumption, { kind: 'checkpoint' }>> {
  const checkpoint = await loadCheckpoint(file);
  const read = readTrainerCheckpoint(checkpoint);
  const directory = dirname(resolve(file));
  // config.json is that of the directory's own checkpoint (and final model): another checkpoint there (a copy, an earlier snapshot) may have another configuration and history.
  const { json } = checkpointFiles(resolve(file));
  const own = json === join(directory, 'checkpoint.json') || json === join(directory, 'model.json');
  const sessions = own ? await checkConfigUnchanged(directory, read.config, checkpoint.source, name, learningRate) : [];
  const held = sessions.filter((session) => session.fromIteration < checkpoint.meta.iteration);
  return { kind: 'checkpoint', file, directory, checkpoint, config: read.config, read, sessions: held };
}

/** Checks that `out` can hold a new run (not a file, not another run, nothing else in it), before any dataset loads. */
export function checkOut(out: string, resumedDirectory: string | undefined, name: OptionNames): void {
  if (out === '') throw new InputError(`Expected \`${name('out')}\` to be a directory for the run, got an empty path`);
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new InputError(`Expected \`${name('out')}\` to be a directory for the run, got \`${out}\`, which is a file`);
  }
  if (resolve(out) === resumedDirectory || !existsSync(out)) return;
  // Another run's files would be overwritten and its curves mixed with this run's.
  const held = RUN_FILES.find((file) => existsSync(join(out, file)));
  if (held !== undefined) {
    // In the caller's words: a flag and its value at the command line, an option of train() in a program.
    const resume = name('resume').startsWith('-') ? `${name('resume')} ${out}` : `${name('resume')}: ${JSON.stringify(out)}`;
    throw new InputError(`Expected \`${name('out')}\` to be a directory without another run, got \`${out}\`, which holds one (${held}); choose another directory, or continue that run with \`${resume}\``);
  }
  // A run's nine files scattered among someone else's (the system's temporary folder, say) are hard to find and to remove.
  const foreign = readdirSync(out).find((entry) => !TEMPORARY_FILE.test(entry));
  if (foreign !== undefined) {
    throw new InputError(`Expected \`${name('out')}\` to be a new or empty directory, got \`${out}\`, which holds other files (e.g. \`${foreign}\`); choose a new directory such as \`${join(out, 'run')}\``);
  }
}
