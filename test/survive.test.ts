import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alice, DAY, makeMemory, settle, tempDir, T0 } from "./helpers.js";
import { Spectron } from "../src/index.js";

const edgesOf = (trace: { edges: { direction: string; kind: string; node: { type: string; id: string } }[] }, kind: string) =>
  trace.edges.filter((e) => e.kind === kind && e.direction === "out");

describe("importance governs survival", () => {
  it("a context fact used in answers outlives one never used", async () => {
    const { memory, clock } = makeMemory();
    const used = (await memory.ingest({ content: "I'm reading a novel about lighthouse keepers this week.", scope: alice })).records[0]!;
    const unused = (await memory.ingest({ content: "I'm tired today after the long flight.", scope: alice })).records[0]!;
    expect([used.memory_category, unused.memory_category]).toEqual(["context", "context"]);
    expect(used.expires_at).toBe(unused.expires_at);
    // Asked about, day after day: each answer uses the fact, and each use gives it a full TTL from then.
    for (let day = 0; day < 6; day++) {
      clock.advance(DAY);
      const r = await memory.recall(`What novel am I reading about lighthouse keepers? (day ${day})`, { scope: alice });
      expect(r.answer).toContain("lighthouse");
    }
    clock.advance(2 * DAY); // 8 days after both were written: past the 7-day TTL of the one never used
    const sweep = await memory.lifecycle.expire();
    expect(sweep.changed).toBe(1);
    expect((await memory.state.get(unused.id)).status).toBe("expired");
    const kept = await memory.state.get(used.id);
    expect(kept.status).toBe("current");
    expect(Date.parse(kept.expires_at!)).toBe(T0 + 6 * DAY + 7 * DAY);
    expect(kept.importance).toBeGreaterThan(0.5);
    await memory.close();
  });

  it("a record shown to the response stage but not used is neither reinforced nor kept alive", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    const sister = (await memory.ingest({ content: "My sister Anna lives in Berlin.", scope: alice })).records[0]!;
    const r = await memory.recall("Where do I live?", { scope: alice });
    expect(r.answer).toBe("You live in Lisbon.");
    const shown = r.records.find((x) => x.id === sister.id);
    expect(shown?.importance).toBe(sister.importance);
    expect((await memory.state.get(sister.id)).importance).toBe(sister.importance);
    await memory.close();
  });

  it("importance decayed below the floor expires a fact at the next sweep; identity never", async () => {
    const { memory, clock } = makeMemory();
    const doc = await memory.knowledge.add({ title: "Refunds", text: "Refunds are processed within 14 days of a request.", scope: alice });
    const knowledge = doc.records[0]!;
    const identity = (await memory.ingest({ content: "I live in Lisbon.", scope: alice })).records[0]!;
    expect([knowledge.memory_category, identity.memory_category]).toEqual(["knowledge", "identity"]);
    // 0.8 × 0.995^n < 0.05 from n = 554 days: no TTL, only importance ends it.
    clock.advance(550 * DAY);
    await memory.lifecycle.decay();
    expect((await memory.lifecycle.expire()).changed).toBe(0);
    clock.advance(5 * DAY);
    await memory.lifecycle.decay();
    const sweep = await memory.lifecycle.expire();
    expect(sweep.changed).toBe(1);
    const gone = await memory.state.get(knowledge.id);
    expect(gone.status).toBe("expired");
    expect(gone.history.at(-1)).toMatchObject({ event: "expired", detail: "importance below floor" });
    expect((await memory.traces.get(sweep.traceId)).payload).toMatchObject({ sweep: "expire", below_floor: 1 });
    expect((await memory.state.get(identity.id)).status).toBe("current");
    await memory.close();
  });
});

/** Every file of the store (database, WAL, ANN sidecars) as one buffer. */
function storeBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

describe("erasure", () => {
  it("forget erases the text from the SQLite file: record, turn, full-text index, cached answer, traces", async () => {
    const dir = tempDir();
    try {
      let now = T0;
      const open = () => new Spectron({ context: "t", path: dir.path, clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
      const memory = open();
      const said = "My cat is named Zorblaxian Quintessa.";
      const turn = await memory.ingest({ content: said, scope: alice });
      const fact = turn.records.find((r) => r.text.includes("Zorblaxian"))!;
      expect(fact).toBeDefined();
      await memory.ingest({ content: "I live in Lisbon.", scope: alice });
      const answer = await memory.recall("What is my cat named?", { scope: alice });
      expect(answer.answer).toContain("Zorblaxian");
      now += 1000;
      await memory.close();
      // Before: the words are in the file (as stored, in the FTS index, in the cached answer and traces).
      expect(storeBytes(dir.dir).includes("Zorblaxian")).toBe(true);

      const again = open();
      await again.state.forget(fact.id);
      const tomb = await again.state.get(fact.id);
      expect(tomb).toMatchObject({ status: "forgotten", text: "", value: null, subject: null, attribute: null, kind: fact.kind, memory_category: fact.memory_category, scope: alice });
      expect(tomb.erased_at).not.toBeNull();
      expect(tomb.history.map((h) => h.event)).toEqual(["created", "forgotten"]);
      const recalled = await again.recall("What is my cat named?", { scope: alice });
      expect(recalled.tier).toBe(3);
      expect(recalled.answer).not.toContain("Zorblaxian");
      expect(JSON.stringify(await again.search("my cat is named", { scope: alice }))).not.toMatch(/zorblaxian|quintessa/i);
      const traces = await again.traces.list({ limit: 100 });
      expect(JSON.stringify(traces).includes("Zorblaxian")).toBe(false);
      // close() checkpoints the WAL into the database file and removes it; PRAGMA secure_delete zeroes freed
      // pages and FTS5's secure-delete drops the terms from the index: no VACUUM needed.
      await again.close();
      const bytes = storeBytes(dir.dir);
      expect(bytes.includes(fact.text)).toBe(false);
      expect(bytes.includes(said)).toBe(false);
      // The other fact of that turn ("User has a cat.") still names the cat in the entity graph; forgetting it
      // too leaves nothing of the name.
      const third = open();
      for (const other of turn.records.filter((r) => r.id !== fact.id)) await third.state.forget(other.id);
      await third.close();
      const after = storeBytes(dir.dir);
      expect(after.includes("Zorblaxian")).toBe(false);
      expect(after.includes("zorblaxian")).toBe(false);
      expect(after.includes("Quintessa")).toBe(false);
      // What was not forgotten is still there.
      expect(after.includes("Lisbon")).toBe(true);
    } finally {
      dir.cleanup();
    }
  });

  it("expiry erases: tombstone, no text, and state.get says so", async () => {
    const { memory, clock } = makeMemory();
    const fact = (await memory.ingest({ content: "I'm tired today after the long flight.", scope: alice })).records[0]!;
    clock.advance(8 * DAY);
    await memory.lifecycle.expire();
    const tomb = await memory.state.get(fact.id);
    expect(tomb).toMatchObject({ status: "expired", text: "", value: null, id: fact.id, kind: fact.kind, created_at: fact.created_at });
    expect(tomb.erased_at).not.toBeNull();
    // Its turn's passage died with it: the turn's words go too. A turn with no fact goes after its own TTL.
    const turns = await memory.turns.list({ scope: alice });
    expect(turns.map((t) => t.content)).toEqual([""]);
    await memory.ingest({ content: "Could the squeaky hinge on the garden gate be fixed with olive oil?", scope: alice });
    clock.advance(8 * DAY);
    await memory.lifecycle.expire();
    expect((await memory.turns.list({ scope: alice })).map((t) => t.content)).toEqual(["", ""]);
    await memory.close();
  });
});

describe("the response stage's used set", () => {
  it("cache dependencies are what the answer used: a change to a record it did not use keeps the answer", async () => {
    const { memory } = makeMemory();
    const home = (await memory.ingest({ content: "I live in Lisbon.", scope: alice })).records[0]!;
    const sister = (await memory.ingest({ content: "My sister Anna lives in Berlin.", scope: alice })).records[0]!;
    const first = await memory.recall("Where do I live?", { scope: alice });
    expect(first).toMatchObject({ tier: 3, answer: "You live in Lisbon." });
    expect(first.records.map((r) => r.id)).toContain(sister.id); // shown to the response stage…
    const response = await memory.traces.get(first.traceId);
    expect((response.payload as { used?: unknown }).used).toEqual([home.id]); // …but not used
    await memory.state.forget(sister.id);
    expect(await memory.recall("Where do I live?", { scope: alice })).toMatchObject({ tier: 1, answer: "You live in Lisbon." });
    await memory.state.forget(home.id);
    expect((await memory.recall("Where do I live?", { scope: alice })).tier).toBe(3);
    await memory.close();
  });

  it("an answer that used nothing is not cached", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    const first = await memory.recall("What is my favourite opera?", { scope: alice });
    expect(first.answer).toMatch(/don't know/);
    expect(((await memory.traces.get(first.traceId)).payload as { used?: unknown }).used).toEqual([]);
    expect((await memory.recall("What is my favourite opera?", { scope: alice })).tier).toBe(3);
    await memory.close();
  });
});

describe("query-type dispatch", () => {
  it("an instruction question reads the instructions first", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "Always answer me in French.", scope: alice });
    for (const city of ["Lisbon", "Porto", "Braga", "Faro", "Evora", "Coimbra"]) await memory.ingest({ content: `I visited ${city} and answered emails there.`, scope: alice });
    const r = await memory.recall("How should you answer me?", { scope: alice });
    expect(r.records[0]!.kind).toBe("instruction");
    expect(((await memory.traces.get(r.traceId)).payload as { prompt?: unknown }).prompt).toMatch(/Question type: instruction\nRecords:\n- \[rec_\d+\] \(instruction/);
    await memory.close();
  });

  it("a document question reads the documents first", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I asked for a refund of my order last week.", scope: alice });
    await memory.knowledge.add({ title: "Refund policy", text: "Refunds are processed within 14 days of a request.", scope: alice });
    const r = await memory.recall("What does the refund policy say?", { scope: alice });
    const prompt = String(((await memory.traces.get(r.traceId)).payload as { prompt?: unknown }).prompt);
    expect(prompt).toMatch(/Records:\n- \[chk_\d+\]/);
    expect(r.answer).toContain("14 days");
    await memory.close();
  });

  it("a summary question gets an overview of the top facts when there is no consolidated view, and observations first when there is", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    await memory.ingest({ content: "I work at Stripe.", scope: alice });
    const plain = await memory.recall("What do you know about me?", { scope: alice });
    expect(plain.answer).toContain("Lisbon");
    expect(plain.answer).toContain("Stripe");
    const reflected = await memory.reflect("What do I do and where?", { scope: alice });
    const observation = reflected.insights[0]!;
    expect(observation.kind).toBe("observation");
    const summary = await memory.recall("Give me an overview of everything about me", { scope: alice });
    expect(summary.records[0]!.id).toBe(observation.id);
    await memory.close();
  });
});

describe("the trace graph as the spec draws it", () => {
  it("retrieval traces have parent_trace and edges to entities; state.get returns derived_from; a cache hit is { query, tier, cached, similarity, response }", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "My sister Anna lives in Berlin.", scope: alice });
    const first = await memory.recall("Where does Anna live?", { scope: alice });
    const response = await memory.traces.get(first.traceId);
    const retrieval = await memory.traces.get(edgesOf(response, "used_retrieval")[0]!.node.id);
    expect(retrieval.kind).toBe("retrieval_trace");
    expect(edgesOf(retrieval, "parent_trace").map((e) => e.node)).toEqual([{ type: "trace", id: first.traceId }]);
    expect(edgesOf(retrieval, "about").map((e) => e.node.type)).toContain("entity");

    const hit = await memory.recall("Where does Anna live?", { scope: alice });
    await settle();
    expect(hit.tier).toBe(1);
    expect((await memory.traces.get(hit.traceId)).payload).toMatchObject({ query: "Where does Anna live?", tier: 1, cached: true, similarity: 1, response: first.answer });

    const reflected = await memory.reflect("Where does my family live?", { scope: alice });
    expect(reflected.insights.length).toBeGreaterThan(0);
    for (const insight of reflected.insights) {
      const got = await memory.state.get(insight.id);
      expect(got.derived_from.length).toBeGreaterThan(0);
      expect(got.derived_from.every((id) => id.startsWith("rec_"))).toBe(true);
    }
    expect((await memory.state.get(first.records[0]!.id)).derived_from).toEqual([]);
    await memory.close();
  });
});
