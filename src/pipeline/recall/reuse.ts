import type { Core } from "../../core.js";
import { ttlToMs } from "../../config/schemas.js";
import { toId } from "../../store/ids.js";
import type { CacheEntryRow } from "../../store/store.js";
import { toPublicRecord } from "../../state/public-record.js";
import { publicChunk } from "./public-chunk.js";
import type { RecallRequest, RecallResult } from "./recall-types.js";

/** What reusing a cached answer uses: the cache's thresholds (settings) and the store. */
export type ReuseDeps = Pick<Core, "store" | "settings">;

// What tiers 1 and 2 share: a prior answer reused while every record it cited is still current.

/** The entry's cited records and chunks when it may be reused now (fresh enough, every citation standing). */
export async function usable(core: ReuseDeps, entry: CacheEntryRow, now: number): Promise<{ deps: number[]; chunks: Parameters<typeof publicChunk>[0][] } | undefined> {
  const { freshness, min_trust } = core.settings.current().cache;
  if (freshness !== null && now - entry.created_at > ttlToMs(freshness)) return undefined;
  return core.store.cacheEntryUsable(entry.id, now, min_trust);
}

/** Reuses a cached answer: a response trace (group-committed with other reuses) and the cited records reinforced. */
export async function reuse(
  core: ReuseDeps,
  req: RecallRequest,
  key: string,
  entry: CacheEntryRow,
  cited: { deps: number[]; chunks: Parameters<typeof publicChunk>[0][] },
  tier: 1 | 2,
  similarity: number | undefined,
  now: number,
): Promise<RecallResult> {
  const { traceId, records } = await core.store.writeReuse({
    actor: req.actor,
    scopeKey: key,
    payload: reusePayload(req, entry.answer, cited.deps, entry, tier, similarity),
    reusedFrom: entry.response_trace_id,
    cited: [],
    reinforce: cited.deps,
    extendLife: true,
    now,
  });
  return {
    answer: entry.answer,
    tier,
    cached: true,
    ...(similarity !== undefined ? { similarity } : {}),
    records: records.map(toPublicRecord),
    chunks: cited.chunks.map(publicChunk),
    traceId: toId("trace", traceId),
  };
}

/** A reuse's response_trace payload. */
export function reusePayload(
  req: RecallRequest,
  answer: string,
  deps: readonly number[],
  entry: CacheEntryRow | undefined,
  tier: 1 | 2,
  similarity: number | undefined,
): Record<string, unknown> {
  // The spec's shape of a cache hit: { query, tier, cached, similarity, response } (similarity 1 at tier 1:
  // the same words; null for a `fact:<id>` lookup, which matches no earlier question).
  return {
    query: req.query,
    tier,
    cached: !!entry,
    similarity: entry ? (similarity ?? 1) : null,
    response: answer,
    ...(entry ? { reused_from: toId("trace", entry.response_trace_id) } : {}),
    records: deps.map((id) => toId("record", id)),
    tokens: { input: 0, output: 0 },
    model_calls: 0,
  };
}
