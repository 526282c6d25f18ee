import { sql, sqlPluck, sqlRaw, type Db } from "./database.js";

export type RecordKind = "entity" | "attribute" | "relation" | "instruction" | "uncertainty" | "observation";
export type MemoryCategory = "identity" | "knowledge" | "context";
export type RecordStatus = "current" | "superseded" | "flagged" | "expired" | "forgotten";
export type SourceKind = "turn" | "document" | "reflect" | "elaboration" | "consolidation";

/** Statuses a reader sees by default: disputed (flagged) facts stay visible, marked as such. */
export const LIVE_STATUSES: readonly RecordStatus[] = ["current", "flagged"];

export interface HistoryEntry {
  at: number;
  event: "created" | "reinforced" | "superseded" | "supersedes" | "flagged" | "expired" | "forgotten" | "decayed" | "updated" | "consolidated";
  detail?: string;
  trace?: number;
  /** A run of plain restatements kept as one "reinforced" entry: how many, and when the last one came. */
  count?: number;
  last_at?: number;
}

export interface RecordRow {
  id: number;
  context: string;
  scope_key: string;
  kind: RecordKind;
  memory_category: MemoryCategory;
  subject: string | null;
  attribute: string | null;
  value: string | null;
  cardinality: "one" | "many";
  text: string;
  norm_text: string;
  confidence: number;
  trust: number;
  importance: number;
  status: RecordStatus;
  superseded_by: number | null;
  source_kind: SourceKind;
  source_id: string | null;
  /** Who asserted it, for trust calibration (pipeline/calibration.ts); null before migration 2 and for forget. */
  source_key: string | null;
  proof_count: number;
  derived_from: string;
  history: string;
  metadata: string | null;
  embedding_model: string | null;
  created_at: number;
  updated_at: number;
  last_accessed_at: number | null;
  last_decay_at: number;
  expires_at: number | null;
  /** When the record was erased (store/erase.ts): its words are gone, a tombstone remains. Null while it has them. */
  erased_at: number | null;
}

/** Every column of `records`, in the order `recordRow` reads them. */
const RECORD_COLUMNS = `id, context, scope_key, kind, memory_category, subject, attribute, value, cardinality, text, norm_text,
  confidence, trust, importance, status, superseded_by, source_kind, source_id, proof_count, derived_from, history, metadata,
  embedding_model, created_at, updated_at, last_accessed_at, last_decay_at, expires_at, source_key, erased_at`;

/** A raw row of RECORD_COLUMNS as a RecordRow (see `sqlRaw`). */
function recordRow(raw: unknown[]): RecordRow {
  const [id, context, scope_key, kind, memory_category, subject, attribute, value, cardinality, text, norm_text] = raw;
  const [confidence, trust, importance, status, superseded_by, source_kind, source_id, proof_count, derived_from, history, metadata] = raw.slice(11);
  const [embedding_model, created_at, updated_at, last_accessed_at, last_decay_at, expires_at, source_key, erased_at] = raw.slice(22);
  return {
    id, context, scope_key, kind, memory_category, subject, attribute, value, cardinality, text, norm_text,
    confidence, trust, importance, status, superseded_by, source_kind, source_id, proof_count, derived_from, history, metadata,
    embedding_model, created_at, updated_at, last_accessed_at, last_decay_at, expires_at, source_key, erased_at,
  } as RecordRow;
}

export type NewRecord = Omit<RecordRow, "id" | "superseded_by" | "proof_count" | "updated_at" | "last_accessed_at" | "last_decay_at" | "norm_text" | "erased_at"> & {
  proof_count?: number;
};

/** Lower-case, punctuation and white space folded: the key for exact-duplicate detection. */
export function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

export function insertRecord(db: Db, record: NewRecord): number {
  const info = sql(db, 
      `INSERT INTO records (context, scope_key, kind, memory_category, subject, attribute, value, cardinality, text, norm_text,
         confidence, trust, importance, status, source_kind, source_id, source_key, proof_count, derived_from, history, metadata,
         embedding_model, created_at, updated_at, last_decay_at, expires_at)
       VALUES (@context, @scope_key, @kind, @memory_category, @subject, @attribute, @value, @cardinality, @text, @norm_text,
         @confidence, @trust, @importance, @status, @source_kind, @source_id, @source_key, @proof_count, @derived_from, @history, @metadata,
         @embedding_model, @created_at, @created_at, @created_at, @expires_at)`,
    )
    .run({ ...record, norm_text: normalizeText(record.text), proof_count: record.proof_count ?? 1 });
  return Number(info.lastInsertRowid);
}

export function getRecord(db: Db, context: string, id: number): RecordRow | undefined {
  return sql(db, "SELECT * FROM records WHERE id = ? AND context = ?").get(id, context) as RecordRow | undefined;
}

export function getRecords(db: Db, context: string, ids: readonly number[]): RecordRow[] {
  if (ids.length === 0) return [];
  // `+context`: keep the planner on the primary key, not the (context, …) index, which spans the whole Context.
  const rows = (
    sqlRaw(db, `SELECT ${RECORD_COLUMNS} FROM records WHERE id IN (${ids.map(() => "?").join(",")}) AND +context = ?`).all(...ids, context) as unknown[][]
  ).map(recordRow);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)).filter((r): r is RecordRow => !!r);
}

/**
 * The record's history with `entry` added. Plain restatements ("reinforced" with no detail) in a row fold
 * into one entry with a `count`: a fact restated thousands of times would otherwise carry thousands of
 * entries, parsed and rewritten on every write and every read. Each restatement keeps its own decision_trace.
 */
export function appendHistory(row: Pick<RecordRow, "history">, entry: HistoryEntry): string {
  const history = JSON.parse(row.history) as HistoryEntry[];
  const last = history[history.length - 1];
  if (entry.event === "reinforced" && entry.detail === undefined && last?.event === "reinforced" && last.detail === undefined) {
    last.count = (last.count ?? 1) + 1;
    last.last_at = entry.at;
    if (entry.trace !== undefined) last.trace = entry.trace;
  } else {
    history.push(entry);
  }
  return JSON.stringify(history);
}

export function updateRecord(db: Db, id: number, fields: Partial<Omit<RecordRow, "id" | "context">>): void {
  const keys = Object.keys(fields);
  if (keys.length === 0) return;
  sql(db, `UPDATE records SET ${keys.map((k) => `${k} = @${k}`).join(", ")} WHERE id = @id`).run({ ...fields, id });
}

/**
 * Importance × `factor` (capped at 1.0) and `last_accessed_at` = `now` for the records of `ids` in `context`,
 * in one statement that also returns them as updated, in `ids` order (missing ids are skipped).
 */
export function reinforceRecords(db: Db, context: string, ids: readonly number[], factor: number, now: number): RecordRow[] {
  if (ids.length === 0) return [];
  const rows = (sqlRaw(
    db,
    `UPDATE records SET importance = MIN(1.0, importance * ?), last_accessed_at = ?
       WHERE id IN (${ids.map(() => "?").join(",")}) AND +context = ? RETURNING ${RECORD_COLUMNS}`,
  ).all(factor, now, ...ids, context) as unknown[][]).map(recordRow);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)).filter((r): r is RecordRow => !!r);
}

/** Live records of a subject's attribute in one exact scope: what a new value of that attribute competes with. */
export function liveByAttribute(db: Db, context: string, scopeKey: string, subject: string, attribute: string): RecordRow[] {
  return sql(db, 
      `SELECT * FROM records WHERE context = ? AND scope_key = ? AND subject = ? AND attribute = ?
         AND status IN ('current', 'flagged') ORDER BY id`,
    )
    .all(context, scopeKey, subject, attribute) as RecordRow[];
}

export function liveByNormText(db: Db, context: string, scopeKey: string, normText: string): RecordRow | undefined {
  return sql(db, 
      `SELECT * FROM records WHERE context = ? AND scope_key = ? AND norm_text = ? AND status IN ('current', 'flagged')
        ORDER BY id LIMIT 1`,
    )
    .get(context, scopeKey, normText) as RecordRow | undefined;
}

/**
 * A set of records as a condition on `records` (`where`, with `params`) and the SELECT of their ids (`sql`).
 * `filterVisible` checks given ids against `where` by primary key.
 */
export interface Visible {
  sql: string;
  where: string;
  params: unknown[];
}

export function visibleWhere(where: string, params: unknown[]): Visible {
  return { sql: `SELECT id FROM records WHERE ${where}`, where, params };
}

/** Live, unexpired records visible to a set of scope keys. */
export function visibleRecordsSql(context: string, scopeKeys: readonly string[], now: number): Visible {
  return visibleWhere(
    `context = ? AND scope_key IN (${scopeKeys.map(() => "?").join(",")}) AND status IN ('current', 'flagged') AND (expires_at IS NULL OR expires_at > ?)`,
    [context, ...scopeKeys, now],
  );
}

export function countVisible(db: Db, context: string, scopeKeys: readonly string[], now: number): number {
  const visible = visibleRecordsSql(context, scopeKeys, now);
  return (sql(db, `SELECT COUNT(*) AS n FROM (${visible.sql})`).get(...visible.params) as { n: number }).n;
}

/** Which of `scopeKeys` hold live records or document chunks in this Context (index probes, no scan). */
export function populatedScopeKeys(db: Db, context: string, scopeKeys: readonly string[]): string[] {
  const marks = scopeKeys.map(() => "?").join(",");
  return sqlPluck(
    db,
    `SELECT DISTINCT scope_key FROM records WHERE context = ? AND scope_key IN (${marks}) AND status IN ('current', 'flagged')
     UNION SELECT DISTINCT scope_key FROM chunks WHERE context = ? AND scope_key IN (${marks})`,
  ).all(context, ...scopeKeys, context, ...scopeKeys) as string[];
}

/** Moves records' expiry later (reinforcement: lifecycle/retention.ts `extendedExpiry`). */
export function extendExpiries(db: Db, changes: ReadonlyArray<{ id: number; expires_at: number }>): void {
  const update = sql(db, "UPDATE records SET expires_at = ? WHERE id = ? AND expires_at IS NOT NULL AND expires_at < ?");
  for (const c of changes) update.run(c.expires_at, c.id, c.expires_at);
}

/** Live records of one kind among `visible`, most important then newest first: what a query type reads first. */
export function visibleOfKind(db: Db, visible: Visible, kind: RecordKind, limit: number): RecordRow[] {
  return sql(db, `SELECT * FROM records WHERE ${visible.where} AND kind = ? ORDER BY importance DESC, id DESC LIMIT ?`)
    .all(...visible.params, kind, limit) as RecordRow[];
}
