import { sql } from "../store/database.js";
import type { Access } from "../access/access.js";
import { actorOf, can, canReadRecord, readableScopeKeys } from "../access/access.js";
import type { Core } from "../core.js";
import { callContextSchema, parseInput, stateListSchema, toEpochMs, type CallContext, type StateListOptions } from "../config/schemas.js";
import { NotFoundError } from "../errors.js";
import { eraseRecords } from "../store/erase.js";
import { addEdge } from "../store/graph.js";
import { parseId, toId } from "../store/ids.js";
import { appendHistory, getRecord, updateRecord, type RecordRow } from "../store/records.js";
import { parseScopeKey } from "../store/scope.js";
import { insertTrace } from "../store/traces.js";
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
      return toPublicRecord(access.find(call, "read", "record", id, getRecord(core.db, core.context, n), (row) => readable(call, row)));
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
