import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { Spectron } from "../src/index.js";
import { alice, bob, manualClock, tempDir } from "./helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("identical concurrent recalls", () => {
  it("share one in-flight answer: one tier-3 model call and one cache entry for 100 callers", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const memory = new Spectron({ context: "burst", path: t.path, clock: manualClock().now, providers: {}, schedule: false });
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    await memory.ingest({ content: "I live in Berlin.", scope: bob });
    const before = memory.usage().response?.calls ?? 0;
    const results = await Promise.all(Array.from({ length: 100 }, () => memory.recall("Where do I live?", { scope: alice })));
    expect((memory.usage().response?.calls ?? 0) - before).toBe(1);
    expect(results.filter((r) => r.tier === 3)).toHaveLength(1);
    expect(new Set(results.map((r) => r.answer)).size).toBe(1);
    expect(results[0]!.answer).toContain("Lisbon");
    // The followers answered at tier 1 from the leader's entry, each with a trace of its own.
    expect(new Set(results.map((r) => r.traceId)).size).toBe(100);
    // A different scope in the same burst is not served alice's answer.
    const [a, b] = await Promise.all([memory.recall("Where do I live?", { scope: alice, limit: 5 }), memory.recall("Where do I live?", { scope: bob })]);
    expect(a.answer).toContain("Lisbon");
    expect(b.answer).toContain("Berlin");
    await memory.close();
    const db = new Database(t.path, { readonly: true });
    const entries = (db.prepare("SELECT COUNT(*) AS n FROM cache_entries WHERE scope_key = ?").get(JSON.stringify(alice)) as { n: number }).n;
    db.close();
    // The burst's one entry (the limit-5 call after it reused it at tier 1).
    expect(entries).toBe(1);
  });

  it("an answer that cites nothing (not cached) is shared with the callers that waited for it", async () => {
    const memory = new Spectron({ context: "burst", clock: manualClock().now, providers: {}, schedule: false });
    const results = await Promise.all(Array.from({ length: 20 }, () => memory.recall("What is my favourite colour?", { scope: alice })));
    expect(memory.usage().response?.calls ?? 0).toBe(1);
    expect(new Set(results.map((r) => r.traceId)).size).toBe(1);
    await memory.close();
  });
});
