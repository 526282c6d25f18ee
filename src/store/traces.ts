import { sql, type Db } from "./database.js";

export type TraceKind = "retrieval_trace" | "decision_trace" | "response_trace" | "sweep_trace";

export interface TraceRow {
  id: number;
  context: string;
  kind: TraceKind;
  principal: string | null;
  on_behalf_of: string | null;
  session: string | null;
  scope_key: string | null;
  payload: string;
  created_at: number;
}

export interface TraceActor {
  principal: string | null;
  onBehalfOf: string | null;
  session: string | null;
}

export function insertTrace(
  db: Db,
  context: string,
  kind: TraceKind,
  actor: TraceActor,
  scopeKey: string | null,
  payload: unknown,
  now: number,
): number {
  const info = sql(db, 
      "INSERT INTO traces (context, kind, principal, on_behalf_of, session, scope_key, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .run(context, kind, actor.principal, actor.onBehalfOf, actor.session, scopeKey, JSON.stringify(payload), now);
  return Number(info.lastInsertRowid);
}

export function getTrace(db: Db, context: string, id: number): TraceRow | undefined {
  return sql(db, "SELECT * FROM traces WHERE id = ? AND context = ?").get(id, context) as TraceRow | undefined;
}

export function updateTracePayload(db: Db, id: number, payload: unknown): void {
  sql(db, "UPDATE traces SET payload = ? WHERE id = ?").run(JSON.stringify(payload), id);
}

export function listTraces(
  db: Db,
  context: string,
  filter: { kind?: TraceKind; session?: string; before?: number; scopeKeys?: readonly string[]; limit: number },
): TraceRow[] {
  const where = ["context = ?"];
  const params: unknown[] = [context];
  if (filter.kind) (where.push("kind = ?"), params.push(filter.kind));
  if (filter.session) (where.push("session = ?"), params.push(filter.session));
  if (filter.before) (where.push("id < ?"), params.push(filter.before));
  if (filter.scopeKeys) {
    where.push(`scope_key IN (${filter.scopeKeys.map(() => "?").join(",")})`);
    params.push(...filter.scopeKeys);
  }
  return sql(db, `SELECT * FROM traces WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`)
    .all(...params, filter.limit) as TraceRow[];
}
