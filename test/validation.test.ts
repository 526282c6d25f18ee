import { describe, expect, it } from "vitest";
import { Spectron, SpectronValidationError } from "../src/index.js";
import { alice } from "./helpers.js";
import { peekStore } from "./store-peek.js";

/** Rows per table and the Context's settings, on whichever engine the instance runs: a rejected call changes none. */
async function snapshot(memory: Spectron) {
  const peek = await peekStore(memory);
  try {
    return { counts: await peek.counts(), config: await peek.all("SELECT models, retention, cache FROM contexts") };
  } finally {
    await peek.close();
  }
}

describe("bad input is rejected with SpectronValidationError and writes nothing", () => {
  const cases: [string, (m: Spectron) => Promise<unknown>, RegExp][] = [
    ["ingest: empty content", (m) => m.ingest({ content: "   ", scope: alice }), /input\.content/],
    ["ingest: bad role", (m) => m.ingest({ role: "robot" as never, content: "hi there", scope: alice }), /input\.role/],
    ["ingest: scope value not a string", (m) => m.ingest({ content: "I live in Porto", scope: { user: 7 as never } }), /input\.scope\.user/],
    ["ingest: unknown key", (m) => m.ingest({ content: "I live in Porto", scope: alice, colour: "red" } as never), /colour/],
    ["ingest: bad occurred_at", (m) => m.ingest({ content: "I live in Porto", scope: alice, occurred_at: "yesterday" }), /occurred_at/],
    ["ingest: not an object", (m) => m.ingest("I live in Porto" as never), /input/],
    ["recall: empty query", (m) => m.recall("", { scope: alice }), /query/],
    ["recall: limit 0", (m) => m.recall("plan?", { scope: alice, limit: 0 }), /options\.limit/],
    ["recall: too many scope dimensions", (m) => m.recall("plan?", { scope: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`d${i}`, "x"])) }), /options\.scope/],
    ["query: non-string", (m) => m.query(42 as never), /query/],
    ["state.get: wrong id kind", (m) => m.state.get("trc_1"), /record id/],
    ["state.list: bad expires_before", (m) => m.state.list({ expires_before: "soon" }), /expires_before/],
    ["state.list: bad status", (m) => m.state.list({ status: "alive" as never }), /status/],
    ["state.forget: bad id", (m) => m.state.forget("42"), /record id/],
    ["traces.get: bad id", (m) => m.traces.get("rec_1"), /trace id/],
    ["traces.list: bad kind", (m) => m.traces.list({ kind: "log" as never }), /kind/],
    ["turns.list: bad status", (m) => m.turns.list({ status: "lost" as never }), /status/],
    ["config.models: unknown id", (m) => m.config.models({ extraction: "mystery" }), /models\.extraction/],
    ["config.providers: unknown provider", (m) => m.config.providers({ mistral: "k" } as never), /mistral/],
    ["config.providers: bad baseURL", (m) => m.config.providers({ openai: { apiKey: "k", baseURL: "not a url" } }), /baseURL/],
    ["config.retention: bad ttl", (m) => m.config.retention([{ scope: {}, memory_category: "context", ttl: "forever" }]), /ttl/],
    ["config.cache: similarity > 1", (m) => m.config.cache({ similarity: 2 }), /similarity/],
    ["lifecycle.expire: bad ctx", (m) => m.lifecycle.expire({ principal: { id: "" } } as never), /principal/],
    ["cache.flush: bad ctx", (m) => m.cache.flush({ session: 5 } as never), /session/],
    ["reflect: empty question", (m) => m.reflect(" ", { scope: alice }), /question/],
    ["reflect: bad scope", (m) => m.reflect("what do I like?", { scope: { "bad key": "x" } }), /options\.scope/],
    ["chat: empty message", (m) => m.chat(" ", { scope: alice }), /message/],
    ["chat: bad scope", (m) => m.chat("I like tea.", { scope: { "bad key": "x" } }), /options\.scope/],
    ["chat: unknown option", (m) => m.chat("I like tea.", { scope: alice, stream: true } as never), /stream/],
    ["knowledge.add: empty text", (m) => m.knowledge.add({ title: "Handbook", text: "", scope: alice }), /input\.text/],
    ["knowledge.add: missing title", (m) => m.knowledge.add({ text: "Refunds take 14 days." } as never), /input\.title/],
    ["knowledge.remove: bad id", (m) => m.knowledge.remove("rec_1"), /document id/],
    ["lifecycle.decay: bad ctx", (m) => m.lifecycle.decay({ onBehalfOf: "" } as never), /onBehalfOf/],
    ["config.get: bad ctx", (m) => m.config.get({ principal: "root" } as never), /principal/],
    ["turns.list: bad limit", (m) => m.turns.list({ limit: -1 }), /limit/],
    ["as: no principal", async (m) => m.as(undefined as never), /principal/],
  ];

  it.each(cases)("%s", async (_name, call, field) => {
    const memory = new Spectron({ context: "v", providers: {}, schedule: { decay: false, expire: false, retry: false } });
    await memory.ingest({ content: "I'm on the Pro plan.", scope: alice });
    await memory.recall("which plan am I on?", { scope: alice });
    const before = await snapshot(memory);
    const error = await call(memory).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SpectronValidationError);
    expect((error as Error).message).toMatch(field);
    expect((error as Error).message).toMatch(/expected/);
    expect(await snapshot(memory)).toEqual(before);
    await memory.close();
  });
});
