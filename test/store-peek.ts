/**
 * The rows behind an instance, read past its API, on whichever engine it runs: its SQLite connection, or, when the
 * SDK suite runs on PostgreSQL (test/sdk-postgres/spectron.ts), a client of its own on the instance's database.
 * For tests that check that a call changed nothing, or what a table holds. Statements use `?` placeholders and SQL
 * both engines read; numbers come back as numbers on both.
 */
import pg from "pg";
import { coreOf } from "../bench/bulk.js";
import type { Spectron } from "../src/index.js";
import { postgresUrlOf } from "./sdk-postgres/databases.js";

export interface StorePeek {
  /** The engine the instance runs on. */
  engine: "sqlite" | "postgres";
  all<T = Record<string, unknown>>(statement: string, ...params: unknown[]): Promise<T[]>;
  get<T = Record<string, unknown>>(statement: string, ...params: unknown[]): Promise<T | undefined>;
  /** Every row of every table (on SQLite the full-text and vector shadow tables too), each table's rows sorted. */
  snapshot(): Promise<Record<string, { count: number; rows: string[] }>>;
  /** Rows per table; full-text and vector tables left out unless `shadow` (SQLite: their shadow tables counted). */
  counts(options?: { shadow?: boolean }): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const cell = (v: unknown): unknown =>
  Buffer.isBuffer(v) || v instanceof Uint8Array ? Buffer.from(v).toString("hex") : typeof v === "bigint" ? String(v) : v instanceof Date ? v.toISOString() : v;

/** PostgreSQL's BIGINT and NUMERIC as numbers (pg gives strings), so that both engines' rows compare alike. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC ? Number : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

export async function peekStore(memory: Spectron): Promise<StorePeek> {
  await (memory as unknown as { ready?: Promise<void> }).ready; // an engine opened asynchronously (PostgreSQL)
  const url = postgresUrlOf(memory);
  if (url === undefined) return sqlitePeek(memory);
  const client = new pg.Client({ connectionString: url, types });
  await client.connect();
  const run = async <T>(statement: string, params: unknown[]): Promise<T[]> => {
    let n = 0;
    const text = statement.replace(/\?/g, () => `$${++n}`);
    return (await client.query(text, params)).rows as T[];
  };
  const tables = async () =>
    (await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")).rows.map((r) => r.name);
  return {
    engine: "postgres",
    all: (s, ...p) => run(s, p),
    get: async <T>(s: string, ...p: unknown[]) => (await run<T>(s, p))[0],
    async snapshot() {
      const out: Record<string, { count: number; rows: string[] }> = {};
      for (const name of await tables()) {
        const rows = (await client.query({ text: `SELECT * FROM "${name}"`, rowMode: "array" })).rows.map((row: unknown[]) => JSON.stringify(row.map(cell)));
        out[name] = { count: rows.length, rows: rows.sort() };
      }
      return out;
    },
    async counts() {
      // One statement for every table: a round trip per table made the fuzz and property files' checks after each
      // call the bulk of their time on PostgreSQL (one session, queued, on PGlite).
      const names = await tables();
      if (names.length === 0) return {};
      const { rows } = await client.query<{ name: string; n: number }>(names.map((name) => `SELECT '${name.replace(/'/g, "''")}' AS name, COUNT(*) AS n FROM "${name}"`).join(" UNION ALL "));
      return Object.fromEntries(names.map((name) => [name, Number(rows.find((r) => r.name === name)!.n)]));
    },
    close: () => client.end(),
  };
}

function sqlitePeek(memory: Spectron): StorePeek {
  const { db } = coreOf(memory).sqlite!;
  const tables = (filter: string) => (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND ${filter} ORDER BY name`).all() as { name: string }[]).map((t) => t.name);
  return {
    engine: "sqlite",
    all: async <T>(s: string, ...p: unknown[]) => db.prepare(s).all(...p) as T[],
    get: async <T>(s: string, ...p: unknown[]) => db.prepare(s).get(...p) as T | undefined,
    async snapshot() {
      const out: Record<string, { count: number; rows: string[] }> = {};
      for (const name of tables("sql NOT LIKE 'CREATE VIRTUAL%'")) {
        const rows = (db.prepare(`SELECT * FROM "${name}"`).raw().all() as unknown[][]).map((row) => JSON.stringify(row.map(cell)));
        out[name] = { count: rows.length, rows: rows.sort() };
      }
      return out;
    },
    async counts(options) {
      return Object.fromEntries(
        tables(options?.shadow ? "sql NOT LIKE 'CREATE VIRTUAL%'" : "name NOT LIKE '%fts%' AND name NOT LIKE 'vec_%'").map((t) => [t, (db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get() as { n: number }).n]),
      );
    },
    close: async () => undefined,
  };
}
