import { spawn } from "node:child_process";
import { join } from "node:path";
import { build } from "tsup";
import { cliOptions } from "../tsup.config.js";

const ROOT = join(import.meta.dirname, "..");

/**
 * Builds the `spectron` executable with the same tsup options as `npm run build` (tsup.config.ts), into its own
 * folder under dist/ (so that test files building in parallel do not race, and `node_modules` resolves as it
 * does for dist/cli.js). Returns the path of the built bin.
 */
export async function buildCli(name: string): Promise<string> {
  const outDir = join(ROOT, "dist", `test-${name}`);
  await build({ ...cliOptions, outDir, silent: true, config: false, sourcemap: false });
  return join(outDir, "cli.js");
}

/** The environment of a child: no provider keys (local models only), no SPECTRON_* defaults from the shell. */
export function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "SPECTRON_DB", "SPECTRON_CONTEXT"]) delete env[key];
  return env;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built bin as a child process, with `stdin` written and closed. */
export function runBin(bin: string, args: string[], { stdin, cwd }: { stdin?: string; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: childEnv(), cwd: cwd ?? ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}
