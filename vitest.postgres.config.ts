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
 * distance operators): those whose calls go through the vector channels and the engine's own search and sweep
 * statements — tier 3 and the tier-2 cache (recall), turns as passages (passages), document chunks (knowledge),
 * reconciliation against vector neighbours (ingest), the elaboration sweep, and every scope shape through every
 * namespace (scope-values). The others run on the PostgreSQL server in `npm test` and on PGlite in
 * `npm run test:pglite`: PGlite is PostgreSQL in WebAssembly serving one session at a time, and the 31 files there
 * took 816 s on this 2-core machine. These 6 take 159 s (`npx vitest run --project sdk-on-pglite-pgvector`, two
 * files at a time, load average 7.5 to 8.7). Left out for their time there although they touch vectors: tier2-near-miss and reindex-twice
 * (their tests reached their 60 s timeouts on PGlite under that load), fuzz (reached 180 s). Left out for a
 * failure not yet understood: consolidate, whose "fires on its schedule for real" test passes alone on PGlite
 * (11 s) but reaches its 120 s timeout there when the file's other tests ran before it, with a fresh PGlite per
 * instance too; it passes on the server.
 */
export const SDK_ON_PGLITE_FILES = ["recall", "passages", "knowledge", "ingest", "elaborate", "scope-values"].map(
  (name) => `test/${name}.test.ts`,
);

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
