import type { CallContext, Principal } from "../config/schemas.js";
import { AccessDeniedError } from "../errors.js";
import { scopeContains, type Scope } from "../store/scope.js";
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
   * Counts a denied attempt that is answered some other way than AccessDeniedError (a lookup by id of
   * something the caller may not see answers NotFoundError, so that ids cannot be used to probe scopes).
   */
  count(principal: Principal, permission: Permission): void {
    const key = `${principal.id}\u0000${permission}`;
    this.#denied.set(key, (this.#denied.get(key) ?? 0) + 1);
  }

  deniedCounts(): { principal: string; permission: Permission; count: number }[] {
    return [...this.#denied].map(([key, count]) => {
      const [principal, permission] = key.split("\u0000") as [string, Permission];
      return { principal, permission, count };
    });
  }
}

export function actorOf(call: CallContext | undefined): TraceActor {
  return { principal: call?.principal?.id ?? null, onBehalfOf: call?.onBehalfOf ?? null, session: call?.session ?? null };
}
