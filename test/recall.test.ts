import { describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { Spectron } from "../src/index.js";
import { coreOf } from "../bench/bulk.js";
import { alice, bob, makeMemory, tempDir } from "./helpers.js";

async function seeded() {
  const { memory, clock } = makeMemory();
  await memory.ingest({ content: "I'm on the Pro plan.", scope: alice });
  await memory.ingest({ content: "I live in Lisbon.", scope: alice });
  await memory.ingest({ content: "I'm on the Starter plan.", scope: bob });
  return { memory, clock };
}

describe("recall: the three tiers", () => {
  it("answers at tier 3 first, then an exact repeat at tier 1 with no model call", async () => {
    const { memory } = await seeded();
    const first = await memory.recall("Which plan am I on?", { scope: alice });
    expect(first.tier).toBe(3);
    expect(first.cached).toBe(false);
    expect(first.answer).toContain("Pro");
    expect(first.records.some((r) => r.value === "Pro")).toBe(true);
    const calls = memory.usage();
    const repeat = await memory.recall("  which PLAN am i on ", { scope: alice });
    expect(repeat).toMatchObject({ tier: 1, cached: true, answer: first.answer });
    // Tier 1 made no model call and no embedding.
    expect(memory.usage()).toEqual(calls);
    await memory.close();
  });

  it("answers a paraphrase above the threshold at tier 2 and links reused_from", async () => {
    const { memory } = await seeded();
    // The offline hash embedder scores paraphrases lower than a neural embedder (~0.7 here, an unrelated question ~0.2).
    await memory.config.cache({ similarity: 0.6 });
    const first = await memory.recall("Which plan am I on?", { scope: alice });
    const before = memory.usage();
    const para = await memory.recall("Which plan am I on now?", { scope: alice });
    expect(para.tier).toBe(2);
    expect(para.cached).toBe(true);
    expect(para.similarity).toBeGreaterThan(0.6);
    expect(para.answer).toBe(first.answer);
    expect(memory.usage().query_understanding).toEqual(before.query_understanding);
    expect(memory.usage().response).toEqual(before.response);
    const trace = await memory.traces.get(para.traceId);
    expect(trace.kind).toBe("response_trace");
    expect(trace.edges).toContainEqual({ kind: "reused_from", direction: "out", node: { type: "trace", id: first.traceId } });
    await memory.close();
  });

  it("does not reuse below the threshold", async () => {
    const { memory } = await seeded();
    await memory.recall("Which plan am I on?", { scope: alice });
    const other = await memory.recall("Where do I live?", { scope: alice });
    expect(other.tier).toBe(3);
    expect(other.answer).toContain("Lisbon");
    await memory.close();
  });

  it("evicts on a superseding write: the next recall is tier 3 with the new value", async () => {
    const { memory } = await seeded();
    await memory.recall("Which plan am I on?", { scope: alice });
    const write = await memory.ingest({ content: "We upgraded to the Enterprise plan.", scope: alice });
    expect(await memory.traces.get(write.traceId)).toMatchObject({ kind: "decision_trace", payload: { evicted_cache_entries: 1 } });
    const after = await memory.recall("Which plan am I on?", { scope: alice });
    expect(after.tier).toBe(3);
    expect(after.answer).toContain("Enterprise");
    expect(after.answer).not.toContain("Pro");
    await memory.close();
  });

  it("keeps the cache on an unrelated write", async () => {
    const { memory } = await seeded();
    await memory.recall("Which plan am I on?", { scope: alice });
    await memory.ingest({ content: "I love hiking.", scope: alice });
    await memory.ingest({ content: "We upgraded to the Enterprise plan.", scope: bob });
    expect((await memory.recall("Which plan am I on?", { scope: alice })).tier).toBe(1);
    await memory.close();
  });

  it("never serves another user's cached answer", async () => {
    const { memory } = await seeded();
    await memory.config.cache({ similarity: 0.5 });
    const a = await memory.recall("Which plan am I on?", { scope: alice });
    const b = await memory.recall("Which plan am I on?", { scope: bob });
    expect(b.tier).toBe(3);
    expect(b.answer).toContain("Starter");
    expect(b.answer).not.toBe(a.answer);
    // A wider or narrower scope is another cache key too.
    expect((await memory.recall("Which plan am I on?", { scope: { ...alice, org: "acme" } })).tier).toBe(3);
    await memory.close();
  });

  it("goes back to tier 3 after cache.flush()", async () => {
    const { memory } = await seeded();
    await memory.recall("Which plan am I on?", { scope: alice });
    expect(await memory.cache.flush()).toEqual({ evicted: 1 });
    expect((await memory.recall("Which plan am I on?", { scope: alice })).tier).toBe(3);
    await memory.close();
  });

  it("invalidates a cached answer whose fact becomes disputed", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    await memory.recall("Where do I live?", { scope: alice });
    // A hedged other city disputes the fact ("might move to Berlin" would be a plan, and dispute nothing).
    await memory.ingest({ content: "I think I live in Porto now.", scope: alice });
    const after = await memory.recall("Where do I live?", { scope: alice });
    expect(after.tier).toBe(3);
    expect(after.records.map((r) => r.status)).toContain("flagged");
    await memory.close();
  });

  it("looks up fact:<id> directly, within scope only", async () => {
    const { memory } = await seeded();
    const id = (await memory.state.list({ scope: alice })).records[0]!.id;
    const hit = await memory.recall(`fact:${id}`, { scope: alice });
    expect(hit.tier).toBe(1);
    expect(hit.records.map((r) => r.id)).toEqual([id]);
    const miss = await memory.recall(`fact:${id}`, { scope: bob });
    expect(miss.records).toEqual([]);
    await memory.close();
  });

  it("sees org-level facts from a user scope, never the other way round", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I work at Acme.", scope: { org: "acme" } });
    await memory.ingest({ content: "I live in Lisbon.", scope: { org: "acme", user: "alice" } });
    const asAlice = await memory.query("work acme", { scope: { org: "acme", user: "alice" } });
    expect(asAlice.map((r) => r.value)).toContain("Acme");
    const asOrg = await memory.query("live lisbon", { scope: { org: "acme" } });
    expect(asOrg.map((r) => r.value)).not.toContain("Lisbon");
    expect((await memory.query("live lisbon", { scope: { org: "other", user: "alice" } })).length).toBe(0);
    await memory.close();
  });

  it("reinforces returned records ×1.1, capped at 1.0", async () => {
    const { memory } = makeMemory();
    const out = await memory.ingest({ content: "I'm tired today after the long flight.", scope: alice });
    const id = out.records[0]!.id;
    expect((await memory.state.get(id)).importance).toBe(0.5);
    await memory.query("tired flight", { scope: alice });
    expect((await memory.state.get(id)).importance).toBeCloseTo(0.55, 10);
    for (let i = 0; i < 10; i++) await memory.query("tired flight", { scope: alice });
    expect((await memory.state.get(id)).importance).toBe(1);
    await memory.close();
  });

  it("shows each reuse's reinforcement at once and writes it, once per record, when the group commits", async () => {
    const { memory } = makeMemory();
    const out = await memory.ingest({ content: "I'm tired today after the long flight.", scope: alice });
    const id = out.records[0]!.id;
    await memory.recall("Why am I tired?", { scope: alice }); // tier 3: 0.5 × 1.1
    const seen: number[] = [];
    // Back to back (no turn of the event loop in between): one open group.
    for (let i = 0; i < 3; i++) seen.push((await memory.recall("Why am I tired?", { scope: alice })).records.find((r) => r.id === id)!.importance);
    const expected = [2, 3, 4].map((n) => 0.5 * 1.1 ** n);
    seen.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 12));
    expect((await memory.state.get(id)).importance).toBe(seen[2]); // state.get commits the group first
    await memory.close();
  });

  it("writes retrieval and response traces joined by edges", async () => {
    const { memory } = await seeded();
    const r = await memory.recall("Which plan am I on?", { scope: alice, session: "chat-9" });
    const response = await memory.traces.get(r.traceId);
    expect(response.payload).toMatchObject({ message: "Which plan am I on?", tier: 3, cached: false, model_calls: 2 });
    if (response.kind !== "response_trace") throw new Error(`expected a response_trace, got ${response.kind}`);
    expect(typeof response.payload.prompt).toBe("string");
    expect(response.edges).toContainEqual({ kind: "parent_session", direction: "out", node: { type: "session", id: "chat-9" } });
    const used = response.edges.find((e) => e.kind === "used_retrieval")!;
    const retrieval = await memory.traces.get(used.node.id);
    expect(retrieval.kind).toBe("retrieval_trace");
    const payload = retrieval.payload as { candidates: Record<string, unknown[]>; fused: unknown[]; returned: string[] };
    expect(Object.keys(payload.candidates).sort()).toEqual(["fts", "graph", "vector"]);
    expect(payload.returned).toEqual(r.records.map((x) => x.id));
    const returnedEdges = retrieval.edges.filter((e) => e.kind === "returned").map((e) => e.node.id);
    expect(returnedEdges).toEqual(payload.returned);
    expect(retrieval.edges.some((e) => e.kind === "considered")).toBe(false); // every candidate was returned
    await memory.close();
  });

  it("links the runners-up as considered, as many as were returned; the payload keeps every candidate", async () => {
    const { memory } = await seeded();
    await memory.ingest({ content: "I work at Globex. I love hiking.", scope: alice });
    const r = await memory.recall("Which plan am I on, and where do I live?", { scope: alice, limit: 1 });
    const response = await memory.traces.get(r.traceId);
    const retrieval = await memory.traces.get(response.edges.find((e) => e.kind === "used_retrieval")!.node.id);
    const fused = (retrieval.payload as { fused: { id: string }[] }).fused.map((c) => c.id);
    expect(fused.length).toBeGreaterThan(2);
    expect(retrieval.edges.filter((e) => e.kind === "returned").map((e) => e.node.id)).toEqual([fused[0]]);
    expect(retrieval.edges.filter((e) => e.kind === "considered").map((e) => e.node.id)).toEqual([fused[1]]);
    await memory.close();
  });
});

describe("query: ranked reads without a response model", () => {
  it("leaves a retrieval_trace whose returned edges are the records it gave back", async () => {
    const { memory } = await seeded();
    const hits = await memory.query("Which plan am I on?", { scope: alice, limit: 5 });
    expect(hits.length).toBeGreaterThan(0);
    const { traces } = await memory.traces.list({ kind: "retrieval_trace" });
    expect(traces).toHaveLength(1);
    const trace = await memory.traces.get(traces[0]!.id);
    expect(trace.scope).toEqual(alice);
    expect(trace.edges.filter((e) => e.kind === "returned").map((e) => e.node.id)).toEqual(hits.map((h) => h.id));
    await memory.close();
  });
});

describe("recall: group commit of the writes of reads", () => {
  /** A file-backed store with one cached answer, and a second connection, which sees committed rows only. */
  async function cachedOnFile() {
    const t = tempDir();
    const { memory } = makeMemory({ path: t.path });
    await memory.ingest({ content: "I'm on the Pro plan.", scope: alice });
    await memory.recall("Which plan am I on?", { scope: alice });
    const reader = new Database(t.path, { readonly: true });
    const count = (query: string) => (reader.prepare(query).get() as { n: number }).n;
    const responseTraces = () => count("SELECT COUNT(*) AS n FROM traces WHERE kind = 'response_trace'");
    const done = () => (reader.close(), t.cleanup());
    return { memory, count, responseTraces, done };
  }

  it("commits tier-1 traces on the next turn of the event loop, every 128 in a tight loop, and on close", async () => {
    const { memory, count, responseTraces, done } = await cachedOnFile();
    try {
      expect(responseTraces()).toBe(1);
      const repeat = await memory.recall("Which plan am I on?", { scope: alice });
      expect(repeat.tier).toBe(1);
      // This connection reads its own write at once; another sees it once the group commits.
      expect((await memory.traces.get(repeat.traceId)).kind).toBe("response_trace");
      await new Promise((resolve) => setImmediate(resolve));
      expect(responseTraces()).toBe(2);

      // Awaiting resolved promises never yields to the event loop: the group commits at its size limit.
      for (let i = 0; i < 200; i++) await memory.recall("Which plan am I on?", { scope: alice });
      expect(responseTraces()).toBe(2 + 128);
      await memory.close();
      expect(responseTraces()).toBe(202);
      expect(count("SELECT COUNT(*) AS n FROM records WHERE last_accessed_at IS NOT NULL")).toBe(1);
    } finally {
      done();
    }
  });

  it("writes a query's retrieval trace after it returns: before any other call, every 128 in a tight loop, and on close", async () => {
    const { memory, count, done } = await cachedOnFile();
    try {
      const retrievals = () => count("SELECT COUNT(*) AS n FROM traces WHERE kind = 'retrieval_trace'");
      expect(retrievals()).toBe(1);
      const found = await memory.query("Which plan am I on?", { scope: alice });
      expect(found[0]!.text).toMatch(/Pro plan/);
      // Nothing is written yet, not even uncommitted: the query returned first.
      expect(coreOf(memory).sqlite!.db.inTransaction).toBe(false);
      // Any other call writes it first, so that what it reads includes every read made before.
      const listed = await memory.traces.list({ kind: "retrieval_trace" });
      expect(listed.traces.map((t) => (t.payload as { query: string }).query)).toContain("Which plan am I on?");
      expect(listed.traces).toHaveLength(2);
      await new Promise((resolve) => setImmediate(resolve));
      expect(retrievals()).toBe(2);

      // Awaiting resolved promises never yields to the event loop: the waiting traces are written at the limit.
      for (let i = 0; i < 200; i++) await memory.query("Which plan am I on?", { scope: alice });
      expect(retrievals()).toBe(2 + 128);
      await memory.close();
      expect(retrievals()).toBe(202);
    } finally {
      done();
    }
  });

  it("commits an open group before any other call writes", async () => {
    const { memory, count, responseTraces, done } = await cachedOnFile();
    try {
      await memory.recall("Which plan am I on?", { scope: alice });
      const ingesting = memory.ingest({ content: "I live in Lisbon.", scope: alice });
      // The turn is committed before ingest's first await, and the reuse trace before it.
      expect([responseTraces(), count("SELECT COUNT(*) AS n FROM turns")]).toEqual([2, 2]);
      await ingesting;
      await memory.close();
    } finally {
      done();
    }
  });

  it("never leaves another instance on the same file waiting on its group's write lock", async () => {
    const { path, cleanup } = tempDir();
    try {
      const a = new Spectron({ context: "a", path, providers: {}, schedule: { decay: false, expire: false, retry: false } });
      const b = new Spectron({ context: "b", path, providers: {}, schedule: { decay: false, expire: false, retry: false } });
      for (const m of [a, b]) {
        await m.ingest({ content: "I'm on the Pro plan.", scope: alice });
        await m.recall("Which plan am I on?", { scope: alice });
      }
      // a's group is open (tier 1, same tick); b writes at once rather than waiting out busy_timeout (5 s).
      expect((await a.recall("Which plan am I on?", { scope: alice })).tier).toBe(1);
      expect((await b.recall("Which plan am I on?", { scope: alice })).tier).toBe(1);
      expect((await a.recall("Which plan am I on?", { scope: alice })).tier).toBe(1);
      expect((await b.ingest({ content: "I live in Lisbon.", scope: alice })).records).toHaveLength(1);
      await a.close();
      await b.close();
    } finally {
      cleanup();
    }
  });
});
