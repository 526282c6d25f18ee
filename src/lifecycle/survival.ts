import { IMPORTANCE_FLOOR } from "../config/defaults.js";
import type { RetentionRule } from "../config/schemas.js";
import type { Db } from "../store/database.js";
import { extendExpiries, type RecordRow } from "../store/records.js";
import { parseScopeKey } from "../store/scope.js";
import { extendedExpiry } from "./retention.js";

/**
 * Importance governs survival (spec: caching-and-invalidation, "Importance scoring governs which facts survive"):
 * - reinforcement extends life: a reinforced record with a TTL gets a full TTL from the moment it was used
 *   (`extendLives`), so a fact used in answers outlives one never used;
 * - decay shortens it: a record whose importance has decayed below IMPORTANCE_FLOOR expires at the next expiry
 *   sweep whatever its TTL (`belowFloor`), identity never;
 * - ranking weighs importance (pipeline/recall/hybrid.ts `weigh`).
 */
export function extendLives(db: Db, rules: readonly RetentionRule[], rows: readonly RecordRow[], now: number): void {
  const changes: { id: number; expires_at: number }[] = [];
  for (const row of rows) {
    const next = extendedExpiry(rules, { scope: parseScopeKey(row.scope_key), memory_category: row.memory_category, expires_at: row.expires_at }, now);
    if (next !== undefined) {
      changes.push({ id: row.id, expires_at: next });
      row.expires_at = next;
    }
  }
  extendExpiries(db, changes);
}

/** SQL condition (over `records`) for a live record that decay has brought below the floor: `?` is the floor. */
export const BELOW_FLOOR = `(memory_category != 'identity' AND importance < ?)`;

export { IMPORTANCE_FLOOR };
