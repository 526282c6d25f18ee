import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { AccessDeniedError, ProviderError, Spectron, type SpectronOptions } from "../src/index.js";
import { REINDEX_LEASE_MS } from "../src/knowledge/reindex-lease.js";
import { bulkLoad } from "../bench/bulk.js";
import { MIGRATIONS } from "../src/store/migrations.js";
import { builtChild } from "./built-child.js";
import { startFakeProvider, type FakeProvider } from "./fakes/fake-provider.js";
import { T0, makeMemory, tempDir } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./fakes/resume-child.ts", import.meta.url));
const CONTEXT = "crash";
const LOCAL = { extraction: "local:rules", query_understanding: "local:rules", response: "local:rules", reflection: "local:rules", background: "local:rules" };
const HOUR = 3_600_000;

/** The child compiled against the built package (built-child.ts), once per file. */
let childScript: string;
beforeAll(async () => {
  childScript = await builtChild(CHILD);
}, 600_000); // the one `npm run build` the test files share, when the sources changed since the last build

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function setup() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t;
}

async function fakeServer(): Promise<FakeProvider> {
  const server = await startFakeProvider();
  cleanups.push(() => server.close());
  return server;
}

/** An instance on the test's file against the fake provider, with no timers. */
function open(path: string, server: FakeProvider, clock: number, extra: Partial<SpectronOptions> = {}): Spectron {
  const memory = new Spectron({
    context: CONTEXT,
    path,
    clock: () => clock,
    providers: { openai: { apiKey: "sk-test", baseURL: server.openaiURL } },
    provider: { maxRetries: 0 },
    schedule: { decay: false, expire: false, retry: false },
    ...extra,
  });
  cleanups.push(async () => void (await memory.close()));
  return memory;
}

interface Child {
  proc: ChildProcess;
  stderr: () => string;
}

function startChild(args: Record<string, unknown>): Child {
  const proc = spawn(process.execPath, ["--enable-source-maps", childScript, JSON.stringify(args)], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.resume();
  cleanups.push(() => void (proc.exitCode === null && proc.signalCode === null && proc.kill("SIGKILL")));
  return { proc, stderr: () => stderr };
}

/** Polls until `condition` holds; fails early with the child's stderr if it exited. */
async function until(condition: () => boolean, what: string, child: Child): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (child.proc.exitCode !== null) throw new Error(`The child exited (${child.proc.exitCode}) before ${what}:\n${child.stderr()}`);
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}:\n${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function sigkill(child: Child): Promise<void> {
  const exited = once(child.proc, "exit");
  child.proc.kill("SIGKILL");
  const [, signal] = await exited;
  expect(signal).toBe("SIGKILL");
}

const embeddingRequests = (server: FakeProvider) => server.requests.filter((r) => r.path.endsWith("/embeddings"));
const inputsOf = (server: FakeProvider, from = 0) => embeddingRequests(server).slice(from).flatMap((r) => r.body.input as string[]);

/** Reads the file with a plain connection of the test's own (no Spectron). */
function peek<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
const reindexState = (path: string) =>
  peek(path, (db) => JSON.parse((db.prepare("SELECT reindex FROM contexts WHERE name = ?").get(CONTEXT) as { reindex: string }).reindex));
const vectorsIn = (path: string, space: string, model: string) =>
  peek(path, (db) =>
    (db.prepare("SELECT COUNT(DISTINCT label) AS n FROM vector_changes WHERE context = ? AND space = ? AND model = ? AND op = 'add'").get(CONTEXT, space, model) as { n: number }).n,
  );

/** Sections of one list-like sentence each (about one chunk and one record each). */
function manual(sections: number): string {
  const cities = ["Lisbon", "Porto", "Berlin", "Madrid", "Oslo", "Paris", "Rome", "Vienna"];
  return Array.from(
    { length: sections },
    (_, n) => Array.from({ length: 14 }, (_, k) => `Part ${n}x${k}, ${cities[(n + k) % cities.length]} depot, ${n * 31 + k} crates`).join("; ") + ".",
  ).join("\n\n");
}

/**
 * A file with a Context on local models holding records and a large document, whose embedding model is then
 * switched to the fake provider's: retrieval keeps the local vectors until a reindex completes.
 */
async function storeToReindex(path: string, server: FakeProvider) {
  const memory = open(path, server, T0, { models: { ...LOCAL, embedding: "local:hash-384" } });
  const visits = [];
  for (let n = 0; n < 20; n++) visits.push((await memory.ingest({ content: `I visited the ${n}th museum in Lisbon on day ${n}.`, scope: { user: "alice" } })).records[0]!);
  const doc = await memory.knowledge.add({ title: "Depot manual", text: manual(160), scope: { user: "alice" } });
  expect(doc.chunks).toBeGreaterThan(128);
  await memory.config.models({ embedding: "text-embedding-3-small" });
  await memory.close();
  expect(embeddingRequests(server)).toHaveLength(0);
  return { visits };
}

describe("a reindex interrupted by SIGKILL", () => {
  it("resumes on open from the last committed batch, re-embedding nothing twice, and completes searchable", async () => {
    const { path } = setup();
    const server = await fakeServer();
    const { visits } = await storeToReindex(path, server);
    // Two batches answered, the third hangs: the child dies with exactly two batches committed.
    server.script({}, {}, { hang: true });
    const child = startChild({ path, openaiURL: server.openaiURL, clock: T0 + 1000, action: "reindex" });
    await until(() => embeddingRequests(server).length === 3, "the third reindex batch", child);
    await sigkill(child);

    const stuck = reindexState(path);
    expect(stuck).toMatchObject({ status: "running", model: "text-embedding-3-small" });
    const committed = peek(path, (db) => (db.prepare("SELECT COUNT(*) AS n FROM reindex_done").get() as { n: number }).n);
    expect(committed).toBe(inputsOf(server).length - (embeddingRequests(server)[2]!.body.input as string[]).length);
    expect(committed).toBeGreaterThan(0);

    const before = embeddingRequests(server).length;
    const memory = open(path, server, T0 + HOUR);
    await memory.idle();
    const done = await memory.knowledge.reindexStatus();
    expect(done).toMatchObject({ status: "complete", model: "text-embedding-3-small", from: "local:hash-384" });
    expect(done.done).toBe(done.total);

    // Resumed, not restarted: the rows committed before the crash were not embedded again.
    const resumed = inputsOf(server, before);
    expect(committed + resumed.length).toBe(done.total);

    // Complete: every chunk and every live record has a vector of the new model, and retrieval reads them.
    const counts = peek(path, (db) => ({
      chunks: (db.prepare("SELECT COUNT(*) AS n FROM chunks WHERE context = ?").get(CONTEXT) as { n: number }).n,
      records: (db.prepare("SELECT COUNT(*) AS n FROM records WHERE context = ? AND status IN ('current', 'flagged')").get(CONTEXT) as { n: number }).n,
      oldModel: (db.prepare("SELECT COUNT(*) AS n FROM records WHERE context = ? AND embedding_model = 'local:hash-384'").get(CONTEXT) as { n: number }).n,
    }));
    expect(done.total).toBe(counts.chunks + counts.records);
    expect(vectorsIn(path, "chunks", "text-embedding-3-small")).toBe(counts.chunks);
    expect(vectorsIn(path, "records", "text-embedding-3-small")).toBe(counts.records);
    expect(counts.oldModel).toBe(0);
    const target = visits[17]!;
    await memory.query(target.text, { scope: { user: "alice" } });
    const trace = (await memory.traces.list({ kind: "retrieval_trace", limit: 1 })).traces[0]!;
    const vector = (trace.payload as { candidates: { vector: { id: string }[] } }).candidates.vector;
    expect(vector[0]!.id).toBe(target.id);
    const chunk = peek(path, (db) => (db.prepare("SELECT text FROM chunks WHERE context = ? ORDER BY id DESC LIMIT 1").get(CONTEXT) as { text: string }).text);
    const recalled = await memory.recall(chunk, { scope: { user: "alice" } });
    expect(recalled.chunks.map((c) => c.text)).toContain(chunk);
  }, 60_000);

  it("is not taken over while its owner lives (another process), and is resumed once the owner is killed", async () => {
    const { path } = setup();
    const server = await fakeServer();
    await storeToReindex(path, server);
    server.script({ hang: true });
    const child = startChild({ path, openaiURL: server.openaiURL, clock: T0 + 1000, action: "reindex" });
    await until(() => embeddingRequests(server).length === 1, "the first reindex batch", child);

    const memory = open(path, server, T0 + 2000);
    await memory.idle();
    const refused = await memory.knowledge.reindex();
    await memory.idle();
    expect(refused).toMatchObject({ status: "running", owner: expect.stringContaining(`:${child.proc.pid}:`) });
    expect(embeddingRequests(server)).toHaveLength(1);

    await sigkill(child);
    const taken = await memory.knowledge.reindex();
    expect(taken.status).toBe("running");
    expect(taken.owner).toContain(`:${process.pid}:`);
    await memory.idle();
    const done = await memory.knowledge.reindexStatus();
    expect(done).toMatchObject({ status: "complete", model: "text-embedding-3-small" });
    expect(done.done).toBe(done.total);
  }, 60_000);

  it("owned by an unreachable host: waits for the lease to lapse (by the injected clock), then takes over", async () => {
    const { path } = setup();
    const server = await fakeServer();
    await storeToReindex(path, server);
    const heartbeat = T0 + 5000;
    const db = new Database(path);
    db.prepare("UPDATE contexts SET reindex = ? WHERE name = ?").run(
      JSON.stringify({ status: "running", done: 0, total: 400, model: "text-embedding-3-small", from: "local:hash-384", owner: "elsewhere.invalid:4242:x", heartbeat }),
      CONTEXT,
    );
    db.close();

    const live = open(path, server, heartbeat + REINDEX_LEASE_MS - 1);
    await live.idle();
    expect(await live.knowledge.reindex()).toMatchObject({ status: "running", owner: "elsewhere.invalid:4242:x" });
    await live.idle();
    expect(embeddingRequests(server)).toHaveLength(0);
    await live.close();

    const lapsed = open(path, server, heartbeat + REINDEX_LEASE_MS + 1);
    await lapsed.idle();
    expect(await lapsed.knowledge.reindexStatus()).toMatchObject({ status: "complete", model: "text-embedding-3-small" });
    expect(embeddingRequests(server).length).toBeGreaterThan(0);
  }, 60_000);
});

describe("a reindex in this process", () => {
  it("is left to the instance running it whatever the clocks say, and after it fails, restarts from its committed batches", async () => {
    const { path } = setup();
    const first = await fakeServer();
    await storeToReindex(path, first);
    first.script({}, { hang: true });
    const a = open(path, first, T0);
    const started = await a.knowledge.reindex();
    expect(started).toMatchObject({ status: "running", owner: expect.stringContaining(`:${process.pid}:`) });
    while (embeddingRequests(first).length < 2) await new Promise((r) => setTimeout(r, 10));

    // Another instance, its clock far past the lease: the owner is in this process and still running it.
    const second = await fakeServer();
    const b = open(path, second, T0 + 10 * REINDEX_LEASE_MS);
    expect(await b.knowledge.reindex()).toMatchObject({ status: "running", owner: started.owner });
    await b.idle();
    expect(embeddingRequests(second)).toHaveLength(0);

    // The provider goes away mid-batch: the reindex fails, keeping the batch it committed.
    await first.close();
    await a.idle();
    const failed = await b.knowledge.reindexStatus();
    expect(failed).toMatchObject({ status: "failed", done: (embeddingRequests(first)[0]!.body.input as string[]).length });
    expect(failed.owner).toBeUndefined();
    const restarted = await b.knowledge.reindex();
    expect(restarted).toMatchObject({ status: "running", done: failed.done, total: failed.total });
    await b.idle();
    expect(await b.knowledge.reindexStatus()).toMatchObject({ status: "complete", done: failed.total, total: failed.total });
    expect(inputsOf(second)).toHaveLength(failed.total - failed.done);
  }, 60_000);
});

describe("a knowledge.add interrupted by SIGKILL", () => {
  it("leaves a pending document that the next open embeds and extracts in the background", async () => {
    const { path } = setup();
    const server = await fakeServer();
    await open(path, server, T0, { models: { ...LOCAL, embedding: "text-embedding-3-small" } }).close();
    server.script({ hang: true });
    const text = "Backups are kept for 35 days. The Lisbon office opens at 9am. Alice manages the billing team.";
    const child = startChild({ path, openaiURL: server.openaiURL, clock: T0 + 1000, action: "add", title: "Ops notes", text });
    await until(() => embeddingRequests(server).length === 1, "the document's embedding request", child);
    await sigkill(child);
    expect(peek(path, (db) => db.prepare("SELECT status, attempts FROM documents").all())).toEqual([{ status: "pending", attempts: 1 }]);
    expect(vectorsIn(path, "chunks", "text-embedding-3-small")).toBe(0);

    const memory = open(path, server, T0 + HOUR);
    await memory.idle();
    const [doc] = await memory.knowledge.list();
    expect(doc).toMatchObject({ title: "Ops notes", status: "indexed", attempts: 2, error: null, scope: { user: "alice" } });
    expect(vectorsIn(path, "chunks", "text-embedding-3-small")).toBe(doc!.chunks);
    const recalled = await memory.recall("How long are backups kept?", { scope: { user: "alice" } });
    expect(recalled.chunks.map((c) => c.text).join(" ")).toContain("35 days");
    const records = (await memory.state.list({ scope: { user: "alice" } })).records;
    expect(records.some((r) => r.source.kind === "document" && r.source.id === doc!.id)).toBe(true);
  }, 60_000);
});

describe("documents whose embedding keeps failing", () => {
  it("are retried on each open, marked failed after 5 attempts, listed by status, and retried by knowledge.retry()", async () => {
    const { path } = setup();
    const server = await fakeServer();
    const alice = { id: "alice-app", grants: [{ scope: { user: "alice" }, permissions: ["read", "write"] as ("read" | "write")[] }] };
    let clock = T0;
    const first = open(path, server, clock, { models: { ...LOCAL, embedding: "text-embedding-3-small" } });
    server.script({ status: 400, errorMessage: "Fake bad request." });
    const err = await first.knowledge.add({ title: "Handbook", text: "Backups are kept for 35 days.", scope: { user: "alice" } }).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    const [pending] = await first.knowledge.list({ status: "pending" });
    expect(pending).toMatchObject({ title: "Handbook", status: "pending", attempts: 1, error: expect.stringContaining("Fake bad request") });
    expect(await first.knowledge.list({ status: "indexed" })).toEqual([]);
    await first.close();

    for (let attempt = 2; attempt <= 5; attempt++) {
      server.script({ status: 400, errorMessage: "Fake bad request." });
      clock += HOUR;
      const again = open(path, server, clock);
      await again.idle();
      const [doc] = await again.knowledge.list();
      expect(doc).toMatchObject({ attempts: attempt, status: attempt < 5 ? "pending" : "failed" });
      await again.close();
    }
    expect(embeddingRequests(server)).toHaveLength(5);

    // Failed: the background leaves it alone; it is listed, and retried on request.
    const memory = open(path, server, clock + HOUR);
    await memory.idle();
    expect(embeddingRequests(server)).toHaveLength(5);
    const failed = await memory.knowledge.list({ status: "failed" });
    expect(failed.map((d) => d.title)).toEqual(["Handbook"]);
    expect(await memory.as(alice).knowledge.list({ scope: { user: "alice" } })).toHaveLength(1);
    expect(await memory.as(alice).knowledge.list({ scope: { user: "bob" } }).catch((e) => e)).toBeInstanceOf(AccessDeniedError);
    await expect(memory.as(alice).knowledge.retry()).rejects.toBeInstanceOf(AccessDeniedError);
    expect(await memory.knowledge.retry()).toEqual({ indexed: 1, failed: 0 });
    expect(await memory.knowledge.list({ status: "indexed" })).toMatchObject([{ title: "Handbook", status: "indexed", attempts: 6, error: null }]);
    expect((await memory.recall("How long are backups kept?", { scope: { user: "alice" } })).chunks.map((c) => c.text).join(" ")).toContain("35 days");
  }, 60_000);

  it("a document whose add failed is indexed by the retry schedule (a real timer) once no attempt has touched it for a minute", async () => {
    const { path } = setup();
    const server = await fakeServer();
    let now = T0;
    const memory = open(path, server, 0, {
      clock: () => now,
      models: { ...LOCAL, embedding: "text-embedding-3-small" },
      schedule: { decay: false, expire: false, retry: 1000 },
    });
    server.script({ status: 400 });
    await expect(memory.knowledge.add({ title: "Runbook", text: "Restart the queue worker before noon.", scope: { user: "alice" } })).rejects.toBeInstanceOf(ProviderError);
    // Touched just now (by the failed attempt): a sweep leaves it, as it would another process's attempt in progress.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await memory.knowledge.list())[0]).toMatchObject({ status: "pending", attempts: 1 });
    now += 61_000;
    const deadline = Date.now() + 15_000;
    while ((await memory.knowledge.list())[0]!.status !== "indexed") {
      if (Date.now() > deadline) throw new Error("The retry schedule never indexed the document");
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await memory.knowledge.list())[0]).toMatchObject({ status: "indexed", attempts: 2, error: null });
  }, 30_000);

  it("knowledge.list takes only its options, and a pending document in flight is not retried beside its add", async () => {
    const { memory } = makeMemory();
    cleanups.push(async () => void (await memory.close()));
    await expect(memory.knowledge.list({ status: "done" } as never)).rejects.toThrow(/Invalid `options.status`/);
    await memory.knowledge.add({ title: "A", text: "The Porto office closes at 6pm.", scope: { user: "bob" } });
    expect(await memory.knowledge.retry()).toEqual({ indexed: 0, failed: 0 });
    expect((await memory.knowledge.list()).map((d) => [d.title, d.status, d.attempts])).toEqual([["A", "indexed", 1]]);
  });
});

describe("a reindex tells the open ANN index about the vectors it writes", () => {
  it("an instance that reindexes there and back finds its newest records through the vector channel", async () => {
    const { memory } = makeMemory();
    cleanups.push(async () => void (await memory.close()));
    const ORG = { org: "acme" };
    await bulkLoad(memory, (n) => ({ content: `Team note ${n}: the depot ${n} reported build ${n * 7} as green.`, scope: ORG }), { from: 0, to: 400 }, { now: () => T0 });
    await memory.config.models({ embedding: "local:hash-256" });
    await memory.knowledge.reindex();
    await memory.idle();
    const newest = [];
    for (let n = 0; n < 20; n++) newest.push((await memory.ingest({ content: `Release memo ${n}: the kiosk ${n} shipped version ${n * 13}.`, scope: ORG })).records[0]!);
    await memory.config.models({ embedding: "local:hash-384" });
    await memory.knowledge.reindex();
    await memory.idle();
    expect(await memory.knowledge.reindexStatus()).toMatchObject({ status: "complete", model: "local:hash-384" });
    for (const record of newest) {
      await memory.query(record.text, { scope: ORG });
      const payload = (await memory.traces.list({ kind: "retrieval_trace", limit: 1 })).traces[0]!.payload as {
        vector_path: string;
        candidates: { vector: { id: string }[] };
      };
      expect(payload.vector_path).toBe("ann");
      expect(payload.candidates.vector.map((c) => c.id)).toContain(record.id);
    }
  }, 60_000);
});

describe("migration 3 (documents gain attempts and a failed status)", () => {
  it("keeps every document and chunk of a version-2 file, and indexes the document it left pending", async () => {
    const { path } = setup();
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    for (const m of MIGRATIONS.filter((m) => m.version <= 2)) {
      m.up(db);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(m.version, m.name, "2026-01-01T00:00:00Z");
    }
    db.prepare("INSERT INTO contexts (name, created_at, models, cache) VALUES (?, ?, ?, ?)").run(
      CONTEXT,
      T0,
      JSON.stringify({ ...LOCAL, embedding: "local:hash-384" }),
      JSON.stringify({ similarity: 0.95, freshness: null, min_trust: 0 }),
    );
    const key = JSON.stringify({ user: "alice" });
    const addDoc = (title: string, status: string, chunks: string[]) => {
      const id = Number(db.prepare("INSERT INTO documents (context, scope_key, title, text, status, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(CONTEXT, key, title, chunks.join(" "), status, T0).lastInsertRowid);
      chunks.forEach((text, ord) => db.prepare("INSERT INTO chunks (context, document_id, scope_key, ord, text, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(CONTEXT, id, key, ord, text, T0));
    };
    addDoc("Old", "indexed", ["The Oslo office has a sauna."]);
    addDoc("Interrupted", "pending", ["Backups are kept for 35 days.", "The Rome office opens at 8am."]);
    db.close();

    const memory = new Spectron({ context: CONTEXT, path, clock: () => T0 + HOUR, providers: {}, schedule: { decay: false, expire: false, retry: false } });
    cleanups.push(async () => void (await memory.close()));
    await memory.idle();
    expect((await memory.knowledge.list()).map((d) => [d.title, d.status, d.attempts, d.chunks])).toEqual([
      ["Old", "indexed", 1, 1],
      ["Interrupted", "indexed", 2, 2],
    ]);
    expect(peek(path, (db) => db.prepare("PRAGMA foreign_key_check").all())).toEqual([]);
    expect((await memory.recall("How long are backups kept?", { scope: { user: "alice" } })).chunks.map((c) => c.text)).toContain("Backups are kept for 35 days.");
  });
});

describe("an embedding model changed by the constructor's options", () => {
  it("is reindexed like one changed by config.models: retrieval keeps the old vectors until the reindex completes", async () => {
    const { path } = setup();
    const options = { context: CONTEXT, path, clock: () => T0, providers: {}, schedule: { decay: false, expire: false, retry: false } } as const;
    const before = new Spectron(options);
    await before.ingest({ content: "I live in Lisbon.", scope: { user: "alice" } });
    await before.close();
    const memory = new Spectron({ ...options, models: { embedding: "local:hash-256" } });
    cleanups.push(async () => void (await memory.close()));
    await memory.knowledge.reindex();
    await memory.idle();
    expect(await memory.knowledge.reindexStatus()).toMatchObject({ status: "complete", done: 1, total: 1, model: "local:hash-256", from: "local:hash-384" });
    expect(vectorsIn(path, "records", "local:hash-256")).toBe(1);
  });
});
