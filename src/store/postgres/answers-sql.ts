import type { CacheEntryRow } from "../cache.js";
import { toId } from "../ids.js";
import type { AnswerWrite, ChunkRow, FactsWritten, ReflectionWrite, RetrievalTraceWrite, ReuseWrite } from "../store.js";
import { one, query, type Queryable } from "./connection.js";
import { addEdge, addEdges, insertTrace, reconcile, type Tx } from "./reconcile-sql.js";
import { cosineDistance, fromVectorColumn, putVector, type VectorSet } from "./vector-sets.js";

const CACHE_COLUMNS = "id, context, scope_key, query_id, norm_query, signature, answer, response_trace_id, created_at";

/**
 * A retrieval trace with its edges: `returned` to each record, chunk and passage (turn), `considered` (weighted)
 * to runners-up, `about` to the entities of the records returned.
 */
export async function writeRetrievalTrace(tx: Tx, retrieval: RetrievalTraceWrite, now: number): Promise<number> {
  const id = await insertTrace(tx, "retrieval_trace", retrieval.actor, retrieval.scopeKey, retrieval.payload, now);
  const src = { type: "trace", id } as const;
  await addEdges(
    tx,
    [
      ...retrieval.considered.map((c) => ({ src, kind: "considered", dst: { type: "record", id: c.id }, weight: c.score }) as const),
      ...retrieval.returned.map((r) => ({ src, kind: "returned", dst: { type: "record", id: r } }) as const),
      ...retrieval.returnedChunks.map((c) => ({ src, kind: "returned", dst: { type: "chunk", id: c } }) as const),
    ],
    now,
  );
  if (retrieval.returned.length > 0) {
    await query(
      tx.client,
      `INSERT INTO edges (context, src_type, src_id, kind, dst_type, dst_id, weight, created_at)
         SELECT $1, 'trace', $2, 'about', 'entity', entity_id::text, NULL, $3
           FROM (SELECT DISTINCT entity_id FROM record_entities WHERE record_id = ANY($4::bigint[])) e ORDER BY entity_id`,
      [tx.context, id, now, [...retrieval.returned]],
    );
  }
  await addEdges(tx, (retrieval.returnedTurns ?? []).map((turn) => ({ src, kind: "returned", dst: { type: "turn", id: turn } })), now);
  return id;
}

/** A response trace: `used_retrieval` to its retrieval (which gets `parent_trace` back), `used` to the records used, its session. */
export async function writeResponse(tx: Tx, response: AnswerWrite["response"], retrievalTrace: number, now: number): Promise<number> {
  const id = await insertTrace(tx, "response_trace", response.actor, response.scopeKey, response.payload, now);
  const src = { type: "trace", id } as const;
  await addEdges(
    tx,
    [
      { src, kind: "used_retrieval", dst: { type: "trace", id: retrievalTrace } },
      { src: { type: "trace", id: retrievalTrace }, kind: "parent_trace", dst: src },
      ...(response.used ?? []).map((r) => ({ src, kind: "used", dst: { type: "record", id: r } }) as const),
      ...(response.actor.session ? [{ src, kind: "parent_session", dst: { type: "session", id: response.actor.session } } as const] : []),
    ],
    now,
  );
  return id;
}

/**
 * A tier-3 answer: retrieval and response traces and their edges, the query with its vector (in `queries`, the set
 * tier 2 searches), and the cache entry with what it depends on. The query vector's change is logged like any
 * vector write.
 */
export async function writeAnswer(tx: Tx, write: AnswerWrite, querySet: VectorSet): Promise<{ responseTraceId: number; retrievalTraceId: number }> {
  const { now } = write;
  const retrievalTraceId = await writeRetrievalTrace(tx, write.retrieval, now);
  const responseTraceId = await writeResponse(tx, write.response, retrievalTraceId, now);
  const queryId = (await one<{ id: number }>(
    tx.client,
    "INSERT INTO queries (context, scope_key, query, norm_query, retrieval_trace_id, embedding_model, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    [tx.context, write.retrieval.scopeKey, write.query.text, write.query.norm, retrievalTraceId, write.query.model, now],
  ))!.id;
  await putVector(tx.client, querySet, tx.context, queryId, write.query.vector);
  tx.entries.push({ kind: "vectors", space: "queries", model: querySet.model, label: queryId, op: "add" });
  if (write.cache) {
    const c = write.cache;
    const cacheId = (await one<{ id: number }>(
      tx.client,
      `INSERT INTO cache_entries (context, scope_key, query_id, norm_query, signature, answer, response_trace_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [tx.context, c.scopeKey, queryId, write.query.norm, c.signature, c.answer, responseTraceId, now],
    ))!.id;
    await query(tx.client, "INSERT INTO cache_deps (record_id, cache_id) SELECT DISTINCT unnest($1::bigint[]), $2::bigint ON CONFLICT DO NOTHING", [[...c.deps], cacheId]);
    await query(tx.client, "INSERT INTO cache_chunk_deps (chunk_id, cache_id) SELECT DISTINCT unnest($1::bigint[]), $2::bigint ON CONFLICT DO NOTHING", [[...c.chunkDeps], cacheId]);
    await query(tx.client, "INSERT INTO cache_topics (topic, cache_id) SELECT DISTINCT unnest($1::text[]), $2::bigint ON CONFLICT DO NOTHING", [[...c.topics], cacheId]);
    // Cited records that a concurrent transaction retired before this one committed make the entry stale at
    // once: cacheEntryUsable reads their status at every reuse, so it is never served.
  }
  return { responseTraceId, retrievalTraceId };
}

/** Reflect: its traces and edges, and its insights reconciled as observations (`produced_decision`). */
export async function writeReflection(tx: Tx, w: ReflectionWrite): Promise<{ responseTraceId: number; written: FactsWritten | undefined }> {
  const retrievalTraceId = await writeRetrievalTrace(tx, w.retrieval, w.now);
  const responseTraceId = await writeResponse(tx, w.response, retrievalTraceId, w.now);
  if (!w.insights) return { responseTraceId, written: undefined };
  const written = await reconcile(tx, {
    ...w.insights,
    source: { kind: "reflect", id: toId("trace", responseTraceId), key: "reflect", node: { type: "trace", id: responseTraceId } },
    parentTrace: responseTraceId,
  });
  await addEdge(tx, { type: "trace", id: responseTraceId }, "produced_decision", { type: "trace", id: written.traceId }, w.now);
  return { responseTraceId, written };
}

/** A tier-1/2 reuse or a `fact:` lookup: its response trace and edges; reinforcement is the caller's (same tx). */
export async function writeReuseTrace(tx: Tx, write: ReuseWrite): Promise<number> {
  const { now } = write;
  const traceId = await insertTrace(tx, "response_trace", write.actor, write.scopeKey, write.payload, now);
  const src = { type: "trace", id: traceId } as const;
  // A reuse links to the answer it repeats (whose retrieval has the `returned` edges); a `fact:<id>` lookup cites the record.
  await addEdges(
    tx,
    [
      ...(write.reusedFrom !== undefined ? [{ src, kind: "reused_from", dst: { type: "trace", id: write.reusedFrom } } as const] : []),
      ...write.cited.map((id) => ({ src, kind: "cited", dst: { type: "record", id } }) as const),
      ...(write.actor.session ? [{ src, kind: "parent_session", dst: { type: "session", id: write.actor.session } } as const] : []),
    ],
    now,
  );
  return traceId;
}

/** Entries for this exact normalised query in one cache scope, newest first (at most 4, as SQLite). */
export async function cacheByQuery(db: Queryable, context: string, cacheKey: string, normQuery: string): Promise<CacheEntryRow[]> {
  return query<CacheEntryRow>(
    db,
    `SELECT ${CACHE_COLUMNS} FROM cache_entries WHERE context = $1 AND scope_key = $2 AND norm_query = $3 ORDER BY id DESC LIMIT 4`,
    [context, cacheKey, normQuery],
  );
}

/**
 * Entries of similar past queries with this signature in one cache scope, most similar first. Exact cosine over
 * the scope's entries: one cache scope holds few, and tier 2 must not miss one an ANN walk skipped.
 */
export async function cacheBySimilarity(
  db: Queryable,
  context: string,
  set: VectorSet,
  q: { cacheKey: string; signature: string; vector: Float32Array; k: number; threshold: number },
): Promise<{ entry: CacheEntryRow; similarity: number }[]> {
  const rows = await query<CacheEntryRow & { embedding: unknown }>(
    db,
    `SELECT c.id, c.context, c.scope_key, c.query_id, c.norm_query, c.signature, c.answer, c.response_trace_id, c.created_at, v.embedding
       FROM cache_entries c JOIN ${set.table} v ON v.label = c.query_id
      WHERE c.context = $1 AND c.scope_key = $2 AND c.signature = $3`,
    [context, q.cacheKey, q.signature],
  );
  return rows
    .map(({ embedding, ...entry }) => ({ entry, similarity: 1 - cosineDistance(q.vector, fromVectorColumn(embedding)) }))
    .filter((h) => h.similarity > q.threshold)
    .sort((a, b) => b.similarity - a.similarity || b.entry.id - a.entry.id)
    .slice(0, q.k);
}

/**
 * Whether an entry may be served: every record it cites still current, unexpired at `now` and trusted at least
 * `minTrust`, and every chunk it cites still there. Read from the database at each reuse, so a fact superseded
 * by another process is never served from the cache, whatever this process has heard of it yet.
 */
export async function cacheEntryUsable(db: Queryable, entryId: number, now: number, minTrust: number): Promise<{ deps: number[]; chunks: ChunkRow[] } | undefined> {
  // One statement (tier 1's read: a round trip each was most of its time): whether the entry is stale, and if not
  // its record and chunk dependencies.
  const row = await one<{ stale: boolean; deps: number[] | null; chunks: ChunkRow[] | null }>(
    db,
    `WITH stale AS (
       SELECT EXISTS (
         SELECT 1 FROM cache_deps d LEFT JOIN records r ON r.id = d.record_id
          WHERE d.cache_id = $1 AND (r.id IS NULL OR r.status <> 'current' OR (r.expires_at IS NOT NULL AND r.expires_at <= $2) OR r.trust * r.confidence < $3)
         UNION ALL
         SELECT 1 FROM cache_chunk_deps d LEFT JOIN chunks c ON c.id = d.chunk_id WHERE d.cache_id = $1 AND c.id IS NULL
         UNION ALL
         SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM cache_entries WHERE id = $1)
       ) AS stale
     )
     SELECT stale.stale,
            CASE WHEN stale.stale THEN NULL ELSE ARRAY(SELECT record_id FROM cache_deps WHERE cache_id = $1 ORDER BY record_id) END AS deps,
            CASE WHEN stale.stale THEN NULL ELSE (
              SELECT json_agg(json_build_object('id', c.id, 'document_id', c.document_id, 'scope_key', c.scope_key, 'ord', c.ord, 'text', c.text, 'title', d.title) ORDER BY c.id)
                FROM cache_chunk_deps x JOIN chunks c ON c.id = x.chunk_id JOIN documents d ON d.id = c.document_id WHERE x.cache_id = $1
            ) END AS chunks
       FROM stale`,
    [entryId, now, minTrust],
  );
  if (!row || row.stale) return undefined;
  return { deps: row.deps ?? [], chunks: row.chunks ?? [] };
}

/** Records returned for similar recent past queries in scope: id → summed similarity. Exact over the recent ones. */
export async function feedbackBoosts(
  db: Queryable,
  context: string,
  set: VectorSet,
  q: { vector: Float32Array; scopeKeys: readonly string[]; similar: number; recent: number },
): Promise<Map<number, number>> {
  const boosts = new Map<number, number>();
  const recent = await query<{ id: number; trace: number; embedding: unknown }>(
    db,
    `SELECT x.id, x.retrieval_trace_id AS trace, v.embedding FROM (SELECT id, retrieval_trace_id FROM queries WHERE context = $1 AND scope_key = ANY($2::text[])
       ORDER BY id DESC LIMIT $3) AS x JOIN ${set.table} v ON v.label = x.id`,
    [context, [...q.scopeKeys], q.recent],
  );
  const similar = recent
    .map((r) => ({ trace: r.trace, similarity: 1 - cosineDistance(q.vector, fromVectorColumn(r.embedding)) }))
    .filter((r) => r.similarity >= q.similar)
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, 20);
  if (similar.length === 0) return boosts;
  const edges = await query<{ src_id: number; dst_id: string }>(
    db,
    "SELECT src_id, dst_id FROM edges WHERE src_type = 'trace' AND src_id = ANY($1::bigint[]) AND kind = 'returned' AND dst_type = 'record' ORDER BY id",
    [similar.map((s) => s.trace)],
  );
  for (const s of similar) {
    for (const e of edges) if (e.src_id === s.trace) boosts.set(Number(e.dst_id), (boosts.get(Number(e.dst_id)) ?? 0) + s.similarity);
  }
  return boosts;
}
