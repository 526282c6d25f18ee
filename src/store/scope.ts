/** A flat map of scope dimensions: { org, user, project, plan, … }. */
export type Scope = Readonly<Record<string, string>>;

/** Canonical, order-independent key of a scope: sorted JSON. Equal scopes have equal keys. */
export function scopeKey(scope: Scope): string {
  const keys = Object.keys(scope).sort();
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, scope[k]])));
}

/** Parses a scope key; a cache key may carry a `|digest` suffix of the reader's grants (access.ts). */
export function parseScopeKey(key: string): Scope {
  const bar = key.indexOf("|");
  return JSON.parse(bar === -1 ? key : key.slice(0, bar)) as Scope;
}

/**
 * Keys of every sub-scope of `scope` (2^n of them, n ≤ 8 by validation). A record is visible to a request
 * exactly when its scope key is one of these: the request scope contains every dimension of the record's.
 */
export function visibleScopeKeys(scope: Scope): string[] {
  const entries = Object.entries(scope).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const keys: string[] = [];
  for (let mask = 0; mask < 1 << entries.length; mask++) {
    keys.push(JSON.stringify(Object.fromEntries(entries.filter((_, i) => mask & (1 << i)))));
  }
  return keys;
}

/** True when `outer` contains every dimension of `inner` with the same value. */
export function scopeContains(outer: Scope, inner: Scope): boolean {
  for (const [k, v] of Object.entries(inner)) if (outer[k] !== v) return false;
  return true;
}
