import { reciprocalRankFusion } from "../../pipeline/recall/fuse.js";
import type { DocumentRow, DocumentStatus } from "../documents.js";
import type { ChunkRow } from "../store.js";
import { one, query, type Queryable } from "./connection.js";
import type { Tx } from "./reconcile-sql.js";
import { cosineDistance, fromVectorColumn, putVector, type VectorSet } from "./vector-sets.js";

// Every column but `text` (up to 5 MB; its chunks carry it), plus the chunk count.
const COLUMNS = `d.id, d.context, d.scope_key, d.title, d.metadata, d.status, d.error, d.attempts, d.principal, d.on_behalf_of,
  d.session, d.created_at, d.updated_at, (SELECT count(*)::int FROM chunks c WHERE c.document_id = d.id) AS chunks`;

/** Stores a document and its chunks as `pending`, its first indexing attempt started. */
export async function storeDocument(
  tx: Tx,
  doc: Pick<DocumentRow, "scope_key" | "title" | "metadata" | "principal" | "on_behalf_of" | "session" | "created_at"> & { text: string },
  pieces: readonly string[],
): Promise<number> {
  const id = (await one<{ id: number }>(
    tx.client,
    `INSERT INTO documents (context, scope_key, title, text, metadata, status, attempts, principal, on_behalf_of, session, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, 'pending', 1, $6, $7, $8, $9, $9) RETURNING id`,
    [tx.context, doc.scope_key, doc.title, doc.text, doc.metadata, doc.principal, doc.on_behalf_of, doc.session, doc.created_at],
  ))!.id;
  if (pieces.length > 0) {
    await query(
      tx.client,
      `INSERT INTO chunks (context, document_id, scope_key, ord, text, created_at)
       SELECT $1, $2, $3, p.ord - 1, p.text, $4 FROM unnest($5::text[]) WITH ORDINALITY AS p(text, ord) ORDER BY p.ord`,
      [tx.context, id, doc.scope_key, doc.created_at, [...pieces]],
    );
  }
  return id;
}

export async function getDocument(db: Queryable, context: string, id: number): Promise<DocumentRow | undefined> {
  return one<DocumentRow>(db, `SELECT ${COLUMNS} FROM documents d WHERE d.id = $1 AND d.context = $2`, [id, context]);
}

export async function documentChunks(db: Queryable, context: string, documentId: number): Promise<{ id: number; text: string }[]> {
  return query(db, "SELECT id, text FROM chunks WHERE document_id = $1 AND context = $2 ORDER BY ord", [documentId, context]);
}

export async function listDocuments(
  db: Queryable,
  context: string,
  filter: { status?: DocumentStatus; scopeKeys?: readonly string[]; touchedBefore?: number; limit: number },
): Promise<DocumentRow[]> {
  const values: unknown[] = [context];
  const where = ["d.context = $1"];
  if (filter.status) (values.push(filter.status), where.push(`d.status = $${values.length}`));
  if (filter.touchedBefore !== undefined) (values.push(filter.touchedBefore), where.push(`d.updated_at < $${values.length}`));
  if (filter.scopeKeys) (values.push([...filter.scopeKeys]), where.push(`d.scope_key = ANY($${values.length}::text[])`));
  values.push(filter.limit);
  return query<DocumentRow>(db, `SELECT ${COLUMNS} FROM documents d WHERE ${where.join(" AND ")} ORDER BY d.id LIMIT $${values.length}`, values);
}

/** Counts a failed attempt: `failed` once `maxAttempts` attempts have started, else `pending`; undefined if gone or indexed. */
export async function failDocumentAttempt(tx: Tx, id: number, error: string, maxAttempts: number, now: number): Promise<DocumentStatus | undefined> {
  return (await one<{ status: DocumentStatus }>(
    tx.client,
    `UPDATE documents SET status = CASE WHEN attempts >= $1 THEN 'failed' ELSE 'pending' END, error = $2, updated_at = $3
      WHERE id = $4 AND context = $5 AND status <> 'indexed' RETURNING status`,
    [maxAttempts, error, now, id, tx.context],
  ))?.status;
}

/** Removes a document, its chunks and their vectors, and the cached answers citing them; undefined when absent. */
export async function removeDocument(tx: Tx, id: number, chunkSet: (model: string) => VectorSet | undefined): Promise<{ chunks: number } | undefined> {
  const doc = await one(tx.client, "SELECT id FROM documents WHERE id = $1 AND context = $2 FOR UPDATE", [id, tx.context]);
  if (!doc) return undefined;
  const chunks = await query<{ id: number; embedding_model: string | null }>(tx.client, "SELECT id, embedding_model FROM chunks WHERE document_id = $1", [id]);
  const chunkIds = chunks.map((c) => c.id);
  const evicted = (await query<{ cache_id: number }>(tx.client, "SELECT DISTINCT cache_id FROM cache_chunk_deps WHERE chunk_id = ANY($1::bigint[])", [chunkIds])).map((r) => r.cache_id);
  if (evicted.length > 0) {
    await query(tx.client, "DELETE FROM cache_entries WHERE id = ANY($1::bigint[])", [evicted]);
    tx.entries.push({ kind: "cache", ids: evicted });
  }
  for (const c of chunks) {
    const set = c.embedding_model ? chunkSet(c.embedding_model) : undefined;
    if (set && (await query(tx.client, `DELETE FROM ${set.table} WHERE label = $1 RETURNING label`, [c.id])).length > 0) {
      tx.entries.push({ kind: "vectors", space: "chunks", model: set.model, label: c.id, op: "remove" });
    }
  }
  await query(tx.client, "DELETE FROM documents WHERE id = $1", [id]);
  return { chunks: chunks.length };
}

/**
 * Document chunks for a query in scope: full text (`ts_rank_cd`) and exact cosine over the scope's chunk vectors,
 * fused by reciprocal rank (k 60, as SQLite's chunks.ts), at most `limit`, best first.
 */
export async function chunkCandidates(
  db: Queryable,
  context: string,
  set: VectorSet | undefined,
  q: { terms: readonly string[]; scopeKeys: readonly string[]; vector?: Float32Array; candidates: number; limit: number },
): Promise<{ row: ChunkRow; score: number }[]> {
  const fts = q.terms.length === 0
    ? []
    : (await query<{ id: number }>(
        db,
        `WITH q AS (SELECT string_agg(quote_literal(t), ' | ')::tsquery AS query FROM unnest($3::text[]) AS t)
         SELECT c.id FROM chunks c, q WHERE c.tsv @@ q.query AND c.context = $1 AND c.scope_key = ANY($2::text[])
          ORDER BY ts_rank_cd(c.tsv, q.query) DESC, c.id LIMIT $4`,
        [context, [...q.scopeKeys], [...q.terms], q.candidates],
      )).map((r) => r.id);
  let vector: number[] = [];
  if (q.vector && set) {
    const rows = await query<{ label: number; embedding: unknown }>(
      db,
      `SELECT v.label, v.embedding FROM ${set.table} v JOIN chunks c ON c.id = v.label WHERE c.context = $1 AND c.scope_key = ANY($2::text[])`,
      [context, [...q.scopeKeys]],
    );
    vector = rows
      .map((r) => ({ id: r.label, d: cosineDistance(q.vector!, fromVectorColumn(r.embedding)) }))
      .sort((a, b) => a.d - b.d || a.id - b.id)
      .slice(0, q.candidates)
      .map((r) => r.id);
  }
  const fused = [...reciprocalRankFusion([vector, fts])].sort((a, b) => b[1] - a[1] || b[0] - a[0]).slice(0, q.limit);
  if (fused.length === 0) return [];
  const rows = await query<ChunkRow>(
    db,
    "SELECT c.id, c.document_id, c.scope_key, c.ord, c.text, d.title FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ANY($1::bigint[])",
    [fused.map(([id]) => id)],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return fused.filter(([id]) => byId.has(id)).map(([id, score]) => ({ row: byId.get(id)!, score: Math.round(score * 1000) / 1000 }));
}

/** Writes chunk vectors (logged) and marks them embedded with `set`'s model, inside the caller's transaction. */
export async function putChunkVectors(tx: Tx, set: VectorSet, documentId: number, vectors: readonly Float32Array[]): Promise<void> {
  const chunks = await query<{ id: number }>(tx.client, "SELECT id FROM chunks WHERE document_id = $1 ORDER BY ord", [documentId]);
  for (const [i, chunk] of chunks.entries()) {
    const vector = vectors[i];
    if (!vector) continue;
    await putVector(tx.client, set, tx.context, chunk.id, vector);
    await query(tx.client, "UPDATE chunks SET embedding_model = $1 WHERE id = $2", [set.model, chunk.id]);
    tx.entries.push({ kind: "vectors", space: "chunks", model: set.model, label: chunk.id, op: "add" });
  }
}
