import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { Spectron } from "../src/index.js";
import { bulkLoad } from "../bench/bulk.js";
import { tempDir } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./children/multiproc-child.ts", import.meta.url));
const ORG = { org: "acme" };
const CITIES = ["Lisbon", "Porto", "Berlin", "Madrid", "Oslo", "Paris", "Rome", "Vienna", "Prague", "Dublin"];
const OFF = { decay: false, expire: false, retry: false } as const;

interface Failure { name: string; code: string | null; retryable: boolean | null; message: string }

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

  call<T>(command: object): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.process.send({ ...command, id });
    });
  }

  kill(): void {
    this.process.kill("SIGKILL");
  }
}

const children: Child[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
});

async function spawn(n: number): Promise<Child[]> {
  const made = Array.from({ length: n }, () => new Child());
  children.push(...made);
  await Promise.all(made.map((c) => c.ready));
  return made;
}

const note = (who: string, i: number) => `Field report ${who}-${i}: the ${CITIES[i % CITIES.length]} depot shipped crate ${who}${i * 13} on time.`;

describe("several processes on one file", () => {
  test("two writers at once: every ingest lands, no raw SqliteError, each finds the other's records through its ANN index", async () => {
    const t = tempDir();
    // 300 notes first (bulk-loaded: fast), so that the 360 the scope ends with are searched through hnswlib.
    const seed = new Spectron({ context: "shared", path: t.path, providers: {}, schedule: OFF });
    await bulkLoad(seed, (i) => ({ content: note("S", i), scope: ORG }), { from: 0, to: 300 }, { now: () => Date.now() });
    await seed.close();
    const [a, b] = await spawn(2);
    await Promise.all([a!.call({ op: "open", path: t.path, context: "shared" }), b!.call({ op: "open", path: t.path, context: "shared" })]);
    const N = 30;
    const written = await Promise.all(
      [a!, b!].map((c, k) => c.call<{ ok: number; errors: Failure[] }>({ op: "ingest", scope: ORG, contents: Array.from({ length: N }, (_, i) => note(k ? "B" : "A", i)) })),
    );
    expect(written.map((w) => w.errors)).toEqual([[], []]);
    expect(written.map((w) => w.ok)).toEqual([N, N]);

    // Each asks for every one of the other's reports, verbatim: the vector channel (hnswlib) must rank it first.
    const asked = Array.from({ length: N }, (_, j) => j);
    for (const [reader, writer] of [[a!, "B"], [b!, "A"]] as const) {
      const { results } = await reader.call<{ results: { query: string; vectorPath: string; vectorTop: string[] }[] }>({
        op: "query", scope: ORG, limit: 5, queries: asked.map((i) => note(writer, i)),
      });
      expect(results.map((r) => r.vectorPath)).toEqual(asked.map(() => "ann"));
      expect(results.filter((r) => r.vectorTop[0] !== r.query).map((r) => r.query)).toEqual([]);
    }
    const closed = await Promise.all([a!.call({ op: "close" }), b!.call({ op: "close" })]);
    expect(closed).toHaveLength(2);
    t.cleanup();
  }, 120_000);
});
