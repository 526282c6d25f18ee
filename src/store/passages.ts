import { sql, sqlPluck, type Db } from "./database.js";

/**
 * A passage is a stored turn, searchable as it was said beside the records extracted from it. Facts stay the
 * unit of reconciliation, caching and lifecycle; a passage lives only as long as they do:
 * - a turn whose extraction created records is a passage while at least one of them is live (not expired, not
 *   forgotten, its `expires_at` not passed): when they have all expired or been forgotten, so has the passage,
 *   and it never outlives the longest-lived of them;
 * - a turn that yielded no record (a question, a greeting, a failed or pending extraction) is a passage until
 *   `passage_expires_at`: its creation plus the context TTL that retention gives its scope.
 */
export interface PassageRow {
  id: number;
  scope_key: string;
  role: string;
  content: string;
  speaker: string | null;
  occurred_at: number | null;
  metadata: string | null;
  created_at: number;
  passage_expires_at: number | null;
  facts: number;
}

/**
 * SQL condition (over `turns t`) for a passage that is retrievable at `?` (twice: pass `now` two times). The
 * `+` keeps `r.context` from choosing the index: with it, SQLite took records_by_importance (context, …) over
 * records_by_source_id and scanned the whole Context's records once per passage (360 ms for a small scope's
 * query at 10k turns instead of a few).
 */
export const LIVE_PASSAGE = `(CASE WHEN t.facts > 0
    THEN EXISTS (SELECT 1 FROM records r WHERE r.source_kind = 'turn' AND r.source_id = 'turn_' || t.id AND +r.context = t.context
                   AND r.status NOT IN ('expired', 'forgotten') AND (r.expires_at IS NULL OR r.expires_at > ?))
    ELSE (t.passage_expires_at IS NULL OR t.passage_expires_at > ?) END)`;

/** When a turn that yields no record stops being a passage (called when the turn is stored). */
export function setPassageExpiry(db: Db, turnId: number, expiresAt: number | null): void {
  sql(db, "UPDATE turns SET passage_expires_at = ? WHERE id = ?").run(expiresAt, turnId);
}

/**
 * Counts the records a turn's extraction wrote (inside the extraction's transaction): from then on its passage
 * lives as long as one of them does.
 */
export function countPassageFacts(db: Db, turnId: number): void {
  sql(db, "UPDATE turns SET facts = (SELECT COUNT(*) FROM records WHERE source_kind = 'turn' AND source_id = ?) WHERE id = ?").run(`turn_${turnId}`, turnId);
}

/** Documents (turns) in the passage index: bounds the cost of a term, as `MAX(id)` does for records. */
export function passageIndexSize(db: Db): number {
  return (sqlPluck(db, "SELECT MAX(id) FROM turns").get() as number | null) ?? 0;
}

/** Passages by id that are visible to `scopeKeys` and retrievable at `now`, in no particular order. */
export function getLivePassages(db: Db, context: string, ids: readonly number[], scopeKeys: readonly string[], now: number): PassageRow[] {
  if (ids.length === 0) return [];
  return sql(
    db,
    `SELECT t.id, t.scope_key, t.role, t.content, t.speaker, t.occurred_at, t.metadata, t.created_at, t.passage_expires_at, t.facts
       FROM turns t WHERE t.id IN (${ids.map(() => "?").join(",")}) AND t.context = ?
        AND t.scope_key IN (${scopeKeys.map(() => "?").join(",")}) AND ${LIVE_PASSAGE}`,
  ).all(...ids, context, ...scopeKeys, now, now) as PassageRow[];
}
