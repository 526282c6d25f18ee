import { describe, expect, it } from "vitest";
import { makeMemory, alice } from "./helpers.js";

// Issue 13: a write that changes vectors tells the vector index itself, after commit. A reindex that writes
// vectors of a model whose index is already open (a reindex back to an earlier model) must reach that index.
describe("reindex and the vector index", () => {
  it("an instance that reindexes twice still finds its newest records through the vector channel", async () => {
    const { memory } = makeMemory();
    // Past the exact-search limit (300 visible records), so that the vector channel searches the ANN index.
    for (let i = 0; i < 320; i++) await memory.ingest({ content: `My locker number ${i} holds item${i}.`, scope: alice });
    // Opens the ANN index of the first embedding model.
    await memory.recall("What does locker 1 hold?", { scope: alice });
    await memory.idle();

    await memory.config.models({ embedding: "local:hash-256" });
    await memory.knowledge.reindex();
    await memory.idle();
    await memory.recall("What does locker 2 hold?", { scope: alice });
    const newest: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await memory.ingest({ content: `My favourite zorblatt${i} is quenvix${i}.`, scope: alice });
      newest.push(...r.records.map((x) => x.id));
    }
    expect(newest.length).toBeGreaterThan(0);

    // Back to the first model: its index is still open in this instance.
    await memory.config.models({ embedding: "local:hash-384" });
    await memory.knowledge.reindex();
    await memory.idle();
    expect((await memory.knowledge.reindexStatus()).status).toBe("complete");

    for (let i = 0; i < 5; i++) {
      const result = await memory.recall(`What is my favourite zorblatt${i}?`, { scope: alice });
      const trace = await memory.traces.get(result.traceId);
      const retrieval = trace.edges.find((e) => e.kind === "used_retrieval" && e.direction === "out");
      expect(retrieval).toBeDefined();
      const payload = (await memory.traces.get(retrieval!.node.id)).payload as {
        vector_path: string;
        candidates: { vector: { id: string }[] };
      };
      expect(payload.vector_path).toBe("ann");
      const ids = payload.candidates.vector.map((c) => c.id);
      expect(ids.some((id) => newest.includes(id))).toBe(true);
    }
    await memory.close();
  }, 60_000);
});
