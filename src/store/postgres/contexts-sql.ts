import type pg from "pg";
import type { ContextSettings, ReindexState } from "../contexts.js";
import type { ContextPatch } from "../store.js";
import { one, query } from "./connection.js";
import type { Tx } from "./reconcile-sql.js";

// A Context's settings row: read, patched (the rules of store/contexts.ts), and its reindex state.

interface ContextRow {
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

export async function readSettings(db: pg.Pool | pg.PoolClient, context: string): Promise<ContextSettings | undefined> {
  const row = await one<ContextRow>(db, "SELECT * FROM contexts WHERE name = $1", [context]);
  if (!row) return undefined;
  const models = JSON.parse(row.models) as ContextSettings["models"];
  return {
    createdAt: row.created_at,
    models,
    retention: JSON.parse(row.retention) as ContextSettings["retention"],
    cache: JSON.parse(row.cache) as ContextSettings["cache"],
    providersConfigured: JSON.parse(row.providers_configured) as string[],
    providersSealed: row.providers_sealed,
    lastDecayAt: row.last_decay_at,
    indexModel: row.index_model ?? models.embedding,
    reindex: row.reindex ? (JSON.parse(row.reindex) as ReindexState) : { status: "idle", done: 0, total: 0, model: null },
  };
}

/** Writes a settings patch inside `tx`; whether anything was written. */
export async function applyPatch(tx: Tx, context: string, patch: ContextPatch): Promise<boolean> {
  const fields: [string, unknown][] = [];
  if (patch.models) fields.push(["models", JSON.stringify(patch.models)]);
  if (patch.retention) fields.push(["retention", JSON.stringify(patch.retention)]);
  if (patch.cache) fields.push(["cache", JSON.stringify(patch.cache)]);
  if (patch.providersConfigured) fields.push(["providers_configured", JSON.stringify(patch.providersConfigured)]);
  if (patch.providersSealed !== undefined) fields.push(["providers_sealed", patch.providersSealed]);
  if (patch.lastDecayAt !== undefined) fields.push(["last_decay_at", patch.lastDecayAt]);
  if (patch.reindex) fields.push(["reindex", JSON.stringify(patch.reindex)]);
  if (patch.embeddingChangedTo) {
    // The rule of store/contexts.ts: retrieval keeps the vectors it has until a reindex completes; with none, the
    // new model takes over at once.
    const current = (await readSettings(tx.client, context))!;
    const has = await one(
      tx.client,
      "SELECT 1 FROM records WHERE context = $1 AND embedding_model = $2 UNION ALL SELECT 1 FROM chunks WHERE context = $1 AND embedding_model = $2 LIMIT 1",
      [context, current.indexModel],
    );
    fields.push(["index_model", has ? current.indexModel : patch.embeddingChangedTo.to]);
  } else if (patch.indexModel !== undefined) fields.push(["index_model", patch.indexModel]);
  if (fields.length === 0) return false;
  await query(tx.client, `UPDATE contexts SET ${fields.map(([k], i) => `${k} = $${i + 2}`).join(", ")} WHERE name = $1`, [context, ...fields.map(([, v]) => v)]);
  return true;
}

/** Writes the reindex state; other instances learn of it as a settings change. */
export async function writeReindexState(tx: Tx, state: ReindexState): Promise<void> {
  await query(tx.client, "UPDATE contexts SET reindex = $1 WHERE name = $2", [JSON.stringify(state), tx.context]);
  tx.entries.push({ kind: "settings" });
}
