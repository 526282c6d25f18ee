import { MockEmbeddingModelV3, MockLanguageModelV3 } from "ai/test";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ProviderError, Spectron, SpectronValidationError, type LanguageModel } from "../src/index.js";
import { startFakeProvider, type FakeProvider, type FakeRequestInfo } from "./fakes/fake-provider.js";
import { alice, makeMemory, tempDir } from "./helpers.js";

const fact = (attribute: string, value: string, text: string) => ({
  kind: "attribute",
  memory_category: "identity",
  subject: "user",
  attribute,
  value,
  cardinality: "one",
  text,
  confidence: 0.9,
  entities: [value],
});

function responder(r: FakeRequestInfo): unknown {
  const text = JSON.stringify(r.body);
  switch (r.promptName) {
    case "extraction":
      return text.includes("Lisbon") ? { facts: [fact("location", "Lisbon", "User lives in Lisbon.")] } : { facts: [] };
    case "query_understanding":
      return { type: "fact", subjects: ["user"], attributes: ["location"], keywords: ["live"] };
    case "response": {
      const ids = [...text.matchAll(/\[(rec_\d+)\]/g)].map((m) => m[1]);
      return { answer: text.includes("Lisbon") ? "You live in Lisbon." : "I don't know.", used: ids.slice(0, 1) };
    }
    default:
      return {};
  }
}

const FAST = { maxRetries: 2, retryBaseMs: 1, retryCapMs: 2, timeoutMs: 5_000 };
let server: FakeProvider;
const opened: Spectron[] = [];
const open = (options: Parameters<typeof makeMemory>[0]) => {
  const { memory } = makeMemory({ provider: FAST, ...options });
  opened.push(memory);
  return memory;
};
const chat = () => server.requests.filter((r) => r.path.endsWith("/chat/completions"));
const embeddings = () => server.requests.filter((r) => r.path.endsWith("/embeddings"));

beforeAll(async () => {
  server = await startFakeProvider({ respond: responder, keyless: true });
});
beforeEach(() => server.reset());
afterAll(async () => {
  for (const m of opened) await m.close();
  await server.close();
});

describe("any model: provider-prefixed ids through the real OpenAI SDK", () => {
  it("an Ollama-style provider (no key, model ids with colons) serves every stage; the embedding dimension is declared", async () => {
    const memory = open({
      providers: { ollama: { baseURL: server.openaiURL, dimensions: { "nomic-embed-text": 768 } } },
      models: { extraction: "ollama:qwen2.5:7b", query_understanding: "ollama:llama3.1", response: "ollama:llama3.1", embedding: "ollama:nomic-embed-text" },
    });
    const out = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    expect(out.records.map((r) => r.value)).toEqual(["Lisbon"]);
    const r = await memory.recall("Where do I live?", { scope: alice });
    expect(r.answer).toBe("You live in Lisbon.");
    // The endpoint is sent its own ids, and no key at all (OPENAI_API_KEY, if set, never leaks to it).
    expect(chat().map((q) => q.body.model)).toEqual(["qwen2.5:7b", "llama3.1", "llama3.1"]);
    expect(embeddings().every((q) => q.body.model === "nomic-embed-text")).toBe(true);
    expect(server.requests.every((q) => q.keyLast4 === undefined)).toBe(true);
    expect((await memory.config.get()).providers_configured).toEqual(["ollama"]);
    const usage = memory.usage();
    expect(usage.response).toMatchObject({ calls: 1, failures: 0, retries: 0, cost_usd: 0 });
  });

  it("an OpenRouter-style provider: a key, extra headers, and a model id with a slash", async () => {
    const memory = open({
      providers: {
        openrouter: { baseURL: server.openaiURL, apiKey: "sk-or-test-123456789abcd", headers: { "X-Title": "spectron-test" } },
        openai: { apiKey: "sk-test-openai-0000wxyz", baseURL: server.openaiURL },
      },
      models: {
        extraction: "openrouter:meta-llama/llama-3.1-8b-instruct",
        query_understanding: "openrouter:meta-llama/llama-3.1-8b-instruct",
        response: "openai:gpt-4o-mini",
        embedding: "text-embedding-3-small",
      },
    });
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    expect((await memory.recall("Where do I live?", { scope: alice })).answer).toBe("You live in Lisbon.");
    const [extraction, understanding, response] = chat();
    expect(extraction!.body.model).toBe("meta-llama/llama-3.1-8b-instruct");
    expect(extraction!.keyLast4).toBe("abcd");
    expect(extraction!.headers["x-title"]).toBe("spectron-test");
    expect(understanding!.body.model).toBe("meta-llama/llama-3.1-8b-instruct");
    expect(response!.body.model).toBe("gpt-4o-mini");
    expect(response!.keyLast4).toBe("wxyz");
    expect(response!.headers["x-title"]).toBeUndefined();
  });

  it("an undeclared embedding dimension is discovered from the first reply, and read back from the stored vectors on reopen", async () => {
    const { path, cleanup } = tempDir();
    try {
      const options = {
        path,
        provider: FAST,
        providers: { ollama: { baseURL: server.openaiURL } },
        models: { embedding: "ollama:nomic-embed-text" },
      } as const;
      const first = makeMemory(options).memory;
      await first.ingest({ content: "I live in Lisbon.", scope: alice });
      expect(embeddings()[0]!.body.model).toBe("nomic-embed-text");
      await first.close();
      server.reset();
      const second = makeMemory(options).memory;
      const r = await second.recall("Where do I live?", { scope: alice });
      expect(r.records.map((x) => x.value)).toContain("Lisbon");
      // A reply of another dimension than the stored vectors' is refused, not stored.
      server.script({ dimensions: 384 });
      const err = await second.recall("What city is my home?", { scope: alice }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as Error).message).toMatch(/384-dimensional vectors where 768 were expected/);
      expect(second.usage().embedding).toMatchObject({ failures: 1 });
      await second.close();
    } finally {
      cleanup();
    }
  });

  it("anthropic:<id> through the real Anthropic SDK is sent the bare id, and recorded under the prefixed one", async () => {
    const memory = open({
      providers: { anthropic: { apiKey: "sk-ant-test-12345678", baseURL: server.url } },
      models: { extraction: "anthropic:claude-3-5-haiku-latest" },
    });
    const out = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    expect(out.records.map((r) => r.value)).toEqual(["Lisbon"]);
    const sent = server.requests.filter((r) => r.provider === "anthropic");
    expect(sent.map((r) => r.body.model)).toEqual(["claude-3-5-haiku-latest"]);
    const { traces } = await memory.traces.list({ kind: "decision_trace" });
    expect(JSON.stringify(traces[0]!.payload)).toContain("anthropic:claude-3-5-haiku-latest");
    expect(memory.usage().extraction!.cost_usd).toBeGreaterThan(0);
  });

  it("an unknown id of a known provider is accepted (the provider decides: here a 404 on the first call)", async () => {
    const memory = open({ providers: { openai: { apiKey: "sk-test-1234567890", baseURL: server.openaiURL } }, models: { extraction: "openai:gpt-5-turbo-nonexistent" } });
    server.script({ status: 404, errorMessage: "The model `gpt-5-turbo-nonexistent` does not exist" });
    const err = await memory.ingest({ content: "I live in Lisbon.", scope: alice }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/no model `openai:gpt-5-turbo-nonexistent`/);
    expect(chat()[0]!.body.model).toBe("gpt-5-turbo-nonexistent");
    expect(memory.usage().extraction).toMatchObject({ calls: 1, failures: 1, retries: 0 });
  });

  it("known-bad ids are rejected at the boundary, naming the field and the fix, and change nothing", async () => {
    const bad: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{}, { response: "llama3" }, /options\.models\.response.*names its provider/],
      [{}, { response: "qwen2.5:7b" }, /options\.models\.response/],
      [{}, { response: "ollama:llama3.1" }, /`ollama` is not one\. Configure it with `providers: \{ ollama: \{ baseURL/],
      [{}, { response: "" }, /options\.models\.response/],
      [{}, { response: "ollama:" }, /options\.models\.response/],
      [{}, { embedding: "claude-3-5-haiku-latest" }, /Anthropic has no embeddings API/],
      [{}, { embedding: "gpt-4o-mini" }, /is a chat model/],
      [{ ollama: { apiKey: "k" } }, {}, /options\.providers\.ollama/],
      [{ local: { baseURL: "http://127.0.0.1:1/v1" } }, {}, /options\.providers\.local.*other than "local"/],
      [{ "Bad Name": { baseURL: "http://127.0.0.1:1/v1" } }, {}, /provider name/],
    ];
    for (const [providers, models, message] of bad) {
      const err = (() => {
        try {
          makeMemory({ providers, models } as never).memory.close();
        } catch (e) {
          return e;
        }
      })();
      expect(err, JSON.stringify({ providers, models })).toBeInstanceOf(SpectronValidationError);
      expect((err as Error).message).toMatch(message);
    }
    const memory = open({});
    const before = await memory.config.get();
    await expect(memory.config.models({ response: "ollama:llama3.1" })).rejects.toThrow(/Invalid `models\.response`/);
    await memory.config.providers({ ollama: { baseURL: server.openaiURL } });
    expect((await memory.config.models({ response: "ollama:llama3.1" })).response).toBe("ollama:llama3.1");
    expect(before.models.response).toBe("local:rules");
  });
});

describe("any model: model objects", () => {
  it("a Spectron LanguageModel object serves a stage; it is stored under <provider>:<id>", async () => {
    const seen: string[] = [];
    const mine: LanguageModel = {
      id: "house-model",
      provider: "acme",
      async generate(prompt, input) {
        seen.push(prompt.name);
        const value = prompt.name === "response" ? { answer: "From my own model.", used: [] } : { type: "fact", subjects: ["user"], attributes: [], keywords: [] };
        return { value: prompt.schema.parse(value), usage: { model: "acme:house-model", provider: "acme", inputTokens: 3, outputTokens: 2, latencyMs: 0, costUsd: 0 } };
      },
    };
    const memory = open({ models: { response: mine, query_understanding: mine } });
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    const r = await memory.recall("Where do I live?", { scope: alice });
    expect(r.answer).toBe("From my own model.");
    expect(seen).toEqual(["query_understanding", "response"]);
    expect((await memory.config.get()).models.response).toBe("acme:house-model");
    expect(memory.usage().response).toMatchObject({ calls: 1, input_tokens: 3, output_tokens: 2 });
  });

  it("a Vercel AI SDK LanguageModelV3 and EmbeddingModelV3 serve stages directly", async () => {
    const lm = new MockLanguageModelV3({
      provider: "mock-provider",
      modelId: "mock-model",
      doGenerate: async (options) => {
        const prompt = JSON.stringify(options.prompt);
        const name = options.responseFormat?.type === "json" ? options.responseFormat.name : undefined;
        const value =
          name === "extraction"
            ? { facts: prompt.includes("Lisbon") ? [fact("location", "Lisbon", "User lives in Lisbon.")] : [] }
            : name === "query_understanding"
              ? { type: "fact", subjects: ["user"], attributes: ["location"], keywords: ["live"] }
              : { answer: prompt.includes("Lisbon") ? "Lisbon, says the AI SDK model." : "No idea.", used: [] };
        return {
          content: [{ type: "text", text: JSON.stringify(value) }],
          finishReason: { unified: "stop", raw: "stop" },
          usage: { inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 4, text: 4, reasoning: 0 } },
          warnings: [],
        };
      },
    });
    const em = new MockEmbeddingModelV3({
      provider: "mock-provider",
      modelId: "mock-embedder",
      doEmbed: async ({ values }) => ({ embeddings: values.map((v) => Array.from({ length: 32 }, (_, i) => Math.sin(v.length + i))), warnings: [] }),
    });
    const memory = open({ models: { extraction: lm, query_understanding: lm, response: lm, embedding: em } });
    const out = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    expect(out.records.map((r) => r.value)).toEqual(["Lisbon"]);
    const r = await memory.recall("Where do I live?", { scope: alice });
    expect(r.answer).toBe("Lisbon, says the AI SDK model.");
    expect(lm.doGenerateCalls).toHaveLength(3);
    const call = lm.doGenerateCalls[0]!;
    expect(call.responseFormat).toMatchObject({ type: "json", name: "extraction", schema: { type: "object" } });
    expect(call.prompt[0]).toMatchObject({ role: "system" });
    expect(em.doEmbedCalls.length).toBeGreaterThan(0);
    const config = await memory.config.get();
    expect(config.models).toMatchObject({ response: "mock-provider:mock-model", embedding: "mock-provider:mock-embedder" });
    expect(memory.usage().response).toMatchObject({ calls: 1, input_tokens: 10, output_tokens: 4 });
  });

  it("a model object of the wrong kind for its stage is rejected", () => {
    const em = new MockEmbeddingModelV3({ provider: "p", modelId: "e" });
    expect(() => makeMemory({ models: { response: em as never } })).toThrow(/Invalid `options\.models\.response`: expected a language model object/);
  });
});

/** Every stage offline but query understanding, served by the fake. */
const QU_ONLY = { extraction: "local:rules", response: "local:rules", reflection: "local:rules", background: "local:rules", embedding: "local:hash-384", query_understanding: "gpt-4o-mini" };

describe("graceful degradation of query understanding", () => {
  it("a failed query-understanding call falls back to the rule classifier, on the trace and in usage(); recall and reflect succeed", async () => {
    const memory = open({
      providers: { openai: { apiKey: "sk-test-1234567890", baseURL: server.openaiURL } },
      models: QU_ONLY,
    });
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    // 500 three times (the call and its two retries), then a 401 for reflect's call.
    server.script({ status: 500 }, { status: 500 }, { status: 500 });
    const r = await memory.recall("Where do I live?", { scope: alice });
    expect(r.tier).toBe(3);
    expect(r.records.map((x) => x.value)).toContain("Lisbon");
    const { traces } = await memory.traces.list({ kind: "retrieval_trace" });
    const payload = traces[0]!.payload as Record<string, any>;
    expect(payload.model.query_understanding).toBe("local:rules");
    expect(payload.query_understanding_fallback).toMatchObject({ failed_model: "gpt-4o-mini", model: "local:rules", error: { name: "ProviderError", code: "provider" } });
    expect(payload.understanding.type).toBeDefined();
    expect(memory.usage().query_understanding).toMatchObject({ calls: 1, failures: 1, retries: 2 });

    server.script({ status: 401 });
    const reflected = await memory.reflect("What do you know about where I live?", { scope: alice });
    expect(typeof reflected.answer).toBe("string");
    expect(memory.usage().query_understanding).toMatchObject({ calls: 2, failures: 2, retries: 2 });

    // chat (REST's /chat) degrades the same way.
    server.script({ status: 401 });
    const chatted = await memory.chat("Where do I live these days?", { scope: alice });
    expect(typeof chatted.answer).toBe("string");
    expect(memory.usage().query_understanding).toMatchObject({ calls: 3, failures: 3, retries: 2 });

    // A call that succeeds after a retry counts one call and one retry.
    server.script({ status: 503 });
    await memory.recall("Which city do I live in?", { scope: alice });
    expect(memory.usage().query_understanding).toMatchObject({ calls: 4, failures: 3, retries: 3 });
  });

  it("an aborted recall is not degraded: the abort is the caller's", async () => {
    const memory = open({ providers: { openai: { apiKey: "sk-test-1234567890", baseURL: server.openaiURL } }, models: QU_ONLY });
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    server.script({ hang: true });
    const controller = new AbortController();
    const pending = memory.recall("Where do I live?", { scope: alice, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await expect(pending).rejects.toThrow("stop");
    expect(memory.usage().query_understanding?.failures ?? 0).toBe(0);
  });
});
