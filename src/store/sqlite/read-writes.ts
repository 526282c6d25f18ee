import { sql } from "../database.js";
import { insertCacheEntry } from "../cache.js";
import { addEdge, entityIdsOfRecords } from "../graph.js";
import { getRecords, type RecordRow } from "../records.js";
import { insertTrace } from "../traces.js";
import { putVector } from "../vectors.js";
import { toId } from "../ids.js";
import type { AnswerWrite, FactsWritten, ReflectionWrite, RetrievalTraceWrite, ReuseWrite } from "../store.js";
import { reconcileFacts } from "./facts.js";
import type { SearchParts } from "./record-search.js";
import type { Writer } from "./writer.js";

// The writes reads leave: traces of answers and ranked reads, the query log, cache entries, reinforcement.

export interface WriteParts extends SearchParts {
  writer: Writer;
}

/**
 * A retrieval_trace with its edges: `returned` to each record and chunk given back, `considered` (weighted by
 * fused score) to the runners-up. Inside the caller's transaction.
 */
export function writeRetrievalTrace(p: WriteParts, t: RetrievalTraceWrite, now: number): number {
  const { db, context } = p;
  const id = insertTrace(db, context, "retrieval_trace", t.actor, t.scopeKey, t.payload, now);
  for (const c of t.considered) addEdge(db, context, { type: "trace", id }, "considered", { type: "record", id: c.id }, now, c.score);
  for (const r of t.returned) addEdge(db, context, { type: "trace", id }, "returned", { type: "record", id: r }, now);
  for (const c of t.returnedChunks) addEdge(db, context, { type: "trace", id }, "returned", { type: "chunk", id: c }, now);
  // The graph the spec draws: a retrieval reaches the entities its records are about and the passages it found.
  for (const e of entityIdsOfRecords(db, t.returned)) addEdge(db, context, { type: "trace", id }, "about", { type: "entity", id: e }, now);
  for (const turn of t.returnedTurns ?? []) addEdge(db, context, { type: "trace", id }, "returned", { type: "turn", id: turn }, now);
  return id;
}

function writeResponse(p: WriteParts, response: AnswerWrite["response"], retrievalTrace: number, now: number): number {
  const { db, context } = p;
  const id = insertTrace(db, context, "response_trace", response.actor, response.scopeKey, response.payload, now);
  addEdge(db, context, { type: "trace", id }, "used_retrieval", { type: "trace", id: retrievalTrace }, now);
  addEdge(db, context, { type: "trace", id: retrievalTrace }, "parent_trace", { type: "trace", id }, now);
  for (const r of response.used ?? []) addEdge(db, context, { type: "trace", id }, "used", { type: "record", id: r }, now);
  if (response.actor.session) addEdge(db, context, { type: "trace", id }, "parent_session", { type: "session", id: response.actor.session }, now);
  return id;
}

/** A tier-3 answer, in one transaction: traces, edges, the query and its vector, the cache entry. */
export function writeAnswer(p: WriteParts, w: AnswerWrite): { responseTraceId: number; retrievalTraceId: number } {
  return p.writer.transaction(() => {
    const { db, context } = p;
    const retrievalTraceId = writeRetrievalTrace(p, w.retrieval, w.now);
    const responseTraceId = writeResponse(p, w.response, retrievalTraceId, w.now);
    const queryId = Number(
      sql(db, "INSERT INTO queries (context, scope_key, query, norm_query, retrieval_trace_id, embedding_model, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(context, w.response.scopeKey, w.query.text, w.query.norm, retrievalTraceId, w.query.model, w.now).lastInsertRowid,
    );
    putVector(db, context, "queries", w.query.model, queryId, w.query.vector);
    if (w.cache) {
      insertCacheEntry(
        db,
        { context, scope_key: w.cache.scopeKey, query_id: queryId, norm_query: w.query.norm, signature: w.cache.signature, answer: w.cache.answer, response_trace_id: responseTraceId, created_at: w.now },
        w.cache.deps,
        w.cache.topics,
        w.cache.chunkDeps,
      );
    }
    return { responseTraceId, retrievalTraceId };
  });
}

/** Records as a read returns them: read now, shown with the reinforcements pending in the group. */
function reinforcedInGroup(p: WriteParts, ids: readonly number[], now: number, extendLife = false): RecordRow[] {
  const pending = p.writer.reinforceLater(ids, now, extendLife);
  return getRecords(p.db, p.context, ids).map((row) => ({
    ...row,
    importance: p.writer.reinforced(row.importance, pending.get(row.id)!),
    last_accessed_at: now,
  }));
}

/** A tier-1/2 reuse or `fact:` lookup, group-committed with the other reads of this tick. */
export function writeReuse(p: WriteParts, w: ReuseWrite): { traceId: number; records: RecordRow[] } {
  return p.writer.groupWrite(() => {
    const { db, context } = p;
    const traceId = insertTrace(db, context, "response_trace", w.actor, w.scopeKey, w.payload, w.now);
    // A reuse links to the answer it repeats, whose retrieval trace has the `returned` edges to the records
    // (the payload lists them too); a `fact:<id>` lookup has no such answer, so it cites the record itself.
    if (w.reusedFrom !== undefined) addEdge(db, context, { type: "trace", id: traceId }, "reused_from", { type: "trace", id: w.reusedFrom }, w.now);
    for (const id of w.cited) addEdge(db, context, { type: "trace", id: traceId }, "cited", { type: "record", id }, w.now);
    if (w.actor.session) addEdge(db, context, { type: "trace", id: traceId }, "parent_session", { type: "session", id: w.actor.session }, w.now);
    return { traceId, records: reinforcedInGroup(p, w.reinforce, w.now, w.extendLife ?? false) };
  });
}

/**
 * A ranked read's retrieval trace, written after the read has returned (Writer.defer), and the reinforcement of
 * what it returned, counted now and written with the group. `reinforce` are the rows the read returns, as it
 * read them (with the reinforcements pending then, see Writer.withPendingReinforcement): returned with this one.
 */
export function writeRankedRead(p: WriteParts, w: { retrieval: RetrievalTraceWrite; reinforce: readonly RecordRow[]; extendLife?: boolean; now: number }): RecordRow[] {
  p.writer.reinforceLater(w.reinforce.map((r) => r.id), w.now, w.extendLife ?? false);
  p.writer.defer(() => writeRetrievalTrace(p, w.retrieval, w.now));
  return w.reinforce.map((row) => ({ ...row, importance: p.writer.reinforced(row.importance, 1), last_accessed_at: w.now }));
}

/** Reflect, in one transaction: its traces and edges, and its insights reconciled as observations. */
export function writeReflection(p: WriteParts, w: ReflectionWrite): { responseTraceId: number; written: FactsWritten | undefined } {
  return p.writer.transaction(() => {
    const retrievalTraceId = writeRetrievalTrace(p, w.retrieval, w.now);
    const responseTraceId = writeResponse(p, w.response, retrievalTraceId, w.now);
    if (!w.insights) return { responseTraceId, written: undefined };
    const written = reconcileFacts(p, {
      ...w.insights,
      source: { kind: "reflect", id: toId("trace", responseTraceId), key: "reflect", node: { type: "trace", id: responseTraceId } },
      parentTrace: responseTraceId,
    });
    addEdge(p.db, p.context, { type: "trace", id: responseTraceId }, "produced_decision", { type: "trace", id: written.traceId }, w.now);
    return { responseTraceId, written };
  });
}
