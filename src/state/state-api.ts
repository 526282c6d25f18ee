import type { Access } from "../access/access.js";
import { actorOf, can, canReadRecord, readableScopeKeys } from "../access/access.js";
import type { Core } from "../core.js";
import { callContextSchema, parseInput, stateListSchema, stateUpdateSchema, toEpochMs, type CallContext, type StateListOptions } from "../config/schemas.js";
import { updateRecordByHand } from "../pipeline/update-record.js";
import type { StateUpdate } from "../types/inputs.js";
import { NotFoundError } from "../errors.js";
import { parseId } from "../store/ids.js";
import { parseScopeKey, scopeContains } from "../store/scope.js";
import type { RecordRow } from "../store/store.js";
import { toPublicRecord, type MemoryRecord } from "./public-record.js";

import type { StateList } from "../types/namespaces.js";

/** What the state namespace uses: the store, the clock, and the embedding model for edits. */
export type StateDeps = Pick<Core, "store" | "models" | "now">;

export type { StateList };

export function createStateApi(core: StateDeps, access: Access, guard: (method: string) => void) {
  const ctxOf = (ctx: unknown, method: string): CallContext => parseInput(callContextSchema, ctx ?? {}, `${method}(…, ctx)`);
  const readable = (call: CallContext, row: RecordRow) => canReadRecord(call.principal, parseScopeKey(row.scope_key));
  const scopeKeysWithin = async (scope: Record<string, string>): Promise<string[]> =>
    (await core.store.recordScopeKeys()).filter((key) => scopeContains(parseScopeKey(key), scope));
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
      // Across scopes (an admin listing a user's facts wherever they live): every record whose scope contains the
      // request scope. Manage on the scope covers each of those scopes, so nothing outside the grant is listed.
      access.assert(o, o.across ? "manage" : "read", o.scope);
      const keys = o.across ? await scopeKeysWithin(o.scope) : readableScopeKeys(o.principal, o.scope);
      if (keys.length === 0) return { records: [], cursor: null };
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
    /**
     * Edits a record by hand: new `text`, a new `value` (the text follows it), or both. Traced as a decision
     * (`source.kind: "update"`), an "updated" history entry, re-embedded, cached answers citing it evicted. Needs
     * write on the record's scope; a record the caller may neither read nor write is not found.
     */
    async update(id: string, patch: StateUpdate): Promise<MemoryRecord> {
      guard("state.update");
      const n = parseId("record", id);
      const p = parseInput(stateUpdateSchema, patch, "patch");
      const row = access.find(p, "write", "record", id, await core.store.getRecord(n), (r) => can(p.principal, "write", parseScopeKey(r.scope_key)) || readable(p, r));
      if (row.status === "forgotten") throw new NotFoundError("record", id);
      access.assert(p, "write", parseScopeKey(row.scope_key));
      return toPublicRecord(await updateRecordByHand(core, row, { text: p.text, value: p.value }, actorOf(p), p.signal));
    },
    /**
     * Explicit deletion and erasure: gone from every read path and index, cached answers citing it evicted,
     * its words (and those of the turn it came from) erased from the store and cut from the traces that quoted
     * them; a traced tombstone left (`erased_at` set, `text` empty).
     */
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
