import { describe, expect, it } from "vitest";
import { composeResponse, NO_ANSWER } from "../src/models/local/composer.js";
import { splitSentences } from "../src/models/local/text.js";
import type { ResponseInput } from "../src/models/prompts/response.js";
import { makeMemory } from "./helpers.js";

const ana = { user: "ana" } as const;

async function profile() {
  const { memory } = makeMemory();
  for (const content of ["I live in Porto.", "My sister Anna lives in Berlin.", "I'm reading a book about volcanoes.", "I love hiking and jazz."]) {
    await memory.ingest({ content, scope: ana });
  }
  return memory;
}

describe("answers that answer (local composer, through recall)", () => {
  it("'Where do I live?' is answered from the user's location alone, not the sister's", async () => {
    const memory = await profile();
    const r = await memory.recall("Where do I live?", { scope: ana });
    expect(r.answer).toBe("You live in Porto.");
    // The sister's record is still among what was retrieved: only the answer is focused.
    expect(r.records.some((rec) => rec.text.includes("Berlin"))).toBe(true);
    await memory.close();
  });

  it("a document question never repeats a sentence, and quotes only the passage's sentences that answer", async () => {
    const { memory } = makeMemory();
    await memory.knowledge.add({
      title: "Refunds",
      text: "Refund policy. Refunds are issued within 14 days of purchase. Shipping is free over 50 euros. Gift cards cannot be refunded.",
      scope: ana,
    });
    for (const question of ["What is the refund policy?", "Are gift cards refunded?"]) {
      const { answer } = await memory.recall(question, { scope: ana });
      const sentences = splitSentences(answer);
      expect(new Set(sentences).size, answer).toBe(sentences.length);
      expect(answer).toContain("Gift cards cannot be refunded.");
      expect(answer).not.toContain("Shipping");
    }
    await memory.close();
  });

  it("says it does not know when the records retrieved are unrelated to the question", async () => {
    const memory = await profile();
    for (const question of ["What is the capital of Peru?", "Which car do I drive?", "When is my dentist appointment?"]) {
      const r = await memory.recall(question, { scope: ana });
      expect(r.records.length, question).toBeGreaterThan(0); // something was retrieved, none of it relevant
      expect(r.answer, question).toBe(NO_ANSWER);
    }
    // …and still answers what memory holds.
    expect((await memory.recall("What do I love?", { scope: ana })).answer).toMatch(/^You like (hiking and jazz|jazz and hiking)\.$/);
    expect((await memory.recall("What book am I reading?", { scope: ana })).answer).toBe("User is reading a book about volcanoes.");
    await memory.close();
  });
});

describe("a \"don't know\" is not cached", () => {
  it("a question memory could not answer is answered once the fact is stated", async () => {
    const memory = await profile();
    expect((await memory.recall("Which car do I drive?", { scope: ana })).answer).toBe(NO_ANSWER);
    await memory.ingest({ content: "I drive a red Tesla.", scope: ana });
    const again = await memory.recall("Which car do I drive?", { scope: ana });
    expect(again.tier).toBe(3);
    expect(again.answer).toContain("Tesla");
    await memory.close();
  });
});

describe("the composer's relevance rule", () => {
  const rec = (id: string, text: string, entities: string[], extra: Partial<ResponseInput["records"][number]> = {}) => ({
    id, text, kind: "context", status: "current", subject: "user", attribute: null, value: null, created_at: "2023-05-08T00:00:00.000Z", entities, ...extra,
  });

  it("a question about one person is not answered from what another said (LoCoMo category 5)", () => {
    const records = [rec("m1", "User ran a charity race for mental health last Saturday.", ["melanie"])];
    expect(composeResponse({ query: "What did Caroline do at the charity race?", records }).answer).toBe(NO_ANSWER);
    expect(composeResponse({ query: "What did Melanie do at the charity race?", records }).answer).toBe("User ran a charity race for mental health last Saturday.");
  });

  it("a record about what its speaker said answers a question about the speaker, not about someone it names", () => {
    // Caroline's turn names Melanie: the record is linked to both, but "User" in it is Caroline.
    const records = [rec("c1", "User realized self-care is important after the charity race, Melanie.", ["Caroline", "Melanie"], { speaker: "Caroline" })];
    expect(composeResponse({ query: "What did Melanie realize after the charity race?", records }).answer).toBe(NO_ANSWER);
    expect(composeResponse({ query: "What did Caroline realize after the charity race?", records }).answer).toBe(records[0]!.text);
    // Without a speaker (one user talking to an assistant), the names decide as before.
    const { speaker: _, ...unspoken } = records[0]!;
    expect(composeResponse({ query: "What did Melanie realize after the charity race?", records: [unspoken] }).answer).toBe(records[0]!.text);
  });

  it("what a speaker says in the second person is about whom they talk to, not about themselves", () => {
    // Melanie restating Caroline's news: the record is Melanie's, but it is about Caroline.
    const records = [rec("m1", "You ran a charity race for mental health?", ["Melanie"], { speaker: "Melanie" })];
    expect(composeResponse({ query: "What did Melanie run for mental health?", records }).answer).toBe(NO_ANSWER);
    const told = [rec("m2", "User ran a charity race for mental health.", ["Melanie"], { speaker: "Melanie" })];
    expect(composeResponse({ query: "What did Melanie run for mental health?", records: told }).answer).toBe(told[0]!.text);
  });

  it("through recall: a turn's speaker is who its \"User\" is", async () => {
    const { memory } = makeMemory();
    const scope = { conversation: "c1" };
    await memory.ingest({ content: "Melanie, I realized self-care is really important after the charity race.", speaker: "Caroline", scope });
    await memory.ingest({ content: "That's great to hear!", speaker: "Melanie", scope });
    expect((await memory.recall("What did Melanie realize after the charity race?", { scope })).answer).toBe(NO_ANSWER);
    expect((await memory.recall("What did Caroline realize after the charity race?", { scope })).answer).toMatch(/self-care/);
    await memory.close();
  });

  it("never says the same sentence twice, even from two records", () => {
    const records = [rec("a", "Refunds are issued within 14 days.", []), rec("b", "Refunds are issued within 14 days!", [])];
    expect(composeResponse({ query: "When are refunds issued?", records })).toEqual({ answer: "Refunds are issued within 14 days.", used: ["a"] });
  });

  it("a threshold of 0 answers from whatever is retrieved; 1 needs every term of the question", () => {
    const records = [rec("a", "User likes hiking.", [])];
    expect(composeResponse({ query: "Anything new?", records }, 0).answer).toBe("User likes hiking.");
    expect(composeResponse({ query: "Anything new?", records }).answer).toBe(NO_ANSWER);
    expect(composeResponse({ query: "Do I like hiking in winter?", records }, 1).answer).toBe(NO_ANSWER);
  });
});
