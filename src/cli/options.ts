/**
 * Declarative command-line options: one table per command gives parsing,
 * validation (one-line messages naming the option, the expectation and the
 * value) and the help text.
 */
import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { closestName } from './closest-name.js';
import { npmTookOptions } from './npm-script.js';

export type OptionSpec =
  | { type: 'integer'; min: number; max?: number; default?: number; description: string; placeholder?: string }
  | { type: 'number'; min: number; exclusiveMin?: boolean; default?: number; description: string; placeholder?: string }
  | { type: 'choice'; choices: readonly string[]; default?: string; description: string }
  | { type: 'string'; default?: string; description: string; placeholder?: string }
  | { type: 'boolean'; description: string }
  /**
   * An old name of another option, kept for one version: its value is read as
   * that option's (through `values`, which maps old value names to new ones) and
   * it counts as that option given explicitly.
   */
  | { type: 'alias'; of: string; values?: ReadonlyMap<string, string>; description: string };

export type OptionTable = Record<string, OptionSpec>;

export type ParsedValue<S extends OptionSpec> = S extends { type: 'integer' | 'number' } ? number
  : S extends { type: 'boolean' } ? boolean : string;

type AliasNames<T extends OptionTable> = { [K in keyof T]: T[K] extends { type: 'alias' } ? K : never }[keyof T];

export type ParsedOptions<T extends OptionTable> = {
  [K in Exclude<keyof T, AliasNames<T>>]: T[K] extends { default: unknown } | { type: 'boolean' } ? ParsedValue<T[K]> : ParsedValue<T[K]> | undefined;
};

function fail(message: string): never {
  throw new InputError(message);
}

export function parseInteger(name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer from ${min} and up` : `an integer from ${min} to ${max}`;
  const trimmed = raw.trim().replaceAll('_', '');
  const value = /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) fail(`Expected \`--${name}\` to be ${expected}, got \`${raw}\``);
  return value;
}

/** A decimal number, as people write one: `0.1`, `.5`, `-2`, `1e-3` (not `Number`'s `0x10`, `0b1`, `Infinity` or empty text). */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function parseNumber(name: string, raw: string, min: number, exclusiveMin = false): number {
  const trimmed = raw.trim().replaceAll('_', '');
  const value = DECIMAL.test(trimmed) ? Number(trimmed) : Number.NaN;
  const ok = Number.isFinite(value) && (exclusiveMin ? value > min : value >= min);
  if (!ok) fail(`Expected \`--${name}\` to be a finite number ${exclusiveMin ? 'greater than' : 'from'} ${min}${exclusiveMin ? '' : ' and up'}, got \`${raw}\``);
  return value;
}

export function parseChoice(name: string, raw: string, choices: readonly string[]): string {
  if (!choices.includes(raw)) fail(`Expected \`--${name}\` to be one of ${choices.map((c) => `\`${c}\``).join(', ')}, got \`${raw}\``);
  return raw;
}

/** `--lr -1` would parse as two options: join a negative number to the option before it. */
function joinNegativeNumbers(table: OptionTable, argv: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const spec = argv[i].startsWith('--') ? table[argv[i].slice(2)] : undefined;
    if (spec !== undefined && spec.type !== 'boolean' && /^-[\d.]/.test(argv[i + 1] ?? '')) {
      joined.push(`${argv[i]}=${argv[i + 1]}`);
      i++;
    } else {
      joined.push(argv[i]);
    }
  }
  return joined;
}

/**
 * Parsed values, plus `help`, the names of the options given explicitly, and
 * `oldNames`: for each option given by its old name, that name and the value
 * it stands for (messages name an option as the user spelled it).
 */
export type ParseResult<T extends OptionTable> = ParsedOptions<T> & { help: boolean; explicit: ReadonlySet<string>; oldNames: ReadonlyMap<string, { oldName: string; value: string }> };

/** Parses `argv` against `table`; unknown options and stray arguments are InputErrors. */
export function parseOptions<T extends OptionTable>(command: string, table: T, argv: string[]): ParseResult<T> {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(table)) config[name] = { type: spec.type === 'boolean' ? 'boolean' : 'string' };
  // parseArgs would take `--threads` as the value of `--dataset` in `--dataset --threads 1`, and say "ambiguous".
  for (let i = 0; i + 1 < argv.length; i++) {
    const name = /^--([\w-]+)$/.exec(argv[i])?.[1];
    const spec = name === undefined ? undefined : (table as OptionTable)[name];
    if (spec !== undefined && spec.type !== 'boolean' && /^--[a-z]/i.test(argv[i + 1])) fail(`Expected a value after \`--${name}\`, got the option \`${argv[i + 1]}\``);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsedArgs = parseArgs({ args: joinNegativeNumbers(table, argv), options: config, strict: true, allowPositionals: false, tokens: true });
    values = parsedArgs.values as Record<string, string | boolean | undefined>;
    // parseArgs keeps the last of a repeated option: `--image a.png --image b.png` would classify b.png alone, unsaid.
    const given = new Map<string, string[]>();
    for (const token of parsedArgs.tokens) {
      if (token.kind === 'option' && token.value !== undefined) given.set(token.name, [...(given.get(token.name) ?? []), token.value]);
    }
    for (const [name, all] of given) {
      if (all.length > 1) fail(`Expected \`--${name}\` once, got it ${all.length} times (${all.map((value) => `\`${value}\``).join(', ')})`);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    const message = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) {
      const meant = closestName(unknown[1].replace(/^-+/, '').toLowerCase(), ['help', ...Object.keys(table).filter((name) => (table as OptionTable)[name].type !== 'alias')]);
      fail(`Unknown option \`${unknown[1]}\` for \`gradpool ${command}\`${meant === undefined ? '' : ` (did you mean \`--${meant}\`?)`}; see \`gradpool ${command} --help\``);
    }
    const positional = /Unexpected argument '([^']+)'/.exec(message);
    if (positional) {
      const npm = npmTookOptions(Object.keys(table), command);
      fail(`Unexpected argument \`${positional[1]}\` for \`gradpool ${command}\`; ${npm ?? 'options take the form `--name value`'}`);
    }
    const missing = /Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(message);
    if (missing) fail(`Expected a value after \`${missing[1]}\`, got nothing`);
    fail(`${message.split('\n')[0]} (gradpool ${command})`);
  }
  const oldNames = new Map<string, { oldName: string; value: string }>();
  for (const [name, spec] of Object.entries(table)) {
    if (spec.type !== 'alias' || values[name] === undefined) continue;
    if (values[spec.of] !== undefined) fail(`Expected either \`--${spec.of}\` or its old name \`--${name}\`, got both`);
    const raw = values[name] as string;
    values[spec.of] = spec.values?.get(raw) ?? raw;
    oldNames.set(spec.of, { oldName: name, value: values[spec.of] as string });
    delete values[name];
  }
  const explicit = new Set(Object.keys(values).filter((name) => values[name] !== undefined && name !== 'help'));
  const parsed: Record<string, unknown> = { help: values.help === true, explicit, oldNames };
  for (const [name, spec] of Object.entries(table)) {
    const raw = values[name];
    if (spec.type === 'alias') continue;
    if (spec.type === 'boolean') {
      parsed[name] = raw === true;
      continue;
    }
    if (raw === undefined) {
      parsed[name] = spec.default;
      continue;
    }
    const text = raw as string;
    const given = oldNames.get(name)?.oldName ?? name;
    if (spec.type === 'integer') parsed[name] = parseInteger(given, text, spec.min, spec.max);
    else if (spec.type === 'number') parsed[name] = parseNumber(given, text, spec.min, spec.exclusiveMin);
    else if (spec.type === 'choice') parsed[name] = parseChoice(given, text, spec.choices);
    else parsed[name] = text;
  }
  return parsed as ParseResult<T>;
}

/** Help text generated from the table. */
export function helpText(command: string, summary: string, table: OptionTable): string {
  const lines = [`Usage: gradpool ${command} [options]`, '', summary, '', 'Options:'];
  const entries = Object.entries(table).map(([name, spec]) => {
    const placeholder = spec.type === 'boolean' ? '' : spec.type === 'choice' ? ` ${spec.choices.join('|')}` : spec.type === 'alias' ? ' …'
      : ` ${'placeholder' in spec && spec.placeholder ? spec.placeholder : spec.type === 'string' ? 'TEXT' : 'N'}`;
    const fallback = 'default' in spec && spec.default !== undefined ? ` (default: ${spec.default})` : '';
    return [`  --${name}${placeholder}`, `${spec.description}${fallback}`];
  });
  entries.push(['  --help', 'Show this help']);
  const width = Math.max(...entries.map(([left]) => left.length)) + 2;
  for (const [left, right] of entries) lines.push(left.padEnd(width) + right);
  return lines.join('\n');
}
