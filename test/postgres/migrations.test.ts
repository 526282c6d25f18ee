import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { migrate, PG_MIGRATIONS } from "../../src/store/postgres/migrations.js";
import { announceSkips, ENGINE_START_TIMEOUT, ENGINES, type PgTestDatabase } from "./engines.js";

announceSkips();

const T0 = Date.parse("2026-06-01T00:00:00Z");

for (const engine of ENGINES) {
  describe.skipIf(engine.skip)(`PostgreSQL migrations on ${engine.name}`, () => {
    let database: PgTestDatabase;
    let pool: pg.Pool;
    beforeAll(async () => {
      database = await engine.open();
      pool = new pg.Pool({ connectionString: database.url, max: 2 });
    }, ENGINE_START_TIMEOUT);
    afterAll(async () => {
      await pool?.end();
      await database?.close();
    });

    test("one number per change, the same as SQLite's; 7 erases what was expired or forgotten before it", async () => {
      expect(PG_MIGRATIONS.map((m) => [m.version, m.name.split(":")[0]])).toEqual(MIGRATIONS.map((m) => [m.version, m.name.split(":")[0]]));
      // A database at version 6, with a record expired before erasure existed.
      const client = await pool.connect();
      try {
        await client.query("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        for (const m of PG_MIGRATIONS.filter((m) => m.version <= 6)) {
          await client.query(m.sql);
          await client.query("INSERT INTO schema_migrations VALUES ($1, $2, $3)", [m.version, m.name, T0]);
        }
        const insert = `INSERT INTO records (context, scope_key, kind, memory_category, subject, attribute, value, text, norm_text, confidence,
            importance, status, source_kind, created_at, updated_at, last_decay_at) VALUES ('c', '{}', 'attribute', 'context', 'user', 'gate', '12',
            'The user is at gate 12.', 'the user is at gate 12', 0.9, 0.5, $1, 'turn', $2, $3, $2) RETURNING id::int AS id`;
        const expired = (await client.query(insert, ["expired", T0, T0 + 5])).rows[0].id;
        const current = (await client.query(insert, ["current", T0, T0 + 5])).rows[0].id;
        expect(await migrate(pool, T0 + 10)).toEqual([7, 8]);
        const { rows } = await client.query("SELECT id::int AS id, text, value, subject, erased_at::float8 AS erased_at, tsv::text AS tsv FROM records ORDER BY id");
        expect(rows).toEqual([
          { id: expired, text: "", value: null, subject: null, erased_at: T0 + 5, tsv: "" },
          { id: current, text: "The user is at gate 12.", value: "12", subject: "user", erased_at: null, tsv: expect.stringContaining("gate") },
        ]);
        expect((await client.query("SELECT version FROM schema_migrations ORDER BY version")).rows.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        // The budget columns and the backlog of 6 are there.
        await client.query("UPDATE contexts SET budget = '{}', budget_window = NULL");
        expect((await client.query("SELECT count(*)::int AS n FROM background_backlog")).rows[0].n).toBe(0);
        expect(await migrate(pool, T0 + 20)).toEqual([]);
      } finally {
        client.release();
      }
    });
  });
}
