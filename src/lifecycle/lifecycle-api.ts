import { sql } from "../store/database.js";
import type { Access } from "../access/access.js";
import { actorOf } from "../access/access.js";
import type { Core } from "../core.js";
import { PRIORITY } from "../core.js";
import { DAILY_DECAY } from "../config/defaults.js";
import { callContextSchema, parseInput, type CallContext } from "../config/schemas.js";
import { eraseDeadPassages, eraseRecords, sourceTurnIds } from "../store/erase.js";
import { BELOW_FLOOR, IMPORTANCE_FLOOR } from "./survival.js";
import { updateContext } from "../store/contexts.js";
import { toId } from "../store/ids.js";
import { insertTrace } from "../store/traces.js";
import { consolidate, type ConsolidateResult } from "./consolidate.js";
import { elaborate, type ElaborateResult } from "./elaborate.js";

const DAY = 86_400_000;
const BATCH = 200;
/** Record ids per decay transaction. */
const DECAY_RANGE = 5_000;

export interface SweepResult {
  /** Records changed by the sweep. */
  changed: number;
  traceId: string;
}

/**
 * Decay and expiry sweeps. Both run on the scheduler (never ahead of synchronous work) and write a
 * sweep_trace of what they changed.
 */
export function createLifecycleApi(core: Core, access: Access, guard: (method: string) => void) {
  const authorize = (ctx: unknown, method: string) => {
    guard(method);
    const call = parseInput(callContextSchema, ctx ?? {}, `${method}(ctx)`);
    access.assert(call, "manage", {});
    return call;
  };
  return {
    /**
     * Applies the daily decay factors (context ×0.95, knowledge ×0.995, identity none) for the whole days
     * elapsed since each record was last decayed: a missed night is caught up, a second run the same day
     * changes nothing. `changed` counts the records whose decay clock moved (identity ones included).
     */
    async decay(ctx?: CallContext): Promise<SweepResult> {
      const call = authorize(ctx, "lifecycle.decay");
      return core.queue.track(decay(call));
    },
    /**
     * Expires records whose `expires_at` has passed, and context and knowledge records whose importance has
     * decayed below the floor (lifecycle/survival.ts), and erases them (store/erase.ts): out of every read
     * path, index and cached answer, their words gone, a tombstone left; turns whose passage died with them
     * lose their words too. Batched so that recall keeps answering while a large sweep runs.
     */
    async expire(ctx?: CallContext): Promise<SweepResult> {
      const call = authorize(ctx, "lifecycle.expire");
      return core.queue.track(expire(call));
    },
    /**
     * Consolidation: reinforces the records answers used since the last run, then turns each group of related
     * live facts (one scope, subject and attribute) into an `observation` record (`source.kind:
     * "consolidation"`, `derived_from` its members, `proof_count` the sum of theirs) through the reconciler. The
     * summaries are `background` stage calls, under `config.budget()`; what it cannot afford waits for a later run.
     *
     * @example
     * const { observations, traceId } = await memory.lifecycle.consolidate();
     */
    async consolidate(ctx?: CallContext): Promise<ConsolidateResult> {
      const call = authorize(ctx, "lifecycle.consolidate");
      return core.queue.track(consolidate(core, actorOf(call)));
    },
    /**
     * Elaboration: proposes relations between entities that traces examined together but no record links, and
     * between what a document and a conversation connect, as `relation` records (`source.kind: "elaboration"`)
     * written through the reconciler. Proposals are `background` stage calls, under `config.budget()`.
     *
     * @example
     * const { relations } = await memory.lifecycle.elaborate();
     */
    async elaborate(ctx?: CallContext): Promise<ElaborateResult> {
      const call = authorize(ctx, "lifecycle.elaborate");
      return core.queue.track(elaborate(core, actorOf(call)));
    },
  };

  async function decay(call: CallContext): Promise<SweepResult> {
    const now = core.now();
    const { db, context } = core;
    const maxId = (sql(db, "SELECT MAX(id) AS m FROM records WHERE context = ?").get(context) as { m: number | null }).m ?? 0;
    const decayRange = sql(
      db,
      `UPDATE records SET
         importance = importance * spectron_pow(CASE memory_category WHEN 'context' THEN ? WHEN 'knowledge' THEN ? ELSE 1 END,
                                                CAST((? - last_decay_at) / ${DAY} AS INTEGER)),
         last_decay_at = last_decay_at + CAST((? - last_decay_at) / ${DAY} AS INTEGER) * ${DAY}
       WHERE context = ? AND id > ? AND id <= ? AND status IN ('current', 'flagged') AND ? - last_decay_at >= ${DAY}`,
    );
    // Id ranges in short transactions, each a job of its own, so that recall and other background work take
    // turns with a sweep over a large Context. Each record carries its own last_decay_at, so a partial sweep
    // (stopped by close) is safe: the next one finishes it.
    let changed = 0;
    let from = 0;
    await core.queue.steps(() => {
      if (from >= maxId) return true;
      changed += core.transaction(() => decayRange.run(DAILY_DECAY.context, DAILY_DECAY.knowledge, now, now, context, from, from + DECAY_RANGE, now).changes);
      from += DECAY_RANGE;
      return from >= maxId;
    }, PRIORITY.sweep);
    return core.transaction(() => {
      if (from >= maxId) updateContext(db, context, { last_decay_at: now });
      core.invalidateSettings();
      const traceId = insertTrace(db, context, "sweep_trace", actorOf(call), null, { sweep: "decay", changed, factors: DAILY_DECAY, complete: from >= maxId }, now);
      return { changed, traceId: toId("trace", traceId) };
    });
  }

  async function expire(call: CallContext): Promise<SweepResult> {
    const now = core.now();
    let changed = 0;
    let belowFloor = 0;
    let evicted = 0;
    let cutTraces = 0;
    let passages = 0;
    let complete = false;
    await core.queue.steps(() => {
      const { batch, removals } = core.transaction(() => {
        // Past their TTL, or decayed below the importance floor (identity never): lifecycle/survival.ts.
        const rows = sql(
          core.db,
          `SELECT id, importance, memory_category, history FROM records WHERE context = ? AND status IN ('current', 'flagged')
             AND ((expires_at IS NOT NULL AND expires_at <= ?) OR ${BELOW_FLOOR}) LIMIT ?`,
        ).all(core.context, now, IMPORTANCE_FLOOR, BATCH) as { id: number; importance: number; memory_category: string; history: string }[];
        const mark = sql(
          core.db,
          "UPDATE records SET status = 'expired', updated_at = ?, expires_at = MIN(COALESCE(expires_at, ?), ?), history = json_insert(history, '$[#]', json(?)) WHERE id = ?",
        );
        for (const row of rows) {
          const faded = row.memory_category !== "identity" && row.importance < IMPORTANCE_FLOOR;
          if (faded) belowFloor++;
          mark.run(now, now, now, JSON.stringify({ at: now, event: "expired", ...(faded ? { detail: "importance below floor" } : {}) }), row.id);
        }
        const ids = rows.map((r) => r.id);
        const erasure = eraseRecords(core.db, core.context, ids, now);
        evicted += erasure.evictedCacheEntries;
        cutTraces += erasure.cutTraces;
        // Turns whose passage died with them lose their words too; at the sweep's last step, so do turns that
        // never had a fact and outlived their TTL.
        const last = rows.length < BATCH;
        passages += eraseDeadPassages(core.db, core.context, sourceTurnIds(core.db, core.context, ids), now, last ? BATCH * 5 : 0);
        return { batch: rows.length, removals: erasure.removals };
      });
      // After the commit, as every vector write does.
      for (const r of removals) core.vectorIndex("records", r.model).notify({ seq: r.seq, label: r.label, op: "remove" });
      changed += batch;
      complete = batch < BATCH;
      return complete;
    }, PRIORITY.sweep);
    const traceId = core.transaction(() =>
      insertTrace(
        core.db,
        core.context,
        "sweep_trace",
        actorOf(call),
        null,
        { sweep: "expire", changed, below_floor: belowFloor, erased_passages: passages, evicted_cache_entries: evicted, cut_traces: cutTraces, complete },
        now,
      ),
    );
    return { changed, traceId: toId("trace", traceId) };
  }
}
