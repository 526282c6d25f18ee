import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { ProviderError } from "../src/errors.js";
import { createAnthropicLanguageModel } from "../src/models/anthropic.js";
import { createLocalEmbeddingModel, createLocalLanguageModel } from "../src/models/local/index.js";
import { createOpenAIEmbeddingModel, createOpenAILanguageModel } from "../src/models/openai.js";
import { estimateCostUsd, priceOf } from "../src/models/pricing.js";
import { extractionPrompt } from "../src/models/prompts/extraction.js";
import { queryUnderstandingPrompt } from "../src/models/prompts/query-understanding.js";
import type { ProviderOptions } from "../src/models/resolve.js";
import { redact, retryAfterMs, withRetry, type RetryTuning } from "../src/models/retry.js";
import { openAIResponseSchema } from "../src/models/structured.js";
import type { EmbeddingModel, LanguageModel } from "../src/models/types.js";
import { languageModelContract } from "./contract/language-model.contract.js";
import { fakeEmbedding, startFakeProvider, type FakeProvider, type FakeStep } from "./fakes/fake-provider.js";

const OPENAI_KEY = "sk-test-SECRET-KEY-1234567890";
const ANTHROPIC_KEY = "sk-ant-test-SECRET-KEY-ANTHROPIC-0987654321";

/** Every error any test here saw, checked at the end for the keys. */
const thrown: unknown[] = [];
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    thrown.push(error);
    return error;
  }
  throw new Error("expected the call to fail");
}

/** Options with backoff shrunk to nothing and the waits recorded. */
function fastOptions(extra: ProviderOptions & RetryTuning = {}): ProviderOptions & RetryTuning & { waits: number[] } {
  const waits: number[] = [];
  return {
    maxRetries: 2,
    timeoutMs: 2_000,
    retryBaseMs: 1,
    sleep: async (ms: number) => void waits.push(ms),
    ...extra,
    waits,
  };
}

const extractionInput = { role: "user" as const, content: "I'm on the Enterprise plan.", source: "turn" as const };

function openai(server: FakeProvider, options: ProviderOptions & RetryTuning = fastOptions()): LanguageModel {
  return createOpenAILanguageModel("gpt-4o-mini", { apiKey: OPENAI_KEY, baseURL: server.openaiURL }, options);
}
function anthropic(server: FakeProvider, options: ProviderOptions & RetryTuning = fastOptions()): LanguageModel {
  return createAnthropicLanguageModel("claude-3-5-haiku-latest", { apiKey: ANTHROPIC_KEY, baseURL: server.url }, options);
}
function embedder(server: FakeProvider, id = "text-embedding-3-small", options: ProviderOptions & RetryTuning = fastOptions()): EmbeddingModel {
  return createOpenAIEmbeddingModel(id, { apiKey: OPENAI_KEY, baseURL: server.openaiURL }, options);
}

languageModelContract("local", async () => ({
  model: createLocalLanguageModel("local:rules"),
  embedder: createLocalEmbeddingModel("local:hash-384"),
  teardown: async () => {},
}));

languageModelContract("openai via fake server", async () => {
  const server = await startFakeProvider({ apiKey: OPENAI_KEY });
  return { model: openai(server), embedder: embedder(server), teardown: () => server.close() };
});

languageModelContract("anthropic via fake server", async () => {
  const server = await startFakeProvider({ apiKey: ANTHROPIC_KEY });
  return { model: anthropic(server), teardown: () => server.close() };
});

describe("OpenAI adapter through the real SDK", () => {
  let server: FakeProvider;
  beforeAll(async () => {
    server = await startFakeProvider({ apiKey: OPENAI_KEY });
  });
  afterAll(() => server.close());
  const fresh = (...steps: FakeStep[]) => {
    server.reset();
    server.script(...steps);
  };

  test("sends the prompt as system + user with a strict json_schema response format", async () => {
    fresh();
    const { value, usage } = await openai(server).generate(extractionPrompt, extractionInput);
    expect(value.facts[0]?.attribute).toBe("plan");
    const [req] = server.requests;
    expect(req?.path).toBe("/v1/chat/completions");
    expect(req?.authorized).toBe(true);
    expect(req?.keyLast4).toBe("7890");
    expect(JSON.stringify(req?.headers)).not.toContain(OPENAI_KEY);
    expect(req?.body.model).toBe("gpt-4o-mini");
    expect(req?.body.messages).toEqual([
      { role: "system", content: extractionPrompt.system },
      { role: "user", content: extractionPrompt.render(extractionInput) },
    ]);
    const format = req?.body.response_format;
    expect(format.type).toBe("json_schema");
    expect(format.json_schema.name).toBe("extraction");
    expect(format.json_schema.strict).toBe(true);
    expect(format.json_schema.schema.additionalProperties).toBe(false);
    expect(format.json_schema.schema.properties.facts.items.additionalProperties).toBe(false);
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.costUsd).toBeCloseTo(estimateCostUsd("gpt-4o-mini", usage.inputTokens, usage.outputTokens), 12);
    expect(usage.costUsd).toBeGreaterThan(0);
  });

  test("429 with retry-after is retried after the wait the server asked for", async () => {
    fresh({ status: 429, retryAfter: 2 });
    const options = fastOptions();
    const { value } = await openai(server, options).generate(queryUnderstandingPrompt, { query: "which plan am I on?" });
    expect(value.type).toBe("fact");
    expect(server.requests).toHaveLength(2);
    expect(options.waits).toEqual([2000]);
  });

  test("429 with retry-after-ms is honoured with the real timer", async () => {
    fresh({ status: 429, retryAfterMs: 120 });
    const started = Date.now();
    await openai(server, { maxRetries: 1, timeoutMs: 2_000 }).generate(queryUnderstandingPrompt, { query: "plan?" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
    expect(server.requests).toHaveLength(2);
  });

  test("500 on every attempt fails as a retryable ProviderError after maxRetries + 1 requests", async () => {
    fresh({ status: 500 }, { status: 500 }, { status: 500 });
    const options = fastOptions({ maxRetries: 2 });
    const error = await failure(openai(server, options).generate(extractionPrompt, extractionInput));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ provider: "openai", status: 500, retryable: true });
    expect((error as Error).message).toMatch(/server error.*Gave up after 3 attempts/s);
    expect(server.requests).toHaveLength(3);
    expect(options.waits).toHaveLength(2);
    expect(options.waits.every((ms) => ms >= 0 && ms <= 2)).toBe(true);
  });

  test("401 is not retried and names the fix without the key", async () => {
    fresh({ status: 401 });
    const error = await failure(openai(server).generate(extractionPrompt, extractionInput));
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect((error as Error).message).toContain("memory.config.providers(");
    expect((error as Error).message).toContain("[redacted]");
    expect(server.requests).toHaveLength(1);
  });

  test("a wrong key gets the server's 401, scrubbed", async () => {
    fresh();
    const wrong = "sk-wrong-KEY-abcdefghijkl";
    const model = createOpenAILanguageModel("gpt-4o-mini", { apiKey: wrong, baseURL: server.openaiURL }, fastOptions());
    const error = await failure(model.generate(extractionPrompt, extractionInput));
    expect(error).toMatchObject({ status: 401 });
    expect(inspect(error, { depth: 10 })).not.toContain(wrong);
    expect(server.requests[0]?.authorized).toBe(false);
  });

  test("400 and 404 are not retried", async () => {
    for (const status of [400, 404, 422]) {
      fresh({ status });
      const error = await failure(openai(server).generate(extractionPrompt, extractionInput));
      expect(error).toMatchObject({ status, retryable: false });
      expect(server.requests).toHaveLength(1);
    }
  });

  test("429 insufficient_quota is not retried", async () => {
    fresh({ status: 429, errorCode: "insufficient_quota", errorMessage: "You exceeded your current quota." });
    const error = await failure(openai(server).generate(extractionPrompt, extractionInput));
    expect(error).toMatchObject({ status: 429, retryable: false });
    expect((error as Error).message).toContain("billing");
    expect(server.requests).toHaveLength(1);
  });

  test("a hung request times out after timeoutMs as a retryable ProviderError", async () => {
    fresh({ hang: true }, { hang: true });
    const started = Date.now();
    const error = await failure(openai(server, fastOptions({ maxRetries: 1, timeoutMs: 200 })).generate(extractionPrompt, extractionInput));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: undefined, retryable: true });
    expect((error as Error).message).toContain("200 ms");
    expect(server.requests).toHaveLength(2);
  });

  test("a body that stalls after the headers still times out", async () => {
    fresh({ stall: true });
    const started = Date.now();
    const error = await failure(openai(server, fastOptions({ maxRetries: 0, timeoutMs: 200 })).generate(extractionPrompt, extractionInput));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: undefined, retryable: true });
    expect((error as Error).message).toContain("within 200 ms");
  });

  test("the per-call timeoutMs overrides the provider's", async () => {
    fresh({ hang: true });
    const started = Date.now();
    const error = await failure(
      openai(server, fastOptions({ maxRetries: 0, timeoutMs: 30_000 })).generate(extractionPrompt, extractionInput, { timeoutMs: 150 }),
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({ retryable: true, status: undefined });
  });

  test("an abort mid-request rejects with the abort reason, not a ProviderError, and is not retried", async () => {
    fresh({ hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(openai(server).generate(extractionPrompt, extractionInput, { signal: controller.signal }));
    expect(error).not.toBeInstanceOf(ProviderError);
    expect((error as Error).name).toBe("AbortError");
    expect(server.requests).toHaveLength(1);
  });

  test("an abort during backoff stops the retries", async () => {
    fresh({ status: 503 }, { status: 503 });
    const controller = new AbortController();
    const options = fastOptions({ retryBaseMs: 5_000, retryCapMs: 5_000, random: () => 0.99 });
    delete options.sleep;
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const error = await failure(openai(server, options).generate(extractionPrompt, extractionInput, { signal: controller.signal }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((error as Error).name).toBe("AbortError");
    expect(server.requests).toHaveLength(1);
  });

  test("malformed JSON once is retried with the parse error and then succeeds", async () => {
    fresh({ content: '{"facts": [' });
    const { value, usage } = await openai(server).generate(extractionPrompt, extractionInput);
    expect(value.facts).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
    const messages = server.requests[1]?.body.messages;
    expect(messages).toHaveLength(4);
    expect(messages[2]).toEqual({ role: "assistant", content: '{"facts": [' });
    expect(messages[3].role).toBe("user");
    expect(messages[3].content).toMatch(/not valid JSON/);
    const first = server.requests[0]!;
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(first.body.messages).toHaveLength(2);
  });

  test("a schema mismatch is retried with zod's error naming the field", async () => {
    fresh({ json: { type: "gossip", subjects: [], attributes: [], keywords: [] } });
    const { value } = await openai(server).generate(queryUnderstandingPrompt, { query: "plan?" });
    expect(value.type).toBe("fact");
    expect(server.requests[1]?.body.messages[3].content).toMatch(/type/);
  });

  test("malformed twice fails as a non-retryable ProviderError after exactly 2 requests", async () => {
    fresh({ content: '{"facts": [' }, { content: "nope" });
    const error = await failure(openai(server).generate(extractionPrompt, extractionInput));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ provider: "openai", status: undefined, retryable: false });
    expect((error as Error).message).toContain("`extraction` schema");
    expect(server.requests).toHaveLength(2);
  });

  test("a truncated response is retried", async () => {
    fresh({ truncate: true });
    const { value } = await openai(server).generate(extractionPrompt, extractionInput);
    expect(value.facts).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  test("a slow reply inside the timeout succeeds", async () => {
    fresh({ delayMs: 100 });
    const { usage } = await openai(server).generate(extractionPrompt, extractionInput);
    expect(usage.latencyMs).toBeGreaterThanOrEqual(90);
  });

  test("embeddings come back in input order whatever order the server lists them", async () => {
    fresh();
    const texts = ["alpha", "beta", "gamma"];
    const { vectors, usage } = await embedder(server).embed(texts);
    expect(server.requests[0]?.body).toMatchObject({ model: "text-embedding-3-small", input: texts, encoding_format: "float" });
    vectors.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(Float32Array.from(fakeEmbedding(texts[i]!, 1536)))));
    expect(usage.costUsd).toBeGreaterThan(0);
    const large = await embedder(server, "text-embedding-3-large").embed(["x"]);
    expect(large.vectors[0]).toHaveLength(3072);
  });

  test("an embedding of the wrong dimension is a ProviderError", async () => {
    fresh({ dimensions: 768 });
    const error = await failure(embedder(server).embed(["alpha"]));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toMatch(/768.*1536/);
  });

  test("an embedding model Spectron does not know is accepted (the provider decides); its dimension is its replies'", async () => {
    fresh();
    const model = embedder(server, "text-embedding-9");
    expect(model.dimensions).toBeUndefined();
    const { vectors } = await model.embed(["alpha", "beta"]);
    expect(vectors.map((v) => v.length)).toEqual([1536, 1536]);
    expect(server.requests[0]?.body).toMatchObject({ model: "text-embedding-9" });
  });
});

describe("Anthropic adapter through the real SDK", () => {
  let server: FakeProvider;
  beforeAll(async () => {
    server = await startFakeProvider({ apiKey: ANTHROPIC_KEY });
  });
  afterAll(() => server.close());
  const fresh = (...steps: FakeStep[]) => {
    server.reset();
    server.script(...steps);
  };

  test("forces one tool whose input_schema is the prompt's schema", async () => {
    fresh();
    const { value, usage } = await anthropic(server).generate(extractionPrompt, extractionInput);
    expect(value.facts).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.path).toBe("/v1/messages");
    expect(req.authorized).toBe(true);
    expect(req.keyLast4).toBe("4321");
    expect(req.body).toMatchObject({
      model: "claude-3-5-haiku-latest",
      max_tokens: 2048,
      system: extractionPrompt.system,
      tool_choice: { type: "tool", name: "extraction" },
    });
    expect(req.body.tools).toHaveLength(1);
    expect(req.body.tools[0].input_schema.type).toBe("object");
    expect(req.body.tools[0].input_schema.$schema).toBeUndefined();
    expect(usage).toMatchObject({ provider: "anthropic", model: "claude-3-5-haiku-latest" });
    expect(usage.costUsd).toBeGreaterThan(0);
  });

  test("a tool input that does not match is sent back as an error tool_result, then succeeds", async () => {
    fresh({ json: { facts: [{ kind: "rumour" }] } });
    const { value } = await anthropic(server).generate(extractionPrompt, extractionInput);
    expect(value.facts[0]?.kind).toBe("attribute");
    expect(server.requests).toHaveLength(2);
    const messages = server.requests[1]!.body.messages;
    expect(messages).toHaveLength(3);
    expect(messages[1].role).toBe("assistant");
    expect(messages[1].content[0]).toMatchObject({ type: "tool_use", name: "extraction" });
    expect(messages[2].content[0]).toMatchObject({ type: "tool_result", tool_use_id: messages[1].content[0].id, is_error: true });
    expect(messages[2].content[0].content).toMatch(/kind/);
  });

  test("a text reply instead of the tool call is retried as a user message", async () => {
    fresh({ content: "I think you are on Enterprise." });
    await anthropic(server).generate(extractionPrompt, extractionInput);
    const messages = server.requests[1]!.body.messages;
    expect(messages[1]).toMatchObject({ role: "assistant", content: [{ type: "text", text: "I think you are on Enterprise." }] });
    expect(messages[2].content).toMatch(/did not call the `extraction` tool/);
  });

  test("two bad replies fail with a ProviderError after exactly 2 requests", async () => {
    fresh({ json: {} }, { content: "no" });
    const error = await failure(anthropic(server).generate(extractionPrompt, extractionInput));
    expect(error).toMatchObject({ provider: "anthropic", retryable: false, status: undefined });
    expect((error as Error).message).toContain("`extraction` schema");
    expect(server.requests).toHaveLength(2);
  });

  test("429 then overloaded 529 are retried; retry-after is honoured", async () => {
    fresh({ status: 429, retryAfter: 3 }, { status: 529 });
    const options = fastOptions();
    await anthropic(server, options).generate(queryUnderstandingPrompt, { query: "plan?" });
    expect(server.requests).toHaveLength(3);
    expect(options.waits[0]).toBe(3000);
  });

  test("500 on every attempt is a retryable ProviderError", async () => {
    fresh({ status: 500 }, { status: 500 });
    const error = await failure(anthropic(server, fastOptions({ maxRetries: 1 })).generate(extractionPrompt, extractionInput));
    expect(error).toMatchObject({ provider: "anthropic", status: 500, retryable: true });
    expect(server.requests).toHaveLength(2);
  });

  test("401 is not retried", async () => {
    fresh({ status: 401 });
    const error = await failure(anthropic(server).generate(extractionPrompt, extractionInput));
    expect(error).toMatchObject({ provider: "anthropic", status: 401, retryable: false });
    expect((error as Error).message).toContain('memory.config.providers({ anthropic: "<key>" })');
    expect(server.requests).toHaveLength(1);
  });

  test("hang with timeoutMs 200 is a ProviderError; a truncated reply is retried", async () => {
    fresh({ hang: true });
    const error = await failure(anthropic(server, fastOptions({ maxRetries: 0, timeoutMs: 200 })).generate(extractionPrompt, extractionInput));
    expect(error).toMatchObject({ status: undefined, retryable: true });
    fresh({ truncate: true });
    const { value } = await anthropic(server).generate(extractionPrompt, extractionInput);
    expect(value.facts).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });
});

describe("retry policy", () => {
  test("backoff is full jitter under an exponential cap", async () => {
    const waits: number[] = [];
    let calls = 0;
    const error = await failure(
      withRetry(
        async () => {
          calls++;
          throw new ProviderError("openai", "boom", 500, true);
        },
        { maxRetries: 6, retryBaseMs: 250, retryCapMs: 8_000, random: () => 0.999, sleep: async (ms) => void waits.push(ms) },
      ),
    );
    expect(calls).toBe(7);
    expect(waits).toEqual([249, 499, 999, 1998, 3996, 7992]);
    expect((error as Error).message).toContain("Gave up after 7 attempts");
  });

  test("non-retryable errors and aborts are thrown at once", async () => {
    let calls = 0;
    await failure(
      withRetry(
        async () => {
          calls++;
          throw new ProviderError("openai", "bad", 400, false);
        },
        { maxRetries: 3, sleep: async () => {} },
      ),
    );
    expect(calls).toBe(1);
    const controller = new AbortController();
    controller.abort();
    await expect(withRetry(async () => 1, { maxRetries: 3, signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
  });

  test("retry-after accepts milliseconds, seconds and HTTP dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after-ms": "150" }), now)).toBe(150);
    expect(retryAfterMs(new Headers({ "retry-after": "2" }), now)).toBe(2000);
    expect(retryAfterMs(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({}), now)).toBeUndefined();
  });

  test("redact removes the key, key-shaped strings, bearer tokens and URL credentials", () => {
    const text = `key ${OPENAI_KEY} other sk-abcdefghij Bearer xyz.123 https://u:p@host/ gateway-key-42`;
    const out = redact(text, ["gateway-key-42"]);
    expect(out).not.toMatch(/SECRET|sk-abcdefghij|xyz\.123|u:p@|gateway-key-42/);
  });

  test("schemas with optional fields are sent to OpenAI non-strict", () => {
    expect(openAIResponseSchema(extractionPrompt.schema).strict).toBe(true);
    expect(openAIResponseSchema(z.object({ a: z.string(), b: z.string().optional() })).strict).toBe(false);
    expect(openAIResponseSchema(z.object({ a: z.string().min(1) })).schema).toEqual({
      type: "object",
      properties: { a: { type: "string" } },
      required: ["a"],
      additionalProperties: false,
    });
  });

  test("prices: known models by family, unknown ones 0", () => {
    expect(priceOf("gpt-4o-mini-2024-07-18")).toEqual(priceOf("gpt-4o-mini"));
    expect(priceOf("claude-3-5-haiku-latest")).toEqual({ input: 0.8, output: 4 });
    expect(estimateCostUsd("gpt-4o-mini", 1_000_000, 1_000_000)).toBeCloseTo(0.75, 10);
    expect(estimateCostUsd("some-future-model", 1000, 1000)).toBe(0);
  });
});

describe("no error leaks a key", () => {
  test("messages, stacks and cause chains of every error thrown above are free of both keys", () => {
    expect(thrown.length).toBeGreaterThanOrEqual(15);
    for (const error of thrown) {
      const text = serialise(error);
      expect(text).not.toContain(OPENAI_KEY);
      expect(text).not.toContain(ANTHROPIC_KEY);
      expect(text).not.toContain("SECRET-KEY");
    }
  });
});

function serialise(error: unknown): string {
  const parts: string[] = [inspect(error, { depth: 20, showHidden: true })];
  let seen = new WeakSet<object>();
  const replacer = (_key: string, value: unknown) => {
    if (value && typeof value === "object") {
      if (seen.has(value)) return "[circular]";
      seen.add(value);
      if (value instanceof Error) {
        return Object.fromEntries(Object.getOwnPropertyNames(value).map((k) => [k, (value as unknown as Record<string, unknown>)[k]]));
      }
    }
    return value;
  };
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (current instanceof Error) parts.push(current.name, current.message, current.stack ?? "");
    seen = new WeakSet<object>();
    parts.push(JSON.stringify(current, replacer) ?? "");
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join("\n");
}
