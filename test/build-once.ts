// One `npm run build` for every test file that needs the built package (readme.test.ts, package.test.ts, cli*.test.ts,
// mcp.test.ts), however many of them run and in however many worker processes: a builder process of its own
// (build-child.ts) takes a lock, builds, writes a stamp and lets go; the test files wait for it. It is a process
// of its own so that a test file that gives up waiting (its hook's timeout) leaves it building for the others
// rather than half done. A build is kept while the sources are unchanged (a later run reuses it): the stamp
// records a hash of what the build reads and a fingerprint of what it wrote, and any change to either (an
// edited source, a dist/ rebuilt or touched by hand) means a new build.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
export const DIST = join(ROOT, "dist");
/** Outside dist/ (npm pack ships all of dist/) and outside node_modules (shared between worktrees). */
const STATE = join(tmpdir(), `spectron-build-${createHash("sha256").update(ROOT).digest("hex").slice(0, 12)}`);
const LOCK = join(STATE, "lock");
const STAMP = join(STATE, "stamp.json");
const FAILED = join(STATE, "failed.json");
/** What `npm run build` reads besides node_modules. */
const INPUTS = ["src", "package.json", "tsup.config.ts", "tsconfig.json"];

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => filesUnder(join(path, e.name)));
}

/** A hash of the build's inputs, by content. */
function sourcesHash(): string {
  const hash = createHash("sha256");
  for (const file of INPUTS.flatMap((p) => filesUnder(join(ROOT, p)))) hash.update(relative(ROOT, file)).update("\0").update(readFileSync(file)).update("\0");
  return hash.digest("hex");
}

/** dist/ as it stands: every file's path, size and modification time. */
function distFingerprint(): string {
  const hash = createHash("sha256");
  for (const file of filesUnder(DIST)) {
    const s = statSync(file);
    hash.update(`${relative(DIST, file)}\0${s.size}\0${s.mtimeMs}\0`);
  }
  return hash.digest("hex");
}

function upToDate(sources: string): boolean {
  if (!existsSync(STAMP)) return false;
  const stamp = JSON.parse(readFileSync(STAMP, "utf8")) as { sources: string; dist: string };
  return stamp.sources === sources && stamp.dist === distFingerprint();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the lock, or returns false while another live process holds it (a dead holder's lock is taken over). */
function tryLock(): boolean {
  mkdirSync(STATE, { recursive: true });
  try {
    mkdirSync(LOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    if (lockHolderAlive()) return false;
    rmSync(LOCK, { recursive: true, force: true });
    return tryLock();
  }
  writeFileSync(join(LOCK, "pid"), String(process.pid));
  return true;
}

/** Whether the lock's holder still runs (a lock taken a moment ago, its pid not written yet, counts as alive). */
function lockHolderAlive(): boolean {
  let holder: number;
  try {
    holder = Number(readFileSync(join(LOCK, "pid"), "utf8"));
  } catch {
    return existsSync(LOCK);
  }
  return alive(holder);
}

function npmRunBuild(): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolvePromise() : reject(new Error(`npm run build exited ${code}:\n${output}`))));
  });
}

/**
 * The builder (build-child.ts runs it): builds unless dist/ is up to date or another builder holds the lock.
 * A failed build writes its output where the waiting test files read it.
 */
export async function buildHere(): Promise<void> {
  if (!tryLock()) return;
  try {
    const sources = sourcesHash();
    if (upToDate(sources)) return;
    rmSync(STAMP, { force: true });
    rmSync(FAILED, { force: true });
    try {
      await npmRunBuild();
    } catch (error) {
      writeFileSync(FAILED, JSON.stringify({ sources, message: (error as Error).message }));
      return;
    }
    writeFileSync(STAMP, JSON.stringify({ sources, dist: distFingerprint() }));
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Runs a builder (build-child.ts), detached: it outlives a test file that stops waiting for it. */
function runBuilder(): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/build-child.ts")], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], detached: true });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolvePromise() : reject(new Error(`the builder (test/build-child.ts) exited ${code}:\n${stderr}`))));
  });
}

let built: Promise<string> | undefined;

/**
 * The package built by `npm run build` into dist/ from the sources as they are now, built at most once however
 * many files and processes ask. Resolves to dist/'s path; rejects with the build's output if it failed.
 */
export function buildOnce(): Promise<string> {
  return (built ??= (async () => {
    const sources = sourcesHash();
    for (;;) {
      if (upToDate(sources)) return DIST;
      if (existsSync(LOCK) && lockHolderAlive()) {
        await new Promise((r) => setTimeout(r, 250)); // another builder is at work
        continue;
      }
      await runBuilder();
      if (upToDate(sources)) return DIST;
      if (existsSync(FAILED)) {
        const failed = JSON.parse(readFileSync(FAILED, "utf8")) as { sources: string; message: string };
        if (failed.sources === sources) throw new Error(failed.message);
      }
      // Ours found the lock taken (another builder started at the same moment): wait for that one.
    }
  })().catch((error: unknown) => {
    built = undefined;
    throw error;
  }));
}

/** The `spectron` executable as `npm run build` writes it (package.json `bin`). */
export async function builtBin(): Promise<string> {
  return join(await buildOnce(), "cli.js");
}
