// Tier 2 (the semantic response cache) on near misses and paraphrases: `npm run bench -- --only=tier2`.
// Each pair is asked in a scope of its own under one profile (bench/near-misses.ts): `a` first (tier 3, cached),
// then `b`. A near miss answered at tier 2 got `a`'s answer: a wrong reuse. A paraphrase answered at tier 2
// with `a`'s answer is a hit. "By similarity alone" is the rule before question signatures (reuse whenever
// the cosine similarity to a valid cached question is above the threshold), computed in the same run from the
// same embeddings and the same cached answers; "now" is what Spectron did.

import { Spectron } from "../src/index.js";
import { createLocalEmbeddingModel } from "../src/models/local/index.js";
import { NEAR_MISSES, NEAR_MISS_PROFILE, type NearMissKind } from "./near-misses.js";
import { PARAPHRASE_GROUPS } from "./paraphrases.js";
import { Progress } from "./progress.js";
import { EMBEDDING, TIER2_SIMILARITY } from "./scale-measure.js";
import { round } from "./stats.js";

const SCOPE = { user: "ana" } as const;

interface PairOutcome {
  /** `a` was answered at tier 3 and its answer cached (asked again, it comes from tier 1). */
  cached: boolean;
  similarity: number;
  /** `b` came from tier 2. */
  reused: boolean;
  /** …with `a`'s answer. */
  sameAnswer: boolean;
}

async function cosine(pairs: ReadonlyArray<readonly [string, string]>): Promise<number[]> {
  const embedder = createLocalEmbeddingModel(EMBEDDING);
  const vectors = (await embedder.embed(pairs.flat())).vectors;
  return pairs.map((_, i) => vectors[2 * i]!.reduce((s, v, d) => s + v * vectors[2 * i + 1]![d]!, 0));
}

async function askPairs(pairs: ReadonlyArray<readonly [string, string]>, threshold: number, label: string): Promise<PairOutcome[]> {
  const memory = new Spectron({ context: "bench-tier2", providers: {}, schedule: { decay: false, expire: false, retry: false } });
  const progress = new Progress(label, pairs.length);
  try {
    for (const content of NEAR_MISS_PROFILE) await memory.ingest({ content, scope: SCOPE });
    await memory.config.cache({ similarity: threshold });
    const similarities = await cosine(pairs);
    const out: PairOutcome[] = [];
    for (const [i, [a, b]] of pairs.entries()) {
      const scope = { ...SCOPE, session: `pair-${i}` };
      const first = await memory.recall(a, { scope });
      const second = await memory.recall(b, { scope });
      const again = await memory.recall(a, { scope });
      out.push({ cached: first.tier === 3 && again.tier === 1, similarity: similarities[i]!, reused: second.tier === 2, sameAnswer: second.answer === first.answer });
      progress.tick(i + 1);
    }
    progress.done();
    return out;
  } finally {
    await memory.close();
  }
}

function paraphrasePairs(): [string, string][] {
  const out: [string, string][] = [];
  for (const group of PARAPHRASE_GROUPS) for (const a of group.paraphrases) for (const b of group.paraphrases) if (a !== b) out.push([a, b]);
  return out;
}

export async function runTier2(options: { quick: boolean }) {
  const thresholds = options.quick ? [0.95] : [0.95, TIER2_SIMILARITY];
  const runs = [];
  for (const threshold of thresholds) {
    const near = await askPairs(NEAR_MISSES.map((m) => [m.a, m.b] as const), threshold, `tier2 near misses @${threshold}`);
    const byKind: Record<string, { pairs: number; cached: number; wrongBySimilarity: number; wrongNow: number }> = {};
    for (const [i, m] of NEAR_MISSES.entries()) {
      const o = near[i]!;
      const k = (byKind[m.kind] ??= { pairs: 0, cached: 0, wrongBySimilarity: 0, wrongNow: 0 });
      k.pairs++;
      if (o.cached) k.cached++;
      if (o.cached && o.similarity > threshold) k.wrongBySimilarity++;
      if (o.reused) k.wrongNow++;
    }
    const total = Object.values(byKind).reduce(
      (s, k) => ({ pairs: s.pairs + k.pairs, cached: s.cached + k.cached, wrongBySimilarity: s.wrongBySimilarity + k.wrongBySimilarity, wrongNow: s.wrongNow + k.wrongNow }),
      { pairs: 0, cached: 0, wrongBySimilarity: 0, wrongNow: 0 },
    );
    const pp = paraphrasePairs();
    const para = await askPairs(pp, threshold, `tier2 paraphrases @${threshold}`);
    const cachedPara = para.filter((o) => o.cached);
    const hitsBySimilarity = cachedPara.filter((o) => o.similarity > threshold).length;
    const hitsNow = cachedPara.filter((o) => o.reused && o.sameAnswer).length;
    runs.push({
      threshold,
      nearMiss: { byKind: byKind as Record<NearMissKind, (typeof byKind)[string]>, total },
      paraphrases: {
        pairs: pp.length,
        cached: cachedPara.length,
        hitsBySimilarity,
        hitsNow,
        hitRateBySimilarity: round(hitsBySimilarity / Math.max(1, cachedPara.length), 3),
        hitRateNow: round(hitsNow / Math.max(1, cachedPara.length), 3),
      },
    });
  }
  return { embedding: EMBEDDING, runs };
}
export type Tier2Report = Awaited<ReturnType<typeof runTier2>>;

export function renderTier2(r: Tier2Report): string[] {
  const out = [
    `## Tier 2: near misses and paraphrases (${r.embedding}; each pair in its own scope, \`a\` cached first)`,
    "",
    "\"By similarity alone\" is the reuse rule before question signatures, from the same run's embeddings and cached answers.",
    "",
    "| threshold | near-miss kind | pairs | `a` cached | wrong reuses by similarity alone | wrong reuses now |",
    "|---|---|---|---|---|---|",
  ];
  for (const run of r.runs) {
    for (const [kind, k] of Object.entries(run.nearMiss.byKind)) out.push(`| ${run.threshold} | ${kind} | ${k.pairs} | ${k.cached} | ${k.wrongBySimilarity} | ${k.wrongNow} |`);
    const t = run.nearMiss.total;
    out.push(`| ${run.threshold} | **all** | ${t.pairs} | ${t.cached} | **${t.wrongBySimilarity}** | **${t.wrongNow}** |`);
  }
  out.push("", "| threshold | paraphrase pairs (ordered) | `a` cached | hits by similarity alone | hits now | hit rate by similarity alone | hit rate now |", "|---|---|---|---|---|---|---|");
  for (const run of r.runs) {
    const p = run.paraphrases;
    out.push(`| ${run.threshold} | ${p.pairs} | ${p.cached} | ${p.hitsBySimilarity} | ${p.hitsNow} | ${p.hitRateBySimilarity} | ${p.hitRateNow} |`);
  }
  return out;
}
