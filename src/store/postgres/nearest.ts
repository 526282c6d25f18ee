import type pg from "pg";
import type { NearestQuery, VectorHit } from "../store.js";
import { one, query, transaction } from "./connection.js";
import type { FollowedIndex } from "./followed-index.js";
import { visibleCondition } from "./records-sql.js";
import { cosineDistance, fromVectorColumn, toVectorColumn, type VectorSet } from "./vector-sets.js";

/**
 * The k nearest records a filter lets through. Up to `exactLimit` visible records: exact distances over exactly
 * those. Beyond: the ANN index — pgvector's HNSW in PostgreSQL (an iterative scan, so that a selective filter
 * still fills k), or the in-process index, over-fetched until `enough` visible hits are found.
 */
export async function nearestRecords(
  pool: pg.Pool,
  context: string,
  set: VectorSet,
  index: FollowedIndex | undefined,
  q: NearestQuery,
): Promise<{ hits: VectorHit[]; path: "exact" | "ann" }> {
  const k = Math.max(0, Math.floor(q.k));
  if (k === 0) return { hits: [], path: "exact" };
  const visible = visibleCondition(context, q.filter, 1);
  const exactLimit = q.exactLimit ?? 0;
  if (exactLimit > 0) {
    const counted = await one<{ n: number }>(
      pool,
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM records r WHERE ${visible.sql} LIMIT ${exactLimit + 1}) AS s`,
      visible.values,
    );
    if ((counted?.n ?? 0) <= exactLimit) return { hits: await exact(pool, set, visible, q.vector, k), path: "exact" };
  }
  if (set.storage === "pgvector") return { hits: await pgvectorSearch(pool, set, visible, q.vector, k), path: "ann" };
  return { hits: await followedSearch(pool, index!, visible, q, k), path: "ann" };
}

type Condition = { sql: string; values: unknown[] };

async function exact(pool: pg.Pool, set: VectorSet, visible: Condition, vector: Float32Array, k: number): Promise<VectorHit[]> {
  const rows = await query<{ label: number; embedding: unknown }>(
    pool,
    `SELECT v.label, v.embedding FROM ${set.table} v JOIN records r ON r.id = v.label WHERE ${visible.sql}`,
    visible.values,
  );
  return rows
    .map((r) => ({ label: r.label, distance: cosineDistance(vector, fromVectorColumn(r.embedding)) }))
    .sort((a, b) => a.distance - b.distance || a.label - b.label)
    .slice(0, k);
}

async function pgvectorSearch(pool: pg.Pool, set: VectorSet, visible: Condition, vector: Float32Array, k: number): Promise<VectorHit[]> {
  const n = visible.values.length;
  return transaction(pool, async (client) => {
    // ef_search at least k (pgvector's default, 40, caps what one scan returns); the iterative scan (pgvector
    // 0.8+) keeps walking the graph until k rows pass the filter. SET LOCAL: this transaction only.
    await client.query(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(64, 2 * k))}`);
    await client.query("SET LOCAL hnsw.iterative_scan = strict_order");
    const rows = await query<{ label: number; distance: number }>(
      client,
      `SELECT v.label, v.embedding <=> $${n + 1}::vector AS distance FROM ${set.table} v JOIN records r ON r.id = v.label
        WHERE ${visible.sql} ORDER BY v.embedding <=> $${n + 1}::vector LIMIT $${n + 2}`,
      [...visible.values, toVectorColumn(set, vector), k],
    );
    return rows;
  });
}

async function followedSearch(pool: pg.Pool, index: FollowedIndex, visible: Condition, q: NearestQuery, k: number): Promise<VectorHit[]> {
  const ann = await index.index();
  const enough = Math.max(k, q.enough ?? k);
  let fetch = Math.min(ann.size, enough * 4);
  for (;;) {
    const hits = ann.search(q.vector, fetch);
    if (hits.length === 0) return [];
    const n = visible.values.length;
    const ids = new Set(
      (await query<{ id: number }>(pool, `SELECT r.id FROM records r WHERE r.id = ANY($${n + 1}::bigint[]) AND ${visible.sql}`, [
        ...visible.values,
        hits.map((h) => h.label),
      ])).map((r) => r.id),
    );
    const kept = hits.filter((h) => ids.has(h.label));
    if (kept.length >= enough || fetch >= ann.size) return kept.slice(0, k);
    fetch = Math.min(ann.size, fetch * 4);
  }
}
