// The package as a user gets it: `npm run build` (the one build the test files share, build-once.ts), `npm pack`,
// the tarball installed into a fresh project, and an ESM file, a CommonJS file and a strict TypeScript file
// (`strict`, `skipLibCheck: false`, `exactOptionalPropertyTypes`) type-checked and run against it
// (fixtures/consumer/).
//
// Installing: the tarball is unpacked into the project's node_modules/spectron and each of its dependencies is
// linked from this repository's node_modules. `npm install --offline <tarball>` would be the user's path, but here
// it is fragile and slow: better-sqlite3 and hnswlib-node are native, and their install scripts either download a
// prebuilt binary (no network in tests) or compile from source (~90 s and a toolchain). The link gives the same
// layout a real install gives (the package's own files, its declared dependencies beside it, no dev dependency:
// no @types/better-sqlite3, so a declaration that named better-sqlite3 would fail with TS7016 as it did).
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOnce } from "./build-once.js";

const ROOT = resolve(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
let dir: string;
let app: string;

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, OPENAI_API_KEY: "", ANTHROPIC_API_KEY: "" } });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${e.stdout ?? ""}\n${e.stderr ?? ""}\n${e.message}`);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "spectron-pack-"));
  await buildOnce();
  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", dir], ROOT)) as { filename: string }[];
  app = join(dir, "app");
  cpSync(join(ROOT, "test/fixtures/consumer"), app, { recursive: true });
  const target = join(app, "node_modules/spectron");
  mkdirSync(target, { recursive: true });
  run("tar", ["-xzf", join(dir, packed!.filename), "-C", target, "--strip-components=1"], dir);
  // What an install puts beside the package: its dependencies, and the consumer's own @types/node.
  for (const name of [...Object.keys(pkg.dependencies), "@types/node"]) {
    const link = join(app, "node_modules", name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(ROOT, "node_modules", name), link, "dir");
  }
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// One build and a cold tsc on a busy 2-core machine: minutes, not seconds.
describe("the packed package in a fresh project", { timeout: 300_000 }, () => {
  it("ships the built files only, with declarations that import nothing but zod (better-sqlite3 and p-queue are never named)", () => {
    const files = run("find", [".", "-type", "f"], join(app, "node_modules/spectron")).split("\n").filter(Boolean).sort();
    expect(files).toEqual(expect.arrayContaining(["./dist/index.js", "./dist/index.cjs", "./dist/index.d.ts", "./dist/index.d.cts", "./package.json"]));
    expect(files.filter((f) => f.startsWith("./src/") || f.startsWith("./test/"))).toEqual([]);
    // Every declaration file shipped (the entries and the chunks of types they share) imports only its own
    // package's files and dependencies that ship their own types: zod (the LanguageModel interface's prompt
    // schema) and hono (the REST server's `app`). Never a dev dependency's types.
    const declarations = files.filter((f) => /\.d\.c?ts$/.test(f) && !f.includes("/postgres.") && !f.includes("/ai-sdk."));
    expect(declarations).toEqual(expect.arrayContaining(["./dist/index.d.ts", "./dist/index.d.cts", "./dist/mcp.d.ts", "./dist/mcp.d.cts"]));
    for (const file of declarations) {
      const dts = readFileSync(join(app, "node_modules/spectron", file), "utf8");
      const imports = [...dts.matchAll(/^import .* from ['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
      // spectron/mcp's: the MCP SDK's McpServer too (a dependency, with its own types).
      const mcpSdk = (m: string) => file.includes("/mcp.") && m.startsWith("@modelcontextprotocol/sdk/");
      expect(imports.filter((m) => !m.startsWith("./") && m !== "zod" && m !== "hono" && !m.startsWith("hono/") && !mcpSdk(m)), file).toEqual([]);
      expect(dts, file).not.toMatch(/better-sqlite3|p-queue|declare class Core\b|declare class Access\b|Schema: z\./);
    }
    expect(existsSync(join(app, "node_modules/@types/better-sqlite3"))).toBe(false);
  });

  it("type-checks an ESM file, a CommonJS file and a strict TypeScript file with skipLibCheck off", () => {
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    // Emits out/ (the compiled strict.ts) as well; errors fail the call with tsc's own report. The fixture's lib
    // includes DOM: the MCP SDK's own declarations (which spectron/mcp's name) use DOM's HeadersInit.
    run(process.execPath, [tsc, "-p", "tsconfig.json"], app);
  });

  it("runs the ESM file", () => {
    const out = JSON.parse(run(process.execPath, ["esm.mjs"], app)) as Record<string, unknown>;
    expect(out).toMatchObject({ format: "esm", records: 1, error: "validation" });
    expect(String(out.answer)).toContain("Initech");
  });

  it("runs the CommonJS file (p-queue, ESM-only, is bundled into the CJS build)", () => {
    const out = JSON.parse(run(process.execPath, ["cjs.cjs"], app)) as Record<string, unknown>;
    expect(out).toMatchObject({ format: "cjs", records: 1, error: "validation", mcp: [true, "validation"] });
    expect(String(out.answer)).toContain("Initech");
  });

  it("runs the compiled strict TypeScript file: batch ingest, update, across, typed traces, denial, messages, spectron/mcp over the main entry's Spectron", () => {
    const out = JSON.parse(run(process.execPath, ["out/strict.js"], app)) as Record<string, unknown>;
    expect(out).toMatchObject({
      records: 1,
      batch: 2,
      tier: 3,
      edited: "User is on the Enterprise plan.",
      outcomes: ["created"],
      visible: 4,
      across: 5,
      denied: true,
      invalid: "Invalid `options.limit`: expected an integer ≥ 1, received -1.",
      mcp: { tools: ["forget", "inspect_trace", "recall", "reflect", "remember", "search"], search: true, error: [true, "validation"] },
    });
  });
});
