import Database from "better-sqlite3";
import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Spectron, SpectronError, SpectronValidationError } from "../src/index.js";
import { alice, makeMemory, tempDir } from "./helpers.js";

/**
 * Row counts of every table, read through a second connection: a rejected call must change none of them.
 * Virtual tables (vec0, FTS) are counted through their shadow tables.
 */
function rowCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'").all() as { name: string }[]).map((t) => t.name);
    return Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
/** What `call` threw or rejected with (a sync throw included), or undefined. */
const rejection = (call: () => unknown) =>
  Promise.resolve()
    .then(call)
    .then(
      () => undefined,
      (e: unknown) => e,
    );

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fileMemory() {
  const t = tempDir();
  const memory = new Spectron({ context: "h", path: t.path, providers: {}, schedule: { decay: false, expire: false, retry: false } });
  cleanups.push(t.cleanup, () => memory.close());
  await memory.ingest({ content: "I'm on the Pro plan and I live in Porto.", scope: alice });
  await memory.recall("which plan am I on?", { scope: alice });
  await memory.idle();
  await settle();
  return { memory, path: t.path };
}

/** The call fails with a SpectronValidationError whose message matches `pattern`, and writes no row. */
async function expectRejectedCleanly(call: (m: Spectron) => unknown, pattern: RegExp) {
  const { memory, path } = await fileMemory();
  const before = rowCounts(path);
  const error = await rejection(() => call(memory));
  await settle();
  expect(error).toBeInstanceOf(SpectronValidationError);
  expect((error as Error).message).toMatch(pattern);
  expect((error as Error).message.length).toBeLessThan(400);
  expect(rowCounts(path)).toEqual(before);
  return error as SpectronValidationError;
}

describe("finding 7: hostile input is bounded, typed and writes nothing", () => {
  it("circular metadata is a validation error, not a raw TypeError", async () => {
    const metadata: Record<string, unknown> = { a: 1 };
    metadata.self = metadata;
    await expectRejectedCleanly((m) => m.ingest({ content: "I like tea.", scope: alice, metadata: metadata as never }), /input\.metadata\.self.*circular/);
  });

  it("5,000-deep metadata is a validation error, not a RangeError", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    await expectRejectedCleanly((m) => m.ingest({ content: "I like tea.", scope: alice, metadata: deep as never }), /nesting at most/);
    await expectRejectedCleanly((m) => m.knowledge.add({ title: "t", text: "Refunds take 14 days.", metadata: deep as never }), /nesting at most/);
  });

  it("metadata is bounded in bytes and depth", async () => {
    await expectRejectedCleanly((m) => m.ingest({ content: "I like tea.", scope: alice, metadata: { blob: "x".repeat(70_000) } }), /metadata of at most 64 KB/);
    await expectRejectedCleanly((m) => m.knowledge.add({ title: "t", text: "Refunds take 14 days.", metadata: { blob: "x".repeat(70_000) } }), /input\.metadata.*64 KB/);
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = { a: deep };
    await expectRejectedCleanly((m) => m.ingest({ content: "I like tea.", scope: alice, metadata: deep as never }), /metadata nested at most 16/);
  });

  it("occurred_at beyond the Date range is rejected before the turn is stored", async () => {
    await expectRejectedCleanly((m) => m.ingest({ content: "I like tea.", scope: alice, occurred_at: 8.64e15 + 1 }), /input\.occurred_at.*between years 1 and 9999/);
    await expectRejectedCleanly((m) => m.ingest({ content: "I like tea.", scope: alice, occurred_at: new Date(NaN) }), /input\.occurred_at/);
    await expectRejectedCleanly((m) => m.state.list({ scope: alice, expires_before: Number.MAX_SAFE_INTEGER }), /options\.expires_before/);
    const { memory } = makeMemory();
    cleanups.push(() => memory.close());
    const ok = await memory.ingest({ content: "I moved to Lisbon.", scope: alice, occurred_at: "2024-05-01T10:00:00Z" });
    expect(ok.turnId).toMatch(/^turn_/);
  });

  it("a principal with 1,000 grants is a validation error, not a raw SqliteError", async () => {
    const principal = { id: "p", grants: Array.from({ length: 1000 }, (_, i) => ({ scope: { user: `u${i}` }, permissions: ["read" as const] })) };
    await expectRejectedCleanly((m) => m.traces.list({ principal }), /principal\.grants.*at most 100 grants/);
    await expectRejectedCleanly((m) => m.as(principal), /principal\.grants/);
    const fine = { id: "p", grants: Array.from({ length: 100 }, (_, i) => ({ scope: { user: `u${i}` }, permissions: ["read" as const] })) };
    const { memory } = makeMemory();
    cleanups.push(() => memory.close());
    await expect(memory.traces.list({ principal: fine })).resolves.toBeDefined();
  });

  it("ids have one spelling: rec_0x2, rec_2.0, rec_+2, rec_02, rec_2e0 do not resolve to rec_2", async () => {
    const { memory } = await fileMemory();
    await memory.ingest({ content: "My favourite colour is green.", scope: alice });
    const { records } = await memory.state.list({ scope: alice });
    const id = records.at(-1)!.id;
    const n = id.slice("rec_".length);
    expect((await memory.state.get(id)).id).toBe(id);
    for (const bad of [`rec_0x${Number(n).toString(16)}`, `rec_${n}.0`, `rec_+${n}`, `rec_0${n}`, `rec_${n}e0`, `rec_ ${n}`, `rec_${n} `, "rec_0", "rec_9999999999999999"]) {
      const error = await rejection(() => memory.state.get(bad));
      expect(error, bad).toBeInstanceOf(SpectronValidationError);
      const forget = await rejection(() => memory.state.forget(bad));
      expect(forget, bad).toBeInstanceOf(SpectronValidationError);
    }
    for (const bad of ["trc_0x1", "trc_1.0", "trc_01"]) expect(await rejection(() => memory.traces.get(bad))).toBeInstanceOf(SpectronValidationError);
    for (const bad of ["doc_0x1", "doc_1.0", "doc_+1"]) expect(await rejection(() => memory.knowledge.remove(bad))).toBeInstanceOf(SpectronValidationError);
  });

  it("a Map passed as options is rejected, not read as {} with the application's full access", async () => {
    const principal = { id: "reader", grants: [{ scope: { user: "bob" }, permissions: ["read" as const] }] };
    await expectRejectedCleanly((m) => m.recall("which plan am I on?", new Map<string, unknown>([["principal", principal], ["scope", alice]]) as never), /`options`: expected a plain object.*a Map/);
    await expectRejectedCleanly((m) => m.state.list(new Map() as never), /plain object/);
    await expectRejectedCleanly((m) => m.ingest(new Map([["content", "x"]]) as never), /plain object/);
    await expectRejectedCleanly((m) => m.as(principal).recall("which plan am I on?", new Map() as never), /plain object/);
    await expectRejectedCleanly((m) => m.as(principal).state.list([] as never), /plain object/);
    class Options {
      scope = alice;
    }
    await expectRejectedCleanly((m) => m.query("plan", new Options() as never), /plain object.*a Options/);
  });

  it("a lone surrogate is rejected, not stored mangled", async () => {
    await expectRejectedCleanly((m) => m.ingest({ content: "I like \ud83d tea.", scope: alice }), /input\.content.*well-formed Unicode/);
    await expectRejectedCleanly((m) => m.ingest({ content: "I like tea.", scope: { user: "al\udc00ice" } }), /input\.scope\.user.*well-formed/);
    await expectRejectedCleanly((m) => m.recall("plan\ud800?", { scope: alice }), /`query`.*well-formed/);
    // Whole surrogate pairs (emoji) are text like any other.
    const { memory } = makeMemory();
    cleanups.push(() => memory.close());
    await memory.ingest({ content: "I love 🍵 green tea.", scope: alice });
    const turns = await memory.turns.list({ scope: alice });
    expect(turns[0]!.content).toBe("I love 🍵 green tea.");
  });

  it("as(p, a 10 MB string) fails at once with a short message", async () => {
    const error = await expectRejectedCleanly((m) => m.as({ id: "p", grants: [] }, "A".repeat(10e6) as never), /as\(principal, options\).*plain object/);
    expect(error.message.length).toBeLessThan(200);
  });

  it("messages preview the received value in a bounded way (10 MB string, 20,000 keys, a cycle)", async () => {
    const big = await expectRejectedCleanly((m) => m.recall("x".repeat(10e6), { scope: alice }), /`query`/);
    expect(big.message.length).toBeLessThan(200);
    const wide = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]));
    const many = await expectRejectedCleanly((m) => m.ingest({ content: "I like tea.", scope: alice, ...wide } as never), /no unknown keys.*and 19995 more/);
    expect(many.message.length).toBeLessThan(400);
  });

  it("a getter that throws is a validation error, not the getter's error", async () => {
    const input = {
      content: "I like tea.",
      get scope(): never {
        throw new Error("boom");
      },
    };
    await expectRejectedCleanly((m) => m.ingest(input as never), /input\.scope.*can be read/);
  });

  it("a `__proto__` key is rejected wherever it appears", async () => {
    await expectRejectedCleanly((m) => m.ingest(JSON.parse('{"content":"I like tea.","metadata":{"__proto__":{"admin":true}}}')), /input\.metadata.*__proto__/);
    await expectRejectedCleanly((m) => m.recall("plan?", JSON.parse('{"__proto__":{"principal":null}}')), /__proto__/);
  });

  it("other strings, ids and counts are bounded", async () => {
    await expectRejectedCleanly((m) => m.traces.list({ session: "s".repeat(300) }), /options\.session/);
    await expectRejectedCleanly((m) => m.state.list({ cursor: "9".repeat(400) }), /options\.cursor/);
    await expectRejectedCleanly((m) => m.config.models({ extraction: "gpt-" + "x".repeat(300) }), /models\.extraction/);
    await expectRejectedCleanly((m) => m.config.providers({ openai: "k".repeat(5000) }), /providers\.openai/);
    await expectRejectedCleanly((m) => m.recall("plan?", { scope: alice, principal: { id: "p", grants: [{ scope: {}, permissions: ["read", "read", "read", "read"] }] } }), /permissions/);
    await expectRejectedCleanly((m) => m.recall("plan?", { scope: alice, limit: Infinity }), /options\.limit/);
    await expectRejectedCleanly((m) => m.recall("plan?", { scope: alice, limit: NaN }), /options\.limit/);
    expect(() => new Spectron({ context: "c", path: "a\u0000b" })).toThrow(SpectronValidationError);
    expect(() => new Spectron({ context: "c", schedule: { decay: 2 ** 40 } })).toThrow(/schedule\.decay/);
    expect(() => new Spectron({ context: "c", clock: () => NaN })).toThrow(/Invalid `clock`: expected a function returning epoch milliseconds/);
    expect(() => new Spectron({ context: "c", clock: (() => "now") as never })).toThrow(SpectronValidationError);
  });
});

describe("finding 7: storage failures are typed at the store boundary", () => {
  it("a path whose directory does not exist is a StorageError, not a raw TypeError", () => {
    const error = (() => {
      try {
        new Spectron({ context: "c", path: "/nonexistent-dir-spectron/x/memory.db" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SpectronError);
    expect((error as SpectronError).code).toBe("storage");
    expect((error as Error).message).toMatch(/directory does not exist/);
  });

  it("a path that is not a database is a StorageError", () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    writeFileSync(t.path, "this is not a database, it is a text file that is long enough to have a header");
    const error = (() => {
      try {
        new Spectron({ context: "c", path: t.path });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SpectronError);
    expect((error as SpectronError).code).toBe("storage");
    expect((error as { sqliteCode?: string }).sqliteCode).toBe("SQLITE_NOTADB");
  });
});

describe("issue 16: one clean message pattern", () => {
  const cases: [string, (m: Spectron) => unknown, string][] = [
    ["limit -1", (m) => m.recall("plan?", { limit: -1 }), "Invalid `options.limit`: expected an integer ≥ 1, received -1."],
    ["limit 101", (m) => m.recall("plan?", { limit: 101 }), "Invalid `options.limit`: expected an integer ≤ 100, received 101."],
    ["limit 1.5", (m) => m.query("plan?", { limit: 1.5 }), "Invalid `options.limit`: expected an integer from 1 to 1,000, received 1.5."],
    ["limit string", (m) => m.state.list({ limit: "5" as never }), 'Invalid `options.limit`: expected an integer from 1 to 1,000, received "5".'],
    // An array is a batch of inputs (`ingest([input, …])`): each element must be one.
    ["array input", (m) => m.ingest([1, 2] as never), "Invalid `input[0]`: expected an object, received 1."],
    ["string input", (m) => m.ingest("hi" as never), 'Invalid `input`: expected an object, received "hi".'],
    ["content number", (m) => m.ingest({ content: 5 as never }), "Invalid `input.content`: expected a string, received 5."],
    ["role", (m) => m.ingest({ content: "hi", role: "robot" as never }), 'Invalid `input.role`: expected one of "user", "assistant", "system", "tool", received "robot".'],
    ["similarity", (m) => m.config.cache({ similarity: 0 }), "Invalid `cache.similarity`: expected a number > 0, received 0."],
    ["principal id", (m) => m.recall("q", { principal: { id: "", grants: [] } }), 'Invalid `options.principal.id`: expected a string of at least 1 character, received "".'],
    ["baseURL", (m) => m.config.providers({ openai: { apiKey: "k", baseURL: "nope" } }), 'Invalid `providers.openai.baseURL`: expected a URL, received "nope".'],
  ];
  it.each(cases)("%s", async (_name, call, message) => {
    const { memory } = makeMemory();
    cleanups.push(() => memory.close());
    const error = await rejection(() => call(memory));
    expect(error).toBeInstanceOf(SpectronValidationError);
    expect((error as Error).message).toBe(message);
    expect((error as Error).message).not.toMatch(/expected expected|Too small|Too big|Invalid input|Invalid option|received .*, received/);
  });
});
