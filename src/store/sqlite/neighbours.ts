import { liveIdsInScope, sameSlotIds, similarAmong } from "../neighbours.js";
import { getVector } from "../vectors.js";
import type { NeighbourCandidates, NeighbourQuery } from "../store.js";
import type { WriteParts } from "./read-writes.js";
import { IdSet } from "./record-search.js";

/**
 * Near restatements come from an exact scan of the scope's vectors, unless the scope holds more than SCAN_LIMIT
 * live records and either at least 1/ANN_SHARE of the ANN index's or more than SCAN_MAX: then from the index
 * searched within the scope. A scan of a Context-wide scope of 25k notes read 25k vectors out of hnswlib (more
 * than its cache of recent vectors holds, ~11k) and stalled each ingest of a note for 2–3 s at 100k turns, where
 * the filtered search takes milliseconds; but a filter that passes few of the graph's points makes hnswlib walk
 * most of it (a LoCoMo user's 1,500 records among 14k: ~30 ms a search, slower than the scan of their cached
 * vectors).
 */
export const SCAN_LIMIT = 1_000;
const ANN_SHARE = 4;
const SCAN_MAX = 8_000;
/** Nearest records asked of the ANN index for a large scope; the near restatements among them are kept. */
const NEAREST = 16;

/**
 * The background reconciliation pass's neighbours, never looking beyond a record's own scope: same-slot records
 * from an index lookup; near restatements from an exact scan of the scope's vectors (read from the ANN index's
 * memory when it is open, else from the vector table) or, for a scope over SCAN_LIMIT, from the ANN index
 * filtered to the scope. Either way the cost does not grow with the rest of the Context.
 */
export function neighbourCandidates(p: WriteParts, queries: readonly NeighbourQuery[], minSimilarity: number): Map<number, NeighbourCandidates> {
  const { db, context } = p;
  const scopeIds = new Map<string, number[]>();
  const out = new Map<number, NeighbourCandidates>();
  for (const q of queries) {
    const sameSlot = q.subject !== null && q.attributes.length > 0 ? sameSlotIds(db, context, q.scopeKey, q.subject, q.attributes, q.recordId) : [];
    let similar: { id: number; similarity: number }[] = [];
    if (q.model !== null) {
      const key = `${q.scopeKey}\u0000${q.model}`;
      let ids = scopeIds.get(key);
      if (!ids) scopeIds.set(key, (ids = liveIdsInScope(db, context, q.scopeKey, q.model)));
      similar = similarInScope(p, q.model, q.recordId, ids, minSimilarity);
    }
    out.set(q.recordId, { sameSlot, similar });
  }
  return out;
}

/** Records among `ids` at least `minSimilarity` to record `id` (cosine). */
function similarInScope(p: WriteParts, model: string, id: number, ids: readonly number[], minSimilarity: number): { id: number; similarity: number }[] {
  const index = p.indexes.existing("records", model);
  const read = (label: number) => getVector(p.db, "records", model, label);
  const vectorOf = (label: number): ArrayLike<number> | undefined => index?.vectorOf(label, read) ?? read(label);
  const query = vectorOf(id);
  if (!query) return [];
  const ann = ids.length > SCAN_LIMIT ? p.indexes.get("records", model) : undefined;
  if (ann && (ids.length * ANN_SHARE >= ann.size || ids.length > SCAN_MAX)) {
    const inScope = new IdSet(ids);
    const hits = ann.search(Float32Array.from(query), NEAREST + 1, (label) => label !== id && inScope.has(label));
    if (hits) return hits.filter((h) => 1 - h.distance >= minSimilarity).map((h) => ({ id: h.label, similarity: 1 - h.distance }));
  }
  return similarAmong(query, ids, vectorOf, minSimilarity, id);
}
