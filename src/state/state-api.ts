import type { Access } from "../access/access.js";
import { actorOf, can, canReadRecord, readableScopeKeys } from "../access/access.js";
import type { Core } from "../core.js";
import { callContextSchema, parseInput, stateListSchema, toEpochMs, type CallContext, type StateListOptions } from "../config/schemas.js";
import { NotFoundError } from "../errors.js";
import { parseId } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import type { RecordRow } from "../store/store.js";
import { toPublicRecord, type MemoryRecord } from "./public-record.js";

export interface StateList {
  records: MemoryRecord[];
  /** Pass to the next call to continue; null when there is no more. */
  cursor: string | null;
}

export function createStateApi(core: Core, access: Access, guard: (method: string) => void) {
  const ctxOf = (ctx: unknown, method: string): CallContext => parseInput(callContextSchema, ctx ?? {}, `${method}(…, ctx)`);
  const readable = (call: CallContext, row: RecordRow) => canReadRecord(call.principal, parseScopeKey(row.scope_key));
  return {
    /** One record with importance, expiry, category, status and lineage. */
    async get(id: string, ctx?: CallContext): Promise<MemoryRecord> {
      guard("state.get");
      const n = parseId("record", id);
      const call = ctxOf(ctx, "state.get");
      // A record the caller may not read is "not found": ids must not reveal other scopes.
      return toPublicRecord(access.find(call, "read", "record", id, await core.store.getRecord(n), (row) => readable(call, row)));
    },
    /**
     * Records visible to `scope`, newest first. By default current and flagged ones that have not expired;
     * `status` selects another status (superseded, expired, forgotten).
     */
    async list(options: StateListOptions = {}): Promise<StateList> {
      guard("state.list");
      const o = parseInput(stateListSchema, options, "options");
      access.assert(o, "read", o.scope);
      const keys = readableScopeKeys(o.principal, o.scope);
      const rows = await core.store.listRecords({
        scopeKeys: keys,
        ...(o.status ? { status: o.status } : {}),
        ...(o.memory_category ? { memoryCategory: o.memory_category } : {}),
        ...(o.expires_before !== undefined ? { expiresBefore: toEpochMs(o.expires_before) } : {}),
        ...(o.cursor ? { before: Number(o.cursor) } : {}),
        limit: o.limit + 1,
        now: core.now(),
      });
      const more = rows.length > o.limit;
      const page = rows.slice(0, o.limit);
      return { records: page.map(toPublicRecord), cursor: more ? String(page[page.length - 1]!.id) : null };
    },
    /** Explicit deletion: gone from every read path and index, cached answers citing it evicted, a traced tombstone left. */
    async forget(id: string, ctx?: CallContext): Promise<MemoryRecord> {
      guard("state.forget");
      const n = parseId("record", id);
      const call = ctxOf(ctx, "state.forget");
      // Hidden unless the caller may read it or write its scope; then write is what decides.
      const row = access.find(call, "read", "record", id, await core.store.getRecord(n), (r) => can(call.principal, "write", parseScopeKey(r.scope_key)) || readable(call, r));
      if (row.status === "forgotten") throw new NotFoundError("record", id);
      access.assert(call, "write", parseScopeKey(row.scope_key));
      const now = core.now();
      return toPublicRecord(await core.store.forgetRecord(row.id, actorOf(call), now));
    },
  };
}
