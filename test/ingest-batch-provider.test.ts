// Batch ingest with a real provider: the real `openai` SDK against the fake server (test/fakes). One extraction
// request carries every message; the reply's `message` numbers route facts to their turns.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ProviderError, type Spectron } from "../src/index.js";
import { startFakeProvider, type FakeProvider } from "./fakes/fake-provider.js";
import { alice, makeMemory } from "./helpers.js";

const fact = (message: number, attribute: string, value: string, text: string) => ({
  kind: "attribute",
  memory_category: "identity",
  subject: "user",
  attribute,
  value,
  cardinality: "one",
  text,
  confidence: 0.9,
  entities: [value],
  message,
});

let server: FakeProvider;
const opened: Spectron[] = [];
beforeAll(async () => {
  server = await startFakeProvider();
});
beforeEach(() => server.reset());
afterAll(async () => {
  for (const m of opened) await m.close();
  await server.close();
});

function openai() {
  const { memory } = makeMemory({
    providers: { openai: { apiKey: "sk-test-batch-0000", baseURL: server.openaiURL } },
    models: { extraction: "gpt-4o-mini", embedding: "text-embedding-3-small" },
    provider: { maxRetries: 0, timeoutMs: 2_000 },
  });
  opened.push(memory);
  return memory;
}

const chat = () => server.requests.filter((r) => r.path.endsWith("/chat/completions"));
const embeddings = () => server.requests.filter((r) => r.path.endsWith("/embeddings"));

describe("batch ingest against a real SDK", () => {
  it("sends every message in one extraction request and one embedding request, and files each fact under its turn", async () => {
    const memory = openai();
    server.script({
      json: { facts: [fact(0, "location", "Lisbon", "User lives in Lisbon."), fact(2, "employer", "Initech", "User works at Initech.")] },
    });
    const { turns } = await memory.ingest({
      messages: [{ content: "I live in Lisbon." }, { content: "Hello!" }, { content: "I work at Initech." }],
      scope: alice,
    });
    expect(chat()).toHaveLength(1);
    expect(embeddings()).toHaveLength(1);
    const sent = JSON.stringify(chat()[0]!.body);
    for (const m of ["Message 0", "I live in Lisbon.", "Message 1", "Hello!", "Message 2", "I work at Initech."]) expect(sent).toContain(m);
    expect(turns.map((t) => t.records.map((r) => r.text))).toEqual([["User lives in Lisbon."], [], ["User works at Initech."]]);
    expect(memory.usage().extraction!.calls).toBe(1);
  });

  it("a reply that names a message past the last is a ProviderError, and every turn stays pending", async () => {
    const memory = openai();
    server.script({ json: { facts: [fact(5, "location", "Lisbon", "User lives in Lisbon.")] } });
    await expect(memory.ingest({ messages: [{ content: "I live in Lisbon." }, { content: "Hi." }], scope: alice })).rejects.toBeInstanceOf(ProviderError);
    expect((await memory.turns.list({ status: "pending" })).map((t) => t.content)).toEqual(["I live in Lisbon.", "Hi."]);
    expect((await memory.state.list({ scope: alice })).records).toEqual([]);
  });
});
