import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FollowedIndex } from "../../src/store/postgres/followed-index.js";
import { migrate } from "../../src/store/postgres/migrations.js";
import { ensureVectorSet } from "../../src/store/postgres/vector-sets.js";
import { mulberry32 } from "../helpers.js";
import { announceSkips, ENGINE_START_TIMEOUT, serverEngine, type PgTestDatabase } from "./engines.js";

// The in-process index of a database without pgvector keeps one hnswlib point per distinct vector, as SQLite's
// does: records with the same text have byte-identical embeddings, and many copies of one point wreck hnswlib's
// graph (the search walk cannot get past them). At 100k the scale bench's Context-wide ANN recall@10 was 0.740
// on PostgreSQL (one point per record) against 0.944 on SQLite.

announceSkips([serverEngine]);

const T0 = Date.parse("2026-06-01T00:00:00Z");
const DIM = 16;

describe.skipIf(serverEngine.skip)("the followed index on postgres", () => {
  let database: PgTestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    database = await serverEngine.open();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    await migrate(pool, T0);
  }, ENGINE_START_TIMEOUT);
  afterAll(async () => {
    await pool?.end();
    await database?.close();
  });

  test("copies of one vector do not hide the other vectors from the search", async () => {
    const set = await ensureVectorSet(pool, "records", "test:dup-16", DIM, false);
    const rand = mulberry32(3);
    const vector = () => Array.from({ length: DIM }, () => rand() * 2 - 1);
    const common = Array.from({ length: 100 }, vector);
    const unique = Array.from({ length: 100 }, vector);
    // 24,000 labels: 100 distinct vectors copied 240 times each, then 100 vectors of their own.
    const rows = [...Array.from({ length: 24_000 }, (_, i) => common[i % 100]!), ...unique];
    await pool.query(`INSERT INTO ${set.table} (label, context, embedding) SELECT l, 'dup', e::real[] FROM unnest($1::bigint[], $2::text[]) AS t(l, e)`, [
      rows.map((_, i) => i + 1),
      rows.map((v) => `{${v.join(",")}}`),
    ]);
    const index = new FollowedIndex(pool, "dup", set, () => T0, (e) => {
      throw e;
    });
    const ann = await index.index();
    expect(ann.size).toBe(rows.length);
    let found = 0;
    unique.forEach((v, i) => {
      if (ann.search(Float32Array.from(v), 1)?.[0]?.label === 24_000 + i + 1) found++;
    });
    expect(found).toBe(unique.length);
    await index.close();
  }, 120_000);
});
