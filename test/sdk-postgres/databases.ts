/**
 * Fresh, empty PostgreSQL databases for the SDK suite run on PostgreSQL (vitest.postgres.config.ts), one per
 * Spectron instance, on the engine SPECTRON_SDK_ENGINE names:
 * - `postgres`: the server at SPECTRON_TEST_POSTGRES_URL. One throwaway database per test file (created on first
 *   use, dropped after the file), and in it one schema per instance: the instance's connections put that schema
 *   first on their `search_path` (the engine's tables are unqualified), so every instance starts empty.
 * - `pglite-pgvector`: PGlite with the real pgvector extension, over the wire protocol. PGlite runs one backend for
 *   all its connections, so session settings (search_path) are shared: each instance gets a PGlite of its own
 *   instead, taken from a per-file pool of idle ones. A PGlite starts from a data directory on which the engine's
 *   own migrations and `CREATE EXTENSION vector` ran once (kept in the temporary directory, keyed by the
 *   migrations' text), so an instance opens a migrated, empty database, as a process does on a database another
 *   process migrated. When the instance closes, the tables it made (vector sets) are dropped, every row deleted and
 *   the identity sequences restarted, and what is left is checked against the relations the PGlite started with.
 *   Per instance that costs ~0.2 s here (opening 0.06 s, emptying 0.14 s, at a load average of 16 on 2 cores)
 *   where migrating a fresh `public` schema and dropping it afterwards took ~3.4 s (load average 7 to 28).
 */
import { afterAll } from "vitest";
import { createHash } from "node:crypto";
import pg from "pg";
import { migrate, PG_MIGRATIONS } from "../../src/store/postgres/migrations.js";
import { enablePgvector } from "../../src/store/postgres/vector-sets.js";
import { initdbDataDir, keptDataDir, PGLITE_VERSIONS, serverEngine, startPglite, type PgliteDatabase, type PgTestDatabase } from "../postgres/engines.js";

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

/** A PGlite of this file's pool, with what its `public` schema held when it started (migrated, empty). */
interface PooledPglite {
  db: PgliteDatabase;
  tables: string[];
  sequences: string[];
  relations: string;
}
const idle: PooledPglite[] = [];
const started: PooledPglite[] = [];

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
  for (const { db } of started) await db.close();
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
    const taken = idle.pop() ?? (await startPooled());
    return {
      url: taken.db.url,
      release: async () => {
        await emptyToMigrated(taken);
        idle.push(taken);
      },
    };
  }
  throw new Error(`SPECTRON_SDK_ENGINE must be "postgres" or "pglite-pgvector", received ${String(SDK_ENGINE)}.`);
}

/** The relations of the `public` schema, by name and kind: what an emptied database must match. */
const RELATIONS = "SELECT coalesce(string_agg(relname::text || ':' || relkind::text, ',' ORDER BY relname), '') AS r FROM pg_class WHERE relnamespace = 'public'::regnamespace";
const TABLES = "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1";
const SEQUENCES = "SELECT sequencename AS s FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1";
const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function startPooled(): Promise<PooledPglite> {
  const db = await startPglite(await migratedDataDir());
  started.push({ db, tables: [], sequences: [], relations: "" });
  const pooled = started[started.length - 1]!;
  await withClient(db.url, async (c) => {
    pooled.tables = (await c.query<{ t: string }>(TABLES)).rows.map((r) => r.t);
    pooled.sequences = (await c.query<{ s: string }>(SEQUENCES)).rows.map((r) => r.s);
    pooled.relations = (await c.query<{ r: string }>(RELATIONS)).rows[0]!.r;
  });
  return pooled;
}

/**
 * Back to the migrated, empty database the PGlite started with: tables made since dropped, every row deleted
 * (foreign keys cascade), identity sequences restarted, in one transaction. DELETE rather than TRUNCATE: TRUNCATE
 * makes new files for every table and index, ~4× slower on PGlite for tables this small.
 */
async function emptyToMigrated({ db, tables, sequences, relations }: PooledPglite): Promise<void> {
  await withClient(db.url, async (c) => {
    const now = (await c.query<{ t: string }>(TABLES)).rows.map((r) => r.t);
    const made = now.filter((t) => !tables.includes(t));
    await c.query(
      [
        "BEGIN",
        ...(made.length ? [`DROP TABLE ${made.map(quoted).join(", ")} CASCADE`] : []),
        ...tables.filter((t) => t !== "schema_migrations").map((t) => `DELETE FROM ${quoted(t)}`),
        ...sequences.map((s) => `ALTER SEQUENCE ${quoted(s)} RESTART`),
        "COMMIT",
      ].join("; "),
    );
    const left = (await c.query<{ r: string }>(RELATIONS)).rows[0]!.r;
    if (left !== relations) throw new Error(`The PGlite of a closed instance is not back to the migrated schema: it holds ${left}, expected ${relations}.`);
  });
}

/**
 * The data directory of a PGlite on which the engine's migrations (`migrate`, as `postgresStore` runs it) and
 * `CREATE EXTENSION vector` ran, kept under a name holding the versions and a hash of the migrations' text and
 * of the functions that apply them: a changed migration makes a new one. `applied_at` is 0 there (the instance's
 * clock does not exist yet); the SDK suite's files do not read it (the migrations suite does, on its own databases).
 */
async function migratedDataDir(): Promise<Blob> {
  const hash = createHash("sha256").update(JSON.stringify(PG_MIGRATIONS)).update(migrate.toString()).update(enablePgvector.toString()).digest("hex").slice(0, 16);
  return keptDataDir(`migrated-${PGLITE_VERSIONS}-${hash}`, async () => {
    const fresh = await startPglite(await initdbDataDir());
    try {
      const pool = new pg.Pool({ connectionString: fresh.url, max: 2 });
      try {
        await migrate(pool, 0);
        if (!(await enablePgvector(pool))) throw new Error("CREATE EXTENSION vector failed on PGlite with pgvector.");
      } finally {
        await pool.end();
      }
      return await fresh.dump();
    } finally {
      await fresh.close();
    }
  });
}
