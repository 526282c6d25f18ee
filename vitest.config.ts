import { defineConfig } from "vitest/config";
import { sdkOnPostgresProjects } from "./vitest.postgres.config.js";

// The SDK suite also runs on PostgreSQL (vitest.postgres.config.ts) when a server is reachable.
const onPostgres = process.env.SPECTRON_TEST_POSTGRES_URL !== undefined;
if (!onPostgres) {
  console.warn("[sdk-on-postgres] skipped: SPECTRON_TEST_POSTGRES_URL is not set (`bash .ci/run` starts a server and sets it).");
}

export default defineConfig({
  test: {
    projects: [
      { test: { name: "sqlite", include: ["test/**/*.test.ts"], testTimeout: 30_000, pool: "forks" } },
      ...(onPostgres ? sdkOnPostgresProjects() : []),
    ],
  },
});
