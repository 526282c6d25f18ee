import { cutPayload, stripHistory } from "../erase.js";
import { toId } from "../ids.js";
import { appendHistory, type RecordRow } from "../records.js";
import type { TraceActor } from "../traces.js";
import { one, query } from "./connection.js";
import { addEdge, evictByRecords, insertTrace, type Tx } from "./reconcile-sql.js";
import { getRecord, RECORD_COLUMNS } from "./records-sql.js";
import { deleteVector } from "./vector-sets.js";

/**
 * Erasure on PostgreSQL, the rules of store/erase.ts (which see): an expired or forgotten record keeps a tombstone
 * and loses its words (text, value, subject, attribute, metadata; the generated `tsv` with them), its vector,
 * its entity links (an entity no other record names goes), the cached answers citing it, and every string of a
 * trace that quoted it. Inside the caller's transaction; vector removals go through the change log.
 */
export interface PgErasure {
  evictedCacheEntries: number;
  cutTraces: number;
}

/** Traces linked to a record that may quote it: by an edge to it, and the answers given from those ($1: record id as text). */
const TRACES_OF_RECORD = `
  WITH direct AS (SELECT src_id AS id FROM edges WHERE dst_type = 'record' AND dst_id = $1 AND src_type = 'trace' AND context = $2),
  answers AS (SELECT e.src_id AS id FROM edges e JOIN direct d ON e.dst_type = 'trace' AND e.dst_id = d.id::text
                WHERE e.src_type = 'trace' AND e.kind IN ('used_retrieval', 'reused_from')),
  reuses AS (SELECT e.src_id AS id FROM edges e JOIN answers a ON e.dst_type = 'trace' AND e.dst_id = a.id::text
               WHERE e.src_type = 'trace' AND e.kind = 'reused_from')
  SELECT id FROM direct UNION SELECT id FROM answers UNION SELECT id FROM reuses`;

/** Erases `ids` (already marked expired or forgotten). `turns`: the words of the turns they came from go too. */
export async function eraseRecords(tx: Tx, ids: readonly number[], now: number, options: { turns?: boolean } = {}): Promise<PgErasure> {
  const erasure: PgErasure = { evictedCacheEntries: 0, cutTraces: 0 };
  for (const id of ids) {
    const row = await getRecord(tx.client, tx.context, id);
    if (!row || row.erased_at !== null) continue;
    const quoted = [row.text, row.value ?? ""].filter((s) => s.trim().length >= 3);
    const turn = options.turns ? await sourceTurn(tx, row) : undefined;
    if (turn?.content) quoted.push(turn.content);
    const entities = await query<{ id: number; name: string }>(
      tx.client,
      "SELECT e.id, e.name FROM record_entities x JOIN entities e ON e.id = x.entity_id WHERE x.record_id = $1 ORDER BY e.id",
      [id],
    );
    quoted.push(...entities.map((e) => e.name).filter((n) => n.trim().length >= 3));
    await query(
      tx.client,
      `UPDATE records SET text = '', norm_text = '', value = NULL, subject = NULL, attribute = NULL, metadata = NULL, history = $1, erased_at = $2
         WHERE id = $3`,
      [stripHistory(row.history, quoted), now, id],
    );
    await query(tx.client, "DELETE FROM record_entities WHERE record_id = $1", [id]);
    if (entities.length > 0) {
      await query(
        tx.client,
        "DELETE FROM entities e WHERE e.id = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM record_entities x WHERE x.entity_id = e.id)",
        [entities.map((e) => e.id)],
      );
    }
    await removeRecordVector(tx, row);
    if (turn) await eraseTurn(tx, turn.id);
    erasure.cutTraces += await cutTraces(tx, id, quoted);
  }
  erasure.evictedCacheEntries = (await evictByRecords(tx, ids)).length;
  return erasure;
}

async function removeRecordVector(tx: Tx, row: RecordRow): Promise<void> {
  const set = row.embedding_model ? tx.recordSet(row.embedding_model) : undefined;
  if (set && (await deleteVector(tx.client, set, row.id))) tx.entries.push({ kind: "vectors", space: "records", model: set.model, label: row.id, op: "remove" });
}

/** A turn's words gone (its `tsv` with them); the turn stays as a node of the graph. */
export async function eraseTurn(tx: Tx, turnId: number): Promise<void> {
  await query(tx.client, "UPDATE turns SET content = '', metadata = NULL WHERE id = $1 AND content <> ''", [turnId]);
}

/**
 * Turns whose passage has stopped being retrievable, erased (store/erase.ts `eraseDeadPassages`): among `turnIds`,
 * those none of whose records is live any more; and up to `withoutFacts` turns that yielded no record and are
 * past their `passage_expires_at`. Pending turns are left alone. Returns how many were erased.
 */
export async function eraseDeadPassages(tx: Tx, turnIds: readonly number[], now: number, withoutFacts: number): Promise<number> {
  let erased = 0;
  if (turnIds.length > 0) {
    erased += (
      await query(
        tx.client,
        `UPDATE turns t SET content = '', metadata = NULL WHERE t.id = ANY($1::bigint[]) AND t.context = $2 AND t.status <> 'pending' AND t.content <> ''
           AND NOT EXISTS (SELECT 1 FROM records r WHERE r.source_kind = 'turn' AND r.source_id = 'turn_' || t.id
                             AND r.status NOT IN ('expired', 'forgotten') AND (r.expires_at IS NULL OR r.expires_at > $3))
         RETURNING t.id`,
        [[...turnIds], tx.context, now],
      )
    ).length;
  }
  if (withoutFacts > 0) {
    erased += (
      await query(
        tx.client,
        `UPDATE turns SET content = '', metadata = NULL WHERE id IN (
           SELECT id FROM turns WHERE context = $1 AND facts = 0 AND status <> 'pending' AND content <> ''
             AND passage_expires_at IS NOT NULL AND passage_expires_at <= $2 LIMIT $3)
         RETURNING id`,
        [tx.context, now, withoutFacts],
      )
    ).length;
  }
  return erased;
}

/** The turns records were extracted from. */
export async function sourceTurnIds(tx: Tx, recordIds: readonly number[]): Promise<number[]> {
  if (recordIds.length === 0) return [];
  const rows = await query<{ source_id: string }>(
    tx.client,
    "SELECT DISTINCT source_id FROM records WHERE id = ANY($1::bigint[]) AND context = $2 AND source_kind = 'turn'",
    [[...recordIds], tx.context],
  );
  return rows.map((r) => r.source_id).filter((s) => s.startsWith("turn_")).map((s) => Number(s.slice(5)));
}

async function sourceTurn(tx: Tx, row: RecordRow): Promise<{ id: number; content: string } | undefined> {
  if (row.source_kind !== "turn" || !row.source_id?.startsWith("turn_")) return undefined;
  return one<{ id: number; content: string }>(tx.client, "SELECT id, content FROM turns WHERE id = $1 AND context = $2", [Number(row.source_id.slice(5)), tx.context]);
}

async function cutTraces(tx: Tx, recordId: number, quoted: readonly string[]): Promise<number> {
  if (quoted.length === 0) return 0;
  const traces = await query<{ id: number; payload: string }>(
    tx.client,
    `SELECT id, payload FROM traces WHERE id IN (${TRACES_OF_RECORD}) ORDER BY id`,
    [String(recordId), tx.context],
  );
  let changed = 0;
  for (const trace of traces) {
    const next = cutPayload(JSON.parse(trace.payload) as Record<string, unknown>, quoted, recordId);
    if (!next) continue;
    await query(tx.client, "UPDATE traces SET payload = $1 WHERE id = $2", [JSON.stringify(next), trace.id]);
    changed++;
  }
  return changed;
}

/**
 * Explicit deletion: a tombstone trace naming the record (never its words), status `forgotten`, and erasure, the
 * words of the turn it came from included. Undefined when the record is not in this Context.
 */
export async function forgetRecord(tx: Tx, id: number, actor: TraceActor, now: number): Promise<RecordRow | undefined> {
  const row = await one<RecordRow>(tx.client, `SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1 AND context = $2 FOR UPDATE`, [id, tx.context]);
  if (!row) return undefined;
  const traceId = await insertTrace(tx, "decision_trace", actor, row.scope_key, {
    source: { kind: "forget", id: null },
    outcomes: [{ record_id: toId("record", row.id), outcome: "forgotten" }],
  }, now);
  await query(tx.client, "UPDATE records SET status = 'forgotten', updated_at = $1, history = $2 WHERE id = $3", [
    now, appendHistory(row, { at: now, event: "forgotten", trace: traceId }), row.id,
  ]);
  await addEdge(tx, { type: "trace", id: traceId }, "forgot", { type: "record", id: row.id }, now);
  await eraseRecords(tx, [row.id], now, { turns: true });
  tx.entries.push({ kind: "records", ids: [row.id] });
  return getRecord(tx.client, tx.context, row.id);
}
