// The README is true: every ```ts / ```js block in it is type-checked (strict) and run (offline, in a temp directory,
// with no provider key in the environment), except a block marked on the line before its fence
//
//   <!-- readme-test: typecheck-only (why it cannot run here) -->
//
// which is type-checked only (it needs a key or a server the test does not start). A block imports `spectron` as a
// reader's project does: through package.json's `exports`, from the package `npm run build` makes of the sources as
// they are now (build-once.ts, the build the package, CLI and MCP tests share), its declarations for the
// type-check and its modules for the run. The README's contributing notes describe the marker. The Quick start's
// commands are checked, and the offline demo is run with junk keys and base URLs pointing at a closed port: it
// must succeed without a network.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import typescript from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOnce } from "./build-once.js";

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const MARKER = /^<!-- readme-test: typecheck-only \((.+)\) -->$/;

interface Block {
  line: number;
  lang: string;
  code: string;
  /** Why the block is only type-checked, or undefined when it is run. */
  typecheckOnly: string | undefined;
}

/** Every fenced ts/js block, with the marker on the non-blank line before its fence, if any. */
export function readmeBlocks(text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!fence) {
      if (MARKER.test(lines[i]!.trim())) {
        let k = i + 1;
        while (k < lines.length && lines[k]!.trim() === "") k++;
        if (!/^```(ts|typescript|js|javascript|mjs)\s*$/.test(lines[k] ?? "")) throw new Error(`README.md:${i + 1}: a readme-test marker that no ts/js block follows`);
      }
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`README.md:${i + 1}: unclosed code fence`);
    const lang = fence[1]!;
    if (["ts", "typescript", "js", "javascript", "mjs"].includes(lang)) {
      let k = i - 1;
      while (k >= 0 && lines[k]!.trim() === "") k--;
      const marker = k >= 0 ? MARKER.exec(lines[k]!.trim()) : null;
      blocks.push({ line: i + 1, lang, code: lines.slice(i + 1, end).join("\n"), typecheckOnly: marker?.[1] });
    }
    i = end;
  }
  return blocks;
}

const OFFLINE_ENV = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (/^(OPENAI|ANTHROPIC)_/.test(key)) delete env[key];
  return env;
};

const blocks = readmeBlocks(README);
let dir: string;
/** The block as written (type-checked), and the module run for it: itself, or for a ts block its JavaScript. */
const files = new Map<number, { source: string; run: string }>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "spectron-readme-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  // The reader's node_modules: `spectron` is this repository (its package.json `exports` name dist/), and the
  // packages a block imports besides it (`ai`, `ai/test`, the MCP SDK) are the repository's own.
  const modules = join(dir, "node_modules");
  mkdirSync(modules);
  for (const name of readdirSync(join(ROOT, "node_modules"))) symlinkSync(join(ROOT, "node_modules", name), join(modules, name));
  symlinkSync(ROOT, join(modules, "spectron"), "dir");
  await buildOnce();
  for (const b of blocks) {
    // Each block is a module of its own (top-level await, its own names).
    const ts = !(b.lang.startsWith("j") || b.lang === "mjs");
    const source = join(dir, `block-${b.line}.${ts ? "ts" : "mjs"}`);
    const code = `${b.code}\nexport {};\n`;
    writeFileSync(source, code);
    const run = ts ? join(dir, `block-${b.line}.run.mjs`) : source;
    // Types erased as tsx would (one file, no type information), with a source map back to the block.
    if (ts) writeFileSync(run, typescript.transpileModule(code, { fileName: source, compilerOptions: { module: typescript.ModuleKind.ESNext, target: typescript.ScriptTarget.ES2022, inlineSourceMap: true, inlineSources: true } }).outputText);
    files.set(b.line, { source, run });
  }
}, 600_000); // the one `npm run build` the test files share, when the sources changed since the last build

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The blocks and the type-check are child processes, independent of each other: they run side by side.
describe.concurrent("README.md", () => {
  it("has code blocks, and only a few are type-checked instead of run, each with its reason", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const skipped = blocks.filter((b) => b.typecheckOnly !== undefined);
    for (const b of skipped) expect(b.typecheckOnly!.length).toBeGreaterThan(10);
    expect(skipped.length).toBeLessThanOrEqual(Math.max(3, Math.floor(blocks.length / 3)));
    // A marker must sit right above a fence (readmeBlocks throws on a stray one, which would mark nothing).
    expect(() => readmeBlocks("<!-- readme-test: typecheck-only (needs a server) -->\n\nText.\n")).toThrow(/no ts\/js block follows/);
  });

  it("type-checks every block (strict) against the package's declarations", { timeout: 300_000 }, async () => {
    const tsconfig = {
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022", "ESNext.Disposable"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        allowJs: true,
        checkJs: false,
        types: ["node"],
        typeRoots: [join(ROOT, "node_modules/@types")],
      },
      files: [...files.values()].map((f) => f.source),
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    try {
      await exec(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")], { cwd: dir });
    } catch (error) {
      const e = error as { stdout?: string };
      throw new Error(`README blocks do not type-check (block-<line> names the README line of the fence):\n${e.stdout}`);
    }
  });

  for (const b of blocks.filter((x) => x.typecheckOnly === undefined)) {
    it(`runs the block at README.md:${b.line}`, { timeout: 120_000 }, async () => {
      const cwd = join(dir, `run-${b.line}`);
      mkdirSync(cwd, { recursive: true });
      try {
        await exec(process.execPath, ["--enable-source-maps", files.get(b.line)!.run], { cwd, env: OFFLINE_ENV(), timeout: 110_000 });
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string; message: string };
        throw new Error(`README.md:${b.line} failed:\n${e.stderr || e.message}`);
      }
    });
  }

  it("names the Quick start's commands right: `npm run demo` and `npm test` exist and say what the README says", () => {
    const quick = README.slice(README.indexOf("## Quick start"), README.indexOf("\n## ", README.indexOf("## Quick start") + 1));
    expect(quick).toContain("npm run demo");
    expect(quick).toContain("npm test");
    const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.demo).toBe("tsx examples/quickstart.ts");
    expect(scripts.test).toMatch(/vitest run/);
    expect(quick).toContain("examples/quickstart.ts");
  });

  it("shows `await using` only with its Node version note", () => {
    if (!README.includes("await using")) return;
    expect(README).toMatch(/`await using` needs Node(\.js)? (≥ ?|)22/);
  });

  it("has the LICENSE that package.json declares", () => {
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    expect((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { license: string }).license).toBe("MIT");
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain("Permission is hereby granted, free of charge");
  });
});

describe("the offline demo", () => {
  it("stays offline whatever keys and base URLs are in the environment (`npm run demo`)", { timeout: 180_000 }, async () => {
    // Port 9 (discard) on loopback: nothing listens; a call would fail with a connection error, not hang.
    const env = {
      ...process.env,
      OPENAI_API_KEY: "sk-junk-0000000000000000",
      ANTHROPIC_API_KEY: "sk-ant-junk-0000000000",
      OPENAI_BASE_URL: "http://127.0.0.1:9/v1",
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9",
      HTTPS_PROXY: "http://127.0.0.1:9",
      HTTP_PROXY: "http://127.0.0.1:9",
    };
    const { stdout } = await exec("npm", ["run", "--silent", "demo"], { cwd: ROOT, env, timeout: 170_000 });
    expect(stdout).toContain("Enterprise");
    expect(stdout).toMatch(/extraction\s+\d+ calls/);
    expect(stdout).not.toMatch(/gpt-|claude-|ProviderError/);
  });
});
