/**
 * `spectron/postgres`: the PostgreSQL engine, for deployments that outgrow one process on one SQLite file. Its own
 * entry point, so that SQLite users never load `pg` (an optional peer dependency: `npm install pg`).
 *
 * @example
 * import { postgresStore } from "spectron/postgres";
 * const store = postgresStore({ connectionString: process.env.DATABASE_URL });
 */
export { postgresStore, PostgresEngine, type PostgresStoreOptions } from "./store/postgres/engine.js";
export { PostgresStore } from "./store/postgres/postgres-store.js";
