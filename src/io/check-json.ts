/**
 * Parsed JSON files (checkpoints, run configurations) checked against a zod
 * schema, with a message that names the file and the field: a schema's
 * `error` texts say what a field should be ("an integer from 0 and up"), and
 * the message quotes what the file holds there.
 */
import type { z } from 'zod';
import { InputError } from '../errors.js';

/** A short JSON rendering of a value for a message: `nothing` when absent. */
export function brief(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return `\`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\``;
}

/** `a.b[2].c` for the path `['a', 'b', 2, 'c']`. */
export function fieldName(path: ReadonlyArray<PropertyKey>): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/**
 * `value` as `schema` reads it, or an {@link InputError}
 * ``Invalid <what> `<file>`: expected "<field>" to be <…>, got <…>`` for its
 * first defect.
 */
export function checkJson<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string, file: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const field = fieldName(issue.path);
  if (issue.code === 'unrecognized_keys') {
    // A misspelt field would otherwise be dropped and its default used in its place.
    throw new InputError(`Invalid ${what} \`${file}\`: expected ${field === '' ? 'only' : `"${field}" to hold only`} known fields, got the unknown field "${issue.keys[0]}"`);
  }
  const subject = field === '' ? '' : `"${field}" to be `;
  throw new InputError(`Invalid ${what} \`${file}\`: expected ${subject}${issue.message}, got ${brief(valueAt(value, issue.path))}`);
}
