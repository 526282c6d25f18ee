import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  // p-queue is ESM-only: an external p-queue breaks the CJS build (`default is not a constructor`), so it is
  // bundled there (DESIGN §9). The ESM build keeps it external.
  esbuildOptions(options, { format }) {
    if (format === "cjs") options.mainFields = ["module", "main"];
  },
  noExternal: [],
});
