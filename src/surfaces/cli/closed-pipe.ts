/**
 * Makes a reader that closes the pipe early (`spectron --help | head -1`, `spectron export | head`) no error.
 * Node ignores SIGPIPE and reports the closed pipe as an `EPIPE` error event on the stream, which, with no
 * listener, ends the process with a stack trace and exit 1. Here it is heard and dropped: the stream is destroyed
 * by it, so what the command writes afterwards goes nowhere, and the command ends as it would have (a sweep or
 * an import still finishes and closes the file) with its own exit code. Any other error on the stream is thrown
 * as before.
 */
export function ignoreClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

/** Rethrows `error` unless it is a closed pipe's (for a write that waits on `drain`). */
export function unlessClosedPipe(error: unknown): void {
  if ((error as NodeJS.ErrnoException | null)?.code !== "EPIPE") throw error;
}
