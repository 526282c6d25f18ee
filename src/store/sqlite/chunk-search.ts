import { sql } from "../database.js";
import type { ChunkRow, QueryText } from "../store.js";
import { exactSearch } from "../vectors.js";
import { reciprocalRankFusion } from "../../pipeline/recall/fuse.js";
import { ftsQuery } from "../../pipeline/recall/normalize.js";
import { EXACT_SCOPE_LIMIT, type SearchParts } from "./record-search.js";

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Document chunks for the query: BM25 and vector (ANN over the Context, or exact for a small scope) fused
 * with RRF, at most `limit`. Only when the Context has chunks in scope at all.
 */
export function chunkCandidates(
  p: SearchParts,
  q: { text: QueryText; scopeKeys: readonly string[]; vector?: { model: string; vector: Float32Array }; candidates: number; limit: number },
): { row: ChunkRow; score: number }[] {
  const { db, context } = p;
  const marks = q.scopeKeys.map(() => "?").join(",");
  const visibleSql = `SELECT id FROM chunks WHERE context = ? AND scope_key IN (${marks})`;
  const params = [context, ...q.scopeKeys];
  const count = (sql(db, `SELECT COUNT(*) AS n FROM (${visibleSql} LIMIT ${EXACT_SCOPE_LIMIT + 1})`).get(...params) as { n: number }).n;
  if (count === 0) return [];
  const match = ftsQuery(q.text.query, q.text.keywords);
  // A join, not `rowid IN (subquery)`, which SQLite re-runs per match.
  const fts = match
    ? (sql(
        db,
        `SELECT f.rowid AS id FROM chunks_fts f JOIN chunks c ON c.id = f.rowid
          WHERE chunks_fts MATCH ? AND c.context = ? AND c.scope_key IN (${marks}) ORDER BY bm25(chunks_fts) LIMIT ?`,
      ).all(match, ...params, q.candidates) as { id: number }[]).map((r) => r.id)
    : [];
  let vector: number[] = [];
  if (q.vector) {
    const hits = count > EXACT_SCOPE_LIMIT ? p.indexes.get("chunks", q.vector.model).search(q.vector.vector, q.candidates * 4) : null;
    if (hits) {
      const allowed = new Set(
        (sql(db, `${visibleSql} AND id IN (${hits.map(() => "?").join(",") || "NULL"})`).all(...params, ...hits.map((h) => h.label)) as { id: number }[]).map((r) => r.id),
      );
      vector = hits.filter((h) => allowed.has(h.label)).map((h) => h.label);
    } else {
      vector = exactSearch(db, context, "chunks", q.vector.model, q.vector.vector, q.candidates, { sql: visibleSql, params }).map((h) => h.label);
    }
  }
  const fused = [...reciprocalRankFusion([vector, fts])].sort((a, b) => b[1] - a[1]).slice(0, q.limit);
  if (fused.length === 0) return [];
  const rows = chunksByIds(p, fused.map(([id]) => id));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return fused.filter(([id]) => byId.has(id)).map(([id, score]) => ({ row: byId.get(id)!, score: round(score) }));
}

/** Chunks with their document's title, by id (order not kept). */
export function chunksByIds(p: SearchParts, ids: readonly number[]): ChunkRow[] {
  if (ids.length === 0) return [];
  return sql(
    p.db,
    `SELECT c.id, c.document_id, c.scope_key, c.ord, c.text, d.title FROM chunks c JOIN documents d ON d.id = c.document_id
      WHERE c.id IN (${ids.map(() => "?").join(",")})`,
  ).all(...ids) as ChunkRow[];
}
