import { defineConfig, type Options } from "tsup";

// Entry points of their own for what imports an optional peer dependency, so that the main entry loads without
// it: `spectron/ai-sdk` (only it imports `ai`) and `spectron/postgres` (only it imports `pg`).
const shared: Options = {
  entry: { index: "src/index.ts", "ai-sdk": "src/integrations/ai-sdk/index.ts", postgres: "src/postgres.ts" },
  sourcemap: true,
  target: "node20",
  dts: true,
  external: ["ai", "pg"],
};

export default defineConfig([
  { ...shared, format: ["esm"], clean: true },
  // p-queue is ESM-only: required from CJS it breaks (`default is not a constructor`), so the CJS build
  // bundles it (DESIGN §9). The ESM build keeps it an ordinary dependency.
  { ...shared, format: ["cjs"], noExternal: ["p-queue", "eventemitter3"] },
]);
