import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SNAPSHOT_MIN_VECTORS } from "../../src/store/postgres/ann-snapshot.js";
import { appendChanges } from "../../src/store/postgres/change-feed.js";
import { FollowedIndex } from "../../src/store/postgres/followed-index.js";
import { migrate } from "../../src/store/postgres/migrations.js";
import { ensureVectorSet, type VectorSet } from "../../src/store/postgres/vector-sets.js";
import { mulberry32 } from "../helpers.js";
import { announceSkips, ENGINE_START_TIMEOUT, ENGINES, type PgTestDatabase } from "./engines.js";

// The in-process index of a database without pgvector is saved to the database, so that a new process loads the
// graph and replays the change log since instead of inserting every vector again (store/postgres/ann-snapshot.ts).

announceSkips();

const T0 = Date.parse("2026-06-01T00:00:00Z");
const CONTEXT = "snap";
const DIM = 8;
const COUNT = SNAPSHOT_MIN_VECTORS + 100;

function vectors(seed: number, n: number): Float32Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: DIM }, () => rand() * 2 - 1));
}

const column = (v: Float32Array) => `{${[...v].join(",")}}`;

for (const engine of ENGINES) {
  describe.skipIf(engine.skip)(`ANN snapshots on ${engine.name}`, () => {
    let database: PgTestDatabase;
    let pool: pg.Pool;
    let set: VectorSet;
    const errors: unknown[] = [];
    const followed = () => new FollowedIndex(pool, CONTEXT, set, () => T0, (e) => errors.push(e));

    beforeAll(async () => {
      database = await engine.open();
      pool = new pg.Pool({ connectionString: database.url, max: 2 });
      await migrate(pool, T0);
      // Array storage (`pgvector: false`) whatever the engine: the in-process index is what is saved.
      set = await ensureVectorSet(pool, "records", "test:snapshot-8", DIM, false);
      const all = vectors(1, COUNT);
      await pool.query(`INSERT INTO ${set.table} (label, context, embedding) SELECT l, $1, e::real[] FROM unnest($2::bigint[], $3::text[]) AS t(l, e)`, [
        CONTEXT,
        all.map((_, i) => i + 1),
        all.map(column),
      ]);
    }, ENGINE_START_TIMEOUT);
    afterAll(async () => {
      await pool?.end();
      await database?.close();
    });

    test("a build from the table saves a snapshot; the next process loads it and replays what changed since", async () => {
      const first = followed();
      const built = await first.index();
      expect(first.builtFrom).toBe("table");
      expect(built.size).toBe(COUNT);
      await first.close();
      const saved = await pool.query("SELECT seq::int AS seq, octet_length(data) AS bytes FROM ann_snapshots WHERE context = $1", [CONTEXT]);
      expect(saved.rows).toHaveLength(1);
      expect(saved.rows[0].bytes).toBeGreaterThan(COUNT * DIM * 4);

      // After the snapshot: label 5 gets a new vector, label 7 goes, label 90001 comes; all three logged.
      const [moved, added] = vectors(2, 2) as [Float32Array, Float32Array];
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query(`UPDATE ${set.table} SET embedding = $1::real[] WHERE label = 5`, [column(moved)]);
        await client.query(`DELETE FROM ${set.table} WHERE label = 7`);
        await client.query(`INSERT INTO ${set.table} (label, context, embedding) VALUES (90001, $1, $2::real[])`, [CONTEXT, column(added)]);
        const change = (label: number, op: "add" | "remove") => ({ kind: "vectors" as const, space: "records" as const, model: set.model, label, op });
        await appendChanges(client, CONTEXT, "test", [change(5, "add"), change(7, "remove"), change(90001, "add")], T0 + 1);
        await client.query("COMMIT");
      } finally {
        client.release();
      }

      const second = followed();
      const loaded = await second.index();
      expect(second.builtFrom).toBe("snapshot");
      expect(loaded.size).toBe(COUNT);
      expect(loaded.has(7)).toBe(false);
      expect(loaded.search(moved, 1)?.[0]?.label).toBe(5);
      expect(loaded.search(added, 1)?.[0]?.label).toBe(90001);
      // The same neighbours as a build from the table would give, for a vector that did not move.
      const probe = vectors(1, 10)[9]!;
      expect(loaded.search(probe, 1)?.[0]?.label).toBe(10);
      await second.close();
      expect(errors).toEqual([]);
    });

    test("a snapshot that does not load (damaged bytes) is passed over: the index is built from the table", async () => {
      await pool.query("UPDATE ann_snapshots SET data = $1 WHERE context = $2", [Buffer.from("not an index"), CONTEXT]);
      const index = followed();
      const built = await index.index();
      expect(index.builtFrom).toBe("table");
      expect(built.size).toBe(COUNT);
      expect(built.has(90001)).toBe(true);
      // …and saves a good one again.
      await index.close();
      const again = followed();
      await again.index();
      expect(again.builtFrom).toBe("snapshot");
      await again.close();
      expect(errors).toEqual([]);
    });
  });
}
