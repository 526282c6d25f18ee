/**
 * Fresh, empty PostgreSQL databases for the SDK suite run on PostgreSQL (vitest.postgres.config.ts), one per
 * Spectron instance, on the engine SPECTRON_SDK_ENGINE names:
 * - `postgres`: the server at SPECTRON_TEST_POSTGRES_URL. One throwaway database per test file (created on first
 *   use, dropped after the file), and in it one schema per instance: the instance's connections put that schema
 *   first on their `search_path` (the engine's tables are unqualified), so every instance starts empty.
 * - `pglite-pgvector`: PGlite with the real pgvector extension, over the wire protocol. PGlite runs one backend for
 *   all its connections, so session settings (search_path) are shared: each instance gets a PGlite of its own
 *   instead, taken from a per-file pool of idle ones whose `public` schema is emptied when the instance closes.
 */
import { afterAll } from "vitest";
import pg from "pg";
import { pgliteEngine, serverEngine, type PgTestDatabase } from "../postgres/engines.js";

export type SdkEngine = "postgres" | "pglite-pgvector";

export interface FreshDatabase {
  /** Connection string whose sessions see only this database's (or schema's) tables. */
  url: string;
  /** Drops what the instance made (or returns the PGlite to the pool, emptied). */
  release(): Promise<void>;
}

export const SDK_ENGINE = process.env.SPECTRON_SDK_ENGINE as SdkEngine | undefined;

let fileDatabase: Promise<PgTestDatabase> | undefined;
let schemas = 0;
const idle: PgTestDatabase[] = [];
const started: PgTestDatabase[] = [];

/** The database URL of each instance the wrapper put on PostgreSQL (test/store-peek.ts reads its rows there). */
const urls = new WeakMap<object, () => string | undefined>();

export function registerPostgresInstance(instance: object, url: () => string | undefined): void {
  urls.set(instance, url);
}

/** The URL an instance's store connects to, once it is open; undefined for an instance on SQLite. */
export function postgresUrlOf(instance: object): string | undefined {
  return urls.get(instance)?.();
}

/** Instances this file opened on PostgreSQL (printed: a run where none did would test SQLite twice). */
let opened = 0;

afterAll(async () => {
  if (SDK_ENGINE) console.info(`[sdk-on-${SDK_ENGINE}] ${opened} Spectron instance(s) of this file ran on PostgreSQL.`);
  if (fileDatabase) await (await fileDatabase).close();
  for (const db of started) await db.close();
});

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(): Promise<FreshDatabase> {
  opened++;
  if (SDK_ENGINE === "postgres") {
    fileDatabase ??= serverEngine.open();
    const db = await fileDatabase;
    const schema = `i${process.pid}_${++schemas}`;
    await withClient(db.url, (c) => c.query(`CREATE SCHEMA ${schema}`));
    const url = new URL(db.url);
    url.searchParams.set("options", `-c search_path=${schema},public`);
    return { url: url.toString(), release: () => withClient(db.url, (c) => c.query(`DROP SCHEMA ${schema} CASCADE`)).then(() => undefined) };
  }
  if (SDK_ENGINE === "pglite-pgvector") {
    let db = idle.pop();
    if (!db) started.push((db = await pgliteEngine.open()));
    const taken = db;
    return {
      url: taken.url,
      release: async () => {
        await withClient(taken.url, (c) => c.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public"));
        idle.push(taken);
      },
    };
  }
  throw new Error(`SPECTRON_SDK_ENGINE must be "postgres" or "pglite-pgvector", received ${String(SDK_ENGINE)}.`);
}
