/**
 * Bad input from outside the program (a file, a command-line option) that is not
 * a programming error: the CLI prints its one-line message and exits with 2, as it
 * does for the TypeError/RangeError of argument validation.
 */
export class InputError extends Error {
  override name = 'InputError';
}
