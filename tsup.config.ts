import { defineConfig, type Options } from "tsup";
import { readFileSync } from "node:fs";

// Entry points of their own for what imports an optional peer dependency, so that the main entry loads without
// it: `spectron/ai-sdk` (only it imports `ai`) and `spectron/postgres` (only it imports `pg`); and for the MCP
// server, `spectron/mcp`, so that the main entry does not load the MCP SDK.
const entries = { index: "src/index.ts", "ai-sdk": "src/integrations/ai-sdk/index.ts", postgres: "src/postgres.ts", mcp: "src/mcp.ts" };
const shared: Options = { entry: entries, sourcemap: true, target: "node20", external: ["ai", "pg"] };

const version = (JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string }).version;

/**
 * The `spectron` executable (package.json `bin`): ESM only, no declarations. src/surfaces/cli/main.ts starts with
 * its `#!/usr/bin/env node` line, which esbuild keeps.
 */
export const cliOptions: Options = {
  entry: { cli: "src/surfaces/cli/main.ts" },
  format: ["esm"],
  sourcemap: true,
  target: "node20",
  dts: false,
  define: { __SPECTRON_VERSION__: JSON.stringify(version) },
};

export default defineConfig([
  // The declarations are built once (the slow part of a build) and serve both formats: `npm run build` copies
  // index.d.ts to index.d.cts. They import no module of either format (test/package.test.ts).
  // Each entry's declarations on their own (no shared chunk: a declaration file imports no module, see above).
  { ...shared, format: ["esm"], clean: true, dts: false },
  { ...shared, entry: { index: entries.index }, format: ["esm"], dts: { only: true } },
  { ...shared, entry: { "ai-sdk": entries["ai-sdk"] }, format: ["esm"], dts: { only: true } },
  { ...shared, entry: { postgres: entries.postgres }, format: ["esm"], dts: { only: true } },
  { ...shared, entry: { mcp: entries.mcp }, format: ["esm"], dts: { only: true } },
  // p-queue is ESM-only: required from CJS it breaks (`default is not a constructor`), so the CJS build
  // bundles it (DESIGN §9). The ESM build keeps it an ordinary dependency.
  { ...shared, format: ["cjs"], noExternal: ["p-queue", "eventemitter3"] },
  cliOptions,
]);
