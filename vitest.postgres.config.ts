/**
 * The SDK suite run on PostgreSQL: the SDK-level test files, with every `new Spectron` on `:memory:` (or with no
 * `path`) given a fresh PostgreSQL database through the `store` option (test/sdk-postgres/spectron.ts, aliased in
 * place of `../src/index.js`), once on the server at SPECTRON_TEST_POSTGRES_URL (hnswlib vectors: Debian's server
 * has no pgvector) and once on PGlite with pgvector. `npm test` runs both when the URL is set (vitest.config.ts);
 * alone: `npx vitest run --config vitest.postgres.config.ts`.
 *
 * Files left out, and why:
 * - about the SQLite file itself: lifecycle-of-instance (WAL, migrations table, Contexts in one file),
 *   multiproc (processes on one file, busy timeouts), storage-errors (SQLite disk errors), ann and vector-index
 *   (hnswlib sidecar files), survive (crashes mid-write on a file), stampede (one file's writer), resume (a file
 *   reopened after a crash);
 * - not about an instance's store: package, cli, cli-serve, readme, import-cycles, module-graph, public-types,
 *   scheduler, providers, local-provider, models-any, error-messages, contract and the postgres suites (they
 *   run on PostgreSQL themselves), store-option (opens PostgreSQL itself), mcp (spawns the CLI, which opens a
 *   SQLite file only; rest-mcp-mount runs the same MCP tools in process, and is in the list).
 * Instances these files open on a file path (tempDir) stay on SQLite: those tests are about the file.
 */
import { fileURLToPath } from "node:url";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

export const SDK_ON_POSTGRES_FILES = [
  "access-property", "access-traces-ids", "access", "ai-sdk", "answers", "background-budget", "cache-property", "chat",
  "config", "consolidate", "elaborate", "extraction-behaviours", "fuzz", "hostile-input", "ingest-batch-provider",
  "ingest", "knowledge", "lifecycle", "mem0-parity", "passages", "progress", "providers-spectron", "recall",
  "reflect", "reindex-twice", "rest-mcp-mount", "rest", "scope-values", "secrets-inspect", "tier2-near-miss", "validation",
].map((name) => `test/${name}.test.ts`);

const wrapper = fileURLToPath(new URL("./test/sdk-postgres/spectron.ts", import.meta.url));

export function sdkOnPostgresProjects(): TestProjectInlineConfiguration[] {
  return (["postgres", "pglite-pgvector"] as const).map((engine) => ({
    resolve: { alias: [{ find: /^\.\.\/src\/index\.js$/, replacement: wrapper }] },
    test: {
      name: `sdk-on-${engine}`,
      include: SDK_ON_POSTGRES_FILES,
      env: { SPECTRON_SDK_ENGINE: engine },
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: "forks",
    },
  }));
}

export default defineConfig({
  test: {
    projects: process.env.SPECTRON_TEST_POSTGRES_URL ? sdkOnPostgresProjects() : [],
  },
});
