/**
 * `text` as one word of a POSIX shell command line: as it is when it holds only
 * characters no shell treats specially, else in single quotes (a path with a
 * space or a `$` in it, printed in a command to copy).
 *
 * @example
 * shellWord('runs/a/checkpoint.json'); // runs/a/checkpoint.json
 * shellWord("my runs/it's"); // 'my runs/it'\''s'
 */
export function shellWord(text: string): string {
  if (/^[\w@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", "'\\''")}'`;
}
