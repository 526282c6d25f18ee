import { liveIdsInScope, sameSlotIds, similarAmong } from "../neighbours.js";
import { getVector } from "../vectors.js";
import type { NeighbourCandidates, NeighbourQuery } from "../store.js";
import type { WriteParts } from "./read-writes.js";
import { IdSet } from "./record-search.js";

/**
 * Up to this many live records in the scope, near restatements come from an exact scan of their vectors; above
 * it, from the ANN index searched within the scope (a scan of a Context-wide scope of 30k notes read 30k vectors
 * out of hnswlib and stalled each ingest of a note for 2–3 s at 100k turns; the filtered search takes
 * milliseconds, since a scope that large passes a good share of the graph's points).
 */
export const SCAN_LIMIT = 1_000;
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
  const vectorOf = (label: number): ArrayLike<number> | undefined => index?.vectorOf(label) ?? getVector(p.db, "records", model, label);
  const query = vectorOf(id);
  if (!query) return [];
  if (ids.length > SCAN_LIMIT) {
    const inScope = new IdSet(ids);
    const hits = p.indexes.get("records", model).search(Float32Array.from(query), NEAREST + 1, (label) => label !== id && inScope.has(label));
    if (hits) return hits.filter((h) => 1 - h.distance >= minSimilarity).map((h) => ({ id: h.label, similarity: 1 - h.distance }));
  }
  return similarAmong(query, ids, vectorOf, minSimilarity, id);
}
