// Scale on PostgreSQL (`--store=postgres`): the corpus of bench/scale.ts in a throwaway database, every instance
// through `new Spectron({ store: postgresStore(…) })`. The store is bulk-loaded through the store interface
// (bench/bulk.ts `bulkLoadStore`: the writes `memory.ingest` makes, without its background pass); ingest is then
// measured through `memory.ingest`, and retrieval through `memory.query` and `memory.recall`. Vectors by pgvector
// where the server has it, else (Debian's server) the in-process hnswlib index that follows the change log.
// Left out, as SQLite-only: the .hnsw sidecar and open time with and without it, file sizes, and the sweeps
// (not measured here for time). Runs in a child process per size, as the SQLite section.

import pg from "pg";
import { Spectron } from "../src/index.js";
import { visibleCondition } from "../src/store/postgres/records-sql.js";
import { benchDatabaseUrl, benchStore, dropBenchDatabase, usePostgres } from "./bench-store.js";
import { bulkLoadStore, coreOf } from "./bulk.js";
import { corpusDocument, globalQuestion, userCount } from "./corpus.js";
import { PARAPHRASE_GROUPS } from "./paraphrases.js";
import { note, Progress } from "./progress.js";
import { budgetFor, ingestSample, phases, SEED, userQuestion } from "./scale.js";
import { annRecallThroughStore, queryLatency, randomUsers, tierLatency, type VisibleCounter } from "./scale-measure.js";
import { formatSize, pick, prng, round } from "./stats.js";

/** Scopes extracted at once during the bulk load (each scope's turns stay in order): concurrent ingest by many users. */
const LANES = 4;

export async function runScalePostgres(options: { size: number; quick: boolean; url: string }) {
  const { size, quick } = options;
  const label = `scale ${formatSize(size)} (PostgreSQL)`;
  const budget = budgetFor(size, quick);
  const wallStart = performance.now();
  const rand = prng(SEED + size);
  const users = userCount(size);
  let now = Date.UTC(2026, 0, 5, 9);
  await usePostgres(options.url);
  const counts = new pg.Pool({ connectionString: benchDatabaseUrl(), max: 2 });
  const open = (context: string) => new Spectron({ context, clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false }, ...benchStore() });
  try {
    note(`${label}: ingest sample on an empty store`);
    const ingestEmpty = await ingestSample(open("bench-ingest"), size, 0, quick ? 300 : 1000, budget, true);

    const memory = open("bench-scale");
    await memory.idle(); // the store opens (and migrates) in the background
    const core = coreOf(memory);
    const countVisible: VisibleCounter = async (scopeKeys, at) => {
      const visible = visibleCondition(core.context, { scopeKeys, now: at }, 1);
      return (await counts.query<{ n: number }>(`SELECT count(*)::int AS n FROM records r WHERE ${visible.sql}`, visible.values)).rows[0]!.n;
    };
    const liveRecords = async () =>
      (await counts.query<{ n: number }>("SELECT count(*)::int AS n FROM records WHERE context = $1 AND status IN ('current', 'flagged')", [core.context])).rows[0]!.n;

    // Phase A, the users' own records, then the one-user query before the Context-wide notes (as bench/scale.ts).
    const { userTurns, noteTurns, userAt, noteAt } = phases(size);
    const progress = new Progress(`${label} bulk load`, size);
    const a = await bulkLoadStore(memory, userAt, { from: 0, to: userTurns, lanes: LANES }, { now: () => now, progress: (d) => progress.tick(d) });
    const recordsA = await liveRecords();
    const smallScope = await queryLatency(memory, (i) => ({ user: `u${(i * 7919) % users}` }), userQuestion, { max: 200, budgetMs: budget }, countVisible);

    // Phase B, Context-wide notes in scope {}, and the handbook documents through the public knowledge API.
    const b = await bulkLoadStore(memory, noteAt, { from: 0, to: noteTurns, lanes: LANES }, { now: () => now, progress: (d) => progress.tick(userTurns + d) });
    progress.done();
    const documents = Math.max(20, Math.round(size / 200));
    note(`${label}: ${documents} documents through memory.knowledge.add`);
    let chunks = 0;
    let t = performance.now();
    for (let d = 0; d < documents; d++) chunks += (await memory.knowledge.add({ ...corpusDocument(SEED, d), scope: {} })).chunks;
    const documentMs = performance.now() - t;
    await memory.idle();
    const records = await liveRecords();

    // The first search on the ANN path builds this process's hnswlib index from the vectors table (pgvector: none).
    note(`${label}: first Context-wide query`);
    t = performance.now();
    await memory.query(globalQuestion(prng(3)), { scope: {}, limit: 10 });
    const firstContextWideMs = performance.now() - t;

    note(`${label}: tier-3 retrieval latency (memory.query)`);
    const contextWide = await queryLatency(memory, () => ({}), (i) => globalQuestion(prng(i + 7)), { max: 200, budgetMs: budget }, countVisible);
    const userScope = await queryLatency(memory, (i) => ({ user: `u${(i * 7919) % users}` }), userQuestion, { max: 200, budgetMs: budget }, countVisible);
    note(`${label}: tiers 1–3 through memory.recall`);
    const tiers = await tierLatency(memory, randomUsers(rand, users, 4), budget * 2);
    note(`${label}: ANN recall@10 against exact search (store.nearestRecords, scope {})`);
    const questions = Array.from({ length: 200 }, (_, i) => (i % 2 ? globalQuestion(prng(1000 + i)) : pick(rand, PARAPHRASE_GROUPS).paraphrases[0]!));
    const ann = await annRecallThroughStore(memory, questions, budget);
    note(`${label}: ingest sample on the full store`);
    const ingestFull = await ingestSample(memory, size, size, quick ? 100 : 300, budget, false);
    const pgvector = (core.store as unknown as { pgvector?: boolean }).pgvector === true;
    await memory.close();
    // A new instance (as a new process would be) loads the index snapshot that the first build saved, and
    // replays the change log since (store/postgres/ann-snapshot.ts), instead of building from the table again.
    note(`${label}: first Context-wide query of a new instance`);
    const reopened = open("bench-scale");
    await reopened.idle();
    t = performance.now();
    await reopened.query(globalQuestion(prng(4)), { scope: {}, limit: 10 });
    const reopenedFirstContextWideMs = performance.now() - t;
    await reopened.close();
    const databaseBytes = Number((await counts.query<{ n: string }>("SELECT pg_database_size(current_database()) AS n")).rows[0]!.n);

    return {
      size,
      turns: size,
      liveRecords: records,
      users,
      vectors: pgvector ? "pgvector" : "hnswlib following the change log",
      bulk: {
        turnsPerSec: round(size / ((a.ms + b.ms) / 1000), 1),
        lanes: LANES,
        outcomes: Object.fromEntries(Object.keys(a.outcomes).map((k) => [k, (a.outcomes[k] ?? 0) + (b.outcomes[k] ?? 0)])),
      },
      firstContextWideMs: round(firstContextWideMs, 0),
      reopenedFirstContextWideMs: round(reopenedFirstContextWideMs, 0),
      ingest: { emptyStore: ingestEmpty, fullStore: ingestFull },
      knowledge: { documents, chunks, docsPerSec: round((documents / documentMs) * 1000, 1) },
      query: { smallScope: { ...smallScope, storeRecords: recordsA }, userScope, contextWide },
      tiers,
      ann,
      databaseBytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      wallMs: round(performance.now() - wallStart, 0),
    };
  } finally {
    await counts.end();
    await dropBenchDatabase();
  }
}

export type PostgresScaleReport = Awaited<ReturnType<typeof runScalePostgres>>;
