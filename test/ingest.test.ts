import { describe, expect, it } from "vitest";
import { Spectron } from "../src/index.js";
import { alice, bob, DAY, makeMemory, tempDir } from "./helpers.js";

describe("ingest → reconcile", () => {
  it("persists the turn, extracts facts, and returns outcomes with initial importance by category", async () => {
    const { memory } = makeMemory();
    const out = await memory.ingest({ role: "user", content: "My name is Ana and I live in Lisbon.", scope: alice });
    expect(out.turnId).toMatch(/^turn_\d+$/);
    expect(out.traceId).toMatch(/^trc_\d+$/);
    const byAttr = Object.fromEntries(out.records.map((r) => [r.attribute, r]));
    expect(byAttr.name?.value).toBe("Ana");
    expect(byAttr.location?.value).toBe("Lisbon");
    for (const r of out.records) {
      expect(r.outcome).toBe("created");
      expect(r.memory_category).toBe("identity");
      expect(r.importance).toBe(1);
      expect(r.expires_at).toBeNull();
      expect(r.source).toEqual({ kind: "turn", id: out.turnId, key: "turn:-:user" });
    }
    const turns = await memory.turns.list();
    expect(turns.map((t) => [t.id, t.status])).toEqual([[out.turnId, "extracted"]]);
    await memory.close();
  });

  it("keeps ephemeral statements as context facts (importance 0.5, 7-day TTL)", async () => {
    const { memory, clock } = makeMemory();
    const out = await memory.ingest({ content: "I'm really tired today after the long flight.", scope: alice });
    const context = out.records.find((r) => r.memory_category === "context");
    expect(context).toBeDefined();
    expect(context!.importance).toBe(0.5);
    expect(Date.parse(context!.expires_at!)).toBe(clock.now() + 7 * DAY);
    await memory.close();
  });

  it("reinforces an exact duplicate instead of storing it twice", async () => {
    const { memory } = makeMemory();
    const first = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    const second = await memory.ingest({ content: "I live in Lisbon!", scope: alice });
    expect(second.records).toHaveLength(1);
    expect(second.records[0]!.id).toBe(first.records[0]!.id);
    expect(second.records[0]!.outcome).toBe("updated");
    expect(second.records[0]!.proof_count).toBe(2);
    expect((await memory.state.list({ scope: alice })).records).toHaveLength(1);
    await memory.close();
  });

  it("folds restatements in a row into one history entry with a count", async () => {
    const { memory, clock } = makeMemory();
    const first = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    for (let i = 0; i < 3; i++) {
      clock.advance(DAY);
      await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    }
    const record = await memory.state.get(first.records[0]!.id);
    expect(record.proof_count).toBe(4);
    expect(record.history.map((h) => [h.event, h.count])).toEqual([["created", undefined], ["reinforced", 3]]);
    expect(Date.parse(record.history[1]!.last_at!) - Date.parse(record.history[1]!.at)).toBe(2 * DAY);
    // Each restatement still has its decision trace.
    expect((await memory.traces.list({ kind: "decision_trace" })).traces).toHaveLength(4);
    await memory.close();
  });

  it("supersedes the old value of a single-valued attribute and keeps the lineage", async () => {
    const { memory, clock } = makeMemory();
    const first = await memory.ingest({ content: "I'm on the Pro plan.", scope: alice });
    clock.advance(DAY);
    const second = await memory.ingest({ content: "We upgraded to the Enterprise plan.", scope: alice });
    const old = second.records.find((r) => r.outcome === "superseded")!;
    const created = second.records.find((r) => r.outcome === "created")!;
    expect(old.id).toBe(first.records[0]!.id);
    expect(old.status).toBe("superseded");
    expect(old.superseded_by).toBe(created.id);
    expect(created.value).toBe("Enterprise");
    const state = await memory.state.get(old.id);
    expect(state.history.map((h) => h.event)).toEqual(["created", "superseded"]);
    expect((await memory.state.get(created.id)).history.map((h) => h.event)).toEqual(["created", "supersedes"]);
    // Reads see only the current value; the superseded one is listed on request.
    expect((await memory.state.list({ scope: alice })).records.map((r) => r.value)).toEqual(["Enterprise"]);
    expect((await memory.state.list({ scope: alice, status: "superseded" })).records.map((r) => r.value)).toEqual(["Pro"]);
    // Multi-valued attributes accumulate.
    await memory.ingest({ content: "I love hiking.", scope: alice });
    const likes = await memory.ingest({ content: "I love chess.", scope: alice });
    expect(likes.records.map((r) => r.outcome)).toEqual(["created"]);
    await memory.close();
  });

  it("flags a hedged contradiction it cannot decide, with an uncertainty record", async () => {
    const { memory } = makeMemory();
    const first = await memory.ingest({ content: "I'm vegetarian.", scope: bob });
    const hedge = await memory.ingest({ content: "I think I might be vegan now.", scope: bob });
    const flagged = hedge.records.find((r) => r.outcome === "flagged")!;
    const uncertainty = hedge.records.find((r) => r.outcome === "created")!;
    expect(flagged.id).toBe(first.records[0]!.id);
    expect(flagged.status).toBe("flagged");
    expect(uncertainty.kind).toBe("uncertainty");
    expect(uncertainty.value).toBe("vegan");
    // Both stay visible: the disputed fact is marked, not lost.
    expect((await memory.state.list({ scope: bob })).records.map((r) => r.status).sort()).toEqual(["current", "flagged"]);
    await memory.close();
  });

  it("writes a decision trace with outcomes, principal, delegation, session and edges", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I'm on the Pro plan.", scope: alice });
    const principal = { id: "support-bot", grants: [{ scope: {}, permissions: ["write" as const, "read" as const] }] };
    const out = await memory.ingest({
      content: "We upgraded to the Enterprise plan.",
      scope: alice,
      principal,
      onBehalfOf: "alice",
      session: "s-1",
    });
    const trace = await memory.traces.get(out.traceId);
    expect(trace.kind).toBe("decision_trace");
    expect(trace.principal).toBe("support-bot");
    expect(trace.on_behalf_of).toBe("alice");
    expect(trace.session).toBe("s-1");
    expect(trace.scope).toEqual(alice);
    if (trace.kind !== "decision_trace") throw new Error(`expected a decision_trace, got ${trace.kind}`);
    const outcomes = trace.payload.outcomes;
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(["created", "superseded"]);
    const edgeKinds = trace.edges.filter((e) => e.direction === "out").map((e) => `${e.kind}:${e.node.id}`).sort();
    for (const o of outcomes) expect(edgeKinds).toContain(`${o.outcome}:${o.record_id}`);
    await memory.close();
  });

  it("survives close and reopen of a real file", async () => {
    const t = tempDir();
    const a = new Spectron({ context: "c", path: t.path, providers: {} });
    const out = await a.ingest({ content: "I work at Acme.", scope: alice });
    await a.recall("where do I work?", { scope: alice });
    await a.close();
    const b = new Spectron({ context: "c", path: t.path, providers: {} });
    expect((await b.state.get(out.records[0]!.id)).value).toBe("Acme");
    const again = await b.recall("where do I work?", { scope: alice });
    expect(again.tier).toBe(1);
    expect(again.answer).toContain("Acme");
    await b.ingest({ content: "I joined Globex.", scope: alice });
    const moved = await b.recall("where do I work?", { scope: alice });
    expect(moved.tier).toBe(3);
    expect(moved.answer).toContain("Globex");
    await b.close();
    t.cleanup();
  });
});

describe("trust calibration from supersession lineage", () => {
  const importer = { speaker: "crm-import" };
  const user = { speaker: "alice" };

  it("lowers the trust of a source whose facts another source keeps correcting, on its live records too", async () => {
    const { memory } = makeMemory();
    const stale = await memory.ingest({ content: "I live in Lisbon. I'm on the Pro plan. I work at Initech.", scope: alice, ...importer });
    expect(stale.records.map((r) => [r.trust, r.source.key])).toEqual(Array(3).fill([1, "turn:-:crm-import"]));
    const lisbon = stale.records.find((r) => r.value === "Lisbon")!;
    const corrections = [
      await memory.ingest({ content: "I'm on the Enterprise plan.", scope: alice, ...user }),
      await memory.ingest({ content: "I work at Globex.", scope: alice, ...user }),
    ];
    // 3 asserted, 2 corrected: 1 − 2 / (3 + 4). The importer's remaining live record carries it; the user keeps 1.
    expect((await memory.state.get(lisbon.id)).trust).toBeCloseTo(1 - 2 / 7, 10);
    expect(corrections.flatMap((c) => c.records.filter((r) => r.outcome === "created").map((r) => r.trust))).toEqual([1, 1]);
    const trace = await memory.traces.get(corrections[1]!.traceId);
    expect((trace.payload as { calibration?: unknown }).calibration).toEqual([{ source: "turn:-:crm-import", corrected: 2, trust: 1 - 2 / 7 }]);
    await memory.close();
  });

  it("does not count a source changing its own facts", async () => {
    const { memory } = makeMemory();
    for (const city of ["Lisbon", "Porto", "Braga", "Faro"]) await memory.ingest({ content: `I live in ${city}.`, scope: alice, ...user });
    const live = (await memory.state.list({ scope: alice })).records;
    expect(live.map((r) => [r.value, r.trust])).toEqual([["Faro", 1]]);
    await memory.close();
  });

  it("lets a much-corrected source dispute a trusted fact, not overturn it", async () => {
    const { memory } = makeMemory();
    // The importer asserts three facts and the user corrects all three: trust 1 − 3 / (3 + 4) ≈ 0.57.
    await memory.ingest({ content: "I live in Lisbon. I'm on the Pro plan. I work at Initech.", scope: alice, ...importer });
    await memory.ingest({ content: "I live in Madrid. I'm on the Enterprise plan. I work at Globex.", scope: alice, ...user });
    const before = (await memory.state.list({ scope: alice })).records.find((r) => r.attribute === "location")!;
    expect(before.value).toBe("Madrid");
    // Its next claim (confidence 0.9 × trust 0.57 < 0.6) flags the user's fact as disputed.
    const claim = await memory.ingest({ content: "I live in Lisbon.", scope: alice, ...importer });
    const outcomes = Object.fromEntries(claim.records.map((r) => [r.outcome, r]));
    expect(outcomes.created).toMatchObject({ kind: "uncertainty", value: "Lisbon" });
    expect(outcomes.created!.trust).toBeCloseTo(1 - 3 / 7, 10);
    expect(outcomes.flagged).toMatchObject({ id: before.id, value: "Madrid", status: "flagged" });
    expect(outcomes.superseded).toBeUndefined();
    await memory.close();
  });
});
