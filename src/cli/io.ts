/** The streams a command writes to (the process's, or test doubles). */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  /** Progress goes here; a live bar only when it is a terminal. */
  stderr: NodeJS.WriteStream;
}
