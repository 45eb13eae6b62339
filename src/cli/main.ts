#!/usr/bin/env node
/**
 * The `gradpool` command line. Exit codes: 0 done, 1 runtime failure or bug,
 * 2 usage or bad input (one line, no stack trace), 130 interrupted, 141 the
 * reader of the output gone (a train run first saves its checkpoint). What an
 * error is, is told by its class: see {@link classifyError}.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InputError, isArgumentError } from '../errors.js';
import { endWhenReaderGoes, type CommandIo } from './io.js';

export { endWhenReaderGoes };

type Command = (argv: string[], io: CommandIo) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  train: { summary: 'Train TwoLayerNet (default: the book\'s recipe on the bundled MNIST digits, all cores)', load: async () => (await import('./train-command.js')).trainCommand },
  evaluate: { summary: 'Accuracy and loss of a saved model on a dataset', load: async () => (await import('./evaluate-command.js')).evaluateCommand },
  predict: { summary: 'Classify dataset samples or 28×28 PNG images with a saved model', load: async () => (await import('./predict-command.js')).predictCommand },
  gradcheck: { summary: 'The book\'s gradient check: numerical vs backprop, per tensor', load: async () => (await import('./gradcheck-command.js')).gradcheckCommand },
  bench: { summary: 'Scaling benchmark by thread count (table, JSON, chart)', load: async () => (await import('../../benchmarks/bench-command.js')).benchCommand },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  return [
    'Usage: gradpool <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}${summary}`),
    '',
    'Run `gradpool <command> --help` (or `gradpool help <command>`) for its options;',
    '`gradpool --version` prints the version.',
  ].join('\n');
}

/** The version in package.json (two levels up from src/cli and from dist/src/cli alike). */
function packageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'gradpool' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

/**
 * What the CLI makes of an error, by its class alone:
 * - `input`: an {@link InputError} (a bad file or option) or an argument error
 *   of the library (`ArgumentTypeError`, `ArgumentRangeError`: a value from the
 *   command line or a file that a constructor refused). Exit 2, one line.
 * - `failure`: any other `Error` the program throws on purpose, which is a
 *   plain `Error` or a subclass of it that is not one of the engine's own
 *   (`DivergenceError`, `GradientPoolError`, a Node system error such as ENOSPC,
 *   "Cannot save the run"). Exit 1, one line.
 * - `bug`: a `TypeError`, `RangeError`, `ReferenceError`, `SyntaxError`,
 *   `EvalError` or `URIError` that is not an argument error (what JavaScript
 *   throws for a programming mistake: `undefined` read as an object, an invalid
 *   array length), or a thrown value that is no Error. Exit 1, with the stack trace.
 */
export function classifyError(error: unknown): 'input' | 'failure' | 'bug' {
  if (error instanceof InputError || isArgumentError(error)) return 'input';
  if (!(error instanceof Error)) return 'bug';
  return ENGINE_ERRORS.some((kind) => error instanceof kind) ? 'bug' : 'failure';
}

/** The error classes of the language itself: thrown for programming mistakes, never on purpose by gradpool (it throws the argument errors). */
const ENGINE_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError] as const;

/** A thrown value that is not an Error, for the bug report: its type and text. */
function describeThrown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return `${value === null ? 'null' : typeof value}: ${text}`;
}

/** Runs a command line; returns the exit code. Errors become one line on stderr (a bug's with its stack trace): see {@link classifyError}. */
export async function main(argv: string[], io: CommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  if (argv[0] === 'help' && argv.length === 2) argv = [argv[1], '--help']; // `gradpool help train`, as git and npm take it
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.stdout.write(`gradpool ${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  try {
    if (command === undefined) {
      throw new InputError(`Expected a command (${Object.keys(COMMANDS).join(', ')}), got \`${name}\`; see \`gradpool --help\``);
    }
    return await (await command.load())(rest, io);
  } catch (error) {
    const kind = classifyError(error);
    const prefix = `gradpool${command ? ` ${name}` : ''}`;
    if (kind === 'bug') {
      const stack = error instanceof Error ? error.stack ?? `${error.name}: ${error.message}` : `a thrown ${describeThrown(error)}`;
      io.stderr.write(`${prefix}: internal error (a bug in gradpool ${packageVersion()}; please report it with this output):\n${stack}\n`);
      return 1;
    }
    io.stderr.write(`${prefix}: ${(error as Error).message}\n`);
    if (process.env.GRADPOOL_DEBUG) io.stderr.write(`${(error as Error).stack}\n`);
    return kind === 'input' ? 2 : 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  endWhenReaderGoes(process.argv[2]);
  process.exitCode = await main(process.argv.slice(2));
}
