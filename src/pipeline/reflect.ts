import type { Core } from "../core.js";
import { understandQuery } from "./recall/understand.js";
import { synthesisPrompt } from "../models/prompts/synthesis.js";
import { addEdge } from "../store/graph.js";
import { toId, tryParseId } from "../store/ids.js";
import { scopeKey, type Scope } from "../store/scope.js";
import { insertTrace, type TraceActor } from "../store/traces.js";
import { toPublicRecord, type MemoryRecord } from "../state/public-record.js";
import { applyVectorChanges } from "./ingest.js";
import { retrieve } from "./recall/hybrid.js";
import { entityNamesOf } from "../store/graph.js";
import { promptRecords, reinforceUsed, writeRetrievalTrace } from "./recall/recall.js";
import { reconcile, type Outcome } from "./reconcile.js";

export interface ReflectResult {
  answer: string;
  /** The records the answer drew on. */
  records: MemoryRecord[];
  /** New observations written from the answer (source.kind "reflect"), with their reconciliation outcome. */
  insights: (MemoryRecord & { outcome: Outcome })[];
  traceId: string;
}

export interface ReflectRequest {
  query: string;
  scope: Scope;
  readable: string[];
  limit: number;
  actor: TraceActor;
  /** Whether the caller may write the scope: insights are kept only then. */
  write: boolean;
  signal?: AbortSignal;
}

/**
 * The active path of memory (spec: reflection): a synthesis question answered by the reflection stage's model
 * from hybrid retrieval, never from the response cache; observations it draws from two or more records are
 * written back through the reconciler as `observation` records derived from them. Two model calls
 * (query understanding, synthesis) and one embedding.
 */
export async function reflect(core: Core, req: ReflectRequest): Promise<ReflectResult> {
  const signal = req.signal ? { signal: req.signal } : {};
  const embedder = core.embedder();
  const embedded = await embedder.embed([req.query], signal);
  core.recordUsage("embedding", embedded.usage);
  const qu = await understandQuery(core, req.query, req.signal);
  const now = core.now();
  const retrieval = retrieve(core, {
    query: req.query,
    vector: embedded.vectors[0],
    embeddingModel: embedder.id,
    understanding: qu.value,
    scopeKeys: req.readable,
    limit: req.limit,
    now,
  });
  const input = { query: req.query, records: promptRecords(retrieval, now, (id) => entityNamesOf(core.db, id)) };
  const synthesis = await core.model("reflection").generate(synthesisPrompt, input, signal);
  core.recordUsage("reflection", synthesis.usage);
  const used = synthesis.value.used.map((id) => tryParseId("record", id)).filter((n): n is number => n !== undefined && retrieval.records.some((r) => r.id === n));
  const insights = req.write ? synthesis.value.insights : [];
  const insightVectors = insights.length > 0 ? await embedder.embed(insights.map((i) => i.text), signal) : undefined;
  if (insightVectors) core.recordUsage("embedding", insightVectors.usage);

  const key = scopeKey(req.scope);
  const { traceId, written, vectorChanges } = core.transaction(() => {
    const retrievalTrace = writeRetrievalTrace(core, req.actor, key, req.query, qu.value, retrieval, {
      query_understanding: qu.usage.model,
      reflection: synthesis.usage.model,
      embedding: embedder.id,
    }, qu.fallback);
    const responseTrace = insertTrace(
      core.db,
      core.context,
      "response_trace",
      req.actor,
      key,
      {
        message: req.query,
        kind: "reflect",
        prompt: synthesisPrompt.render(input),
        answer: synthesis.value.answer,
        used: used.map((id) => toId("record", id)),
        insights: insights.map((i) => i.text),
        tokens: { input: qu.usage.inputTokens + synthesis.usage.inputTokens, output: qu.usage.outputTokens + synthesis.usage.outputTokens },
        cost_usd: qu.usage.costUsd + synthesis.usage.costUsd,
        usage: { query_understanding: qu.usage, reflection: synthesis.usage },
        model_calls: 2,
      },
      now,
    );
    addEdge(core.db, core.context, { type: "trace", id: responseTrace }, "used_retrieval", { type: "trace", id: retrievalTrace }, now);
    addEdge(core.db, core.context, { type: "trace", id: retrievalTrace }, "parent_trace", { type: "trace", id: responseTrace }, now);
    for (const id of used) addEdge(core.db, core.context, { type: "trace", id: responseTrace }, "used", { type: "record", id }, now);
    if (req.actor.session) addEdge(core.db, core.context, { type: "trace", id: responseTrace }, "parent_session", { type: "session", id: req.actor.session }, now);
    if (insights.length === 0) return { traceId: responseTrace, written: [], vectorChanges: [] };
    const decision = reconcile(core.db, {
      context: core.context,
      scope: req.scope,
      scopeKey: key,
      facts: insights.map((i) => ({
        kind: "observation" as const,
        memory_category: "knowledge" as const,
        subject: "user",
        attribute: null,
        value: null,
        cardinality: "many" as const,
        text: i.text,
        confidence: i.confidence,
        entities: [],
      })),
      vectors: insightVectors!.vectors,
      embeddingModel: embedder.id,
      source: { kind: "reflect", id: toId("trace", responseTrace), key: "reflect", node: { type: "trace", id: responseTrace } },
      actor: req.actor,
      retention: core.settings().retention,
      now,
      derivedFrom: used,
      parentTrace: responseTrace,
      provenance: { prompt: `${synthesisPrompt.name}@${synthesisPrompt.version}`, usage: synthesis.usage },
    });
    addEdge(core.db, core.context, { type: "trace", id: responseTrace }, "produced_decision", { type: "trace", id: decision.traceId }, now);
    return { traceId: responseTrace, written: decision.outcomes, vectorChanges: decision.vectorChanges };
  });
  applyVectorChanges(core, embedder.id, vectorChanges);
  return {
    answer: synthesis.value.answer,
    records: reinforceUsed(core, retrieval.records, used),
    insights: written.map(({ record, outcome }) => ({ ...toPublicRecord(record), outcome })),
    traceId: toId("trace", traceId),
  };
}
