/** The streams a command writes to (the process's, or test doubles). */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  /** Progress goes here; a live bar only when it is a terminal. */
  stderr: NodeJS.WriteStream;
}

/**
 * At the command line: a reader of the output that goes away (`gradpool bench | head`)
 * ends the process at once with a shell's SIGPIPE status, 141, instead of an EPIPE
 * stack trace. `train` is left to handle it itself: it stops its run with a checkpoint.
 */
export function endWhenReaderGoes(command: string | undefined): void {
  if (command === 'train') return; // it stops its run first (ignoreLaterErrors)
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(141);
    });
  }
}

const quieted = new WeakSet<NodeJS.WritableStream>();

/**
 * A stream whose reader went away keeps failing each later write, after a
 * command has returned too (a summary, the last progress line), and an 'error'
 * with no listener would end the process with a stack trace: one lasting
 * listener per stream, which ignores them, for a command that handles the
 * first error itself (train stops its run).
 */
export function ignoreLaterErrors(stream: NodeJS.WritableStream): void {
  if (quieted.has(stream)) return;
  quieted.add(stream);
  stream.on('error', () => undefined);
}
