import type { Core } from "../core.js";
import { synthesisPrompt } from "../models/prompts/synthesis.js";
import { toId } from "../store/ids.js";
import { scopeKey, type Scope } from "../store/scope.js";
import type { Outcome, TraceActor } from "../store/store.js";
import { toPublicRecord, type MemoryRecord } from "../state/public-record.js";
import { answerContext, embedQuery } from "./recall/answer-context.js";
import { answerUsage } from "./recall/answer-usage.js";
import { reinforceUsed, retrievalTraceWrite } from "./recall/recall.js";
import { usedOf } from "./recall/used-of.js";

/** What reflection uses: an answer's context, the reflection model, the store, the retention rules. */
export type ReflectDeps = Pick<Core, "store" | "models" | "settings" | "now" | "logger" | "feedback">;

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
export async function reflect(core: ReflectDeps, req: ReflectRequest): Promise<ReflectResult> {
  const signal = req.signal ? { signal: req.signal } : {};
  const embedded = await embedQuery(core, req.query, req.signal);
  const { embedder } = embedded;
  const { understanding: qu, now, retrieval, records } = await answerContext(core, {
    query: req.query,
    embedded,
    scopeKeys: req.readable,
    limit: req.limit,
    ...signal,
  });
  const input = { query: req.query, records };
  const synthesis = await core.models.model("reflection").generate(synthesisPrompt, input, signal);
  core.models.recordUsage("reflection", synthesis.usage);
  const used = usedOf(synthesis.value.used, retrieval).records;
  const insights = req.write ? synthesis.value.insights : [];
  const insightVectors = insights.length > 0 ? await embedder.embed(insights.map((i) => i.text), signal) : undefined;
  if (insightVectors) core.models.recordUsage("embedding", insightVectors.usage);

  const key = scopeKey(req.scope);
  const { responseTraceId, written } = await core.store.writeReflection({
    retrieval: retrievalTraceWrite(req.actor, key, req.query, qu.value, retrieval, {
      query_understanding: qu.usage.model,
      reflection: synthesis.usage.model,
      embedding: embedder.id,
    }, qu.fallback),
    response: {
      actor: req.actor,
      scopeKey: key,
      used,
      payload: {
        message: req.query,
        kind: "reflect",
        prompt: synthesisPrompt.render(input),
        answer: synthesis.value.answer,
        used: used.map((id) => toId("record", id)),
        insights: insights.map((i) => i.text),
        ...answerUsage({ query_understanding: qu.usage, reflection: synthesis.usage }),
      },
    },
    ...(insights.length > 0
      ? {
          insights: {
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
            actor: req.actor,
            retention: core.settings.current().retention,
            now,
            derivedFrom: used,
            provenance: { prompt: `${synthesisPrompt.name}@${synthesisPrompt.version}`, usage: synthesis.usage },
          },
        }
      : {}),
    now,
  });
  const traceId = responseTraceId;
  return {
    answer: synthesis.value.answer,
    records: await reinforceUsed(core, retrieval.records, used),
    insights: (written?.outcomes ?? []).map(({ record, outcome }) => ({ ...toPublicRecord(record), outcome })),
    traceId: toId("trace", traceId),
  };
}
