import { sql, type Db } from "../store/database.js";

// Trust calibration from supersession lineage (spec: "repeated decision_trace.superseded lineage as a negative
// trust signal on the original source"). A source is who asserted a record: one principal's (or speaker's)
// turns, one document, or a model-derived kind. When a record is superseded by a record from another source,
// its source was corrected; a source corrected again and again is trusted less. A source changing its own
// facts (a user who moves city) is not a correction and costs nothing.

/** Corrections are weighed against this many assertions more than the source made, so one slip barely counts. */
const PRIOR = 4;
/** Trust never falls below this: calibration demotes a source, it does not silence it. */
const FLOOR = 0.2;

/** A source's trust: 1 − corrected / (asserted + PRIOR), at least FLOOR. */
export function calibratedTrust(asserted: number, corrected: number): number {
  return Math.max(FLOOR, 1 - corrected / (asserted + PRIOR));
}

/** The trust new records from `key` start with (1 for a source never corrected, or no source). */
export function sourceTrust(db: Db, context: string, key: string | null): number {
  if (key === null) return 1;
  const row = sql(db, "SELECT trust FROM sources WHERE context = ? AND key = ?").get(context, key) as { trust: number } | undefined;
  return row?.trust ?? 1;
}

/** Counts `n` records newly asserted by `key`. Inside the caller's transaction. */
export function noteAsserted(db: Db, context: string, key: string | null, n: number, now: number): void {
  if (key === null || n === 0) return;
  sql(db, "INSERT INTO sources (context, key, asserted, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (context, key) DO UPDATE SET asserted = asserted + excluded.asserted, updated_at = excluded.updated_at")
    .run(context, key, n, now);
}

export interface Correction {
  source: string;
  corrected: number;
  trust: number;
}

/**
 * Counts one correction of `key` (a record of it superseded by `by`, another source's record), recomputes its
 * trust and sets it on the source's live records, so that ranking and the cache's `min_trust` see it at once.
 * Returns what changed, for the decision trace; undefined when it is not a correction.
 */
export function noteCorrected(db: Db, context: string, key: string | null, by: string | null, now: number): Correction | undefined {
  if (key === null || key === by) return undefined;
  const row = sql(
    db,
    `INSERT INTO sources (context, key, corrected, updated_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (context, key) DO UPDATE SET corrected = corrected + 1, updated_at = excluded.updated_at
     RETURNING asserted, corrected`,
  ).get(context, key, now) as { asserted: number; corrected: number };
  const trust = calibratedTrust(row.asserted, row.corrected);
  sql(db, "UPDATE sources SET trust = ? WHERE context = ? AND key = ?").run(trust, context, key);
  sql(db, "UPDATE records SET trust = ? WHERE context = ? AND source_key = ? AND status IN ('current', 'flagged')").run(trust, context, key);
  return { source: key, corrected: row.corrected, trust };
}

/** The source key of a turn: its principal (or "-") and who spoke — the speaker's name, else the role. */
export function turnSourceKey(turn: { principal: string | null; speaker: string | null; role: string }): string {
  return `turn:${turn.principal ?? "-"}:${turn.speaker ?? turn.role}`;
}
