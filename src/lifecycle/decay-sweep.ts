import type { Core } from "../core.js";
import { PRIORITY } from "./scheduler.js";
import { DAILY_DECAY } from "../config/defaults.js";
import type { TraceActor } from "../store/store.js";

/** What the decay sweep uses: the store, the scheduler it takes turns on, the clock. */
export type DecayDeps = Pick<Core, "store" | "queue" | "now">;

/** Record ids per decay transaction. */
const DECAY_RANGE = 5_000;

/**
 * Applies the daily decay factors (context ×0.95, knowledge ×0.995, identity none) for the whole days elapsed
 * since each record was last decayed: a missed night is caught up, a second run the same day changes nothing.
 * Id ranges in short transactions, each a job of its own, so that recall and other background work take turns
 * with a sweep over a large Context. Each record carries its own last_decay_at, so a partial sweep (stopped by
 * close) is safe: the next one finishes it. Returns how many records' decay clock moved, and the sweep_trace.
 */
export async function decaySweep(core: DecayDeps, actor: TraceActor): Promise<{ changed: number; traceId: number }> {
  const now = core.now();
  const { store } = core;
  const maxId = await store.maxRecordId();
  let changed = 0;
  let from = 0;
  await core.queue.steps(async () => {
    if (from >= maxId) return true;
    changed += await store.decayRange(from, from + DECAY_RANGE, DAILY_DECAY, now);
    from += DECAY_RANGE;
    return from >= maxId;
  }, PRIORITY.sweep);
  const complete = from >= maxId;
  const traceId = await store.finishSweep({
    actor,
    payload: { sweep: "decay", changed, factors: DAILY_DECAY, complete },
    ...(complete ? { lastDecayAt: now } : {}),
    now,
  });
  return { changed, traceId };
}
