// A focused PostgreSQL measurement of work that spans one large scope (issue 13's 100k figures, without the
// 19-minute run): a base database holding `--notes` Context-wide notes (scope {}, ~0.85 records each) and the
// profiles of a few hundred users is bulk-loaded once (bench/bulk.ts `bulkLoadStore`), kept, and cloned
// (`CREATE DATABASE … TEMPLATE`) for each measurement, so that runs before and after a change read the same rows.
// Measured through the public API: ingest into scope {} (per call, and sustained with the background pass), tier-3
// `memory.query` in scope {} and in one user's, and tiers 1–3 through `memory.recall`.
//
//   npx tsx bench/postgres-scope.ts --url=postgres://… --build [--notes=30000]   # once: the base database
//   npx tsx bench/postgres-scope.ts --url=postgres://… [--ingest=300]            # a measurement on a clone
//   npx tsx bench/postgres-scope.ts --url=postgres://… --profile[=20]           # store calls and statements per call
//
// Prints one JSON object (with the load average before and after) on stdout; progress on stderr.

import os from "node:os";
import pg from "pg";
import { Spectron } from "../src/index.js";
import { postgresStore } from "../src/postgres.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { visibleCondition } from "../src/store/postgres/records-sql.js";
import { bulkLoadStore, coreOf } from "./bulk.js";
import { corpusTurn, globalQuestion } from "./corpus.js";
import { note } from "./progress.js";
import { sample } from "./sampling.js";
import { userQuestion } from "./scale.js";
import { queryLatency, randomUsers, tierLatency, type VisibleCounter } from "./scale-measure.js";
import { prng, round } from "./stats.js";

const BASE = "spectron_scope_base";
const SEED = 42;
/** The corpus size whose user count the base uses (bench/corpus.ts `userCount`): 350 users. */
const CORPUS = 10_000;
const USERS = 350;

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string?]).map(([k, v]) => [k, v ?? "true"]));
const url = args.get("url") ?? process.env.SPECTRON_BENCH_POSTGRES_URL;
if (!url) throw new Error("Pass --url=postgres://… (a server URL) or set SPECTRON_BENCH_POSTGRES_URL.");

function databaseUrl(name: string): string {
  const u = new URL(url!);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

let now = Date.UTC(2026, 0, 5, 9);
const open = (db: string) =>
  new Spectron({
    context: "bench-scope",
    clock: () => now,
    providers: {},
    schedule: { decay: false, expire: false, retry: false },
    store: postgresStore({ connectionString: databaseUrl(db) }),
  });

/** Turn k of the Context-wide notes (scope {}) of the corpus of CORPUS turns, past the first `from`. */
const noteTurn = (seed: number, k: number) => corpusTurn(seed, CORPUS, Math.floor(k / 3) * 10 + (k % 3));
/** User turn k: profiles first, users round-robin (bench/corpus.ts). */
const userTurn = (k: number) => corpusTurn(SEED, CORPUS, Math.floor(k / 7) * 10 + 3 + (k % 7));

async function build(notes: number): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${BASE} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${BASE}`);
  });
  const memory = open(BASE);
  await memory.idle();
  const t = performance.now();
  const users = await bulkLoadStore(memory, userTurn, { from: 0, to: USERS * 6, lanes: 4 }, { now: () => now });
  note(`users: ${users.turns} turns in ${round(users.ms / 1000, 1)} s`);
  const global = await bulkLoadStore(memory, (k) => noteTurn(SEED, k), { from: 0, to: notes, lanes: 4 }, {
    now: () => now,
    progress: (d) => d % 5000 === 0 && note(`notes: ${d}/${notes} (${round((performance.now() - t) / 1000, 0)} s)`),
  });
  note(`notes: ${global.turns} turns in ${round(global.ms / 1000, 1)} s`);
  // The first Context-wide query builds the in-process index and saves its snapshot (pgvector: none), so that
  // every clone starts from it, as a process after the first does.
  await memory.query(globalQuestion(prng(3)), { scope: {}, limit: 10 });
  await memory.close();
}

async function measure(ingestMax: number): Promise<unknown> {
  const name = `spectron_scope_${process.pid}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${BASE}`));
  const counts = new pg.Pool({ connectionString: databaseUrl(name), max: 2 });
  const loadBefore = os.loadavg();
  try {
    const memory = open(name);
    await memory.idle();
    const core = coreOf(memory);
    const countVisible: VisibleCounter = async (scopeKeys, at) => {
      const visible = visibleCondition(core.context, { scopeKeys, now: at }, 1);
      return (await counts.query<{ n: number }>(`SELECT count(*)::int AS n FROM records r WHERE ${visible.sql}`, visible.values)).rows[0]!.n;
    };
    let t = performance.now();
    await memory.query(globalQuestion(prng(4)), { scope: {}, limit: 10 });
    const firstContextWideMs = performance.now() - t;

    note("ingest into scope {}");
    const before = memory.usage();
    t = performance.now();
    let n = 0;
    const perCall = await sample(
      async (i) => {
        await memory.ingest({ role: "user", content: noteTurn(SEED + 1, i < 0 ? ingestMax + 10 - i : i).content, scope: {} });
        n++;
      },
      { max: ingestMax, budgetMs: 60_000, min: 20, warmup: 2 },
    );
    const syncMs = performance.now() - t;
    await memory.idle();
    const totalMs = performance.now() - t;
    const reflection = (memory.usage().reflection?.calls ?? 0) - (before.reflection?.calls ?? 0);

    note("tier 3 (memory.query) in scope {} and in one user's");
    const contextWide = await queryLatency(memory, () => ({}), (i) => globalQuestion(prng(i + 7)), { max: 100, budgetMs: 20_000 }, countVisible);
    const userScope = await queryLatency(memory, (i) => ({ user: `u${(i * 7919) % USERS}` }), userQuestion, { max: 100, budgetMs: 10_000 }, countVisible);
    note("tiers 1–3 through memory.recall");
    const tiers = await tierLatency(memory, randomUsers(prng(SEED), USERS, 4), 10_000);
    await memory.close();
    return {
      ingest: { turns: perCall.n, perCall, syncTurnsPerSec: round((n / syncMs) * 1000, 1), sustainedTurnsPerSec: round((n / totalMs) * 1000, 1), backgroundReflectionCalls: reflection },
      firstContextWideMs: round(firstContextWideMs, 0),
      query: { contextWide, userScope },
      tiers,
      loadAverage: { before: loadBefore.map((x) => round(x, 2)), after: os.loadavg().map((x) => round(x, 2)) },
    };
  } finally {
    await counts.end();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}

/**
 * Counts every PostgresStore method's calls and time, and the statements sent (each a round trip; BEGIN and COMMIT
 * included). Installed on the class before the instance opens (the settings cache binds the store's methods when
 * it wraps it); methods that call others (write, vectorSet) count inside their callers too.
 */
function instrument() {
  const proto = PostgresStore.prototype as unknown as Record<string, unknown>;
  let methods: Record<string, { calls: number; ms: number }> = {};
  let statements = 0;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const original = proto[name];
    if (name === "constructor" || typeof original !== "function") continue;
    proto[name] = function (this: unknown, ...a: unknown[]) {
      const t = performance.now();
      const done = () => {
        const m = (methods[name] ??= { calls: 0, ms: 0 });
        m.calls++;
        m.ms += performance.now() - t;
      };
      const result = (original as (...x: unknown[]) => unknown).apply(this, a);
      if (result instanceof Promise) return result.finally(done);
      done();
      return result;
    };
  }
  const clientQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
    statements++;
    return (clientQuery as (...x: unknown[]) => unknown).apply(this, a);
  } as typeof clientQuery;
  /** `n` calls of `fn` after two warm-up calls: time, statements and store methods per call. */
  return async (n: number, fn: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 2; i++) await fn(-1 - i);
    methods = {};
    statements = 0;
    const t = performance.now();
    for (let i = 0; i < n; i++) await fn(i);
    const ms = performance.now() - t;
    return {
      msPerCall: round(ms / n, 2),
      statementsPerCall: round(statements / n, 2),
      store: Object.fromEntries(Object.entries(methods).sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => [k, { callsPerCall: round(v.calls / n, 2), msPerCall: round(v.ms / n, 2) }])),
    };
  };
}

async function profileRun(n: number): Promise<unknown> {
  const name = `spectron_scope_${process.pid}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${BASE}`));
  try {
    const profile = instrument();
    const memory = open(name);
    await memory.idle();
    await memory.query(globalQuestion(prng(4)), { scope: {}, limit: 10 });
    const contextWide = await profile(n, (i) => memory.query(globalQuestion(prng(Math.abs(i) + 7)), { scope: {}, limit: 10 }));
    const userScope = await profile(n, (i) => memory.query(userQuestion(Math.abs(i)), { scope: { user: `u${(Math.abs(i) * 7919) % USERS}` }, limit: 10 }));
    await memory.recall(userQuestion(0), { scope: { user: "u1" } });
    const tier1 = await profile(n, () => memory.recall(userQuestion(0), { scope: { user: "u1" } }));
    const ingest = await profile(n, (i) => memory.ingest({ role: "user", content: noteTurn(SEED + 1, i < 0 ? n + 10 - i : i).content, scope: {} }).then(() => memory.idle()));
    await memory.close();
    return { contextWide, userScope, tier1, ingestWithBackgroundPass: ingest, loadAverage: os.loadavg().map((x) => round(x, 2)) };
  } finally {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}

if (args.has("profile")) console.log(JSON.stringify(await profileRun(Number(args.get("profile") === "true" ? 20 : args.get("profile"))), null, 2));
else if (args.has("build")) await build(Number(args.get("notes") ?? 30_000));
else console.log(JSON.stringify(await measure(Number(args.get("ingest") ?? 300)), null, 2));
