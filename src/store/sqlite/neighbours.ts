import { liveIdsInScope, sameSlotIds, similarAmong } from "../neighbours.js";
import { getVector } from "../vectors.js";
import type { NeighbourCandidates, NeighbourQuery } from "../store.js";
import type { WriteParts } from "./read-writes.js";

/**
 * The background reconciliation pass's neighbours, never looking beyond a record's own scope: same-slot records
 * from an index lookup, near restatements from an exact scan of the scope's vectors (read from the ANN index's
 * memory when it is open, else from the vector table), so the cost does not grow with the rest of the Context.
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

/** Records among `ids` at least `minSimilarity` to record `id` (cosine), by an exact scan. */
function similarInScope(p: WriteParts, model: string, id: number, ids: readonly number[], minSimilarity: number): { id: number; similarity: number }[] {
  const index = p.indexes.existing("records", model);
  const vectorOf = (label: number): ArrayLike<number> | undefined => index?.vectorOf(label) ?? getVector(p.db, "records", model, label);
  const query = vectorOf(id);
  return query ? similarAmong(query, ids, vectorOf, minSimilarity, id) : [];
}
