/** What a run directory holds, and the one line for a file a run could not write. */

/** Files whose presence marks a directory as holding a run. */
export const RUN_FILES = ['checkpoint.json', 'checkpoint.safetensors', 'model.json', 'model.safetensors', 'config.json', 'metrics.jsonl'] as const;

/** The one line for a file the run could not write: the file, the errno and what it means. */
export function describeWriteError(error: unknown): string {
  const { code, path } = error as NodeJS.ErrnoException;
  const meaning: Record<string, string> = {
    ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EACCES: 'permission denied', EPERM: 'operation not permitted',
    EROFS: 'read-only file system', EIO: 'input/output error', ENOTDIR: 'a file is in the way of a directory', EISDIR: 'a directory is in the way',
    ENOENT: 'the directory is gone', EMFILE: 'too many open files',
  };
  const what = code === undefined ? (error as Error).message : `${code}${Object.hasOwn(meaning, code) ? ` (${meaning[code]})` : ''}`;
  return path === undefined ? what : `\`${path}\`: ${what}`;
}
