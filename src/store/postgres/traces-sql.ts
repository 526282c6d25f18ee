import type { EdgeRow, NodeType } from "../graph.js";
import type { TraceListFilter, TraceRow } from "../store.js";
import { one, query, type Queryable } from "./connection.js";
import { addEdge, type Tx } from "./reconcile-sql.js";

// Traces and their edges: the reads of the traces namespace and redaction, and the few writes that are not part
// of a larger one.

export const EDGE_COLUMNS = "id, context, src_type, src_id, kind, dst_type, dst_id, weight, created_at";
export const TRACE_COLUMNS = "id, context, kind, principal, on_behalf_of, session, scope_key, payload, created_at";

const SCOPED = { record: "records", turn: "turns", chunk: "chunks", document: "documents", trace: "traces" } as const;

export async function getTrace(db: Queryable, context: string, id: number): Promise<TraceRow | undefined> {
  return one<TraceRow>(db, `SELECT ${TRACE_COLUMNS} FROM traces WHERE id = $1 AND context = $2`, [id, context]);
}

/**
 * Traces newest first. With `all`, every trace of the Context; otherwise scoped ones only, within one of the
 * grants (each of its dimensions equal in the trace's scope key), none for no grant.
 */
export async function listTraces(db: Queryable, context: string, filter: TraceListFilter): Promise<TraceRow[]> {
  if (!filter.all && filter.within.length === 0) return [];
  const values: unknown[] = [context];
  const where = ["context = $1"];
  const bind = (value: unknown) => (values.push(value), `$${values.length}`);
  if (filter.kind) where.push(`kind = ${bind(filter.kind)}`);
  if (filter.session) where.push(`session = ${bind(filter.session)}`);
  if (filter.before !== undefined) where.push(`id < ${bind(filter.before)}`);
  if (!filter.all) {
    where.push("scope_key IS NOT NULL");
    // Scope keys are JSON objects (store/scope.ts); dimension names and values are both bound.
    const anyScope = filter.within.map((scope) => {
      const dims = Object.entries(scope);
      if (dims.length === 0) return "TRUE";
      return `(${dims.map(([dim, value]) => `(CASE WHEN scope_key LIKE '{%}' THEN scope_key::jsonb END) ->> ${bind(dim)} = ${bind(value)}`).join(" AND ")})`;
    });
    where.push(`(${anyScope.join(" OR ")})`);
  }
  return query<TraceRow>(db, `SELECT ${TRACE_COLUMNS} FROM traces WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ${bind(filter.limit)}`, values);
}

export async function traceEdges(db: Queryable, context: string, id: number): Promise<{ out: EdgeRow[]; in: EdgeRow[] }> {
  const [out, into] = await Promise.all([
    query<EdgeRow>(db, `SELECT ${EDGE_COLUMNS} FROM edges WHERE src_type = 'trace' AND src_id = $1 AND context = $2 ORDER BY id`, [id, context]),
    query<EdgeRow>(db, `SELECT ${EDGE_COLUMNS} FROM edges WHERE dst_type = 'trace' AND dst_id = $1 AND context = $2 ORDER BY id`, [String(id), context]),
  ]);
  return { out, in: into };
}

export async function tracesByIds(db: Queryable, context: string, ids: readonly number[]): Promise<TraceRow[]> {
  if (ids.length === 0) return [];
  return query<TraceRow>(db, `SELECT ${TRACE_COLUMNS} FROM traces WHERE id = ANY($1::bigint[]) AND context = $2 ORDER BY id`, [[...ids], context]);
}

export async function edgesOfTraces(db: Queryable, context: string, ids: readonly number[]): Promise<EdgeRow[]> {
  if (ids.length === 0) return [];
  return query<EdgeRow>(db, `SELECT ${EDGE_COLUMNS} FROM edges WHERE src_type = 'trace' AND src_id = ANY($1::bigint[]) AND context = $2 ORDER BY id`, [[...ids], context]);
}

export async function scopeKeysOf(db: Queryable, context: string, kind: keyof typeof SCOPED, ids: readonly number[]): Promise<Map<number, string | null>> {
  if (ids.length === 0) return new Map();
  const rows = await query<{ id: number; scope_key: string | null }>(db, `SELECT id, scope_key FROM ${SCOPED[kind]} WHERE id = ANY($1::bigint[]) AND context = $2`, [[...ids], context]);
  return new Map(rows.map((r) => [r.id, r.scope_key]));
}

export async function addTraceEdges(tx: Tx, traceId: number, edges: readonly { kind: string; to: { type: NodeType; id: number | string } }[], now: number): Promise<void> {
  for (const e of edges) await addEdge(tx, { type: "trace", id: traceId }, e.kind, e.to, now);
}

export async function updateTracePayload(tx: Tx, id: number, payload: unknown): Promise<void> {
  await query(tx.client, "UPDATE traces SET payload = $1 WHERE id = $2 AND context = $3", [JSON.stringify(payload), id, tx.context]);
}
