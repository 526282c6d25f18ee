import { createHash } from "node:crypto";
import type pg from "pg";
import type { VectorSpace } from "../store.js";
import { one, query, transaction, type Queryable } from "./connection.js";

/**
 * One (space, embedding model) vector set: a table of its own, created on first use, because the dimension is part
 * of its definition (as with sqlite-vec in the SQLite engine). Where pgvector is installed its column is a
 * `vector(dim)` with an HNSW cosine index and PostgreSQL answers nearest-neighbour queries; elsewhere it is a
 * `real[]`, and an in-process hnswlib index that follows the change log answers them (followed-index.ts).
 */
export interface VectorSet {
  space: VectorSpace;
  model: string;
  dim: number;
  table: string;
  storage: "pgvector" | "array";
}

/** Advisory lock key (any constant) under which vector tables are created. */
const VECTOR_SET_LOCK = 0x5350_5653; // "SPVS"

/** The table name of a set: the model id hashed, since ids hold any character. */
export function vectorTableName(space: VectorSpace, model: string): string {
  return `vec_${space}_${createHash("sha256").update(model).digest("hex").slice(0, 16)}`;
}

/** Whether pgvector can be used here: `CREATE EXTENSION IF NOT EXISTS vector` succeeds (or it exists already). */
export async function enablePgvector(pool: pg.Pool): Promise<boolean> {
  try {
    await query(pool, "CREATE EXTENSION IF NOT EXISTS vector");
    return true;
  } catch {
    // Not installed on the server (Debian's bookworm packages lack it), or no right to create it: the fallback.
    return false;
  }
}

export async function findVectorSet(db: Queryable, space: VectorSpace, model: string): Promise<VectorSet | undefined> {
  return one<VectorSet>(db, "SELECT space, model, dim, table_name AS table, storage FROM vector_sets WHERE space = $1 AND model = $2", [space, model]);
}

/**
 * The set of (space, model), created with `dim` when it does not exist. Two processes creating it at once:
 * one creates it, the other waits on the advisory lock and finds it. A set keeps the storage it was created
 * with (a database that gains pgvector later keeps its array sets).
 */
export async function ensureVectorSet(pool: pg.Pool, space: VectorSpace, model: string, dim: number, pgvector: boolean): Promise<VectorSet> {
  const found = await findVectorSet(pool, space, model);
  if (found) return found;
  return transaction(pool, async (client) => {
    await query(client, "SELECT pg_advisory_xact_lock($1)", [VECTOR_SET_LOCK]);
    const again = await findVectorSet(client, space, model);
    if (again) return again;
    const table = vectorTableName(space, model);
    const storage = pgvector ? "pgvector" : "array";
    if (storage === "pgvector") {
      await query(client, `CREATE TABLE ${table} (label BIGINT PRIMARY KEY, context TEXT NOT NULL, embedding vector(${dim}) NOT NULL)`);
      await query(client, `CREATE INDEX ${table}_hnsw ON ${table} USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 128)`);
    } else {
      await query(client, `CREATE TABLE ${table} (label BIGINT PRIMARY KEY, context TEXT NOT NULL, embedding REAL[] NOT NULL)`);
    }
    await query(client, `CREATE INDEX ${table}_by_context ON ${table} (context, label)`);
    await query(client, "INSERT INTO vector_sets (space, model, dim, table_name, storage) VALUES ($1, $2, $3, $4, $5)", [space, model, dim, table, storage]);
    return { space, model, dim, table, storage };
  });
}

/** A vector as the set's column takes it: pgvector's text form, or an array for `real[]`. */
export function toVectorColumn(set: VectorSet, vector: Float32Array): string | number[] {
  return set.storage === "pgvector" ? `[${Array.from(vector).join(",")}]` : Array.from(vector);
}

/** A stored vector (pgvector's text form `[1,2,3]`, or a `real[]` parsed by pg) as a Float32Array. */
export function fromVectorColumn(value: unknown): Float32Array {
  if (typeof value === "string") return Float32Array.from(value.slice(1, -1).split(","), Number);
  return Float32Array.from(value as number[]);
}

/** Writes (or replaces) a vector inside the caller's transaction. */
export async function putVector(client: pg.PoolClient, set: VectorSet, context: string, label: number, vector: Float32Array): Promise<void> {
  await query(
    client,
    `INSERT INTO ${set.table} (label, context, embedding) VALUES ($1, $2, $3) ON CONFLICT (label) DO UPDATE SET embedding = EXCLUDED.embedding`,
    [label, context, toVectorColumn(set, vector)],
  );
}

/** Deletes a vector inside the caller's transaction; whether there was one. */
export async function deleteVector(client: pg.PoolClient, set: VectorSet, label: number): Promise<boolean> {
  return (await query(client, `DELETE FROM ${set.table} WHERE label = $1 RETURNING label`, [label])).length > 0;
}

export async function getVector(db: Queryable, set: VectorSet, label: number): Promise<Float32Array | undefined> {
  const row = await one<{ embedding: unknown }>(db, `SELECT embedding FROM ${set.table} WHERE label = $1`, [label]);
  return row ? fromVectorColumn(row.embedding) : undefined;
}

/** Cosine distance, 1 − cos(a, b), as pgvector's `<=>` and hnswlib's cosine space compute it. */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return 1 - dot / (Math.sqrt(na * nb) || 1);
}
