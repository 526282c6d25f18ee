import type { FactsWrite, FactsWritten, PassageRow, QueryText, Scored, TurnRow, TurnStatus } from "../store.js";
import { queryTerms } from "../../pipeline/recall/normalize.js";
import { one, query, type Queryable } from "./connection.js";
import { reconcile, type Tx } from "./reconcile-sql.js";

// Turns: stored pending, extracted once, and read back as passages (store/passages.ts has the rule).

export const TURN_COLUMNS = `id, context, scope_key, role, content, speaker, occurred_at, metadata, session, principal, on_behalf_of, status,
  attempts, error, created_at, updated_at`;

export type NewTurn = Omit<TurnRow, "id" | "status" | "attempts" | "error" | "updated_at">;

/** A passage (over `turns t`) retrievable at `$4`: see store/passages.ts for the rule. */
const LIVE_PASSAGE = `(CASE WHEN t.facts > 0
    THEN EXISTS (SELECT 1 FROM records r WHERE r.source_kind = 'turn' AND r.source_id = 'turn_' || t.id AND r.context = t.context
                   AND r.status NOT IN ('expired', 'forgotten') AND (r.expires_at IS NULL OR r.expires_at > $4))
    ELSE (t.passage_expires_at IS NULL OR t.passage_expires_at > $4) END)`;

export async function insertTurn(tx: Tx, turn: NewTurn, passageExpiresAt: number | null): Promise<TurnRow> {
  return (await one<TurnRow>(
    tx.client,
    `INSERT INTO turns (context, scope_key, role, content, speaker, occurred_at, metadata, session, principal, on_behalf_of,
       status, attempts, created_at, updated_at, passage_expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 0, $11, $11, $12) RETURNING ${TURN_COLUMNS}`,
    [tx.context, turn.scope_key, turn.role, turn.content, turn.speaker, turn.occurred_at, turn.metadata, turn.session,
      turn.principal, turn.on_behalf_of, turn.created_at, passageExpiresAt],
  ))!;
}

export async function getTurn(db: Queryable, context: string, id: number): Promise<TurnRow | undefined> {
  return one<TurnRow>(db, `SELECT ${TURN_COLUMNS} FROM turns WHERE id = $1 AND context = $2`, [id, context]);
}

export async function listTurns(db: Queryable, context: string, filter: { status?: TurnStatus; scopeKeys?: readonly string[]; limit: number; after?: number }): Promise<TurnRow[]> {
  const values: unknown[] = [context];
  const where = ["context = $1"];
  if (filter.status) (values.push(filter.status), where.push(`status = $${values.length}`));
  if (filter.after) (values.push(filter.after), where.push(`id > $${values.length}`));
  if (filter.scopeKeys) (values.push([...filter.scopeKeys]), where.push(`scope_key = ANY($${values.length}::text[])`));
  values.push(filter.limit);
  return query<TurnRow>(db, `SELECT ${TURN_COLUMNS} FROM turns WHERE ${where.join(" AND ")} ORDER BY id LIMIT $${values.length}`, values);
}

export async function failTurnAttempt(tx: Tx, id: number, error: string, maxAttempts: number, now: number): Promise<TurnStatus> {
  return (await one<{ status: TurnStatus }>(
    tx.client,
    `UPDATE turns SET status = CASE WHEN attempts + 1 >= $1 THEN 'failed' ELSE 'pending' END, error = $2, attempts = attempts + 1,
       updated_at = $3 WHERE id = $4 AND context = $5 RETURNING status`,
    [maxAttempts, error, now, id, tx.context],
  ))!.status;
}

/** Reconciles a turn's facts and marks it extracted; undefined when it already was (the row lock makes a second caller wait). */
export async function extractTurn(tx: Tx, turnId: number, write: FactsWrite): Promise<FactsWritten | undefined> {
  const turn = await one<{ status: TurnStatus }>(tx.client, "SELECT status FROM turns WHERE id = $1 AND context = $2 FOR UPDATE", [turnId, tx.context]);
  if (!turn || turn.status === "extracted") return undefined;
  const written = await reconcile(tx, write);
  await query(
    tx.client,
    `UPDATE turns SET status = 'extracted', error = NULL, attempts = attempts + 1, updated_at = $1,
       facts = (SELECT count(*) FROM records WHERE source_kind = 'turn' AND source_id = $2) WHERE id = $3`,
    [write.now, `turn_${turnId}`, turnId],
  );
  return written;
}

/**
 * Passages matching any of the terms, ranked by ts_rank_cd (SQLite: BM25), live at `now`, best first. Ranked
 * first, then checked for life in rank order until `candidates` pass (`OFFSET 0` keeps the check out of the
 * ranking): a turn with facts is live while one of its records is, a lookup per turn that a Context-wide query
 * matching 16k turns made 6k times where ~50 do.
 */
export async function passageCandidates(db: Queryable, context: string, q: { text: QueryText; scopeKeys: readonly string[]; now: number; candidates: number }): Promise<Scored[]> {
  const terms = queryTerms(q.text.query, q.text.keywords).map((t) => t.replace(/[^\p{L}\p{N}]+/gu, " ").trim()).filter(Boolean);
  if (terms.length === 0) return [];
  const rows = await query<{ id: number; score: number }>(
    db,
    `WITH q AS (SELECT string_agg('(' || p::text || ')', ' | ')::tsquery AS query
                  FROM (SELECT plainto_tsquery('english', x) AS p FROM unnest($1::text[]) AS x) AS terms WHERE p::text <> '')
     SELECT t.id, t.score FROM (
       SELECT t.id, t.context, t.facts, t.passage_expires_at, ts_rank_cd(t.tsv, q.query) AS score FROM turns t, q
        WHERE t.tsv @@ q.query AND t.context = $2 AND t.scope_key = ANY($3::text[])
        ORDER BY score DESC, t.id DESC OFFSET 0) AS t
      WHERE ${LIVE_PASSAGE} LIMIT $5`,
    [terms, context, [...q.scopeKeys], q.now, q.candidates],
  );
  // In rank order as the subquery returned them; sorted again here, since SQL promises no order without ORDER BY.
  return rows.map((r) => ({ id: r.id, score: r.score })).sort((a, b) => b.score - a.score || b.id - a.id);
}

export async function livePassages(db: Queryable, context: string, turnIds: readonly number[], scopeKeys: readonly string[], now: number): Promise<PassageRow[]> {
  if (turnIds.length === 0) return [];
  return query<PassageRow>(
    db,
    `SELECT t.id, t.scope_key, t.role, t.content, t.speaker, t.occurred_at, t.metadata, t.created_at, t.passage_expires_at, t.facts
       FROM turns t WHERE t.id = ANY($1::bigint[]) AND t.context = $2 AND t.scope_key = ANY($3::text[]) AND ${LIVE_PASSAGE}`,
    [[...turnIds], context, [...scopeKeys], now],
  );
}
