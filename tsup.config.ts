import { defineConfig, type Options } from "tsup";

// Two entry points: the SDK, and `spectron/postgres` (the only one that imports `pg`, an optional peer dependency).
const shared: Options = { entry: { index: "src/index.ts", postgres: "src/postgres.ts" }, sourcemap: true, target: "node20", dts: true };

export default defineConfig([
  { ...shared, format: ["esm"], clean: true },
  // p-queue is ESM-only: required from CJS it breaks (`default is not a constructor`), so the CJS build
  // bundles it (DESIGN §9). The ESM build keeps it an ordinary dependency.
  { ...shared, format: ["cjs"], noExternal: ["p-queue", "eventemitter3"] },
]);
