import { SpectronError } from "../errors.js";

/** A flat map of scope dimensions: { org, user, project, plan, … }. */
export type Scope = Readonly<Record<string, string>>;

/*
 * The one encoding of scopes as stored keys. A scope key is the scope as JSON with its dimensions sorted: equal
 * scopes have equal keys, different scopes different keys, and any value (`|`, quotes, backslashes, braces,
 * JSON-looking text, any script) round-trips, because JSON escapes what it must. A cache key may append
 * `|` and a reader digest (`withReaderDigest`); a JSON object ends at its last `}` and a digest holds none,
 * so decoding never looks inside the values for a delimiter. Dimension names are letters, digits and _ and
 * never start with a digit (config/schemas.ts), so JSON keeps them in the sorted order.
 */

/** Canonical, order-independent key of a scope: sorted JSON. Equal scopes have equal keys. */
export function scopeKey(scope: Scope): string {
  const keys = Object.keys(scope).sort();
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, scope[k]])));
}

const DIGEST = /^[A-Za-z0-9_-]+$/;

/** A cache key: the scope key of `scope`, then `|` and a digest (base64url) of what the reader may read. */
export function withReaderDigest(key: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new SpectronError("internal", "A reader digest must be base64url.");
  return `${key}|${digest}`;
}

/** The scope of a scope key, or of a cache key (`withReaderDigest`). */
export function parseScopeKey(key: string): Scope {
  const end = key.lastIndexOf("}");
  let scope: unknown;
  try {
    scope = JSON.parse(key.slice(0, end + 1));
  } catch (error) {
    throw new SpectronError("internal", "A stored scope key does not decode; the database holds a key this version did not write.", { cause: error });
  }
  if (typeof scope !== "object" || scope === null || Array.isArray(scope) || Object.values(scope).some((v) => typeof v !== "string")) {
    throw new SpectronError("internal", "A stored scope key does not decode to a scope; the database holds a key this version did not write.");
  }
  return scope as Scope;
}

/**
 * Keys of every sub-scope of `scope` (2^n of them, n ≤ 8 by validation). A record is visible to a request
 * exactly when its scope key is one of these: the request scope contains every dimension of the record's.
 */
export function visibleScopeKeys(scope: Scope): string[] {
  const entries = Object.entries(scope).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const keys: string[] = [];
  for (let mask = 0; mask < 1 << entries.length; mask++) {
    keys.push(scopeKey(Object.fromEntries(entries.filter((_, i) => mask & (1 << i)))));
  }
  return keys;
}

/** True when `outer` contains every dimension of `inner` with the same value. */
export function scopeContains(outer: Scope, inner: Scope): boolean {
  for (const [k, v] of Object.entries(inner)) if (outer[k] !== v) return false;
  return true;
}
