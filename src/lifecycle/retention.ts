import { DEFAULT_CONTEXT_TTL_MS } from "../config/defaults.js";
import { ttlToMs, type RetentionRule } from "../config/schemas.js";
import type { MemoryCategory } from "../store/records.js";
import { scopeContains, type Scope } from "../store/scope.js";

/**
 * When a record written now expires: the first retention rule whose scope the record's scope contains and
 * whose category matches wins; with no match, context facts get the 7-day default and the rest never expire.
 * Fixed at write time: a later policy change does not move an existing record's expiry.
 */
export function expiresAt(rules: readonly RetentionRule[], scope: Scope, category: MemoryCategory, createdAt: number): number | null {
  for (const rule of rules) {
    if (rule.memory_category === category && scopeContains(scope, rule.scope)) return createdAt + ttlToMs(rule.ttl);
  }
  return category === "context" ? createdAt + DEFAULT_CONTEXT_TTL_MS : null;
}

/**
 * Survival: a context fact that is reinforced (used in an answer, returned by a search) lives on. Its expiry
 * moves to a full lifetime from `now` (the TTL retention gives its scope), never earlier than it was. Knowledge
 * and identity facts have no TTL to extend (a retention rule may give them one: that extends too).
 * Returns the new expiry, or undefined when it does not move.
 */
export function extendedExpiry(
  rules: readonly RetentionRule[],
  row: { scope: Scope; memory_category: MemoryCategory; expires_at: number | null },
  now: number,
): number | undefined {
  if (row.expires_at === null) return undefined;
  const renewed = expiresAt(rules, row.scope, row.memory_category, now);
  return renewed !== null && renewed > row.expires_at ? renewed : undefined;
}
