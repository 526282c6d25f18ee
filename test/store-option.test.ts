// The `store` option of `new Spectron`: validated at the boundary, opened asynchronously behind one promise that
// every call waits on, an open failure typed (never unhandled), and the settings kept fresh from the store.
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Spectron, SpectronValidationError, StorageError } from "../src/index.js";
import { postgresStore } from "../src/postgres.js";
import { announceSkips, ENGINE_START_TIMEOUT, ENGINES, type PgTestDatabase } from "./postgres/engines.js";

const scope = { user: "ana" };

describe("the store option at the boundary", () => {
  test("`store` and `path` together is an error naming both, and opens nothing", () => {
    const store = postgresStore({ connectionString: "postgres://nobody@127.0.0.1:1/none" });
    let error: unknown;
    try {
      new Spectron({ context: "t", store, path: ":memory:" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpectronValidationError);
    expect((error as Error).message).toMatch(/`options\.store`/);
    expect((error as Error).message).toMatch(/`path`/);
  });

  test.each([
    ["a string", "postgres://x@127.0.0.1/db"],
    ["an object without open", { engine: "postgres" }],
    ["a plain function", () => undefined],
  ])("a wrong object (%s) is an error naming `store`", (_, store) => {
    expect(() => new Spectron({ context: "t", store: store as never })).toThrow(SpectronValidationError);
    expect(() => new Spectron({ context: "t", store: store as never })).toThrow(/Invalid `options\.store`: expected a database engine/);
  });
});

test("a store that cannot be opened fails the first call and close() with a typed error, never an unhandled rejection", async () => {
  // A port nothing listens on: taken, then freed.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const memory = new Spectron({ context: "t", store: postgresStore({ connectionString: `postgres://nobody@127.0.0.1:${port}/none` }), schedule: false });
    const first = await memory.ingest({ content: "I moved to Lisbon.", scope }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(StorageError);
    expect((first as StorageError).message).toMatch(/could not be reached/);
    expect(first).toMatchObject({ engineCode: "postgres:ECONNREFUSED", retryable: true });
    expect(await memory.state.list({ scope }).catch((e: unknown) => e)).toBe(first);
    expect(memory.usage()).toEqual({});
    expect(await memory.close().catch((e: unknown) => e)).toBe(first);
    // Give any stray rejection the turns it needs to be reported.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

announceSkips();
for (const engine of ENGINES) {
  describe.skipIf(engine.skip !== undefined)(`new Spectron({ store }) on ${engine.name}`, () => {
    let db: PgTestDatabase;
    beforeAll(async () => {
      db = await engine.open();
    }, ENGINE_START_TIMEOUT);
    afterAll(async () => {
      await db?.close();
    });

    test("ingests and finds through the engine, and sees its own settings changes at once", async () => {
      let now = Date.UTC(2026, 0, 1);
      const store = postgresStore({ connectionString: db.url });
      await using memory = new Spectron({ context: "sdk", store, clock: () => now, schedule: false, providers: {} });
      const { records } = await memory.ingest({ content: "My cat is called Miso.", scope });
      expect(records.length).toBeGreaterThan(0);
      now += 1000;
      const found = await memory.query("what is my cat called?", { scope });
      expect(found.map((r) => r.text).join(" ")).toMatch(/Miso/);
      await memory.config.cache({ similarity: 0.91 });
      expect((await memory.config.get()).cache.similarity).toBe(0.91);
      await memory.config.cache({ similarity: 0.97 });
      expect((await memory.config.get()).cache.similarity).toBe(0.97);
    });

    test("a second instance on the same database reads what the first stored; the engine closes with the last", async () => {
      const now = Date.UTC(2026, 0, 2);
      const store = postgresStore({ connectionString: db.url });
      const a = new Spectron({ context: "shared", store, clock: () => now, schedule: false, providers: {} });
      const b = new Spectron({ context: "shared", store, clock: () => now, schedule: false, providers: {} });
      await a.ingest({ content: "I work at Acme as a nurse.", scope });
      const seen = (await b.state.list({ scope })).records;
      expect(seen.map((r) => r.text).join(" ")).toMatch(/Acme|nurse/);
      await a.close();
      // The engine's pool is still open for b.
      expect((await b.state.list({ scope })).records.length).toBe(seen.length);
      await b.close();
    });
  });
}
