import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Issue 13: pipelines, sweeps and namespaces take the few members of the core they use (a named
// `Pick<Core, …>` each), never the whole Core, so that each signature says what it needs. Only the Spectron
// class, which builds the core and wires it, holds it whole.

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("core deps", () => {
  it("no parameter, field or map under src/ but the Spectron class's is typed the whole Core", () => {
    // `: Core` or `<Core…` once the `Pick<Core, …>` types are taken out.
    const whole = /:\s*Core\b|<Core\b/;
    const offenders = sources(SRC)
      .filter((f) => !["spectron.ts", "core.ts"].includes(relative(SRC, f)))
      .flatMap((f) =>
        readFileSync(f, "utf8")
          .split("\n")
          .flatMap((line, n) => (whole.test(line.replace(/Pick<Core,/g, "")) ? [`${relative(SRC, f)}:${n + 1}: ${line.trim()}`] : [])),
      );
    expect(offenders).toEqual([]);
  });
});
