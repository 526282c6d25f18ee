import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { Spectron } from "../src/index.js";
import { alice, bob, makeMemory, manualClock, tempDir } from "./helpers.js";

async function likes(memory: Spectron, ...things: string[]) {
  for (const t of things) await memory.ingest({ content: `I love ${t}.`, scope: alice });
  await memory.idle();
}

const observations = async (memory: Spectron) =>
  (await memory.state.list({ scope: alice })).records.filter((r) => r.kind === "observation");

describe("lifecycle.consolidate()", () => {
  it("turns related facts into an observation with source.kind consolidation, lineage, proof_count and its own traces", async () => {
    const { path, cleanup } = tempDir();
    const clock = manualClock();
    const memory = new Spectron({ context: "test", path, clock: clock.now, providers: {}, schedule: false });
    try {
      await likes(memory, "hiking", "jazz", "chess");
      await memory.ingest({ content: "I love jazz.", scope: alice }); // a restatement: jazz has two proofs
      const facts = (await memory.state.list({ scope: alice })).records;
      const before = memory.usage().background?.calls ?? 0;
      const result = await memory.lifecycle.consolidate();
      expect(result.observations).toBe(1);
      expect(memory.usage().background!.calls - before).toBe(1);

      const [obs] = await observations(memory);
      expect(obs!.source.kind).toBe("consolidation");
      expect(obs!.text).toMatch(/hiking/);
      expect(obs!.text).toMatch(/jazz/);
      expect(obs!.text).toMatch(/chess/);
      expect(obs!.proof_count).toBe(4);
      expect(obs!.history.map((h) => h.event)).toEqual(["created", "consolidated"]);
      const members = facts.filter((f) => f.attribute === "likes").map((f) => f.id).sort();
      expect(obs!.history[1]!.detail!.split(",").sort()).toEqual(members);

      // Its decision trace names consolidation as the source and the sweep as its parent.
      const decisions = (await memory.traces.list({ kind: "decision_trace" })).traces.filter(
        (t) => (t.payload.source as { kind: string }).kind === "consolidation",
      );
      expect(decisions).toHaveLength(1);
      const decision = await memory.traces.get(decisions[0]!.id);
      expect(decision.edges.some((e) => e.kind === "parent_trace" && e.direction === "out" && e.node.id === result.traceId)).toBe(true);
      const sweep = await memory.traces.get(result.traceId);
      expect(sweep.payload).toMatchObject({ sweep: "consolidate", observations: [obs!.id], complete: true });

      await memory.close();
      const db = new Database(path, { readonly: true });
      const row = db.prepare("SELECT derived_from FROM records WHERE id = ?").get(Number(obs!.id.slice(4))) as { derived_from: string };
      expect((JSON.parse(row.derived_from) as string[]).sort()).toEqual(members);
      db.close();
    } finally {
      await memory.close();
      cleanup();
    }
  });

  it("makes no call for a cluster it has already summarised, and supersedes the summary when the cluster grows", async () => {
    const { memory } = makeMemory();
    await likes(memory, "hiking", "jazz");
    await memory.lifecycle.consolidate();
    const calls = memory.usage().background!.calls;
    expect((await memory.lifecycle.consolidate()).observations).toBe(0);
    expect(memory.usage().background!.calls).toBe(calls);

    const [first] = await observations(memory);
    await likes(memory, "sailing");
    expect((await memory.lifecycle.consolidate()).observations).toBe(1);
    const old = await memory.state.get(first!.id);
    expect(old.status).toBe("superseded");
    const [current] = await observations(memory);
    expect(old.superseded_by).toBe(current!.id);
    expect(current!.text).toMatch(/sailing/);
    await memory.close();
  });

  it("answers a summary question with the consolidated observation among what it retrieved", async () => {
    const { memory } = makeMemory();
    await likes(memory, "hiking", "jazz", "chess");
    await memory.lifecycle.consolidate();
    const [obs] = await observations(memory);
    const r = await memory.recall("Summarize my hobbies", { scope: alice });
    expect(r.records.map((x) => x.id)).toContain(obs!.id);
    expect(r.answer).toMatch(/hiking|jazz|chess/);
    await memory.close();
  });

  it("reinforces the records answers used since the last consolidation, and not the others", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I had ramen for lunch with Priya.", scope: alice });
    await memory.ingest({ content: "I had tacos for lunch with Omar.", scope: bob });
    await memory.idle();
    // The answer relies on what its retrieval returned (the response stage's own `used` list when it reports one).
    const answer = await memory.recall("Who did I have lunch with?", { scope: alice });
    const used = answer.records.map((r) => r.id);
    expect(used.length).toBeGreaterThan(0);
    const [mine] = (await memory.state.list({ scope: alice })).records;
    const [theirs] = (await memory.state.list({ scope: bob })).records;
    expect(used).toContain(mine!.id);
    const result = await memory.lifecycle.consolidate();
    expect(result.reinforced).toBe(used.length);
    const mineAfter = await memory.state.get(mine!.id);
    expect(mineAfter.history.some((h) => h.event === "reinforced" && h.detail === "used in 1 answer")).toBe(true);
    expect(mineAfter.importance).toBeCloseTo(Math.min(1, mine!.importance * 1.1), 10);
    const theirsAfter = await memory.state.get(theirs!.id);
    expect(theirsAfter.importance).toBe(theirs!.importance);
    expect(theirsAfter.history.some((h) => h.detail?.startsWith("used in"))).toBe(false);
    // The next consolidation does not count the same answer twice.
    expect((await memory.lifecycle.consolidate()).reinforced).toBe(0);
    await memory.close();
  });

  it("fires on its schedule for real, on a short interval", async () => {
    const clock = manualClock();
    const memory = new Spectron({
      context: "test",
      clock: clock.now,
      providers: {},
      schedule: { decay: false, expire: false, retry: false, elaborate: false, consolidate: 100 },
    });
    try {
      await likes(memory, "hiking", "jazz");
      let found: string[] = [];
      for (let i = 0; i < 100 && found.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        found = (await observations(memory)).map((o) => o.source.kind);
      }
      expect(found).toEqual(["consolidation"]);
      const sweeps = (await memory.traces.list({ kind: "sweep_trace" })).traces.filter((t) => t.payload.sweep === "consolidate");
      expect(sweeps.length).toBeGreaterThan(0);
    } finally {
      await memory.close();
    }
  });
});
