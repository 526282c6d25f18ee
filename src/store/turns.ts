import { sql, sqlPluck, type Db } from "./database.js";

export type TurnStatus = "pending" | "extracted" | "failed";

export interface TurnRow {
  id: number;
  context: string;
  scope_key: string;
  role: "user" | "assistant" | "system" | "tool";
  content: string;
  speaker: string | null;
  occurred_at: number | null;
  metadata: string | null;
  session: string | null;
  principal: string | null;
  on_behalf_of: string | null;
  status: TurnStatus;
  attempts: number;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export function insertTurn(db: Db, turn: Omit<TurnRow, "id" | "status" | "attempts" | "error" | "updated_at">): number {
  const info = sql(db, 
      `INSERT INTO turns (context, scope_key, role, content, speaker, occurred_at, metadata, session, principal, on_behalf_of,
         status, attempts, created_at, updated_at)
       VALUES (@context, @scope_key, @role, @content, @speaker, @occurred_at, @metadata, @session, @principal, @on_behalf_of,
         'pending', 0, @created_at, @created_at)`,
    )
    .run(turn);
  return Number(info.lastInsertRowid);
}

export function getTurn(db: Db, context: string, id: number): TurnRow | undefined {
  return sql(db, "SELECT * FROM turns WHERE id = ? AND context = ?").get(id, context) as TurnRow | undefined;
}

export function markTurn(db: Db, id: number, status: TurnStatus, now: number, error: string | null = null): void {
  sql(db, "UPDATE turns SET status = ?, error = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?").run(status, error, now, id);
}

/**
 * Records a failed extraction attempt: the turn stays `pending`, or becomes `failed` once it has failed
 * `maxAttempts` times. Returns the new status.
 */
export function markAttemptFailed(db: Db, id: number, now: number, error: string, maxAttempts: number): TurnStatus {
  return sqlPluck(
    db,
    `UPDATE turns SET status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END, error = ?, attempts = attempts + 1,
       updated_at = ? WHERE id = ? RETURNING status`,
  ).get(maxAttempts, error, now, id) as TurnStatus;
}

export function listTurns(db: Db, context: string, filter: { status?: TurnStatus; scopeKeys?: readonly string[]; limit: number; after?: number }): TurnRow[] {
  const where = ["context = ?"];
  const params: unknown[] = [context];
  if (filter.status) (where.push("status = ?"), params.push(filter.status));
  if (filter.after) (where.push("id > ?"), params.push(filter.after));
  if (filter.scopeKeys) {
    where.push(`scope_key IN (${filter.scopeKeys.map(() => "?").join(",")})`);
    params.push(...filter.scopeKeys);
  }
  return sql(db, `SELECT * FROM turns WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`).all(...params, filter.limit) as TurnRow[];
}
