import type { Access } from "../access/access.js";
import { can } from "../access/access.js";
import type { Core } from "../core.js";
import { callContextSchema, parseInput, tracesListSchema, type CallContext, type TracesListOptions } from "../config/schemas.js";
import type { EdgeRow, TraceRow } from "../store/store.js";
import { ID_PREFIX, parseId, toId } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import { iso } from "../state/public-record.js";
import { TraceCutter } from "./cut-to-grants.js";
import type { Trace, TraceEdge, TraceWithEdges } from "../types/trace.js";

export type { Trace, TraceEdge } from "../types/trace.js";

/** What the traces namespace uses. */
export type TracesDeps = Pick<Core, "store">;

const PREFIX: Record<string, keyof typeof ID_PREFIX | undefined> = { record: "record", trace: "trace", turn: "turn", chunk: "chunk", document: "document" };

function nodeId(type: string, id: string | number): string {
  const kind = PREFIX[type];
  return kind ? toId(kind, Number(id)) : String(id);
}

function toTrace(row: TraceRow, payload: Record<string, unknown>, redacted: boolean): Trace {
  return {
    id: toId("trace", row.id),
    kind: row.kind,
    principal: row.principal,
    on_behalf_of: row.on_behalf_of,
    session: row.session,
    scope: row.scope_key ? { ...parseScopeKey(row.scope_key) } : null,
    created_at: iso(row.created_at),
    // The payload was written by the code that writes each kind (types/trace.ts describes them).
    payload,
    redacted,
  } as unknown as Trace;
}

function toEdges(out: EdgeRow[], inbound: EdgeRow[]): TraceEdge[] {
  return [
    ...out.map((e) => ({ kind: e.kind, direction: "out" as const, node: { type: e.dst_type, id: nodeId(e.dst_type, e.dst_id) } })),
    ...inbound.map((e) => ({ kind: e.kind, direction: "in" as const, node: { type: e.src_type, id: nodeId(e.src_type, e.src_id) } })),
  ];
}

/**
 * Traces as graph nodes. Holders of manage see every trace; other principals see only traces whose scope lies
 * within one of their read grants.
 */
export function createTracesApi(core: TracesDeps, access: Access, guard: (method: string) => void) {
  const visible = (call: CallContext, row: TraceRow) =>
    !call.principal || can(call.principal, "manage", {}) || (row.scope_key !== null && can(call.principal, "read", parseScopeKey(row.scope_key)));
  return {
    async list(options: TracesListOptions = {}): Promise<{ traces: Trace[]; cursor: string | null }> {
      guard("traces.list");
      const o = parseInput(tracesListSchema, options, "options");
      const filter = { ...(o.kind ? { kind: o.kind } : {}), ...(o.session ? { session: o.session } : {}), ...(o.cursor ? { before: Number(o.cursor) } : {}), limit: o.limit + 1 };
      const everything = !o.principal || can(o.principal, "manage", {});
      // A narrower principal: the grant filter runs in SQL, so that one page costs one query however few of the
      // Context's traces it may see. `visible` re-checks every row with the one access rule.
      const within = everything
        ? []
        : o.principal!.grants.filter((g) => g.permissions.includes("read") || g.permissions.includes("manage")).map((g) => g.scope);
      const rows = (
        everything ? await core.store.listTraces({ ...filter, within: [], all: true }) : await core.store.listTraces({ ...filter, within })
      ).filter((row) => visible(o, row));
      const page = rows.slice(0, o.limit);
      const cutter = new TraceCutter(core.store, o.principal, (row) => visible(o, row));
      await cutter.prepare(page);
      const traces: Trace[] = [];
      for (const row of page) {
        const { payload, redacted } = await cutter.cut(row);
        traces.push(toTrace(row, payload, redacted));
      }
      return { traces, cursor: rows.length > o.limit ? String(page[page.length - 1]!.id) : null };
    },
    /** One trace with its edges (out: what it considered, returned, created…; in: what points at it). */
    async get(id: string, ctx?: CallContext): Promise<TraceWithEdges> {
      guard("traces.get");
      const n = parseId("trace", id);
      const call = parseInput(callContextSchema, ctx ?? {}, "traces.get(…, ctx)");
      const found = await core.store.getTrace(n);
      const row = access.find(call, found?.scope_key === null ? "manage" : "read", "trace", id, found, (r) => visible(call, r));
      const cutter = new TraceCutter(core.store, call.principal, (r) => visible(call, r));
      const { payload, edges, redacted } = await cutter.cut(row, await core.store.traceEdges(n));
      return { ...toTrace(row, payload, redacted), edges: toEdges(edges!.out, edges!.in) };
    },
  };
}
