import { sqlPluck, type Db } from "./database.js";


/**
 * Live records of one scope that could conflict with a record of `subject`'s `attributes`: the same subject and
 * attribute (or its opposite). An index lookup, whatever the size of the Context.
 */
export function sameSlotIds(db: Db, context: string, scopeKey: string, subject: string, attributes: readonly string[], except: number): number[] {
  if (attributes.length === 0) return [];
  return (
    sqlPluck(
      db,
      `SELECT id FROM records WHERE context = ? AND scope_key = ? AND subject = ? AND attribute IN (${attributes.map(() => "?").join(",")})
         AND status IN ('current', 'flagged') AND id != ? ORDER BY id`,
    ).all(context, scopeKey, subject, ...attributes, except) as number[]
  );
}

/** Ids of the live records of one exact scope that have a vector of `model` (the records_by_scope index). */
export function liveIdsInScope(db: Db, context: string, scopeKey: string, model: string): number[] {
  return sqlPluck(
    db,
    "SELECT id FROM records WHERE context = ? AND scope_key = ? AND status IN ('current', 'flagged') AND embedding_model = ?",
  ).all(context, scopeKey, model) as number[];
}

