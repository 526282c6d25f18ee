// A progress indicator on stderr, so that stdout carries only the tables. On a terminal it redraws one line;
// otherwise (CI logs, pipes) it prints a line at most every few seconds so that logs stay short.

const BAR = 24;

export class Progress {
  private readonly tty = !!process.stderr.isTTY;
  private lastPrint = 0;
  private readonly started = performance.now();
  private lastLine = "";

  constructor(private readonly label: string, private total: number) {}

  /** Reports `done` of `total`, with an optional note (e.g. a rate). Cheap enough to call in hot loops. */
  tick(done: number, note = ""): void {
    const now = performance.now();
    const finished = done >= this.total;
    if (!finished && now - this.lastPrint < (this.tty ? 100 : 5000)) return;
    this.lastPrint = now;
    const share = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(share * BAR);
    const secs = ((now - this.started) / 1000).toFixed(0);
    const line = `${this.label} [${"#".repeat(filled)}${".".repeat(BAR - filled)}] ${done}/${this.total} ${secs}s ${note}`.trimEnd();
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${line}`);
    } else if (line !== this.lastLine) {
      process.stderr.write(`${line}\n`);
    }
    this.lastLine = line;
  }

  setTotal(total: number): void {
    this.total = total;
  }

  /** Ends the line with a closing note. */
  done(note = ""): void {
    const secs = ((performance.now() - this.started) / 1000).toFixed(1);
    const line = `${this.label} done in ${secs}s ${note}`.trimEnd();
    process.stderr.write(this.tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  }
}

/** A one-off status line on stderr (section starts, skips). */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}
