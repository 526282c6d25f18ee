import { fork, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BusyError, Spectron } from "../src/index.js";
import { bulkLoad, coreOf } from "../bench/bulk.js";
import { tempDir } from "./helpers.js";
import { MIGRATIONS } from "../src/store/migrations.js";

const CHILD = fileURLToPath(new URL("./children/multiproc-child.ts", import.meta.url));
const ORG = { org: "acme" };
const CITIES = ["Lisbon", "Porto", "Berlin", "Madrid", "Oslo", "Paris", "Rome", "Vienna", "Prague", "Dublin"];
const OFF = { decay: false, expire: false, retry: false } as const;

interface Failure { name: string; code: string | null; retryable: boolean | null; message: string }
interface QueryResult { query: string; vectorPath: string; vectorTop: string[] }

/** A Spectron in its own process (test/children/multiproc-child.ts), driven over IPC. */
class Child {
  private readonly process: ChildProcess;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  readonly ready: Promise<void>;

  constructor() {
    this.process = fork(CHILD, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.ready = new Promise((resolve, reject) => {
      this.process.on("message", (m: { ready?: true; id?: number; result?: unknown; error?: Failure }) => {
        if (m.ready) return resolve();
        const w = this.waiting.get(m.id!)!;
        this.waiting.delete(m.id!);
        if (m.error) w.reject(Object.assign(new Error(m.error.message), m.error));
        else w.resolve(m.result);
      });
      this.process.on("exit", (code) => {
        const error = new Error(`child exited with ${code}`);
        reject(error);
        for (const w of this.waiting.values()) w.reject(error);
      });
    });
  }

  call<T = unknown>(command: object): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.process.send({ ...command, id });
    });
  }

  /** Opens `path` at wall-clock `at` (all children given one `at` open at the same moment); the error, if any. */
  open(path: string, at?: number): Promise<Failure | null> {
    return this.call({ op: "open", path, context: "shared", ...(at ? { at } : {}) }).then(() => null, (e: Failure) => ({ ...e }));
  }

  kill(): void {
    this.process.kill("SIGKILL");
  }
}

// Two child processes for the whole file: starting one (tsx compiling the sources) costs seconds on a busy machine.
let a: Child;
let b: Child;
beforeAll(async () => {
  [a, b] = [new Child(), new Child()];
  await Promise.all([a.ready, b.ready]);
}, 120_000);
afterAll(() => {
  a?.kill();
  b?.kill();
});

const note = (who: string, i: number) => `Field report ${who}-${i}: the ${CITIES[i % CITIES.length]} depot shipped crate ${who}${i * 13} on time.`;

async function seeded(path: string, who: string, n: number, order = (i: number) => i): Promise<void> {
  const memory = new Spectron({ context: "shared", path, providers: {}, schedule: OFF });
  await bulkLoad(memory, (i) => ({ content: note(who, order(i)), scope: ORG }), { from: 0, to: n }, { now: () => Date.now() });
  await memory.close();
}

/** The ANN index file of the records beside the database file `path` (its sidecar is this + ".json"). */
function sidecarOf(path: string): string {
  const dir = join(path, "..");
  const file = readdirSync(dir).find((f) => f.includes(".records.") && f.endsWith(".hnsw"));
  return join(dir, file!);
}

/** The texts the vector channel ranked first for `query` (from the query's retrieval trace), and its path. */
async function vectorChannel(memory: Spectron, query: string): Promise<string[]> {
  await memory.query(query, { scope: ORG, limit: 5 });
  const trace = (await memory.traces.list({ kind: "retrieval_trace", limit: 1 })).traces[0]!;
  const payload = trace.payload as { vector_path: string; candidates: { vector: { id: string }[] } };
  expect(payload.vector_path).toBe("ann");
  const texts = [];
  for (const c of payload.candidates.vector.slice(0, 5)) texts.push((await memory.state.get(c.id)).text);
  return texts;
}

function tmpFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".tmp"));
}

describe("several processes on one file", () => {
  test("two writers at once: every ingest lands, no raw SqliteError, each finds the other's records through its ANN index", async () => {
    const t = tempDir();
    // 300 notes first (bulk-loaded: fast), so that the scope is searched through hnswlib (more than 300 visible).
    await seeded(t.path, "S", 300);
    expect(await Promise.all([a.open(t.path), b.open(t.path)])).toEqual([null, null]);
    const N = 30;
    const written = await Promise.all(
      [a, b].map((c, k) => c.call<{ ok: number; errors: Failure[] }>({ op: "ingest", scope: ORG, contents: Array.from({ length: N }, (_, i) => note(k ? "B" : "A", i)) })),
    );
    expect(written.map((w) => w.errors)).toEqual([[], []]);
    expect(written.map((w) => w.ok)).toEqual([N, N]);

    // Each asks for every one of the other's reports, verbatim: the vector channel (hnswlib) must rank it first.
    for (const [reader, writer] of [[a, "B"], [b, "A"]] as const) {
      const queries = Array.from({ length: N }, (_, i) => note(writer, i));
      const { results } = await reader.call<{ results: QueryResult[] }>({ op: "query", scope: ORG, limit: 5, queries });
      expect(results.map((r) => r.vectorPath)).toEqual(queries.map(() => "ann"));
      expect(results.filter((r) => r.vectorTop[0] !== r.query).map((r) => r.query)).toEqual([]);
    }
    // Both save the same index files at the same moment: each writes its own temporary files.
    const at = Date.now() + 200;
    const closed = await Promise.all([a.call({ op: "close", at }), b.call({ op: "close", at })]);
    expect(closed).toEqual([{ closed: true, report: { unsaved: [] } }, { closed: true, report: { unsaved: [] } }]);
    expect(tmpFiles(t.dir)).toEqual([]);

    // Whichever pair of files won, the next open uses it or rebuilds, and finds every report.
    const warnings: string[] = [];
    const memory = new Spectron({ context: "shared", path: t.path, providers: {}, schedule: OFF, logger: { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} } });
    for (const who of ["A", "B"]) {
      const hits = await memory.query(note(who, 7), { scope: ORG, limit: 1 });
      expect(hits[0]!.text).toBe(note(who, 7));
    }
    expect(warnings).toEqual([]);
    await memory.close();
    t.cleanup();
  }, 120_000);

  test("two processes and this one opening a new file at the same instant all open it, migrated once", async () => {
    for (let round = 0; round < 6; round++) {
      const t = tempDir();
      const at = Date.now() + 300;
      const opened = Promise.all([a.open(t.path, at), b.open(t.path, at)]);
      while (Date.now() < at);
      let here: Spectron | undefined;
      let failure: unknown = null;
      try {
        here = new Spectron({ context: "shared", path: t.path, providers: {}, schedule: OFF });
      } catch (error) {
        failure = { name: (error as Error).name, message: (error as Error).message };
      }
      expect([failure, ...(await opened)]).toEqual([null, null, null]);
      const db = new Database(t.path, { readonly: true });
      expect(db.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(db.prepare("SELECT name FROM contexts").pluck().all()).toEqual(["shared"]);
      db.close();
      await Promise.all([a.call({ op: "close" }), b.call({ op: "close" }), here!.close()]);
      t.cleanup();
    }
  }, 120_000);
});

test("settings another connection (process or instance) changes are seen without reopening", async () => {
  const t = tempDir();
  const [one, two] = [0, 1].map(() => new Spectron({ context: "shared", path: t.path, providers: {}, schedule: OFF }));
  expect((await two!.config.get()).retention).toEqual([]);
  const rules = [{ scope: { org: "acme" }, memory_category: "context" as const, ttl: "30d" }];
  await one!.config.retention(rules);
  await new Promise((resolve) => setImmediate(resolve));
  expect((await two!.config.get()).retention).toEqual((await one!.config.get()).retention);
  await Promise.all([one!.close(), two!.close()]);
  t.cleanup();
});

describe("the ANN sidecar", () => {
  test("one written for another database with as many vectors is refused, and recall stays exact", async () => {
    const mine = tempDir();
    const theirs = tempDir();
    await seeded(mine.path, "X", 400);
    await seeded(theirs.path, "Y", 400, (i) => 399 - i);
    // Same ids, same count, same change log shape: only the vectors differ (record i holds the other end's report).
    const target = sidecarOf(mine.path);
    copyFileSync(sidecarOf(theirs.path), target);
    copyFileSync(`${sidecarOf(theirs.path)}.json`, `${target}.json`);

    const warnings: { msg: string; data?: object }[] = [];
    const logger = { debug() {}, info() {}, warn: (msg: string, data?: object) => void warnings.push({ msg, ...(data ? { data } : {}) }), error() {} };
    const memory = new Spectron({ context: "shared", path: mine.path, providers: {}, schedule: OFF, logger });
    await memory.idle();
    let found = 0;
    for (let i = 0; i < 400; i += 10) if ((await vectorChannel(memory, note("X", i)))[0] === note("X", i)) found++;
    expect(found).toBe(40);
    expect(warnings.map((w) => w.msg)).toEqual(["vector index: sidecar disagrees with the database, rebuilding"]);
    await memory.close();
    mine.cleanup();
    theirs.cleanup();
  }, 120_000);

  test("one whose lastSeq claims changes it does not hold is refused", async () => {
    const t = tempDir();
    await seeded(t.path, "S", 320);
    const index = sidecarOf(t.path);
    const saved = { index: readFileSync(index), sidecar: readFileSync(`${index}.json`, "utf8") };
    // Later writes; then the old sidecar comes back claiming to hold them.
    const memory = new Spectron({ context: "shared", path: t.path, providers: {}, schedule: OFF });
    for (let i = 0; i < 5; i++) await memory.ingest({ content: note("late", i), scope: ORG });
    await memory.close();
    const head = (new Database(t.path, { readonly: true }).prepare("SELECT MAX(seq) FROM vector_changes").pluck().get()) as number;
    writeFileSync(index, saved.index);
    writeFileSync(`${index}.json`, JSON.stringify({ ...JSON.parse(saved.sidecar), lastSeq: head }));
    const warnings: string[] = [];
    const again = new Spectron({ context: "shared", path: t.path, providers: {}, schedule: OFF, logger: { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} } });
    expect(warnings).toEqual(["vector index: sidecar does not match the change log, rebuilding"]);
    await again.idle();
    const hits = await again.query(note("late", 3), { scope: ORG, limit: 1 });
    expect(hits[0]!.text).toBe(note("late", 3));
    await again.close();
    t.cleanup();
  }, 60_000);
});

describe("close()", () => {
  test.each([
    ["a directory where the index file goes", ""],
    ["a directory where the sidecar goes", ".json"],
  ])("with %s, closes the database and reports the index it could not save", async (_name, suffix) => {
    const t = tempDir();
    await seeded(t.path, "S", 50);
    const memory = new Spectron({ context: "shared", path: t.path, providers: {}, schedule: OFF });
    await memory.ingest({ content: note("new", 1), scope: ORG });
    const file = sidecarOf(t.path);
    rmSync(`${file}${suffix}`);
    mkdirSync(`${file}${suffix}`);
    const report = await memory.close();
    expect(coreOf(memory).sqlite!.db.open).toBe(false);
    expect(report.unsaved).toEqual([expect.objectContaining({ path: file, code: expect.stringMatching(/^E/) })]);
    expect(tmpFiles(t.dir)).toEqual([]);
    // Nothing is lost: the next open rebuilds the index from the database.
    const again = new Spectron({ context: "shared", path: t.path, providers: {}, schedule: OFF });
    expect((await again.query(note("new", 1), { scope: ORG, limit: 1 }))[0]!.text).toBe(note("new", 1));
    await again.close();
    t.cleanup();
  }, 60_000);
});

describe("a write lock held past the busy timeout", () => {
  test("fails ingest with a retryable BusyError, having written nothing; a query answers and its trace waits for the lock", async () => {
    const t = tempDir();
    const memory = new Spectron({ context: "shared", path: t.path, providers: {}, schedule: OFF });
    await memory.ingest({ content: note("S", 1), scope: ORG });
    coreOf(memory).sqlite!.db.pragma("busy_timeout = 50"); // rather than wait 5 s
    const other = new Database(t.path);
    const retrievals = () => other.prepare("SELECT COUNT(*) FROM traces WHERE kind = 'retrieval_trace'").pluck().get() as number;
    const tracesBefore = retrievals();
    other.exec("BEGIN IMMEDIATE");
    const turns = () => other.prepare("SELECT COUNT(*) FROM turns").pluck().get();
    const before = turns();
    const error = await memory.ingest({ content: note("S", 2), scope: ORG }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusyError);
    expect(error).toMatchObject({ code: "busy", retryable: true, sqliteCode: "SQLITE_BUSY" });
    expect(turns()).toBe(before);
    // A ranked read needs no write lock to answer; the trace it leaves is written once the lock is free.
    const found = await memory.query(note("S", 1), { scope: ORG, limit: 1 });
    expect(found[0]!.text).toBe(note("S", 1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    other.exec("COMMIT");
    expect(retrievals()).toBe(tracesBefore);
    await expect.poll(retrievals, { timeout: 5_000 }).toBe(tracesBefore + 1);
    // Retried once the lock is gone, the ingest succeeds.
    await memory.ingest({ content: note("S", 2), scope: ORG });
    other.close();
    await memory.close();
    t.cleanup();
  });
});
