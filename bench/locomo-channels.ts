// A diagnostic for tuning, run on the LoCoMo development split only: each candidate channel of Spectron's
// hybrid retrieval (vector, FTS5 BM25, entity graph) scored on its own, and their fusion, with the same
// retrieval `memory.query` runs (src/pipeline/recall/hybrid.ts `retrieve`, read from internals). It says which
// channel carries the signal and what fusion and weighting do to it.

import type { Spectron } from "../src/index.js";
import { createLocalLanguageModel } from "../src/models/local/index.js";
import { queryUnderstandingPrompt } from "../src/models/prompts/query-understanding.js";
import { reciprocalRankFusion } from "../src/pipeline/recall/fuse.js";
import { retrieve } from "../src/pipeline/recall/hybrid.js";
import { visibleScopeKeys } from "../src/store/scope.js";
import { coreOf } from "./bulk.js";

export const CHANNELS = ["vector", "fts", "graph", "rrfVectorFts", "rrfAll", "fused"] as const;
export type Channel = (typeof CHANNELS)[number];

/** Record id → the turn id it was extracted from (the `source.id` that `memory.query` returns). */
export function recordSources(memory: Spectron): Map<number, string> {
  const core = coreOf(memory);
  const rows = core.db.prepare("SELECT id, source_id FROM records WHERE context = ? AND source_kind = 'turn'").all(core.context) as { id: number; source_id: string }[];
  return new Map(rows.map((r) => [r.id, r.source_id]));
}

/**
 * Record ids per channel, in each channel's own rank order. "rrfVectorFts" and "rrfAll": plain reciprocal-rank
 * fusion of two and of all three channels, without the importance/recency/feedback weighting; "fused" is the
 * final weighted order `memory.query` returns.
 */
export async function channelRankings(memory: Spectron, question: string, scope: Record<string, string>, limit: number): Promise<Record<Channel, number[]>> {
  const core = coreOf(memory);
  const embedder = core.embedder();
  const vector = (await embedder.embed([question])).vectors[0];
  const understanding = (await createLocalLanguageModel("local:rules").generate(queryUnderstandingPrompt, { query: question })).value;
  const r = retrieve(core, { query: question, vector, embeddingModel: embedder.id, understanding, scopeKeys: visibleScopeKeys(scope), limit, now: core.now() });
  const vectorIds = r.candidates.vector.map((c) => c.id);
  const ftsIds = r.candidates.fts.map((c) => c.id);
  const graphIds = r.candidates.graph.map((c) => c.id);
  const order = (scores: Map<number, number>) => [...scores].sort((a, b) => b[1] - a[1] || b[0] - a[0]).map(([id]) => id);
  return {
    vector: vectorIds,
    fts: ftsIds,
    graph: graphIds,
    rrfVectorFts: order(reciprocalRankFusion([vectorIds, ftsIds])),
    rrfAll: order(reciprocalRankFusion([vectorIds, ftsIds, graphIds])),
    fused: r.fused.map((c) => c.id),
  };
}
