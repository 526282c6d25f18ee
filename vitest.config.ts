import { defineConfig } from "vitest/config";
import { sdkOnPostgresProjects } from "./vitest.postgres.config.js";

// The SDK suite also runs on PostgreSQL (vitest.postgres.config.ts): on the server at SPECTRON_TEST_POSTGRES_URL when
// it is set (`bash .ci/run` starts one), and on PGlite with pgvector always, the files of SDK_ON_PGLITE_FILES
// (all of them with SPECTRON_TEST_PGLITE_SDK=1, `npm run test:pglite`). The store contract suite runs on PGlite+pgvector
// and on the server too (test/postgres/store-contract.test.ts).
const onPostgres = process.env.SPECTRON_TEST_POSTGRES_URL !== undefined;
if (!onPostgres) {
  console.warn("[sdk-on-postgres] skipped: SPECTRON_TEST_POSTGRES_URL is not set (`bash .ci/run` starts a server and sets it).");
}

export default defineConfig({
  test: {
    // Two test files at a time (vitest's default on 2 cores is one): much of a file's time is spent waiting (child
    // processes, the PostgreSQL server, real timers, the build), not computing.
    maxWorkers: 2,
    projects: [
      { test: { name: "sqlite", include: ["test/**/*.test.ts"], testTimeout: 30_000, pool: "forks" } },
      ...sdkOnPostgresProjects().filter((p) => p.test?.name !== "sdk-on-postgres" || onPostgres),
    ],
  },
});
