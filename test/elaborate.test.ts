import { describe, expect, it } from "vitest";
import { AccessDeniedError } from "../src/index.js";
import { alice, makeMemory } from "./helpers.js";

describe("lifecycle.elaborate()", () => {
  it("links entities that decision traces considered together but no record links, with source.kind elaboration and lineage", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "My sister Anna lives in Berlin and my brother Tom works at Globex.", scope: alice });
    await memory.ingest({ content: "Anna visited Porto. Tom visited Porto too.", scope: alice });
    await memory.idle();
    const before = (await memory.state.list({ scope: alice })).records;
    expect(before.some((r) => /Anna/.test(r.text) && /Tom/.test(r.text))).toBe(false);

    const result = await memory.lifecycle.elaborate();
    expect(result.relations).toBeGreaterThanOrEqual(1);
    const links = (await memory.state.list({ scope: alice })).records.filter((r) => r.source.kind === "elaboration");
    const annaTom = links.find((r) => /Anna/.test(r.text) && /Tom/.test(r.text));
    expect(annaTom).toBeDefined();
    expect(annaTom!.kind).toBe("relation");
    expect(annaTom!.source.id).toBe(result.traceId);

    const decision = (await memory.traces.list({ kind: "decision_trace" })).traces.find(
      (t) => (t.payload.source as { kind: string }).kind === "elaboration" && JSON.stringify(t.payload.outcomes).includes(annaTom!.id),
    );
    expect(decision).toBeDefined();
    const edges = (await memory.traces.get(decision!.id)).edges;
    expect(edges.some((e) => e.kind === "parent_trace" && e.direction === "out" && e.node.id === result.traceId)).toBe(true);
    expect(edges.some((e) => e.kind === "created" && e.node.id === annaTom!.id)).toBe(true);

    // Linked now: the next sweep proposes nothing and makes no call.
    const calls = memory.usage().background!.calls;
    expect((await memory.lifecycle.elaborate()).relations).toBe(0);
    expect(memory.usage().background!.calls).toBe(calls);
    await memory.close();
  });

  it("connects what a document and a conversation both mention", async () => {
    const { memory } = makeMemory();
    await memory.knowledge.add({ title: "Atlas", text: "The Atlas project is built by Northwind Labs.", scope: {} });
    await memory.ingest({ content: "I work on the Atlas project.", scope: alice });
    await memory.idle();
    await memory.lifecycle.elaborate();
    const links = (await memory.state.list({ scope: alice })).records.filter((r) => r.source.kind === "elaboration");
    expect(links.map((r) => r.text)).toContain("User is connected with Northwind Labs through Atlas.");
    const r = await memory.recall("What am I connected with through Atlas?", { scope: alice });
    expect(r.records.some((x) => x.source.kind === "elaboration")).toBe(true);
    await memory.close();
  });

  it("needs manage, like every sweep", async () => {
    const { memory } = makeMemory();
    const reader = { id: "reader", grants: [{ scope: alice, permissions: ["read" as const] }] };
    await expect(memory.as(reader).lifecycle.elaborate()).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(memory.as(reader).lifecycle.consolidate()).rejects.toBeInstanceOf(AccessDeniedError);
    await memory.close();
  });
});
