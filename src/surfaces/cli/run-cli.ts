import { CommanderError } from "commander";
import { SpectronError } from "../../errors.js";
import { causeOf } from "./ingest-command.js";
import { createProgram } from "./program.js";
import { EXIT, exitCodeOf } from "./exit-codes.js";
import type { Io } from "./cli-context.js";

/**
 * Runs the CLI and resolves to its exit code. Errors print the SpectronError's message (never a stack unless
 * `--debug`); with `--json`, also one JSON line `{"error": {code, name, message}}` on stderr.
 */
export async function runCli(argv: readonly string[], io: Io, env: Record<string, string | undefined>): Promise<number> {
  const program = createProgram(io, env).exitOverride();
  const debug = argv.includes("--debug");
  const json = argv.includes("--json");
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are exit 0; a usage error (unknown option, missing argument, bad choice) is 1.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const cause = causeOf(error);
    const code = exitCodeOf(cause);
    const message = error instanceof Error ? error.message : String(error);
    io.err.write(`spectron: ${message}\n`);
    if (json) {
      const e = cause instanceof SpectronError ? { code: cause.code, name: cause.name } : { code: "internal", name: "Error" };
      io.err.write(`${JSON.stringify({ error: { ...e, message, exitCode: code } })}\n`);
    }
    if (debug && error instanceof Error) io.err.write(`${error.stack ?? ""}\n${cause instanceof Error && cause !== error ? (cause.stack ?? "") : ""}\n`);
    else if (code === EXIT.internal) io.err.write("(an internal error: run again with --debug for the stack trace)\n");
    return code;
  }
}
