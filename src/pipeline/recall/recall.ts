import type { Core } from "../../core.js";
import { REINFORCEMENT } from "../../config/defaults.js";
import type { QueryUnderstanding } from "../../models/prompts/query-understanding.js";
import { responsePrompt } from "../../models/prompts/response.js";
import type { ModelUsage } from "../../models/types.js";
import { toId } from "../../store/ids.js";
import { scopeKey } from "../../store/scope.js";
import type { RecordRow, RetrievalTraceWrite, Store, TraceActor } from "../../store/store.js";
import { toPublicRecord, type MemoryRecord } from "../../state/public-record.js";
import { recordTopics } from "../../store/reconcile-rules.js";
import { answerContext, embedQuery } from "./answer-context.js";
import { answerUsage } from "./answer-usage.js";
import { round, type Retrieval } from "./hybrid.js";
import { normalizeQuery } from "./normalize.js";
import { publicChunk } from "./public-chunk.js";
import { questionSignature } from "./question-signature.js";
import type { RecallRequest, RecallResult } from "./recall-types.js";
import { directLookup } from "./tier1-direct.js";
import { semanticReuse } from "./tier2-semantic.js";
import type { UnderstandingFallback } from "./understand.js";
import { usedOf, type UsedSet } from "./used-of.js";

export type { RecallRequest, RecallResult, RecalledChunk } from "./recall-types.js";

/** What reinforcing the records an answer used takes. */
export type ReinforceDeps = Pick<Core, "store" | "now">;

/** What recall uses through its three tiers. */
export type RecallDeps = Pick<Core, "store" | "models" | "settings" | "now" | "logger" | "feedback">;

const signalOpt = (signal?: AbortSignal) => (signal ? { signal } : {});

/** Recalls answering now, per instance: identical question, cache scope (exact scope + grants) and limit. */
const inFlight = new WeakMap<Store, Map<string, Promise<RecallResult>>>();

/**
 * Answers through the three tiers. Identical recalls made while one is being answered share it: they wait for
 * the first, then take the answer it cached at tier 1 (a reuse trace of their own), or, when it cached nothing
 * (an answer citing no record), the first's result itself. A burst of the same question makes one tier-3
 * model call and one cache entry, not one per caller. If the first fails (its caller aborted it), each waiting
 * caller answers for itself.
 */
export async function recall(core: RecallDeps, req: RecallRequest): Promise<RecallResult> {
  let flights = inFlight.get(core.store);
  if (!flights) inFlight.set(core.store, (flights = new Map()));
  const norm = normalizeQuery(req.query);
  const flightKey = `${req.cacheKey}\u0000${req.limit}\u0000${norm}`;
  const leader = flights.get(flightKey);
  if (leader) {
    const shared = await leader.catch(() => undefined);
    if (shared) return (await directLookup(core, req, scopeKey(req.scope), norm)) ?? shared;
    return recall(core, req);
  }
  const answering = answer(core, req, norm);
  flights.set(flightKey, answering);
  try {
    return await answering;
  } finally {
    flights.delete(flightKey);
  }
}

async function answer(core: RecallDeps, req: RecallRequest, norm: string): Promise<RecallResult> {
  const started = performance.now();
  const key = scopeKey(req.scope);

  const direct = await directLookup(core, req, key, norm);
  if (direct) return direct;

  const embedded = await embedQuery(core, req.query, req.signal);
  const { vector, embedder } = embedded;

  const signature = questionSignature(req.query);
  const reused = await semanticReuse(core, req, key, vector, embedder.id, signature);
  if (reused) return reused;

  const { understanding: qu, retrieval, entities, records } = await answerContext(core, {
    query: req.query,
    embedded,
    scopeKeys: req.readable,
    limit: req.limit,
    ...signalOpt(req.signal),
  });
  const responseInput = { query: req.query, type: qu.value.type, records };
  const response = await core.models.model("response").generate(responsePrompt, responseInput, signalOpt(req.signal));
  core.models.recordUsage("response", response.usage);

  const used = usedOf(response.value.used, retrieval);
  const traceId = await writeTier3(core, req, key, norm, signature, vector, embedder.id, qu.value, retrieval, entities, qu.fallback, used, {
    answer: response.value.answer,
    prompt: responsePrompt.render(responseInput),
    usage: { query_understanding: qu.usage, response: response.usage },
    latencyMs: performance.now() - started,
  });
  return {
    answer: response.value.answer,
    tier: 3,
    cached: false,
    records: await reinforceUsed(core, retrieval.records, used.records),
    chunks: retrieval.chunks.map(({ row }) => publicChunk(row)),
    traceId: toId("trace", traceId),
  };
}

/** The tier-3 answer's traces, query and cache entry, in one transaction. */
async function writeTier3(
  core: Pick<Core, "store" | "now">,
  req: RecallRequest,
  key: string,
  norm: string,
  signature: string,
  vector: Float32Array,
  model: string,
  understanding: QueryUnderstanding,
  retrieval: Retrieval,
  entities: ReadonlyMap<number, string[]>,
  fallback: UnderstandingFallback | undefined,
  used: UsedSet,
  response: { answer: string; prompt: string; usage: Record<string, ModelUsage>; latencyMs: number },
): Promise<number> {
  // The cached answer depends on what it used, nothing else: a change to a record it was shown but did not use
  // does not evict it. An answer that used nothing (a "don't know", or one from no record) is not cached: no
  // change to a record would ever evict it when the answer is stated later.
  const cacheable = used.records.length > 0 || used.chunks.length > 0;
  const topics = new Set<string>();
  if (cacheable) {
    for (const s of understanding.subjects) for (const a of understanding.attributes) topics.add(`attr:${s}/${a}`);
    const usedRows = retrieval.records.filter((r) => used.records.includes(r.id));
    for (const row of usedRows) recordTopics(row, entities.get(row.id) ?? []).forEach((t) => topics.add(t));
  }
  const { responseTraceId } = await core.store.writeAnswer({
    retrieval: retrievalTraceWrite(req.actor, key, req.query, understanding, retrieval, {
      query_understanding: response.usage.query_understanding?.model,
      embedding: model,
    }, fallback),
    response: {
      actor: req.actor,
      scopeKey: key,
      used: used.records,
      payload: {
        message: req.query,
        prompt: response.prompt,
        answer: response.answer,
        used: [...used.records.map((id) => toId("record", id)), ...used.chunks.map((id) => toId("chunk", id))],
        tier: 3,
        cached: false,
        ...answerUsage(response.usage),
        latency_ms: round(response.latencyMs),
      },
    },
    query: { text: req.query, norm, model, vector },
    ...(cacheable
      ? {
          cache: {
            scopeKey: req.cacheKey,
            signature,
            answer: response.answer,
            deps: used.records,
            topics: [...topics],
            chunkDeps: used.chunks,
          },
        }
      : {}),
    now: core.now(),
  });
  return responseTraceId;
}

/**
 * A retrieval_trace as the store writes it: every candidate of every channel in the payload with its scores,
 * `returned` edges to each record and chunk given back, `considered` edges (weighted by fused score) to the
 * candidates ranked just below them, as many as were returned (an edge costs ~12 µs on a 100k store, and ranks
 * far down say little).
 */
export function retrievalTraceWrite(
  actor: TraceActor,
  key: string,
  query: string,
  understanding: QueryUnderstanding,
  retrieval: Retrieval,
  models: Record<string, string | undefined>,
  fallback?: UnderstandingFallback,
): RetrievalTraceWrite {
  const returned = retrieval.records.map((r) => r.id);
  return {
    actor,
    scopeKey: key,
    payload: {
      query,
      understanding,
      candidates: mapIds(retrieval.candidates),
      vector_path: retrieval.vectorPath,
      feedback: retrieval.feedback.map((c) => ({ id: toId("record", c.id), score: c.score })),
      fused: retrieval.fused.map((c) => ({ id: toId("record", c.id), score: c.score })),
      returned: returned.map((r) => toId("record", r)),
      chunks: retrieval.chunks.map((c) => ({ id: toId("chunk", c.row.id), score: c.score })),
      passages: retrieval.passages.map((c) => ({ id: toId("turn", c.id), score: c.score })),
      model: models,
      ...(fallback ? { query_understanding_fallback: fallback } : {}),
    },
    returned,
    returnedChunks: retrieval.chunks.map((c) => c.row.id),
    // The graph the spec draws: a retrieval reaches the passages it found (and the engine adds the entities its
    // records are about).
    returnedTurns: retrieval.results.flatMap((r) => (r.kind === "passage" ? [r.passage.id] : [])),
    considered: retrieval.fused.filter((c) => !returned.includes(c.id)).slice(0, Math.max(returned.length, 1)),
  };
}

function mapIds(candidates: Retrieval["candidates"]) {
  return Object.fromEntries(
    Object.entries(candidates).map(([name, list]) => [name, list.map((c) => ({ id: toId("record", c.id), score: c.score }))]),
  );
}

/**
 * Reinforces records an answer used: importance × 1.1, capped at 1.0, and a context fact's life extended
 * (lifecycle/survival.ts). Returns them as callers see them.
 */
export async function reinforce(core: ReinforceDeps, ids: readonly number[]): Promise<MemoryRecord[]> {
  return (await core.store.reinforce(ids, REINFORCEMENT, core.now(), { extendLife: true })).map(toPublicRecord);
}

/**
 * The records an answer was given, as callers see them: those it used reinforced (and living longer for it,
 * see `reinforce`), the rest as they stand.
 */
export async function reinforceUsed(core: ReinforceDeps, given: readonly RecordRow[], used: readonly number[]): Promise<MemoryRecord[]> {
  const reinforced = new Map((await reinforce(core, used)).map((r) => [r.id, r]));
  return given.map((r) => reinforced.get(toId("record", r.id)) ?? toPublicRecord(r));
}
