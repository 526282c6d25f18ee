// Scale: one file-backed Context of `size` synthetic turns (bench/corpus.ts). Ingest is measured through
// `memory.ingest` on a fresh store and again on the full store; the store itself is bulk-loaded (bench/bulk.ts)
// because ingest is far below the 1k turns/s that would build 100k in the time budget. Runs in a child process
// per size (bench/scale-child.ts) so that peak RSS belongs to one size.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Spectron } from "../src/index.js";
import { vectorSource } from "../src/store/vectors.js";
import { bulkLoad, coreOf } from "./bulk.js";
import { corpusDocument, corpusTurn, globalQuestion, userCount } from "./corpus.js";
import { PARAPHRASE_GROUPS } from "./paraphrases.js";
import { note, Progress } from "./progress.js";
import { sample } from "./sampling.js";
import { annRecall, EMBEDDING, openTime, queryLatency, randomUsers, removeSidecars, sleep, storeFiles, sweeps, tierLatency } from "./scale-measure.js";
import { formatSize, pick, prng, round } from "./stats.js";

export const SEED = 42;

export interface ScaleOptions {
  size: number;
  quick: boolean;
}

/** Per-cell time budget (ms): enough samples for a median without letting slow paths eat the run. */
export function budgetFor(size: number, quick: boolean): number {
  if (quick) return 1500;
  return size <= 20_000 ? 4000 : size <= 200_000 ? 10_000 : 20_000;
}

/**
 * The corpus of `size` turns in two phases: the users' own turns (`userAt(k)`, k < userTurns), then the
 * Context-wide notes (`noteAt(k)`, k < noteTurns). Shared by the SQLite and PostgreSQL scale sections.
 */
export function phases(size: number) {
  const userTurns = Math.floor(size / 10) * 7 + Math.max(0, (size % 10) - 3);
  return {
    userTurns,
    noteTurns: size - userTurns,
    userAt: (k: number) => corpusTurn(SEED, size, Math.floor(k / 7) * 10 + 3 + (k % 7)),
    noteAt: (k: number) => corpusTurn(SEED, size, Math.floor(k / 3) * 10 + (k % 3)),
  };
}

/** The canonical question of paraphrase group `i % 7` (name, plan, location, employer, …): a user-scope question. */
export const userQuestion = (i: number) => PARAPHRASE_GROUPS[i % 7]!.paraphrases[0]!;

export async function runScale(options: ScaleOptions) {
  const { size, quick } = options;
  const label = `scale ${formatSize(size)}`;
  const budget = budgetFor(size, quick);
  const wallStart = performance.now();
  const rand = prng(SEED + size);
  const users = userCount(size);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "spectron-bench-"));
  const dbPath = path.join(dir, "scale.db");
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once("exit", cleanup); // also when the run is interrupted (scale-child turns signals into exit)
  let now = Date.UTC(2026, 0, 5, 9);
  const open = () => new Spectron({ context: "bench-scale", path: dbPath, clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
  try {
    note(`${label}: ingest sample on an empty store`);
    const ingestEmpty = await ingestSample(new Spectron({ context: "bench-ingest", clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false } }), size, 0, quick ? 300 : 1000, budget, true);

    // Phase A: the users' own records. Small scopes exist only while no Context-wide notes are visible to
    // every user, so the exact small-scope path is measured here, before the notes of phase B.
    let memory = open();
    const core = coreOf(memory);
    const index = core.sqlite!.indexes.get("records", EMBEDDING);
    const { userTurns, noteTurns, userAt, noteAt } = phases(size);
    const progress = new Progress(`${label} bulk load`, size);
    const a = await bulkLoad(memory, userAt, { from: 0, to: userTurns }, { now: () => now, progress: (d) => progress.tick(d) });
    let t = performance.now();
    await index.flush();
    let annBuildMs = performance.now() - t;
    const recordsA = liveRecords(memory);
    const smallScope = await queryLatency(memory, (i) => ({ user: `u${(i * 7919) % users}` }), userQuestion, { max: 200, budgetMs: budget });

    // Phase B: Context-wide notes in scope {} — visible to every request, so every scope is now large.
    const b = await bulkLoad(memory, noteAt, { from: 0, to: noteTurns }, { now: () => now, progress: (d) => progress.tick(userTurns + d) });
    progress.done();
    t = performance.now();
    await index.flush();
    annBuildMs += performance.now() - t;
    // Documents (handbook pages) through the public knowledge API: chunks for Context-wide recall.
    const documents = Math.max(20, Math.round(size / 200));
    note(`${label}: ${documents} documents through memory.knowledge.add`);
    let chunks = 0;
    t = performance.now();
    for (let d = 0; d < documents; d++) chunks += (await memory.knowledge.add({ ...corpusDocument(SEED, d), scope: {} })).chunks;
    const documentMs = performance.now() - t;
    await memory.idle();
    const records = liveRecords(memory);
    const vectors = vectorSource(core.sqlite!.db, core.context, "records", EMBEDDING, index.dim).count();

    note(`${label}: tier-3 retrieval latency (memory.query)`);
    const contextWide = await queryLatency(memory, () => ({}), (i) => globalQuestion(prng(i + 7)), { max: 200, budgetMs: budget });
    const userScope = await queryLatency(memory, (i) => ({ user: `u${(i * 7919) % users}` }), userQuestion, { max: 200, budgetMs: budget });
    note(`${label}: tiers 1–3 through memory.recall`);
    const tiers = await tierLatency(memory, randomUsers(rand, users, 4), budget * 2);
    note(`${label}: ANN recall@10 against exact search`);
    const questions = Array.from({ length: 200 }, (_, i) => (i % 2 ? globalQuestion(prng(1000 + i)) : pick(rand, PARAPHRASE_GROUPS).paraphrases[0]!));
    const ann = await annRecall(memory, questions, budget);
    note(`${label}: ingest sample on the full store`);
    const ingestFull = await ingestSample(memory, size, size, quick ? 100 : 300, budget, false);
    await memory.close();
    const files = storeFiles(dbPath);

    note(`${label}: open time with and without the .hnsw sidecar`);
    const readyTimeoutMs = quick ? 30_000 : size <= 200_000 ? 240_000 : 600_000;
    const withSidecar = await openTime(open, globalQuestion(prng(3)), readyTimeoutMs);
    await withSidecar.memory.close();
    const removed = removeSidecars(dbPath);
    const withoutSidecar = await openTime(open, globalQuestion(prng(4)), readyTimeoutMs);
    memory = withoutSidecar.memory;
    note(`${label}: decay and expiry sweeps`);
    const sweep = await sweeps(memory, (ms) => (now += ms), `u${users >> 1}`);
    // close() waits for a rebuild still running; past the timeout the child exits without it.
    await (withoutSidecar.readyTimedOut ? Promise.race([memory.close(), sleep(1000)]) : memory.close());

    const { memory: _a, ...openWith } = withSidecar;
    const { memory: _b, ...openWithout } = withoutSidecar;
    return {
      size,
      turns: size,
      liveRecords: records,
      vectors,
      users,
      bulk: {
        turnsPerSec: round(size / ((a.ms + b.ms) / 1000), 0),
        outcomes: Object.fromEntries(Object.keys(a.outcomes).map((k) => [k, (a.outcomes[k] ?? 0) + (b.outcomes[k] ?? 0)])),
        annBuildMs: round(annBuildMs, 0),
        annBuildUsPerVector: round((annBuildMs * 1000) / Math.max(1, vectors), 1),
      },
      ingest: { emptyStore: ingestEmpty, fullStore: ingestFull },
      knowledge: { documents, chunks, docsPerSec: round((documents / documentMs) * 1000, 1) },
      query: { smallScope: { ...smallScope, storeRecords: recordsA }, userScope, contextWide },
      tiers,
      ann,
      files: { ...files, bytesPerRecord: round((files.dbBytes + files.hnswBytes) / Math.max(1, records), 0) },
      open: { withSidecar: roundAll(openWith), withoutSidecar: { ...roundAll(openWithout), sidecarFilesRemoved: removed } },
      sweeps: sweep,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      wallMs: round(performance.now() - wallStart, 0),
    };
  } finally {
    cleanup();
  }
}

/** memory.ingest of corpus turns from `from`, up to `max` turns or the budget; then waits for background work. */
export async function ingestSample(memory: Spectron, size: number, from: number, max: number, budgetMs: number, closeAfter: boolean) {
  const before = memory.usage();
  const started = performance.now();
  let n = 0;
  const lat = await sample(
    async (i) => {
      const turn = corpusTurn(SEED + 1, size, from + (i < 0 ? max + 10 - i : i));
      await memory.ingest({ role: "user", content: turn.content, scope: turn.scope });
      n++;
    },
    { max, budgetMs, min: 20, warmup: 2 },
  );
  const syncMs = performance.now() - started;
  await memory.idle(); // the background reconciliation pass each ingest schedules
  const totalMs = performance.now() - started;
  const after = memory.usage();
  const reflection = (after.reflection?.calls ?? 0) - (before.reflection?.calls ?? 0);
  if (closeAfter) await memory.close();
  return {
    turns: lat.n,
    perCall: lat,
    syncTurnsPerSec: round((n / syncMs) * 1000, 1),
    sustainedTurnsPerSec: round((n / totalMs) * 1000, 1),
    backgroundReflectionCalls: reflection,
  };
}

function liveRecords(memory: Spectron): number {
  const core = coreOf(memory);
  return (core.sqlite!.db.prepare("SELECT COUNT(*) AS n FROM records WHERE context = ? AND status IN ('current', 'flagged')").get(core.context) as { n: number }).n;
}

function roundAll<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "number" ? round(v, 1) : v])) as T;
}

export type ScaleReport = Awaited<ReturnType<typeof runScale>>;
