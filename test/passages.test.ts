import { describe, expect, it } from "vitest";
import type { SearchResult } from "../src/index.js";
import { DAY, alice, bob, makeMemory, tempDir } from "./helpers.js";
import { Spectron } from "../src/index.js";
import { scorePassages } from "../src/pipeline/recall/passages.js";

const texts = (results: SearchResult[]) => results.map((r) => (r.kind === "record" ? r.record.text : r.passage.text));

describe("passages beside facts", () => {
  it("finds what extraction missed: a fact stated inside a question", async () => {
    const { memory } = makeMemory();
    const asked = await memory.ingest({ content: "Is the old blue kettle from the flea market worth repairing?", scope: alice });
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    expect(asked.records).toHaveLength(0); // the rule-based extractor writes nothing for this question
    const results = await memory.search("Where did I get the kettle?", { scope: alice });
    expect(results[0]).toMatchObject({ kind: "passage", passage: { id: asked.turnId, text: expect.stringContaining("flea market") } });
    // Only the caller's scopes: bob cannot reach alice's turn.
    expect(texts(await memory.search("blue kettle", { scope: bob }))).toEqual([]);
    await memory.close();
  });

  it("scores an answer whose topic only the turn before it names (the neighbouring turns as context)", () => {
    const turns = [
      { id: 1, content: "I finally repainted the garden shed last weekend.", speaker: "Bob" },
      { id: 2, content: "Where did you spend your honeymoon?", speaker: "Ana" },
      { id: 3, content: "We went to Lisbon, it was lovely.", speaker: "Bob" },
      { id: 4, content: "My sister started a pottery class on Mondays.", speaker: "Ana" },
      { id: 5, content: "The pottery class sounds fun.", speaker: "Bob" },
    ];
    const ranked = scorePassages({}, turns, ["honeymoon"], 10);
    // The question names it; its neighbours (the answer after it, the turn before) are found through it, below it.
    expect(ranked.map((r) => r.id)).toEqual([2, 3, 1]);
    expect(ranked[1]!.score).toBeLessThan(ranked[0]!.score);
  });

  it("returns a record with the turn it came from, one result per turn", async () => {
    const { memory } = makeMemory();
    const turn = await memory.ingest({ content: "I moved to Porto last year and I work as a nurse.", scope: alice });
    expect(turn.records.length).toBeGreaterThan(0);
    const results = await memory.search("Where did I move?", { scope: alice });
    expect(results).toHaveLength(1);
    const hit = results[0]!;
    expect(hit.kind).toBe("record");
    if (hit.kind !== "record") return;
    expect(hit.record.source.id).toBe(turn.turnId);
    expect(hit.passage).toMatchObject({ id: turn.turnId, text: "I moved to Porto last year and I work as a nurse.", scope: alice });
    // query returns records only, ranked with the same evidence.
    expect((await memory.query("Where did I move?", { scope: alice })).map((r) => r.source.id)).toContain(turn.turnId);
    await memory.close();
  });

  it("a passage is gone once every fact extracted from its turn is forgotten", async () => {
    const { memory } = makeMemory();
    const turn = await memory.ingest({ content: "My sister Anna lives in Berlin.", scope: alice });
    expect(turn.records.length).toBeGreaterThan(0);
    expect(texts(await memory.search("Berlin", { scope: alice }))).toHaveLength(1);
    for (const r of turn.records) await memory.state.forget(r.id);
    expect(await memory.search("Berlin", { scope: alice })).toEqual([]);
    expect(await memory.search("sister Anna", { scope: alice })).toEqual([]);
    await memory.close();
  });

  it("a passage expires with the longest-lived fact of its turn", async () => {
    const { memory, clock } = makeMemory();
    await memory.config.retention([{ scope: {}, memory_category: "context", ttl: "2d" }]);
    const turn = await memory.ingest({ content: "I am in Tokyo for the conference this week.", scope: alice });
    expect(turn.records.length).toBeGreaterThan(0);
    const longest = Math.max(...turn.records.map((r) => (r.expires_at ? Date.parse(r.expires_at) : Infinity)));
    expect(Number.isFinite(longest)).toBe(true); // context facts: they expire
    clock.set(longest - 1);
    expect((await memory.search("Tokyo conference", { scope: alice })).length).toBe(1);
    clock.set(longest);
    expect(await memory.search("Tokyo conference", { scope: alice })).toEqual([]);
    // The expiry sweep changes nothing about that.
    await memory.lifecycle.expire();
    expect(await memory.search("Tokyo conference", { scope: alice })).toEqual([]);
    await memory.close();
  });

  it("a turn that yielded no fact is a passage for the context TTL of its scope", async () => {
    const { memory, clock } = makeMemory();
    await memory.config.retention([{ scope: alice, memory_category: "context", ttl: "3d" }]);
    const asked = await memory.ingest({ content: "Could the squeaky hinge on the garden gate be fixed with olive oil?", scope: alice });
    expect(asked.records).toHaveLength(0);
    clock.advance(3 * DAY - 1);
    expect(texts(await memory.search("garden gate hinge", { scope: alice }))).toEqual(["Could the squeaky hinge on the garden gate be fixed with olive oil?"]);
    clock.advance(1);
    expect(await memory.search("garden gate hinge", { scope: alice })).toEqual([]);
    await memory.close();
  });

  it("passages survive a reopen of a file, with their lifetime", async () => {
    const dir = tempDir();
    try {
      let now = Date.parse("2026-06-01T00:00:00Z");
      const open = () => new Spectron({ context: "t", path: dir.path, clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
      const a = open();
      await a.ingest({ content: "Is there a quiet cafe near the harbour with good wifi?", scope: alice });
      await a.close();
      const b = open();
      expect(texts(await b.search("harbour cafe", { scope: alice }))).toHaveLength(1);
      now += 8 * DAY; // past the default 7-day context TTL
      expect(await b.search("harbour cafe", { scope: alice })).toEqual([]);
      await b.close();
    } finally {
      dir.cleanup();
    }
  });

  it("fusion keeps what the full-text channel alone finds", async () => {
    const { memory } = makeMemory();
    const filler = [
      "I enjoy hiking in the mountains on weekends.",
      "My favourite food is ramen with extra egg.",
      "I started learning the violin in March.",
      "We adopted a puppy named Biscuit last spring.",
      "My brother works as an architect in Madrid.",
      "I usually drink green tea in the morning.",
      "The marathon training plan has five runs a week.",
      "Our team shipped the new billing dashboard.",
    ];
    for (const content of filler) await memory.ingest({ content, scope: alice });
    const target = await memory.ingest({ content: "I painted a sunrise over the lake for my grandmother.", scope: alice });
    const results = await memory.search("Which painting did I make for grandmother?", { scope: alice, limit: 3 });
    const turnOf = (r: SearchResult) => (r.kind === "record" ? r.record.source.id : r.passage.id);
    expect(results.map(turnOf)[0]).toBe(target.turnId);
    await memory.close();
  });
});
