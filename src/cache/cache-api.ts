import type { Access } from "../access/access.js";
import { callContextSchema, parseInput, type CallContext } from "../config/schemas.js";
import type { Core } from "../core.js";

/** What the cache namespace uses. */
export type CacheDeps = Pick<Core, "store">;

/** The response cache namespace: `cache.flush()` evicts every cached answer of the Context (needs `manage`). */
export function createCacheApi(core: CacheDeps, access: Access, guard: (method: string) => void) {
  return {
    async flush(ctx?: CallContext): Promise<{ evicted: number }> {
      guard("cache.flush");
      access.assert(parseInput(callContextSchema, ctx ?? {}, "cache.flush(ctx)"), "manage", {});
      return { evicted: await core.store.flushCache() };
    },
  };
}
