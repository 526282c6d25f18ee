import { describe, expect, it } from "vitest";
import { chunkText } from "../src/knowledge/chunk.js";
import { alice, bob, makeMemory } from "./helpers.js";

const HANDBOOK = `Acme Handbook

Refunds are processed within 14 days of a request. Refunds for annual plans are prorated by month.

The Enterprise plan includes single sign-on and a dedicated support engineer. Support hours are 9 to 17 CET on weekdays.

Data is stored in Frankfurt. Backups are kept for 35 days and encrypted at rest.`;

describe("chunking", () => {
  it("packs whole sentences into bounded chunks with overlap and keeps every sentence", () => {
    const sentences = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} says something about topic ${i % 7}.`);
    const text = [sentences.slice(0, 15).join(" "), sentences.slice(15).join(" ")].join("\n\n");
    const chunks = chunkText(text, { maxChars: 300, overlapChars: 80 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(300);
    for (const s of sentences) expect(chunks.some((c) => c.includes(s))).toBe(true);
    // Consecutive chunks overlap by at least one sentence where it fits.
    const overlapping = chunks.slice(1).filter((c, i) => c.split(". ")[0] && chunks[i]!.includes(c.split(". ")[0]!));
    expect(overlapping.length).toBeGreaterThan(0);
    expect(chunkText("word ".repeat(1000), { maxChars: 200 }).every((c) => c.length <= 200)).toBe(true);
  });
});

describe("knowledge", () => {
  it("adds a document: chunks indexed, knowledge records extracted through the reconciler", async () => {
    const { memory } = makeMemory();
    const doc = await memory.knowledge.add({ title: "Acme Handbook", text: HANDBOOK, scope: { org: "acme" } });
    expect(doc.documentId).toMatch(/^doc_\d+$/);
    expect(doc.chunks).toBeGreaterThan(0);
    expect(doc.records.length).toBeGreaterThan(3);
    for (const r of doc.records) {
      expect(r.memory_category).toBe("knowledge");
      expect(r.importance).toBe(0.8);
      expect(r.source).toEqual({ kind: "document", id: doc.documentId, key: `document:${doc.documentId}` });
    }
    const trace = await memory.traces.get(doc.traceId);
    expect(trace.kind).toBe("decision_trace");
    await memory.close();
  });

  it("recall's tier 3 retrieves chunks as well as records, in scope only", async () => {
    const { memory } = makeMemory();
    await memory.knowledge.add({ title: "Acme Handbook", text: HANDBOOK, scope: { org: "acme" } });
    const r = await memory.recall("How long are backups kept?", { scope: { org: "acme", user: "alice" } });
    expect(r.tier).toBe(3);
    expect(r.chunks.some((c) => c.text.includes("35 days"))).toBe(true);
    expect(r.chunks[0]!.title).toBe("Acme Handbook");
    const other = await memory.recall("How long are backups kept?", { scope: { org: "globex" } });
    expect(other.chunks).toEqual([]);
    expect(other.records).toEqual([]);
    await memory.close();
  });

  it("remove() drops the chunks from every index and evicts answers that cited them", async () => {
    const { memory } = makeMemory();
    const doc = await memory.knowledge.add({ title: "Acme Handbook", text: HANDBOOK, scope: alice });
    const before = await memory.recall("How long are backups kept?", { scope: alice });
    expect(before.chunks.length).toBeGreaterThan(0);
    expect((await memory.recall("How long are backups kept?", { scope: alice })).tier).toBe(1);
    expect(await memory.knowledge.remove(doc.documentId)).toEqual({ chunks: doc.chunks });
    const after = await memory.recall("How long are backups kept?", { scope: alice });
    expect(after.chunks).toEqual([]);
    await expect(memory.knowledge.remove(doc.documentId)).rejects.toThrow(/No document/);
    await memory.close();
  });

  it("reindexes to another dimension in the background while recall keeps working, then switches atomically", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    await memory.ingest({ content: "I'm on the Pro plan.", scope: bob });
    await memory.knowledge.add({ title: "Acme Handbook", text: HANDBOOK, scope: alice });
    await memory.recall("Where do I live?", { scope: alice });

    await memory.config.models({ embedding: "local:hash-256" });
    expect((await memory.knowledge.reindexStatus()).status).toBe("idle");
    // Until the reindex completes, retrieval keeps the old (384-d) vectors and answers correctly.
    const during = await memory.recall("Where do I live?", { scope: alice });
    expect(during.answer).toContain("Lisbon");

    const started = await memory.knowledge.reindex();
    expect(started).toMatchObject({ status: "running", model: "local:hash-256" });
    expect(started.total).toBeGreaterThan(0);
    // A write during the reindex is picked up before the switch.
    await memory.ingest({ content: "I work at Globex.", scope: alice });
    expect((await memory.query("Globex", { scope: alice })).map((r) => r.value)).toContain("Globex");
    await memory.idle();
    const done = await memory.knowledge.reindexStatus();
    expect(done).toMatchObject({ status: "complete", model: "local:hash-256" });
    expect(done.done).toBe(done.total);
    expect((await memory.query("Globex work", { scope: alice })).map((r) => r.value)).toContain("Globex");
    const after = await memory.recall("Where do I live now?", { scope: alice });
    expect(after.answer).toContain("Lisbon");
    expect((await memory.recall("How long are backups kept?", { scope: alice })).chunks.length).toBeGreaterThan(0);
    await memory.close();
  });
});
