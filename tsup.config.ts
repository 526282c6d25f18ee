import { defineConfig, type Options } from "tsup";

const shared: Options = { entry: ["src/index.ts"], sourcemap: true, target: "node20", dts: true };

export default defineConfig([
  { ...shared, format: ["esm"], clean: true },
  // p-queue is ESM-only: required from CJS it breaks (`default is not a constructor`), so the CJS build
  // bundles it (DESIGN §9). The ESM build keeps it an ordinary dependency.
  { ...shared, format: ["cjs"], noExternal: ["p-queue", "eventemitter3"] },
]);
