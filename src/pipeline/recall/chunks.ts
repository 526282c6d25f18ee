import type { Core } from "../../core.js";
import { sql } from "../../store/database.js";
import { exactSearch } from "../../store/vectors.js";
import { reciprocalRankFusion } from "./fuse.js";
import { CANDIDATES, EXACT_SCOPE_LIMIT, round, type RetrievalInput } from "./hybrid.js";
import { ftsQuery } from "./normalize.js";

export interface ChunkRow {
  id: number;
  document_id: number;
  scope_key: string;
  ord: number;
  text: string;
  title: string;
}

/** At most this many document chunks go to the response model alongside the records. */
const CHUNKS = 3;

/**
 * Document chunks for the query: BM25 and vector (ANN over the Context, or exact for a small scope) fused
 * with RRF. Only when the Context has chunks at all.
 */
export function chunkCandidates(core: Core, input: RetrievalInput): { row: ChunkRow; score: number }[] {
  const { db, context } = core;
  const marks = input.scopeKeys.map(() => "?").join(",");
  const visibleSql = `SELECT id FROM chunks WHERE context = ? AND scope_key IN (${marks})`;
  const params = [context, ...input.scopeKeys];
  const count = (sql(db, `SELECT COUNT(*) AS n FROM (${visibleSql} LIMIT ${EXACT_SCOPE_LIMIT + 1})`).get(...params) as { n: number }).n;
  if (count === 0) return [];
  const match = ftsQuery(input.query, input.understanding.keywords);
  // A join, not `rowid IN (subquery)`, which SQLite re-runs per match.
  const fts = match
    ? (sql(
        db,
        `SELECT f.rowid AS id FROM chunks_fts f JOIN chunks c ON c.id = f.rowid
          WHERE chunks_fts MATCH ? AND c.context = ? AND c.scope_key IN (${marks}) ORDER BY bm25(chunks_fts) LIMIT ?`,
      ).all(match, ...params, CANDIDATES) as { id: number }[]).map((r) => r.id)
    : [];
  let vector: number[] = [];
  if (input.vector) {
    const hits =
      count > EXACT_SCOPE_LIMIT ? core.vectorIndex("chunks", input.embeddingModel).search(input.vector, CANDIDATES * 4) : null;
    if (hits) {
      const allowed = new Set(
        (sql(db, `${visibleSql} AND id IN (${hits.map(() => "?").join(",") || "NULL"})`).all(...params, ...hits.map((h) => h.label)) as { id: number }[]).map((r) => r.id),
      );
      vector = hits.filter((h) => allowed.has(h.label)).map((h) => h.label);
    } else {
      vector = exactSearch(db, context, "chunks", input.embeddingModel, input.vector, CANDIDATES, visibleSql, params).map((h) => h.label);
    }
  }
  const fused = [...reciprocalRankFusion([vector, fts])].sort((a, b) => b[1] - a[1]).slice(0, CHUNKS);
  if (fused.length === 0) return [];
  const rows = sql(db, 
      `SELECT c.id, c.document_id, c.scope_key, c.ord, c.text, d.title FROM chunks c JOIN documents d ON d.id = c.document_id
        WHERE c.id IN (${fused.map(() => "?").join(",")})`,
    )
    .all(...fused.map(([id]) => id)) as ChunkRow[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return fused.filter(([id]) => byId.has(id)).map(([id, score]) => ({ row: byId.get(id)!, score: round(score) }));
}
