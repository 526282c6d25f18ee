import { sql } from "../store/database.js";
import type { Access } from "../access/access.js";
import { can } from "../access/access.js";
import type { Core } from "../core.js";
import { callContextSchema, parseInput, tracesListSchema, type CallContext, type Principal, type TracesListOptions } from "../config/schemas.js";
import { edgesFrom, edgesTo, type EdgeRow } from "../store/graph.js";
import { ID_PREFIX, parseId, toId } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import { getTrace, listTraces, type TraceKind, type TraceRow } from "../store/traces.js";
import { iso } from "../state/public-record.js";
import { TraceCutter } from "./cut-to-grants.js";
import type { Trace, TraceEdge, TraceWithEdges } from "../types/trace.js";

export type { Trace, TraceEdge } from "../types/trace.js";

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
 * Traces whose scope lies within one of the principal's read (or manage) grants, newest first: the SQL form of
 * `can(principal, "read", traceScope)`. Dimension names are validated (letters, digits, _) and values are bound.
 */
function listWithinGrants(
  core: Core,
  principal: Principal,
  filter: { kind?: TraceKind; session?: string; before?: number; limit: number },
): TraceRow[] {
  const grants = principal.grants.filter((g) => g.permissions.includes("read") || g.permissions.includes("manage"));
  if (grants.length === 0) return [];
  const where = ["context = ?", "scope_key IS NOT NULL"];
  const params: unknown[] = [core.context];
  if (filter.kind) (where.push("kind = ?"), params.push(filter.kind));
  if (filter.session) (where.push("session = ?"), params.push(filter.session));
  if (filter.before !== undefined) (where.push("id < ?"), params.push(filter.before));
  const anyGrant = grants.map((g) => {
    const dims = Object.entries(g.scope);
    if (dims.length === 0) return "1";
    for (const [dim, value] of dims) params.push(`$."${dim}"`, value);
    return `(${dims.map(() => "json_extract(scope_key, ?) = ?").join(" AND ")})`;
  });
  where.push(`(${anyGrant.join(" OR ")})`);
  return sql(core.db, `SELECT * FROM traces WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`)
    .all(...params, filter.limit) as TraceRow[];
}

/**
 * Traces as graph nodes. Holders of manage see every trace; other principals see only traces whose scope lies
 * within one of their read grants.
 */
export function createTracesApi(core: Core, access: Access, guard: (method: string) => void) {
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
      const rows = (everything ? listTraces(core.db, core.context, filter) : listWithinGrants(core, o.principal!, filter)).filter((row) => visible(o, row));
      const page = rows.slice(0, o.limit);
      const cutter = new TraceCutter(core.db, core.context, o.principal, (row) => visible(o, row));
      cutter.prepare(page);
      const traces = page.map((row) => {
        const { payload, redacted } = cutter.cut(row);
        return toTrace(row, payload, redacted);
      });
      return { traces, cursor: rows.length > o.limit ? String(page[page.length - 1]!.id) : null };
    },
    /** One trace with its edges (out: what it considered, returned, created…; in: what points at it). */
    async get(id: string, ctx?: CallContext): Promise<TraceWithEdges> {
      guard("traces.get");
      const n = parseId("trace", id);
      const call = parseInput(callContextSchema, ctx ?? {}, "traces.get(…, ctx)");
      const found = getTrace(core.db, core.context, n);
      const row = access.find(call, found?.scope_key === null ? "manage" : "read", "trace", id, found, (r) => visible(call, r));
      const cutter = new TraceCutter(core.db, core.context, call.principal, (r) => visible(call, r));
      const { payload, edges, redacted } = cutter.cut(row, { out: edgesFrom(core.db, "trace", n), in: edgesTo(core.db, "trace", n) });
      return { ...toTrace(row, payload, redacted), edges: toEdges(edges!.out, edges!.in) };
    },
  };
}
