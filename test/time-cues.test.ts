import { describe, expect, it } from "vitest";
import type { SearchResult } from "../src/index.js";
import { inPeriod, namedPeriods, statesTime, timeCues, turnTimeFactor } from "../src/pipeline/recall/time-cues.js";
import { alice, makeMemory } from "./helpers.js";

const turnOf = (r: SearchResult) => (r.kind === "record" ? r.record.source.id : r.passage.id);

describe("time cues of a question", () => {
  it("reads whether a time is asked for", () => {
    expect(timeCues("When did Ana move to Porto?").asksTime).toBe(true);
    expect(timeCues("What year did Ana move to Porto?").asksTime).toBe(true);
    expect(timeCues("How long has Ana lived in Porto?").asksTime).toBe(true);
    expect(timeCues("Where did Ana move?").asksTime).toBe(false);
    expect(timeCues("What did Ana paint?").asksTime).toBe(false);
  });

  it("reads the dates a question names, as precisely as it names them", () => {
    expect(namedPeriods("What did Tim say about his injury on 16 November, 2023?")).toEqual([{ year: 2023, month: 10, day: 16 }]);
    expect(namedPeriods("Which book did Tim recommend on 8th December, 2023?")).toEqual([{ year: 2023, month: 11, day: 8 }]);
    expect(namedPeriods("What show did he mention on November 11, 2023?")).toEqual([{ year: 2023, month: 10, day: 11 }]);
    expect(namedPeriods("Where was the picture shared on December 1,2023 taken?")).toEqual([{ year: 2023, month: 11, day: 1 }]);
    expect(namedPeriods("What instrument is Tim learning in December 2023?")).toEqual([{ year: 2023, month: 11 }]);
    expect(namedPeriods("What kind of deal did John get in December?")).toEqual([{ month: 11 }]);
    expect(namedPeriods("What charity event did John organize in 2024?")).toEqual([{ year: 2024 }]);
    // "may" the verb names no month; "May" inside a sentence does.
    expect(namedPeriods("May I ask where you may go next?")).toEqual([]);
    expect(namedPeriods("What did Ana do in May?")).toEqual([{ month: 4 }]);
    expect(namedPeriods("How many cats does Ana have?")).toEqual([]);
  });

  it("places a time in a named period (UTC), a named day with the day after it", () => {
    const may8 = Date.UTC(2023, 4, 8, 13, 56);
    expect(inPeriod({ year: 2023, month: 4, day: 8 }, may8)).toBe(true);
    expect(inPeriod({ year: 2023, month: 4, day: 7 }, may8)).toBe(true);
    expect(inPeriod({ year: 2023, month: 4, day: 9 }, may8)).toBe(false);
    expect(inPeriod({ year: 2022, month: 4, day: 8 }, may8)).toBe(false);
    expect(inPeriod({ month: 4, day: 8 }, may8)).toBe(true);
    expect(inPeriod({ year: 2023, month: 4 }, may8)).toBe(true);
    expect(inPeriod({ year: 2023, month: 5 }, may8)).toBe(false);
    expect(inPeriod({ month: 4 }, may8)).toBe(true);
    expect(inPeriod({ year: 2023 }, may8)).toBe(true);
    expect(inPeriod({ year: 2024 }, may8)).toBe(false);
  });

  it("tells a text that states a time from one that does not", () => {
    for (const text of [
      "I went to a support group yesterday.",
      "I ran a charity race last Saturday.",
      "We're thinking about going camping next month.",
      "A friend made it for my 18th birthday ten years ago.",
      "I've known these friends for 4 years.",
      "I lost my job at the store this month.",
      "The concert is in May.",
      "We moved here in 2019.",
    ]) {
      expect(statesTime(text), text).toBe(true);
    }
    for (const text of ["I may go camping with the kids.", "I love pottery, it is like therapy.", "May I ask what you painted?", "I painted a sunrise over the lake."]) {
      expect(statesTime(text), text).toBe(false);
    }
  });

  it("scales a candidate turn by what the question says about time, and leaves it alone otherwise", () => {
    const passages = new Map([
      [1, { content: "I signed up for a pottery class yesterday.", occurred_at: Date.UTC(2023, 6, 2) }],
      [2, { content: "Pottery is like therapy for me.", occurred_at: Date.UTC(2023, 6, 2) }],
      [3, { content: "Pottery is like therapy for me.", occurred_at: Date.UTC(2023, 7, 14) }],
    ]);
    const weights = { timeAnswer: 0.6, datedTurn: 1 };
    const when = turnTimeFactor(timeCues("When did Ana sign up for a pottery class?"), passages, weights);
    expect([when(1), when(2), when(3), when(undefined), when(99)]).toEqual([1.6, 1, 1, 1, 1]);
    const dated = turnTimeFactor(timeCues("What did Ana say about pottery on 2 July 2023?"), passages, weights);
    expect([dated(1), dated(2), dated(3)]).toEqual([2, 2, 1]);
    const plain = turnTimeFactor(timeCues("What does Ana think of pottery?"), passages, weights);
    expect([plain(1), plain(2), plain(3)]).toEqual([1, 1, 1]);
  });
});

describe("search with time cues", () => {
  it("a when-question ranks the turn that tells the event with its time first", async () => {
    const { memory, clock } = makeMemory();
    const told = await memory.ingest({ content: "I signed up for a pottery class yesterday, it is like therapy for me and I love it.", scope: alice, speaker: "Ana" });
    clock.advance(60_000);
    const talk = await memory.ingest({ content: "My sister signed up for the pottery class too; the pottery class is her favourite class.", scope: alice, speaker: "Ana" });
    const results = await memory.search("When did Ana sign up for the pottery class?", { scope: alice });
    expect(results.map(turnOf).slice(0, 2)).toEqual([told.turnId, talk.turnId]);
    // Without a time asked for, the turn that says more about pottery leads.
    const other = await memory.search("Who did Ana say signed up for the pottery class?", { scope: alice });
    expect(other.map(turnOf)[0]).toBe(talk.turnId);
    await memory.close();
  });

  it("a question naming a date ranks the turn said on that date first", async () => {
    const { memory, clock } = makeMemory();
    const july = await memory.ingest({ content: "My favourite show is a fantasy series about dragons.", scope: alice, speaker: "Tim", occurred_at: Date.UTC(2023, 6, 2, 14) });
    clock.advance(60_000);
    const august = await memory.ingest({ content: "My favourite show right now is a crime series.", scope: alice, speaker: "Tim", occurred_at: Date.UTC(2023, 7, 20, 14) });
    const results = await memory.search("What was Tim's favourite show, as mentioned on 2 July, 2023?", { scope: alice });
    expect(results.map(turnOf).slice(0, 2)).toEqual([july.turnId, august.turnId]);
    const later = await memory.search("What was Tim's favourite show, as mentioned on 20 August, 2023?", { scope: alice });
    expect(later.map(turnOf).slice(0, 2)).toEqual([august.turnId, july.turnId]);
    await memory.close();
  });
});
