// The README is true: every ```ts / ```js block in it is type-checked (strict, against src/) and run (offline, in a
// temp directory, with no provider key in the environment), except a block marked on the line before its fence
//
//   <!-- readme-test: typecheck-only (why it cannot run here) -->
//
// which is type-checked only (it needs a key or a server the test does not start). The README's contributing
// notes describe the marker. The Quick start's commands are checked, and the offline demo is run with junk keys
// and base URLs pointing at a closed port: it must succeed without a network.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

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

/** `spectron` and `spectron/<subpath>` resolved to the sources (the tarball's build is package.test.ts's job). */
function sourceOf(specifier: string): string {
  if (specifier === "spectron") return join(ROOT, "src/index.js");
  const sub = specifier.slice("spectron/".length);
  for (const candidate of [`src/${sub}.ts`, `src/${sub}/index.ts`, `src/integrations/${sub}.ts`, `src/integrations/${sub}/index.ts`, `src/store/${sub}/index.ts`]) {
    if (existsSync(join(ROOT, candidate))) return join(ROOT, candidate.replace(/\.ts$/, ".js"));
  }
  throw new Error(`README imports ${specifier}: no source for it (add its path to sourceOf in test/readme.test.ts)`);
}

const OFFLINE_ENV = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (/^(OPENAI|ANTHROPIC)_/.test(key)) delete env[key];
  return env;
};

const blocks = readmeBlocks(README);
let dir: string;
const files = new Map<number, string>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "spectron-readme-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  // Packages a block imports besides spectron (`ai`, `ai/test`) resolve from the repository's node_modules.
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  for (const b of blocks) {
    const code = b.code.replace(/(from\s+|import\s*\(\s*)(["'])(spectron(?:\/[\w./-]+)?)\2/g, (_m, pre: string, q: string, spec: string) => `${pre}${q}${sourceOf(spec)}${q}`);
    // Each block is a module of its own (top-level await, its own names).
    const file = join(dir, `block-${b.line}.${b.lang.startsWith("j") || b.lang === "mjs" ? "mjs" : "ts"}`);
    writeFileSync(file, `${code}\nexport {};\n`);
    files.set(b.line, file);
  }
});

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

  it("type-checks every block (strict) against the sources", { timeout: 300_000 }, async () => {
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
      files: [...files.values()],
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    mkdirSync(join(dir, "node_modules"), { recursive: true });
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
        await exec(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), files.get(b.line)!], { cwd, env: OFFLINE_ENV(), timeout: 110_000 });
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
