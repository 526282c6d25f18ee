import type { Correction } from "../sources.js";
import { neighbourPayload, neighbourStep } from "../reconcile-rules.js";
import type { NeighbourDecision, Outcome, RecordRow, TraceActor } from "../store.js";
import { query } from "./connection.js";
import { addEdge, evictByRecords, insertTrace, noteCorrected, removeRecordVector, updateRecord, type Tx } from "./reconcile-sql.js";
import { getRecord, RECORD_COLUMNS } from "./records-sql.js";

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
