import { sql, sqlPluck, type Db } from "./database.js";
import { evictByRecords } from "./cache.js";
import { getRecord, type HistoryEntry, type RecordRow } from "./records.js";
import { toId } from "./ids.js";
import { deleteVector } from "./vectors.js";

/**
 * Erasure: what an expired or forgotten record leaves behind is a tombstone (id, kind, category, scope, status,
 * timestamps, lineage: history events, derived_from, superseded_by, edges), never its words. Its text, value,
 * subject, attribute and metadata are cleared (the FTS5 trigger removes its full-text row; the full-text tables
 * use `secure-delete` and the connection `PRAGMA secure_delete`, migration 7 and database.ts, so the words do
 * not linger in freed pages or index segments), its vector is deleted, its entity links dropped, the cached
 * answers that cited it evicted, and every trace that quoted it cut to ids. Synchronous, inside the caller's
 * transaction.
 */
export interface Erasure {
  /** Vector removals to announce to the ANN index after the commit. */
  removals: { model: string; seq: number; label: number }[];
  evictedCacheEntries: number;
  cutTraces: number;
}

/**
 * Traces linked to a record that may quote it: by an edge to it, and the answers given from those. Every step
 * goes by `edges_by_dst`; the unary `+` keeps SQLite from choosing `edges_by_src` on `src_type = 'trace'`, a
 * scan of every trace edge per erased record (an expiry sweep of 2,400 records at 3k turns took 7 s in this
 * query alone; test/erase-plan.test.ts).
 */
export const TRACES_OF_RECORD = `
  WITH direct AS (SELECT src_id AS id FROM edges WHERE dst_type = 'record' AND dst_id = ? AND +src_type = 'trace'),
  answers AS (SELECT e.src_id AS id FROM edges e JOIN direct d ON e.dst_type = 'trace' AND e.dst_id = CAST(d.id AS TEXT)
                WHERE +e.src_type = 'trace' AND e.kind IN ('used_retrieval', 'reused_from')),
  reuses AS (SELECT e.src_id AS id FROM edges e JOIN answers a ON e.dst_type = 'trace' AND e.dst_id = CAST(a.id AS TEXT)
               WHERE +e.src_type = 'trace' AND e.kind = 'reused_from')
  SELECT id FROM direct UNION SELECT id FROM answers UNION SELECT id FROM reuses`;

/**
 * Erases `ids` (already marked expired or forgotten by the caller). `turns`: also erase the words of the turns
 * they were extracted from (forget: what was said goes with what was remembered of it).
 */
export function eraseRecords(db: Db, context: string, ids: readonly number[], now: number, options: { turns?: boolean } = {}): Erasure {
  const erasure: Erasure = { removals: [], evictedCacheEntries: 0, cutTraces: 0 };
  const clear = sql(
    db,
    `UPDATE records SET text = '', norm_text = '', value = NULL, subject = NULL, attribute = NULL, metadata = NULL,
       history = ?, erased_at = ? WHERE id = ?`,
  );
  const unlink = sql(db, "DELETE FROM record_entities WHERE record_id = ?");
  const dropOrphanEntity = sql(db, "DELETE FROM entities WHERE id = ? AND NOT EXISTS (SELECT 1 FROM record_entities WHERE entity_id = ?)");
  const traceIds = sqlPluck(db, TRACES_OF_RECORD);
  for (const id of ids) {
    const row = getRecord(db, context, id);
    if (!row || row.erased_at !== null) continue;
    const quoted = [row.text, row.value ?? ""].filter((s) => s.trim().length >= 3);
    const turn = options.turns ? sourceTurn(db, context, row) : undefined;
    if (turn?.content) quoted.push(turn.content);
    // The names it was linked to are quoted by its extraction's trace; an entity no other record names goes.
    const entities = sql(db, "SELECT e.id, e.name FROM record_entities x JOIN entities e ON e.id = x.entity_id WHERE x.record_id = ?").all(id) as {
      id: number;
      name: string;
    }[];
    quoted.push(...entities.map((e) => e.name).filter((n) => n.trim().length >= 3));
    clear.run(stripHistory(row.history, quoted), now, id);
    unlink.run(id);
    for (const e of entities) dropOrphanEntity.run(e.id, e.id);
    if (row.embedding_model) {
      const seq = deleteVector(db, context, "records", row.embedding_model, id);
      if (seq !== undefined) erasure.removals.push({ model: row.embedding_model, seq, label: id });
    }
    if (turn) eraseTurn(db, turn.id);
    erasure.cutTraces += cutTraces(db, traceIds.all(String(id)) as number[], quoted, id);
  }
  erasure.evictedCacheEntries = evictByRecords(db, ids).length;
  return erasure;
}

/** A turn's words gone (its full-text row with them); the turn stays as a node of the graph. */
export function eraseTurn(db: Db, turnId: number): void {
  sql(db, "UPDATE turns SET content = '', metadata = NULL WHERE id = ? AND content != ''").run(turnId);
}

/**
 * Turns whose passage has stopped being retrievable (store/passages.ts), erased: among `turnIds` (the turns of
 * records just expired), those none of whose records is live any more; and, when `withoutFacts`, up to `limit`
 * turns that yielded no record and are past their `passage_expires_at` (a scan of the Context's turns: once a
 * sweep). Pending turns are left alone: their extraction still needs the words. Returns how many were erased.
 */
export function eraseDeadPassages(db: Db, context: string, turnIds: readonly number[], now: number, withoutFacts: number): number {
  let erased = 0;
  if (turnIds.length > 0) {
    const dead = sqlPluck(
      db,
      `SELECT t.id FROM turns t WHERE t.id IN (${turnIds.map(() => "?").join(",")}) AND t.context = ? AND t.status != 'pending' AND t.content != ''
         AND NOT EXISTS (SELECT 1 FROM records r WHERE r.source_kind = 'turn' AND r.source_id = 'turn_' || t.id
                           AND r.status NOT IN ('expired', 'forgotten') AND (r.expires_at IS NULL OR r.expires_at > ?))`,
    ).all(...turnIds, context, now) as number[];
    for (const id of dead) eraseTurn(db, id);
    erased += dead.length;
  }
  if (withoutFacts > 0) {
    const dead = sqlPluck(
      db,
      `SELECT id FROM turns WHERE context = ? AND facts = 0 AND status != 'pending' AND content != ''
         AND passage_expires_at IS NOT NULL AND passage_expires_at <= ? LIMIT ?`,
    ).all(context, now, withoutFacts) as number[];
    for (const id of dead) eraseTurn(db, id);
    erased += dead.length;
  }
  return erased;
}

/** The turns records were extracted from. */
export function sourceTurnIds(db: Db, context: string, recordIds: readonly number[]): number[] {
  if (recordIds.length === 0) return [];
  return (
    sqlPluck(
      db,
      `SELECT DISTINCT source_id FROM records WHERE id IN (${recordIds.map(() => "?").join(",")}) AND +context = ? AND source_kind = 'turn'`,
    ).all(...recordIds, context) as string[]
  )
    .filter((s) => s.startsWith("turn_"))
    .map((s) => Number(s.slice(5)));
}

function sourceTurn(db: Db, context: string, row: RecordRow): { id: number; content: string } | undefined {
  if (row.source_kind !== "turn" || !row.source_id?.startsWith("turn_")) return undefined;
  return sql(db, "SELECT id, content FROM turns WHERE id = ? AND context = ?").get(Number(row.source_id.slice(5)), context) as
    | { id: number; content: string }
    | undefined;
}

/** History keeps its events, times and traces; a detail that quotes the words goes. Pure: both engines call it. */
export function stripHistory(history: string, quoted: readonly string[]): string {
  const needles = quoted.map((q) => q.toLowerCase());
  return JSON.stringify(
    (JSON.parse(history) as HistoryEntry[]).map(({ detail, ...entry }) =>
      detail === undefined || needles.some((n) => detail.toLowerCase().includes(n)) ? entry : { ...entry, detail },
    ),
  );
}

/**
 * A trace payload with every string that quotes one of `quoted` cut to null and the erased record's id listed
 * under `erased`; undefined when nothing in it quotes them. Pure: both engines call it.
 */
export function cutPayload(payload: Record<string, unknown>, quoted: readonly string[], recordId: number): Record<string, unknown> | undefined {
  const needles = quoted.map((q) => q.toLowerCase());
  const quotes = (s: string) => {
    const lower = s.toLowerCase();
    return needles.some((n) => lower.includes(n));
  };
  let cut = false;
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return quotes(value) ? ((cut = true), null) : value;
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  const next = walk(payload) as Record<string, unknown>;
  if (!cut) return undefined;
  const erased = new Set([...((next.erased as string[] | undefined) ?? []), toId("record", recordId)]);
  return { ...next, erased: [...erased] };
}

/**
 * Cuts every string in the traces' payloads that quotes one of `quoted` (its text, value, entity names, turn)
 * down to null, and lists the erased record's id under `erased`. Returns how many changed.
 */
function cutTraces(db: Db, traceIds: readonly number[], quoted: readonly string[], recordId: number): number {
  if (traceIds.length === 0 || quoted.length === 0) return 0;
  const read = sql(db, "SELECT payload FROM traces WHERE id = ?");
  const write = sql(db, "UPDATE traces SET payload = ? WHERE id = ?");
  let changed = 0;
  for (const id of traceIds) {
    const row = read.get(id) as { payload: string } | undefined;
    if (!row) continue;
    const next = cutPayload(JSON.parse(row.payload) as Record<string, unknown>, quoted, recordId);
    if (!next) continue;
    write.run(JSON.stringify(next), id);
    changed++;
  }
  return changed;
}
