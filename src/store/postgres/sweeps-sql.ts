import { IMPORTANCE_FLOOR } from "../../config/defaults.js";
import type { SweepStep, TraceActor } from "../store.js";
import { query } from "./connection.js";
import { eraseDeadPassages, eraseRecords, sourceTurnIds } from "./erase-sql.js";
import { insertTrace, type Tx } from "./reconcile-sql.js";

// Sweeps (decay, expiry), each step one short transaction: the rules of store/sqlite/maintenance.ts.

const DAY = 86_400_000;

/** Decays the live records with id in (from, to] for the whole days since each was last decayed. */
export async function decayRange(tx: Tx, from: number, to: number, factors: { context: number; knowledge: number }, now: number): Promise<number> {
  const rows = await query(
    tx.client,
    `UPDATE records SET
       importance = importance * power(CASE memory_category WHEN 'context' THEN $1::float8 WHEN 'knowledge' THEN $2::float8 ELSE 1 END,
                                        trunc(($3 - last_decay_at) / ${DAY}::numeric)),
       last_decay_at = last_decay_at + trunc(($3 - last_decay_at) / ${DAY}::numeric)::bigint * ${DAY}
     WHERE context = $4 AND id > $5 AND id <= $6 AND status IN ('current', 'flagged') AND $3 - last_decay_at >= ${DAY}
     RETURNING id`,
    [factors.context, factors.knowledge, now, tx.context, from, to],
  );
  return rows.length;
}

/**
 * Expires up to `batch` records past their `expires_at`, or decayed below the importance floor (identity never:
 * lifecycle/survival.ts), and erases them (erase-sql.ts). Turns whose passage died with them lose their words
 * too; at the sweep's last step, so do turns that never had a fact and outlived their TTL. SKIP LOCKED: two
 * processes sweeping at once take different rows.
 */
export async function expireBatch(tx: Tx, batch: number, now: number): Promise<SweepStep> {
  const rows = await query<{ id: number; importance: number; memory_category: string; history: string }>(
    tx.client,
    `SELECT id, importance, memory_category, history FROM records WHERE context = $1 AND status IN ('current', 'flagged')
       AND ((expires_at IS NOT NULL AND expires_at <= $2) OR (memory_category <> 'identity' AND importance < $3))
       ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED`,
    [tx.context, now, IMPORTANCE_FLOOR, batch],
  );
  let belowFloor = 0;
  for (const row of rows) {
    const faded = row.memory_category !== "identity" && row.importance < IMPORTANCE_FLOOR;
    if (faded) belowFloor++;
    const history = [...(JSON.parse(row.history) as unknown[]), { at: now, event: "expired", ...(faded ? { detail: "importance below floor" } : {}) }];
    await query(
      tx.client,
      "UPDATE records SET status = 'expired', updated_at = $1, expires_at = LEAST(COALESCE(expires_at, $1), $1), history = $2 WHERE id = $3",
      [now, JSON.stringify(history), row.id],
    );
  }
  const ids = rows.map((r) => r.id);
  const erasure = await eraseRecords(tx, ids, now);
  const last = rows.length < batch;
  const passages = await eraseDeadPassages(tx, await sourceTurnIds(tx, ids), now, last ? batch * 5 : 0);
  if (ids.length > 0) tx.entries.push({ kind: "records", ids });
  return { changed: rows.length, evicted: erasure.evictedCacheEntries, belowFloor, cutTraces: erasure.cutTraces, erasedPassages: passages, done: last };
}

/** A sweep_trace, and for a complete decay the Context's last decay time. */
export async function finishSweep(tx: Tx, input: { actor: TraceActor; payload: Record<string, unknown>; lastDecayAt?: number; now: number }): Promise<number> {
  if (input.lastDecayAt !== undefined) {
    await query(tx.client, "UPDATE contexts SET last_decay_at = $1 WHERE name = $2", [input.lastDecayAt, tx.context]);
    tx.entries.push({ kind: "settings" });
  }
  return insertTrace(tx, "sweep_trace", input.actor, null, input.payload, input.now);
}
