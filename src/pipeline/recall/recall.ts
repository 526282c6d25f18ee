import { sql } from "../../store/database.js";
import type { Core } from "../../core.js";
import { REINFORCEMENT } from "../../config/defaults.js";
import { ttlToMs } from "../../config/schemas.js";
import { queryUnderstandingPrompt, type QueryUnderstanding } from "../../models/prompts/query-understanding.js";
import { responsePrompt, type ResponseInput } from "../../models/prompts/response.js";
import type { ModelUsage } from "../../models/types.js";
import { cacheByNormQuery, cacheByQueryIds, cacheDeps, cacheEntryValid, insertCacheEntry, type CacheEntryRow } from "../../store/cache.js";
import { addEdge, entityNamesOf } from "../../store/graph.js";
import { toId, tryParseId, ID_PREFIX } from "../../store/ids.js";
import { getRecord, getRecords, updateRecord, type RecordRow } from "../../store/records.js";
import { scopeKey, type Scope } from "../../store/scope.js";
import { insertTrace, type TraceActor } from "../../store/traces.js";
import { exactSearch, putVector } from "../../store/vectors.js";
import { iso, toPublicRecord, type MemoryRecord } from "../../state/public-record.js";
import { recordTopics } from "../reconcile.js";
import { retrieve, round, type Retrieval } from "./hybrid.js";
import { normalizeQuery } from "./normalize.js";

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

export async function recall(core: Core, req: RecallRequest): Promise<RecallResult> {
  const started = performance.now();
  const key = scopeKey(req.scope);
  const norm = normalizeQuery(req.query);

  const direct = directLookup(core, req, key, norm);
  if (direct) return direct;

  const embedder = core.embedder();
  const embedded = await embedder.embed([req.query], signalOpt(req.signal));
  core.recordUsage("embedding", embedded.usage);
  const vector = embedded.vectors[0]!;

  const reused = semanticReuse(core, req, key, vector, embedder.id);
  if (reused) return reused;

  const qu = await core.model("query_understanding").generate(queryUnderstandingPrompt, { query: req.query }, signalOpt(req.signal));
  core.recordUsage("query_understanding", qu.usage);
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

  const responseInput = { query: req.query, records: promptRecords(retrieval, now) };
  const response = await core.model("response").generate(responsePrompt, responseInput, signalOpt(req.signal));
  core.recordUsage("response", response.usage);

  const traceId = core.db.transaction(() =>
    writeTier3(core, req, key, norm, vector, embedder.id, qu.value, retrieval, {
      answer: response.value.answer,
      prompt: responsePrompt.render(responseInput),
      usage: { query_understanding: qu.usage, response: response.usage },
      latencyMs: performance.now() - started,
    }),
  )();
  return {
    answer: response.value.answer,
    tier: 3,
    cached: false,
    records: reinforce(core, retrieval.records.map((r) => r.id)),
    chunks: retrieval.chunks.map(({ row }) => publicChunk(row)),
    traceId: toId("trace", traceId),
  };
}

function publicChunk(row: { id: number; document_id: number; title: string; text: string }): RecalledChunk {
  return { id: toId("chunk", row.id), document_id: toId("document", row.document_id), title: row.title, text: row.text };
}

function chunksOf(core: Core, cacheId: number): RecalledChunk[] {
  return (
    sql(core.db, 
        `SELECT c.id, c.document_id, c.text, d.title FROM cache_chunk_deps x JOIN chunks c ON c.id = x.chunk_id
           JOIN documents d ON d.id = c.document_id WHERE x.cache_id = ? ORDER BY c.id`,
      )
      .all(cacheId) as { id: number; document_id: number; title: string; text: string }[]
  ).map(publicChunk);
}

/** Tier 1: the same normalised query answered before in this exact scope, or an explicit `fact:<id>`. */
function directLookup(core: Core, req: RecallRequest, key: string, norm: string): RecallResult | undefined {
  const { db, context } = core;
  const now = core.now();
  const fact = /^fact:\s*(\S+)$/i.exec(req.query.trim());
  if (fact) {
    const id = tryParseId("record", fact[1]!) ?? tryParseId("record", `${ID_PREFIX.record}${fact[1]}`);
    const row = id === undefined ? undefined : getRecord(db, context, id);
    const visible = row && req.readable.includes(row.scope_key);
    const answer = visible ? row.text : `No fact ${fact[1]} in this scope.`;
    const ids = visible ? [row.id] : [];
    const traceId = db.transaction(() => writeReuse(core, req, key, answer, ids, undefined, 1, now, 0))();
    return { answer, tier: 1, cached: false, records: reinforce(core, ids), chunks: [], traceId: toId("trace", traceId) };
  }
  const freshness = core.settings().cache.freshness;
  for (const entry of cacheByNormQuery(db, context, req.cacheKey, norm)) {
    if (!usable(core, entry, now, freshness)) continue;
    return reuse(core, req, key, entry, 1, undefined, now);
  }
  return undefined;
}

/** Tier 2: a prior answer in this exact scope whose query is similar enough and whose cited records stand. */
function semanticReuse(core: Core, req: RecallRequest, key: string, vector: Float32Array, model: string): RecallResult | undefined {
  const { db, context } = core;
  const { similarity: threshold, freshness } = core.settings().cache;
  const hits = exactSearch(
    db,
    context,
    "queries",
    model,
    vector,
    8,
    "SELECT query_id FROM cache_entries WHERE context = ? AND scope_key = ?",
    [context, req.cacheKey],
  ).filter((h) => 1 - h.distance > threshold);
  if (hits.length === 0) return undefined;
  const now = core.now();
  const entries = cacheByQueryIds(db, hits.map((h) => h.label));
  for (const hit of hits) {
    const entry = entries.find((e) => e.query_id === hit.label && e.scope_key === req.cacheKey);
    if (entry && usable(core, entry, now, freshness)) return reuse(core, req, key, entry, 2, round(1 - hit.distance), now);
  }
  return undefined;
}

function usable(core: Core, entry: CacheEntryRow, now: number, freshness: string | null): boolean {
  if (freshness !== null && now - entry.created_at > ttlToMs(freshness)) return false;
  return cacheEntryValid(core.db, entry.id, now, core.settings().cache.min_trust);
}

function reuse(core: Core, req: RecallRequest, key: string, entry: CacheEntryRow, tier: 1 | 2, similarity: number | undefined, now: number): RecallResult {
  const deps = cacheDeps(core.db, entry.id);
  // One transaction for the trace and the reinforcement: on this path the commit is most of the cost.
  const { traceId, records } = core.db.transaction(() => ({
    traceId: writeReuse(core, req, key, entry.answer, deps, entry, tier, now, similarity),
    records: reinforceRows(core, deps),
  }))();
  return {
    answer: entry.answer,
    tier,
    cached: true,
    ...(similarity !== undefined ? { similarity } : {}),
    records,
    chunks: chunksOf(core, entry.id),
    traceId: toId("trace", traceId),
  };
}

function writeReuse(
  core: Core,
  req: RecallRequest,
  key: string,
  answer: string,
  deps: number[],
  entry: CacheEntryRow | undefined,
  tier: 1 | 2,
  now: number,
  similarity: number | undefined,
): number {
  const { db, context } = core;
  const traceId = insertTrace(
    db,
    context,
    "response_trace",
    req.actor,
    key,
    {
      message: req.query,
      answer,
      tier,
      cached: !!entry,
      ...(similarity !== undefined ? { similarity } : {}),
      ...(entry ? { reused_from: toId("trace", entry.response_trace_id) } : {}),
      records: deps.map((id) => toId("record", id)),
      tokens: { input: 0, output: 0 },
      model_calls: 0,
    },
    now,
  );
  if (entry) addEdge(db, context, { type: "trace", id: traceId }, "reused_from", { type: "trace", id: entry.response_trace_id }, now);
  for (const id of deps) addEdge(db, context, { type: "trace", id: traceId }, "cited", { type: "record", id }, now);
  if (req.actor.session) addEdge(db, context, { type: "trace", id: traceId }, "parent_session", { type: "session", id: req.actor.session }, now);
  return traceId;
}

function writeTier3(
  core: Core,
  req: RecallRequest,
  key: string,
  norm: string,
  vector: Float32Array,
  model: string,
  understanding: QueryUnderstanding,
  retrieval: Retrieval,
  response: { answer: string; prompt: string; usage: Record<string, ModelUsage>; latencyMs: number },
): number {
  const { db, context } = core;
  const now = core.now();
  const returned = retrieval.records.map((r) => r.id);
  const retrievalTrace = writeRetrievalTrace(core, req.actor, key, req.query, understanding, retrieval, {
    query_understanding: response.usage.query_understanding?.model,
    embedding: model,
  });

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
  if (req.actor.session) addEdge(db, context, { type: "trace", id: responseTrace }, "parent_session", { type: "session", id: req.actor.session }, now);

  const queryId = Number(
    sql(db, "INSERT INTO queries (context, scope_key, query, norm_query, retrieval_trace_id, embedding_model, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(context, key, req.query, norm, retrievalTrace, model, now).lastInsertRowid,
  );
  putVector(db, context, "queries", model, queryId, vector);
  // An answer from no records would never be invalidated by a cited fact changing: do not cache it.
  if (returned.length > 0 || retrieval.chunks.length > 0) {
    const topics = new Set<string>();
    for (const s of understanding.subjects) for (const a of understanding.attributes) topics.add(`attr:${s}/${a}`);
    for (const row of retrieval.records) recordTopics(row, entityNamesOf(db, row.id)).forEach((t) => topics.add(t));
    insertCacheEntry(
      db,
      { context, scope_key: req.cacheKey, query_id: queryId, norm_query: norm, answer: response.answer, response_trace_id: responseTrace, created_at: now },
      returned,
      [...topics],
      retrieval.chunks.map((c) => c.row.id),
    );
  }
  return responseTrace;
}

/** What the response (or synthesis) model is shown: the ranked records, then document chunks as kind "chunk". */
export function promptRecords(retrieval: Retrieval, now: number): ResponseInput["records"][number][] {
  return [
    ...retrieval.records.map((r) => ({
      id: toId("record", r.id),
      text: r.text,
      kind: r.kind,
      status: r.status,
      subject: r.subject,
      attribute: r.attribute,
      value: r.value,
      created_at: iso(r.created_at),
    })),
    ...retrieval.chunks.map(({ row }) => ({
      id: toId("chunk", row.id),
      text: row.text,
      kind: "chunk",
      status: "current",
      subject: null,
      attribute: null,
      value: null,
      created_at: iso(now),
    })),
  ];
}

/** A retrieval_trace with its `considered` and `returned` edges. Inside the caller's transaction. */
export function writeRetrievalTrace(
  core: Core,
  actor: TraceActor,
  key: string,
  query: string,
  understanding: QueryUnderstanding,
  retrieval: Retrieval,
  models: Record<string, string | undefined>,
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
      model: models,
    },
    now,
  );
  for (const c of retrieval.fused) addEdge(db, context, { type: "trace", id }, "considered", { type: "record", id: c.id }, now, c.score);
  for (const r of returned) addEdge(db, context, { type: "trace", id }, "returned", { type: "record", id: r }, now);
  for (const c of retrieval.chunks) addEdge(db, context, { type: "trace", id }, "returned", { type: "chunk", id: c.row.id }, now);
  return id;
}

function mapIds(candidates: Retrieval["candidates"]) {
  return Object.fromEntries(
    Object.entries(candidates).map(([name, list]) => [name, list.map((c) => ({ id: toId("record", c.id), score: c.score }))]),
  );
}

/** Every record returned to a caller: importance × 1.1, capped at 1.0. Returns them as callers see them. */
export function reinforce(core: Core, ids: readonly number[]): MemoryRecord[] {
  return core.db.transaction(() => reinforceRows(core, ids))();
}

/** `reinforce` inside the caller's transaction. */
function reinforceRows(core: Core, ids: readonly number[]): MemoryRecord[] {
  const { db, context } = core;
  const now = core.now();
  const rows: RecordRow[] = getRecords(db, context, ids);
  for (const row of rows) {
    row.importance = Math.min(1, row.importance * REINFORCEMENT);
    row.last_accessed_at = now;
    updateRecord(db, row.id, { importance: row.importance, last_accessed_at: now });
  }
  return rows.map(toPublicRecord);
}
