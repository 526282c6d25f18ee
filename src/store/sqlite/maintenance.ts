import { sql, sqlPluck } from "../database.js";
import { readContext, updateContext, type ReindexState } from "../contexts.js";
import { live } from "../records.js";
import { insertTrace } from "../traces.js";
import { putVector } from "../vectors.js";
import { eraseDeadPassages, eraseRecords, sourceTurnIds } from "../erase.js";
import type { SweepStep, TraceActor, VectorSpace } from "../store.js";
import type { WriteParts } from "./read-writes.js";

// Sweeps (decay, expiry) and the reindex's batches, each step one short transaction.

const DAY = 86_400_000;

/** Decays the live records with id in (from, to] for the whole days since each was last decayed. */
export function decayRange(p: WriteParts, from: number, to: number, factors: { context: number; knowledge: number }, now: number): number {
  const statement = sql(
    p.db,
    `UPDATE records SET
       importance = importance * spectron_pow(CASE memory_category WHEN 'context' THEN ? WHEN 'knowledge' THEN ? ELSE 1 END,
                                              CAST((? - last_decay_at) / ${DAY} AS INTEGER)),
       last_decay_at = last_decay_at + CAST((? - last_decay_at) / ${DAY} AS INTEGER) * ${DAY}
     WHERE context = ? AND id > ? AND id <= ? AND ${live()} AND ? - last_decay_at >= ${DAY}`,
  );
  return p.writer.transaction(() => statement.run(factors.context, factors.knowledge, now, now, p.context, from, to, now).changes);
}

/**
 * Expires up to `batch` records past their `expires_at`, or decayed below the importance floor (identity never:
 * lifecycle/survival.ts), and erases them (store/erase.ts): status and history, words, vector, entity links,
 * cited cache entries, quoting traces cut. Turns whose passage died with them lose their words too; at the
 * sweep's last step (`withoutFacts`), so do turns that never had a fact and outlived their TTL.
 */
export function expireBatch(p: WriteParts, batch: number, now: number, floor: { sql: string; value: number }): SweepStep {
  return p.writer.transaction(() => {
    const rows = sql(
      p.db,
      `SELECT id, importance, memory_category FROM records WHERE context = ? AND ${live()}
         AND ((expires_at IS NOT NULL AND expires_at <= ?) OR ${floor.sql}) LIMIT ?`,
    ).all(p.context, now, floor.value, batch) as { id: number; importance: number; memory_category: string }[];
    const mark = sql(
      p.db,
      "UPDATE records SET status = 'expired', updated_at = ?, expires_at = MIN(COALESCE(expires_at, ?), ?), history = json_insert(history, '$[#]', json(?)) WHERE id = ?",
    );
    let belowFloor = 0;
    for (const row of rows) {
      const faded = row.memory_category !== "identity" && row.importance < floor.value;
      if (faded) belowFloor++;
      mark.run(now, now, now, JSON.stringify({ at: now, event: "expired", ...(faded ? { detail: "importance below floor" } : {}) }), row.id);
    }
    const ids = rows.map((r) => r.id);
    const erasure = eraseRecords(p.db, p.context, ids, now);
    const last = rows.length < batch;
    const passages = eraseDeadPassages(p.db, p.context, sourceTurnIds(p.db, p.context, ids), now, last ? batch * 5 : 0);
    return {
      changed: rows.length,
      evicted: erasure.evictedCacheEntries,
      belowFloor,
      cutTraces: erasure.cutTraces,
      erasedPassages: passages,
      done: last,
    };
  });
}

/** A sweep_trace, and for a complete decay the Context's last decay time. */
export function finishSweep(p: WriteParts, input: { actor: TraceActor; payload: Record<string, unknown>; lastDecayAt?: number; now: number }): number {
  return p.writer.transaction(() => {
    if (input.lastDecayAt !== undefined) updateContext(p.db, p.context, { last_decay_at: input.lastDecayAt });
    return insertTrace(p.db, p.context, "sweep_trace", input.actor, null, input.payload, input.now);
  });
}

/** The highest record id of the file. */
export function maxRecordId(p: WriteParts): number {
  return (sqlPluck(p.db, "SELECT MAX(id) FROM records").get() as number | null) ?? 0;
}

// Reindex

/** Rows of each space whose vectors a reindex must remake, and where their text is. */
const SPACES: Record<VectorSpace, { table: string; text: string; live: string }> = {
  records: { table: "records", text: "text", live: live("t") },
  chunks: { table: "chunks", text: "text", live: "1" },
  queries: { table: "queries", text: "query", live: "1" },
};
const SPACE_NAMES = Object.keys(SPACES) as VectorSpace[];

/** Rows of `space` not yet re-embedded (bind: context, model). Progress lives in `reindex_done`, so a restart resumes. */
function missingSql(space: VectorSpace): string {
  const { table, live } = SPACES[space];
  return `FROM ${table} t WHERE t.context = ? AND ${live} AND t.id NOT IN (SELECT label FROM reindex_done WHERE space = '${space}' AND model = ?)`;
}

function counts(p: WriteParts, model: string): { done: number; missing: number } {
  let done = 0;
  let missing = 0;
  for (const space of SPACE_NAMES) {
    const { table, live } = SPACES[space];
    missing += sqlPluck(p.db, `SELECT COUNT(*) ${missingSql(space)}`).get(p.context, model) as number;
    done += sqlPluck(
      p.db,
      `SELECT COUNT(*) FROM ${table} t WHERE t.context = ? AND ${live} AND t.id IN (SELECT label FROM reindex_done WHERE space = '${space}' AND model = ?)`,
    ).get(p.context, model) as number;
  }
  return { done, missing };
}

function stored(p: WriteParts): ReindexState {
  return readContext(p.db, p.context)!.reindex;
}

/** Reads the reindex state and writes what `decide` returns, in one transaction. */
export function claimReindex(
  p: WriteParts,
  decide: (state: ReindexState, counts: (model: string) => { done: number; missing: number }) => ReindexState | undefined,
): ReindexState | undefined {
  return p.writer.transaction(() => {
    const next = decide(stored(p), (model) => counts(p, model));
    if (next) updateContext(p.db, p.context, { reindex: next });
    return next;
  });
}

export function rowsToReindex(p: WriteParts, space: VectorSpace, model: string, limit: number): { id: number; text: string }[] {
  return sql(p.db, `SELECT t.id, t.${SPACES[space].text} AS text ${missingSql(space)} ORDER BY t.id LIMIT ?`).all(p.context, model, limit) as {
    id: number;
    text: string;
  }[];
}

/** The stored state when `owner` holds the lease, else undefined. */
function held(p: WriteParts, owner: string): ReindexState | undefined {
  const state = stored(p);
  return state.status === "running" && state.owner === owner ? state : undefined;
}

export function writeReindexBatch(
  p: WriteParts,
  input: { owner: string; space: VectorSpace; model: string; rows: readonly { id: number; vector: Float32Array }[]; now: number },
): boolean {
  return p.writer.transaction(() => {
    const state = held(p, input.owner);
    if (!state) return false;
    const done = sql(p.db, "INSERT OR IGNORE INTO reindex_done (space, model, label) VALUES (?, ?, ?)");
    for (const row of input.rows) {
      putVector(p.db, p.context, input.space, input.model, row.id, row.vector);
      done.run(input.space, input.model, row.id);
    }
    const count = state.done + input.rows.length;
    updateContext(p.db, p.context, { reindex: { ...state, done: count, total: Math.max(count, state.total), heartbeat: input.now } });
    return true;
  });
}

export function renewReindexLease(p: WriteParts, owner: string, now: number): boolean {
  return p.writer.transaction(() => {
    const state = held(p, owner);
    if (state) updateContext(p.db, p.context, { reindex: { ...state, heartbeat: now } });
    return !!state;
  });
}

export function finishReindex(p: WriteParts, owner: string, model: string, from: string): boolean {
  return p.writer.transaction(() => {
    const state = held(p, owner);
    if (!state) return false;
    const { db, context } = p;
    sql(db, `UPDATE records SET embedding_model = ? WHERE context = ? AND embedding_model IS NOT NULL AND ${live()}`).run(model, context);
    sql(db, `UPDATE chunks SET embedding_model = ? WHERE context = ? AND embedding_model IS NOT NULL`).run(model, context);
    sql(db, `UPDATE queries SET embedding_model = ? WHERE context = ?`).run(model, context);
    // This Context's progress only: another Context of the file may be reindexing to the same model.
    for (const space of SPACE_NAMES) {
      sql(db, `DELETE FROM reindex_done WHERE space = ? AND model = ? AND label IN (SELECT id FROM ${SPACES[space].table} WHERE context = ?)`).run(space, model, context);
    }
    updateContext(db, context, { index_model: model, reindex: { status: "complete", done: state.done, total: state.done, model, from } });
    return true;
  });
}

export function failReindex(p: WriteParts, owner: string, error: string): void {
  p.writer.transaction(() => {
    const state = stored(p);
    if (state.owner === owner) updateContext(p.db, p.context, { reindex: { ...state, status: "failed", error, owner: undefined, heartbeat: undefined } });
  });
}
