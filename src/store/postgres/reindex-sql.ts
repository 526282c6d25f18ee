import type { ReindexState } from "../contexts.js";
import type { VectorSpace } from "../store.js";
import { one, query, type Queryable } from "./connection.js";
import { readSettings, writeReindexState } from "./contexts-sql.js";
import type { Tx } from "./reconcile-sql.js";
import { putVector, type VectorSet } from "./vector-sets.js";

// The reindex's steps (re-embedding under a lease), each one transaction: the rules of store/sqlite/maintenance.ts.
// Progress lives in `reindex_done`, so a restart (or another process taking the lease over) resumes.

/** Rows of each space whose vectors a reindex must remake, and where their text is. */
const SPACES: Record<VectorSpace, { table: string; text: string; live: string }> = {
  records: { table: "records", text: "text", live: "t.status IN ('current', 'flagged')" },
  chunks: { table: "chunks", text: "text", live: "TRUE" },
  queries: { table: "queries", text: "query", live: "TRUE" },
};
const SPACE_NAMES = Object.keys(SPACES) as VectorSpace[];

/** `FROM … WHERE` over the live rows of `space` ($1: context, $2: model), re-embedded or not. */
function rowsOf(space: VectorSpace, done: boolean): string {
  const { table, live } = SPACES[space];
  return `FROM ${table} t WHERE t.context = $1 AND ${live}
    AND ${done ? "" : "NOT "}EXISTS (SELECT 1 FROM reindex_done d WHERE d.space = '${space}' AND d.model = $2 AND d.label = t.id)`;
}

async function counts(db: Queryable, context: string, model: string): Promise<{ done: number; missing: number }> {
  let done = 0;
  let missing = 0;
  for (const space of SPACE_NAMES) {
    missing += Number((await one<{ n: string }>(db, `SELECT count(*) AS n ${rowsOf(space, false)}`, [context, model]))!.n);
    done += Number((await one<{ n: string }>(db, `SELECT count(*) AS n ${rowsOf(space, true)}`, [context, model]))!.n);
  }
  return { done, missing };
}

/** The stored state, the Context's row locked for the rest of the transaction (one claim at a time). */
async function stored(tx: Tx): Promise<ReindexState> {
  await query(tx.client, "SELECT 1 FROM contexts WHERE name = $1 FOR UPDATE", [tx.context]);
  return (await readSettings(tx.client, tx.context))!.reindex;
}

/**
 * Reads the state and writes what `decide` returns. `decide` is synchronous and asks for counts by model: it
 * runs once with the counts it asked for unknown (zero), then again, pure, with them read; until it asks for
 * none it has not been given.
 */
export async function claimReindex(
  tx: Tx,
  decide: (state: ReindexState, counts: (model: string) => { done: number; missing: number }) => ReindexState | undefined,
): Promise<ReindexState | undefined> {
  const state = await stored(tx);
  const known = new Map<string, { done: number; missing: number }>();
  for (;;) {
    const asked = new Set<string>();
    const next = decide(state, (model) => {
      const found = known.get(model);
      if (!found) asked.add(model);
      return found ?? { done: 0, missing: 0 };
    });
    if (asked.size === 0) {
      if (next) await writeReindexState(tx, next);
      return next;
    }
    for (const model of asked) known.set(model, await counts(tx.client, tx.context, model));
  }
}

export async function rowsToReindex(db: Queryable, context: string, space: VectorSpace, model: string, limit: number): Promise<{ id: number; text: string }[]> {
  return query<{ id: number; text: string }>(db, `SELECT t.id, t.${SPACES[space].text} AS text ${rowsOf(space, false)} ORDER BY t.id LIMIT $3`, [context, model, limit]);
}

/** The stored state when `owner` holds the lease, else undefined. */
async function held(tx: Tx, owner: string): Promise<ReindexState | undefined> {
  const state = await stored(tx);
  return state.status === "running" && state.owner === owner ? state : undefined;
}

export async function writeReindexBatch(
  tx: Tx,
  set: VectorSet | undefined,
  input: { owner: string; space: VectorSpace; model: string; rows: readonly { id: number; vector: Float32Array }[]; now: number },
): Promise<boolean> {
  const state = await held(tx, input.owner);
  if (!state) return false;
  for (const row of input.rows) {
    await putVector(tx.client, set!, tx.context, row.id, row.vector);
    tx.entries.push({ kind: "vectors", space: input.space, model: input.model, label: row.id, op: "add" });
  }
  if (input.rows.length > 0) {
    await query(tx.client, "INSERT INTO reindex_done (space, model, label) SELECT $1, $2, unnest($3::bigint[]) ON CONFLICT DO NOTHING", [
      input.space, input.model, input.rows.map((r) => r.id),
    ]);
  }
  const count = state.done + input.rows.length;
  await writeReindexState(tx, { ...state, done: count, total: Math.max(count, state.total), heartbeat: input.now });
  return true;
}

export async function renewReindexLease(tx: Tx, owner: string, now: number): Promise<boolean> {
  const state = await held(tx, owner);
  if (state) await writeReindexState(tx, { ...state, heartbeat: now });
  return !!state;
}

/** Switches retrieval to `model` (the rows' `embedding_model`, the Context's index model) and clears this Context's progress. */
export async function finishReindex(tx: Tx, owner: string, model: string, from: string): Promise<boolean> {
  const state = await held(tx, owner);
  if (!state) return false;
  const { client, context } = tx;
  await query(client, "UPDATE records SET embedding_model = $1 WHERE context = $2 AND embedding_model IS NOT NULL AND status IN ('current', 'flagged')", [model, context]);
  await query(client, "UPDATE chunks SET embedding_model = $1 WHERE context = $2 AND embedding_model IS NOT NULL", [model, context]);
  await query(client, "UPDATE queries SET embedding_model = $1 WHERE context = $2", [model, context]);
  // This Context's progress only: another Context of the database may be reindexing to the same model.
  for (const space of SPACE_NAMES) {
    await query(client, `DELETE FROM reindex_done WHERE space = $1 AND model = $2 AND label IN (SELECT id FROM ${SPACES[space].table} WHERE context = $3)`, [space, model, context]);
  }
  await query(client, "UPDATE contexts SET index_model = $1 WHERE name = $2", [model, context]);
  await writeReindexState(tx, { status: "complete", done: state.done, total: state.done, model, from });
  return true;
}

export async function failReindex(tx: Tx, owner: string, error: string): Promise<void> {
  const state = await stored(tx);
  if (state.owner === owner) await writeReindexState(tx, { ...state, status: "failed", error, owner: undefined, heartbeat: undefined });
}
