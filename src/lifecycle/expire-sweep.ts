import type { Core } from "../core.js";
import { PRIORITY } from "./scheduler.js";
import type { TraceActor } from "../store/store.js";

/** What the expiry sweep uses: the store, the scheduler it takes turns on, the clock. */
export type ExpireDeps = Pick<Core, "store" | "queue" | "now">;

/** Records per expiry transaction. */
const BATCH = 200;

/**
 * Expires records whose `expires_at` has passed, and context and knowledge records whose importance has decayed
 * below the floor (lifecycle/survival.ts), and erases them (store/erase.ts): out of every read path, index and
 * cached answer, their words gone, a tombstone left; turns whose passage died with them lose their words too. Batched so that recall keeps
 * answering while a large sweep runs. Returns how many expired, and the sweep_trace.
 */
export async function expireSweep(core: ExpireDeps, actor: TraceActor): Promise<{ changed: number; traceId: number }> {
  const now = core.now();
  let changed = 0;
  let evicted = 0;
  let belowFloor = 0;
  let cutTraces = 0;
  let passages = 0;
  let complete = false;
  await core.queue.steps(async () => {
    const step = await core.store.expireBatch(BATCH, now);
    changed += step.changed;
    evicted += step.evicted ?? 0;
    belowFloor += step.belowFloor ?? 0;
    cutTraces += step.cutTraces ?? 0;
    passages += step.erasedPassages ?? 0;
    complete = step.done;
    return complete;
  }, PRIORITY.sweep);
  const traceId = await core.store.finishSweep({ actor, payload: { sweep: "expire", changed, below_floor: belowFloor, erased_passages: passages, evicted_cache_entries: evicted, cut_traces: cutTraces, complete }, now });
  return { changed, traceId };
}
