import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spectron, type SpectronOptions } from "../src/index.js";

export const DAY = 86_400_000;
export const T0 = Date.parse("2026-06-01T00:00:00Z");

/** A clock the test moves by hand. */
export function manualClock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms), set: (ms: number) => void (now = ms) };
}

/** A Spectron on `:memory:` with local models, no background timers, no environment keys. */
export function makeMemory(options: Partial<SpectronOptions> = {}) {
  const clock = manualClock();
  const memory = new Spectron({
    context: "test",
    clock: clock.now,
    providers: {},
    schedule: { decay: false, expire: false, retry: false },
    ...options,
  });
  return { memory, clock };
}

export function tempDir(): { dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "spectron-"));
  return { dir, path: join(dir, "memory.db"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * One turn of the event loop: lets a group of writes of reads (tier-1/2 and query traces, reinforcement: they commit
 * together a moment after they are made) commit, so that a second connection reading the file sees them.
 */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export const alice = { user: "alice" } as const;
export const bob = { user: "bob" } as const;

/** mulberry32, the benchmark's seeded PRNG, so that a randomised test replays exactly. */
export { prng as mulberry32 } from "../bench/stats.js";
