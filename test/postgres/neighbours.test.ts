import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { similarAmong } from "../../src/store/neighbours.js";
import { postgresStore, type PostgresEngine } from "../../src/store/postgres/engine.js";
import { SCAN_LIMIT } from "../../src/store/postgres/neighbours-sql.js";
import { scopeKey } from "../../src/store/scope.js";
import { mulberry32 } from "../helpers.js";
import { announceSkips, ENGINE_START_TIMEOUT, ENGINES, type PgTestDatabase } from "./engines.js";
import { contextInit, embed, EMBEDDING, fact, factsWrite } from "./fixtures.js";

// The background pass's near restatements in a scope larger than the scan limit come from the ANN index (pgvector's
// HNSW filtered to the scope, or the in-process index searched Context-wide and its hits checked against the scope),
// not from reading the scope's vectors over the wire: the same records the exact scan finds.

announceSkips();

const T0 = Date.parse("2026-06-01T00:00:00Z");
const many = (text: string) => fact(text, null, null, { kind: "observation", memory_category: "knowledge", cardinality: "many" });

for (const engine of ENGINES) {
  describe.skipIf(engine.skip)(`neighbourCandidates on ${engine.name}: a scope larger than the scan limit`, () => {
    let database: PgTestDatabase;
    let pg: PostgresEngine;
    beforeAll(async () => {
      database = await engine.open();
      pg = postgresStore({ connectionString: database.url, max: 4 });
    }, ENGINE_START_TIMEOUT);
    afterAll(async () => {
      await pg?.close();
      await database?.close();
    });

    test("near restatements within the scope only, with the exact scan's similarities", async () => {
      const store = await pg.open("big", { now: () => T0 });
      try {
        await store.openContext(contextInit(T0));
        const notes = {};
        const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"];
        const random = mulberry32(11);
        const texts = Array.from({ length: SCAN_LIMIT + 100 }, (_, i) => `Note ${i}: ${Array.from({ length: 6 }, () => words[Math.floor(random() * words.length)]).join(" ")}.`);
        for (let i = 0; i < texts.length; i += 250) await store.writeFacts(await factsWrite(notes, texts.slice(i, i + 250).map(many), T0));
        const lobby = "The lobby closes at nine on Sundays.";
        const target = (await store.writeFacts(await factsWrite(notes, [many(lobby)], T0))).outcomes[0]!.record.id;
        const restated = (await store.writeFacts(await factsWrite(notes, [many("The front lobby closes at nine on Sundays.")], T0))).outcomes[0]!.record.id;
        // The same words in other scopes are never neighbours: more copies than the first search of the in-process
        // index fetches, so that it must widen to reach the scope's own restatement.
        for (let u = 0; u < 100; u++) await store.writeFacts(await factsWrite({ user: `u${u}` }, [many(lobby)], T0));
        await store.writeFacts(await factsWrite({ user: "carol" }, [many("The front lobby closes at nine on Sundays.")], T0));
        const [a, b] = await Promise.all([embed(lobby), embed("The front lobby closes at nine on Sundays.")]);
        const exact = similarAmong(a, [2], () => b, 0, 1)[0]!.similarity;
        expect(exact).toBeGreaterThan(0.7);
        const query = { recordId: target, scopeKey: scopeKey(notes), subject: null, attributes: [], model: EMBEDDING };
        const found = (await store.neighbourCandidates([query], 0.7)).get(target)!;
        expect(found.similar.map((s) => s.id)).toEqual([restated]);
        expect(found.similar[0]!.similarity).toBeCloseTo(exact, 4);
        // The restatement's own neighbours: the target, found the same way.
        const back = (await store.neighbourCandidates([{ ...query, recordId: restated }], 0.7)).get(restated)!;
        expect(back.similar.map((s) => s.id)).toEqual([target]);
        // Above every similarity there is: nothing.
        expect((await store.neighbourCandidates([query], 0.9999)).get(target)!.similar).toEqual([]);
      } finally {
        await store.close();
      }
    }, 240_000);
  });
}
