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
