import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { builtChild } from "../built-child.js";
import { twoChildrenOnOneDatabase, type Child, type TwoChildren } from "./child.js";
import { announceSkips, ENGINE_START_TIMEOUT, serverEngine } from "./engines.js";

// Two processes, each a `new Spectron({ store: postgresStore(...) })` on one database, through the public SDK only:
// what one ingests, the other's `query` finds at once; an answer the other cached is never served once the fact it
// cites is superseded in the first.
const CHILD = fileURLToPath(new URL("../children/pg-sdk-child.ts", import.meta.url));
const T0 = Date.parse("2026-06-01T09:00:00Z");

announceSkips([serverEngine]);

describe.skipIf(serverEngine.skip)("two processes, one Spectron each, on one PostgreSQL database", () => {
  let children: TwoChildren;
  let a: Child;
  let b: Child;
  beforeAll(async () => {
    // The children run on the built package (the public entries only): plain node starts in a third of tsx's time.
    children = await twoChildrenOnOneDatabase(serverEngine, await builtChild(CHILD), "shared", T0);
    ({ a, b } = children);
  }, ENGINE_START_TIMEOUT + 600_000); // and the one `npm run build` the test files share, when the sources changed
  afterAll(async () => {
    await children?.close();
  });

  test("a turn ingested in one process is found by query in the other as soon as the ingest returns", async () => {
    const scope = { user: "ana" };
    const { records } = await a.call<{ records: string[] }>({ op: "ingest", scope, content: "I keep bees on the roof of my house.", now: T0 + 1_000 });
    expect(records.length).toBeGreaterThan(0);
    const found = await b.call<string[]>({ op: "query", scope, text: "Do I keep bees?", now: T0 + 1_001 });
    expect(found.some((text) => /bees/i.test(text))).toBe(true);
    // Not in another user's scope.
    expect(await b.call<string[]>({ op: "query", scope: { user: "bo" }, text: "Do I keep bees?", now: T0 + 1_002 })).toEqual([]);
  });

  test("an answer cached in one process is never served after the other supersedes the fact it cites", async () => {
    const scope = { user: "cam" };
    await a.call({ op: "ingest", scope, content: "I live in Lisbon.", now: T0 + 2_000 });
    const first = await b.call<{ answer: string; tier: number }>({ op: "recall", scope, text: "Where do I live?", now: T0 + 2_001 });
    expect(first.answer).toMatch(/Lisbon/);
    const again = await b.call<{ answer: string; tier: number }>({ op: "recall", scope, text: "Where do I live?", now: T0 + 2_002 });
    expect(again).toEqual({ answer: first.answer, tier: 1 }); // from the cache
    await a.call({ op: "ingest", scope, content: "I moved to Porto last month.", now: T0 + 3_000 });
    const after = await b.call<{ answer: string; tier: number }>({ op: "recall", scope, text: "Where do I live?", now: T0 + 3_001 });
    expect(after.answer).not.toMatch(/Lisbon/);
    expect(after.answer).toMatch(/Porto/);
  });
});
