import { sql } from "../store/database.js";
import type { Access } from "../access/access.js";
import { actorOf, can, canReadRecord, readableScopeKeys } from "../access/access.js";
import type { Core } from "../core.js";
import { callContextSchema, parseInput, stateListSchema, stateUpdateSchema, toEpochMs, type CallContext, type StateListOptions } from "../config/schemas.js";
import { updateRecordByHand } from "../pipeline/update-record.js";
import type { StateUpdate } from "../types/inputs.js";
import { NotFoundError } from "../errors.js";
import { eraseRecords } from "../store/erase.js";
import { addEdge } from "../store/graph.js";
import { parseId, toId } from "../store/ids.js";
import { appendHistory, getRecord, updateRecord, type RecordRow } from "../store/records.js";
import { parseScopeKey, scopeContains } from "../store/scope.js";
import { insertTrace } from "../store/traces.js";
import { toPublicRecord, type MemoryRecord } from "./public-record.js";

import type { StateList } from "../types/namespaces.js";

export type { StateList };

export function createStateApi(core: Core, access: Access, guard: (method: string) => void) {
  const ctxOf = (ctx: unknown, method: string): CallContext => parseInput(callContextSchema, ctx ?? {}, `${method}(…, ctx)`);
  const readable = (call: CallContext, row: RecordRow) => canReadRecord(call.principal, parseScopeKey(row.scope_key));
  const scopeKeysWithin = (scope: Record<string, string>): string[] =>
    (sql(core.db, "SELECT DISTINCT scope_key FROM records WHERE context = ?").pluck().all(core.context) as string[]).filter((key) =>
      scopeContains(parseScopeKey(key), scope),
    );
  return {
    /** One record with importance, expiry, category, status and lineage. */
    async get(id: string, ctx?: CallContext): Promise<MemoryRecord> {
      guard("state.get");
      const n = parseId("record", id);
      const call = ctxOf(ctx, "state.get");
      // A record the caller may not read is "not found": ids must not reveal other scopes.
      return toPublicRecord(access.find(call, "read", "record", id, getRecord(core.db, core.context, n), (row) => readable(call, row)));
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
      const keys = o.across ? scopeKeysWithin(o.scope) : readableScopeKeys(o.principal, o.scope);
      if (keys.length === 0) return { records: [], cursor: null };
      const where = [`context = ?`, `scope_key IN (${keys.map(() => "?").join(",")})`];
      const params: unknown[] = [core.context, ...keys];
      if (o.status) (where.push("status = ?"), params.push(o.status));
      else (where.push("status IN ('current', 'flagged') AND (expires_at IS NULL OR expires_at > ?)"), params.push(core.now()));
      if (o.memory_category) (where.push("memory_category = ?"), params.push(o.memory_category));
      if (o.expires_before !== undefined) (where.push("expires_at IS NOT NULL AND expires_at < ?"), params.push(toEpochMs(o.expires_before)));
      if (o.cursor) (where.push("id < ?"), params.push(Number(o.cursor)));
      const rows = sql(core.db, `SELECT * FROM records WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`)
        .all(...params, o.limit + 1) as RecordRow[];
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
      const row = access.find(p, "write", "record", id, getRecord(core.db, core.context, n), (r) => can(p.principal, "write", parseScopeKey(r.scope_key)) || readable(p, r));
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
      const row = access.find(call, "read", "record", id, getRecord(core.db, core.context, n), (r) => can(call.principal, "write", parseScopeKey(r.scope_key)) || readable(call, r));
      if (row.status === "forgotten") throw new NotFoundError("record", id);
      access.assert(call, "write", parseScopeKey(row.scope_key));
      const now = core.now();
      const removals = core.transaction(() => {
        // The decision trace names the record, never its words: erasure would only have to cut them again.
        const traceId = insertTrace(core.db, core.context, "decision_trace", actorOf(call), row.scope_key, {
          source: { kind: "forget", id: null },
          outcomes: [{ record_id: toId("record", row.id), outcome: "forgotten" }],
        }, now);
        updateRecord(core.db, row.id, {
          status: "forgotten",
          updated_at: now,
          history: appendHistory(row, { at: now, event: "forgotten", trace: traceId }),
        });
        addEdge(core.db, core.context, { type: "trace", id: traceId }, "forgot", { type: "record", id: row.id }, now);
        // Its words go, and those of the turn it was extracted from: store/erase.ts.
        return eraseRecords(core.db, core.context, [row.id], now, { turns: true }).removals;
      });
      for (const r of removals) core.vectorIndex("records", r.model).notify({ seq: r.seq, label: r.label, op: "remove" });
      return toPublicRecord(getRecord(core.db, core.context, row.id)!);
    },
  };
}
