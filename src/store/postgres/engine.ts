import pg from "pg";
import { z } from "zod";
import { SpectronValidationError } from "../../errors.js";
import { migrate } from "./migrations.js";
import { PostgresStore } from "./postgres-store.js";
import { enablePgvector } from "./vector-sets.js";

const optionsSchema = z
  .object({
    connectionString: z.string().min(1).optional(),
    pool: z.custom<pg.Pool>((value) => value instanceof pg.Pool, "a pg.Pool").optional(),
    max: z.number().int().min(2).max(1000).optional(),
    vectors: z.enum(["auto", "pgvector", "hnswlib"]).optional(),
  })
  .strict()
  .refine((o) => (o.connectionString === undefined) !== (o.pool === undefined), "exactly one of `connectionString` and `pool`");

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database`. Give this or `pool`. */
  connectionString?: string;
  /** A `pg.Pool` of your own (not closed by Spectron). Give this or `connectionString`. */
  pool?: pg.Pool;
  /** Connections in the pool created from `connectionString` (one more is held for LISTEN). @default 10 */
  max?: number;
  /**
   * Where nearest-neighbour search runs: `pgvector` (an HNSW index in PostgreSQL; the extension must be installable),
   * `hnswlib` (vectors stored in PostgreSQL, searched by an in-process index that follows the change log), or
   * `auto`: pgvector when `CREATE EXTENSION IF NOT EXISTS vector` succeeds. @default "auto"
   */
  vectors?: "auto" | "pgvector" | "hnswlib";
}

/**
 * The PostgreSQL engine: one pool per engine, shared by the Contexts opened on it. Several processes (machines)
 * may open the same database: they see each other's writes through the change log and LISTEN/NOTIFY.
 *
 * @example
 * import { postgresStore } from "spectron/postgres";
 * const engine = postgresStore({ connectionString: process.env.DATABASE_URL });
 */
export function postgresStore(options: PostgresStoreOptions): PostgresEngine {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SpectronValidationError(`store.${issue.path.join(".") || "options"}`, issue.message, options);
  }
  return new PostgresEngine(parsed.data as PostgresStoreOptions);
}

export class PostgresEngine {
  readonly engine = "postgres";
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly vectorsOption: "auto" | "pgvector" | "hnswlib";
  private ready: Promise<boolean> | undefined;

  constructor(options: PostgresStoreOptions) {
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10 });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    if (this.ownsPool) this.pool.on("error", () => undefined);
    this.vectorsOption = options.vectors ?? "auto";
  }

  /** Migrates once (shared by every open), and says whether pgvector is used. Cleared on failure: a retry redoes it. */
  private init(now: number): Promise<boolean> {
    this.ready ??= (async () => {
      await migrate(this.pool, now);
      if (this.vectorsOption === "hnswlib") return false;
      const available = await enablePgvector(this.pool);
      if (!available && this.vectorsOption === "pgvector") {
        throw new SpectronValidationError("store.vectors", "a database where `CREATE EXTENSION vector` succeeds", "pgvector", "Install pgvector on the server, or use `vectors: \"auto\"`.");
      }
      return available;
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** Opens one Context's store on this database (migrating it first if needed). */
  async open(context: string, options: { now: () => number; onError?: (error: unknown) => void }): Promise<PostgresStore> {
    const pgvector = await this.init(options.now());
    const store = new PostgresStore(this.pool, context, pgvector, options.now, options.onError ?? (() => undefined));
    await store.start();
    return store;
  }

  /** Ends the pool it created (a pool passed in stays open). A second call does nothing. */
  async close(): Promise<void> {
    if (this.ownsPool && !this.pool.ended) await this.pool.end();
  }
}

