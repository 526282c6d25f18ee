// One `npm run build` for every test file that needs the built package (package.test.ts, cli*.test.ts,
// mcp.test.ts), however many of them run and in however many worker processes: the first to ask builds, under a
// lock, and the others wait for it. A build is kept while the sources are unchanged (a later run reuses it):
// the stamp records a hash of what the build reads and a fingerprint of what it wrote, and any change to either
// (an edited source, a dist/ rebuilt or touched by hand) means a new build.
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
    let holder: number | undefined;
    try {
      holder = Number(readFileSync(join(LOCK, "pid"), "utf8"));
    } catch {
      return false; // taken a moment ago: its holder is writing its pid
    }
    if (alive(holder)) return false;
    rmSync(LOCK, { recursive: true, force: true });
    return tryLock();
  }
  writeFileSync(join(LOCK, "pid"), String(process.pid));
  return true;
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

let built: Promise<string> | undefined;

/**
 * The package built by `npm run build` into dist/ from the sources as they are now, built at most once however
 * many files and processes ask. Resolves to dist/'s path.
 */
export function buildOnce(): Promise<string> {
  return (built ??= (async () => {
    const sources = sourcesHash();
    for (;;) {
      if (upToDate(sources)) return DIST;
      if (tryLock()) {
        try {
          if (!upToDate(sources)) {
            rmSync(STAMP, { force: true });
            await npmRunBuild();
            writeFileSync(STAMP, JSON.stringify({ sources, dist: distFingerprint() }));
          }
          return DIST;
        } finally {
          rmSync(LOCK, { recursive: true, force: true });
        }
      }
      await new Promise((r) => setTimeout(r, 250));
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
