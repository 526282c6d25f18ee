import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { announceSkips, ENGINE_START_TIMEOUT, ENGINES, type PgTestDatabase } from "./engines.js";

announceSkips();

for (const engine of ENGINES) {
  describe.skipIf(engine.skip)(`test engine ${engine.name}`, () => {
    let database: PgTestDatabase;
    let client: pg.Client;
    beforeAll(async () => {
      database = await engine.open();
      client = new pg.Client({ connectionString: database.url });
      await client.connect();
    }, ENGINE_START_TIMEOUT);
    afterAll(async () => {
      await client?.end();
      await database?.close();
    });

    // PGlite is a new instance per open(), trivially empty; a shared server is where isolation needs showing.
    test("gives the file an empty database of its own", async () => {
      const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
      expect(rows[0].n).toBe(0);
      await client.query("CREATE TABLE probe (id int)");
      if (engine.name !== "postgres") return;
      const other = await engine.open();
      try {
        const second = new pg.Client({ connectionString: other.url });
        await second.connect();
        const seen = await second.query("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'probe'");
        await second.end();
        expect(seen.rows[0].n).toBe(0);
      } finally {
        await other.close();
      }
    }, ENGINE_START_TIMEOUT);

    test(`pgvector ${engine.pgvector ? "answers an HNSW cosine query" : "is absent"}`, async () => {
      const created = await client.query("CREATE EXTENSION IF NOT EXISTS vector").then(() => true, () => false);
      expect(created).toBe(engine.pgvector);
      if (!engine.pgvector) return;
      await client.query("CREATE TABLE v (id int PRIMARY KEY, e vector(3))");
      await client.query("CREATE INDEX ON v USING hnsw (e vector_cosine_ops)");
      await client.query("INSERT INTO v VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.2,0]'), (4, '[-1,0,0]')");
      await client.query("BEGIN");
      await client.query("SET LOCAL enable_seqscan = off");
      const plan = await client.query("EXPLAIN SELECT id FROM v ORDER BY e <=> $1 LIMIT 2", ["[1,0,0]"]);
      const { rows } = await client.query("SELECT id FROM v ORDER BY e <=> $1 LIMIT 3", ["[1,0,0.1]"]);
      await client.query("COMMIT");
      expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(/Index Scan using v_e_idx/);
      expect(rows.map((r) => r.id)).toEqual([1, 3, 2]);
    });
  });
}
