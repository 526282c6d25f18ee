import { calibratedTrust } from "../pipeline/calibration.js";
import { sql, type Db } from "./database.js";
import { live } from "./records.js";

// The `sources` table: how many records each source asserted and how often another source corrected it
// (pipeline/calibration.ts has the rule that turns those counts into trust).

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
  sql(db, `UPDATE records SET trust = ? WHERE context = ? AND source_key = ? AND ${live()}`).run(trust, context, key);
  return { source: key, corrected: row.corrected, trust };
}

