import type { Core } from "../../core.js";
import { round } from "./hybrid.js";
import type { RecallRequest, RecallResult } from "./recall-types.js";
import { reuse, usable } from "./reuse.js";

/** What tier 2 uses: the store's cache, the similarity threshold, the clock. */
export type Tier2Deps = Pick<Core, "store" | "settings" | "now">;

/**
 * Tier 2: a prior answer in this exact scope to a question that asks the same thing (the same question
 * signature, compared exactly: a near miss such as "Where did I live before?" never gets the answer to "Where
 * do I live?", whatever the embedding model says), similar enough, and whose cited records stand.
 */
export async function semanticReuse(
  core: Tier2Deps,
  req: RecallRequest,
  key: string,
  vector: Float32Array,
  model: string,
  signature: string,
): Promise<RecallResult | undefined> {
  const threshold = core.settings.current().cache.similarity;
  const hits = await core.store.cacheBySimilarity({ cacheKey: req.cacheKey, signature, model, vector, k: 8, threshold });
  if (hits.length === 0) return undefined;
  const now = core.now();
  for (const { entry, similarity } of hits) {
    const cited = await usable(core, entry, now);
    if (cited) return reuse(core, req, key, entry, cited, 2, round(similarity), now);
  }
  return undefined;
}
