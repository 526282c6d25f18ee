// Timed sampling under a budget: Spectron's slow paths take seconds per call at 100k, so every timing loop
// stops at a sample count or a time budget, whichever comes first, and the report carries n.

import { latency, type Latency } from "./stats.js";

export interface SampleOptions {
  /** Most samples to take. */
  max: number;
  /** Stop starting new calls after this many milliseconds (at least `min` samples are taken regardless). */
  budgetMs: number;
  /** Fewest samples, even over budget. @default 3 */
  min?: number;
  /** Untimed calls first (JIT, statement cache, page cache). @default 2 */
  warmup?: number;
}

/** Calls `fn(i)` repeatedly and summarises its latency in milliseconds. */
export async function sample(fn: (i: number) => Promise<unknown>, options: SampleOptions): Promise<Latency> {
  const times: number[] = [];
  for (let i = 0; i < (options.warmup ?? 2); i++) await fn(-1 - i);
  const started = performance.now();
  for (let i = 0; i < options.max; i++) {
    if (i >= (options.min ?? 3) && performance.now() - started > options.budgetMs) break;
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  return latency(times);
}

/**
 * Runs `sweep` and, while it is pending, keeps calling `probe` back to back, timing each call: how much a
 * background sweep delays foreground calls. A sweep that runs as one synchronous transaction lets no probe
 * in (`probes.n` = 0) and stalls the event loop for its whole duration; one that yields between batches does.
 */
export async function duringSweep<T>(sweep: () => Promise<T>, probe: () => Promise<unknown>): Promise<{ result: T; sweepMs: number; probes: Latency }> {
  const times: number[] = [];
  let finished = false;
  const started = performance.now();
  const pending = sweep().finally(() => {
    finished = true;
  });
  let sweepMs = 0;
  void pending.then(() => (sweepMs = performance.now() - started), () => undefined);
  while (!finished) {
    // Let macrotasks run between probes, as between requests in a server: local models resolve at once, so a
    // bare loop of probes would be one endless microtask chain and starve a sweep that yields with setImmediate.
    await new Promise((resolve) => setImmediate(resolve));
    if (finished) break;
    const t = performance.now();
    await probe();
    times.push(performance.now() - t); // started while the sweep was pending
  }
  const result = await pending;
  return { result, sweepMs: sweepMs || performance.now() - started, probes: latency(times) };
}
