import { describe, expect, it } from "vitest";
import { createLocalLanguageModel } from "../src/models/local/index.js";
import { extractionPrompt, type ExtractedFact } from "../src/models/prompts/extraction.js";

// The rule-based extractor (local:rules), one general behaviour per test: each reads a class of statements
// (a pattern or a word list), shown here on sentences that are not in bench/extraction-set.json where possible.

const model = createLocalLanguageModel("local:rules");

async function extract(content: string): Promise<ExtractedFact[]> {
  const { value } = await model.generate(extractionPrompt, { role: "user", content, source: "turn" });
  return value.facts;
}

async function fact(content: string, attribute: string): Promise<ExtractedFact | undefined> {
  return (await extract(content)).find((f) => f.attribute === attribute);
}

describe("plans are not the facts they aim at", () => {
  it('"I want to become a nurse" is a plan, not an occupation (a verb starting with "be" is no state)', async () => {
    const facts = await extract("I want to become a paramedic.");
    expect(facts.find((f) => f.attribute === "intends")).toMatchObject({ kind: "attribute", memory_category: "identity", value: "become a paramedic" });
    expect(facts.some((f) => f.attribute === "occupation")).toBe(false);
    expect(await fact("We hope to begin renovating next year.", "intends")).toMatchObject({ kind: "uncertainty", value: "begin renovating" });
  });
});

describe("work", () => {
  it("an occupation after \"I'm the\" is read by its job noun; other things after \"I'm the\" are not jobs", async () => {
    expect(await fact("I'm the head chef at a restaurant in Soho.", "occupation")).toMatchObject({ value: "head chef", memory_category: "identity" });
    expect(await fact("I'm now the lead engineer on the payments team.", "occupation")).toMatchObject({ value: "lead engineer" });
    expect(await fact("I'm the oldest of four.", "occupation")).toBeUndefined();
  });

  it("how one works may sit between the verb and the employer", async () => {
    const facts = await extract("I work part-time at the library.");
    expect(facts.find((f) => f.attribute === "employer")).toMatchObject({ value: "library", text: "User works at the library." });
    expect(facts.find((f) => f.attribute === "work_mode")).toMatchObject({ value: "part-time" });
  });

  it('a second verb without its "I" after "and now" is still read: "… and now work at IKEA"', async () => {
    expect(await fact("I switched careers last year and now work at Lego.", "employer")).toMatchObject({ value: "Lego", memory_category: "identity" });
  });

  it("a state of work takes adverbs before it", async () => {
    expect(await fact("I'm currently out of work.", "occupation")).toMatchObject({ value: "out of work", text: "User is out of work." });
  });

  it("an owned business is an occupation by its head noun, with a grammatical text; other things owned or run are not", async () => {
    expect(await fact("I run a little family bakery in Porto.", "occupation")).toMatchObject({ value: "owns a bakery", text: "User owns a bakery." });
    expect(await fact("I manage a small hotel.", "occupation")).toMatchObject({ value: "manages a hotel", text: "User manages a hotel." });
    expect(await fact("I run a marathon every year.", "occupation")).toBeUndefined();
    expect(await fact("I own a small boat.", "occupation")).toBeUndefined();
    expect((await extract("I own a small boat."))[0]?.text).toBe("User owns a small boat.");
  });
});

describe("places and people", () => {
  it('"born and raised in" and "born and bred in" are an origin', async () => {
    expect(await fact("I was born and bred in Leeds.", "origin")).toMatchObject({ value: "Leeds", text: "User is from Leeds." });
  });

  it('a friend with a modifier ("my best friend Sam", "my old colleague Mei") gets facts of their own', async () => {
    const facts = await extract("My old colleague Ravi lives in Pune.");
    expect(facts.find((f) => f.subject === "ravi")).toMatchObject({ attribute: "location", value: "Pune", text: "Ravi lives in Pune." });
  });
});

describe("health", () => {
  it("a medicine taken for a condition is that condition; a named medicine alone is kept; 'medication' alone is not", async () => {
    expect(await fact("I take tablets for an underactive thyroid.", "health")).toMatchObject({ value: "underactive thyroid", memory_category: "identity" });
    expect(await fact("I'm on antidepressants.", "health")).toMatchObject({ value: "antidepressants", text: "User is on antidepressants." });
    expect(await fact("I take medication every morning.", "health")).toBeUndefined();
  });

  it("devices lived with are health facts, with an article when singular", async () => {
    expect(await fact("I have a pacemaker.", "health")).toMatchObject({ value: "pacemaker", text: "User has a pacemaker." });
    expect(await fact("I wear hearing aids.", "health")).toMatchObject({ value: "hearing aids", text: "User has hearing aids." });
  });

  it("a condition followed by how long it has lasted is the condition; followed by anything else it is not", async () => {
    expect(await fact("I've had psoriasis all my life.", "health")).toMatchObject({ value: "psoriasis", text: "User has psoriasis." });
    expect(await fact("I have anxiety about the exam.", "health")).toBeUndefined();
  });

  it('"I\'ve been diagnosed with …" is a diagnosis, not a state of being', async () => {
    expect(await fact("I've been diagnosed with epilepsy.", "health")).toMatchObject({ value: "epilepsy", memory_category: "identity" });
  });
});

describe("diet and age", () => {
  it("a diet as the object of eat or keep, with a text that reads", async () => {
    expect(await fact("We keep kosher.", "diet")).toMatchObject({ value: "kosher", text: "User keeps kosher." });
    expect(await fact("I only eat halal.", "diet")).toMatchObject({ value: "halal", text: "User eats halal." });
    expect(await fact("I eat vegan most days.", "diet")).toMatchObject({ value: "vegan" });
  });

  it("what is given up is avoided when it is something consumed; other things given up are not", async () => {
    expect(await fact("I quit caffeine in March.", "avoids")).toMatchObject({ value: "caffeine", text: "User avoids caffeine." });
    expect(await fact("I gave up sugar and alcohol.", "avoids")).toMatchObject({ value: "sugar" });
    expect(await fact("I gave up my seat on the bus.", "avoids")).toBeUndefined();
  });

  it("ages in words are ages; numbers in words before a unit are not", async () => {
    expect(await fact("I'm forty-two.", "age")).toMatchObject({ value: "forty-two", text: "User is forty-two years old." });
    expect(await fact("I just turned sixty.", "age")).toMatchObject({ value: "sixty" });
    expect(await fact("I'm twenty minutes away.", "age")).toBeUndefined();
    expect(await fact("I'm in my 30s.", "age")).toMatchObject({ text: "User is in their 30s." });
  });
});

describe("family, hobbies, education", () => {
  it('"a single mum/dad/parent" is single', async () => {
    expect(await fact("I'm a single dad of three.", "marital_status")).toMatchObject({ value: "single" });
  });

  it("collecting is a hobby", async () => {
    expect(await fact("I collect old stamps.", "hobby")).toMatchObject({ value: "collect old stamps", memory_category: "identity" });
  });

  it("a master's degree keeps its subject", async () => {
    expect(await fact("I have a master's degree in physics.", "education")).toMatchObject({ value: "master's degree in physics" });
  });
});

describe("questions that carry a statement", () => {
  it("a statement given as a reason or reported inside a question is kept; a condition is not", async () => {
    expect(await fact("Which pasta is safe since I'm coeliac?", "health")).toMatchObject({ value: "coeliac", memory_category: "identity" });
    expect(await fact("How do I tell my landlord that I'm moving to Leeds?", "intends")).toMatchObject({ value: "move to Leeds" });
    expect(await extract("What should I do if I'm stung by a wasp?")).toEqual([]);
    expect(await extract("How do I tell if I'm dehydrated?")).toEqual([]);
  });
});

describe("the second probe's classes", () => {
  it("employers named by an acronym, and the perfect \"I've worked at\"", async () => {
    expect(await fact("I work in logistics for DHL.", "employer")).toMatchObject({ value: "DHL" });
    expect(await fact("I've worked at Nokia since 2011.", "employer")).toMatchObject({ value: "Nokia", memory_category: "identity" });
  });

  it("handing in one's notice leaves the employer", async () => {
    expect(await fact("I handed in my notice at Boots.", "employer")).toMatchObject({ value: "not Boots" });
  });

  it('"for a living" is an occupation and "in my spare time" a hobby, whatever the verb', async () => {
    expect(await fact("I repair bikes for a living.", "occupation")).toMatchObject({ value: "repair bikes", memory_category: "identity" });
    expect(await fact("I build model trains in my spare time.", "hobby")).toMatchObject({ value: "build model trains" });
    expect(await fact("I worked late in my spare time.", "hobby")).toBeUndefined();
  });

  it("living near or just outside a named place is a location; near something unnamed is not", async () => {
    expect(await fact("We live near Bath.", "location")).toMatchObject({ value: "Bath" });
    expect(await fact("I live near the station.", "location")).toBeUndefined();
  });

  it('"I try to …" before a habit is still the habit', async () => {
    expect(await fact("I try to avoid gluten.", "avoids")).toMatchObject({ value: "gluten" });
  });

  it('intolerances written with a hyphen or as "intolerant to X", and conditions named by a phrase', async () => {
    expect(await fact("I'm gluten-intolerant.", "health")).toMatchObject({ value: "gluten-intolerant" });
    expect(await fact("I'm intolerant to fructose.", "health")).toMatchObject({ value: "fructose intolerant", text: "User is fructose intolerant." });
    expect(await fact("I get hay fever.", "health")).toMatchObject({ value: "hay fever" });
    expect(await fact("I have a fever.", "health")).toBeUndefined();
  });

  it("a birthday ahead is an age; separating from a partner is a marital status; items given up lose trailing adverbs", async () => {
    expect(await fact("I'll turn 45 in March.", "age")).toMatchObject({ value: "45" });
    expect(await fact("My wife and I divorced in 2020.", "marital_status")).toMatchObject({ value: "divorced" });
    expect(await fact("I gave up meat entirely.", "avoids")).toMatchObject({ value: "meat" });
  });

  it('"might have" is a possible state, not a plan; a progressive with a time ahead is a plan unless it is a state', async () => {
    const maybe = await extract("I might have a mould allergy.");
    expect(maybe.find((f) => f.attribute === "allergy")).toMatchObject({ kind: "uncertainty", value: "mould" });
    expect(maybe.some((f) => f.attribute === "intends")).toBe(false);
    expect(await fact("We're selling our flat next year.", "intends")).toMatchObject({ value: "sell our flat" });
    expect(await fact("We're expecting a baby in May.", "intends")).toBeUndefined();
    expect(await fact("I'm cooking dinner tonight.", "intends")).toBeUndefined();
  });

  it("a whole-sentence acknowledgement is no fact; a request that begins like one is", async () => {
    expect(await extract("Okay, go ahead.")).toEqual([]);
    expect(await extract("Perfect!")).toEqual([]);
    expect((await extract("Go ahead and book the table at Nando's.")).length).toBeGreaterThan(0);
  });
});

describe("the third probe's classes", () => {
  it('"I\'ve never been …" is a negation', async () => {
    expect(await fact("I've never been divorced.", "marital_status")).toMatchObject({ value: "not divorced" });
  });

  it("a habit kept off is avoided", async () => {
    expect(await fact("I don't drink.", "avoids")).toMatchObject({ value: "alcohol" });
    expect(await fact("I no longer vape.", "avoids")).toMatchObject({ value: "vaping" });
  });

  it('"due to", "set to", "trying to" are intents', async () => {
    expect(await fact("I'm set to join Airbus in June.", "intends")).toMatchObject({ value: "join Airbus", kind: "attribute" });
    expect(await fact("I'm trying to lose weight.", "intends")).toMatchObject({ value: "lose weight" });
  });

  it("a diet after lifelong or committed; an age followed by a comma", async () => {
    expect(await fact("I'm a committed vegan.", "diet")).toMatchObject({ value: "vegan" });
    expect(await fact("I'm 61, retired and happy.", "age")).toMatchObject({ value: "61" });
    expect(await fact("I'm 3,000 miles away.", "age")).toBeUndefined();
  });

  it("a named place after a few words of how one lives; home for me is", async () => {
    expect(await fact("We live with my in-laws in Porto.", "location")).toMatchObject({ value: "Porto" });
    expect(await fact("Home for us is Galway.", "location")).toMatchObject({ value: "Galway" });
    expect(await fact("I live on a farm near the coast.", "location")).toBeUndefined();
  });

  it("a field of work, lower-case and without an article, is an occupation", async () => {
    expect(await fact("I work in insurance.", "occupation")).toMatchObject({ value: "insurance", text: "User works in insurance." });
    expect(await fact("I work in an office.", "occupation")).toBeUndefined();
  });
});
