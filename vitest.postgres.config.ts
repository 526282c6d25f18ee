/**
 * The SDK suite run on PostgreSQL: the SDK-level test files, with every `new Spectron` on `:memory:` (or with no
 * `path`) given a fresh PostgreSQL database through the `store` option (test/sdk-postgres/spectron.ts, aliased in
 * place of `../src/index.js`), once on the server at SPECTRON_TEST_POSTGRES_URL (hnswlib vectors: Debian's server
 * has no pgvector) and once on PGlite with pgvector. `npm test` runs the server's when the URL is set, and PGlite's
 * always (vitest.config.ts); alone: `npx vitest run --config vitest.postgres.config.ts`.
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
 *
 * On PGlite with pgvector, `npm test` runs the files of SDK_ON_PGLITE_FILES only; `npm run test:pglite`
 * (SPECTRON_TEST_PGLITE_SDK=1) runs all of SDK_ON_POSTGRES_FILES there.
 */
import { fileURLToPath } from "node:url";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

export const SDK_ON_POSTGRES_FILES = [
  "access-property", "access-traces-ids", "access", "ai-sdk", "answers", "background-budget", "cache-property", "chat",
  "config", "consolidate", "elaborate", "extraction-behaviours", "fuzz", "hostile-input", "ingest-batch-provider",
  "ingest", "knowledge", "lifecycle", "mem0-parity", "passages", "progress", "providers-spectron", "recall",
  "reflect", "reindex-twice", "rest-mcp-mount", "rest", "scope-values", "secrets-inspect", "tier2-near-miss", "validation",
].map((name) => `test/${name}.test.ts`);

/**
 * The files `npm test` runs on PGlite with pgvector (the one engine in the suite with pgvector's HNSW index and
 * distance operators): every file of SDK_ON_POSTGRES_FILES but five. Each PGlite starts from a data directory the
 * engine's migrations already ran on, and is emptied and reused between a file's instances
 * (test/sdk-postgres/databases.ts); it is served by test/postgres/pglite-server.ts, one whole request at a time.
 * All 31 files took 839 s there (`SPECTRON_TEST_PGLITE_SDK=1 npx vitest run --project sdk-on-pglite-pgvector`, two
 * files at a time, load average 10 to 15 on this 2-core machine; 1,523 s before, at 7 to 28). These 26 take 140 s
 * of wall time at a load average of 3 to 5 (`npx vitest run --project sdk-on-pglite-pgvector`: 217 s of file time,
 * access 22 s the longest). Left out, run by `npm run test:pglite` only:
 * - for their time under load: fuzz (5,200 calls, 15,075 requests to PGlite) and access-property (3,000 calls,
 *   19,848 requests) reached their 180 s timeouts at a load average of 10 to 15, tier2-near-miss (13,471 requests)
 *   and reindex-twice (5,090) their 60 s ones; at 3 to 5 they pass in 62 s, 40 s, 20 s and 19 s. PGlite serves one
 *   request at a time in WebAssembly (5.5 to 15 ms each, on average per file, at the higher load);
 * - background-budget: "caps background tokens per day" read `usage().budget.calls` 0 after the backlog emptied in
 *   one of three runs there (load 7 to 28; it passed in the others); not yet understood, see the test's comment
 *   on `usage()`.
 */
const LEFT_OFF_PGLITE = new Set(["fuzz", "access-property", "tier2-near-miss", "reindex-twice", "background-budget"].map((name) => `test/${name}.test.ts`));
export const SDK_ON_PGLITE_FILES = SDK_ON_POSTGRES_FILES.filter((file) => !LEFT_OFF_PGLITE.has(file));

const wrapper = fileURLToPath(new URL("./test/sdk-postgres/spectron.ts", import.meta.url));

export function sdkOnPostgresProjects(): TestProjectInlineConfiguration[] {
  return (["postgres", "pglite-pgvector"] as const).map((engine) => ({
    resolve: { alias: [{ find: /^\.\.\/src\/index\.js$/, replacement: wrapper }] },
    test: {
      name: `sdk-on-${engine}`,
      include: engine === "pglite-pgvector" && process.env.SPECTRON_TEST_PGLITE_SDK !== "1" ? SDK_ON_PGLITE_FILES : SDK_ON_POSTGRES_FILES,
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
