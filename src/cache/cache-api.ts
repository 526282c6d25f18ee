import type { Access } from "../access/access.js";
import { callContextSchema, parseInput, type CallContext } from "../config/schemas.js";
import type { Core } from "../core.js";

/** The response cache namespace: `cache.flush()` evicts every cached answer of the Context (needs `manage`). */
export function createCacheApi(core: Core, access: Access, guard: (method: string) => void) {
  return {
    async flush(ctx?: CallContext): Promise<{ evicted: number }> {
      guard("cache.flush");
      access.assert(parseInput(callContextSchema, ctx ?? {}, "cache.flush(ctx)"), "manage", {});
      return { evicted: await core.store.flushCache() };
    },
  };
}
