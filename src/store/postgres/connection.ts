import pg from "pg";
import { BusyError, StorageError } from "../../errors.js";

/** A pooled client or the pool itself: what a statement runs on. */
export type Queryable = pg.Pool | pg.PoolClient | pg.Client;

/**
 * Type parsers for every query: BIGINT (ids, millisecond timestamps, counts) as a JavaScript number, as the
 * SQLite engine returns them. Every value we store in one is below 2^53. Passed per query rather than set on
 * the global `pg.types`, which would change how the application's own queries read BIGINT.
 */
const TYPES = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === 20) return (value: string) => Number(value); // int8
    if (oid === 1016) {
      const parse = pg.types.getTypeParser(1016 as Parameters<typeof pg.types.getTypeParser>[0], "text") as (value: string) => string[];
      return (value: string) => parse(value).map(Number); // int8[]
    }
    return pg.types.getTypeParser(oid, format ?? "text");
  },
} as unknown as pg.CustomTypesConfig;

/** One statement; rows typed by the caller. */
export async function query<R extends object = Record<string, unknown>>(db: Queryable, text: string, values: readonly unknown[] = []): Promise<R[]> {
  try {
    const result = await db.query<R>({ text, values: values as unknown[], types: TYPES });
    return result.rows;
  } catch (error) {
    throw toStoreError(error);
  }
}

/** The first row of a statement, or undefined. */
export async function one<R extends object = Record<string, unknown>>(db: Queryable, text: string, values: readonly unknown[] = []): Promise<R | undefined> {
  return (await query<R>(db, text, values))[0];
}

/** SQLSTATEs after which a transaction may simply run again: serialization failure, deadlock. */
const RETRYABLE = new Set(["40001", "40P01"]);
const MAX_ATTEMPTS = 5;

/**
 * Runs `fn` in a READ COMMITTED transaction on one pooled client, committed before the promise resolves. A
 * serialization failure or a deadlock (another process's transaction) rolls back and runs `fn` again, up to five
 * times, so `fn` must be safe to repeat: it reads what it needs inside the transaction. `afterCommit` runs once,
 * with the value of the attempt that committed.
 */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect().catch((error: unknown) => {
      throw toStoreError(error);
    });
    let broken = false;
    try {
      await client.query("BEGIN");
      const value = await fn(client);
      await client.query("COMMIT");
      return value;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => (broken = true));
      const code = sqlState(error);
      if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) continue;
      throw toStoreError(error);
    } finally {
      client.release(broken);
    }
  }
}

function sqlState(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e && typeof e === "object" && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * PostgreSQL's errors in Spectron's terms: a lock that could not be had (lock_not_available, a statement or lock
 * timeout, serialization or deadlock once retries are spent) is a BusyError; a server that cannot be reached or
 * went away is a StorageError; anything else unchanged (a bug of ours, shown as it is).
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof BusyError || error instanceof StorageError) return error;
  const code = sqlState(error);
  if (code === "55P03" || code === "57014" || code === "40001" || code === "40P01") return new BusyError(`postgres:${code}`, { cause: error });
  const errno = (error as { code?: unknown } | undefined)?.code;
  if (code?.startsWith("08") || code === "57P01" || errno === "ECONNREFUSED" || errno === "ECONNRESET" || errno === "ENOTFOUND") {
    return new StorageError(`postgres:${code ?? String(errno)}`, "The PostgreSQL server could not be reached or closed the connection.", true, { cause: error });
  }
  return error;
}
