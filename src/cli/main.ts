#!/usr/bin/env node
/**
 * The `gradpool` command line. Exit codes: 0 done, 1 runtime failure,
 * 2 usage or bad input (one line, no stack trace), 130 interrupted.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InputError } from '../errors.js';
import type { CommandIo } from './io.js';

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
    'Run `gradpool <command> --help` for its options.',
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

/** Runs a command line; returns the exit code. Errors of bad input become one line on stderr and 2. */
export async function main(argv: string[], io: CommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
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
    // The library's own argument checks throw TypeError/RangeError "Expected …"; other ones (an allocation failing) are not the user's input.
    if (error instanceof InputError || ((error instanceof TypeError || error instanceof RangeError) && error.message.startsWith('Expected'))) {
      io.stderr.write(`gradpool${command ? ` ${name}` : ''}: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`gradpool ${name}: ${(error as Error)?.message ?? String(error)}\n`);
    if (process.env.GRADPOOL_DEBUG) io.stderr.write(`${(error as Error)?.stack}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
