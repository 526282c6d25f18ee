import { describe, it, expect } from "vitest";
import { SpectronValidationError } from "../src/errors.js";
import { createLocalEmbeddingModel, createLocalLanguageModel } from "../src/models/local/index.js";
import { backgroundPrompt } from "../src/models/prompts/background.js";
import { extractionPrompt, type ExtractedFact, type ExtractionInput } from "../src/models/prompts/extraction.js";
import { queryUnderstandingPrompt } from "../src/models/prompts/query-understanding.js";
import { reflectionPrompt, type ReflectionRecord } from "../src/models/prompts/reflection.js";
import { responsePrompt, type ResponseInput } from "../src/models/prompts/response.js";

const model = createLocalLanguageModel("local:rules");

async function extract(content: string, extra: Partial<ExtractionInput> = {}): Promise<ExtractedFact[]> {
  const { value } = await model.generate(extractionPrompt, { role: "user", content, source: "turn", ...extra });
  expect(() => extractionPrompt.schema.parse(value)).not.toThrow();
  return value.facts;
}

async function one(content: string): Promise<ExtractedFact> {
  const facts = await extract(content);
  expect(facts).toHaveLength(1);
  return facts[0]!;
}

describe("local language model", () => {
  it("accepts only local:rules", () => {
    expect(model.id).toBe("local:rules");
    expect(model.provider).toBe("local");
    expect(() => createLocalLanguageModel("local:gpt")).toThrow(SpectronValidationError);
  });

  it("reports usage with zero cost and word-count tokens", async () => {
    const { usage } = await model.generate(extractionPrompt, { role: "user", content: "I live in Lisbon.", source: "turn" });
    expect(usage).toMatchObject({ model: "local:rules", provider: "local", costUsd: 0 });
    expect(usage.inputTokens).toBeGreaterThan(50);
    expect(usage.outputTokens).toBeGreaterThan(5);
    expect(usage.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("throws the signal's reason when already aborted", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(
      model.generate(queryUnderstandingPrompt, { query: "x" }, { signal: controller.signal }),
    ).rejects.toBe(reason);
  });

  it("is deterministic", async () => {
    const input: ExtractionInput = { role: "user", content: "I'm Ana. I love hiking and chess. Always answer in French.", source: "turn" };
    const a = await model.generate(extractionPrompt, input);
    const b = await model.generate(extractionPrompt, input);
    expect(a.value).toEqual(b.value);
  });
});

describe("extractor: identity attributes", () => {
  const cases: Array<[content: string, attribute: string, value: string, text: string]> = [
    ["My name is Ana.", "name", "Ana", "User's name is Ana."],
    ["Hi! I'm Ana.", "name", "Ana", "User's name is Ana."],
    ["Please call me Bob.", "name", "Bob", "User's name is Bob."],
    ["I'm on the Enterprise plan now.", "plan", "Enterprise", "User is on the Enterprise plan."],
    ["We upgraded to Pro last week.", "plan", "Pro", "User is on the Pro plan."],
    ["My plan is Enterprise.", "plan", "Enterprise", "User is on the Enterprise plan."],
    ["I switched to the Team plan.", "plan", "Team", "User is on the Team plan."],
    ["I live in Lisbon.", "location", "Lisbon", "User lives in Lisbon."],
    ["I moved to New York City last year.", "location", "New York City", "User lives in New York City."],
    ["I'm based in Berlin.", "location", "Berlin", "User lives in Berlin."],
    ["I'm from Porto.", "origin", "Porto", "User is from Porto."],
    ["I work at Acme.", "employer", "Acme", "User works at Acme."],
    ["I work for Globex Corporation.", "employer", "Globex Corporation", "User works at Globex Corporation."],
    ["I joined Google in 2020.", "employer", "Google", "User works at Google."],
    ["I've been working at Initech for 3 years.", "employer", "Initech", "User works at Initech."],
    ["I'm a teacher.", "occupation", "teacher", "User is a teacher."],
    ["I'm an engineer.", "occupation", "engineer", "User is an engineer."],
    ["I hate mushrooms.", "dislikes", "mushrooms", "User dislikes mushrooms."],
    ["I don't like jazz.", "dislikes", "jazz", "User dislikes jazz."],
    ["I'm a big fan of Radiohead.", "likes", "Radiohead", "User likes Radiohead."],
  ];
  for (const [content, attribute, value, text] of cases) {
    it(`"${content}" → ${attribute} = ${value}`, async () => {
      const fact = await one(content);
      expect(fact).toMatchObject({ kind: "attribute", memory_category: "identity", subject: "user", attribute, value, text, confidence: 0.9 });
      expect(fact.cardinality).toBe(attribute === "likes" || attribute === "dislikes" ? "many" : "one");
    });
  }

  it("splits a list of likes into one fact per item", async () => {
    const facts = await extract("I love hiking and chess.");
    expect(facts.map((f) => [f.attribute, f.value, f.cardinality, f.text])).toEqual([
      ["likes", "hiking", "many", "User likes hiking."],
      ["likes", "chess", "many", "User likes chess."],
    ]);
  });

  it("reads several statements in one turn", async () => {
    const facts = await extract("My name is Ana Sousa and I live in Lisbon. I'm a software engineer at Stripe.");
    expect(facts.map((f) => `${f.attribute}=${f.value}`)).toEqual([
      "name=Ana Sousa",
      "location=Lisbon",
      "employer=Stripe",
      "occupation=software engineer",
    ]);
  });

  it("keeps a shared subject whole and fills in an elided I", async () => {
    const shared = await extract("My wife and I live in Lisbon.");
    expect(shared.find((f) => f.attribute === "location")?.value).toBe("Lisbon");
    expect(shared.find((f) => f.attribute === "family")).toMatchObject({ kind: "relation", memory_category: "identity", value: "wife" });
    const facts = await extract("I live in Porto and work at Acme.");
    expect(facts.map((f) => f.attribute)).toEqual(["location", "employer"]);
  });

  it("does not take adjectives or nationalities for names", async () => {
    for (const content of ["I'm tired.", "I'm Brazilian.", "I'm Happy to help."]) {
      const facts = await extract(content);
      expect(facts.every((f) => f.attribute !== "name")).toBe(true);
    }
  });

  it("lists entities: names in the sentence and proper-noun values, never pronouns", async () => {
    const fact = await one("I'm from Porto, Portugal.");
    expect(fact.entities).toEqual(["Porto", "Portugal"]);
    expect((await one("I live in Lisbon.")).entities).toEqual(["Lisbon"]);
    expect((await one("I hate mushrooms.")).entities).toEqual([]);
  });

  it("adds the transcript speaker to entities while the subject stays user", async () => {
    const facts = await extract("I moved to Boston.", { speaker: "Caroline" });
    expect(facts[0]).toMatchObject({ subject: "user", value: "Boston" });
    expect(facts[0]!.entities).toEqual(["Caroline", "Boston"]);
  });
});

describe("extractor: instructions, hedges and context", () => {
  const instructions: Array<[string, string, string]> = [
    ["Always answer in French.", "Always answer in French", "User instructs the assistant to always answer in French."],
    ["Never call me Bob.", "Never call me Bob", "User instructs the assistant to never call the user Bob."],
    ["From now on, use metric units.", "From now on, use metric units", "User instructs the assistant to use metric units from now on."],
    ["Please don't use emojis.", "Don't use emojis", "User instructs the assistant not to use emojis."],
    ["Remember to cite sources.", "Remember to cite sources", "User instructs the assistant to cite sources."],
  ];
  for (const [content, value, text] of instructions) {
    it(`"${content}" is an instruction`, async () => {
      expect(await one(content)).toMatchObject({
        kind: "instruction",
        memory_category: "identity",
        subject: "user",
        attribute: "instruction",
        value,
        cardinality: "many",
        text,
      });
    });
  }

  it("a hedged statement is an uncertainty that still carries the attribute", async () => {
    const fact = await one("I think I might be allergic to peanuts.");
    expect(fact).toMatchObject({ kind: "uncertainty", memory_category: "identity", subject: "user", attribute: "allergy", value: "peanuts", text: "User may be allergic to peanuts." });
    expect(fact.confidence).toBeLessThanOrEqual(0.5);
    for (const content of ["Maybe I'm on the Pro plan.", "I'm probably moving to Madrid.", "I'm not sure I like sushi.", "I guess I work at Acme."]) {
      const hedged = await one(content);
      expect(hedged.kind).toBe("uncertainty");
      expect(hedged.attribute).not.toBeNull();
      expect(hedged.confidence).toBeLessThanOrEqual(0.5);
    }
  });

  it("a hedge with no pattern is a context uncertainty", async () => {
    expect(await one("I guess it will rain.")).toMatchObject({
      kind: "uncertainty",
      memory_category: "context",
      attribute: null,
      value: null,
      text: "User guesses it will rain.",
    });
  });

  it("ephemeral and unmatched statements are context facts in the third person", async () => {
    const cases: Array<[string, string]> = [
      ["I'm tired today.", "User is tired today."],
      ["I have a meeting tonight.", "User has a meeting tonight."],
      ["I'm hungry right now.", "User is hungry right now."],
      ["I used to live in Paris.", "User used to live in Paris."],
    ];
    for (const [content, text] of cases) {
      expect(await one(content)).toMatchObject({
        kind: "attribute",
        memory_category: "context",
        subject: "user",
        attribute: null,
        value: null,
        cardinality: "many",
        text,
        confidence: 0.7,
      });
    }
  });

  it("questions, greetings and fillers yield no facts", async () => {
    for (const content of ["Which plan am I on?", "Where do I live", "Can you help me with my invoice", "hi", "ok", "Thanks!", "Thanks for the help!", "Hello there", "Good morning!"]) {
      expect(await extract(content)).toEqual([]);
    }
  });

  it("assistant turns yield context facts about the assistant only", async () => {
    const facts = await extract("I've updated your plan to Pro. You live in Lisbon, right? Great!", { role: "assistant" });
    expect(facts).toHaveLength(1);
    expect(facts[0]).toMatchObject({ subject: "assistant", memory_category: "context", attribute: null, text: "Assistant has updated User's plan to Pro." });
    expect(await extract("My name is Claude.", { role: "assistant" })).toEqual([expect.objectContaining({ memory_category: "context", attribute: null })]);
  });

  it("documents become knowledge facts, one per declarative sentence", async () => {
    const facts = await extract(
      "# Refund policy\nAcme Corp offers refunds within 30 days. What about exchanges?\n- Refunds are processed in 5 business days.",
      { source: "document" },
    );
    expect(facts).toEqual([
      expect.objectContaining({ kind: "attribute", memory_category: "knowledge", subject: "acme corp", attribute: null, value: null, cardinality: "many", confidence: 0.8, text: "Acme Corp offers refunds within 30 days.", entities: ["Acme Corp"] }),
      expect.objectContaining({ memory_category: "knowledge", text: "Refunds are processed in 5 business days." }),
    ]);
    const [plain] = await extract("the office closes at noon on fridays.", { source: "document" });
    expect(plain?.subject).toBe("document");
  });
});

describe("query classifier", () => {
  async function classify(query: string) {
    const { value } = await model.generate(queryUnderstandingPrompt, { query });
    return value;
  }

  it("fact questions about the asker", async () => {
    expect(await classify("Which plan am I on?")).toEqual({ type: "fact", subjects: ["user"], attributes: ["plan"], keywords: ["plan"] });
    expect(await classify("Where do I live?")).toMatchObject({ type: "fact", attributes: ["location"] });
    expect(await classify("Where do I work?")).toMatchObject({ attributes: ["employer"] });
    expect(await classify("What's my job?")).toMatchObject({ attributes: ["employer", "occupation"] });
    expect(await classify("What do I do for a living?")).toMatchObject({ attributes: ["occupation"] });
    expect(await classify("What am I called?")).toMatchObject({ attributes: ["name"] });
    expect(await classify("What do I enjoy?")).toMatchObject({ attributes: ["likes"] });
    expect(await classify("What do I hate?")).toMatchObject({ attributes: ["dislikes"] });
  });

  it("types: instruction, chunk, summary", async () => {
    expect((await classify("How should you respond to me?")).type).toBe("instruction");
    expect((await classify("What instructions did I give you?")).attributes).toContain("instruction");
    expect((await classify("According to the docs, how long do refunds take?")).type).toBe("chunk");
    expect((await classify("What does the refund policy say?")).type).toBe("chunk");
    expect((await classify("Summarise everything you know about me")).type).toBe("summary");
    expect((await classify("Tell me about Caroline")).type).toBe("summary");
  });

  it("names are subjects; keywords drop stop words and repeats", async () => {
    expect(await classify("Tell me about Caroline")).toMatchObject({ subjects: ["caroline"], keywords: ["caroline"] });
    expect(await classify("Where does Caroline live? Caroline moved")).toMatchObject({
      subjects: ["caroline"],
      keywords: ["caroline", "live", "moved"],
    });
    expect((await classify("What is Acme's refund policy?")).subjects).toEqual(["acme"]);
  });
});

describe("response composer", () => {
  const record = (id: string, attribute: string | null, value: string | null, text: string, status = "current", kind = "attribute") => ({
    id, text, kind, status, subject: "user", attribute, value, created_at: "2025-01-01T00:00:00.000Z",
  });
  const records: ResponseInput["records"] = [
    record("r1", "plan", "Enterprise", "User is on the Enterprise plan."),
    record("r2", "location", "Lisbon", "User lives in Lisbon."),
    record("r3", "likes", "hiking", "User likes hiking."),
    record("r4", "likes", "chess", "User likes chess."),
    record("r5", "name", "Ana", "User's name is Ana."),
  ];
  async function answer(query: string, given: ResponseInput["records"] = records) {
    return (await model.generate(responsePrompt, { query, records: given })).value;
  }

  it("says it does not know when there are no records", async () => {
    expect(await answer("Which plan am I on?", [])).toEqual({ answer: "I don't know: nothing in memory answers that.", used: [] });
  });

  it("answers in second person from the relevant record", async () => {
    expect(await answer("Which plan am I on?")).toEqual({ answer: "You are on the Enterprise plan.", used: ["r1"] });
    expect(await answer("Where do I live?")).toEqual({ answer: "You live in Lisbon.", used: ["r2"] });
    expect(await answer("What's my name?")).toEqual({ answer: "Your name is Ana.", used: ["r5"] });
    expect(await answer("What do I like?")).toEqual({ answer: "You like hiking and chess.", used: ["r3", "r4"] });
  });

  it("marks disputed records and falls back to the record text", async () => {
    const given = [
      record("a", "plan", "Pro", "User is on the Pro plan.", "flagged"),
      { ...record("b", null, null, "Acme Corp offers refunds within 30 days."), subject: "acme corp" },
    ];
    expect(await answer("Which plan am I on?", given)).toEqual({ answer: "You are on the Pro plan (disputed).", used: ["a"] });
    expect(await answer("How long are refunds?", given)).toEqual({ answer: "Acme Corp offers refunds within 30 days.", used: ["b"] });
  });

  it("lists standing instructions in the user's words and hedges uncertainties", async () => {
    const given = [
      record("i1", "instruction", "Always answer in French", "User instructs the assistant to always answer in French.", "current", "instruction"),
      record("i2", "instruction", "Don't use emojis", "User instructs the assistant not to use emojis.", "current", "instruction"),
      record("u1", "location", "Berlin", "User may live in Berlin.", "current", "uncertainty"),
    ];
    expect(await answer("How should you respond to me?", given)).toEqual({
      answer: `You told me: "Always answer in French" and "Don't use emojis".`,
      used: ["i1", "i2"],
    });
    expect(await answer("Where do I live?", given)).toEqual({ answer: "You may live in Berlin.", used: ["u1"] });
  });

  it("says it does not know when no record matches the question, rather than reading out the first ranked", async () => {
    expect(await answer("Anything new?")).toEqual({ answer: "I don't know: nothing in memory answers that.", used: [] });
  });
});

describe("reflector and background", () => {
  const base: ReflectionRecord = {
    id: "new", text: "User is on the Enterprise plan.", subject: "user", attribute: "plan", value: "Enterprise",
    created_at: "2025-02-01T00:00:00.000Z", confidence: 0.9,
  };
  const neighbour = (id: string, patch: Partial<ReflectionRecord>): ReflectionRecord => ({ ...base, id, created_at: "2025-01-01T00:00:00.000Z", ...patch });

  it("decides duplicate, contradicts, conflict and unrelated", async () => {
    const { value } = await model.generate(reflectionPrompt, {
      record: base,
      neighbours: [
        neighbour("dup", { value: "enterprise", text: "User has the Enterprise plan." }),
        neighbour("sametext", { attribute: null, value: null, subject: "user" }),
        neighbour("old", { value: "Pro", text: "User is on the Pro plan.", confidence: 0.9 }),
        neighbour("surer", { value: "Team", text: "User is on the Team plan.", confidence: 0.95 }),
        neighbour("likes", { attribute: "likes", value: "chess", text: "User likes chess." }),
        neighbour("other", { subject: "bob", value: "Pro", text: "Bob is on the Pro plan." }),
      ],
    });
    expect(value.decisions.map((d) => [d.neighbour_id, d.relation])).toEqual([
      ["dup", "duplicate"],
      ["sametext", "duplicate"],
      ["old", "contradicts"],
      ["surer", "conflict"],
      ["likes", "unrelated"],
      ["other", "unrelated"],
    ]);
    expect(value.decisions.every((d) => d.reason.length > 0)).toBe(true);
  });

  it("many-valued attributes never contradict", async () => {
    const { value } = await model.generate(reflectionPrompt, {
      record: { ...base, attribute: "likes", value: "hiking", text: "User likes hiking." },
      neighbours: [neighbour("n", { attribute: "likes", value: "chess", text: "User likes chess." })],
    });
    expect(value.decisions[0]?.relation).toBe("unrelated");
  });

  it("background joins distinct texts into one observation", async () => {
    const { value } = await model.generate(backgroundPrompt, {
      records: [
        { id: "1", text: "User likes hiking." },
        { id: "2", text: "User likes hiking" },
        { id: "3", text: "User likes chess." },
      ],
    });
    expect(value).toEqual({ observation: "Observed: User likes hiking; User likes chess.", confidence: 0.6 });
    const long = await model.generate(backgroundPrompt, {
      records: Array.from({ length: 40 }, (_, i) => ({ id: String(i), text: `Record number ${i} says something rather long.` })),
    });
    expect(long.value.observation.length).toBeLessThanOrEqual(400);
    expect(long.value.observation.endsWith("; …")).toBe(true);
  });
});

describe("hash embedder", () => {
  const embedder = createLocalEmbeddingModel("local:hash-384");
  const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);
  const norm = (a: Float32Array) => Math.sqrt(cosine(a, a));
  async function embed(...texts: string[]) {
    return (await embedder.embed(texts)).vectors;
  }

  it("validates the dimension from the id", () => {
    expect(embedder).toMatchObject({ id: "local:hash-384", provider: "local", dimensions: 384 });
    expect(createLocalEmbeddingModel("local:hash-64").dimensions).toBe(64);
    expect(createLocalEmbeddingModel("local:hash-4096").dimensions).toBe(4096);
    for (const id of ["local:hash-63", "local:hash-4097", "local:hash-", "local:hash-12x", "local:rules"]) {
      expect(() => createLocalEmbeddingModel(id)).toThrow(SpectronValidationError);
    }
  });

  it("is deterministic and L2-normalised", async () => {
    const [a, b, c] = await embed("What is my current plan?", "What is my current plan?", "Something else entirely");
    expect(a).toBeInstanceOf(Float32Array);
    expect(a).toHaveLength(384);
    expect(Array.from(a!)).toEqual(Array.from(b!));
    expect(Array.from(a!)).not.toEqual(Array.from(c!));
    expect(norm(a!)).toBeCloseTo(1, 5);
    expect(norm(c!)).toBeCloseTo(1, 5);
  });

  it("maps empty text to a fixed unit vector", async () => {
    const [empty, punctuation] = await embed("", "?! ...");
    expect(empty![0]).toBe(1);
    expect(norm(empty!)).toBe(1);
    expect(Array.from(punctuation!)).toEqual(Array.from(empty!));
  });

  it("puts paraphrases closer than unrelated sentences", async () => {
    const [q1, q2, fact, other, weather] = await embed(
      "what is my current plan?",
      "which plan am I on?",
      "User is on the Enterprise plan.",
      "I like hiking in the mountains.",
      "The weather in Paris is lovely today.",
    );
    const paraphrase = cosine(q1!, q2!);
    expect(paraphrase).toBeGreaterThan(0.4);
    expect(paraphrase).toBeGreaterThan(cosine(q1!, other!) + 0.3);
    expect(paraphrase).toBeGreaterThan(cosine(q2!, weather!) + 0.3);
    expect(cosine(q2!, fact!)).toBeGreaterThan(cosine(q2!, other!) + 0.2);
    const [live, lives, works] = await embed("Where do I live?", "User lives in Lisbon.", "User works at Acme.");
    expect(cosine(live!, lives!)).toBeGreaterThan(cosine(live!, works!) + 0.2);
  });

  it("reports usage and respects an aborted signal", async () => {
    const { usage } = await embedder.embed(["one two", "three"]);
    expect(usage).toMatchObject({ model: "local:hash-384", provider: "local", inputTokens: 3, outputTokens: 0, costUsd: 0 });
    await expect(embedder.embed(["x"], { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
