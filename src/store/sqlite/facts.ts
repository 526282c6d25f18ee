import { reconcile } from "./reconcile.js";
import type { FactsWrite, FactsWritten } from "../store.js";
import type { SearchParts } from "./record-search.js";

/**
 * The reconciler (reconcile.ts: its rules, synchronous over this connection) run for one write of
 * facts. Inside the caller's transaction; the writer tells the vector index of the vectors it changed.
 */
export function reconcileFacts(p: SearchParts, write: FactsWrite): FactsWritten {
  const { traceId, outcomes, evictedCacheIds } = reconcile(p.db, { context: p.context, ...write });
  return { traceId, outcomes, evictedCacheIds };
}
