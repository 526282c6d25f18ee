import { lastSweep, recordsUsedInAnswers, reinforceUsed, relatedClusters } from "../consolidation.js";
import { coConsidered, documentTurnBridges, entitiesLinked, entityIdOf, entityIdsOfRecord, entityNames } from "../elaboration.js";
import { addEdge } from "../graph.js";
import { toId } from "../ids.js";
import { appendHistory, getRecord, liveByAttribute, updateRecord, type RecordRow } from "../records.js";
import { insertTrace } from "../traces.js";
import type { Cluster, DocumentTurnBridge, EntityPair, FactsWrite, FactsWritten, TraceActor } from "../store.js";
import { reconcileFacts } from "./facts.js";
import type { WriteParts } from "./read-writes.js";

// The evolution sweeps' reads and writes (lifecycle/consolidate.ts, lifecycle/elaborate.ts): each write one
// transaction of the engine's writer, which tells the vector index of the vectors the reconciler changed.

export function startSweep(p: WriteParts, input: { actor: TraceActor; payload: Record<string, unknown>; now: number }): number {
  return p.writer.transaction(() => insertTrace(p.db, p.context, "sweep_trace", input.actor, null, input.payload, input.now));
}

export function beginConsolidation(
  p: WriteParts,
  input: { actor: TraceActor; now: number; answers: number; factor: number; noAnswer: string },
): { sweepId: number; reinforced: number; answers: number; through: number } {
  const { db, context } = p;
  return p.writer.transaction(() => {
    const previous = lastSweep(db, context, "consolidate");
    const after = typeof previous?.payload.through_response_trace === "number" ? previous.payload.through_response_trace : 0;
    const used = recordsUsedInAnswers(db, context, after, input.answers, input.noAnswer);
    // The watermark is written with the reinforcement it stands for: a sweep cut short (a crash, a close) before
    // it writes its outcome never makes the next one reinforce the same answers again.
    const sweepId = insertTrace(db, context, "sweep_trace", input.actor, null, { sweep: "consolidate", complete: false, through_response_trace: used.through }, input.now);
    const reinforced = reinforceUsed(db, context, used.uses, input.factor, input.now, sweepId);
    return { sweepId, reinforced, answers: used.answers, through: used.through };
  });
}

export function consolidationClusters(p: WriteParts, query: { now: number; minSize: number; limit: number }): Cluster[] {
  return relatedClusters(p.db, p.context, query.now, query.minSize, query.limit);
}

export function liveRecordsOfSlot(p: WriteParts, slot: { scopeKey: string; subject: string; attribute: string }): RecordRow[] {
  return liveByAttribute(p.db, p.context, slot.scopeKey, slot.subject, slot.attribute);
}

export function writeObservation(
  p: WriteParts,
  input: { facts: FactsWrite; members: readonly number[]; proofCount: number },
): { written: FactsWritten; recordId: number | undefined } {
  const { db, context } = p;
  return p.writer.transaction(() => {
    const written = reconcileFacts(p, input.facts);
    const outcome = written.outcomes.find((o) => o.outcome === "created" || o.outcome === "updated");
    if (!outcome) return { written, recordId: undefined };
    const row = getRecord(db, context, outcome.record.id)!;
    const now = input.facts.now;
    updateRecord(db, row.id, {
      proof_count: input.proofCount,
      history: appendHistory(row, { at: now, event: "consolidated", detail: input.members.map((m) => toId("record", m)).join(","), trace: written.traceId }),
    });
    return { written, recordId: row.id };
  });
}

export function coConsideredPairs(p: WriteParts, query: { traces: number; minCount: number }): EntityPair[] {
  return coConsidered(p.db, p.context, query.traces, query.minCount);
}

export function bridges(p: WriteParts, limit: number): DocumentTurnBridge[] {
  const entitiesOf = new Map<number, number[]>();
  const of = (record: number) => {
    let ids = entitiesOf.get(record);
    if (!ids) entitiesOf.set(record, (ids = entityIdsOfRecord(p.db, record)));
    return ids;
  };
  return documentTurnBridges(p.db, p.context, limit).map((b) => ({
    ...b,
    turnEntities: of(b.turnRecord).filter((e) => e !== b.via),
    docEntities: of(b.docRecord).filter((e) => e !== b.via),
  }));
}

export function linked(p: WriteParts, a: number, b: number): boolean {
  return entitiesLinked(p.db, a, b);
}

export function entityNamesById(p: WriteParts, ids: readonly number[]): Map<number, string> {
  return entityNames(p.db, ids);
}

export function ensureEntity(p: WriteParts, input: { name: string; normName: string; now: number }): number {
  return p.writer.transaction(() => entityIdOf(p.db, p.context, input.name, input.normName, input.now));
}

export function rejectEntityPair(p: WriteParts, input: { a: number; b: number; now: number }): void {
  p.writer.transaction(() => addEdge(p.db, p.context, { type: "entity", id: input.a }, "elaboration:none", { type: "entity", id: input.b }, input.now));
}

export function writeRelation(p: WriteParts, input: { facts: FactsWrite; a: number; b: number; relation: string }): FactsWritten {
  return p.writer.transaction(() => {
    const written = reconcileFacts(p, input.facts);
    addEdge(p.db, p.context, { type: "entity", id: input.a }, `relation:${input.relation}`, { type: "entity", id: input.b }, input.facts.now);
    return written;
  });
}
