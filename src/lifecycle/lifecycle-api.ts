import type { Access } from "../access/access.js";
import { actorOf } from "../access/access.js";
import type { Core } from "../core.js";
import { callContextSchema, parseInput, type CallContext } from "../config/schemas.js";
import { toId } from "../store/ids.js";
import { decaySweep } from "./decay-sweep.js";
import { expireSweep } from "./expire-sweep.js";
import { consolidate, type ConsolidateResult } from "./consolidate.js";
import { elaborate, type ElaborateResult } from "./elaborate.js";

/** What the lifecycle namespace uses: the sweeps' deps, and the scheduler that tracks them. */
export type LifecycleDeps = Pick<Core, "store" | "models" | "settings" | "queue" | "now">;

export interface SweepResult {
  /** Records changed by the sweep. */
  changed: number;
  traceId: string;
}

/**
 * Decay and expiry sweeps. Both run on the scheduler (never ahead of synchronous work) and write a
 * sweep_trace of what they changed.
 */
export function createLifecycleApi(core: LifecycleDeps, access: Access, guard: (method: string) => void) {
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
      return core.queue.track(core.store.withSweepLock("decay", () => decaySweep(core, actorOf(call))).then(result));
    },
    /**
     * Expires records whose `expires_at` has passed, and context and knowledge records whose importance has
     * decayed below the floor (lifecycle/survival.ts), and erases them (store/erase.ts): out of every read
     * path, index and cached answer, their words gone, a tombstone left; turns whose passage died with them
     * lose their words too. Batched so that recall keeps answering while a large sweep runs.
     */
    async expire(ctx?: CallContext): Promise<SweepResult> {
      const call = authorize(ctx, "lifecycle.expire");
      return core.queue.track(core.store.withSweepLock("expire", () => expireSweep(core, actorOf(call))).then(result));
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
}

/** A sweep's outcome as callers see it; a sweep another process was running counts nothing here. */
function result(done: { changed: number; traceId: number } | undefined): SweepResult {
  return done ? { changed: done.changed, traceId: toId("trace", done.traceId) } : { changed: 0, traceId: "" };
}
