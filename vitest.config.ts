import { defineConfig } from "vitest/config";
import { sdkOnPostgresProjects } from "./vitest.postgres.config.js";

// The SDK suite also runs on PostgreSQL (vitest.postgres.config.ts) when a server is reachable. On PGlite with
// pgvector it runs only when asked (SPECTRON_TEST_PGLITE_SDK=1, `npm run test:pglite`): PGlite runs the server in
// WebAssembly, one session at a time, and the SDK suite on it takes tens of minutes; the store contract suite runs
// on PGlite+pgvector in every `npm test` (test/postgres/store-contract.test.ts).
const onPostgres = process.env.SPECTRON_TEST_POSTGRES_URL !== undefined;
const onPglite = process.env.SPECTRON_TEST_PGLITE_SDK === "1";
if (!onPostgres) {
  console.warn("[sdk-on-postgres] skipped: SPECTRON_TEST_POSTGRES_URL is not set (`bash .ci/run` starts a server and sets it).");
}

export default defineConfig({
  test: {
    projects: [
      { test: { name: "sqlite", include: ["test/**/*.test.ts"], testTimeout: 30_000, pool: "forks" } },
      ...sdkOnPostgresProjects().filter((p) => (p.test?.name === "sdk-on-postgres" ? onPostgres : onPglite)),
    ],
  },
});
