import type { Core } from "../core.js";
import { PRIORITY } from "../core.js";
import type { TraceActor } from "../store/store.js";

/** Records per expiry transaction. */
const BATCH = 200;

/**
 * Expires records whose `expires_at` has passed: out of every read path, the ANN and full-text indexes, and the
 * response cache. Batched so that recall keeps answering while a large sweep runs. Returns how many expired,
 * and the sweep_trace.
 */
export async function expireSweep(core: Core, actor: TraceActor): Promise<{ changed: number; traceId: number }> {
  const now = core.now();
  let changed = 0;
  let evicted = 0;
  let complete = false;
  await core.queue.steps(async () => {
    const step = await core.store.expireBatch(BATCH, now);
    changed += step.changed;
    evicted += step.evicted ?? 0;
    complete = step.done;
    return complete;
  }, PRIORITY.sweep);
  const traceId = await core.store.finishSweep({ actor, payload: { sweep: "expire", changed, evicted_cache_entries: evicted, complete }, now });
  return { changed, traceId };
}
