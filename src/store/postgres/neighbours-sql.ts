import type pg from "pg";
import type { DedupAnnIndex } from "../ann-index.js";
import type { Correction } from "../sources.js";
import { neighbourPayload, neighbourStep } from "../reconcile-rules.js";
import type { NeighbourCandidates, NeighbourDecision, NeighbourQuery, Outcome, RecordRow, TraceActor } from "../store.js";
import { one, query, transaction, type Queryable } from "./connection.js";
import { addEdge, evictByRecords, insertTrace, noteCorrected, removeRecordVector, updateRecord, type Tx } from "./reconcile-sql.js";
import { getRecord, RECORD_COLUMNS } from "./records-sql.js";
import { cosineDistance, fromVectorColumn, getVector, type VectorSet } from "./vector-sets.js";

/**
 * The background reconciliation pass's decisions about one record, applied (rules: store/reconcile-rules.ts
 * `neighbourStep`): a duplicate neighbour merged into it, a contradicted one superseded, a conflicting one
 * flagged; stale decisions skipped. The record and its neighbours are locked first, in id order, so that a
 * concurrent supersession of either is seen, not overwritten.
 */
export async function applyNeighbourDecisions(
  tx: Tx,
  input: {
    recordId: number;
    decisions: readonly NeighbourDecision[];
    actor: TraceActor;
    scope: Readonly<Record<string, string>>;
    now: number;
    parentTrace: number;
    provenance: Record<string, unknown>;
  },
): Promise<{ traceId: number | undefined }> {
  const { now } = input;
  await query(tx.client, `SELECT ${RECORD_COLUMNS} FROM records WHERE id = ANY($1::bigint[]) AND context = $2 ORDER BY id FOR UPDATE`, [
    [input.recordId, ...input.decisions.map((d) => d.neighbour)],
    tx.context,
  ]);
  const traceId = await insertTrace(tx, "decision_trace", input.actor, null, {}, now);
  const outcomes: { record: RecordRow; outcome: Outcome }[] = [];
  const changed: number[] = [];
  const corrections: Correction[] = [];
  let record = await getRecord(tx.client, tx.context, input.recordId);
  for (const d of input.decisions) {
    const neighbour = await getRecord(tx.client, tx.context, d.neighbour);
    const step = neighbourStep(record, neighbour, d, now, traceId);
    if (!step || !record || !neighbour) continue;
    await updateRecord(tx, neighbour.id, step.neighbourFields);
    if (step.calibrate) {
      const correction = await noteCorrected(tx, neighbour.source_key, record.source_key, now);
      if (correction) corrections.push(correction);
    }
    if (step.status === "superseded") await removeRecordVector(tx, neighbour);
    if (step.recordFields) {
      await updateRecord(tx, record.id, step.recordFields);
      record = (await getRecord(tx.client, tx.context, record.id))!;
      outcomes.push({ record, outcome: "updated" });
      await addEdge(tx, { type: "trace", id: traceId }, "updated", { type: "record", id: record.id }, now);
    }
    changed.push(neighbour.id);
    await addEdge(tx, { type: "trace", id: traceId }, step.status, { type: "record", id: neighbour.id }, now);
    outcomes.push({ record: (await getRecord(tx.client, tx.context, neighbour.id))!, outcome: step.status });
  }
  const evicted = await evictByRecords(tx, changed);
  await addEdge(tx, { type: "trace", id: traceId }, "parent_trace", { type: "trace", id: input.parentTrace }, now);
  const payload = neighbourPayload({ ...input, outcomes, evicted: evicted.length, corrections });
  await query(tx.client, "UPDATE traces SET scope_key = (SELECT scope_key FROM records WHERE id = $1), payload = $2 WHERE id = $3", [
    input.recordId, JSON.stringify(payload), traceId,
  ]);
  if (changed.length > 0) tx.entries.push({ kind: "records", ids: changed });
  return { traceId };
}

/**
 * Live records of a scope above which near restatements come from the ANN index rather than an exact scan (the
 * SQLite engine's SCAN_LIMIT). The scan reads the scope's vectors over the wire: a Context-wide scope of 25k notes
 * took 2–3 s per background pass at 100k turns and stalled ingest at p99; the index answers in milliseconds.
 */
export const SCAN_LIMIT = 1_000;
/** Near restatements kept per record from the ANN index (the pass offers the model the nearest few). */
const NEAREST = 16;

/**
 * The background pass's neighbours, never beyond a record's own scope: same-slot live records (an index lookup)
 * and live records whose vector of the record's model is at least `minSimilarity` to its own. For a scope of at
 * most SCAN_LIMIT such records, an exact scan of its vectors (read once per scope and model); for a larger one,
 * the ANN index: pgvector's HNSW filtered to the scope, or the in-process index (`ann`) searched for the nearest
 * points Context-wide, those above the threshold then checked against the scope by id in one statement, so that
 * the cost follows the records looked for, not the size of their scope.
 */
export async function neighbourCandidates(
  db: pg.Pool,
  context: string,
  setOf: (model: string) => Promise<VectorSet | undefined>,
  annOf: (set: VectorSet) => Promise<DedupAnnIndex> | undefined,
  queries: readonly NeighbourQuery[],
  minSimilarity: number,
): Promise<Map<number, NeighbourCandidates>> {
  const sizes = new Map<string, number>();
  const scopes = new Map<string, Map<number, Float32Array>>();
  const out = new Map<number, NeighbourCandidates>();
  for (const q of queries) {
    const sameSlot =
      q.subject !== null && q.attributes.length > 0
        ? (
            await query<{ id: number }>(
              db,
              `SELECT id FROM records WHERE context = $1 AND scope_key = $2 AND subject = $3 AND attribute = ANY($4::text[])
                 AND status IN ('current', 'flagged') AND id <> $5 ORDER BY id`,
              [context, q.scopeKey, q.subject, [...q.attributes], q.recordId],
            )
          ).map((r) => r.id)
        : [];
    let similar: { id: number; similarity: number }[] = [];
    const set = q.model !== null ? await setOf(q.model) : undefined;
    if (set) {
      const key = `${q.scopeKey}\u0000${set.model}`;
      let size = sizes.get(key);
      if (size === undefined) sizes.set(key, (size = await liveInScope(db, context, q.scopeKey, set.model)));
      const ann = size > SCAN_LIMIT && set.storage === "array" ? annOf(set) : undefined;
      if (size > SCAN_LIMIT && set.storage === "pgvector") similar = await pgvectorInScope(db, context, set, q, minSimilarity);
      else if (ann) similar = await followedInScope(db, context, set, await ann, q, minSimilarity);
      else {
        let vectors = scopes.get(key);
        if (!vectors) scopes.set(key, (vectors = await scopeVectors(db, context, set, q.scopeKey)));
        const own = vectors.get(q.recordId) ?? (await getVector(db, set, q.recordId));
        if (own) {
          for (const [id, v] of vectors) {
            if (id === q.recordId) continue;
            const similarity = 1 - cosineDistance(own, v);
            if (similarity >= minSimilarity) similar.push({ id, similarity });
          }
        }
      }
    }
    out.set(q.recordId, { sameSlot, similar });
  }
  return out;
}

const LIVE_IN_SCOPE = "context = $1 AND scope_key = $2 AND status IN ('current', 'flagged') AND embedding_model = $3";

/** Live records of one exact scope with a vector of `model`, counted up to SCAN_LIMIT + 1 (an index range). */
async function liveInScope(db: Queryable, context: string, scopeKey: string, model: string): Promise<number> {
  const row = await one<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM records WHERE ${LIVE_IN_SCOPE} LIMIT ${SCAN_LIMIT + 1}) AS s`,
    [context, scopeKey, model],
  );
  return row?.n ?? 0;
}

async function scopeVectors(db: Queryable, context: string, set: VectorSet, scopeKey: string): Promise<Map<number, Float32Array>> {
  const rows = await query<{ id: number; embedding: unknown }>(
    db,
    `SELECT r.id, v.embedding FROM records r JOIN ${set.table} v ON v.label = r.id
       WHERE r.context = $1 AND r.scope_key = $2 AND r.status IN ('current', 'flagged') AND r.embedding_model = $3`,
    [context, scopeKey, set.model],
  );
  return new Map(rows.map((r) => [r.id, fromVectorColumn(r.embedding)]));
}

/**
 * The in-process index searched Context-wide for the record's nearest points, over-fetched: the hits at or above
 * the threshold are checked against the scope by id (one statement), and the search widens only while all of
 * them were and the scope has not yielded NEAREST + 1. Hits come nearest first, so once one falls below the
 * threshold every later one does: usually one search and at most one statement.
 */
async function followedInScope(
  db: Queryable,
  context: string,
  set: VectorSet,
  ann: DedupAnnIndex,
  q: NeighbourQuery,
  minSimilarity: number,
): Promise<{ id: number; similarity: number }[]> {
  const own = ann.vectorOf(q.recordId) ?? (await getVector(db, set, q.recordId));
  if (!own) return [];
  const want = NEAREST + 1;
  let fetch = want * 4;
  for (;;) {
    const hits = ann.search(own, fetch);
    const close = hits.filter((h) => h.label !== q.recordId && 1 - h.distance >= minSimilarity);
    const inScope = close.length === 0
      ? new Set<number>()
      : new Set(
          (await query<{ id: number }>(db, `SELECT id FROM records WHERE ${LIVE_IN_SCOPE} AND id = ANY($4::bigint[])`, [
            context, q.scopeKey, set.model, close.map((h) => h.label),
          ])).map((r) => r.id),
        );
    const kept = close.filter((h) => inScope.has(h.label)).slice(0, want).map((h) => ({ id: h.label, similarity: 1 - h.distance }));
    const exhausted = hits.length < fetch || fetch >= ann.size;
    const belowThreshold = close.length < hits.filter((h) => h.label !== q.recordId).length;
    if (kept.length >= want || belowThreshold || exhausted) return kept;
    fetch = Math.min(ann.size, fetch * 4);
  }
}

/**
 * pgvector's HNSW index filtered to the scope (an iterative scan, so that a scope that is a small share of the
 * Context still fills NEAREST + 1), the record's own vector read inside the statement.
 */
async function pgvectorInScope(
  pool: pg.Pool,
  context: string,
  set: VectorSet,
  q: NeighbourQuery,
  minSimilarity: number,
): Promise<{ id: number; similarity: number }[]> {
  const rows = await transaction(pool, async (client) => {
    await client.query("SET LOCAL hnsw.ef_search = 64");
    await client.query("SET LOCAL hnsw.iterative_scan = strict_order");
    return query<{ id: number; distance: number }>(
      client,
      `SELECT r.id, v.embedding <=> (SELECT embedding FROM ${set.table} WHERE label = $4) AS distance
         FROM ${set.table} v JOIN records r ON r.id = v.label
        WHERE r.context = $1 AND r.scope_key = $2 AND r.status IN ('current', 'flagged') AND r.embedding_model = $3 AND r.id <> $4
        ORDER BY v.embedding <=> (SELECT embedding FROM ${set.table} WHERE label = $4) LIMIT ${NEAREST + 1}`,
      [context, q.scopeKey, set.model, q.recordId],
    );
  });
  return rows.filter((r) => r.distance !== null && 1 - r.distance >= minSimilarity).map((r) => ({ id: r.id, similarity: 1 - r.distance }));
}
