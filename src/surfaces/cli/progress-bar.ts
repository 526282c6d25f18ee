import type { Progress } from "../../config/progress.js";

const WIDTH = 30;

/**
 * A one-line progress bar on stderr (never stdout: stdout holds the command's data). Redrawn in place with a
 * carriage return; `finish()` ends the line.
 */
export class ProgressBar {
  private drawn = false;
  constructor(private readonly err: NodeJS.WritableStream) {}

  update({ phase, done, total }: Progress): void {
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * WIDTH);
    this.err.write(`\r${phase.padEnd(8)} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${done}/${total} ${String(Math.round(ratio * 100)).padStart(3)}%`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.err.write("\n");
    this.drawn = false;
  }
}
