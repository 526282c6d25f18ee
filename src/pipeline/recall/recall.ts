import { sql } from "../../store/database.js";
import type { Core } from "../../core.js";
import { REINFORCEMENT } from "../../config/defaults.js";
import type { QueryUnderstanding } from "../../models/prompts/query-understanding.js";
import { responsePrompt, type ResponseInput } from "../../models/prompts/response.js";
import type { ModelUsage } from "../../models/types.js";
import { insertCacheEntry } from "../../store/cache.js";
import { addEdge, entityIdsOfRecords, entityNamesOf } from "../../store/graph.js";
import { toId, tryParseId } from "../../store/ids.js";
import { getRecords, reinforceRecords, type RecordRow } from "../../store/records.js";
import { scopeKey, type Scope } from "../../store/scope.js";
import { insertTrace, type TraceActor } from "../../store/traces.js";
import { putVector } from "../../store/vectors.js";
import { iso, toPublicRecord, type MemoryRecord } from "../../state/public-record.js";
import { recordTopics } from "../reconcile.js";
import { extendLives } from "../../lifecycle/survival.js";
import { retrieve, round, type Retrieval } from "./hybrid.js";
import { normalizeQuery } from "./normalize.js";
import { questionSignature } from "./question-signature.js";
import { directLookup, publicChunk, semanticReuse } from "./reuse.js";
import { understandQuery, type Understanding, type UnderstandingFallback } from "./understand.js";

export interface RecallResult {
  answer: string;
  /** 1: direct lookup, 2: semantic response cache, 3: hybrid retrieval + response model. */
  tier: 1 | 2 | 3;
  cached: boolean;
  /** Cosine similarity to the reused query (tier 2). */
  similarity?: number;
  records: MemoryRecord[];
  /** Document chunks the answer drew on (tier 3), or that the reused answer cited. */
  chunks: RecalledChunk[];
  traceId: string;
}

export interface RecalledChunk {
  id: string;
  document_id: string;
  title: string;
  text: string;
}

export interface RecallRequest {
  query: string;
  scope: Scope;
  /** Record scope keys this caller reads at `scope` (access.readableScopeKeys). */
  readable: string[];
  /** Where this caller's answers are cached (access.cacheScopeKey): the exact scope, plus its grants' digest. */
  cacheKey: string;
  limit: number;
  actor: TraceActor;
  signal?: AbortSignal;
}

const signalOpt = (signal?: AbortSignal) => (signal ? { signal } : {});

/** Recalls answering now, per instance: identical question, cache scope (exact scope + grants) and limit. */
const inFlight = new WeakMap<Core, Map<string, Promise<RecallResult>>>();

/**
 * Answers through the three tiers. Identical recalls made while one is being answered share it: they wait for
 * the first, then take the answer it cached at tier 1 (a reuse trace of their own), or, when it cached nothing
 * (an answer citing no record), the first's result itself. A burst of the same question makes one tier-3
 * model call and one cache entry, not one per caller. If the first fails (its caller aborted it), each waiting
 * caller answers for itself.
 */
export async function recall(core: Core, req: RecallRequest): Promise<RecallResult> {
  let flights = inFlight.get(core);
  if (!flights) inFlight.set(core, (flights = new Map()));
  const norm = normalizeQuery(req.query);
  const flightKey = `${req.cacheKey}\u0000${req.limit}\u0000${norm}`;
  const leader = flights.get(flightKey);
  if (leader) {
    const shared = await leader.catch(() => undefined);
    if (shared) return directLookup(core, req, scopeKey(req.scope), norm) ?? shared;
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

async function answer(core: Core, req: RecallRequest, norm: string): Promise<RecallResult> {
  const started = performance.now();
  const key = scopeKey(req.scope);

  const direct = directLookup(core, req, key, norm);
  if (direct) return direct;

  const embedder = core.embedder();
  const embedded = await embedder.embed([req.query], signalOpt(req.signal));
  core.recordUsage("embedding", embedded.usage);
  const vector = embedded.vectors[0]!;

  const signature = questionSignature(req.query);
  const reused = semanticReuse(core, req, key, vector, embedder.id, signature);
  if (reused) return reused;

  const qu = await understandQuery(core, req.query, req.signal);
  const now = core.now();
  const retrieval = retrieve(core, {
    query: req.query,
    vector,
    embeddingModel: embedder.id,
    understanding: qu.value,
    scopeKeys: req.readable,
    limit: req.limit,
    now,
  });

  const responseInput = { query: req.query, type: qu.value.type, records: promptRecords(retrieval, now, (id) => entityNamesOf(core.db, id)) };
  const response = await core.model("response").generate(responsePrompt, responseInput, signalOpt(req.signal));
  core.recordUsage("response", response.usage);

  const used = usedOf(response.value.used, retrieval);
  const traceId = core.transaction(() =>
    writeTier3(core, req, key, norm, signature, vector, embedder.id, qu, retrieval, used, {
      answer: response.value.answer,
      prompt: responsePrompt.render(responseInput),
      usage: { query_understanding: qu.usage, response: response.usage },
      latencyMs: performance.now() - started,
    }),
  );
  return {
    answer: response.value.answer,
    tier: 3,
    cached: false,
    records: reinforceUsed(core, retrieval.records, used.records),
    chunks: retrieval.chunks.map(({ row }) => publicChunk(row)),
    traceId: toId("trace", traceId),
  };
}

function writeTier3(
  core: Core,
  req: RecallRequest,
  key: string,
  norm: string,
  signature: string,
  vector: Float32Array,
  model: string,
  qu: Understanding,
  retrieval: Retrieval,
  used: UsedSet,
  response: { answer: string; prompt: string; usage: Record<string, ModelUsage>; latencyMs: number },
): number {
  const understanding = qu.value;
  const { db, context } = core;
  const now = core.now();
  const retrievalTrace = writeRetrievalTrace(
    core,
    req.actor,
    key,
    req.query,
    understanding,
    retrieval,
    { query_understanding: response.usage.query_understanding?.model, embedding: model },
    qu.fallback,
  );

  const usages = Object.values(response.usage);
  const responseTrace = insertTrace(
    db,
    context,
    "response_trace",
    req.actor,
    key,
    {
      message: req.query,
      prompt: response.prompt,
      answer: response.answer,
      used: [...used.records.map((id) => toId("record", id)), ...used.chunks.map((id) => toId("chunk", id))],
      tier: 3,
      cached: false,
      tokens: { input: usages.reduce((s, u) => s + u.inputTokens, 0), output: usages.reduce((s, u) => s + u.outputTokens, 0) },
      cost_usd: usages.reduce((s, u) => s + u.costUsd, 0),
      latency_ms: round(response.latencyMs),
      usage: response.usage,
      model_calls: usages.length,
    },
    now,
  );
  addEdge(db, context, { type: "trace", id: responseTrace }, "used_retrieval", { type: "trace", id: retrievalTrace }, now);
  addEdge(db, context, { type: "trace", id: retrievalTrace }, "parent_trace", { type: "trace", id: responseTrace }, now);
  for (const id of used.records) addEdge(db, context, { type: "trace", id: responseTrace }, "used", { type: "record", id }, now);
  if (req.actor.session) addEdge(db, context, { type: "trace", id: responseTrace }, "parent_session", { type: "session", id: req.actor.session }, now);

  const queryId = Number(
    sql(db, "INSERT INTO queries (context, scope_key, query, norm_query, retrieval_trace_id, embedding_model, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(context, key, req.query, norm, retrievalTrace, model, now).lastInsertRowid,
  );
  putVector(db, context, "queries", model, queryId, vector);
  // The cached answer depends on what it used, nothing else: a change to a record it was shown but did not use
  // does not evict it. An answer that used nothing (a "don't know", or one from no record) is not cached: no
  // change to a record would ever evict it when the answer is stated later.
  if (used.records.length > 0 || used.chunks.length > 0) {
    const topics = new Set<string>();
    for (const s of understanding.subjects) for (const a of understanding.attributes) topics.add(`attr:${s}/${a}`);
    const usedRows = retrieval.records.filter((r) => used.records.includes(r.id));
    for (const row of usedRows) recordTopics(row, entityNamesOf(db, row.id)).forEach((t) => topics.add(t));
    insertCacheEntry(
      db,
      { context, scope_key: req.cacheKey, query_id: queryId, norm_query: norm, signature, answer: response.answer, response_trace_id: responseTrace, created_at: now },
      used.records,
      [...topics],
      used.chunks,
    );
  }
  return responseTrace;
}

/** The records and document chunks an answer used: the response model's `used` ids that it was given. */
export interface UsedSet {
  records: number[];
  chunks: number[];
}

/** The model's `used` list kept to the ids it was shown (a model may invent or repeat ids), in its order. */
export function usedOf(used: readonly string[], retrieval: Retrieval): UsedSet {
  const records = new Set(retrieval.records.map((r) => r.id));
  const chunks = new Set(retrieval.chunks.map((c) => c.row.id));
  const out: UsedSet = { records: [], chunks: [] };
  for (const id of new Set(used)) {
    const record = tryParseId("record", id);
    if (record !== undefined && records.has(record)) out.records.push(record);
    const chunk = tryParseId("chunk", id);
    if (chunk !== undefined && chunks.has(chunk)) out.chunks.push(chunk);
  }
  return out;
}

/**
 * What the response (or synthesis) model is shown: the ranked records, then document chunks as kind "chunk".
 * `entitiesOf` adds the names each record is linked to (the local composer checks them against the question's).
 */
export function promptRecords(retrieval: Retrieval, now: number, entitiesOf?: (recordId: number) => string[]): ResponseInput["records"][number][] {
  const records = retrieval.records.map((r) => ({
    id: toId("record", r.id),
    text: r.text,
    kind: r.kind,
    status: r.status,
    subject: r.subject,
    attribute: r.attribute,
    value: r.value,
    created_at: iso(r.created_at),
    ...(entitiesOf ? { entities: entitiesOf(r.id) } : {}),
  }));
  const chunks = retrieval.chunks.map(({ row }) => ({
    id: toId("chunk", row.id),
    text: row.text,
    kind: "chunk",
    status: "current",
    subject: null,
    attribute: null,
    value: null,
    created_at: iso(now),
  }));
  // Query-type dispatch (dispatch.ts): a question about documents reads them first.
  return retrieval.chunksFirst ? [...chunks, ...records] : [...records, ...chunks];
}

/**
 * A retrieval_trace with its edges: `returned` to each record and chunk given back, `considered` (weighted by
 * fused score) to the candidates ranked just below them, as many as were returned. Every candidate of every
 * channel is in the payload with its scores; an edge costs ~12 µs on a 100k store, and ranks far down say little.
 */
export function writeRetrievalTrace(
  core: Core,
  actor: TraceActor,
  key: string,
  query: string,
  understanding: QueryUnderstanding,
  retrieval: Retrieval,
  models: Record<string, string | undefined>,
  fallback?: UnderstandingFallback,
): number {
  const { db, context } = core;
  const now = core.now();
  const returned = retrieval.records.map((r) => r.id);
  const id = insertTrace(
    db,
    context,
    "retrieval_trace",
    actor,
    key,
    {
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
    now,
  );
  const runnersUp = retrieval.fused.filter((c) => !returned.includes(c.id)).slice(0, Math.max(returned.length, 1));
  for (const c of runnersUp) addEdge(db, context, { type: "trace", id }, "considered", { type: "record", id: c.id }, now, c.score);
  for (const r of returned) addEdge(db, context, { type: "trace", id }, "returned", { type: "record", id: r }, now);
  for (const c of retrieval.chunks) addEdge(db, context, { type: "trace", id }, "returned", { type: "chunk", id: c.row.id }, now);
  // The graph the spec draws: a retrieval reaches the entities its records are about and the passages it found.
  for (const e of entityIdsOfRecords(db, returned)) addEdge(db, context, { type: "trace", id }, "about", { type: "entity", id: e }, now);
  for (const r of retrieval.results) if (r.kind === "passage") addEdge(db, context, { type: "trace", id }, "returned", { type: "turn", id: r.passage.id }, now);
  return id;
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
export function reinforce(core: Core, ids: readonly number[]): MemoryRecord[] {
  return core.transaction(() => {
    const now = core.now();
    const rows = reinforceRecords(core.db, core.context, ids, REINFORCEMENT, now);
    extendLives(core.db, core.settings().retention, rows, now);
    return rows.map(toPublicRecord);
  });
}

/**
 * The records an answer was given, as callers see them: those it used reinforced (and living longer for it,
 * see `reinforce`), the rest as they stand.
 */
export function reinforceUsed(core: Core, given: readonly RecordRow[], used: readonly number[]): MemoryRecord[] {
  const reinforced = new Map(reinforce(core, used).map((r) => [r.id, r]));
  return given.map((r) => reinforced.get(toId("record", r.id)) ?? toPublicRecord(r));
}

/**
 * `reinforce` for a read's group of writes (Core.groupWrite): the records are read now and shown reinforced,
 * and the reinforcement is written when the group commits, once per record however often it was returned.
 */
export function reinforceInGroup(core: Core, ids: readonly number[], options: { usedInAnswer?: boolean } = {}): MemoryRecord[] {
  const now = core.now();
  const pending = core.reinforceLater(ids, now, options.usedInAnswer ?? false);
  return getRecords(core.db, core.context, ids).map((row) =>
    toPublicRecord({ ...row, importance: Math.min(1, row.importance * REINFORCEMENT ** pending.get(row.id)!), last_accessed_at: now }),
  );
}
