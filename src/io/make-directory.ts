/**
 * `mkdir -p`, one missing component at a time. Node's own
 * `mkdir(path, { recursive: true })` loops forever when a parent refuses new
 * entries with ENOENT (e.g. anywhere under /proc on Linux), so a bad `--out`
 * would hang the CLI instead of failing.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export async function makeDirectory(path: string): Promise<void> {
  const missing: string[] = [];
  for (let current = resolve(path); ; current = dirname(current)) {
    try {
      if ((await stat(current)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${current}'`), { code: 'ENOTDIR' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(current) === current) throw error;
      missing.push(current);
    }
  }
  for (const directory of missing.reverse()) {
    try {
      await mkdir(directory);
    } catch (error) {
      // Another process may have made it meanwhile (a directory, not a file or a dangling link).
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !(await stat(directory).then((s) => s.isDirectory(), () => false))) throw error;
    }
  }
}
