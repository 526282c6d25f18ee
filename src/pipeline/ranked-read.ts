import type { z } from "zod";
import { actorOf, readableScopeKeys } from "../access/access.js";
import type { queryOptionsSchema } from "../config/schemas.js";
import type { Core } from "../core.js";
import { createLocalLanguageModel } from "../models/local/index.js";
import { queryUnderstandingPrompt } from "../models/prompts/query-understanding.js";
import { scopeKey } from "../store/scope.js";
import { retrieve, type Retrieval } from "./recall/hybrid.js";
import { retrievalTraceWrite } from "./recall/recall.js";
import type { RecordRow } from "../store/store.js";

/** What a ranked read (`query`, `search`) uses: retrieval, the embedding model, the store, the clock. */
export type RankedReadDeps = Pick<Core, "store" | "models" | "now" | "feedback">;

/**
 * A ranked read's retrieval, with no language-model call (rule-based query understanding), and `run`, which
 * writes what the read returned (its retrieval_trace, the records reinforced).
 */
export async function rankedRead(
  core: RankedReadDeps,
  q: string,
  o: z.output<typeof queryOptionsSchema>,
): Promise<{ retrieval: Retrieval; run: (returned: RecordRow[]) => Promise<RecordRow[]> }> {
  const embedder = core.models.embedder();
  const embedded = await embedder.embed([q], o.signal ? { signal: o.signal } : {});
  core.models.recordUsage("embedding", embedded.usage);
  const understanding = (await createLocalLanguageModel("local:rules").generate(queryUnderstandingPrompt, { query: q })).value;
  const retrieval = await retrieve(core, {
    query: q,
    vector: embedded.vectors[0],
    embeddingModel: embedder.id,
    understanding,
    scopeKeys: readableScopeKeys(o.principal, o.scope),
    limit: o.limit,
    now: core.now(),
  });
  // A ranked read leaves its retrieval_trace (spec: "every /query and ranked read") and reinforces what it
  // returned: writes about a read, group-committed like a cached answer's.
  const run = (returned: RecordRow[]) =>
    core.store.writeRankedRead({
      retrieval: retrievalTraceWrite(actorOf(o), scopeKey(o.scope), q, understanding, retrieval, { query_understanding: "local:rules", embedding: embedder.id }),
      reinforce: returned,
      now: core.now(),
    });
  return { retrieval, run };
}
