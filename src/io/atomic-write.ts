/**
 * Atomic file replacement: the data goes to a temporary file in the target's
 * directory (`.name.<pid>.<random>.tmp`), is flushed to disk, and is renamed over
 * the target. Readers see either the old file or the complete new one, never a
 * half-written file; on failure the temporary file is removed and the target is
 * untouched.
 */
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ArgumentTypeError } from '../errors.js';
import { expectationError } from '../validate.js';
import { faultPoint } from './fault-points.js';

/** The temporary file a write of `path` goes through, in the same directory (so the rename stays on one file system). */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function checkArguments(path: unknown, data: unknown): void {
  if (typeof path !== 'string' || path === '') throw new ArgumentTypeError(expectationError('path', 'a non-empty string', path));
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new ArgumentTypeError(expectationError('data', 'a string or a Uint8Array', data));
}

/** Makes the rename itself durable; directories cannot be opened for fsync on every platform (Windows), so this is best effort. */
export async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not supported here; the data itself was already flushed.
  }
}

/** Temporary files of atomic writes: `.name.<pid>.<12 hex digits>.tmp`. */
export const TEMPORARY_FILE = /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/;

/**
 * Writes `data` (a string is written as UTF-8) to `path` atomically. `step`
 * names the write for crash-point tests (src/io/fault-points.ts): its steps are
 * `<step>-write`, `<step>-fsync`, `<step>-rename` and `<step>-directory-fsync`.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, step = 'file'): Promise<void> {
  checkArguments(path, data);
  const temporary = temporaryPathFor(path);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temporary, 'wx');
    faultPoint(`${step}-write`, temporary);
    await handle.writeFile(data);
    faultPoint(`${step}-fsync`, temporary);
    await handle.sync();
    await handle.close();
    handle = undefined;
    faultPoint(`${step}-rename`, path);
    await rename(temporary, path);
  } catch (error) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  faultPoint(`${step}-directory-fsync`, dirname(path));
  await syncDirectory(dirname(path));
}

/** Removes the temporary files that writes killed midway left in `directory`; returns their names. */
export async function removeTemporaryFiles(directory: string): Promise<string[]> {
  const names = (await readdir(directory).catch(() => [] as string[])).filter((name) => TEMPORARY_FILE.test(name));
  for (const name of names) await unlink(join(directory, name)).catch(() => undefined);
  return names;
}
