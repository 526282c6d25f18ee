import type { Access } from "../access/access.js";
import { actorOf } from "../access/access.js";
import type { Core } from "../core.js";
import { callContextSchema, parseInput, type CallContext } from "../config/schemas.js";
import { toId } from "../store/ids.js";
import { decaySweep } from "./decay-sweep.js";
import { expireSweep } from "./expire-sweep.js";

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
      return core.queue.track(core.store.withSweepLock("decay", () => decaySweep(core, actorOf(call))).then(result));
    },
    /**
     * Expires records whose `expires_at` has passed: out of every read path, the ANN and full-text indexes,
     * and the response cache. Batched so that recall keeps answering while a large sweep runs.
     */
    async expire(ctx?: CallContext): Promise<SweepResult> {
      const call = authorize(ctx, "lifecycle.expire");
      return core.queue.track(core.store.withSweepLock("expire", () => expireSweep(core, actorOf(call))).then(result));
    },
  };
}

/** A sweep's outcome as callers see it; a sweep another process was running counts nothing here. */
function result(done: { changed: number; traceId: number } | undefined): SweepResult {
  return done ? { changed: done.changed, traceId: toId("trace", done.traceId) } : { changed: 0, traceId: "" };
}
