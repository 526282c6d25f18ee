import { sql } from "../../store/database.js";
import type { Core } from "../../core.js";
import { exactSearch } from "../../store/vectors.js";

/** Past queries at least this similar lend their returned records a boost. */
const SIMILAR = 0.8;
const RECENT_QUERIES = 2_000;

/**
 * The ranking feedback loop (spec: "the ranker uses aggregated retrieval_trace.returned similarity"):
 * records returned for similar past queries in the caller's visible scopes get a boost equal to the summed
 * similarity of those queries. Reads `queries` and the `returned` edges of their retrieval traces.
 */
export function feedbackBoosts(core: Core, vector: Float32Array, model: string, scopeKeys: readonly string[]): Map<number, number> {
  const { db, context } = core;
  const marks = scopeKeys.map(() => "?").join(",");
  const similar = exactSearch(
    db,
    context,
    "queries",
    model,
    vector,
    20,
    `SELECT id FROM queries WHERE context = ? AND scope_key IN (${marks}) ORDER BY id DESC LIMIT ${RECENT_QUERIES}`,
    [context, ...scopeKeys],
  ).filter((h) => 1 - h.distance >= SIMILAR);
  const boosts = new Map<number, number>();
  if (similar.length === 0) return boosts;
  const traceOf = new Map(
    (
      sql(db, `SELECT id, retrieval_trace_id FROM queries WHERE id IN (${similar.map(() => "?").join(",")})`)
        .all(...similar.map((s) => s.label)) as { id: number; retrieval_trace_id: number }[]
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
