import { describe, expect, it } from "vitest";
import { alice, bob, makeMemory } from "./helpers.js";

describe("reflect()", () => {
  it("answers a synthesis question and keeps the observation it draws, derived from the records it used", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I love hiking.", scope: alice });
    await memory.ingest({ content: "I love chess.", scope: alice });
    await memory.ingest({ content: "I love jazz.", scope: bob });
    // The background pass looks at hiking and chess (one subject, one attribute) with a call of the same stage:
    // let it finish first, or a slow engine (PGlite) counts it against reflect.
    await memory.idle();
    const before = memory.usage();
    const out = await memory.reflect("What does alice like?", { scope: alice });
    expect(out.answer).toContain("hiking");
    expect(out.answer).toContain("chess");
    expect(out.answer).not.toContain("jazz");
    expect(out.insights).toHaveLength(1);
    const insight = out.insights[0]!;
    expect(insight).toMatchObject({ kind: "observation", memory_category: "knowledge", outcome: "created", source: { kind: "reflect", id: out.traceId } });
    const used = out.records.filter((r) => r.value === "hiking" || r.value === "chess").map((r) => r.id);
    expect(used).toHaveLength(2);
    // Two synchronous model calls: query understanding and synthesis (reflection stage); never the response cache.
    expect(memory.usage().query_understanding!.calls - (before.query_understanding?.calls ?? 0)).toBe(1);
    expect(memory.usage().reflection!.calls - (before.reflection?.calls ?? 0)).toBe(1);
    const trace = await memory.traces.get(out.traceId);
    expect(trace.payload).toMatchObject({ kind: "reflect", message: "What does alice like?" });
    expect(trace.edges.map((e) => e.kind)).toEqual(expect.arrayContaining(["used_retrieval", "produced_decision", "wrote"]));
    // The observation is memory now: it is found by a later query, and records where it came from.
    const found = await memory.query("hiking chess", { scope: alice, limit: 20 });
    expect(found.map((r) => r.id)).toContain(insight.id);
    await memory.close();
  });

  it("keeps no insight for a caller who may read but not write the scope", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I love hiking.", scope: alice });
    await memory.ingest({ content: "I love chess.", scope: alice });
    const reader = { id: "analyst", grants: [{ scope: {}, permissions: ["read" as const] }] };
    const out = await memory.reflect("What does alice like?", { scope: alice, principal: reader });
    expect(out.answer).toContain("hiking");
    expect(out.insights).toEqual([]);
    await expect(memory.reflect("What does alice like?", { scope: alice, principal: { id: "x", grants: [] } })).rejects.toThrow(/lacks `read`/);
    await memory.close();
  });
});
