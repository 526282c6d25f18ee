import type { CacheConfig, Models, RetentionRule } from "../config/schemas.js";
import { sql, type Db } from "./database.js";

export interface ContextRow {
  name: string;
  created_at: number;
  models: string;
  retention: string;
  cache: string;
  providers_configured: string;
  providers_sealed: string | null;
  last_decay_at: number | null;
  index_model: string | null;
  reindex: string | null;
}

export interface ReindexState {
  status: "idle" | "running" | "complete" | "failed";
  done: number;
  total: number;
  model: string | null;
  from?: string;
  error?: string;
  /** While running: the instance running it, `host:pid:random` (see knowledge/reindex-lease.ts). */
  owner?: string;
  /** While running: when its owner last renewed its lease (ms, the owner's injected clock). */
  heartbeat?: number;
}

export interface ContextSettings {
  createdAt: number;
  models: Models;
  retention: RetentionRule[];
  cache: CacheConfig;
  providersConfigured: string[];
  providersSealed: string | null;
  lastDecayAt: number | null;
  /** The embedding model whose vectors retrieval reads (differs from models.embedding until a reindex completes). */
  indexModel: string;
  reindex: ReindexState;
}

export function readContext(db: Db, name: string): ContextSettings | undefined {
  const row = sql(db, "SELECT * FROM contexts WHERE name = ?").get(name) as ContextRow | undefined;
  if (!row) return undefined;
  return {
    createdAt: row.created_at,
    models: JSON.parse(row.models) as Models,
    retention: JSON.parse(row.retention) as RetentionRule[],
    cache: JSON.parse(row.cache) as CacheConfig,
    providersConfigured: JSON.parse(row.providers_configured) as string[],
    providersSealed: row.providers_sealed,
    lastDecayAt: row.last_decay_at,
    indexModel: row.index_model ?? (JSON.parse(row.models) as Models).embedding,
    reindex: row.reindex ? (JSON.parse(row.reindex) as ReindexState) : { status: "idle", done: 0, total: 0, model: null },
  };
}

export function createContext(db: Db, name: string, settings: Pick<ContextSettings, "models" | "cache">, now: number): void {
  sql(db, "INSERT INTO contexts (name, created_at, models, cache, last_decay_at) VALUES (?, ?, ?, ?, ?)").run(
    name,
    now,
    JSON.stringify(settings.models),
    JSON.stringify(settings.cache),
    now,
  );
}

export function updateContext(
  db: Db,
  name: string,
  fields: Partial<{
    models: Models;
    retention: RetentionRule[];
    cache: CacheConfig;
    providers_configured: string[];
    providers_sealed: string | null;
    last_decay_at: number;
    index_model: string;
    reindex: ReindexState;
  }>,
): void {
  for (const [key, value] of Object.entries(fields)) {
    const stored = key === "providers_sealed" || key === "last_decay_at" || key === "index_model" ? value : JSON.stringify(value);
    sql(db, `UPDATE contexts SET ${key} = ? WHERE name = ?`).run(stored, name);
  }
}

/**
 * The index model once the embedding model changes to `next` (config.models, or the constructor's `models`):
 * retrieval keeps reading the vectors it has until knowledge.reindex() completes; with none yet, the new model
 * takes over at once.
 */
export function indexModelAfterChange(db: Db, context: string, indexModel: string, next: string): string {
  const hasVectors = sql(
    db,
    `SELECT 1 FROM records WHERE context = ? AND embedding_model = ? UNION ALL
     SELECT 1 FROM chunks WHERE context = ? AND embedding_model = ? LIMIT 1`,
  ).get(context, indexModel, context, indexModel);
  return hasVectors ? indexModel : next;
}
