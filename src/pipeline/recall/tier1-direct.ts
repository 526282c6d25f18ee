import type { Core } from "../../core.js";
import { ID_PREFIX, toId, tryParseId } from "../../store/ids.js";
import { toPublicRecord } from "../../state/public-record.js";
import type { RecallRequest, RecallResult } from "./recall-types.js";
import { reuse, reusePayload, usable } from "./reuse.js";

/** What tier 1 uses: the store's cache and records, the cache thresholds, the clock. */
export type Tier1Deps = Pick<Core, "store" | "settings" | "now">;

/** Tier 1: the same normalised query answered before in this exact scope, or an explicit `fact:<id>`. */
export async function directLookup(core: Tier1Deps, req: RecallRequest, key: string, norm: string): Promise<RecallResult | undefined> {
  const now = core.now();
  const fact = /^fact:\s*(\S+)$/i.exec(req.query.trim());
  if (fact) {
    const id = tryParseId("record", fact[1]!) ?? tryParseId("record", `${ID_PREFIX.record}${fact[1]}`);
    const row = id === undefined ? undefined : await core.store.getRecord(id);
    const visible = row && req.readable.includes(row.scope_key);
    const answer = visible ? row.text : `No fact ${fact[1]} in this scope.`;
    const ids = visible ? [row.id] : [];
    // A `fact:<id>` lookup has no prior answer to link to: it cites the record itself.
    const { traceId, records } = await core.store.writeReuse({
      actor: req.actor,
      scopeKey: key,
      payload: reusePayload(req, answer, ids, undefined, 1, undefined),
      cited: ids,
      reinforce: ids,
      extendLife: true,
      now,
    });
    return { answer, tier: 1, cached: false, records: records.map(toPublicRecord), chunks: [], traceId: toId("trace", traceId) };
  }
  for (const entry of await core.store.cacheByQuery(req.cacheKey, norm)) {
    const cited = await usable(core, entry, now);
    if (cited) return reuse(core, req, key, entry, cited, 1, undefined, now);
  }
  return undefined;
}
