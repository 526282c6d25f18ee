import { sql, sqlPluck, type Db } from "./database.js";
import type { LoggedChange, VectorChange, VectorSource } from "./vector-index.js";

/** What a vector belongs to. Each (space, model) pair has its own vec0 table: its dimension is fixed. */
export type VectorSpace = "records" | "chunks" | "queries";

/** The table whose primary keys are the labels of each vector space. */
const OWNER: Record<VectorSpace, string> = { records: "records", chunks: "chunks", queries: "queries" };

function tableName(space: VectorSpace, model: string): string {
  return `vec_${space}_${model.replace(/[^a-zA-Z0-9]/g, "_")}`;
}

const ensured = new WeakMap<Db, Set<string>>();

/** Creates the vec0 table for (space, model) if needed. Cosine distance; the Context is a partition key. */
export function ensureVectorTable(db: Db, space: VectorSpace, model: string, dim: number): string {
  const table = tableName(space, model);
  let seen = ensured.get(db);
  if (!seen) ensured.set(db, (seen = new Set()));
  if (!seen.has(table)) {
    db.exec(
      `CREATE VIRTUAL TABLE IF NOT EXISTS ${table} USING vec0 (context TEXT PARTITION KEY, embedding float[${dim}] distance_metric=cosine)`,
    );
    seen.add(table);
  }
  return table;
}

/** The dimension a model's vector table was created with, or undefined when it has none yet. */
export function vectorTableDimension(db: Db, space: VectorSpace, model: string): number | undefined {
  const row = sql(db, "SELECT sql FROM sqlite_master WHERE name = ?").get(tableName(space, model)) as { sql: string | null } | undefined;
  const m = row?.sql ? /float\[(\d+)\]/.exec(row.sql) : null;
  return m ? Number(m[1]) : undefined;
}

export function vectorTableExists(db: Db, space: VectorSpace, model: string): boolean {
  return !!sql(db, "SELECT 1 FROM sqlite_master WHERE name = ?").get(tableName(space, model));
}

/** Writes a vector and logs the change (inside the caller's transaction). */
export function putVector(db: Db, context: string, space: VectorSpace, model: string, label: number, vector: Float32Array): number {
  const table = ensureVectorTable(db, space, model, vector.length);
  sql(db, `DELETE FROM ${table} WHERE rowid = ?`).run(BigInt(label));
  sql(db, `INSERT INTO ${table} (rowid, context, embedding) VALUES (?, ?, ?)`).run(BigInt(label), context, vector);
  return logChange(db, context, space, model, label, "add", vector);
}

/** Removes a vector from every model's table for this space and logs the change. */
export function deleteVector(db: Db, context: string, space: VectorSpace, model: string, label: number): number | undefined {
  if (!vectorTableExists(db, space, model)) return undefined;
  const info = sql(db, `DELETE FROM ${tableName(space, model)} WHERE rowid = ?`).run(BigInt(label));
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
  const row = sql(db, `SELECT embedding FROM ${tableName(space, model)} WHERE rowid = ?`).get(BigInt(label)) as
    | { embedding: Buffer }
    | undefined;
  return row ? toFloat32(row.embedding) : undefined;
}

export function toFloat32(buffer: Buffer): Float32Array {
  // Copy: the Buffer may be a view on a shared pool, and Float32Array needs 4-byte alignment.
  const copy = new Uint8Array(buffer.byteLength);
  copy.set(buffer);
  return new Float32Array(copy.buffer);
}

/** Above this many candidates, one scan of the Context's partition beats a point lookup per candidate. */
const POINT_LOOKUP_LIMIT = 2_000;

/**
 * Exact cosine search among the rows of `space` with the `candidates`' ids. Vectors are fetched by point
 * lookups and scored here: vec0 answers `rowid IN (…)` by scanning the whole table. Large candidate sets take one KNN scan of the Context's
 * partition instead. Serves small or scope-filtered sets, and is the reference the ANN is measured against.
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
  /** Vectors already in memory (the ANN index's copies): a vec0 point lookup reads far more than one vector. */
  inMemory?: (label: number) => ArrayLike<number> | undefined,
): { label: number; distance: number }[] {
  if (!vectorTableExists(db, space, model)) return [];
  const ids = "sql" in candidates ? (sqlPluck(db, candidates.sql).all(...candidates.params) as number[]) : candidates;
  if (ids.length === 0) return [];
  if (ids.length > POINT_LOOKUP_LIMIT) {
    const allowed = new Set(ids);
    return knnSearch(db, context, space, model, vector, 4096).filter((h) => allowed.has(h.label)).slice(0, k);
  }
  const lookup = sqlPluck(db, `SELECT embedding FROM ${tableName(space, model)} WHERE rowid = ?`);
  const hits: { label: number; distance: number }[] = [];
  for (const id of ids) {
    let v = inMemory?.(id);
    if (!v) {
      const blob = lookup.get(BigInt(id)) as Buffer | undefined;
      if (!blob) continue;
      v = new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
    }
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < v.length; i++) {
      dot += v[i]! * vector[i]!;
      norm += v[i]! * v[i]!;
    }
    let qnorm = 0;
    for (let i = 0; i < vector.length; i++) qnorm += vector[i]! * vector[i]!;
    hits.push({ label: id, distance: 1 - dot / (Math.sqrt(norm * qnorm) || 1) });
  }
  return hits.sort((a, b) => a.distance - b.distance || a.label - b.label).slice(0, k);
}

/** sqlite-vec KNN over a whole Context partition (full scan): the reference and the large-scope fallback. */
export function knnSearch(db: Db, context: string, space: VectorSpace, model: string, vector: Float32Array, k: number) {
  if (!vectorTableExists(db, space, model)) return [];
  const rows = sql(db, 
      `SELECT rowid AS label, distance FROM ${tableName(space, model)}
        WHERE embedding MATCH ? AND k = ? AND context = ? ORDER BY distance`,
    )
    .all(vector, Math.min(k, 4096), context) as { label: number | bigint; distance: number }[];
  return rows.map((r) => ({ label: Number(r.label), distance: r.distance }));
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
    // Labels come from the owning table's primary key, vectors by point lookup: paging the vec0 table itself
    // with `rowid > ? LIMIT n` rescans it on every page (a 100k rebuild spent three quarters of its time there).
    *all(batchSize: number) {
      const labels = sqlPluck(db, `SELECT id FROM ${OWNER[space]} WHERE id > ? AND context = ? ORDER BY id LIMIT ?`);
      const lookup = sqlPluck(db, `SELECT embedding FROM ${table} WHERE rowid = ?`);
      let after = 0;
      for (;;) {
        const ids = labels.all(after, context, batchSize) as number[];
        if (ids.length === 0) return;
        after = ids[ids.length - 1]!;
        const batch: { label: number; vector: Float32Array }[] = [];
        for (const id of ids) {
          const blob = lookup.get(BigInt(id)) as Buffer | undefined;
          if (blob) batch.push({ label: id, vector: toFloat32(blob) });
        }
        if (batch.length > 0) yield batch;
      }
    },
    changeAtOrBefore(seq: number): LoggedChange | undefined {
      return sql(db, "SELECT seq, label, op FROM vector_changes WHERE context = ? AND space = ? AND model = ? AND seq <= ? ORDER BY seq DESC LIMIT 1")
        .get(context, space, model, seq) as LoggedChange | undefined;
    },
    vector(label: number): Float32Array | undefined {
      const blob = sqlPluck(db, `SELECT embedding FROM ${table} WHERE rowid = ?`).get(BigInt(label)) as Buffer | undefined;
      return blob ? toFloat32(blob) : undefined;
    },
    // Changes with every commit of another connection to the file, never with this connection's own.
    version: () => dataVersion.get() as number,
    changesSince(seq: number, limit: number): VectorChange[] {
      const rows = sql(db, 
          `SELECT c.seq, c.label, c.op, v.embedding FROM vector_changes c LEFT JOIN ${table} v ON v.rowid = c.label
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
