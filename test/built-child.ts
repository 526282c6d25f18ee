// Child processes of the tests, run with plain node on the package `npm run build` makes (build-once.ts) rather
// than under tsx, whose loader costs ~2.5 s of CPU a process on this machine (a 2-core one: the suite's largest
// cost after the type-checks). A child is written in TypeScript and imports the package's entries only, as
// "../../src/index.js" or "../../src/postgres.js" (`spectron/postgres`); it is compiled to a module whose imports
// name dist/index.js and dist/postgres.js instead. Any other relative import is refused: the child would not be
// testing the package.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import typescript from "typescript";
import { buildOnce } from "./build-once.js";

let dir: string | undefined;
const compiled = new Map<string, string>();

/** The path of `tsFile` compiled to a module that imports the built package; builds it first if needed. */
export async function builtChild(tsFile: string): Promise<string> {
  const dist = await buildOnce();
  const done = compiled.get(tsFile);
  if (done) return done;
  const source = readFileSync(tsFile, "utf8").replace(/(from\s+)(["'])\.\.\/\.\.\/src\/(index|postgres)\.js\2/g, (_m, from: string, q: string, entry: string) => `${from}${q}${pathToFileURL(join(dist, `${entry}.js`)).href}${q}`);
  const js = typescript.transpileModule(source, {
    fileName: tsFile,
    compilerOptions: { module: typescript.ModuleKind.ESNext, target: typescript.ScriptTarget.ES2022, inlineSourceMap: true, inlineSources: true },
  }).outputText;
  const relative = /(?:from\s+|import\s*\(\s*)["'](\.{1,2}\/[^"']*)["']/.exec(js);
  if (relative) throw new Error(`${tsFile} imports ${relative[1]}: a built child imports the package's entries ("../../src/index.js", "../../src/postgres.js") and packages only.`);
  if (dir === undefined) {
    const made = (dir = mkdtempSync(join(tmpdir(), "spectron-child-")));
    process.once("exit", () => rmSync(made, { recursive: true, force: true }));
  }
  const file = join(dir, basename(tsFile).replace(/\.ts$/, ".mjs"));
  writeFileSync(file, js);
  compiled.set(tsFile, file);
  return file;
}
