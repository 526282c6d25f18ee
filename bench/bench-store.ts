// Where the bench's Spectron instances keep their memory: the SQLite default, or (`--store=postgres`) PostgreSQL.
// With PostgreSQL, one throwaway database per bench run (created at start, dropped at the end), and each instance on
// an engine of its own (an instance closes its engine when it closes).
import pg from "pg";
import type { SpectronOptions } from "../src/index.js";
import { postgresStore } from "../src/postgres.js";

export type BenchStoreKind = "sqlite" | "postgres";

let database: { url: string; drop: () => Promise<void> } | undefined;

/** Creates the run's database on the server at `url` (a server URL, any database). */
export async function usePostgres(url: string): Promise<void> {
  const name = `spectron_bench_sdk_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  database = {
    url: target.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Drops the run's database, if any. */
export async function dropBenchDatabase(): Promise<void> {
  await database?.drop();
  database = undefined;
}

/** The run's database URL (after `usePostgres`), for the bench's own counts. */
export function benchDatabaseUrl(): string | undefined {
  return database?.url;
}

export function benchStoreKind(): BenchStoreKind {
  return database ? "postgres" : "sqlite";
}

/** Options to spread into an in-memory bench instance's `new Spectron`: `{}` on SQLite, `{ store }` on PostgreSQL. */
export function benchStore(): Pick<SpectronOptions, "store"> {
  return database ? { store: postgresStore({ connectionString: database.url }) } : {};
}
