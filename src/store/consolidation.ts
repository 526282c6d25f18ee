import { sql, sqlPluck, type Db } from "./database.js";
import { tryParseId } from "./ids.js";

/** A group of live records of one scope about the same subject and attribute. */
export interface Cluster {
  scopeKey: string;
  subject: string;
  attribute: string;
  /** Member ids, oldest first. */
  ids: number[];
}

/**
 * Live facts (observations excluded) grouped by scope, subject and attribute, for groups of at least
 * `minSize`; the groups most recently added to first, at most `limit`.
 */
export function relatedClusters(db: Db, context: string, now: number, minSize: number, limit: number): Cluster[] {
  const rows = sql(
    db,
    `SELECT scope_key, subject, attribute, GROUP_CONCAT(id) AS ids FROM records
       WHERE context = ? AND status = 'current' AND kind NOT IN ('observation', 'uncertainty') AND subject IS NOT NULL AND attribute IS NOT NULL
         AND (expires_at IS NULL OR expires_at > ?)
       GROUP BY scope_key, subject, attribute HAVING COUNT(*) >= ? ORDER BY MAX(id) DESC LIMIT ?`,
  ).all(context, now, minSize, limit) as { scope_key: string; subject: string; attribute: string; ids: string }[];
  return rows.map((r) => ({
    scopeKey: r.scope_key,
    subject: r.subject,
    attribute: r.attribute,
    ids: r.ids
      .split(",")
      .map(Number)
      .sort((a, b) => a - b),
  }));
}

/** The last sweep_trace of `sweep` in the Context, with its payload. */
export function lastSweep(db: Db, context: string, sweep: string): { id: number; payload: Record<string, unknown> } | undefined {
  const row = sql(
    db,
    "SELECT id, payload FROM traces WHERE context = ? AND kind = 'sweep_trace' AND json_extract(payload, '$.sweep') = ? ORDER BY id DESC LIMIT 1",
  ).get(context, sweep) as { id: number; payload: string } | undefined;
  return row ? { id: row.id, payload: JSON.parse(row.payload) as Record<string, unknown> } : undefined;
}

/**
 * Records each response trace after `afterTrace` used, counted over the traces: the `used` ids the response
 * stage reported when the trace holds them, else the records its retrieval returned (`used_retrieval` →
 * `returned`). A cached answer counts for the records of the answer it reused (`reused_from`). Answers that said
 * they did not know (`noAnswer`) count for nothing. Returns the counts and the last trace id read.
 */
export function recordsUsedInAnswers(
  db: Db,
  context: string,
  afterTrace: number,
  limit: number,
  noAnswer: string,
): { uses: Map<number, number>; answers: number; through: number } {
  const traces = sql(db, "SELECT id, payload FROM traces WHERE context = ? AND kind = 'response_trace' AND id > ? ORDER BY id LIMIT ?").all(
    context,
    afterTrace,
    limit,
  ) as { id: number; payload: string }[];
  const reusedFrom = sqlPluck(db, "SELECT dst_id FROM edges WHERE src_type = 'trace' AND src_id = ? AND kind = 'reused_from' LIMIT 1");
  const returned = sqlPluck(
    db,
    `SELECT e2.dst_id FROM edges e1 JOIN edges e2 ON e2.src_type = 'trace' AND e2.src_id = CAST(e1.dst_id AS INTEGER) AND e2.kind = 'returned' AND e2.dst_type = 'record'
       WHERE e1.src_type = 'trace' AND e1.src_id = ? AND e1.kind = 'used_retrieval'`,
  );
  const payloadOf = sql(db, "SELECT payload FROM traces WHERE id = ? AND context = ?");
  const usedBy = (id: number, payload: Record<string, unknown>): number[] => {
    if (typeof payload.answer === "string" && payload.answer === noAnswer) return [];
    if (Array.isArray(payload.used)) {
      // Record ids only: a chunk id or anything else the response stage cited is not a record to reinforce.
      return payload.used.flatMap((u) => (typeof u === "string" ? (tryParseId("record", u) ?? []) : []));
    }
    return (returned.all(id) as (string | number)[]).map(Number);
  };
  const uses = new Map<number, number>();
  let answers = 0;
  for (const t of traces) {
    let id = t.id;
    let payload = JSON.parse(t.payload) as Record<string, unknown>;
    const original = reusedFrom.get(id) as string | number | undefined;
    if (original !== undefined) {
      const row = payloadOf.get(Number(original), context) as { payload: string } | undefined;
      if (!row) continue;
      id = Number(original);
      payload = { ...(JSON.parse(row.payload) as Record<string, unknown>), answer: payload.answer ?? payload.response };
    }
    const used = usedBy(id, payload);
    if (used.length > 0) answers++;
    for (const r of new Set(used)) uses.set(r, (uses.get(r) ?? 0) + 1);
  }
  return { uses, answers, through: traces.length > 0 ? traces[traces.length - 1]!.id : afterTrace };
}

/**
 * Importance × `factor ** uses` (capped at 1) and `last_accessed_at` for each live record used in answers, with a
 * history entry saying so. Returns the records changed.
 */
export function reinforceUsed(db: Db, context: string, uses: ReadonlyMap<number, number>, factor: number, now: number, trace: number): number {
  const update = sql(
    db,
    `UPDATE records SET importance = MIN(1.0, importance * ?), last_accessed_at = ?,
       history = json_insert(history, '$[#]', json(?))
     WHERE id = ? AND context = ? AND status IN ('current', 'flagged')`,
  );
  let changed = 0;
  for (const [id, n] of uses) {
    changed += update.run(factor ** n, now, JSON.stringify({ at: now, event: "reinforced", detail: `used in ${n} answer${n === 1 ? "" : "s"}`, trace }), id, context).changes;
  }
  return changed;
}
