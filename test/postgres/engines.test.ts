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

    // PGlite serves every connection on one backend: a pool's concurrent extended-protocol queries must not share
    // its unnamed statement (with pglite-socket's server they did: wrong rows, "unnamed prepared statement does not
    // exist", then a connection that never got its reply; ./pglite-server.ts says why).
    test("serves a pool's concurrent queries and transactions, each its own statement and rows", async () => {
      await client.query("CREATE TABLE pooled (id serial PRIMARY KEY, v int NOT NULL)");
      const pool = new pg.Pool({ connectionString: database.url, max: 4 });
      const failures: string[] = [];
      let answered = 0;
      try {
        const writers = [0, 1].map(async (w) => {
          for (let i = 0; i < 40; i++) {
            const c = await pool.connect();
            try {
              await c.query("BEGIN");
              await c.query("INSERT INTO pooled (v) VALUES ($1)", [w * 1000 + i]);
              const { rows } = await c.query("SELECT count(*)::int AS n FROM pooled WHERE v = $1", [w * 1000 + i]);
              await c.query("COMMIT");
              if (rows[0]?.n === 1) answered++;
              else failures.push(`writer ${w} read ${JSON.stringify(rows)}`);
            } catch (error) {
              failures.push(String(error));
              await c.query("ROLLBACK").catch(() => undefined);
            } finally {
              c.release();
            }
          }
        });
        const readers = [0, 1].map(async (r) => {
          for (let i = 0; i < 80; i++) {
            try {
              const { rows } =
                r === 0
                  ? await pool.query("SELECT $1::int + 1 AS v", [i])
                  : await pool.query("SELECT $1::text || '!' AS v, 2 AS w", [String(i)]);
              if (rows[0]?.v === (r === 0 ? i + 1 : `${i}!`)) answered++;
              else failures.push(`reader ${r} read ${JSON.stringify(rows)}`);
              await pool.query("SELECT 1");
            } catch (error) {
              failures.push(String(error));
            }
          }
        });
        await Promise.all([...writers, ...readers]);
      } finally {
        await pool.end();
      }
      expect(failures).toEqual([]);
      expect(answered).toBe(2 * 40 + 2 * 80);
      const { rows } = await client.query("SELECT count(*)::int AS n FROM pooled");
      expect(rows[0].n).toBe(80);
    }, ENGINE_START_TIMEOUT);

    test("rolls back the transaction of a connection that goes away, and serves the others", async () => {
      await client.query("CREATE TABLE abandoned (v int)");
      const leaving = new pg.Client({ connectionString: database.url });
      await leaving.connect();
      await leaving.query("BEGIN");
      await leaving.query("INSERT INTO abandoned VALUES ($1)", [1]);
      await leaving.end();
      await client.query("INSERT INTO abandoned VALUES ($1)", [2]);
      const { rows } = await client.query("SELECT v FROM abandoned ORDER BY v");
      expect(rows.map((r) => r.v)).toEqual([2]);
    });
  });
}
