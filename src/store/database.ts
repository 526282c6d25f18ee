import Database from "better-sqlite3";
import * as sqliteVec from "sqlite-vec";
import { MIGRATIONS } from "./migrations.js";

export type Db = Database.Database;

/**
 * Opens (or creates) the database: WAL, foreign keys, synchronous=NORMAL, sqlite-vec loaded on this
 * connection, migrations applied. Synchronous, like every store function.
 */
export function openDatabase(path: string): Db {
  const db = new Database(path);
  try {
    if (path !== ":memory:") db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    sqliteVec.load(db);
    // Integer powers for the decay sweep, independent of whether SQLite was built with math functions.
    db.function("spectron_pow", { deterministic: true }, (base, exp) => Math.pow(Number(base), Number(exp)));
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

export function migrate(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const applied = new Set(
    (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version),
  );
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    // The pragma is a no-op inside a transaction: it is set around it.
    if (migration.foreignKeysOff) db.pragma("foreign_keys = OFF");
    try {
      db.transaction(() => {
        migration.up(db);
        db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
          migration.version,
          migration.name,
          new Date().toISOString(),
        );
      })();
    } finally {
      if (migration.foreignKeysOff) db.pragma("foreign_keys = ON");
    }
  }
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
