import type { Core } from "../../core.js";
import { ttlToMs } from "../../config/schemas.js";
import { cacheByNormQuery, cacheByQueryIds, cacheDeps, cacheEntryValid, type CacheEntryRow } from "../../store/cache.js";
import { sql } from "../../store/database.js";
import { addEdge } from "../../store/graph.js";
import { ID_PREFIX, toId, tryParseId } from "../../store/ids.js";
import { getRecord } from "../../store/records.js";
import { insertTrace } from "../../store/traces.js";
import { exactSearch } from "../../store/vectors.js";
import { round } from "./hybrid.js";
import { reinforceInGroup, type RecallRequest, type RecallResult, type RecalledChunk } from "./recall.js";

// Tiers 1 and 2: answers given before, reused while every record they cited is still current.

export function publicChunk(row: { id: number; document_id: number; title: string; text: string }): RecalledChunk {
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
export function directLookup(core: Core, req: RecallRequest, key: string, norm: string): RecallResult | undefined {
  const { db, context } = core;
  const now = core.now();
  const fact = /^fact:\s*(\S+)$/i.exec(req.query.trim());
  if (fact) {
    const id = tryParseId("record", fact[1]!) ?? tryParseId("record", `${ID_PREFIX.record}${fact[1]}`);
    const row = id === undefined ? undefined : getRecord(db, context, id);
    const visible = row && req.readable.includes(row.scope_key);
    const answer = visible ? row.text : `No fact ${fact[1]} in this scope.`;
    const ids = visible ? [row.id] : [];
    const { traceId, records } = core.groupWrite(() => ({
      traceId: writeReuse(core, req, key, answer, ids, undefined, 1, now, 0),
      records: reinforceInGroup(core, ids, { usedInAnswer: true }),
    }));
    return { answer, tier: 1, cached: false, records, chunks: [], traceId: toId("trace", traceId) };
  }
  const freshness = core.settings().cache.freshness;
  for (const entry of cacheByNormQuery(db, context, req.cacheKey, norm)) {
    if (!usable(core, entry, now, freshness)) continue;
    return reuse(core, req, key, entry, 1, undefined, now);
  }
  return undefined;
}

/**
 * Tier 2: a prior answer in this exact scope to a question that asks the same thing (the same question
 * signature, compared exactly: a near miss such as "Where did I live before?" never gets the answer to "Where
 * do I live?", whatever the embedding model says), similar enough, and whose cited records stand.
 */
export function semanticReuse(
  core: Core,
  req: RecallRequest,
  key: string,
  vector: Float32Array,
  model: string,
  signature: string,
): RecallResult | undefined {
  const { db, context } = core;
  const { similarity: threshold, freshness } = core.settings().cache;
  const hits = exactSearch(
    db,
    context,
    "queries",
    model,
    vector,
    8,
    "SELECT query_id FROM cache_entries WHERE context = ? AND scope_key = ? AND signature = ?",
    [context, req.cacheKey, signature],
  ).filter((h) => 1 - h.distance > threshold);
  if (hits.length === 0) return undefined;
  const now = core.now();
  const entries = cacheByQueryIds(db, hits.map((h) => h.label));
  for (const hit of hits) {
    const entry = entries.find((e) => e.query_id === hit.label && e.scope_key === req.cacheKey && e.signature === signature);
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
  // Group-committed with other reuses: on this path the commit would be most of the cost.
  const { traceId, records } = core.groupWrite(() => ({
    traceId: writeReuse(core, req, key, entry.answer, deps, entry, tier, now, similarity),
    records: reinforceInGroup(core, deps, { usedInAnswer: true }),
  }));
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
    // The spec's shape of a cache hit: { query, tier, cached, similarity, response } (similarity 1 at tier 1:
    // the same words; null for a `fact:<id>` lookup, which matches no earlier question).
    {
      query: req.query,
      tier,
      cached: !!entry,
      similarity: entry ? (similarity ?? 1) : null,
      response: answer,
      ...(entry ? { reused_from: toId("trace", entry.response_trace_id) } : {}),
      records: deps.map((id) => toId("record", id)),
      tokens: { input: 0, output: 0 },
      model_calls: 0,
    },
    now,
  );
  // A reuse links to the answer it repeats, whose retrieval trace has the `returned` edges to the records
  // (the payload lists them too); a `fact:<id>` lookup has no such answer, so it cites the record itself.
  if (entry) addEdge(db, context, { type: "trace", id: traceId }, "reused_from", { type: "trace", id: entry.response_trace_id }, now);
  else for (const id of deps) addEdge(db, context, { type: "trace", id: traceId }, "cited", { type: "record", id }, now);
  if (req.actor.session) addEdge(db, context, { type: "trace", id: traceId }, "parent_session", { type: "session", id: req.actor.session }, now);
  return traceId;
}
