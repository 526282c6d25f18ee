import Database from "better-sqlite3";
import * as sqliteVec from "sqlite-vec";
import { BusyError } from "../errors.js";
import { MIGRATIONS } from "./migrations.js";

export type Db = Database.Database;

/**
 * How long a statement waits for another connection's write lock before SQLite gives up (SQLITE_BUSY, then a
 * BusyError). Writers take the lock up front (`immediate`), so waiting is the only way two of them meet.
 */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (or creates) the database: WAL, foreign keys, synchronous=NORMAL, sqlite-vec loaded on this
 * connection, migrations applied. Synchronous, like every store function. Several processes may open one
 * file at the same moment, a new one included (see `migrate`).
 */
export function openDatabase(path: string): Db {
  const db = new Database(path);
  try {
    // First: switching a new file to WAL and migrating it take locks another process may hold.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (path !== ":memory:") toWal(db);
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    // Freed pages are zeroed: an erased record's words (store/erase.ts) do not stay readable in the file.
    db.pragma("secure_delete = ON");
    sqliteVec.load(db);
    // Integer powers for the decay sweep, independent of whether SQLite was built with math functions.
    db.function("spectron_pow", { deterministic: true }, (base, exp) => Math.pow(Number(base), Number(exp)));
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw toStoreError(error);
  }
}

/**
 * Switches the file to WAL. SQLite answers SQLITE_BUSY at once, without calling the busy handler, when another
 * connection holds a lock the switch needs (another process creating or migrating the same new file), so the
 * switch is retried here, for as long as the busy timeout.
 */
function toWal(db: Db): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      if (db.pragma("journal_mode", { simple: true }) === "wal" || db.pragma("journal_mode = WAL", { simple: true }) === "wal") return;
    } catch (error) {
      if (!/^SQLITE_BUSY/.test(String((error as { code?: unknown }).code)) || Date.now() >= deadline) throw error;
    }
    if (Date.now() >= deadline) throw new Error("The database could not be switched to WAL mode.");
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
  }
}

/**
 * Applies the migrations this file lacks, all in one immediate transaction: the write lock is taken before the
 * applied versions are read, so a second process opening a new file at the same moment waits for the first and
 * then finds nothing left to do. A file that is up to date is only read.
 */
export function migrate(db: Db): void {
  const pending = pendingMigrations(db);
  if (pending.length === 0) return;
  // A migration that rebuilds a table others reference runs with foreign keys off; the pragma is a no-op inside
  // a transaction, so it is set around it (and the migration checks the keys itself before it commits).
  const foreignKeysOff = pending.some((m) => m.foreignKeysOff);
  if (foreignKeysOff) db.pragma("foreign_keys = OFF");
  try {
    immediate(db, () => {
      db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
      // Read again inside the lock: another process may have applied them meanwhile.
      for (const migration of pendingMigrations(db)) {
        migration.up(db);
        db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
          migration.version,
          migration.name,
          new Date().toISOString(),
        );
      }
    });
  } finally {
    if (foreignKeysOff) db.pragma("foreign_keys = ON");
  }
}

function pendingMigrations(db: Db): typeof MIGRATIONS {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()) return MIGRATIONS;
  const applied = new Set(db.prepare("SELECT version FROM schema_migrations").pluck().all() as number[]);
  return MIGRATIONS.filter((m) => !applied.has(m.version));
}

/**
 * Runs `fn` in a write transaction that takes the write lock when it begins (BEGIN IMMEDIATE), or in a
 * savepoint when one is already open. A deferred transaction would take it at its first write, and when
 * another connection committed in between SQLite fails it at once (SQLITE_BUSY_SNAPSHOT) instead of waiting.
 * A lock that stays taken past the busy timeout becomes a BusyError; the transaction is rolled back.
 */
export function immediate<T>(db: Db, fn: () => T): T {
  try {
    return db.transaction(fn).immediate();
  } catch (error) {
    throw toStoreError(error);
  }
}

/** SQLite's lock errors (SQLITE_BUSY*, SQLITE_LOCKED*) as a BusyError; any other error unchanged. */
export function toStoreError(error: unknown): unknown {
  const code = error instanceof Database.SqliteError ? error.code : undefined;
  if (code && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))) return new BusyError(code, { cause: error });
  return error;
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * A prepared statement, cached per connection by its SQL text: preparing costs more than running most of
 * our statements. SQL built with a variable number of `?` gets one cache entry per arity, which stays small.
 */
export function sql(db: Db, text: string): Database.Statement {
  return cached(db, text, "rows");
}

/** Like `sql`, for a statement whose rows are single values (`pluck`). Cached apart, so modes never mix. */
export function sqlPluck(db: Db, text: string): Database.Statement {
  return cached(db, text, "pluck");
}

/**
 * Like `sql`, for a statement whose rows come as arrays (`raw`): about half the cost of row objects for wide
 * rows, since better-sqlite3 sets each property of an object one by one. For hot paths that map rows themselves.
 */
export function sqlRaw(db: Db, text: string): Database.Statement {
  return cached(db, text, "raw");
}

function cached(db: Db, text: string, mode: "rows" | "pluck" | "raw"): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  const key = mode === "rows" ? text : `${mode}\u0000${text}`;
  let statement = cache.get(key);
  if (!statement) {
    statement = db.prepare(text);
    if (mode === "pluck") statement.pluck(true);
    if (mode === "raw") statement.raw(true);
    if (cache.size > 2_000) cache.clear();
    cache.set(key, statement);
  }
  return statement;
}
