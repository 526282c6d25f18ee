import { describe, expect, it } from "vitest";
import { Spectron, SpectronValidationError } from "../src/index.js";
import { alice, DAY, makeMemory, manualClock, T0 } from "./helpers.js";

// One behaviour differs on PostgreSQL (the SDK suite run there, vitest.postgres.config.ts), and is skipped there
// rather than weakened: batching waits for nothing, so turns ingested together reach the pass together only when
// their writes are synchronous (SQLite). (`usage().budget` is the state as this instance last read or changed it
// on PostgreSQL: Store.lastBudget.)
const onPostgres = process.env.SPECTRON_SDK_ENGINE !== undefined;

describe("background model calls: batched, only for what can conflict, under config.budget()", () => {
  it("makes no background call for new records that nothing can conflict with", async () => {
    const { memory } = makeMemory();
    for (const c of ["I love hiking.", "I live in Porto.", "My brother Tom works at Globex.", "I'm reading a book about volcanoes."]) {
      await memory.ingest({ content: c, scope: alice });
    }
    await memory.idle();
    expect(memory.usage().reflection?.calls ?? 0).toBe(0);
    await memory.close();
  });

  it.skipIf(onPostgres)("asks about the records of several turns in one call", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I love hiking.", scope: alice });
    await memory.idle();
    // Three turns whose records share the subject and attribute of the first, ingested without waiting for the
    // background: they wait for one pass together.
    await Promise.all(["I love jazz.", "I love chess.", "I love sailing."].map((content) => memory.ingest({ content, scope: alice })));
    await memory.idle();
    const calls = memory.usage().reflection!.calls;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThan(3);
    const decisions = (await memory.traces.list({ kind: "decision_trace" })).traces.filter((t) => (t.payload.source as { kind: string }).kind === "reflection");
    expect(decisions).toEqual([]); // different likes accumulate: the model (local rules) leaves them all
    await memory.close();
  });

  it("caps background tokens per day, defers what it skipped to the backlog, shows it in usage(), and runs it in the next window", async () => {
    const clock = manualClock(T0 + 9 * 3_600_000);
    const memory = new Spectron({
      context: "test",
      clock: clock.now,
      providers: {},
      schedule: { decay: false, expire: false, consolidate: false, elaborate: false, retry: 100 },
    });
    try {
      await memory.config.budget({ background_tokens_per_day: 0 });
      expect((await memory.config.get()).budget).toEqual({ background_tokens_per_day: 0 });
      const first = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
      // The same subject and attribute as each other: a pair the pass must look at.
      await memory.ingest({ content: "I love hiking.", scope: alice });
      await memory.ingest({ content: "I love jazz.", scope: alice });
      await memory.idle();
      expect(memory.usage().reflection?.calls ?? 0).toBe(0);
      const usage = memory.usage().budget!;
      expect(usage.background_tokens_per_day).toBe(0);
      expect(usage.deferred.reconciliation).toBeGreaterThanOrEqual(1);
      expect(usage.backlog).toBeGreaterThanOrEqual(1);
      expect(usage.window_start).toBe(new Date(T0).toISOString());
      // Consolidation is deferred too: no call, the cluster waits.
      const c = await memory.lifecycle.consolidate();
      expect(c).toMatchObject({ observations: 0, deferred: 1 });
      expect(memory.usage().background?.calls ?? 0).toBe(0);
      expect(memory.usage().budget!.deferred.consolidation).toBe(1);

      // A new day, and a budget that affords it: the retry timer takes the backlog up.
      await memory.config.budget({ background_tokens_per_day: 100_000 });
      clock.advance(DAY);
      // The retry timer fires every 100 ms; on a loaded machine (PostgreSQL, several files at once) a pass can take
      // seconds: wait up to 60 s for the backlog to empty (the assertions below say whether it did). The wait reads
      // the budget afresh each time (`config.get` reads the store): on PostgreSQL `usage()` shows the state this
      // instance last read or changed, which a pass in flight can leave at 0 before it writes the rest back.
      const backlog = async () => (await memory.config.get(), memory.usage().budget!.backlog);
      for (let i = 0; i < 1200; i++) {
        await memory.idle();
        if ((await backlog()) === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await memory.idle();
      const after = memory.usage().budget!;
      expect(after.backlog).toBe(0);
      expect(after.window_start).toBe(new Date(T0 + DAY).toISOString());
      expect(after.calls).toBeGreaterThanOrEqual(1);
      expect(after.tokens).toBeGreaterThan(0);
      expect(after.tokens).toBeLessThanOrEqual(100_000);
      expect(memory.usage().reflection!.calls).toBe(after.calls);
      expect((await memory.state.get(first.records[0]!.id)).status).toBe("current");
    } finally {
      await memory.close();
    }
  }, 120_000);

  it("rejects a bad budget with a typed error and changes nothing", async () => {
    const { memory } = makeMemory();
    await memory.config.budget({ background_tokens_per_day: 5_000 });
    for (const bad of [{ background_tokens_per_day: -1 }, { background_tokens_per_day: 1.5 }, { tokens: 5 }, null, "lots"]) {
      await expect(memory.config.budget(bad as never)).rejects.toBeInstanceOf(SpectronValidationError);
    }
    expect((await memory.config.get()).budget).toEqual({ background_tokens_per_day: 5_000 });
    await memory.close();
  });
});
