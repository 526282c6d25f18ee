// A diagnostic for tuning, run on the LoCoMo development split only: each candidate channel of Spectron's
// hybrid retrieval (vector, FTS5 BM25, entity graph) scored on its own, and their fusion, with the same
// retrieval `memory.query` runs (src/pipeline/recall/hybrid.ts `retrieve`, read from internals). It says which
// channel carries the signal and what fusion and weighting do to it.

import type { Spectron } from "../src/index.js";
import { createLocalLanguageModel } from "../src/models/local/index.js";
import { queryUnderstandingPrompt } from "../src/models/prompts/query-understanding.js";
import { retrieve } from "../src/pipeline/recall/hybrid.js";
import { visibleScopeKeys } from "../src/store/scope.js";
import { coreOf } from "./bulk.js";

export const CHANNELS = ["vector", "fts", "graph", "passages", "records", "fused"] as const;
export type Channel = (typeof CHANNELS)[number];

/** Record id → the turn id it was extracted from (the `source.id` that `memory.query` returns). */
export function recordSources(memory: Spectron): Map<number, string> {
  const core = coreOf(memory);
  const rows = core.sqlite!.db.prepare("SELECT id, source_id FROM records WHERE context = ? AND source_kind = 'turn'").all(core.context) as { id: number; source_id: string }[];
  return new Map(rows.map((r) => [r.id, r.source_id]));
}

/** Read once per store: the questions are asked after the last ingest. */
const sourcesOf = new WeakMap<Spectron, Map<number, string>>();

/**
 * Source turn ids per channel, in each channel's own rank order: the record channels (vector, FTS5, graph),
 * the passage channel (BM25 over the turns), "records": the fused records alone (= `memory.query`), and
 * "fused": records and passages fused (= `memory.search`).
 */
export async function channelRankings(memory: Spectron, question: string, scope: Record<string, string>, limit: number): Promise<Record<Channel, string[]>> {
  const core = coreOf(memory);
  const sources = sourcesOf.get(memory) ?? sourcesOf.set(memory, recordSources(memory)).get(memory)!;
  const embedder = core.models.embedder();
  const vector = (await embedder.embed([question])).vectors[0];
  const understanding = (await createLocalLanguageModel("local:rules").generate(queryUnderstandingPrompt, { query: question })).value;
  const r = await retrieve(core, { query: question, vector, embeddingModel: embedder.id, understanding, scopeKeys: visibleScopeKeys(scope), limit, now: core.now() });
  const turns = (ids: number[]) => ids.map((id) => sources.get(id) ?? "");
  return {
    vector: turns(r.candidates.vector.map((c) => c.id)),
    fts: turns(r.candidates.fts.map((c) => c.id)),
    graph: turns(r.candidates.graph.map((c) => c.id)),
    passages: r.passages.map((c) => `turn_${c.id}`),
    records: turns(r.fused.map((c) => c.id)),
    fused: r.results.map((x) => (x.kind === "record" ? sources.get(x.row.id) ?? "" : `turn_${x.passage.id}`)),
  };
}
