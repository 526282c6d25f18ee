/**
 * The PostgreSQL engines a test file runs against, each giving the file a database of its own:
 * - `postgres`: the server at SPECTRON_TEST_POSTGRES_URL (.ci/run starts one); a throwaway database is created
 *   per file and dropped afterwards. Debian's PostgreSQL has no pgvector: this is the hnswlib-fallback path.
 * - `pglite-pgvector`: PGlite (PostgreSQL compiled to WASM) with the real pgvector extension, served over the
 *   wire protocol on 127.0.0.1 by PgliteServer (./pglite-server.ts) and reached through `pg` like any server.
 *   One PGlite per file. PGlite runs one backend for all its connections (requests are queued; a transaction
 *   holds the queue), so it cannot stand in for several processes: LISTEN/NOTIFY and advisory locks are tested
 *   on the server only (`multiProcess: false`).
 * An engine that is unavailable is skipped with its reason printed; a URL that is set but unreachable fails.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { PgliteServer } from "./pglite-server.js";

export interface PgTestDatabase {
  /** Connection string of this file's own database. */
  readonly url: string;
  /** Drops the database (server) or stops PGlite. */
  close(): Promise<void>;
}

export interface PgTestEngine {
  readonly name: "postgres" | "pglite-pgvector";
  /** pgvector is installed (CREATE EXTENSION vector succeeds). */
  readonly pgvector: boolean;
  /** Separate connections are separate sessions (LISTEN/NOTIFY, advisory locks, two processes). */
  readonly multiProcess: boolean;
  /** Why the engine is skipped, or undefined when it runs. */
  readonly skip: string | undefined;
  /** A fresh, empty database. */
  open(): Promise<PgTestDatabase>;
}

/** How long starting PGlite may take on a loaded 2-core machine (it is ~2 s idle, 15 s under load). */
export const ENGINE_START_TIMEOUT = 120_000;

const SERVER_URL = process.env.SPECTRON_TEST_POSTGRES_URL;
const ROOT = resolve(import.meta.dirname, "../..");

export const serverEngine: PgTestEngine = {
  name: "postgres",
  pgvector: false,
  multiProcess: true,
  skip: SERVER_URL
    ? undefined
    : "SPECTRON_TEST_POSTGRES_URL is not set, so the PostgreSQL-server suite is skipped (`bash .ci/run` starts a server and sets it).",
  async open() {
    if (!SERVER_URL) throw new Error("SPECTRON_TEST_POSTGRES_URL is not set.");
    const name = `spectron_test_${process.pid}_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect().catch((error: unknown) => {
      throw new Error(`SPECTRON_TEST_POSTGRES_URL is set but the server does not answer: ${String(error)}`, { cause: error });
    });
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(SERVER_URL);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async close() {
        const client = new pg.Client({ connectionString: SERVER_URL });
        await client.connect();
        try {
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await client.end();
        }
      },
    };
  },
};

export const pgliteEngine: PgTestEngine = {
  name: "pglite-pgvector",
  pgvector: true,
  multiProcess: false,
  skip: undefined,
  async open() {
    return startPglite(await initdbDataDir());
  },
};

/** A PGlite of the test engine: its database, and a dump of its data directory for others to start from. */
export interface PgliteDatabase extends PgTestDatabase {
  /** The data directory as it is now (after a CHECKPOINT), as `startPglite` loads it. */
  dump(): Promise<Blob>;
}

/** Starts PGlite with pgvector on a dumped data directory and serves it on a free port of 127.0.0.1. */
export async function startPglite(dataDir: Blob): Promise<PgliteDatabase> {
  const [{ PGlite }, { vector }] = await Promise.all([import("@electric-sql/pglite"), import("@electric-sql/pglite-pgvector")]);
  const db = await PGlite.create({ extensions: { vector }, loadDataDir: dataDir });
  const server = new PgliteServer(db);
  const url = await server.start();
  return {
    url,
    async dump() {
      await db.exec("CHECKPOINT");
      return db.dumpDataDir("none");
    },
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

const version = (name: string) => (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

/** The PGlite and pgvector versions, part of the name of every data directory kept (another version makes its own). */
export const PGLITE_VERSIONS = `${version("@electric-sql/pglite")}-${version("@electric-sql/pglite-pgvector")}`;

/**
 * A PGlite data directory made once by `make` and kept in the temporary directory as `spectron-pglite-<name>.tar`
 * (the name says what it holds and of which versions, so that a change makes a new one). Written to a temporary
 * name and renamed, so that files starting at once never read half a dump (two may both make it; either wins).
 */
export async function keptDataDir(name: string, make: () => Promise<Blob>): Promise<Blob> {
  const file = join(tmpdir(), `spectron-pglite-${name}.tar`);
  if (!existsSync(file)) {
    const dump = await make();
    const partial = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
  }
  return new Blob([readFileSync(file)]);
}

/**
 * The data directory of a new, empty PGlite (what `PGlite.create()` makes by running initdb inside WebAssembly: 10–20 s
 * on a busy 2-core machine, paid by every test file and by every instance its pool opens), dumped once. Loading it
 * takes ~2 s and gives the same fresh cluster: no schema, no extension.
 */
export async function initdbDataDir(): Promise<Blob> {
  return keptDataDir(`initdb-${PGLITE_VERSIONS}`, async () => {
    const [{ PGlite }, { vector }] = await Promise.all([import("@electric-sql/pglite"), import("@electric-sql/pglite-pgvector")]);
    const fresh = await PGlite.create({ extensions: { vector } });
    try {
      return await fresh.dumpDataDir("none");
    } finally {
      await fresh.close();
    }
  });
}

export const ENGINES: readonly PgTestEngine[] = [serverEngine, pgliteEngine];

/** Prints why an engine is skipped, once per file, where the test run's output shows it. */
export function announceSkips(engines: readonly PgTestEngine[] = ENGINES): void {
  for (const engine of engines) if (engine.skip) console.warn(`[${engine.name}] skipped: ${engine.skip}`);
}
