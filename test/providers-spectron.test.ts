import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ProviderError, Spectron, type Logger } from "../src/index.js";
import type { Core } from "../src/core.js";
import { retryPending } from "../src/pipeline/ingest.js";
import { startFakeProvider, type FakeProvider, type FakeRequestInfo } from "./fakes/fake-provider.js";
import { alice, makeMemory } from "./helpers.js";

const KEY = "sk-test-SECRET-KEY-1234567890";
const ANTHROPIC_KEY = "sk-ant-test-SECRET-0987654321";

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

/** Extraction replies by content; the other prompts answer from what they were sent. */
function responder(r: FakeRequestInfo): unknown {
  const text = JSON.stringify(r.body);
  switch (r.promptName) {
    case "extraction":
      if (text.includes("Lisbon")) return { facts: [fact("location", "Lisbon", "User lives in Lisbon.")] };
      if (text.includes("Porto")) return { facts: [fact("location", "Porto", "User lives in Porto.")] };
      if (text.includes("Enterprise")) return { facts: [fact("plan", "Enterprise", "User is on the Enterprise plan.")] };
      return { facts: [] };
    case "query_understanding":
      return { type: "fact", subjects: ["user"], attributes: ["location"], keywords: ["live"] };
    case "response": {
      const ids = [...text.matchAll(/\[(rec_\d+)\]/g)].map((m) => m[1]);
      return { answer: text.includes("Porto") ? "You live in Porto." : "You live in Lisbon.", used: ids.slice(0, 1) };
    }
    case "reflection": {
      // The batched prompt: "NEW [rec_X] …" then its neighbours, "  - [rec_Y] …".
      const decisions: { record_id: string; neighbour_id: string; relation: string; reason: string }[] = [];
      let current = "";
      for (const m of text.matchAll(/(NEW |- )\[(rec_\d+)\]/g)) {
        if (m[1] === "NEW ") current = m[2]!;
        else decisions.push({ record_id: current, neighbour_id: m[2]!, relation: "duplicate", reason: "same fact" });
      }
      return { decisions };
    }
    default:
      return {};
  }
}

let server: FakeProvider;
const logLines: string[] = [];
const logger: Logger = Object.fromEntries(
  (["debug", "info", "warn", "error"] as const).map((level) => [level, (msg: string, data?: object) => logLines.push(`${level} ${msg} ${JSON.stringify(data ?? {})}`)]),
) as unknown as Logger;
const errors: unknown[] = [];
const opened: Spectron[] = [];

function openai(models: Record<string, string> = {}) {
  return openaiWithClock(models).memory;
}

function openaiWithClock(models: Record<string, string> = {}) {
  const { memory, clock } = makeMemory({
    providers: { openai: { apiKey: KEY, baseURL: server.openaiURL }, anthropic: { apiKey: ANTHROPIC_KEY, baseURL: server.url } },
    models: { extraction: "gpt-4o-mini", query_understanding: "gpt-4o-mini", response: "gpt-4o-mini", reflection: "gpt-4o", embedding: "text-embedding-3-small", ...models },
    provider: { maxRetries: 2, retryBaseMs: 1, retryCapMs: 5, timeoutMs: 2_000 },
    logger,
  });
  opened.push(memory);
  return { memory, clock };
}

const chatCalls = (model: string) => server.requests.filter((r) => r.path.endsWith("/chat/completions") && r.body?.model === model).length;

beforeAll(async () => {
  server = await startFakeProvider({ respond: responder });
});
beforeEach(() => server.reset());
afterAll(async () => {
  for (const m of opened) await m.close();
  await server.close();
});

describe("Spectron with real SDKs against the fake provider", () => {
  it("makes exactly one synchronous model call per ingested turn (extraction) and at most two per tier-3 recall", async () => {
    const memory = openai();
    const before = chatCalls("gpt-4o-mini");
    const out = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    expect(out.records.map((r) => r.value)).toEqual(["Lisbon"]);
    expect(chatCalls("gpt-4o-mini") - before).toBe(1);
    const mid = chatCalls("gpt-4o-mini");
    const r = await memory.recall("Where do I live?", { scope: alice });
    expect(r.tier).toBe(3);
    expect(r.answer).toBe("You live in Lisbon.");
    expect(chatCalls("gpt-4o-mini") - mid).toBe(2);
    const again = chatCalls("gpt-4o-mini");
    expect((await memory.recall("where do I live", { scope: alice })).tier).toBe(1);
    expect(chatCalls("gpt-4o-mini")).toBe(again);
    const usage = memory.usage();
    expect(usage.extraction?.calls).toBe(1);
    expect(usage.query_understanding?.calls).toBe(1);
    expect(usage.response?.calls).toBe(1);
    expect(usage.extraction!.input_tokens).toBeGreaterThan(0);
    // The response trace carries tokens and cost.
    const trace = await memory.traces.get(r.traceId);
    if (trace.kind !== "response_trace") throw new Error(`expected a response_trace, got ${trace.kind}`);
    expect(trace.payload.tokens.input).toBeGreaterThan(0);
    await memory.idle();
  });

  it("keeps a turn whose extraction fails as pending, and turns.retry() extracts it once", async () => {
    const memory = openai();
    server.script({ status: 500 }, { status: 500 }, { status: 500 });
    const error = await memory.ingest({ content: "I live in Porto.", scope: alice }).catch((e: unknown) => e);
    errors.push(error);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ provider: "openai", status: 500, retryable: true });
    const pending = await memory.turns.list({ status: "pending" });
    expect(pending.map((t) => t.content)).toEqual(["I live in Porto."]);
    expect((await memory.state.list({ scope: alice })).records).toEqual([]);

    expect(await memory.turns.retry()).toEqual({ extracted: 1, failed: 0 });
    expect(await memory.turns.retry()).toEqual({ extracted: 0, failed: 0 });
    expect((await memory.turns.list({ status: "pending" })).length).toBe(0);
    expect((await memory.state.list({ scope: alice })).records.map((r) => r.value)).toEqual(["Porto"]);
    await memory.idle();
  });

  it("marks a turn failed after five failed attempts: the background retry leaves it, turns.retry() does not", async () => {
    const { memory, clock } = openaiWithClock();
    const core = (memory as unknown as { core: Core }).core;
    // maxRetries 2: each attempt is three requests.
    server.script(...Array.from({ length: 5 * 3 }, () => ({ status: 500 })));
    await expect(memory.ingest({ content: "I live in Porto.", scope: alice })).rejects.toBeInstanceOf(ProviderError);
    clock.advance(61_000); // the background retry leaves a turn stored in the last minute to its own ingest
    for (let attempt = 2; attempt <= 4; attempt++) expect(await retryPending(core)).toEqual({ extracted: 0, failed: 1 });
    expect((await memory.turns.list({ status: "pending" })).map((t) => t.attempts)).toEqual([4]);
    expect(await retryPending(core)).toEqual({ extracted: 0, failed: 1 });
    const [failed] = await memory.turns.list({ status: "failed" });
    expect(failed).toMatchObject({ content: "I live in Porto.", attempts: 5 });
    expect(failed!.error).toMatch(/server error/);
    expect(logLines.some((l) => l.startsWith("error Extraction failed 5 times"))).toBe(true);
    // The background retry skips it (no request is made); an explicit retry extracts it now that the server answers.
    const requests = server.requests.length;
    expect(await retryPending(core)).toEqual({ extracted: 0, failed: 0 });
    expect(server.requests.length).toBe(requests);
    expect(await memory.turns.retry()).toEqual({ extracted: 1, failed: 0 });
    expect((await memory.state.list({ scope: alice })).records.map((r) => r.value)).toEqual(["Porto"]);
    await memory.idle();
  });

  it("retries a reply that does not parse once, then fails without storing anything half-parsed", async () => {
    const memory = openai();
    server.script({ content: '{"facts": [' }, { content: "not json" });
    const error = await memory.ingest({ content: "I live in Lisbon.", scope: alice }).catch((e: unknown) => e);
    errors.push(error);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toMatch(/extraction/);
    expect((await memory.state.list({ scope: alice })).records).toEqual([]);
    expect((await memory.turns.list({ status: "pending" })).length).toBe(1);
  });

  it("runs the background reconciliation pass on the scheduler and applies its decisions through the reconciler", async () => {
    // The same subject and attribute, so the pair can conflict and is worth a call; OpenAI chat for extraction
    // and reflection.
    const memory = openai({ embedding: "local:hash-384" });
    server.script(
      { json: { facts: [{ ...fact("home", "Lisbon", "User lives in Lisbon."), cardinality: "many" }] } },
      { json: { facts: [{ ...fact("home", "the city of Lisbon", "User lives in the city of Lisbon."), cardinality: "many" }] } },
    );
    const first = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    await memory.idle();
    const second = await memory.ingest({ content: "My home is Lisbon.", scope: alice });
    expect(second.records[0]!.outcome).toBe("created");
    await memory.idle();
    const merged = await memory.state.get(first.records[0]!.id);
    expect(merged.status).toBe("superseded");
    expect(merged.superseded_by).toBe(second.records[0]!.id);
    expect((await memory.state.get(second.records[0]!.id)).proof_count).toBe(2);
    const reflections = (await memory.traces.list({ kind: "decision_trace" })).traces.filter(
      (t) => t.payload.source?.kind === "reflection",
    );
    expect(reflections.length).toBeGreaterThan(0);
    expect(chatCalls("gpt-4o")).toBeGreaterThan(0);
  });

  it("uses Anthropic models per stage through the same pipeline", async () => {
    const memory = openai({ extraction: "claude-3-5-haiku-latest", response: "claude-3-5-haiku-latest" });
    const out = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    expect(out.records.map((r) => r.value)).toEqual(["Lisbon"]);
    expect(server.requests.some((r) => r.provider === "anthropic")).toBe(true);
    expect((await memory.recall("Where do I live?", { scope: alice })).answer).toBe("You live in Lisbon.");
    await memory.idle();
  });

  it("never lets a key into a trace, an error or a log line", async () => {
    const memory = openai();
    server.script({ status: 401 });
    errors.push(await memory.ingest({ content: "I live in Lisbon.", scope: alice }).catch((e: unknown) => e));
    await memory.ingest({ content: "I live in Lisbon.", scope: alice }).catch((e: unknown) => errors.push(e));
    await memory.recall("Where do I live?", { scope: alice }).catch((e: unknown) => errors.push(e));
    await memory.idle();
    const everything: string[] = [...logLines];
    for (const m of opened) {
      const { traces } = await m.traces.list({ limit: 1000 });
      for (const t of traces) everything.push(JSON.stringify(await m.traces.get(t.id)));
      everything.push(JSON.stringify(await m.config.get()), JSON.stringify(await m.turns.list()));
    }
    for (const e of errors) everything.push(String(e), (e as Error).stack ?? "", JSON.stringify(e), JSON.stringify((e as Error).cause ?? null));
    expect(everything.length).toBeGreaterThan(10);
    const all = everything.join("\n");
    expect(all).not.toContain(KEY);
    expect(all).not.toContain(ANTHROPIC_KEY);
    expect(all).not.toContain("SECRET");
  });
});
