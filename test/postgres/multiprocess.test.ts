import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { scopeKey } from "../../src/store/scope.js";
import { twoChildrenOnOneDatabase, type Child, type TwoChildren } from "./child.js";
import { announceSkips, ENGINE_START_TIMEOUT, serverEngine } from "./engines.js";

const CHILD = fileURLToPath(new URL("../children/pg-store-child.ts", import.meta.url));
const T0 = Date.parse("2026-06-01T00:00:00Z");

announceSkips([serverEngine]);

// Two processes need two sessions: PGlite serves every connection from one backend, so this runs on a server only.
describe.skipIf(serverEngine.skip)("two processes on one PostgreSQL database", () => {
  let children: TwoChildren;
  let a: Child;
  let b: Child;
  let client: pg.Client;
  beforeAll(async () => {
    children = await twoChildrenOnOneDatabase(serverEngine, CHILD, "shared", T0);
    ({ a, b } = children);
    client = new pg.Client({ connectionString: children.database.url });
    await client.connect();
  }, ENGINE_START_TIMEOUT);
  afterAll(async () => {
    await client?.end();
    await children?.close();
  });

  test("two writers that supersede the same fact at the same moment leave exactly one current", async () => {
    for (let round = 0; round < 12; round++) {
      const scope = { user: `u${round}` };
      await a.call({ op: "supersede", scope, value: "Lisbon", at: 0, now: T0 });
      const at = Date.now() + 150;
      const [fromA, fromB] = await Promise.all([
        a.call<{ id: number; outcome: string }[]>({ op: "supersede", scope, value: "Porto", at, now: T0 + 1 }),
        b.call<{ id: number; outcome: string }[]>({ op: "supersede", scope, value: "Berlin", at, now: T0 + 1 }),
      ]);
      const { rows } = await client.query(
        "SELECT id::int AS id, value, status, superseded_by::int AS by FROM records WHERE scope_key = $1 AND attribute = 'city' ORDER BY id",
        [scopeKey(scope)],
      );
      expect(rows.filter((r) => r.status === "current")).toHaveLength(1);
      // The later writer superseded the earlier one's value, which had superseded Lisbon.
      const [lisbon, first, second] = rows;
      expect(lisbon).toMatchObject({ value: "Lisbon", status: "superseded", by: first.id });
      expect(first).toMatchObject({ status: "superseded", by: second.id });
      expect(second.status).toBe("current");
      expect([...fromA, ...fromB].filter((o) => o.outcome === "created")).toHaveLength(2);
    }
  });

  test("a write in one process reaches the other through LISTEN/NOTIFY, and its query finds it", async () => {
    const scope = { user: "ana" };
    const { id } = await a.call<{ id: number }>({ op: "write", scope, text: "The user keeps bees on the roof.", now: T0 });
    await b.call({ op: "awaitVector", label: id });
    expect(await b.call<number[]>({ op: "nearest", scope, text: "The user keeps bees on the roof.", now: T0 })).toContain(id);
  });

  test("a fact superseded in one process is never served from the other's cache", async () => {
    const scope = { user: "cached" };
    const [{ id }] = await a.call<[{ id: number; outcome: string }]>({ op: "supersede", scope, value: "Lisbon", at: 0, now: T0 });
    await b.call({ op: "cacheAnswer", scope, cited: id, now: T0 + 1 });
    expect(await b.call({ op: "cachedAnswer", scope, now: T0 + 2 })).toEqual({ answer: "Lisbon." });
    await a.call({ op: "supersede", scope, value: "Porto", at: 0, now: T0 + 3 });
    // At once, without waiting for a notification: the cache is read against the records' status in the database.
    expect(await b.call({ op: "cachedAnswer", scope, now: T0 + 4 })).toEqual({ answer: null });
  });

  test("a sweep runs in one process at a time", async () => {
    expect(await a.call({ op: "holdLock", name: "expire" })).toEqual({ held: true });
    expect(await b.call({ op: "tryLock", name: "expire" })).toEqual({ ran: false });
    expect(await b.call({ op: "tryLock", name: "decay" })).toEqual({ ran: true });
    await a.call({ op: "releaseLock" });
    expect(await b.call({ op: "tryLock", name: "expire" })).toEqual({ ran: true });
  });
});
