// Measurements on a built scale store: recall latency per tier, ANN recall@10 against exact search, open time
// with and without the .hnsw sidecar, and the lifecycle sweeps. Called by bench/scale.ts.

import fs from "node:fs";
import path from "node:path";
import { Spectron } from "../src/index.js";
import { countVisible } from "../src/store/records.js";
import { visibleScopeKeys } from "../src/store/scope.js";
import { knnSearch } from "../src/store/vectors.js";
import { coreOf } from "./bulk.js";
import { PARAPHRASE_GROUPS } from "./paraphrases.js";
import { duringSweep, sample } from "./sampling.js";
import { latency, median, type Latency } from "./stats.js";

export const EMBEDDING = "local:hash-384";
/** The tier-2 threshold for the hash embedder (README: paraphrases score ~0.7 with it, not 0.95+). */
export const TIER2_SIMILARITY = 0.6;
const DAY = 86_400_000;

export interface TierReport {
  tier1: Latency;
  tier2: Latency;
  tier3Recall: Latency;
  /** Share of paraphrase recalls answered at tier 2 (the rest fell through to tier 3). */
  tier2HitShare: number;
}

/** Live, unexpired records a scope sees (its visible scope keys), counted by the engine's own filter. */
export type VisibleCounter = (scopeKeys: string[], now: number) => Promise<number>;

/** The SQLite file's count (store/records.ts). */
export function sqliteVisible(memory: Spectron): VisibleCounter {
  const core = coreOf(memory);
  return async (scopeKeys, now) => countVisible(core.sqlite!.db, core.context, scopeKeys, now);
}

/** Tier-3 retrieval without the response model (`memory.query`) in `scopeOf(i)`; also the visible record count. */
export async function queryLatency(
  memory: Spectron,
  scopeOf: (i: number) => Record<string, string>,
  questionOf: (i: number) => string,
  budget: { max: number; budgetMs: number },
  count: VisibleCounter = sqliteVisible(memory),
): Promise<Latency & { visible: number }> {
  const core = coreOf(memory);
  const visible = median(await Promise.all([0, 1, 2].map((i) => count(visibleScopeKeys(scopeOf(i)), core.now()))));
  const lat = await sample((i) => memory.query(questionOf(Math.abs(i)), { scope: scopeOf(Math.abs(i)), limit: 10 }), budget);
  return { ...lat, visible };
}

/**
 * Tier 3 (full recall with the local response model) for a few (user, canonical question) pairs, then exact
 * repeats (tier 1) and paraphrases (tier 2) of those. Latencies are filed under the tier that answered.
 */
export async function tierLatency(memory: Spectron, users: string[], budgetMs: number): Promise<TierReport> {
  await memory.config.cache({ similarity: TIER2_SIMILARITY });
  const groups = PARAPHRASE_GROUPS.filter((g) => g.topic !== "context").slice(0, 6);
  const byTier: Record<1 | 2 | 3, number[]> = { 1: [], 2: [], 3: [] };
  const cached: { scope: Record<string, string>; q: string; paraphrases: string[] }[] = [];
  const started = performance.now();
  const over = (share: number) => performance.now() - started > budgetMs * share;
  const ask = async (q: string, scope: Record<string, string>) => {
    const t = performance.now();
    const r = await memory.recall(q, { scope });
    byTier[r.tier].push(performance.now() - t);
    return r;
  };
  for (const user of users) {
    for (const g of groups) {
      if (cached.length >= 3 && over(0.5)) break;
      const scope = { user };
      const first = await ask(g.paraphrases[0]!, scope);
      if (first.records.length > 0) cached.push({ scope, q: g.paraphrases[0]!, paraphrases: g.paraphrases.slice(1) });
    }
  }
  let asked = 0;
  let hits = 0;
  const hitting: { q: string; scope: Record<string, string> }[] = [];
  for (const c of cached) {
    for (const p of c.paraphrases) {
      if (asked >= 5 && over(0.8)) break;
      const r = await ask(p, c.scope);
      asked++;
      if (r.tier === 2) (hits++, hitting.push({ q: p, scope: c.scope }));
    }
  }
  // More samples of the cheap tiers: repeats of cached questions (tier 1) and of paraphrases that hit (tier 2).
  for (let i = 0; i < 200 && !over(1) && cached.length > 0; i++) {
    const c = cached[i % cached.length]!;
    await ask(c.q, c.scope);
    if (hitting.length > 0) await ask(hitting[i % hitting.length]!.q, hitting[i % hitting.length]!.scope);
  }
  return { tier1: latency(byTier[1]), tier2: latency(byTier[2]), tier3Recall: latency(byTier[3]), tier2HitShare: asked ? hits / asked : Number.NaN };
}

/**
 * ANN (hnswlib) top-10 against exact sqlite-vec KNN over the whole Context, and the latency of each. Also how
 * much of the exact top-10 the ANN's top-50 holds (retrieval takes 50 candidates) and how many queries the
 * ANN misses entirely (a graph region it cannot reach, rather than a near miss).
 */
export async function annRecall(memory: Spectron, questions: string[], budgetMs: number) {
  const core = coreOf(memory);
  const index = core.sqlite!.indexes.get("records", EMBEDDING);
  await index.flush();
  const vectors = (await core.models.embedder(EMBEDDING).embed(questions)).vectors;
  const at10: number[] = [];
  const in50: number[] = [];
  const annMs: number[] = [];
  const exactMs: number[] = [];
  const started = performance.now();
  for (const [i, v] of vectors.entries()) {
    if (i >= 10 && performance.now() - started > budgetMs) break;
    let t = performance.now();
    const exact = knnSearch(core.sqlite!.db, core.context, "records", EMBEDDING, v, 10);
    exactMs.push(performance.now() - t);
    t = performance.now();
    const ann = index.search(v, 10) ?? [];
    annMs.push(performance.now() - t);
    const wide = index.search(v, 50) ?? [];
    const truth = new Set(exact.map((h) => h.label));
    // Ties at the 10th distance make the exact top-10 one of several; count a hit at that distance as found.
    const cutoff = exact.length ? exact[exact.length - 1]!.distance + 1e-6 : 0;
    const found = (hits: typeof ann) => Math.min(truth.size, hits.filter((h) => truth.has(h.label) || h.distance <= cutoff).length);
    at10.push(truth.size ? found(ann) / truth.size : 1);
    in50.push(truth.size ? found(wide) / truth.size : 1);
  }
  const mean = (xs: number[]) => Math.round((xs.reduce((sum, x) => sum + x, 0) / xs.length) * 1000) / 1000;
  return {
    n: at10.length,
    recallAt10: mean(at10),
    top10InAnnTop50: mean(in50),
    zeroRecallQueries: at10.filter((r) => r === 0).length,
    annSearch: latency(annMs),
    exactKnn: latency(exactMs),
  };
}

/**
 * ANN recall through the store interface (any engine): `store.nearestRecords` in the Context-wide scope `{}`,
 * as tier-3 retrieval calls it (the ANN index over-fetched until 10 visible hits), against the same call forced
 * to exact distances over every visible record. Costly per exact query at 100k, hence the budget.
 */
export async function annRecallThroughStore(memory: Spectron, questions: string[], budgetMs: number) {
  const core = coreOf(memory);
  const vectors = (await core.models.embedder(EMBEDDING).embed(questions)).vectors;
  const filter = { scopeKeys: visibleScopeKeys({}), now: core.now() };
  const nearest = (vector: Float32Array, k: number, exactLimit: number) => core.store.nearestRecords({ model: EMBEDDING, vector, k, filter, exactLimit });
  const at10: number[] = [];
  const annMs: number[] = [];
  const exactMs: number[] = [];
  const started = performance.now();
  for (const v of vectors) {
    if (at10.length >= 10 && performance.now() - started > budgetMs) break;
    let t = performance.now();
    const exact = (await nearest(v, 10, 1e9)).hits;
    exactMs.push(performance.now() - t);
    t = performance.now();
    const ann = await nearest(v, 10, 0);
    annMs.push(performance.now() - t);
    if (ann.path !== "ann") throw new Error(`annRecallThroughStore: expected the ANN path, got ${ann.path}`);
    const truth = new Set(exact.map((h) => h.label));
    const cutoff = exact.length ? exact[exact.length - 1]!.distance + 1e-6 : 0; // ties at the 10th distance, as annRecall
    at10.push(truth.size ? Math.min(truth.size, ann.hits.filter((h) => truth.has(h.label) || h.distance <= cutoff).length) / truth.size : 1);
  }
  return {
    n: at10.length,
    recallAt10: Math.round((at10.reduce((sum, x) => sum + x, 0) / at10.length) * 1000) / 1000,
    zeroRecallQueries: at10.filter((r) => r === 0).length,
    annSearch: latency(annMs),
    exactSearch: latency(exactMs),
  };
}

export function storeFiles(dbPath: string): { dbBytes: number; hnswBytes: number } {
  const dir = path.dirname(dbPath);
  const base = path.basename(dbPath);
  let dbBytes = 0;
  let hnswBytes = 0;
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(base)) continue;
    const size = fs.statSync(path.join(dir, f)).size;
    if (f.includes(".hnsw")) hnswBytes += size;
    else dbBytes += size;
  }
  return { dbBytes, hnswBytes };
}

export function removeSidecars(dbPath: string): number {
  const dir = path.dirname(dbPath);
  const base = path.basename(dbPath);
  const files = fs.readdirSync(dir).filter((f) => f.startsWith(base) && f.includes(".hnsw"));
  for (const f of files) fs.rmSync(path.join(dir, f));
  return files.length;
}

/**
 * Opens the file, times the constructor, the first Context-wide query and the wait until hnswlib is ready
 * (given up after `readyTimeoutMs`: a rebuild at 1M can take far longer than a benchmark should wait).
 */
export async function openTime(open: () => Spectron, question: string, readyTimeoutMs: number) {
  let t = performance.now();
  const memory = open();
  const constructMs = performance.now() - t;
  const index = coreOf(memory).sqlite!.indexes.get("records", EMBEDDING);
  const readyAtOpen = index.ready;
  t = performance.now();
  await memory.query(question, { scope: {}, limit: 10 });
  const firstQueryMs = performance.now() - t;
  t = performance.now();
  const ready = await Promise.race([index.flush().then(() => true), sleep(readyTimeoutMs).then(() => false)]);
  const readyMs = performance.now() - t;
  return { memory, constructMs, readyAtOpen, firstQueryMs, readyAfterFirstQueryMs: ready ? readyMs : null, readyTimedOut: !ready };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Decay and expiry sweeps a week and a day later (context facts' default TTL is 7 days). */
export async function sweeps(memory: Spectron, advance: (ms: number) => void, probeUser: string) {
  const scope = { user: probeUser };
  const probeQ = "Which plan am I on?";
  await memory.recall(probeQ, { scope }); // cached: the probe is a tier-1 lookup, so it measures waiting, not work
  const before = await sample(() => memory.recall(probeQ, { scope }), { max: 50, budgetMs: 1000 });
  advance(8 * DAY);
  const decay = await duringSweep(() => memory.lifecycle.decay(), () => memory.recall(probeQ, { scope }));
  const expire = await duringSweep(() => memory.lifecycle.expire(), () => memory.recall(probeQ, { scope }));
  return {
    probeBefore: before,
    decay: { ms: decay.sweepMs, changed: decay.result.changed, probes: decay.probes },
    expire: { ms: expire.sweepMs, changed: expire.result.changed, probes: expire.probes },
  };
}

export function randomUsers(rand: () => number, users: number, n: number): string[] {
  return Array.from({ length: n }, () => `u${Math.floor(rand() * users)}`);
}
