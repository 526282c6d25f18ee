import { describe, expect, it } from "vitest";
import { alice, bob, DAY, makeMemory } from "./helpers.js";

describe("importance, decay, TTL and retention", () => {
  it("decays context ×0.95 and knowledge ×0.995 per elapsed day; identity never; no double decay", async () => {
    const { memory, clock } = makeMemory();
    const ctx = (await memory.ingest({ content: "I'm tired today after the flight.", scope: alice })).records[0]!;
    const id = (await memory.ingest({ content: "I live in Lisbon.", scope: alice })).records[0]!;
    const doc = await memory.knowledge.add({ title: "Refunds", text: "Refunds are processed within 14 days of a request.", scope: alice });
    const know = doc.records[0]!;
    expect([ctx.memory_category, id.memory_category, know.memory_category]).toEqual(["context", "identity", "knowledge"]);
    expect(know.importance).toBe(0.8);
    await memory.config.retention([{ scope: {}, memory_category: "context", ttl: "90d" }]);
    const ctx2 = (await memory.ingest({ content: "I'm hungry right now.", scope: bob })).records[0]!;

    clock.advance(30 * DAY + 3_600_000);
    await memory.lifecycle.decay();
    expect((await memory.state.get(ctx2.id)).importance).toBeCloseTo(0.5 * 0.95 ** 30, 10);
    expect((await memory.state.get(know.id)).importance).toBeCloseTo(0.8 * 0.995 ** 30, 10);
    expect((await memory.state.get(id.id)).importance).toBe(1);
    // A second run the same day changes nothing.
    await memory.lifecycle.decay();
    expect((await memory.state.get(ctx2.id)).importance).toBeCloseTo(0.5 * 0.95 ** 30, 10);
    // A missed night is caught up: two more days in one run.
    clock.advance(2 * DAY);
    const sweep = await memory.lifecycle.decay();
    expect((await memory.state.get(ctx2.id)).importance).toBeCloseTo(0.5 * 0.95 ** 32, 10);
    const trace = await memory.traces.get(sweep.traceId);
    expect(trace.payload).toMatchObject({ sweep: "decay" });
    await memory.close();
  });

  it("expires context facts 7 days after creation by default, from every read path and the cache", async () => {
    const { memory, clock } = makeMemory();
    await memory.config.cache({ similarity: 0.5 });
    const fact = (await memory.ingest({ content: "I'm tired today after the long flight.", scope: alice })).records[0]!;
    expect(Date.parse(fact.expires_at!)).toBe(clock.now() + 7 * DAY);
    const first = await memory.recall("Am I tired after the flight?", { scope: alice });
    expect(first.records.map((r) => r.id)).toContain(fact.id);
    const soon = await memory.state.list({ scope: alice, expires_before: new Date(clock.now() + 8 * DAY).toISOString() });
    expect(soon.records.map((r) => r.id)).toEqual([fact.id]);

    clock.advance(7 * DAY + 1);
    // Past its expiry a fact is out of reads even before the sweep runs.
    expect((await memory.query("tired flight", { scope: alice })).map((r) => r.id)).not.toContain(fact.id);
    const sweep = await memory.lifecycle.expire();
    expect(sweep.changed).toBe(1);
    expect((await memory.state.get(fact.id)).status).toBe("expired");
    expect((await memory.state.list({ scope: alice })).records).toEqual([]);
    expect((await memory.state.list({ scope: alice, status: "expired" })).records.map((r) => r.id)).toEqual([fact.id]);
    const again = await memory.recall("Am I tired after the flight?", { scope: alice });
    expect(again.tier).toBe(3);
    expect(again.records.map((r) => r.id)).not.toContain(fact.id);
    expect((await memory.traces.get(sweep.traceId)).payload).toMatchObject({ sweep: "expire", changed: 1, evicted_cache_entries: 1 });
    await memory.close();
  });

  it("applies the first matching retention rule; a later policy change leaves existing expiry alone", async () => {
    const { memory, clock } = makeMemory();
    await memory.config.retention([
      { scope: { plan: "enterprise" }, memory_category: "context", ttl: "30d" },
      { scope: {}, memory_category: "knowledge", ttl: "365d" },
      { scope: {}, memory_category: "context", ttl: "1d" },
    ]);
    const ent = (await memory.ingest({ content: "I'm tired today.", scope: { user: "a", plan: "enterprise" } })).records[0]!;
    const free = (await memory.ingest({ content: "I'm tired today.", scope: { user: "b" } })).records[0]!;
    const id = (await memory.ingest({ content: "I live in Oslo.", scope: { user: "b" } })).records[0]!;
    expect(Date.parse(ent.expires_at!)).toBe(clock.now() + 30 * DAY);
    expect(Date.parse(free.expires_at!)).toBe(clock.now() + DAY);
    expect(id.expires_at).toBeNull();
    await memory.config.retention([]);
    expect((await memory.state.get(ent.id)).expires_at).toBe(ent.expires_at);
    await memory.close();
  });

  it("forget() removes a record from every read path and index, evicts answers citing it, and leaves a traced tombstone", async () => {
    const { memory } = makeMemory();
    const fact = (await memory.ingest({ content: "I live in Lisbon.", scope: alice })).records[0]!;
    await memory.recall("Where do I live?", { scope: alice });
    const gone = await memory.state.forget(fact.id);
    expect(gone.status).toBe("forgotten");
    expect(gone.text).toBe("");
    expect(gone.erased_at).not.toBeNull();
    expect(gone.history.map((h) => h.event)).toEqual(["created", "forgotten"]);
    expect((await memory.query("Lisbon", { scope: alice })).length).toBe(0);
    const after = await memory.recall("Where do I live?", { scope: alice });
    expect(after.tier).toBe(3);
    expect(after.answer).not.toContain("Lisbon");
    await expect(memory.state.forget(fact.id)).rejects.toThrow(/No record/);
    const tombstones = (await memory.traces.list({ kind: "decision_trace" })).traces.filter((t) => t.payload.source?.kind === "forget");
    expect(tombstones).toHaveLength(1);
    await memory.close();
  });

  it("runs sweeps on the scheduler with unref'd timers, and close() stops them", async () => {
    const { memory } = makeMemory({ schedule: { decay: 1000, expire: 1000, retry: false } });
    // The timers are unref'd, so this test process would exit with them pending; close() clears them.
    await memory.close();
    await expect(memory.lifecycle.decay()).rejects.toThrow(/closed/);
  });
});
