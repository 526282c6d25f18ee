import { sql, sqlPluck, type Db } from "./database.js";
import type { LoggedChange, VectorChange, VectorSource } from "./vector-index.js";

/** What a vector belongs to. Each (space, model) pair has its own vector table: its dimension is fixed. */
export type VectorSpace = "records" | "chunks" | "queries";

/**
 * The table of a (space, model): one row per vector (`id` = the owner's id, the Context, the float32 bytes), so a
 * vector is one primary-key lookup (~10 µs) and a write or delete one row. sqlite-vec's functions score them
 * (`vec_distance_cosine`); its `vec0` tables, used before migration 8, kept vectors in chunks of 1,024, where a
 * single vector cost ~600 µs to read and a delete rewrote its chunk. The ANN index (hnswlib) searches large sets.
 */
function tableName(space: VectorSpace, model: string): string {
  return `vectors_${space}_${model.replace(/[^a-zA-Z0-9]/g, "_")}`;
}

/** The table's definition: the CHECK holds its dimension (4 bytes a float), which `vectorTableDimension` reads. */
function vectorTableSql(table: string, dim: number): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY, context TEXT NOT NULL, embedding BLOB NOT NULL CHECK (length(embedding) = ${dim * 4}));
    CREATE INDEX IF NOT EXISTS ${table}_by_context ON ${table} (context);`;
}

const ensured = new WeakMap<Db, Set<string>>();

/** Creates the vector table for (space, model) if needed. */
export function ensureVectorTable(db: Db, space: VectorSpace, model: string, dim: number): string {
  const table = tableName(space, model);
  let seen = ensured.get(db);
  if (!seen) ensured.set(db, (seen = new Set()));
  if (!seen.has(table)) {
    db.exec(vectorTableSql(table, dim));
    seen.add(table);
  }
  return table;
}

/** The dimension a model's vector table was created with, or undefined when it has none yet. */
export function vectorTableDimension(db: Db, space: VectorSpace, model: string): number | undefined {
  const row = sql(db, "SELECT sql FROM sqlite_master WHERE name = ?").get(tableName(space, model)) as { sql: string | null } | undefined;
  const m = row?.sql ? /length\(embedding\) = (\d+)/.exec(row.sql) : null;
  return m ? Number(m[1]) / 4 : undefined;
}

/**
 * Vector tables known to exist, per connection: a table, once committed, is dropped only by a migration at open.
 * Not noted inside a transaction, which could still roll its creation back.
 */
const existingTables = new WeakMap<Db, Set<string>>();

export function vectorTableExists(db: Db, space: VectorSpace, model: string): boolean {
  const name = tableName(space, model);
  let known = existingTables.get(db);
  if (known?.has(name)) return true;
  if (!sql(db, "SELECT 1 FROM sqlite_master WHERE name = ?").get(name)) return false;
  if (db.inTransaction) return true;
  if (!known) existingTables.set(db, (known = new Set()));
  known.add(name);
  return true;
}

/** Writes a vector and logs the change (inside the caller's transaction). */
export function putVector(db: Db, context: string, space: VectorSpace, model: string, label: number, vector: Float32Array): number {
  const table = ensureVectorTable(db, space, model, vector.length);
  sql(db, `INSERT OR REPLACE INTO ${table} (id, context, embedding) VALUES (?, ?, ?)`).run(label, context, bytesOf(vector));
  return logChange(db, context, space, model, label, "add", vector);
}

/** Removes a vector from every model's table for this space and logs the change. */
export function deleteVector(db: Db, context: string, space: VectorSpace, model: string, label: number): number | undefined {
  if (!vectorTableExists(db, space, model)) return undefined;
  const info = sql(db, `DELETE FROM ${tableName(space, model)} WHERE id = ?`).run(label);
  return info.changes > 0 ? logChange(db, context, space, model, label, "remove") : undefined;
}

/** A vector write, as the engine hands it to the ANN index after commit (see `onVectorChange`). */
export interface LoggedVectorWrite {
  space: VectorSpace;
  model: string;
  change: VectorChange;
}

const observers = new WeakMap<Db, (write: LoggedVectorWrite) => void>();

/**
 * Registers the one observer of a connection's vector writes: the SQLite engine, which buffers them during a
 * transaction and tells the vector indexes after it commits (store/sqlite/writer.ts). Writers never do.
 */
export function onVectorChange(db: Db, observer: (write: LoggedVectorWrite) => void): void {
  observers.set(db, observer);
}

function logChange(
  db: Db,
  context: string,
  space: VectorSpace,
  model: string,
  label: number,
  op: "add" | "remove",
  vector?: Float32Array,
): number {
  const info = sql(db, "INSERT INTO vector_changes (context, space, model, label, op) VALUES (?, ?, ?, ?, ?)")
    .run(context, space, model, label, op);
  const seq = Number(info.lastInsertRowid);
  observers.get(db)?.({ space, model, change: op === "add" ? { seq, label, op, vector: vector! } : { seq, label, op } });
  return seq;
}

export function getVector(db: Db, space: VectorSpace, model: string, label: number): Float32Array | undefined {
  if (!vectorTableExists(db, space, model)) return undefined;
  const blob = sqlPluck(db, `SELECT embedding FROM ${tableName(space, model)} WHERE id = ?`).get(label) as Buffer | undefined;
  return blob ? toFloat32(blob) : undefined;
}

/** A vector's bytes as stored (float32, the platform's byte order: little-endian everywhere Node runs). */
function bytesOf(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function toFloat32(buffer: Buffer): Float32Array {
  // Copy: the Buffer may be a view on a shared pool, and Float32Array needs 4-byte alignment.
  const copy = new Uint8Array(buffer.byteLength);
  copy.set(buffer);
  return new Float32Array(copy.buffer);
}

/** Above this many candidates, one scan of the Context's vectors beats a point lookup per candidate. */
const POINT_LOOKUP_LIMIT = 2_000;

/**
 * Exact cosine search among the rows of `space` with the `candidates`' ids: each vector read by its primary key
 * and scored here. Large candidate sets take one scan of the Context's vectors instead (`nearestInContext`).
 * Serves small or scope-filtered sets, and is the reference the ANN is measured against.
 */
export function exactSearch(
  db: Db,
  context: string,
  space: VectorSpace,
  model: string,
  vector: Float32Array,
  k: number,
  /** The candidates' ids, or a SELECT of one id column with its parameters. */
  candidates: readonly number[] | { sql: string; params: readonly unknown[] },
): { label: number; distance: number }[] {
  if (!vectorTableExists(db, space, model)) return [];
  const ids = "sql" in candidates ? (sqlPluck(db, candidates.sql).all(...candidates.params) as number[]) : candidates;
  if (ids.length === 0) return [];
  if (ids.length > POINT_LOOKUP_LIMIT) {
    const allowed = new Set(ids);
    return nearestInContext(db, context, space, model, vector, k, (label) => allowed.has(label));
  }
  const lookup = sqlPluck(db, `SELECT embedding FROM ${tableName(space, model)} WHERE id = ?`);
  let qnorm = 0;
  for (let i = 0; i < vector.length; i++) qnorm += vector[i]! * vector[i]!;
  const hits: { label: number; distance: number }[] = [];
  for (const id of ids) {
    const blob = lookup.get(id) as Buffer | undefined;
    if (!blob) continue;
    const v = blob.byteOffset % 4 === 0 ? new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4) : toFloat32(blob);
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < v.length; i++) {
      dot += v[i]! * vector[i]!;
      norm += v[i]! * v[i]!;
    }
    hits.push({ label: id, distance: 1 - dot / (Math.sqrt(norm * qnorm) || 1) });
  }
  return hits.sort((a, b) => a.distance - b.distance || a.label - b.label).slice(0, k);
}

/**
 * The `k` nearest vectors of a Context that pass `keep`, by one scan of its vectors (sqlite-vec's cosine
 * distance, every row scored, read nearest first until `k` pass).
 */
function nearestInContext(
  db: Db,
  context: string,
  space: VectorSpace,
  model: string,
  vector: Float32Array,
  k: number,
  keep: (label: number) => boolean,
): { label: number; distance: number }[] {
  const rows = sql(db, `SELECT id AS label, vec_distance_cosine(embedding, ?) AS distance FROM ${tableName(space, model)} WHERE context = ? ORDER BY distance, id`)
    .iterate(bytesOf(vector), context) as IterableIterator<{ label: number; distance: number }>;
  const hits: { label: number; distance: number }[] = [];
  for (const row of rows) {
    if (!keep(row.label)) continue;
    hits.push(row);
    if (hits.length >= k) break;
  }
  return hits;
}

/** Exact KNN over a whole Context (a scan): the reference the ANN index is measured against, and its fallback. */
export function knnSearch(db: Db, context: string, space: VectorSpace, model: string, vector: Float32Array, k: number) {
  if (!vectorTableExists(db, space, model)) return [];
  return nearestInContext(db, context, space, model, vector, k, () => true);
}

/** The SQLite side of a VectorIndex: live vectors and the change log of one (context, space, model). */
export function vectorSource(db: Db, context: string, space: VectorSpace, model: string, dim: number): VectorSource {
  const table = ensureVectorTable(db, space, model, dim);
  const dataVersion = sqlPluck(db, "PRAGMA data_version");
  return {
    dim,
    lastSeq: () =>
      Number(
        (sql(db, "SELECT MAX(seq) AS s FROM vector_changes WHERE context = ? AND space = ? AND model = ?").get(context, space, model) as {
          s: number | null;
        }).s ?? 0,
      ),
    count: () => Number((sql(db, `SELECT COUNT(*) AS n FROM ${table} WHERE context = ?`).get(context) as { n: number }).n),
    *all(batchSize: number) {
      const page = sql(db, `SELECT id, embedding FROM ${table} WHERE context = ? AND id > ? ORDER BY id LIMIT ?`);
      let after = 0;
      for (;;) {
        const rows = page.all(context, after, batchSize) as { id: number; embedding: Buffer }[];
        if (rows.length === 0) return;
        after = rows[rows.length - 1]!.id;
        yield rows.map((r) => ({ label: r.id, vector: toFloat32(r.embedding) }));
      }
    },
    changeAtOrBefore(seq: number): LoggedChange | undefined {
      return sql(db, "SELECT seq, label, op FROM vector_changes WHERE context = ? AND space = ? AND model = ? AND seq <= ? ORDER BY seq DESC LIMIT 1")
        .get(context, space, model, seq) as LoggedChange | undefined;
    },
    vector(label: number): Float32Array | undefined {
      const blob = sqlPluck(db, `SELECT embedding FROM ${table} WHERE id = ?`).get(label) as Buffer | undefined;
      return blob ? toFloat32(blob) : undefined;
    },
    // Changes with every commit of another connection to the file, never with this connection's own.
    version: () => dataVersion.get() as number,
    changesSince(seq: number, limit: number): VectorChange[] {
      const rows = sql(db, 
          `SELECT c.seq, c.label, c.op, v.embedding FROM vector_changes c LEFT JOIN ${table} v ON v.id = c.label
            WHERE c.context = ? AND c.space = ? AND c.model = ? AND c.seq > ? ORDER BY c.seq LIMIT ?`,
        )
        .all(context, space, model, seq, limit) as { seq: number; label: number; op: "add" | "remove"; embedding: Buffer | null }[];
      return rows.map((r) => {
        // An "add" whose vector is gone was removed later; the later "remove" in the log settles it.
        if (r.op === "add" && r.embedding) return { seq: r.seq, label: r.label, op: "add", vector: toFloat32(r.embedding) };
        return { seq: r.seq, label: r.label, op: "remove" };
      });
    },
  };
}
