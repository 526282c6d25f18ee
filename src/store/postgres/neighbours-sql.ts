import type { Correction } from "../sources.js";
import { neighbourPayload, neighbourStep } from "../reconcile-rules.js";
import type { NeighbourCandidates, NeighbourDecision, NeighbourQuery, Outcome, RecordRow, TraceActor } from "../store.js";
import { query, type Queryable } from "./connection.js";
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
 * The background pass's neighbours, never beyond a record's own scope: same-slot live records (an index lookup)
 * and live records whose vector of the record's model is at least `minSimilarity` to its own (an exact scan of
 * the scope's vectors, read once per scope and model).
 */
export async function neighbourCandidates(
  db: Queryable,
  context: string,
  setOf: (model: string) => Promise<VectorSet | undefined>,
  queries: readonly NeighbourQuery[],
  minSimilarity: number,
): Promise<Map<number, NeighbourCandidates>> {
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
    const similar: { id: number; similarity: number }[] = [];
    const set = q.model !== null ? await setOf(q.model) : undefined;
    if (set) {
      const key = `${q.scopeKey}\u0000${set.model}`;
      let vectors = scopes.get(key);
      if (!vectors) {
        const rows = await query<{ id: number; embedding: unknown }>(
          db,
          `SELECT r.id, v.embedding FROM records r JOIN ${set.table} v ON v.label = r.id
             WHERE r.context = $1 AND r.scope_key = $2 AND r.status IN ('current', 'flagged') AND r.embedding_model = $3`,
          [context, q.scopeKey, set.model],
        );
        scopes.set(key, (vectors = new Map(rows.map((r) => [r.id, fromVectorColumn(r.embedding)]))));
      }
      const own = vectors.get(q.recordId) ?? (await getVector(db, set, q.recordId));
      if (own) {
        for (const [id, v] of vectors) {
          if (id === q.recordId) continue;
          const similarity = 1 - cosineDistance(own, v);
          if (similarity >= minSimilarity) similar.push({ id, similarity });
        }
      }
    }
    out.set(q.recordId, { sameSlot, similar });
  }
  return out;
}
