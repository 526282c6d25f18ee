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

/** Rewrites a trace's payload; with `scopeOfRecord`, its scope becomes that record's. Inside the caller's transaction. */
export function updateTracePayload(db: Db, id: number, payload: unknown, scopeOfRecord?: number): void {
  if (scopeOfRecord === undefined) sql(db, "UPDATE traces SET payload = ? WHERE id = ?").run(JSON.stringify(payload), id);
  else sql(db, "UPDATE traces SET scope_key = (SELECT scope_key FROM records WHERE id = ?), payload = ? WHERE id = ?").run(scopeOfRecord, JSON.stringify(payload), id);
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

/**
 * The decision trace that extracted a turn (`turn_<n>`), with its outcomes: what a caller whose own extraction
 * of the turn lost the race to another (a background retry, another process) is answered with.
 */
export function extractionOfTurn(db: Db, context: string, turnId: string): { traceId: number; outcomes: { record_id: string; outcome: string }[] } | undefined {
  const row = sql(
    db,
    `SELECT id, payload FROM traces WHERE context = ? AND kind = 'decision_trace'
       AND json_extract(payload, '$.source.kind') = 'turn' AND json_extract(payload, '$.source.id') = ? ORDER BY id DESC LIMIT 1`,
  ).get(context, turnId) as { id: number; payload: string } | undefined;
  if (!row) return undefined;
  const payload = JSON.parse(row.payload) as { outcomes?: { record_id: string; outcome: string }[] };
  return { traceId: row.id, outcomes: payload.outcomes ?? [] };
}
