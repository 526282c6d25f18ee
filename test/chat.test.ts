import { describe, expect, it } from "vitest";
import { AccessDeniedError, ProviderError, SpectronValidationError } from "../src/index.js";
import { startFakeProvider, type FakeRequestInfo } from "./fakes/fake-provider.js";
import { alice, bob, makeMemory } from "./helpers.js";

/** A model that cites the first record it was shown three times, plus ids it was never shown. */
function citesBadly(r: FakeRequestInfo): unknown {
  const shown = [...JSON.stringify(r.body).matchAll(/\[(rec_\d+)\]/g)].map((m) => m[1]!);
  const used = [shown[0], "rec_999", shown[0], "chk_1", "trc_1", "not-an-id", shown[0]].filter(Boolean);
  if (r.promptName === "response") return { answer: "You live in Lisbon.", used };
  if (r.promptName === "synthesis") return { answer: "Alice lives in Lisbon.", used, insights: [] };
  return {};
}

describe("chat()", () => {
  it("answers from what memory held before the message, then ingests both turns", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    await memory.ingest({ content: "I live in Berlin.", scope: bob });
    const out = await memory.chat("Where do I live?", { scope: alice, session: "s-1" });
    expect(out.answer).toContain("Lisbon");
    expect(out.answer).not.toContain("Berlin");
    expect(out.records.map((r) => r.value)).toContain("Lisbon");
    // Both turns are stored, in order, in the caller's scope and session.
    const turns = await memory.turns.list({ scope: alice });
    const contents = turns.map((t) => [t.role, t.content]);
    expect(contents).toContainEqual(["user", "Where do I live?"]);
    expect(contents).toContainEqual(["assistant", out.answer]);
    expect(out.turns.user.turnId).not.toBe(out.turns.assistant.turnId);
    await memory.close();
  });

  it("leaves one response_trace with used_retrieval, produced_decision and wrote edges", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    const out = await memory.chat("I adopted a cat named Luna.", { scope: alice, session: "s-2" });
    expect(out.turns.user.records.length).toBeGreaterThan(0);
    const trace = await memory.traces.get(out.traceId);
    expect(trace.kind).toBe("response_trace");
    expect(trace.session).toBe("s-2");
    expect(trace.payload).toMatchObject({ kind: "chat", message: "I adopted a cat named Luna.", answer: out.answer });
    const out_ = trace.edges.filter((e) => e.direction === "out");
    const used = out_.filter((e) => e.kind === "used_retrieval");
    expect(used).toHaveLength(1);
    expect((await memory.traces.get(used[0]!.node.id)).kind).toBe("retrieval_trace");
    const decisions = out_.filter((e) => e.kind === "produced_decision").map((e) => e.node.id).sort();
    expect(decisions).toEqual([out.turns.user.traceId, out.turns.assistant.traceId].sort());
    for (const id of decisions) expect((await memory.traces.get(id)).kind).toBe("decision_trace");
    const wrote = out_.filter((e) => e.kind === "wrote").map((e) => e.node.id).sort();
    const written = [...out.turns.user.records, ...out.turns.assistant.records].map((r) => r.id).sort();
    expect(wrote).toEqual(written);
    expect(out_).toContainEqual({ kind: "parent_session", direction: "out", node: { type: "session", id: "s-2" } });
    // Exactly one response trace for the chat call.
    const responses = (await memory.traces.list({ kind: "response_trace", session: "s-2" })).traces;
    expect(responses.map((t) => t.id)).toEqual([out.traceId]);
    // The fact said in the chat is memory now.
    const later = await memory.recall("What is my cat called?", { scope: alice });
    expect(later.answer).toContain("Luna");
    await memory.close();
  });

  it("validates its input and needs read and write on the scope, changing nothing when refused", async () => {
    const { memory } = makeMemory();
    await expect(memory.chat("", { scope: alice })).rejects.toBeInstanceOf(SpectronValidationError);
    await expect(memory.chat("hi", { scope: alice, limit: 0 })).rejects.toThrow(/Invalid `options.limit`/);
    await expect(memory.chat("hi", { scope: alice, bogus: 1 } as never)).rejects.toBeInstanceOf(SpectronValidationError);
    const reader = { id: "reader", grants: [{ scope: alice, permissions: ["read" as const] }] };
    await expect(memory.chat("I like tea.", { scope: alice, principal: reader })).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(memory.as(reader).chat("I like tea.", { scope: alice })).rejects.toBeInstanceOf(AccessDeniedError);
    expect(await memory.turns.list()).toEqual([]);
    expect((await memory.traces.list()).traces).toEqual([]);
    const writer = { id: "alice", grants: [{ scope: alice, permissions: ["read" as const, "write" as const] }] };
    const out = await memory.as(writer).chat("I like tea.", { scope: alice });
    expect((await memory.traces.get(out.traceId)).principal).toBe("alice");
    await memory.close();
  });

  it("keeps the user turn pending and throws when its extraction fails; the response trace stays, with what was written", async () => {
    const server = await startFakeProvider([{ status: 400 }]);
    try {
      const { memory } = makeMemory({
        providers: { openai: { apiKey: "sk-test", baseURL: server.openaiURL } },
        models: { extraction: "gpt-4o-mini", query_understanding: "local:rules", response: "local:rules", embedding: "local:hash-384" },
        provider: { maxRetries: 0 },
      });
      const err = await memory.chat("I adopted a cat named Luna.", { scope: alice, session: "s-f" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((await memory.turns.list({ status: "pending" })).map((t) => [t.role, t.content])).toEqual([["user", "I adopted a cat named Luna."]]);
      const [trace] = (await memory.traces.list({ kind: "response_trace", session: "s-f" })).traces;
      const full = await memory.traces.get(trace!.id);
      const kinds = full.edges.filter((e) => e.direction === "out").map((e) => e.kind);
      expect(kinds).toContain("used_retrieval");
      expect(kinds).not.toContain("produced_decision");
      await memory.close();
    } finally {
      await server.close();
    }
  });

  it("keeps the ids the answering model cites to those it was shown, each once (chat and reflect, as recall)", async () => {
    const server = await startFakeProvider({ respond: citesBadly, keyless: true });
    try {
      const { memory } = makeMemory({
        providers: { openai: { apiKey: "sk-test", baseURL: server.openaiURL } },
        models: { extraction: "local:rules", query_understanding: "local:rules", response: "gpt-4o-mini", reflection: "gpt-4o-mini", embedding: "local:hash-384" },
        provider: { maxRetries: 0 },
      });
      const [lisbon] = (await memory.ingest({ content: "I live in Lisbon.", scope: alice })).records;
      const chatted = await memory.chat("Where do I live?", { scope: alice });
      expect(chatted.used).toEqual([lisbon!.id]);
      expect((await memory.traces.get(chatted.traceId)).payload).toMatchObject({ used: [lisbon!.id] });
      const reflected = await memory.reflect("Where does alice live?", { scope: alice });
      const trace = await memory.traces.get(reflected.traceId);
      expect(trace.payload).toMatchObject({ used: [lisbon!.id] });
      expect(trace.edges.filter((e) => e.kind === "used" && e.direction === "out").map((e) => e.node.id)).toEqual([lisbon!.id]);
      const recalled = await memory.recall("Where do I live?", { scope: alice });
      expect((await memory.traces.get(recalled.traceId)).payload).toMatchObject({ used: [lisbon!.id] });
      await memory.close();
    } finally {
      await server.close();
    }
  });
});
