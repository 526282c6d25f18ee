import type { CallContext, Principal } from "../config/schemas.js";
import { AccessDeniedError, NotFoundError } from "../errors.js";
import { createHash } from "node:crypto";
import { parseScopeKey, scopeContains, scopeKey, visibleScopeKeys, withReaderDigest, type Scope } from "../store/scope.js";
import type { TraceActor } from "../store/traces.js";

export type Permission = "read" | "write" | "manage";

/**
 * The one access check. No principal means the embedding application: allowed everything. A grant covers a
 * request scope that contains the grant's scope (a grant on { org: "acme" } covers { org: "acme", user: "x" });
 * manage implies read and write.
 */
export function can(principal: Principal | undefined, permission: Permission, scope: Scope): boolean {
  if (!principal) return true;
  return principal.grants.some(
    (g) => scopeContains(scope, g.scope) && (g.permissions.includes(permission) || g.permissions.includes("manage")),
  );
}

const readsWith = (g: Principal["grants"][number]) => g.permissions.includes("read") || g.permissions.includes("manage");

/**
 * Whether a principal may read records of `recordScope`: it must be comparable with one of its read grants,
 * inside it (a grant on { org } reads { org, user } records) or above it (a grant on { org, user } reads the
 * org's facts and global ones). A grant on { user: "alice" } never reads { org: "globex" }.
 */
export function canReadRecord(principal: Principal | undefined, recordScope: Scope): boolean {
  if (!principal) return true;
  return principal.grants.some((g) => readsWith(g) && (scopeContains(recordScope, g.scope) || scopeContains(g.scope, recordScope)));
}

/**
 * The record scope keys a request at `scope` reads: every sub-scope of it (record visibility) that the
 * principal may read. Grants limit what a request sees, not only which requests are allowed: adding a dimension
 * to a request never reaches records unrelated to the grants.
 */
export function readableScopeKeys(principal: Principal | undefined, scope: Scope): string[] {
  const keys = visibleScopeKeys(scope);
  if (!principal) return keys;
  const grants = principal.grants.filter((g) => readsWith(g) && scopeContains(scope, g.scope));
  return keys.filter((key) => {
    const r = parseScopeKey(key);
    return grants.some((g) => scopeContains(r, g.scope) || scopeContains(g.scope, r));
  });
}

/**
 * The key cached answers are stored under: the exact request scope, plus, when this principal cannot read
 * every populated scope the request sees, a digest of the populated scopes it reads. Two callers share cached
 * answers exactly when they read the same records; an answer built from records one may read never reaches
 * another who may not. `populated` are the visible scope keys that hold records or chunks.
 */
export function cacheScopeKey(principal: Principal | undefined, scope: Scope, populated: readonly string[]): string {
  const key = scopeKey(scope);
  if (!principal) return key;
  const readable = new Set(readableScopeKeys(principal, scope));
  const read = populated.filter((k) => readable.has(k));
  if (read.length === populated.length) return key;
  return withReaderDigest(key, createHash("sha256").update(read.join("\n")).digest("base64url").slice(0, 16));
}

export class Access {
  /** Denied attempts per principal and permission, so that an operator can see probing. */
  readonly #denied = new Map<string, number>();

  /** Throws AccessDeniedError (and counts the attempt) unless the call's principal holds `permission` on `scope`. */
  assert(call: CallContext | undefined, permission: Permission, scope: Scope): void {
    const principal = call?.principal;
    if (can(principal, permission, scope)) return;
    this.count(principal!, permission);
    throw new AccessDeniedError(principal!.id, permission, { ...scope });
  }

  /**
   * The one answer to a lookup by id: `row` when the caller may see it (`sees`), else NotFoundError exactly as
   * for a missing id (same message, no scope named), so that walking ids reveals nothing about other scopes. An
   * attempt on something that exists is counted as denied (`permission`).
   */
  find<T>(call: CallContext | undefined, permission: Permission, kind: string, id: string, row: T | undefined, sees: (row: T) => boolean): T {
    if (row === undefined) throw new NotFoundError(kind, id);
    if (sees(row)) return row;
    if (call?.principal) this.count(call.principal, permission);
    throw new NotFoundError(kind, id);
  }

  /**
   * Counts a denied attempt that is answered some other way than AccessDeniedError (a lookup by id of
   * something the caller may not see answers NotFoundError, so that ids cannot be used to probe scopes).
   */
  count(principal: Principal, permission: Permission): void {
    // A principal id may hold any character: the key is JSON, not a delimited string.
    const key = JSON.stringify([principal.id, permission]);
    this.#denied.set(key, (this.#denied.get(key) ?? 0) + 1);
  }

  deniedCounts(): { principal: string; permission: Permission; count: number }[] {
    return [...this.#denied].map(([key, count]) => {
      const [principal, permission] = JSON.parse(key) as [string, Permission];
      return { principal, permission, count };
    });
  }
}

export function actorOf(call: CallContext | undefined): TraceActor {
  return { principal: call?.principal?.id ?? null, onBehalfOf: call?.onBehalfOf ?? null, session: call?.session ?? null };
}
