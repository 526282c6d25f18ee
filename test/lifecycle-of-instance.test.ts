import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { ClosedError, Spectron, SpectronValidationError } from "../src/index.js";
import { alice, makeMemory, tempDir } from "./helpers.js";

describe("the Spectron instance", () => {
  it("validates its options and names the field", () => {
    expect(() => new Spectron({ context: "" })).toThrow(SpectronValidationError);
    expect(() => new Spectron({ context: "has space" })).toThrow(/`options\.context`/);
    expect(() => new Spectron({ context: "ok", models: { extraction: "mystery-model" } })).toThrow(/options\.models\.extraction/);
    expect(() => new Spectron({ context: "ok", models: { nonsense: "gpt-4o" } as never })).toThrow(/nonsense/);
    expect(() => new Spectron({ context: "ok", unknown: 1 } as never)).toThrow(/unknown/);
    expect(() => new Spectron({ context: "ok", schedule: { decay: 5 } })).toThrow(/schedule\.decay/);
  });

  it("defaults to :memory: and local models when no key is at hand", async () => {
    const { memory } = makeMemory();
    const cfg = await memory.config.get();
    expect(cfg.models).toEqual({
      extraction: "local:rules",
      query_understanding: "local:rules",
      response: "local:rules",
      reflection: "local:rules",
      background: "local:rules",
      embedding: "local:hash-384",
    });
    expect(cfg.providers_configured).toEqual([]);
    await memory.close();
  });

  it("closes idempotently, rejects every later call with ClosedError, and supports await using", async () => {
    const { memory } = makeMemory();
    await memory.ingest({ content: "I live in Porto.", scope: alice });
    const a = memory.close();
    const b = memory.close();
    expect(a).toBe(b);
    await a;
    await expect(memory.recall("where do I live?", { scope: alice })).rejects.toBeInstanceOf(ClosedError);
    await expect(memory.ingest({ content: "x", scope: alice })).rejects.toBeInstanceOf(ClosedError);
    await expect(memory.config.get()).rejects.toBeInstanceOf(ClosedError);
    await expect(memory.state.list()).rejects.toBeInstanceOf(ClosedError);
    await expect(memory.traces.list()).rejects.toBeInstanceOf(ClosedError);
    await expect(memory.idle()).rejects.toThrow(/closed/);

    const t = tempDir();
    {
      await using m = new Spectron({ context: "disposable", path: t.path, providers: {} });
      await m.ingest({ content: "I work at Acme.", scope: alice });
    }
    // Disposed: the file is closed and can be opened again.
    const reopened = new Spectron({ context: "disposable", path: t.path, providers: {} });
    expect((await reopened.state.list({ scope: alice })).records).toHaveLength(1);
    await reopened.close();
    t.cleanup();
  });

  it("uses WAL, records its migrations, and keeps several Contexts in one file apart", async () => {
    const t = tempDir();
    const a = new Spectron({ context: "product-a", path: t.path, providers: {} });
    const b = new Spectron({ context: "product-b", path: t.path, providers: {} });
    await a.ingest({ content: "I'm on the Pro plan.", scope: alice });
    await b.ingest({ content: "I'm on the Free plan.", scope: alice });
    expect((await a.state.list({ scope: alice })).records.map((r) => r.value)).toEqual(["Pro"]);
    expect((await b.state.list({ scope: alice })).records.map((r) => r.value)).toEqual(["Free"]);
    expect((await a.recall("which plan am I on?", { scope: alice })).answer).toContain("Pro");
    expect((await b.recall("which plan am I on?", { scope: alice })).answer).toContain("Free");
    expect((await a.traces.list()).traces.every((t) => t.scope === null || t.id)).toBe(true);
    const aTraces = (await a.traces.list()).traces.map((t) => t.id);
    const bTraces = (await b.traces.list()).traces.map((t) => t.id);
    expect(aTraces.filter((id) => bTraces.includes(id))).toEqual([]);
    await a.close();
    await b.close();

    const db = new Database(t.path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.prepare("SELECT version, name FROM schema_migrations").all()).toEqual([
      { version: 1, name: "initial schema" },
      { version: 2, name: "source trust calibration" },
      { version: 3, name: "documents: attempts, failed status, author" },
      { version: 4, name: "question signatures on cached answers" },
      { version: 5, name: "turns as passages" },
      { version: 6, name: "background budget and backlog" },
      { version: 7, name: "erasure: tombstones and secure deletes" },
      { version: 8, name: "vector storage: one row per vector" },
    ]);
    db.close();
    t.cleanup();
  });
});
