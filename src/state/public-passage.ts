import { toId } from "../store/ids.js";
import type { PassageRow } from "../store/passages.js";
import { parseScopeKey, type Scope } from "../store/scope.js";
import type { RetrievalResult } from "../pipeline/recall/hybrid.js";
import { iso, type MemoryRecord } from "./public-record.js";

/** A stored turn as it was said: what a record was extracted from, or what extraction missed. */
export interface MemoryPassage {
  /** The turn's id (`turn_…`), as in a record's `source.id`. */
  id: string;
  text: string;
  role: string;
  speaker: string | null;
  scope: Scope;
  /** When it was said, if the caller gave `occurred_at`; else null. */
  occurred_at: string | null;
  created_at: string;
  metadata: Record<string, unknown> | null;
}

/**
 * One result of `memory.search`, best first. A record comes with the passage (turn) it was extracted from;
 * a passage comes alone when no record of its turn ranked (extraction wrote none, or none that matched).
 * At most one result per turn.
 */
export type SearchResult =
  | { kind: "record"; score: number; record: MemoryRecord; passage: MemoryPassage | null }
  | { kind: "passage"; score: number; passage: MemoryPassage };

export function toPublicPassage(row: PassageRow): MemoryPassage {
  return {
    id: toId("turn", row.id),
    text: row.content,
    role: row.role,
    speaker: row.speaker,
    scope: parseScopeKey(row.scope_key),
    occurred_at: row.occurred_at === null ? null : iso(row.occurred_at),
    created_at: iso(row.created_at),
    metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, unknown>) : null,
  };
}

/** Retrieval results as callers see them, records given as `records` shows them (reinforced). */
export function toSearchResults(results: readonly RetrievalResult[], records: ReadonlyMap<string, MemoryRecord>): SearchResult[] {
  return results.map((r) =>
    r.kind === "record"
      ? { kind: "record", score: r.score, record: records.get(toId("record", r.row.id))!, passage: r.passage ? toPublicPassage(r.passage) : null }
      : { kind: "passage", score: r.score, passage: toPublicPassage(r.passage) },
  );
}
