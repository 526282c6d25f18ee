import { generateText, stepCountIs, streamText, wrapLanguageModel } from "ai";
import { MockLanguageModelV3, convertArrayToReadableStream } from "ai/test";
import { afterEach, describe, expect, it } from "vitest";
import { AccessDeniedError, type Spectron } from "../src/index.js";
import { memoryMiddleware, memoryTools } from "../src/integrations/ai-sdk/index.js";
import { alice, bob, makeMemory } from "./helpers.js";

const usage = { inputTokens: { total: 5, noCache: 5, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 3, text: 3, reasoning: 0 } };
const text = (t: string) => ({ content: [{ type: "text" as const, text: t }], finishReason: { unified: "stop" as const, raw: "stop" }, usage, warnings: [] });
const toolCall = (id: string, toolName: string, input: object) => ({
  content: [{ type: "tool-call" as const, toolCallId: id, toolName, input: JSON.stringify(input) }],
  finishReason: { unified: "tool-calls" as const, raw: "tool_calls" },
  usage,
  warnings: [],
});

const opened: Spectron[] = [];
function memory() {
  const m = makeMemory().memory;
  opened.push(m);
  return m;
}
afterEach(async () => {
  for (const m of opened.splice(0)) await m.close();
});

/** Everything the model was sent, as text. */
const sent = (model: MockLanguageModelV3, call = 0) => JSON.stringify(model.doGenerateCalls[call]?.prompt);

describe("spectron/ai-sdk middleware with generateText", () => {
  it("recalls before the call (the model's prompt holds the remembered fact) and ingests both turns after it", async () => {
    const mem = memory();
    await mem.ingest({ content: "I live in Lisbon.", scope: alice });
    const base = new MockLanguageModelV3({ doGenerate: text("Try the seafood in Alfama.") });
    const middleware = memoryMiddleware({ memory: mem, scope: alice });
    const model = wrapLanguageModel({ model: base, middleware });

    const { text: reply } = await generateText({ model, system: "You are a concierge.", prompt: "Where should I eat tonight near where I live?" });
    expect(reply).toBe("Try the seafood in Alfama.");
    const prompt = base.doGenerateCalls[0]!.prompt;
    // The caller's system message first, then the memory, then the conversation.
    expect(prompt.map((m) => m.role)).toEqual(["system", "system", "user"]);
    expect(prompt[0]).toMatchObject({ content: "You are a concierge." });
    expect(prompt[1]!.content).toMatch(/User lives in Lisbon\./);

    await middleware.flush();
    const turns = await mem.turns.list({ scope: alice });
    expect(turns.map((t) => [t.role, t.content]).sort()).toEqual(
      [
        ["assistant", "Try the seafood in Alfama."],
        ["user", "I live in Lisbon."],
        ["user", "Where should I eat tonight near where I live?"],
      ].sort(),
    );
  });

  it("another scope's memory is not injected", async () => {
    const mem = memory();
    await mem.ingest({ content: "I live in Lisbon.", scope: alice });
    const base = new MockLanguageModelV3({ doGenerate: text("Anywhere you like.") });
    const model = wrapLanguageModel({ model: base, middleware: memoryMiddleware({ memory: mem, scope: bob, ingest: false }) });
    await generateText({ model, prompt: "Where do I live?" });
    expect(sent(base)).not.toMatch(/Lisbon/);
    expect(await mem.turns.list({ scope: bob })).toHaveLength(0);
  });

  it("a failed model call still stores the user's turn; the error reaches the caller", async () => {
    const mem = memory();
    const base = new MockLanguageModelV3({
      doGenerate: async () => {
        throw new Error("provider down");
      },
    });
    const model = wrapLanguageModel({ model: base, middleware: memoryMiddleware({ memory: mem, scope: alice, ingest: "await" }) });
    await expect(generateText({ model, prompt: "I live in Porto.", maxRetries: 0 })).rejects.toThrow("provider down");
    const turns = await mem.turns.list({ scope: alice });
    expect(turns.map((t) => [t.role, t.content])).toEqual([["user", "I live in Porto."]]);
    expect((await mem.query("Where do I live?", { scope: alice })).map((r) => r.value)).toContain("Porto");
  });

  it("a failed memory read never fails the model call: it goes on without memory, and the failure is reported", async () => {
    const mem = memory();
    await mem.ingest({ content: "I live in Lisbon.", scope: alice });
    const errors: unknown[] = [];
    const base = new MockLanguageModelV3({ doGenerate: text("Hello.") });
    // A principal with no grant on alice's scope: the read is denied.
    const middleware = memoryMiddleware({ memory: mem, scope: alice, call: { principal: { id: "intruder", grants: [] } }, onError: (e) => errors.push(e) });
    const { text: reply } = await generateText({ model: wrapLanguageModel({ model: base, middleware }), prompt: "Where do I live?" });
    expect(reply).toBe("Hello.");
    expect(sent(base)).not.toMatch(/Lisbon/);
    await middleware.flush();
    expect(errors[0]).toBeInstanceOf(AccessDeniedError);
    // The writes were denied too, and reported rather than thrown at the caller.
    expect(errors.filter((e) => e instanceof AccessDeniedError).length).toBe(3);
  });

  it("without onError, background failures are thrown by flush()", async () => {
    const mem = memory();
    const base = new MockLanguageModelV3({ doGenerate: text("Hi.") });
    const middleware = memoryMiddleware({ memory: mem, scope: alice, call: { principal: { id: "reader", grants: [{ scope: alice, permissions: ["read"] }] } } });
    await generateText({ model: wrapLanguageModel({ model: base, middleware }), prompt: "Hello there." });
    await expect(middleware.flush()).rejects.toThrow(AggregateError);
    await expect(middleware.flush()).resolves.toBeUndefined();
  });

  it("streamText: the streamed reply is ingested once the stream ends", async () => {
    const mem = memory();
    const base = new MockLanguageModelV3({
      doStream: {
        stream: convertArrayToReadableStream([
          { type: "text-start", id: "t" },
          { type: "text-delta", id: "t", delta: "Lisbon is " },
          { type: "text-delta", id: "t", delta: "lovely." },
          { type: "text-end", id: "t" },
          { type: "finish", finishReason: { unified: "stop", raw: "stop" }, usage },
        ]),
      },
    });
    const middleware = memoryMiddleware({ memory: mem, scope: alice });
    const result = streamText({ model: wrapLanguageModel({ model: base, middleware }), prompt: "Tell me about Lisbon." });
    expect(await result.text).toBe("Lisbon is lovely.");
    await middleware.flush();
    const turns = await mem.turns.list({ scope: alice });
    expect(turns.map((t) => t.content).sort()).toEqual(["Lisbon is lovely.", "Tell me about Lisbon."]);
  });
});

describe("spectron/ai-sdk tools in a generateText tool loop", () => {
  it("remember, recall and forget, called by a model", async () => {
    const mem = memory();
    const model = new MockLanguageModelV3({
      doGenerate: [
        toolCall("1", "remember", { content: "I live in Lisbon." }),
        toolCall("2", "recall", { question: "Where does the user live?" }),
        text("You live in Lisbon."),
      ],
    });
    const tools = memoryTools({ memory: mem, scope: alice });
    const result = await generateText({ model, tools, stopWhen: stepCountIs(5), prompt: "Remember that I live in Lisbon, then tell me where I live." });
    expect(result.text).toBe("You live in Lisbon.");
    const results = result.steps.flatMap((s) => s.toolResults);
    expect(results.map((r) => r.toolName)).toEqual(["remember", "recall"]);
    const remembered = results[0]!.output as { remembered: { id: string; text: string; outcome: string }[] };
    expect(remembered.remembered).toEqual([expect.objectContaining({ text: "User lives in Lisbon.", outcome: "created" })]);
    const recalled = results[1]!.output as { answer: string; records: { id: string; text: string }[] };
    expect(recalled.records.map((r) => r.text)).toContain("User lives in Lisbon.");
    // The tool results went back to the model in the next step.
    expect(sent(model, 2)).toMatch(/User lives in Lisbon\./);

    const id = remembered.remembered[0]!.id;
    const forgetting = new MockLanguageModelV3({ doGenerate: [toolCall("3", "forget", { id }), text("Done.")] });
    const forgot = await generateText({ model: forgetting, tools, stopWhen: stepCountIs(3), prompt: "Forget where I live." });
    expect(forgot.steps[0]!.toolResults[0]!.output).toEqual({ forgotten: { id, text: "User lives in Lisbon." } });
    expect((await mem.state.get(id)).status).toBe("forgotten");
  });

  it("forget refuses a record outside the bound scope, and a bad id comes back as an error the model can read", async () => {
    const mem = memory();
    const alices = await mem.ingest({ content: "I live in Lisbon.", scope: alice });
    const id = alices.records[0]!.id;
    const model = new MockLanguageModelV3({ doGenerate: [toolCall("1", "forget", { id }), toolCall("2", "forget", { id: "nonsense" }), text("Ok.")] });
    const result = await generateText({ model, tools: memoryTools({ memory: mem, scope: bob }), stopWhen: stepCountIs(4), prompt: "Forget it." });
    const outputs = result.steps.flatMap((s) => s.toolResults.map((r) => r.output as { error?: string }));
    expect(outputs[0]).toEqual({ error: `No record ${id} in this memory.` });
    expect(outputs[1]!.error).toMatch(/Invalid `id`/);
    expect((await mem.state.get(id)).status).toBe("current");
  });
});
