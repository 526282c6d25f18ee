import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

/** Every module import (value or type) of a source file: relative ones resolved to files, packages by name. */
function importsOf(file: string): { local: string[]; packages: string[] } {
  // Comments hold examples (`import { openai } from "@ai-sdk/openai"`) that are not imports.
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const local: string[] = [];
  const packages: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)/g)) {
    const spec = (m[1] ?? m[2])!;
    if (spec.startsWith(".")) local.push(join(dirname(file), spec.replace(/\.js$/, ".ts")));
    else packages.push(spec);
  }
  return { local, packages };
}

function reachable(entry: string): Map<string, { local: string[]; packages: string[] }> {
  const seen = new Map<string, { local: string[]; packages: string[] }>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    const imports = importsOf(file);
    seen.set(file, imports);
    stack.push(...imports.local);
  }
  return seen;
}

describe("module graph", () => {
  it("the main entry never imports `ai` or `@ai-sdk/*` (an optional peer dependency, used by spectron/ai-sdk only)", () => {
    const graph = reachable(join(SRC, "index.ts"));
    expect(graph.size).toBeGreaterThan(20);
    const offenders = [...graph].filter(([, i]) => i.packages.some((p) => p === "ai" || p.startsWith("ai/") || p.startsWith("@ai-sdk/")));
    expect(offenders.map(([f]) => f)).toEqual([]);
    const sdk = reachable(join(SRC, "integrations/ai-sdk/index.ts"));
    expect([...sdk.values()].some((i) => i.packages.includes("ai"))).toBe(true);
  });

  it("the main entry never loads the MCP SDK; `spectron/mcp` (src/mcp.ts) does, and serves createMcpServer", async () => {
    const graph = reachable(join(SRC, "index.ts"));
    const offenders = [...graph].filter(([, i]) => i.packages.some((p) => p.startsWith("@modelcontextprotocol/")));
    expect(offenders.map(([f]) => f)).toEqual([]);
    const mcp = reachable(join(SRC, "mcp.ts"));
    expect([...mcp.values()].some((i) => i.packages.some((p) => p.startsWith("@modelcontextprotocol/sdk")))).toBe(true);
    expect(Object.keys(await import("../src/mcp.js")).sort()).toEqual(["createMcpServer"]);
  });

  it("no import cycle runs through src/models", () => {
    const graph = reachable(join(SRC, "index.ts"));
    const models = [...graph.keys()].filter((f) => f.startsWith(join(SRC, "models")));
    const cycles: string[] = [];
    for (const start of models) {
      // Depth-first search from `start` for a path back to it through models/ files.
      const stack: [string, string[]][] = graph.get(start)!.local.map((n) => [n, [start, n]]);
      const visited = new Set<string>();
      while (stack.length > 0) {
        const [node, path] = stack.pop()!;
        if (node === start) {
          cycles.push(path.map((p) => p.slice(SRC.length + 1)).join(" -> "));
          break;
        }
        if (visited.has(node) || !node.startsWith(join(SRC, "models"))) continue;
        visited.add(node);
        for (const next of graph.get(node)?.local ?? []) stack.push([next, [...path, next]]);
      }
    }
    expect(cycles).toEqual([]);
  });
});
