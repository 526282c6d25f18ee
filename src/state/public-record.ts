import type { HistoryEntry, RecordRow } from "../store/records.js";
import { toId } from "../store/ids.js";
import { parseScopeKey, type Scope } from "../store/scope.js";
import type { MemoryCategory, RecordKind, RecordStatus } from "../types/inputs.js";

/** A record as callers see it: wire names as the spec writes them, times as ISO 8601. */
export interface MemoryRecord {
  id: string;
  kind: RecordKind;
  memory_category: MemoryCategory;
  text: string;
  subject: string | null;
  attribute: string | null;
  value: string | null;
  scope: Scope;
  importance: number;
  confidence: number;
  trust: number;
  status: RecordStatus;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  superseded_by: string | null;
  /** What wrote it; `key` is who asserted it, the unit of trust calibration (null for records older than that). */
  source: { kind: "turn" | "document" | "reflect" | "elaboration" | "consolidation"; id: string | null; key: string | null };
  proof_count: number;
  /** The records it was derived from (an insight from the facts a reflection used, an observation from its facts). */
  derived_from: string[];
  /**
   * When its words were erased (expired or forgotten: store/erase.ts), or null. An erased record is a tombstone:
   * id, kind, category, scope, status, times and lineage remain; `text` is empty and `value`, `subject`,
   * `attribute` and `metadata` are null.
   */
  erased_at: string | null;
  /** Lifecycle events, oldest first. Restatements in a row are one "reinforced" entry with `count` and `last_at`. */
  history: {
    at: string;
    event: "created" | "reinforced" | "superseded" | "supersedes" | "flagged" | "expired" | "forgotten" | "decayed" | "updated" | "consolidated";
    detail?: string;
    count?: number;
    last_at?: string;
  }[];
  metadata: Record<string, unknown> | null;
}

/**
 * Epoch milliseconds as ISO 8601. Memoised: the same instants recur (a record's created_at, updated_at and
 * first history entry; records written together), and formatting a Date is most of what turning a row into a
 * MemoryRecord costs on the tier-1 path.
 */
export function iso(ms: number): string {
  let text = isoCache.get(ms);
  if (text === undefined) {
    if (isoCache.size >= 4096) isoCache.clear();
    isoCache.set(ms, (text = new Date(ms).toISOString()));
  }
  return text;
}
const isoCache = new Map<number, string>();

export function toPublicRecord(row: RecordRow): MemoryRecord {
  return {
    id: toId("record", row.id),
    kind: row.kind,
    memory_category: row.memory_category,
    text: row.text,
    subject: row.subject,
    attribute: row.attribute,
    value: row.value,
    scope: parseScopeKey(row.scope_key),
    importance: row.importance,
    confidence: row.confidence,
    trust: row.trust,
    status: row.status,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    expires_at: row.expires_at === null ? null : iso(row.expires_at),
    superseded_by: row.superseded_by === null ? null : toId("record", row.superseded_by),
    source: { kind: row.source_kind, id: row.source_id, key: row.source_key },
    proof_count: row.proof_count,
    derived_from: derivedFrom(row.derived_from),
    erased_at: row.erased_at === null || row.erased_at === undefined ? null : iso(row.erased_at),
    history: (JSON.parse(row.history) as HistoryEntry[]).map((h) => ({
      at: iso(h.at),
      event: h.event,
      ...(h.detail ? { detail: h.detail } : {}),
      ...(h.count !== undefined ? { count: h.count } : {}),
      ...(h.last_at !== undefined ? { last_at: iso(h.last_at) } : {}),
    })),
    metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, unknown>) : null,
  };
}

/** `derived_from` as stored (a JSON array of record ids, numeric or prefixed) as public ids. */
function derivedFrom(stored: string): string[] {
  if (stored === "[]") return [];
  return (JSON.parse(stored) as (number | string)[]).map((id) => (typeof id === "number" ? toId("record", id) : id));
}
