import type { RetentionRule } from "../../config/schemas.js";
import { extendedExpiry } from "../../lifecycle/retention.js";
import type { RecordRow } from "../records.js";
import { parseScopeKey } from "../scope.js";
import type { RecordFilter, RecordListFilter } from "../store.js";
import { one, query, type Queryable } from "./connection.js";

/** Every column of `records` a RecordRow holds (not the generated `tsv`). */
export const RECORD_COLUMNS = `id, context, scope_key, kind, memory_category, subject, attribute, value, cardinality, text, norm_text,
  confidence, trust, importance, status, superseded_by, source_kind, source_id, proof_count, derived_from, history, metadata,
  embedding_model, created_at, updated_at, last_accessed_at, last_decay_at, expires_at, source_key, erased_at`;

/**
 * The condition (over `records r`) for what a read may see: live, unexpired at `now`, in one of the scope keys,
 * optionally minus one id. Placeholders start at `$start`; returns the SQL and its values.
 */
export function visibleCondition(context: string, filter: RecordFilter, start: number): { sql: string; values: unknown[] } {
  const values: unknown[] = [context, [...filter.scopeKeys]];
  let sql = `r.context = $${start} AND r.scope_key = ANY($${start + 1}::text[]) AND r.status IN ('current', 'flagged')`;
  if (!filter.includeExpired) {
    values.push(filter.now);
    sql += ` AND (r.expires_at IS NULL OR r.expires_at > $${start + values.length - 1})`;
  }
  if (filter.exceptId !== undefined) {
    values.push(filter.exceptId);
    sql += ` AND r.id <> $${start + values.length - 1}`;
  }
  return { sql, values };
}

export async function getRecord(db: Queryable, context: string, id: number): Promise<RecordRow | undefined> {
  return one<RecordRow>(db, `SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1 AND context = $2`, [id, context]);
}

export async function getRecords(db: Queryable, context: string, ids: readonly number[]): Promise<RecordRow[]> {
  if (ids.length === 0) return [];
  return query<RecordRow>(db, `SELECT ${RECORD_COLUMNS} FROM records WHERE id = ANY($1::bigint[]) AND context = $2`, [[...ids], context]);
}

export async function listRecords(db: Queryable, context: string, filter: RecordListFilter): Promise<RecordRow[]> {
  const values: unknown[] = [context, [...filter.scopeKeys]];
  const where = ["context = $1", "scope_key = ANY($2::text[])"];
  if (filter.status) {
    values.push(filter.status);
    where.push(`status = $${values.length}`);
  } else {
    values.push(filter.now);
    where.push(`status IN ('current', 'flagged') AND (expires_at IS NULL OR expires_at > $${values.length})`);
  }
  if (filter.memoryCategory) {
    values.push(filter.memoryCategory);
    where.push(`memory_category = $${values.length}`);
  }
  if (filter.expiresBefore !== undefined) {
    values.push(filter.expiresBefore);
    where.push(`expires_at IS NOT NULL AND expires_at < $${values.length}`);
  }
  if (filter.before !== undefined) {
    values.push(filter.before);
    where.push(`id < $${values.length}`);
  }
  values.push(filter.limit);
  return query<RecordRow>(db, `SELECT ${RECORD_COLUMNS} FROM records WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT $${values.length}`, values);
}

/**
 * importance × factor (capped at 1) and last access = now; returns the records after, in `ids` order. With
 * `extendLife` (they were used in an answer), each gets a full TTL from now (lifecycle/survival.ts) under `rules`.
 */
export async function reinforce(
  db: Queryable,
  context: string,
  ids: readonly number[],
  factor: number,
  now: number,
  extendLife?: { rules: readonly RetentionRule[] },
): Promise<RecordRow[]> {
  if (ids.length === 0) return [];
  const rows = await reinforceRows(db, context, ids, factor, now);
  if (extendLife) {
    const extended: { row: RecordRow; next: number }[] = [];
    for (const row of rows) {
      const next = extendedExpiry(extendLife.rules, { scope: parseScopeKey(row.scope_key), memory_category: row.memory_category, expires_at: row.expires_at }, now);
      if (next !== undefined) extended.push({ row, next });
    }
    if (extended.length > 0) {
      // One statement for all of them (a reuse extends every record it cites).
      await query(
        db,
        `UPDATE records r SET expires_at = x.next FROM unnest($1::bigint[], $2::bigint[]) AS x(id, next)
          WHERE r.id = x.id AND r.expires_at IS NOT NULL AND r.expires_at < x.next`,
        [extended.map((e) => e.row.id), extended.map((e) => e.next)],
      );
      for (const { row, next } of extended) row.expires_at = next;
    }
  }
  return rows;
}

async function reinforceRows(db: Queryable, context: string, ids: readonly number[], factor: number, now: number): Promise<RecordRow[]> {
  const rows = await query<RecordRow>(
    db,
    `UPDATE records SET importance = LEAST(1.0, importance * $1), last_accessed_at = $2
       WHERE id = ANY($3::bigint[]) AND context = $4 RETURNING ${RECORD_COLUMNS}`,
    [factor, now, [...ids], context],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)).filter((r): r is RecordRow => !!r);
}

export async function populatedScopeKeys(db: Queryable, context: string, scopeKeys: readonly string[]): Promise<string[]> {
  const rows = await query<{ scope_key: string }>(
    db,
    `SELECT DISTINCT scope_key FROM records WHERE context = $1 AND scope_key = ANY($2::text[]) AND status IN ('current', 'flagged')
     UNION SELECT DISTINCT scope_key FROM chunks WHERE context = $1 AND scope_key = ANY($2::text[])`,
    [context, [...scopeKeys]],
  );
  return rows.map((r) => r.scope_key);
}

export async function entityNames(db: Queryable, recordIds: readonly number[]): Promise<Map<number, string[]>> {
  const names = new Map<number, string[]>();
  if (recordIds.length === 0) return names;
  const rows = await query<{ record_id: number; name: string }>(
    db,
    "SELECT re.record_id, e.name FROM record_entities re JOIN entities e ON e.id = re.entity_id WHERE re.record_id = ANY($1::bigint[]) ORDER BY e.id",
    [[...recordIds]],
  );
  for (const row of rows) {
    const list = names.get(row.record_id) ?? [];
    list.push(row.name);
    names.set(row.record_id, list);
  }
  return names;
}

export async function recordsOfTurns(db: Queryable, context: string, turnIds: readonly number[], filter: RecordFilter): Promise<number[]> {
  if (turnIds.length === 0) return [];
  const visible = visibleCondition(context, filter, 2);
  const rows = await query<{ id: number }>(
    db,
    `SELECT r.id FROM records r WHERE r.source_kind = 'turn' AND r.source_id = ANY($1::text[]) AND ${visible.sql} ORDER BY r.id`,
    [turnIds.map((t) => `turn_${t}`), ...visible.values],
  );
  return rows.map((r) => r.id);
}

/** Visible records of one kind, most important then newest first. */
export async function recordsOfKind(db: Queryable, context: string, filter: RecordFilter, kind: RecordRow["kind"], limit: number): Promise<RecordRow[]> {
  const visible = visibleCondition(context, filter, 1);
  return query<RecordRow>(
    db,
    `SELECT ${RECORD_COLUMNS} FROM records r WHERE ${visible.sql} AND r.kind = $${visible.values.length + 1}
       ORDER BY r.importance DESC, r.id DESC LIMIT $${visible.values.length + 2}`,
    [...visible.values, kind, limit],
  );
}

/** Every scope key holding a record of the Context (any status). */
export async function recordScopeKeys(db: Queryable, context: string): Promise<string[]> {
  return (await query<{ scope_key: string }>(db, "SELECT DISTINCT scope_key FROM records WHERE context = $1 ORDER BY scope_key", [context])).map((r) => r.scope_key);
}
