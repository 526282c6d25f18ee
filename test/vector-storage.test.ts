import Database from "better-sqlite3";
import * as sqliteVec from "sqlite-vec";
import { afterEach, describe, expect, it } from "vitest";
import { Spectron } from "../src/index.js";
import { openDatabase } from "../src/store/database.js";
import { MIGRATIONS } from "../src/store/migrations.js";
import { exactSearch, getVector, knnSearch, putVector, vectorTableDimension } from "../src/store/vectors.js";
import { alice, mulberry32, T0, tempDir } from "./helpers.js";

// Vectors are stored one row per vector (store/vectors.ts); migration 8 moves the vectors of a file written
// before it out of sqlite-vec's vec0 tables.

const MODEL = "local:hash-384";
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function vectors(seed: number, n: number, dim: number): Float32Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => rand() * 2 - 1));
}

describe("vector storage", () => {
  it("migration 8 moves a version-7 file's vec0 vectors to one row each, and drops the vec0 tables", () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const old = new Database(t.path);
    old.pragma("journal_mode = WAL");
    old.pragma("foreign_keys = OFF"); // as `migrate` runs migration 3
    sqliteVec.load(old);
    old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    for (const m of MIGRATIONS.filter((m) => m.version <= 7)) {
      m.up(old);
      old.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(m.version, m.name, "2026-01-01T00:00:00Z");
    }
    // The vec0 tables as store/vectors.ts created them before migration 8.
    old.exec("CREATE VIRTUAL TABLE vec_records_local_hash_384 USING vec0 (context TEXT PARTITION KEY, embedding float[384] distance_metric=cosine)");
    old.exec("CREATE VIRTUAL TABLE vec_queries_local_hash_384 USING vec0 (context TEXT PARTITION KEY, embedding float[384] distance_metric=cosine)");
    const records = vectors(1, 40, 384);
    records.forEach((v, i) => old.prepare("INSERT INTO vec_records_local_hash_384 (rowid, context, embedding) VALUES (?, ?, ?)").run(BigInt(i + 1), i < 30 ? "a" : "b", v));
    const [queryVector] = vectors(2, 1, 384) as [Float32Array];
    old.prepare("INSERT INTO vec_queries_local_hash_384 (rowid, context, embedding) VALUES (?, ?, ?)").run(7n, "a", queryVector);
    old.close();

    const db = openDatabase(t.path);
    try {
      expect(db.prepare("SELECT name FROM sqlite_master WHERE sql LIKE '%USING vec0%'").all()).toEqual([]);
      expect(db.prepare("SELECT MAX(version) FROM schema_migrations").pluck().get()).toBe(8);
      expect(vectorTableDimension(db, "records", MODEL)).toBe(384);
      expect(vectorTableDimension(db, "queries", MODEL)).toBe(384);
      records.forEach((v, i) => expect(getVector(db, "records", MODEL, i + 1)).toEqual(v));
      expect(getVector(db, "queries", MODEL, 7)).toEqual(queryVector);
      // Partitions kept: the nearest in Context "a" to record 35's vector is not record 35 (Context "b").
      expect(knnSearch(db, "b", "records", MODEL, records[34]!, 1)[0]).toMatchObject({ label: 35, distance: expect.closeTo(0, 5) });
      expect(knnSearch(db, "a", "records", MODEL, records[34]!, 30).map((h) => h.label)).not.toContain(35);
      expect(knnSearch(db, "a", "records", MODEL, records[34]!, 100)).toHaveLength(30);
    } finally {
      db.close();
    }
  });

  it("exact search by point lookups and the scan of a Context agree on the nearest, with cosine distances", () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const db = openDatabase(t.path);
    try {
      const all = vectors(3, 300, 16);
      db.transaction(() => all.forEach((v, i) => putVector(db, "c", "records", "test:16", i + 1, v)))();
      const [q] = vectors(4, 1, 16) as [Float32Array];
      const cosine = (a: Float32Array, b: Float32Array) => {
        let dot = 0;
        let na = 0;
        let nb = 0;
        for (let i = 0; i < a.length; i++) (dot += a[i]! * b[i]!), (na += a[i]! ** 2), (nb += b[i]! ** 2);
        return 1 - dot / Math.sqrt(na * nb);
      };
      const truth = all.map((v, i) => ({ label: i + 1, distance: cosine(q, v) })).sort((a, b) => a.distance - b.distance);
      const ids = all.map((_, i) => i + 1);
      const byLookup = exactSearch(db, "c", "records", "test:16", q, 10, ids);
      const byScan = knnSearch(db, "c", "records", "test:16", q, 10);
      expect(byLookup.map((h) => h.label)).toEqual(truth.slice(0, 10).map((h) => h.label));
      expect(byScan.map((h) => h.label)).toEqual(truth.slice(0, 10).map((h) => h.label));
      byScan.forEach((h, i) => expect(h.distance).toBeCloseTo(truth[i]!.distance, 5));
      // Over 2,000 candidates the scan serves, filtered to them.
      const many = exactSearch(db, "c", "records", "test:16", q, 5, [...ids.filter((id) => id % 2 === 0), ...Array.from({ length: 2_000 }, (_, i) => 10_000 + i)]);
      expect(many.map((h) => h.label)).toEqual(truth.filter((h) => h.label % 2 === 0).slice(0, 5).map((h) => h.label));
      // A vector of another dimension is refused by the table.
      expect(() => putVector(db, "c", "records", "test:16", 999, new Float32Array(8))).toThrow(/CHECK/);
    } finally {
      db.close();
    }
  });

  it("an instance finds its records by vector after a reopen of the file (the ANN index rebuilt from the rows)", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const open = () => new Spectron({ context: "v", path: t.path, providers: {}, clock: () => T0, schedule: { decay: false, expire: false, retry: false } });
    const first = open();
    await first.ingest({ content: "My cat is called Luna.", scope: alice });
    await first.close();
    const second = open();
    const found = await second.query("what is my cat called?", { scope: alice });
    expect(found.map((r) => r.text).join(" ")).toContain("Luna");
    await second.close();
  });
});
