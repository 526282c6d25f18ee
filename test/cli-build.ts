import { spawn } from "node:child_process";
import { join } from "node:path";
export { builtBin } from "./build-once.js";

const ROOT = join(import.meta.dirname, "..");

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

/**
 * Runs the built bin with its stdout a pipe whose reader has already gone (as `spectron --help | head -1` once
 * head has read its line): the child waits, in `sh`, until the parent has closed its end of the pipe, and only
 * then starts the bin, so that the bin's first write meets the closed pipe every time. Resolves with its exit
 * code and stderr.
 */
export function runBinIntoClosedPipe(bin: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const script = 'read _go; exec "$0" "$@"';
    const child = spawn("sh", ["-c", script, process.execPath, bin, ...args], { env: childEnv(), cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
    child.stdout.on("close", () => child.stdin.end("go\n"));
    child.stdout.destroy();
  });
}
