import { sql } from "../database.js";
import { cacheByNormQuery, cacheByQueryIds, cacheDeps, cacheEntryValid, type CacheEntryRow } from "../cache.js";
import type { ChunkRow } from "../store.js";
import { exactSearch } from "../vectors.js";
import type { SearchParts } from "./record-search.js";

// What tiers 1 and 2 and the ranking feedback read: cached answers, and past queries with their vectors.

/** Cache entries for this exact normalised query in one cache scope, newest first. */
export function cacheByQuery(p: SearchParts, cacheKey: string, normQuery: string): CacheEntryRow[] {
  return cacheByNormQuery(p.db, p.context, cacheKey, normQuery);
}

/**
 * Entries of past queries with this signature in one cache scope whose vectors are more than `threshold`
 * similar, most similar first (an exact search over that scope's cached queries).
 */
export function cacheBySimilarity(
  p: SearchParts,
  q: { cacheKey: string; signature: string; model: string; vector: Float32Array; k: number; threshold: number },
): { entry: CacheEntryRow; similarity: number }[] {
  const hits = exactSearch(p.db, p.context, "queries", q.model, q.vector, q.k, {
    sql: "SELECT query_id FROM cache_entries WHERE context = ? AND scope_key = ? AND signature = ?",
    params: [p.context, q.cacheKey, q.signature],
  }).filter((h) => 1 - h.distance > q.threshold);
  if (hits.length === 0) return [];
  const entries = cacheByQueryIds(p.db, hits.map((h) => h.label));
  const out: { entry: CacheEntryRow; similarity: number }[] = [];
  for (const hit of hits) {
    const entry = entries.find((e) => e.query_id === hit.label && e.scope_key === q.cacheKey && e.signature === q.signature);
    if (entry) out.push({ entry, similarity: 1 - hit.distance });
  }
  return out;
}

/** An entry's cited records and chunks when every one still stands (see `cacheEntryValid`), else undefined. */
export function cacheEntryUsable(p: SearchParts, entryId: number, now: number, minTrust: number): { deps: number[]; chunks: ChunkRow[] } | undefined {
  // An evicted entry has no deps left to be stale: it is gone, not usable.
  if (!sql(p.db, "SELECT 1 FROM cache_entries WHERE id = ? AND context = ?").get(entryId, p.context)) return undefined;
  if (!cacheEntryValid(p.db, entryId, now, minTrust)) return undefined;
  const chunks = sql(
    p.db,
    `SELECT c.id, c.document_id, c.scope_key, c.ord, c.text, d.title FROM cache_chunk_deps x JOIN chunks c ON c.id = x.chunk_id
       JOIN documents d ON d.id = c.document_id WHERE x.cache_id = ? ORDER BY c.id`,
  ).all(entryId) as ChunkRow[];
  return { deps: cacheDeps(p.db, entryId), chunks };
}

/**
 * The ranking feedback loop (spec: "the ranker uses aggregated retrieval_trace.returned similarity"): records
 * returned for the `recent` past queries in scope at least `similar` alike get a boost equal to the summed
 * similarity of those queries.
 */
export function feedbackBoosts(
  p: SearchParts,
  q: { model: string; vector: Float32Array; scopeKeys: readonly string[]; similar: number; recent: number },
): Map<number, number> {
  const { db, context } = p;
  const marks = q.scopeKeys.map(() => "?").join(",");
  const similar = exactSearch(
    db,
    context,
    "queries",
    q.model,
    q.vector,
    20,
    { sql: `SELECT id FROM queries WHERE context = ? AND scope_key IN (${marks}) ORDER BY id DESC LIMIT ${q.recent}`, params: [context, ...q.scopeKeys] },
  ).filter((h) => 1 - h.distance >= q.similar);
  const boosts = new Map<number, number>();
  if (similar.length === 0) return boosts;
  const traceOf = new Map(
    (
      sql(db, `SELECT id, retrieval_trace_id FROM queries WHERE id IN (${similar.map(() => "?").join(",")})`).all(...similar.map((s) => s.label)) as {
        id: number;
        retrieval_trace_id: number;
      }[]
    ).map((r) => [r.id, r.retrieval_trace_id]),
  );
  // Records only: a retrieval trace also has `returned` edges to chunks and passages (turns), whose ids are
  // numbers of other tables.
  const returned = sql(db, "SELECT dst_id FROM edges WHERE src_type = 'trace' AND src_id = ? AND kind = 'returned' AND dst_type = 'record'");
  for (const hit of similar) {
    const trace = traceOf.get(hit.label);
    if (trace === undefined) continue;
    for (const { dst_id } of returned.all(trace) as { dst_id: string }[]) {
      const id = Number(dst_id);
      boosts.set(id, (boosts.get(id) ?? 0) + (1 - hit.distance));
    }
  }
  return boosts;
}
