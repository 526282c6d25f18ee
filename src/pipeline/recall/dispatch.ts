import type { Db } from "../../store/database.js";
import type { QueryUnderstanding } from "../../models/prompts/query-understanding.js";
import { visibleOfKind, type RecordKind, type RecordRow, type Visible } from "../../store/records.js";

/**
 * Query-type dispatch (spec: models-per-stage, query understanding "dispatches it to the appropriate retrieval
 * tier"). The fused ranking serves every type; the type decides what is read first:
 * - instruction: the scope's standing instructions, then the rest;
 * - chunk: document chunks before records (`chunksFirst`; promptRecords orders the response's input by it);
 * - summary: the consolidated view, observation records (consolidation's, reflection's insights), before the
 *   facts; with none, the response stage summarises the top facts (the local composer: `composeSummary`);
 * - fact: the fused ranking as it is.
 */
type QueryType = QueryUnderstanding["type"];

export const READ_FIRST: Readonly<Partial<Record<QueryType, RecordKind>>> = { instruction: "instruction", summary: "observation" };

export function dispatchRecords(db: Db, type: QueryType, visible: Visible, ranked: readonly RecordRow[], limit: number): RecordRow[] {
  const kind = READ_FIRST[type];
  if (!kind) return ranked.slice(0, limit);
  // Those of the kind that ranked keep their order and lead; the scope's others of the kind follow them.
  const ofKind = ranked.filter((r) => r.kind === kind);
  const seen = new Set(ofKind.map((r) => r.id));
  for (const row of visibleOfKind(db, visible, kind, limit)) if (!seen.has(row.id)) (ofKind.push(row), seen.add(row.id));
  return [...ofKind, ...ranked.filter((r) => !seen.has(r.id))].slice(0, limit);
}
