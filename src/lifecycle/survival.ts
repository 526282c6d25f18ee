import { IMPORTANCE_FLOOR } from "../config/defaults.js";
import type { RetentionRule } from "../config/schemas.js";
import type { RecordRow } from "../store/records.js";
import { parseScopeKey } from "../store/scope.js";
import { extendedExpiry } from "./retention.js";

/**
 * Importance governs survival (spec: caching-and-invalidation, "Importance scoring governs which facts survive"):
 * - reinforcement extends life: a reinforced record with a TTL gets a full TTL from the moment it was used
 *   (`lifeExtensions`, written by the engine), so a fact used in answers outlives one never used;
 * - decay shortens it: a record whose importance has decayed below IMPORTANCE_FLOOR expires at the next expiry
 *   sweep whatever its TTL (the engine's expiry sweep: IMPORTANCE_FLOOR), identity never;
 * - ranking weighs importance (pipeline/recall/hybrid.ts `weigh`).
 */
/** The new expiry of each of `rows` a use at `now` extends (and `rows` updated to match); the engine writes them. */
export function lifeExtensions(rules: readonly RetentionRule[], rows: readonly RecordRow[], now: number): { id: number; expires_at: number }[] {
  const changes: { id: number; expires_at: number }[] = [];
  for (const row of rows) {
    const next = extendedExpiry(rules, { scope: parseScopeKey(row.scope_key), memory_category: row.memory_category, expires_at: row.expires_at }, now);
    if (next !== undefined) {
      changes.push({ id: row.id, expires_at: next });
      row.expires_at = next;
    }
  }
  return changes;
}

export { IMPORTANCE_FLOOR };
