import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Spectron } from "../src/index.js";
import { DAY, alice, makeMemory, manualClock, tempDir } from "./helpers.js";

// Issue 12, "tried as a new user": each behaviour observed with the offline default models, through a real
// Spectron (local:rules extraction, local embedder, the background reconciliation pass awaited).

const live = async (memory: Spectron, scope = alice) => (await memory.state.list({ scope })).records;

describe("lasting personal facts are identity, not 7-day context", () => {
  for (const storage of [":memory:", "file"] as const) {
    it(`work, family, diet and a hedged allergy survive the context TTL (${storage})`, async () => {
      const dir = storage === "file" ? tempDir() : undefined;
      const clock = manualClock();
      const memory = new Spectron({
        context: "t",
        clock: clock.now,
        providers: {},
        schedule: { decay: false, expire: false, retry: false },
        ...(dir ? { path: dir.path } : {}),
      });
      try {
        const said = ["I just started a new job at Stripe.", "My sister Anna lives in Berlin.", "I'm vegetarian.", "I think I might be allergic to peanuts."];
        for (const content of said) await memory.ingest({ content, scope: alice });
        await memory.idle();
        const records = await live(memory);
        expect(records.find((r) => r.attribute === "employer")).toMatchObject({ memory_category: "identity", value: "Stripe", expires_at: null });
        expect(records.find((r) => r.attribute === "family")).toMatchObject({ memory_category: "identity", kind: "relation", value: "sister Anna" });
        expect(records.find((r) => r.subject === "anna")).toMatchObject({ memory_category: "identity", attribute: "location", value: "Berlin", text: "Anna lives in Berlin." });
        expect(records.find((r) => r.attribute === "diet")).toMatchObject({ memory_category: "identity", value: "vegetarian", text: "User is vegetarian." });
        expect(records.find((r) => r.attribute === "allergy")).toMatchObject({
          memory_category: "identity",
          kind: "uncertainty",
          value: "peanuts",
          text: "User may be allergic to peanuts.",
        });
        expect(records.every((r) => r.memory_category === "identity")).toBe(true);

        clock.advance(8 * DAY);
        const sweep = await memory.lifecycle.expire();
        expect(sweep.changed).toBe(0);
        expect((await live(memory)).map((r) => r.id).sort()).toEqual(records.map((r) => r.id).sort());
        const answer = await memory.query("Am I allergic to anything?", { scope: alice, limit: 3 });
        expect(answer[0]?.attribute).toBe("allergy");
      } finally {
        await memory.close();
        dir?.cleanup();
      }
    });
  }
});

describe("changes, negations, hedges and plans", () => {
  it('"I left Stripe and joined Google" retires the Stripe job', async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I just started a new job at Stripe.", scope: alice });
    await memory.ingest({ content: "I left Stripe and joined Google.", scope: alice });
    await memory.idle();
    const jobs = (await live(memory)).filter((r) => r.attribute === "employer");
    expect(jobs.map((r) => r.value)).toEqual(["Google"]);
    const retired = (await memory.state.list({ scope: alice, status: "superseded" })).records;
    expect(retired.map((r) => r.value)).toContain("Stripe");
    await memory.close();
  });

  it('"We moved from Lisbon to Porto last month" updates the location', async () => {
    const { memory } = makeMemory();
    const before = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    const moved = await memory.ingest({ content: "We moved from Lisbon to Porto last month.", scope: alice });
    expect(moved.records.find((r) => r.outcome === "superseded")?.id).toBe(before.records[0]!.id);
    await memory.idle();
    const places = (await live(memory)).filter((r) => r.attribute === "location");
    expect(places.map((r) => [r.value, r.text])).toEqual([["Porto", "User lives in Porto."]]);
    await memory.close();
  });

  it('"I\'m not allergic to peanuts" supersedes "might be allergic"; a hedged negation flags a confident fact', async () => {
    const { memory } = makeMemory();
    const hedge = await memory.ingest({ content: "I think I might be allergic to peanuts.", scope: alice });
    const denial = await memory.ingest({ content: "I'm not allergic to peanuts.", scope: alice });
    expect(denial.records.find((r) => r.outcome === "superseded")?.id).toBe(hedge.records[0]!.id);
    expect(denial.records.find((r) => r.outcome === "created")).toMatchObject({ attribute: "allergy", value: "not peanuts", text: "User is not allergic to peanuts." });

    const confident = await memory.ingest({ content: "I'm allergic to shellfish.", scope: alice });
    const doubt = await memory.ingest({ content: "I might not be allergic to shellfish.", scope: alice });
    expect(doubt.records.find((r) => r.outcome === "flagged")?.id).toBe(confident.records[0]!.id);
    expect(doubt.records.find((r) => r.outcome === "created")).toMatchObject({ kind: "uncertainty", value: "not shellfish" });
    await memory.idle();
    expect((await memory.state.get(confident.records[0]!.id)).status).toBe("flagged");
    await memory.close();
  });

  it('"I think I might move to Berlin" is a plan, not a place of residence, and reads as one sentence', async () => {
    const { memory } = makeMemory();
    const home = await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    const plan = await memory.ingest({ content: "I think I might move to Berlin.", scope: alice });
    expect(plan.records).toHaveLength(1);
    expect(plan.records[0]).toMatchObject({
      outcome: "created",
      kind: "uncertainty",
      memory_category: "identity",
      attribute: "intends",
      value: "move to Berlin",
      text: "User might move to Berlin.",
    });
    await memory.idle();
    expect((await memory.state.get(home.records[0]!.id)).status).toBe("current");
    expect((await live(memory)).some((r) => r.attribute === "location" && r.value === "Berlin")).toBe(false);
    // A hedge with no pattern is rewritten without "User thinks User might".
    const other = await memory.ingest({ content: "I think I might regret this.", scope: alice });
    expect(other.records[0]!.text).toBe("User might regret this.");
    await memory.close();
  });
});

describe("third-person text is grammatical", () => {
  const cases: Array<[string, string]> = [
    ["I recently splurged on a new camera.", "User recently splurged on a new camera."],
    ["My friend is staying with me for nine days.", "User's friend is staying with User for nine days."],
    ["My cousin has been living with me in the US since March.", "User's cousin has been living with User in the US since March."],
    ["My partner and I cook together on Sundays.", "User's partner and User cook together on Sundays."],
    ["I usually cross the river on foot.", "User usually crosses the river on foot."],
  ];
  for (const [content, text] of cases) {
    it(`"${content}" → "${text}"`, async () => {
      const { memory } = makeMemory();
      const out = await memory.ingest({ content, scope: alice });
      expect(out.records.map((r) => r.text)).toContain(text);
      await memory.close();
    });
  }
});

describe("assistant turns and questions", () => {
  it("a long assistant reply leaves at most two attributed records, and a restatement of the user none", async () => {
    const { memory } = makeMemory();
    const user = await memory.ingest({ content: "I finally fixed that broken fence in the backyard.", scope: alice });
    const praise = await memory.ingest({ role: "assistant", content: "Congratulations on fixing that broken fence! That must feel great.", scope: alice });
    expect(praise.records).toEqual([]);
    const long = await memory.ingest({
      role: "assistant",
      content:
        "Here are a few ideas for the weekend. The Gulbenkian Museum opens at 10 on Saturdays. The Alfama district has great fado bars. " +
        "Belém is a short tram ride away. You could also try the LX Factory market. Remember to book ahead. Sintra is 40 minutes by train. " +
        "Cascais has lovely beaches. Enjoy your weekend!",
      scope: alice,
    });
    expect(long.records.length).toBeLessThanOrEqual(2);
    for (const r of long.records) expect(r).toMatchObject({ subject: "assistant", memory_category: "context", text: expect.stringMatching(/^Assistant said that /) });
    await memory.idle();
    const hits = await memory.query("When did I fix the fence?", { scope: alice, limit: 3 });
    expect(hits[0]?.id).toBe(user.records[0]!.id);
    await memory.close();
  });

  it("a fact stated inside a user's question is kept (\"…for my cat Luna?\")", async () => {
    const { memory } = makeMemory();
    const out = await memory.ingest({ content: "Can you recommend a vet for my cat Luna?", scope: alice });
    expect(out.records).toHaveLength(1);
    expect(out.records[0]).toMatchObject({ memory_category: "identity", attribute: "pet", value: "cat Luna", text: "User has a cat named Luna." });
    expect(await memory.ingest({ content: "Where do I live?", scope: alice }).then((r) => r.records)).toEqual([]);
    await memory.idle();
    const hits = await memory.query("What is my cat called?", { scope: alice, limit: 3 });
    expect(hits[0]?.value).toBe("cat Luna");
    await memory.close();
  });
});

describe("the labelled extraction set", () => {
  it("has 300+ sentences, a held-out part of 100+, and every label is well formed", () => {
    const items = JSON.parse(readFileSync(new URL("../bench/extraction-set.json", import.meta.url), "utf8")) as Array<Record<string, unknown>>;
    expect(items.length).toBeGreaterThanOrEqual(300);
    expect(items.filter((i) => i.split === "heldout").length).toBeGreaterThanOrEqual(100);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    for (const i of items) {
      expect(["created", "updated", "superseded", "flagged", "none"]).toContain(i.outcome);
      expect(i.outcome === "none" ? i.kind === null && i.category === null : ["identity", "context"].includes(i.category as string)).toBe(true);
    }
  });
});
