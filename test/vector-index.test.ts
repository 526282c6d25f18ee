import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ClosedError, SpectronValidationError } from "../src/errors.js";
import { AnnIndex, DedupAnnIndex, removeStaleTemporaries } from "../src/store/ann-index.js";
import { VectorIndex, type LoggedChange, type VectorChange, type VectorSource } from "../src/store/vector-index.js";
import { mulberry32 } from "./helpers.js";

// ---------- fixtures ----------


function vectorMaker(dim: number, seed: number): () => Float32Array {
  const random = mulberry32(seed);
  return () => {
    const v = new Float32Array(dim);
    for (let i = 0; i < dim; i++) v[i] = random() * 2 - 1;
    return v;
  };
}

/** An in-memory VectorSource that behaves like the SQLite one and counts how it is used. */
class FakeSource implements VectorSource {
  readonly vectors = new Map<number, Float32Array>();
  readonly log: VectorChange[] = [];
  readonly calls = { all: 0, changesSince: [] as number[] };
  private seq = 0;
  /** Set to stand for a store that other connections write to (SQLite's data_version). */
  version?: () => number;

  constructor(readonly dim: number) {}

  put(label: number, vector: Float32Array): VectorChange {
    this.vectors.set(label, vector);
    return this.append({ seq: this.nextSeq(), label, op: "add", vector });
  }

  del(label: number): VectorChange {
    if (!this.vectors.delete(label)) throw new Error(`no vector ${label}`);
    return this.append({ seq: this.nextSeq(), label, op: "remove" });
  }

  lastSeq(): number {
    return this.log.at(-1)?.seq ?? 0;
  }

  count(): number {
    return this.vectors.size;
  }

  all(batchSize: number): Iterable<{ label: number; vector: Float32Array }[]> {
    this.calls.all++;
    return this.rows(batchSize);
  }

  changeAtOrBefore(seq: number): LoggedChange | undefined {
    const change = this.log.filter((c) => c.seq <= seq).at(-1);
    return change && { seq: change.seq, label: change.label, op: change.op };
  }

  vector(label: number): Float32Array | undefined {
    return this.vectors.get(label);
  }

  changesSince(seq: number, limit: number): VectorChange[] {
    this.calls.changesSince.push(seq);
    return this.log.filter((c) => c.seq > seq).slice(0, limit);
  }

  resetCalls(): void {
    this.calls.all = 0;
    this.calls.changesSince.length = 0;
  }

  // Keyset pages like the SQLite source: no snapshot, so rows changed mid-scan show their new state.
  private *rows(batchSize: number) {
    let after = -1;
    for (;;) {
      const page = [...this.vectors.keys()].filter((label) => label > after).sort((a, b) => a - b).slice(0, batchSize);
      if (page.length === 0) return;
      after = page.at(-1)!;
      yield page.map((label) => ({ label, vector: this.vectors.get(label)! }));
    }
  }

  // The real log is shared by every vector set, so one set's seqs have gaps.
  private nextSeq(): number {
    this.seq += 1 + (this.seq % 3);
    return this.seq;
  }

  private append(change: VectorChange): VectorChange {
    this.log.push(change);
    return change;
  }
}

function seeded(dim: number, n: number, seed: number): { source: FakeSource; make: () => Float32Array } {
  const source = new FakeSource(dim);
  const make = vectorMaker(dim, seed);
  for (let label = 1; label <= n; label++) source.put(label, make());
  return { source, make };
}

function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return 1 - dot / Math.sqrt(na * nb);
}

function exactTop(source: FakeSource, query: Float32Array, k: number, filter?: (label: number) => boolean): number[] {
  return [...source.vectors]
    .filter(([label]) => !filter || filter(label))
    .map(([label, v]) => ({ label, distance: cosineDistance(query, v) }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, k)
    .map((hit) => hit.label);
}

/** `n` labels whose vectors are drawn from `uniques` distinct ones: separate arrays with equal bytes, as the store returns them. */
function duplicated(dim: number, n: number, uniques: number, seed: number) {
  const make = vectorMaker(dim, seed);
  const pick = mulberry32(seed + 1);
  const pool = Array.from({ length: uniques }, make);
  const source = new FakeSource(dim);
  for (let label = 1; label <= n; label++) source.put(label, new Float32Array(pool[Math.floor(pick() * uniques)]!));
  return { source, pool, make };
}

/** Share of `hits` within the exact k-th distance: with ties, any k of the tied labels are a correct answer. */
function tieAwareRecall(source: FakeSource, query: Float32Array, hits: { label: number }[], k: number): number {
  const distances = [...source.vectors.values()].map((v) => cosineDistance(query, v)).sort((a, b) => a - b);
  const kth = distances[Math.min(k, distances.length) - 1]!;
  return hits.filter((hit) => cosineDistance(query, source.vectors.get(hit.label)!) <= kth + 1e-6).length / k;
}

const ascending = (values: Iterable<number>) => [...values].sort((a, b) => a - b);

function labels(hits: { label: number }[] | null): number[] {
  if (hits === null) throw new Error("index not ready");
  return hits.map((hit) => hit.label);
}

/** Runs background tasks only when the test says so. */
function manualScheduler() {
  const tasks: (() => void)[] = [];
  return {
    schedule: (task: () => void) => void tasks.push(task),
    runOne: () => tasks.shift()?.(),
    runAll: () => {
      while (tasks.length > 0) tasks.shift()!();
    },
  };
}

function recordingLogger() {
  const warnings: string[] = [];
  return { warnings, logger: { debug() {}, warn: (msg: string) => void warnings.push(msg) } };
}

/**
 * 3,000 random steps over labels 1…`labelCount` of `source`: writes (`vectorFor` gives the vector), deletes
 * (notified, or removed from the index directly), background batches, saves, closes and reopens, all on one
 * sidecar file. `check` runs after every step that leaves the index ready. Returns the index, reopened if
 * needed and with every batch run, and how many checks ran.
 */
function randomInterleaving(
  random: () => number,
  source: FakeSource,
  labelCount: number,
  vectorFor: () => Float32Array,
  check: (index: VectorIndex) => void,
): { index: VectorIndex; checks: number } {
  const file = tempPath();
  const scheduler = manualScheduler();
  const open = () => VectorIndex.open({ source, path: file, batchSize: 8, sliceMs: 1, schedule: scheduler.schedule });
  let index: VectorIndex | null = open();
  let checks = 0;
  for (let step = 0; step < 3000; step++) {
    const r = random();
    const label = 1 + Math.floor(random() * labelCount);
    if (r < 0.45) {
      index?.notify(source.put(label, vectorFor()));
    } else if (r < 0.6) {
      if (!source.vectors.has(label)) continue;
      const change = source.del(label);
      if (random() < 0.5) index?.notify(change);
      else index?.remove(label);
    } else if (r < 0.9) {
      scheduler.runOne();
    } else if (r < 0.95) {
      index?.save();
    } else if (index) {
      index.close();
      index = null;
      scheduler.runAll(); // tasks of a closed index do nothing
    } else {
      index = open();
    }
    if (index?.ready) {
      checks++;
      check(index);
    }
  }
  index ??= open();
  scheduler.runAll();
  return { index, checks };
}

const dirs: string[] = [];
function tempPath(name = "records.ann"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "spectron-ann-"));
  dirs.push(dir);
  return path.join(dir, name);
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

// ---------- tests ----------

describe("VectorIndex", () => {
  test("recall@10 is at least 0.95 against brute force on 5,000 random 64-d vectors", async () => {
    const { source } = seeded(64, 5000, 1);
    let tasks = 0;
    const index = VectorIndex.open({
      source,
      schedule: (task) =>
        void setImmediate(() => {
          tasks++;
          task();
        }),
    });
    expect(index.ready).toBe(false);
    expect(index.search(new Float32Array(64), 10)).toBeNull();
    await index.flush();
    expect(index.ready).toBe(true);
    // The build is time-sliced into many background tasks, so other work runs between them (how long each
    // slice takes is measured by the benchmark, never asserted here: the machines are shared and noisy).
    expect(tasks).toBeGreaterThan(1);

    const queries = vectorMaker(64, 2);
    let found = 0;
    for (let q = 0; q < 100; q++) {
      const query = queries();
      const hits = index.search(query, 10)!;
      expect(hits).toHaveLength(10);
      for (let i = 1; i < hits.length; i++) expect(hits[i]!.distance).toBeGreaterThanOrEqual(hits[i - 1]!.distance);
      expect(hits[0]!.distance).toBeCloseTo(cosineDistance(query, source.vectors.get(hits[0]!.label)!), 5);
      const truth = new Set(exactTop(source, query, 10));
      found += hits.filter((hit) => truth.has(hit.label)).length;
    }
    expect(found / 1000).toBeGreaterThanOrEqual(0.95);
    index.close();
  });

  test("changes another connection logged are read before the next search, and a later notify does not skip them", () => {
    const { source, make } = seeded(16, 50, 41);
    let version = 0;
    source.version = () => version;
    const scheduler = manualScheduler();
    const index = VectorIndex.open({ source, schedule: scheduler.schedule });
    scheduler.runAll();
    expect(index.ready).toBe(true);
    // Another connection commits a vector (the index is not told), then this one commits and notifies its own.
    const theirs = make();
    source.put(51, theirs);
    version++;
    const mine = make();
    index.notify(source.put(52, mine));
    expect(labels(index.search(theirs, 1))).toEqual([51]);
    expect(labels(index.search(mine, 1))).toEqual([52]);
    // Without a notify: the next search reads it.
    const later = make();
    source.put(53, later);
    version++;
    expect(labels(index.search(later, 1))).toEqual([53]);
    source.del(51);
    version++;
    expect(labels(index.search(theirs, 3))).not.toContain(51);
    scheduler.runAll();
    expect(index.pendingCount).toBe(0);
    for (const [label, vector] of [[52, mine], [53, later]] as const) expect(labels(index.search(vector, 1))).toEqual([label]);
    index.close();
  });

  test("a notified vector is searchable at once, before any background batch", () => {
    const { source, make } = seeded(32, 300, 3);
    const scheduler = manualScheduler();
    const index = VectorIndex.open({ source, schedule: scheduler.schedule });
    scheduler.runAll();
    expect(index.ready).toBe(true);

    const fresh = make();
    index.notify(source.put(1000, fresh));
    const oldFive = source.vectors.get(5)!;
    const newFive = make();
    index.notify(source.put(5, newFive));
    expect(index.pendingCount).toBe(2);

    const check = () => {
      expect(index.search(fresh, 1)).toEqual([{ label: 1000, distance: expect.closeTo(0, 5) }]);
      expect(labels(index.search(newFive, 1))).toEqual([5]);
      // hnswlib still holds label 5's old vector until the batch runs; that stale copy must not answer.
      const nearOld = index.search(oldFive, 300)!.find((hit) => hit.label === 5)!;
      expect(nearOld.distance).toBeCloseTo(cosineDistance(oldFive, newFive), 5);
      expect(index.search(fresh, 1000)).toHaveLength(301);
    };
    check();
    scheduler.runAll();
    expect(index.pendingCount).toBe(0);
    check();
    index.close();
  });

  test("removals are honoured before and after indexing", () => {
    const { source, make } = seeded(32, 400, 4);
    const scheduler = manualScheduler();
    const index = VectorIndex.open({ source, schedule: scheduler.schedule });
    scheduler.runAll();

    // Added then removed before any batch ran: never visible.
    const ghost = make();
    index.notify(source.put(2000, ghost));
    index.notify(source.del(2000));
    // Indexed, then removed through the log, and through remove().
    const seven = source.vectors.get(7)!;
    index.notify(source.del(7));
    const eight = source.vectors.get(8)!;
    source.del(8);
    index.remove(8);

    const visible = (query: Float32Array) => labels(index.search(query, 1000));
    for (const round of ["pending", "indexed"]) {
      expect(visible(ghost), round).not.toContain(2000);
      expect(visible(seven), round).not.toContain(7);
      expect(visible(eight), round).not.toContain(8);
      expect(visible(ghost), round).toHaveLength(source.count());
      scheduler.runAll();
    }
    expect(index.pendingCount).toBe(0);

    // A removed label comes back with its new vector.
    const back = make();
    index.notify(source.put(7, back));
    expect(labels(index.search(back, 1))).toEqual([7]);
    scheduler.runAll();
    expect(labels(index.search(back, 1))).toEqual([7]);
    expect(index.search(back, 1000)).toHaveLength(source.count());
    index.close();
  });

  test("save and reopen replays only the changes after the saved seq", async () => {
    const file = tempPath();
    const { source, make } = seeded(32, 1000, 5);
    const first = VectorIndex.open({ source, path: file });
    await first.flush(); // a finished rebuild saves on its own
    const saved = JSON.parse(fs.readFileSync(`${file}.json`, "utf8")) as { lastSeq: number; count: number };
    expect(saved).toMatchObject({ version: 3, dim: 32, space: "cosine", lastSeq: source.lastSeq(), count: 1000 });
    first.close();

    const added = Array.from({ length: 30 }, (_, i) => ({ label: 5000 + i, vector: make() }));
    for (const { label, vector } of added) source.put(label, vector);
    for (let label = 1; label <= 10; label++) source.del(label);
    const updated = make();
    source.put(500, updated);
    source.resetCalls();

    const second = VectorIndex.open({ source, path: file });
    expect(source.calls.all).toBe(0);
    expect(source.calls.changesSince[0]).toBe(saved.lastSeq);
    expect(second.ready).toBe(true); // the 41 newer changes fit in one batch: searched exactly meanwhile
    expect(second.pendingCount).toBe(41);

    const check = () => {
      for (const { label, vector } of added) expect(labels(second.search(vector, 1))).toEqual([label]);
      expect(labels(second.search(updated, 1))).toEqual([500]);
      const everything = labels(second.search(updated, 5000));
      expect(everything).toHaveLength(source.count());
      for (let label = 1; label <= 10; label++) expect(everything).not.toContain(label);
    };
    check();
    await second.flush();
    check();
    second.close();
    expect(JSON.parse(fs.readFileSync(`${file}.json`, "utf8"))).toMatchObject({ lastSeq: source.lastSeq(), count: 1020 });
    expect(source.calls.all).toBe(0);
  });

  test("a backlog longer than one batch catches up in the background, without a rebuild", async () => {
    const file = tempPath();
    const { source, make } = seeded(16, 200, 6);
    const first = VectorIndex.open({ source, path: file });
    await first.flush();
    first.close();
    const savedSeq = source.lastSeq();
    for (let label = 300; label < 400; label++) source.put(label, make());
    source.resetCalls();

    const scheduler = manualScheduler();
    const second = VectorIndex.open({ source, path: file, batchSize: 16, schedule: scheduler.schedule });
    expect(second.ready).toBe(false);
    expect(second.search(make(), 5)).toBeNull();
    scheduler.runAll();
    expect(second.ready).toBe(true);
    expect(source.calls.all).toBe(0);
    expect(source.calls.changesSince[0]).toBe(savedSeq);
    const query = make();
    expect(labels(second.search(query, 300))).toHaveLength(300);
    second.close();
  });

  test.each([
    ["missing", (_file: string) => {}],
    ["unparseable", (file: string) => fs.writeFileSync(`${file}.json`, "{ not json")],
    [
      "of another dimension",
      (file: string) => {
        const other = AnnIndex.create({ dim: 24 });
        const make = vectorMaker(24, 9);
        for (let i = 0; i < 50; i++) other.add(i, make());
        other.save(file, { lastSeq: 1 });
      },
    ],
    [
      "lying about its dimension",
      (file: string) => {
        const other = AnnIndex.create({ dim: 24 });
        other.add(1, vectorMaker(24, 9)());
        other.save(file, { lastSeq: 1 });
        const meta = JSON.parse(fs.readFileSync(`${file}.json`, "utf8")) as Record<string, unknown>;
        fs.writeFileSync(`${file}.json`, JSON.stringify({ ...meta, dim: 48 }));
      },
    ],
  ])("a sidecar that is %s leads to a background rebuild", async (_name, prepare) => {
    const file = tempPath();
    prepare(file);
    const { source, make } = seeded(48, 500, 7);
    const index = VectorIndex.open({ source, path: file, batchSize: 64 });
    expect(index.ready).toBe(false);
    expect(index.search(make(), 10)).toBeNull();
    const late = make();
    index.notify(source.put(9999, late)); // arrives during the rebuild: kept, applied after it
    await index.flush();
    expect(index.ready).toBe(true);
    expect(source.calls.all).toBe(1);
    expect(labels(index.search(late, 1))).toEqual([9999]);
    const query = make();
    expect(labels(index.search(query, 5))).toEqual(exactTop(source, query, 5));
    index.close();
    expect(AnnIndex.load(file, { dim: 48 })?.index.size).toBe(501);
  });

  test("changes notified during a rebuild are not lost", () => {
    const { source, make } = seeded(16, 600, 8);
    const scheduler = manualScheduler();
    const index = VectorIndex.open({ source, batchSize: 32, schedule: scheduler.schedule });
    scheduler.runOne();
    scheduler.runOne();
    expect(index.ready).toBe(false);
    index.notify(source.del(1)); // already indexed by the rebuild
    index.notify(source.del(599)); // not yet reached by it
    index.notify(source.put(2, make()));
    const fresh = make();
    index.notify(source.put(700, fresh));
    scheduler.runAll();
    expect(index.ready).toBe(true);
    expect(index.pendingCount).toBe(0);
    const all = labels(index.search(fresh, 1000)).sort((a, b) => a - b);
    expect(all).toEqual([...source.vectors.keys()].sort((a, b) => a - b));
    expect(labels(index.search(source.vectors.get(2)!, 1))).toEqual([2]);
    index.close();
  });

  test("filter restricts both hnswlib and pending candidates", () => {
    const { source, make } = seeded(32, 2000, 10);
    const scheduler = manualScheduler();
    const index = VectorIndex.open({ source, schedule: scheduler.schedule });
    scheduler.runAll();
    const even = (label: number) => label % 2 === 0;
    const pendingEven = make();
    index.notify(source.put(3000, pendingEven));
    index.notify(source.put(3001, pendingEven.map((x) => x * 2)));

    const hits = labels(index.search(pendingEven, 10, even));
    expect(hits[0]).toBe(3000);
    expect(hits.every(even)).toBe(true);
    const query = make();
    const truth = new Set(exactTop(source, query, 10, even));
    const found = labels(index.search(query, 10, even)).filter((label) => truth.has(label)).length;
    expect(found).toBeGreaterThanOrEqual(9);
    expect(labels(index.search(pendingEven, 10, (label) => label === 3001))).toEqual([3001]);
    index.close();
  });

  test("a sidecar that disagrees with the database, or is ahead of its log, is rebuilt", async () => {
    const file = tempPath();
    const { source, make } = seeded(16, 100, 11);
    const first = VectorIndex.open({ source, path: file });
    await first.flush();
    first.close();

    source.vectors.delete(3); // a change the log does not show (e.g. a pruned log)
    source.resetCalls();
    const { warnings, logger } = recordingLogger();
    const second = VectorIndex.open({ source, path: file, logger });
    expect(warnings).toContain("vector index: sidecar disagrees with the database, rebuilding");
    await second.flush();
    expect(source.calls.all).toBe(1);
    expect(labels(second.search(make(), 200))).toHaveLength(99);
    second.close();

    const behind = new FakeSource(16);
    for (const [label, vector] of [...source.vectors].slice(0, 10)) behind.put(label, vector);
    const third = VectorIndex.open({ source: behind, path: file, logger });
    expect(warnings).toContain("vector index: sidecar is ahead of the change log, rebuilding");
    await third.flush();
    expect(labels(third.search(make(), 200))).toHaveLength(10);
    third.close();
  });

  test("random interleavings of writes, batches, saves and reopens agree with the source", () => {
    const make = vectorMaker(8, 15);
    const source = new FakeSource(8);
    const { index, checks } = randomInterleaving(mulberry32(14), source, 150, () => make(), (index) => {
      const all = labels(index.search(make(), 1000)).sort((a, b) => a - b);
      expect(all).toEqual([...source.vectors.keys()].sort((a, b) => a - b));
    });
    expect(checks).toBeGreaterThan(500);
    for (const [label, vector] of source.vectors) expect(labels(index.search(vector, 1))).toEqual([label]);
    expect(source.calls.all).toBeLessThan(5); // reopens replay the log; rebuilds are rare
    index.close();
  });

  test("validates its input and refuses calls after close", async () => {
    const { source } = seeded(8, 10, 12);
    const index = VectorIndex.open({ source });
    await index.flush();
    expect(() => index.search(new Float32Array(7), 3)).toThrow(SpectronValidationError);
    expect(() => index.notify({ seq: 1e6, label: 2 ** 32, op: "remove" })).toThrow(SpectronValidationError);
    expect(() => index.notify({ seq: 1e6, label: 1, op: "add" })).toThrow(SpectronValidationError);
    expect(index.search(new Float32Array(8).fill(1), 0)).toEqual([]);
    index.close();
    expect(() => index.search(new Float32Array(8), 3)).toThrow(ClosedError);
    await expect(index.flush()).rejects.toBeInstanceOf(ClosedError);
  });
});

describe("VectorIndex with duplicate vectors", () => {
  test("recall@10 stays high when 10,000 vectors share 300 distinct values", async () => {
    const { source } = duplicated(64, 10_000, 300, 20);
    const index = VectorIndex.open({ source });
    await index.flush();
    const queries = vectorMaker(64, 21);
    let recall = 0;
    let zero = 0;
    for (let q = 0; q < 100; q++) {
      const query = queries();
      const hits = index.search(query, 10)!;
      expect(hits).toHaveLength(10);
      expect(new Set(labels(hits)).size).toBe(10);
      const r = tieAwareRecall(source, query, hits, 10);
      recall += r / 100;
      if (r === 0) zero++;
    }
    // With one hnswlib point per label (before deduplication) this was 0.78, with 22 of 100 queries at zero.
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(zero).toBe(0);
    index.close();
  });

  test("removing members of a group, its representative's label included, keeps the others findable", () => {
    const { source, make } = seeded(32, 1000, 22);
    const shared = make();
    for (const label of [1010, 1020, 1030, 1040]) source.put(label, new Float32Array(shared));
    const scheduler = manualScheduler();
    const index = VectorIndex.open({ source, schedule: scheduler.schedule });
    scheduler.runAll();
    // A pending copy's distance is computed here in double, an indexed one's by hnswlib in float, so at distance
    // ~0 they may come in either order: the order within the group is checked once everything is indexed.
    let indexed = true;
    const group = (k = 4) => (indexed ? labels(index.search(shared, k)) : ascending(labels(index.search(shared, k))));
    const everything = () => ascending(labels(index.search(make(), 5000)));
    // Both while the change is pending and once hnswlib has it.
    const expectBoth = (check: () => void) => {
      indexed = false;
      check();
      scheduler.runAll();
      expect(index.pendingCount).toBe(0);
      indexed = true;
      check();
    };
    expectBoth(() => expect(group()).toEqual([1010, 1020, 1030, 1040]));

    index.notify(source.del(1020));
    expectBoth(() => expect(group(3)).toEqual([1010, 1030, 1040]));
    // 1010 labels the group's hnswlib point; the point stays for 1030 and 1040.
    index.notify(source.del(1010));
    expectBoth(() => {
      expect(group(2)).toEqual([1030, 1040]);
      expect(index.search(shared, 2)!.map((hit) => hit.distance)).toEqual([expect.closeTo(0, 5), expect.closeTo(0, 5)]);
      expect(everything()).toEqual([...source.vectors.keys()].sort((a, b) => a - b));
    });
    // 1010 comes back with another vector while the old group still holds hnswlib label 1010.
    const other = make();
    index.notify(source.put(1010, other));
    expectBoth(() => {
      expect(labels(index.search(other, 1))).toEqual([1010]);
      expect(group(2)).toEqual([1030, 1040]);
      expect(everything()).toEqual([...source.vectors.keys()].sort((a, b) => a - b));
    });
    // Joining the group again, then emptying it.
    index.notify(source.put(1020, new Float32Array(shared)));
    expectBoth(() => expect(group(3)).toEqual([1020, 1030, 1040]));
    for (const label of [1020, 1030, 1040]) index.notify(source.del(label));
    expectBoth(() => {
      const all = everything();
      for (const label of [1020, 1030, 1040]) expect(all).not.toContain(label);
      expect(all).toEqual([...source.vectors.keys()].sort((a, b) => a - b));
      expect(index.search(shared, 1)![0]!.distance).toBeGreaterThan(0.01);
    });
    index.close();
  });

  test("a filter that accepts some members of a group returns exactly those", () => {
    const { source, make } = seeded(32, 2000, 23);
    const shared = make();
    const members = [3001, 3002, 3003, 3004, 3005, 3006];
    for (const label of members.slice(0, 4)) source.put(label, new Float32Array(shared));
    const scheduler = manualScheduler();
    const index = VectorIndex.open({ source, schedule: scheduler.schedule });
    scheduler.runAll();
    // Two more members arrive pending: they meet the indexed ones in the merge.
    for (const label of members.slice(4)) index.notify(source.put(label, new Float32Array(shared)));
    const some = new Set([3002, 3004, 3005]);
    const odd = (label: number) => label % 2 === 1;
    // While 3005 and 3006 are pending, their order among the indexed members is not fixed (see above).
    for (const round of ["pending", "indexed"]) {
      expect(ascending(labels(index.search(shared, 10, (label) => some.has(label)))), round).toEqual([3002, 3004, 3005]);
      // A filter that also accepts other labels: the group's accepted members first, then the nearest others.
      const hits = labels(index.search(shared, 10, odd));
      expect(ascending(hits.slice(0, 3)), round).toEqual([3001, 3003, 3005]);
      expect(hits.slice(3), round).toEqual(exactTop(source, shared, 10, (label) => odd(label) && label < 3000).slice(0, 7));
      expect(labels(index.search(shared, 10, (label) => label === 3003)), round).toEqual([3003]);
      scheduler.runAll();
    }
    expect(index.pendingCount).toBe(0);
    expect(labels(index.search(shared, 10, (label) => some.has(label)))).toEqual([3002, 3004, 3005]);
    expect(labels(index.search(shared, 2, (label) => some.has(label)))).toEqual([3002, 3004]);
    expect(labels(index.search(shared, 2, odd))).toEqual([3001, 3003]);
    index.close();
  });

  test("save and open round-trip the groups, and replay after the save applies to them", async () => {
    const file = tempPath();
    const { source, pool, make } = duplicated(32, 2000, 100, 24);
    const membersOf = (vector: Float32Array) => ascending([...source.vectors].filter(([, v]) => cosineDistance(v, vector) < 1e-6).map(([label]) => label));
    // While changes are pending, members come in no fixed order (see above); once indexed, ascending.
    const expectGroups = (index: VectorIndex) => {
      for (const vector of pool.slice(0, 20)) {
        const members = membersOf(vector);
        const found = labels(index.search(vector, members.length));
        expect(index.pendingCount === 0 ? found : ascending(found)).toEqual(members);
      }
      expect(ascending(labels(index.search(make(), 5000)))).toEqual(ascending(source.vectors.keys()));
    };
    const first = VectorIndex.open({ source, path: file });
    await first.flush();
    first.close();
    // The file holds one point per distinct vector; `count` in the sidecar counts points.
    expect(JSON.parse(fs.readFileSync(`${file}.json`, "utf8"))).toMatchObject({ version: 3, count: 100 });

    source.resetCalls();
    const second = VectorIndex.open({ source, path: file });
    expect(source.calls.all).toBe(0);
    expect(second.ready).toBe(true);
    expect(second.pendingCount).toBe(0);
    expectGroups(second);
    second.close();

    // Changes after the save: members leave (the one labelling its group's point among them), join, move.
    const [a, b] = [pool[0]!, pool[1]!];
    const inA = membersOf(a);
    source.del(inA[0]!); // the group's point is labelled with its first member
    source.del(inA[1]!);
    source.put(4000, new Float32Array(a));
    source.put(inA[2]!, new Float32Array(b));
    for (const label of membersOf(pool[2]!)) source.del(label); // a group emptied
    const fresh = make();
    source.put(inA[0]!, fresh); // back, while its old label may still name group a's point
    source.resetCalls();
    const third = VectorIndex.open({ source, path: file });
    expect(source.calls.all).toBe(0);
    expect(third.pendingCount).toBeGreaterThan(0);
    expectGroups(third);
    await third.flush();
    expectGroups(third);
    expect(labels(third.search(fresh, 1))).toEqual([inA[0]]);
    third.close();

    const fourth = VectorIndex.open({ source, path: file });
    expect(source.calls.all).toBe(0);
    expect(fourth.pendingCount).toBe(0);
    expectGroups(fourth);
    expect(labels(fourth.search(fresh, 1))).toEqual([inA[0]]);
    fourth.close();
  });

  test("a sidecar of the previous version, without groups, leads to a rebuild", async () => {
    const file = tempPath();
    const { source, pool } = duplicated(16, 500, 20, 25);
    const first = VectorIndex.open({ source, path: file });
    await first.flush();
    first.close();
    const meta = JSON.parse(fs.readFileSync(`${file}.json`, "utf8")) as Record<string, unknown>;

    const reopen = async () => {
      const reasons: unknown[] = [];
      const logger = { debug() {}, warn: (msg: string, data?: object) => void reasons.push({ msg, ...data }) };
      source.resetCalls();
      const index = VectorIndex.open({ source, path: file, logger });
      expect(index.ready).toBe(false);
      await index.flush();
      expect(source.calls.all).toBe(1);
      const members = [...source.vectors].filter(([, v]) => v.every((x, i) => x === pool[0]![i])).map(([label]) => label);
      expect(labels(index.search(pool[0]!, members.length))).toEqual(members.sort((x, y) => x - y));
      index.close();
      return reasons;
    };
    const { groups: _groups, ...withoutGroups } = meta;
    fs.writeFileSync(`${file}.json`, JSON.stringify({ ...withoutGroups, version: 1 }));
    expect(await reopen()).toEqual([expect.objectContaining({ reason: "sidecar is not a version 3 ANN sidecar" })]);
    // The index was saved again as version 3; one that lost its groups is refused too.
    fs.writeFileSync(`${file}.json`, JSON.stringify(withoutGroups));
    expect(await reopen()).toEqual([expect.objectContaining({ reason: "sidecar has no groups" })]);
  });

  test("random interleavings over a few distinct vectors agree with the source", () => {
    const random = mulberry32(26);
    const pool = Array.from({ length: 6 }, vectorMaker(8, 27));
    const source = new FakeSource(8);
    const holders = (vector: Float32Array) => ascending([...source.vectors].filter(([, v]) => v.every((x, i) => x === vector[i])).map(([l]) => l));
    const draw = () => pool[Math.floor(random() * pool.length)]!;
    const { index, checks } = randomInterleaving(random, source, 60, () => new Float32Array(draw()), (index) => {
      const vector = draw();
      const members = holders(vector);
      const hits = index.search(vector, 1000)!;
      expect(ascending(labels(hits))).toEqual(ascending(source.vectors.keys()));
      const group = labels(hits.slice(0, members.length));
      expect(index.pendingCount === 0 ? group : ascending(group)).toEqual(members);
    });
    expect(checks).toBeGreaterThan(500);
    for (const vector of pool) {
      const members = holders(vector);
      expect(labels(index.search(vector, members.length))).toEqual(members);
    }
    expect(source.calls.all).toBeLessThan(5);
    index.close();
  });
});

describe("AnnIndex", () => {
  test("grows past its initial capacity and reuses the slots of removed labels", () => {
    const make = vectorMaker(16, 13);
    const ann = AnnIndex.create({ dim: 16, capacity: 8 });
    const vectors = new Map<number, Float32Array>();
    for (let label = 0; label < 100; label++) {
      vectors.set(label, make());
      ann.add(label, vectors.get(label)!);
    }
    expect(ann.size).toBe(100);
    expect(ann.capacity).toBeGreaterThanOrEqual(100);
    for (const [label, vector] of vectors) expect(ann.search(vector, 1)[0]!.label).toBe(label);

    const capacity = ann.capacity;
    for (let label = 0; label < 40; label++) ann.remove(label);
    ann.remove(0); // absent: no-op
    for (let label = 100; label < 140; label++) ann.add(label, make());
    expect(ann.size).toBe(100);
    expect(ann.capacity).toBe(capacity);
    expect(ann.has(5)).toBe(false);
    const five = make();
    ann.add(5, five);
    expect(ann.has(5)).toBe(true);
    expect(ann.search(five, 1)[0]).toEqual({ label: 5, distance: expect.closeTo(0, 5) });
    expect(ann.search(five, 1000)).toHaveLength(101);

    const file = tempPath();
    ann.save(file, { lastSeq: 42, model: "local:hash-16" });
    const loaded = AnnIndex.load(file, { dim: 16 })!;
    expect(loaded.meta).toMatchObject({ lastSeq: 42, model: "local:hash-16", count: 101 });
    expect(loaded.index.size).toBe(101);
    expect(loaded.index.has(6)).toBe(false);
    expect(loaded.index.search(five, 1000)).toHaveLength(101);
    loaded.index.add(6, make());
    expect(loaded.index.size).toBe(102);
  });

  test("load returns null, never throws, for missing, unreadable or mismatched files", () => {
    const file = tempPath();
    const reasons: string[] = [];
    expect(AnnIndex.load(file, { dim: 4 }, (r) => reasons.push(r))).toBeNull();
    const ann = AnnIndex.create({ dim: 4 });
    ann.add(1, new Float32Array([1, 0, 0, 0]));
    ann.save(file, { lastSeq: 1 });
    expect(AnnIndex.load(file, { dim: 5 }, (r) => reasons.push(r))).toBeNull();
    fs.truncateSync(file, 100);
    expect(AnnIndex.load(file, { dim: 4 }, (r) => reasons.push(r))).toBeNull();
    expect(reasons).toHaveLength(3);
    expect(fs.readdirSync(path.dirname(file)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("an index file of the same size from another save is refused by its checksum", () => {
    // Two processes saving at once can leave one's sidecar beside the other's index file.
    const file = tempPath();
    const other = tempPath();
    const make = vectorMaker(4, 9);
    const [x, y] = [AnnIndex.create({ dim: 4 }), AnnIndex.create({ dim: 4 })];
    for (let label = 1; label <= 20; label++) {
      x.add(label, make());
      y.add(label, make());
    }
    x.save(file, { lastSeq: 1 });
    y.save(other, { lastSeq: 1 });
    expect(fs.statSync(other).size).toBe(fs.statSync(file).size);
    fs.copyFileSync(other, file);
    const reasons: string[] = [];
    expect(AnnIndex.load(file, { dim: 4 }, (r) => reasons.push(r))).toBeNull();
    expect(reasons).toEqual(["index file checksum disagrees with sidecar"]);
    expect(AnnIndex.load(other, { dim: 4 })).not.toBeNull();
  });

  test("temporary files of saves by processes that no longer run are removed, others' are kept", () => {
    const file = tempPath();
    const dead = 2 ** 22 + 7; // above Linux's pid_max default: no such process
    const stale = [`${file}.${dead}.0123456789ab.tmp`, `${file}.json.${dead}.0123456789ab.tmp`];
    const live = [`${file}.${process.pid}.0123456789ab.tmp`, `${file}.other.${dead}.0123456789ab.tmp`];
    for (const f of [...stale, ...live]) fs.writeFileSync(f, "x");
    removeStaleTemporaries(file);
    expect([...stale, ...live].filter((f) => fs.existsSync(f))).toEqual(live);
  });

  test("DedupAnnIndex finds a point many labels share even where its graph search does not reach", () => {
    // Sparse vectors like the hash embedder's: 8 signed features of 384, so unrelated vectors are orthogonal
    // and the graph has no gradient to follow. 40 facts are stated by 25 users each (heavy points).
    const random = mulberry32(31);
    const sparse = (features: number[]) => {
      const v = new Float32Array(384);
      for (const f of features) v[f] = random() < 0.5 ? -1 : 1;
      return v;
    };
    const features = () => Array.from({ length: 8 }, () => Math.floor(random() * 384));
    const index = DedupAnnIndex.create({ dim: 384, efSearch: 10 });
    let label = 1;
    for (let i = 0; i < 4000; i++) index.add(label++, sparse(features()));
    const heavy: { vector: Float32Array; labels: number[] }[] = [];
    for (let h = 0; h < 40; h++) {
      const vector = sparse(features());
      const labels = Array.from({ length: 25 }, () => label++);
      for (const l of labels) index.add(l, new Float32Array(vector));
      heavy.push({ vector, labels });
    }
    // A query with half of the point's features: the point is its nearest by far.
    const half = (vector: Float32Array) => {
      let kept = 0;
      return vector.map((x) => (x !== 0 && kept++ < 4 ? x : 0));
    };
    for (const { vector, labels: members } of heavy) {
      expect(ascending(index.search(half(vector), 10).map((h) => h.label))).toEqual(members.slice(0, 10));
    }
    // The heavy set follows membership: a group whose members all left is never returned; a group that grew
    // heavy later is found once enough has changed for the set to be chosen again.
    for (const l of heavy[0]!.labels) index.remove(l);
    expect(index.search(half(heavy[0]!.vector), 10).some((h) => heavy[0]!.labels.includes(h.label))).toBe(false);
    const late = Array.from({ length: 40 }, () => ({ vector: sparse(features()), labels: Array.from({ length: 30 }, () => label++) }));
    for (const group of late) for (const l of group.labels) index.add(l, new Float32Array(group.vector));
    for (const { vector, labels: members } of late) {
      expect(ascending(index.search(half(vector), 10).map((h) => h.label))).toEqual(members.slice(0, 10));
    }
  });

  test("DedupAnnIndex.vectorOf gives each label's current unit vector, also when read again after a change", () => {
    const make = vectorMaker(16, 29);
    const index = DedupAnnIndex.create({ dim: 16 });
    const unit = (v: Float32Array) => {
      const norm = Math.hypot(...v);
      return Array.from(v, (x) => x / norm);
    };
    const [a, b] = [make(), make()];
    index.add(1, a);
    index.add(2, new Float32Array(a));
    for (let read = 0; read < 2; read++) {
      for (const label of [1, 2]) Array.from(index.vectorOf(label)!).forEach((x, i) => expect(x).toBeCloseTo(unit(a)[i]!, 6));
    }
    index.add(1, b); // label 1 moves to another point; label 2 keeps the first
    Array.from(index.vectorOf(1)!).forEach((x, i) => expect(x).toBeCloseTo(unit(b)[i]!, 6));
    Array.from(index.vectorOf(2)!).forEach((x, i) => expect(x).toBeCloseTo(unit(a)[i]!, 6));
    index.remove(2);
    expect(index.vectorOf(2)).toBeUndefined();
  });

  test("DedupAnnIndex holds one point per distinct vector and keeps labels apart from points", () => {
    const make = vectorMaker(16, 28);
    const index = DedupAnnIndex.create({ dim: 16 });
    const v = make();
    const w = make();
    for (const label of [5, 3, 9]) index.add(label, new Float32Array(v));
    index.add(4, w);
    // Same direction, other bytes: a vector of its own (the key is over bytes; distances would tie anyway).
    index.add(7, v.map((x) => x * 2));
    expect([index.size, index.points]).toEqual([5, 3]);
    // 7's point equals the group's after normalisation, so the two points may come in either order.
    const nearest = index.search(v, 10).slice(0, 4).map((hit) => hit.label);
    expect(nearest.filter((label) => label !== 7)).toEqual([3, 5, 9]);
    expect(nearest).toContain(7);
    index.add(5, new Float32Array(v)); // unchanged: nothing to do
    expect([index.size, index.points]).toEqual([5, 3]);

    index.remove(5); // labels the point of group {3, 5, 9}, which stays
    index.add(5, w); // moves to w's group
    index.add(9, make()); // needs a point of its own
    index.remove(3);
    expect([index.size, index.points]).toEqual([4, 3]);
    expect(index.has(3)).toBe(false);
    expect(index.search(w, 2).map((hit) => hit.label)).toEqual([4, 5]);
    index.remove(7);
    index.add(5, new Float32Array(v)); // a new group while label 5 still names w's point
    expect([index.size, index.points]).toEqual([3, 3]);
    expect(index.search(v, 1)).toEqual([{ label: 5, distance: expect.closeTo(0, 5) }]);
    expect(index.search(w, 1)).toEqual([{ label: 4, distance: expect.closeTo(0, 5) }]);
    expect(index.search(w, 3, (label) => label !== 4).map((hit) => hit.label)).not.toContain(4);

    const file = tempPath();
    index.save(file, { lastSeq: 7 });
    const loaded = DedupAnnIndex.load(file, { dim: 16 })!;
    expect([loaded.index.size, loaded.index.points]).toEqual([3, 3]);
    for (const vector of [v, w]) expect(loaded.index.search(vector, 3)).toEqual(index.search(vector, 3));
    loaded.index.add(6, new Float32Array(w));
    expect([loaded.index.size, loaded.index.points]).toEqual([4, 3]);
    // A plain AnnIndex file has no groups.
    index.remove(9);
    AnnIndex.load(file, { dim: 16 })!.index.save(file, { lastSeq: 7 });
    const reasons: string[] = [];
    expect(DedupAnnIndex.load(file, { dim: 16 }, (reason) => reasons.push(reason))).toBeNull();
    expect(reasons).toEqual(["sidecar has no groups"]);
  });

  test("search clamps k, and an empty index answers []", () => {
    const ann = AnnIndex.create({ dim: 3, capacity: 2 });
    expect(ann.search(new Float32Array([1, 0, 0]), 10)).toEqual([]);
    ann.add(1, new Float32Array([1, 0, 0]));
    ann.add(2, new Float32Array([0, 1, 0]));
    ann.add(3, new Float32Array([-1, 0, 0]));
    const hits = ann.search(new Float32Array([1, 0, 0]), 50);
    expect(hits.map((h) => h.label)).toEqual([1, 2, 3]);
    expect(hits.map((h) => h.distance)).toEqual([expect.closeTo(0, 5), expect.closeTo(1, 5), expect.closeTo(2, 5)]);
    expect(ann.search(new Float32Array([1, 0, 0]), 5, (label) => label !== 1).map((h) => h.label)).toEqual([2, 3]);
  });
});
