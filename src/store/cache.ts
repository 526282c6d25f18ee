import { sql, type Db } from "./database.js";

export interface CacheEntryRow {
  id: number;
  context: string;
  scope_key: string;
  query_id: number;
  norm_query: string;
  /** What the question asked (questionSignature); null for entries cached before signatures existed. */
  signature: string | null;
  answer: string;
  response_trace_id: number;
  created_at: number;
}

export function insertCacheEntry(
  db: Db,
  entry: Omit<CacheEntryRow, "id">,
  deps: readonly number[],
  topics: readonly string[],
  chunkDeps: readonly number[] = [],
): number {
  const id = Number(
    sql(db, 
        `INSERT INTO cache_entries (context, scope_key, query_id, norm_query, signature, answer, response_trace_id, created_at)
         VALUES (@context, @scope_key, @query_id, @norm_query, @signature, @answer, @response_trace_id, @created_at)`,
      )
      .run(entry).lastInsertRowid,
  );
  const dep = sql(db, "INSERT OR IGNORE INTO cache_deps (record_id, cache_id) VALUES (?, ?)");
  for (const recordId of deps) dep.run(recordId, id);
  const chunk = sql(db, "INSERT OR IGNORE INTO cache_chunk_deps (chunk_id, cache_id) VALUES (?, ?)");
  for (const chunkId of chunkDeps) chunk.run(chunkId, id);
  const topic = sql(db, "INSERT OR IGNORE INTO cache_topics (topic, cache_id) VALUES (?, ?)");
  for (const t of topics) topic.run(t, id);
  return id;
}

/** The newest entry for an exact normalised query in an exact scope. */
export function cacheByNormQuery(db: Db, context: string, scopeKey: string, normQuery: string): CacheEntryRow[] {
  return sql(db, "SELECT * FROM cache_entries WHERE context = ? AND scope_key = ? AND norm_query = ? ORDER BY id DESC LIMIT 4")
    .all(context, scopeKey, normQuery) as CacheEntryRow[];
}

export function cacheByQueryIds(db: Db, queryIds: readonly number[]): CacheEntryRow[] {
  if (queryIds.length === 0) return [];
  return sql(db, `SELECT * FROM cache_entries WHERE query_id IN (${queryIds.map(() => "?").join(",")}) ORDER BY id DESC`)
    .all(...queryIds) as CacheEntryRow[];
}

export function cacheDeps(db: Db, cacheId: number): number[] {
  return (sql(db, "SELECT record_id FROM cache_deps WHERE cache_id = ?").all(cacheId) as { record_id: number }[]).map((r) => r.record_id);
}

/**
 * True when every record the entry cited is still current, unexpired and at least `minTrust` trusted.
 * A flagged record (a new contradicting uncertainty) invalidates the entry too.
 */
export function cacheEntryValid(db: Db, cacheId: number, now: number, minTrust: number): boolean {
  const stale = sql(db, 
      `SELECT 1 FROM cache_deps d LEFT JOIN records r ON r.id = d.record_id
        WHERE d.cache_id = ? AND (r.id IS NULL OR r.status != 'current' OR (r.expires_at IS NOT NULL AND r.expires_at <= ?)
              OR r.trust * r.confidence < ?) LIMIT 1`,
    )
    .get(cacheId, now, minTrust);
  if (stale) return false;
  const goneChunk = sql(db, "SELECT 1 FROM cache_chunk_deps d LEFT JOIN chunks c ON c.id = d.chunk_id WHERE d.cache_id = ? AND c.id IS NULL LIMIT 1")
    .get(cacheId);
  return !goneChunk;
}

/** Evicts every cached answer that cited one of `chunkIds` (a removed document). */
export function evictByChunks(db: Db, chunkIds: readonly number[]): number[] {
  if (chunkIds.length === 0) return [];
  const ids = (
    sql(db, `SELECT DISTINCT cache_id FROM cache_chunk_deps WHERE chunk_id IN (${chunkIds.map(() => "?").join(",")})`)
      .all(...chunkIds) as { cache_id: number }[]
  ).map((r) => r.cache_id);
  deleteEntries(db, ids);
  return ids;
}

/** Evicts every cached answer that cited one of `recordIds`. Returns the evicted entry ids. */
export function evictByRecords(db: Db, recordIds: readonly number[]): number[] {
  if (recordIds.length === 0) return [];
  const ids = (
    sql(db, `SELECT DISTINCT cache_id FROM cache_deps WHERE record_id IN (${recordIds.map(() => "?").join(",")})`)
      .all(...recordIds) as { cache_id: number }[]
  ).map((r) => r.cache_id);
  deleteEntries(db, ids);
  return ids;
}

/** Cache entries in a Context about any of `topics`, with their scope keys (the caller checks containment). */
export function cacheByTopics(db: Db, context: string, topics: readonly string[]): { id: number; scope_key: string }[] {
  if (topics.length === 0) return [];
  return sql(db, 
      `SELECT DISTINCT c.id, c.scope_key FROM cache_topics t JOIN cache_entries c ON c.id = t.cache_id
        WHERE c.context = ? AND t.topic IN (${topics.map(() => "?").join(",")})`,
    )
    .all(context, ...topics) as { id: number; scope_key: string }[];
}

export function deleteEntries(db: Db, ids: readonly number[]): void {
  const del = sql(db, "DELETE FROM cache_entries WHERE id = ?");
  for (const id of ids) del.run(id);
}

export function flushCache(db: Db, context: string): number {
  return sql(db, "DELETE FROM cache_entries WHERE context = ?").run(context).changes;
}
