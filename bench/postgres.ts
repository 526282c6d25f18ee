// The `postgres` bench section: two writer processes on one PostgreSQL database (bench/postgres-child.ts), each
// writing facts through the reconciler and recalling by nearest records, at the same time. Store-level: the
// Spectron pipeline does not run on PostgreSQL yet, so ingest here is the store's write (no extraction model).
import { fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { note } from "./progress.js";
import { latency, round, type Latency } from "./stats.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface PostgresReport {
  skipped?: string;
  writers: number;
  rounds: number;
  recallsPerRound: number;
  pgvector: boolean;
  /** Fact writes per second, both writers together, over the slower writer's wall time. */
  writesPerSecond: number;
  writeMs: Latency;
  recallMs: Latency;
  /** Single-valued facts current more than once per (scope, attribute) after the run: must be 0. */
  doubleCurrent: number;
}

interface ChildResult {
  ok: boolean;
  writeMs: number[];
  recallMs: number[];
  elapsedMs: number;
  pgvector: boolean;
  error?: string;
}

function writer(url: string, index: number, rounds: number, recalls: number, start: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, "postgres-child.ts"), [url, String(index), String(rounds), String(recalls), String(start)], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.on("message", (m: ChildResult) => (m.ok ? resolve(m) : reject(new Error(m.error))));
    child.on("exit", (code) => code !== 0 && reject(new Error(`writer ${index} exited with ${code}`)));
  });
}

/** Runs the section on a new database of the server at `url` (created and dropped here). */
export async function runPostgres(url: string | undefined, options: { quick: boolean }): Promise<PostgresReport> {
  const rounds = options.quick ? 100 : 1000;
  const recallsPerRound = 2;
  const empty = { writers: 2, rounds, recallsPerRound, pgvector: false, writesPerSecond: NaN, writeMs: latency([]), recallMs: latency([]), doubleCurrent: NaN };
  if (!url) return { ...empty, skipped: "No PostgreSQL server: set SPECTRON_BENCH_POSTGRES_URL (or SPECTRON_TEST_POSTGRES_URL), e.g. the one `bash .ci/run` starts." };
  const name = `spectron_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  try {
    note(`postgres: 2 writers × ${rounds} facts, ${recallsPerRound} recalls each`);
    // The first writer migrates and creates the Context alone; then both start at one wall-clock instant.
    await writer(target.toString(), 0, 0, 0, 0);
    const start = Date.now() + 2000;
    const results = await Promise.all([0, 1].map((i) => writer(target.toString(), i, rounds, recallsPerRound, start)));
    const client = new pg.Client({ connectionString: target.toString() });
    await client.connect();
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM records WHERE status = 'current' AND cardinality = 'one' AND attribute IS NOT NULL
         GROUP BY context, scope_key, subject, attribute HAVING count(*) > 1) AS doubles`,
    );
    await client.end();
    const slowest = Math.max(...results.map((r) => r.elapsedMs));
    return {
      writers: 2,
      rounds,
      recallsPerRound,
      pgvector: results[0]!.pgvector,
      writesPerSecond: round((2 * rounds) / (slowest / 1000), 1),
      writeMs: latency(results.flatMap((r) => r.writeMs)),
      recallMs: latency(results.flatMap((r) => r.recallMs)),
      doubleCurrent: rows[0].n,
    };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

export function renderPostgres(r: PostgresReport): string[] {
  if (r.skipped) return ["## PostgreSQL, two processes", "", `Skipped: ${r.skipped}`];
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  return [
    `## PostgreSQL, two processes (store level: ${r.writers} writer processes on one database, ${r.rounds} fact writes and ${r.rounds * r.recallsPerRound} recalls each; vectors by ${r.pgvector ? "pgvector HNSW" : "an in-process hnswlib index following the change log"})`,
    "",
    "| Measure | Value |",
    "| --- | --- |",
    `| Fact writes per second (both writers) | ${r.writesPerSecond} |`,
    `| Write p50 / p99 | ${ms(r.writeMs.p50)} / ${ms(r.writeMs.p99)} |`,
    `| Recall (nearest records, k=10) p50 / p99 | ${ms(r.recallMs.p50)} / ${ms(r.recallMs.p99)} |`,
    `| Single-valued facts left current twice | ${r.doubleCurrent} |`,
  ];
}
